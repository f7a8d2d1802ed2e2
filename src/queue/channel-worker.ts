import { DelayedError, type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { ChannelService } from '../channels/channel-service.js';
import { ConflictError, NotFoundError, UpstreamError } from '../errors/domain-errors.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { type ChannelJob, QUEUE } from './queues.js';
import type { RedisConnection } from './redis.js';

/**
 * Times one job is put off for a channel's rate limit before the error takes its ordinary course
 * (a pull waits for its next pull time; a push uses its attempts): a channel that keeps saying
 * "later" does not hold a job for ever.
 */
export const MAX_RATE_LIMIT_DELAYS = 10;

/** The wait (ms) a channel asked for with this error, or null when it asked for none. */
export function askedWaitMs(err: unknown): number | null {
  if (err instanceof RateLimitedError) return Math.max(0, err.waitMs);
  if (err instanceof UpstreamError && err.code === 'channel_rate_limited') {
    const wait = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    return typeof wait === 'number' && Number.isFinite(wait) ? Math.max(0, wait) : null;
  }
  return null;
}

/**
 * When the channel asked us to wait, moves the job to the delayed set to run again that much
 * later, and throws BullMQ's DelayedError (which spends no attempt). Returns when there is
 * nothing to wait for, or the job was put off too often already.
 */
async function delayAsAsked(job: Job<ChannelJob>, token: string | undefined, err: unknown, log: Logger) {
  const waitMs = askedWaitMs(err);
  const delays = job.data.rateLimitDelays ?? 0;
  if (waitMs === null || token === undefined || delays >= MAX_RATE_LIMIT_DELAYS) return;
  await job.updateData({ ...job.data, rateLimitDelays: delays + 1 });
  await job.moveToDelayed(Date.now() + waitMs, token);
  log.info({ channelId: job.data.channelId, job: job.name, waitMs }, 'channel asked us to wait; job put off');
  throw new DelayedError();
}

/**
 * Runs channel jobs: stock pushes (debounced per channel) and scheduled pulls. A pull that finds another pull of the channel running ends
 * quietly (the running one covers it); a failed pull is recorded on the channel by the service and
 * tried again at the channel's next pull time, not retried in a loop. A pull or push the channel
 * refused for its rate limit runs again as late as the channel asked (Retry-After, Shopify's
 * throttle status), not on our own schedule.
 */
export function startChannelWorker(
  connection: RedisConnection,
  prefix: string,
  channels: ChannelService,
  log: Logger,
  concurrency = 2,
): Worker<ChannelJob> {
  const worker = new Worker<ChannelJob>(
    QUEUE.channels,
    async (job: Job<ChannelJob>, token?: string) => {
      const { channelId } = job.data;
      const jobLog = log.child({ jobId: job.id, channelId });
      if (job.name === 'fulfil') {
        const shipmentId = Number(job.data.shipmentId);
        try {
          const outcome = await channels.sendShipment(shipmentId);
          if (outcome.status === 'sent' || outcome.status === 'refused')
            jobLog.info(outcome, 'shipment told to the channel');
          return outcome;
        } catch (err) {
          // THROTTLED beyond what the connector sat through, 429 with Retry-After: as late as asked.
          await delayAsAsked(job, token, err, log);
          jobLog.warn({ shipmentId, err: (err as Error).message }, 'shipment not told to the channel yet');
          throw err;
        }
      }
      if (job.name === 'cancel') {
        try {
          const outcome = await channels.sendCancellation(Number(job.data.orderId));
          jobLog.info(outcome, 'cancellation told to the channel');
          return outcome;
        } catch (err) {
          await delayAsAsked(job, token, err, log);
          throw err;
        }
      }
      if (job.name === 'push') {
        try {
          const summary = await channels.push(channelId);
          // The channel id is on jobLog already (a second one would repeat the key in the line).
          const { channelId: _same, ...result } = summary;
          if (summary.calls > 0 || summary.skipped) jobLog.info(result, 'channel stock pushed');
          return { sent: summary.sent, calls: summary.calls, skipped: summary.skipped ?? null };
        } catch (err) {
          if (err instanceof ConflictError && err.code === 'push_in_progress') {
            // The running push may have read before this change: go again in the next window.
            await channels.requestPush(channelId);
            return { skipped: err.code };
          }
          if (err instanceof NotFoundError) return { skipped: err.code };
          await delayAsAsked(job, token, err, log);
          throw err;
        }
      }
      try {
        const { toProcess, channelId: _same, ...summary } = await channels.pull(channelId);
        jobLog.info({ ...summary, queued: toProcess.length }, 'channel pulled');
        return { orders: summary.orders, pages: summary.pages };
      } catch (err) {
        await delayAsAsked(job, token, err, log);
        if (err instanceof NotFoundError || err instanceof ConflictError || err instanceof UpstreamError) {
          jobLog.warn({ code: err.code, err: err.message }, 'scheduled pull did not run through');
          return { skipped: err.code };
        }
        throw err;
      }
    },
    { connection, prefix, concurrency },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'channel worker error'));
  return worker;
}

/**
 * The scheduler's side of channels: every `intervalMs`, queues a pull for each channel whose next
 * pull time has come, and a push for each channel whose pending stock has waited longer than two
 * debounce windows (its job was lost, or a nightly resync marked it). Several schedulers may run;
 * job ids keep one pull job per channel and one push job per channel and window.
 */
export function startPullScheduler(
  channels: ChannelService,
  queue: {
    enqueuePull(channelId: number): Promise<void>;
    enqueuePush(channelId: number, debounceMs: number): Promise<void>;
    enqueueFulfilment?(channelId: number, shipmentId: number): Promise<void>;
  },
  log: Logger,
  intervalMs: number,
  pushDebounceMs = 1000,
): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      for (const id of await channels.duePulls()) await queue.enqueuePull(id);
      for (const id of await channels.duePushes(Math.max(2 * pushDebounceMs, 2000)))
        await queue.enqueuePush(id, pushDebounceMs);
      // Shipments whose fulfilment job was lost (Redis flushed, a worker killed mid-way).
      if (queue.enqueueFulfilment)
        for (const f of await channels.dueFulfilments(Math.max(10 * pushDebounceMs, 60_000)))
          await queue.enqueueFulfilment(f.channelId, f.shipmentId);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not queue due channel pulls');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  void tick();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
