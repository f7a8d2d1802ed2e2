import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import { PermanentError } from '../errors/permanent-error.js';
import { OrderBatcher } from '../orders/order-batcher.js';
import { holdOrder } from '../orders/status.js';
import { ORDER_JOB_ATTEMPTS, type ProcessOrderJob, QUEUE } from './queues.js';
import type { RedisConnection } from './redis.js';

export interface OrderWorkerOptions {
  db: Db;
  connection: RedisConnection;
  prefix: string;
  log: Logger;
  concurrency: number;
  lockDurationMs: number;
}

/**
 * Processes order jobs. Jobs active at the same moment are processed together in one transaction
 * (see OrderBatcher), each keeping its own outcome. Retryable failures are thrown back to BullMQ (exponential backoff with
 * jitter); a permanent one, or the last attempt of anything, puts the order on hold with the
 * reason, so that no order is retried forever and none is dropped.
 */
export function startOrderWorker(options: OrderWorkerOptions): Worker<ProcessOrderJob> {
  const { db, log } = options;
  const batcher = new OrderBatcher(db);
  const worker = new Worker<ProcessOrderJob>(
    QUEUE.orders,
    async (job: Job<ProcessOrderJob>) => {
      const { orderId } = job.data;
      // Every line about this job names the job and the order, to follow one order through the logs.
      const jobLog = log.child({ jobId: job.id, orderId });
      try {
        const result = await batcher.submit(orderId);
        if (result.changed) jobLog.info({ status: result.status }, 'order processed');
        else jobLog.debug({ status: result.status }, 'order already processed');
        return result;
      } catch (err) {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? ORDER_JOB_ATTEMPTS);
        if (err instanceof PermanentError || lastAttempt) {
          const reason = err instanceof PermanentError ? err.reason : 'processing_failed';
          jobLog.error({ err: (err as Error).message, reason }, 'order put on hold');
          await holdOrder(db, orderId, reason, { message: (err as Error).message });
          return { orderId, status: 'on_hold', changed: true };
        }
        jobLog.warn(
          { attempt: job.attemptsMade + 1, err: (err as Error).message },
          'order processing failed; will retry',
        );
        throw err;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
      maxStalledCount: 5,
    },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'order worker error'));
  return worker;
}
