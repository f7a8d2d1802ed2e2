import { type Job, type Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import cron from 'node-cron';
import type { Logger } from 'pino';
import { type JobContext, SCHEDULED_JOBS, type ScheduledJob } from '../jobs/index.js';
import { QUEUE } from './queue/queues.js';

/** A period key that every scheduler computes alike for the same tick (UTC minute). */
export const periodKey = (date: Date) => date.toISOString().slice(0, 16).replace(/[-:T]/g, '');

/**
 * The scheduler role: on each cron tick, adds the job under `name-period`, so that several
 * schedulers running side by side enqueue each period once.
 */
export function startScheduler(
  queue: Queue,
  log: Logger,
  jobs: readonly ScheduledJob[] = SCHEDULED_JOBS,
): { stop(): void } {
  const tasks = jobs.map((job) =>
    cron.schedule(
      job.cron,
      async () => {
        const jobId = `${job.name}-${periodKey(new Date())}`;
        try {
          await queue.add(
            job.name,
            {},
            {
              jobId,
              removeOnComplete: 100,
              removeOnFail: 100,
              attempts: 3,
              backoff: { type: 'exponential', delay: 5000 },
            },
          );
        } catch (err) {
          log.warn({ job: job.name, err: (err as Error).message }, 'could not enqueue scheduled job');
        }
      },
      { timezone: 'Etc/UTC', name: job.name },
    ),
  );
  return {
    stop() {
      for (const t of tasks) t.stop();
    },
  };
}

/** Runs scheduled jobs that the scheduler enqueued. */
export function startMaintenanceWorker(
  connection: Redis,
  prefix: string,
  ctx: JobContext,
  jobs: readonly ScheduledJob[] = SCHEDULED_JOBS,
): Worker {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const worker = new Worker(
    QUEUE.maintenance,
    async (job: Job) => {
      const def = byName.get(job.name);
      if (!def) throw new Error(`unknown scheduled job ${job.name}`);
      const result = await def.run({ ...ctx, log: ctx.log.child({ job: job.name, jobId: job.id }) });
      ctx.log.info({ job: job.name, result }, 'scheduled job done');
      return result;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', (err) => ctx.log.warn({ err: err.message }, 'maintenance worker error'));
  return worker;
}
