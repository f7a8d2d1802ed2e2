import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { ApplyResult } from '../channels/apply-order.js';
import type { ChannelService } from '../channels/channel-service.js';
import type { IntakePriority } from './intake-priority.js';
import { MicroBatcher } from './micro-batcher.js';
import { type ApplyEventJob, QUEUE } from './queues.js';
import type { RedisConnection } from './redis.js';

export interface EventWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  channels: ChannelService;
  log: Logger;
  concurrency: number;
  /** How long a worker holds a job before BullMQ considers it stalled (ms); as for order jobs. */
  lockDurationMs?: number;
  /** In a process that also receives webhooks: applying waits for a quiet moment in intake. */
  priority?: IntakePriority;
}

/**
 * Applies stored webhook events: each job holds the events stored together (one webhook group
 * commit), applied through the order lifecycle's commands (new orders in one transaction, the rest
 * one by one); the orders left `received` are queued for processing. A failure is thrown back to BullMQ (retried with backoff); after the last
 * attempt the event waits for the event relay, which tries it again at its `retry_at`, for as long
 * as it takes. An event whose payload cannot be read is parked (`failed`) for a person.
 */
export function startEventWorker(options: EventWorkerOptions): Worker<ApplyEventJob> {
  const { channels, log } = options;
  const { priority } = options;
  const batcher = new MicroBatcher<number, ApplyResult>(
    200,
    (ids) => channels.applyEvents(ids),
    priority && ((since) => priority.turn(since)),
  );
  const worker = new Worker<ApplyEventJob>(
    QUEUE.events,
    async (job: Job<ApplyEventJob>) => {
      // The events stored together are applied together, with those of the other jobs active at
      // the same moment (see applyEvents).
      const jobLog = log.child({ jobId: job.id });
      const results = await Promise.all(
        job.data.eventIds.map((id) => batcher.submit(id).catch((err: Error) => err)),
      );
      const outcomes: Record<string, number> = {};
      const errors: string[] = [];
      for (const [i, r] of results.entries()) {
        if (r instanceof Error) {
          jobLog.warn({ eventId: job.data.eventIds[i], err: r.message }, 'webhook event not applied');
          errors.push(r.message);
          continue;
        }
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
        // One line per event, naming the order it made or changed (none for an unreadable one).
        const eventLog = jobLog.child({ eventId: r.eventId, orderId: r.orderId });
        if (r.outcome === 'failed') eventLog.warn({ note: r.note }, 'webhook event cannot be read; parked');
        else eventLog.info({ outcome: r.outcome, note: r.note }, 'webhook event applied');
      }
      // Applied ones answer `duplicate` on a retry: trying the job again costs them nothing.
      if (errors.length > 0)
        throw new Error(`${errors.length} of ${results.length} events not applied: ${errors[0]}`);
      return outcomes;
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A killed worker's events are picked up again after the lock runs out, as orders are.
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(1000, Math.floor((options.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 5,
    },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'event worker error'));
  worker.on('failed', (job, err) =>
    log.warn(
      { jobId: job?.id, eventIds: job?.data.eventIds, attempt: job?.attemptsMade, err: err.message },
      'webhook events not applied; will retry',
    ),
  );
  return worker;
}
