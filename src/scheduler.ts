import { type Job, type Queue, Worker } from 'bullmq';
import cron from 'node-cron';
import type { Logger } from 'pino';
import { type JobContext, SCHEDULED_JOBS, type ScheduledJob } from '../jobs/index.js';
import { QUEUE } from './queue/queues.js';
import type { RedisConnection } from './queue/redis.js';

/**
 * A period key that every scheduler computes alike for the same tick: the UTC minute
 * (`202611241017`), or for periods shorter than a minute the minute and the period's first second
 * (`20261124101704`).
 */
export function periodKey(date: Date, periodSeconds = 60): string {
  const minute = date.toISOString().slice(0, 16).replace(/[-:T]/g, '');
  if (periodSeconds >= 60) return minute;
  const second = date.getUTCSeconds() - (date.getUTCSeconds() % periodSeconds);
  return `${minute}${String(second).padStart(2, '0')}`;
}

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
      async (context) => {
        // The tick's scheduled time, not the moment this process got to it: every scheduler
        // names the period alike even when one of them runs late.
        const jobId = `${job.name}-${periodKey(context?.date ?? new Date(), job.periodSeconds)}`;
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
  connection: RedisConnection,
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
      const result = await def.run({
        ...ctx,
        jobId: job.id,
        log: ctx.log.child({ job: job.name, jobId: job.id }),
      });
      ctx.log.info({ job: job.name, result }, 'scheduled job done');
      return result;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', (err) => ctx.log.warn({ err: err.message }, 'maintenance worker error'));
  return worker;
}
