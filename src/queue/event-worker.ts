import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { ApplyResult } from '../channels/apply-order.js';
import type { ChannelService } from '../channels/channel-service.js';
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
}

/**
 * Applies stored webhook events: each job is one event, applied in its own transaction through the
 * order lifecycle's commands (create, amend, cancel); the orders it leaves `received` are queued
 * for processing. A failure is thrown back to BullMQ (retried with backoff); after the last
 * attempt the event waits for the event relay, which tries it again at its `retry_at`, for as long
 * as it takes. An event whose payload cannot be read is parked (`failed`) for a person.
 */
export function startEventWorker(options: EventWorkerOptions): Worker<ApplyEventJob> {
  const { channels, log } = options;
  // The jobs active at the same moment are applied as one group (see applyEvents).
  const batcher = new MicroBatcher<number, ApplyResult>(100, (ids) => channels.applyEvents(ids));
  const worker = new Worker<ApplyEventJob>(
    QUEUE.events,
    async (job: Job<ApplyEventJob>) => {
      const result = await batcher.submit(job.data.eventId);
      if (result.outcome === 'failed')
        log.warn({ eventId: result.eventId, note: result.note }, 'webhook event cannot be read; parked');
      return { outcome: result.outcome, orderId: result.orderId };
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
      { eventId: job?.data.eventId, attempt: job?.attemptsMade, err: err.message },
      'webhook event not applied',
    ),
  );
  return worker;
}
