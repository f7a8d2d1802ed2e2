import { type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import cron from 'node-cron';
import type { Logger } from 'pino';
import { SCHEDULED_JOBS, type ScheduledJob } from '../jobs/index.js';
import type { ChannelContext } from './channels/channel-context.js';
import { type Db, dbTime } from './db/connection.js';
import { coveringTicksFrom, periodOf, shiftPeriod, slotKey } from './domain/job-periods.js';
import { PermanentError } from './errors/permanent-error.js';
import { QUEUE } from './queue/queues.js';
import type { RedisConnection } from './queue/redis.js';
import { firstTick } from './scheduling/cron-ticks.js';
import {
  claimRun,
  ensureRun,
  type JobRun,
  queueJobIdOf,
  type RunTrigger,
  toRun,
} from './scheduling/job-runs.js';
import { runAttempt } from './scheduling/run-job.js';

/**
 * A UTC slot key that every scheduler computes alike for the same tick: the minute
 * (`202611241017`), or for periods shorter than a minute the minute and the period's first second
 * (`20261124101704`).
 */
export function periodKey(date: Date, periodSeconds = 60): string {
  return slotKey(date, periodSeconds);
}

/** What a queue job of the maintenance queue carries: which run of which period. Ids only. */
export interface RunJobData {
  period: string;
  run: number;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_BACKOFF_MS = 30_000;

/** Puts a queued run on the maintenance queue under its job id (a second add of it is ignored). */
export async function enqueueRun(queue: Queue, job: ScheduledJob, run: JobRun): Promise<void> {
  const data: RunJobData = { period: run.period, run: run.run };
  await queue.add(job.name, data, {
    jobId: queueJobIdOf(run),
    removeOnComplete: 100,
    removeOnFail: 100,
    attempts: job.retry?.attempts ?? DEFAULT_ATTEMPTS,
    backoff: { type: 'exponential', delay: job.retry?.backoffMs ?? DEFAULT_BACKOFF_MS },
  });
}

/**
 * Asks for the run of a period the way a scheduler does: the row is made if there is none, and a
 * queued run is put on the queue (every scheduler may do so: the job id makes it one job). A
 * period that ran, runs or failed for good is left alone.
 */
export async function scheduleRun(
  db: Db,
  queue: Queue,
  job: ScheduledJob,
  period: string,
  triggeredBy: RunTrigger,
): Promise<JobRun> {
  const { run } = await ensureRun(db, job.name, period, triggeredBy);
  if (run.status === 'queued') await enqueueRun(queue, job, run);
  return run;
}

/**
 * The periods a scheduler starting at `now` catches up for a job, oldest first: of the job's latest
 * `catchUp` periods whose first covering tick has passed, those without a run or whose run is
 * still queued, and only after the job's first run here (a job new to an installation starts at
 * its next tick; it does not fill in the nights before it existed). `day` and `month` jobs only;
 * a job of short slots is simply run at its next tick.
 */
export async function missedPeriods(
  db: Db,
  job: ScheduledJob,
  timeZone: string,
  now: Date,
): Promise<string[]> {
  const n = job.catchUp ?? 0;
  if (n <= 0 || typeof job.period === 'object') return [];
  const current = periodOf(job, now, timeZone);
  const due: string[] = [];
  // The period a tick now would cover, and the ones before it; the newest may not be due yet.
  for (let back = 0; back <= n && due.length < n; back++) {
    const period = shiftPeriod(job.period, current, -back);
    const from = coveringTicksFrom(job, period, timeZone);
    const tick = firstTick(job.schedule, timeZone, from, now);
    if (tick && periodOf(job, tick, timeZone) === period) due.push(period);
  }
  if (due.length === 0) return [];
  const [first] = (await db('job_runs').where('job', job.name).min({ period: 'period' })) as Array<{
    period: string | null;
  }>;
  // Day and month keys sort as text.
  const since = first?.period ?? null;
  if (since === null) return [];
  // A run still queued counts as missed too: another scheduler starting beside this one may have
  // made its row and not yet put it on the queue. Asking for it again here (the job id makes it
  // one job) keeps the queue oldest first whichever scheduler gets there first.
  const handled = new Set(
    (await db('job_runs')
      .where('job', job.name)
      .whereIn('period', due)
      .whereNot('status', 'queued')
      .pluck('period')) as string[],
  );
  return due.filter((p) => p > since && !handled.has(p)).reverse();
}

export interface SchedulerOptions {
  queue: Queue;
  db: Db;
  log: Logger;
  /** The jobs to tick. Default: every registered job. */
  jobs?: readonly ScheduledJob[];
  /** The business time zone the schedules are read in. Default UTC. */
  timeZone?: string;
  /** The clock missed periods are reckoned by at start (tests). Default: the real one. */
  now?: () => Date;
  /**
   * How often queued runs that are not on the queue (Redis was down when they were asked for) are
   * put on it again (ms). Default 60 s.
   */
  requeueMs?: number;
}

export interface Scheduler {
  /** Settles once missed periods have been queued (or failed to be; logged). */
  caughtUp: Promise<void>;
  stop(): void;
}

/**
 * The scheduler role: on each cron tick (in the business time zone), asks for the run of the
 * period the tick covers, so that several schedulers side by side start each period once (the
 * unique (job, period) row and the queue job's id both see to it). At start it first queues the
 * periods missed while no scheduler ran (`catchUp`), oldest first.
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const { queue, db, log } = options;
  const jobs = options.jobs ?? SCHEDULED_JOBS;
  const timeZone = options.timeZone ?? 'UTC';
  const now = options.now ?? (() => new Date());
  let stopped = false;

  const caughtUp = (async () => {
    for (const job of jobs) {
      try {
        const missed = await missedPeriods(db, job, timeZone, now());
        for (const period of missed) {
          if (stopped) return;
          await scheduleRun(db, queue, job, period, 'catch-up');
        }
        if (missed.length) log.info({ job: job.name, periods: missed }, 'missed periods queued');
      } catch (err) {
        log.warn({ job: job.name, err: (err as Error).message }, 'could not catch up missed periods');
      }
    }
  })();

  const tasks = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      async (context) => {
        // The tick's scheduled time, not the moment this process got to it: every scheduler
        // names the period alike even when one of them runs late.
        const period = periodOf(job, context?.date ?? new Date(), timeZone);
        try {
          await caughtUp;
          await scheduleRun(db, queue, job, period, 'schedule');
        } catch (err) {
          log.warn({ job: job.name, period, err: (err as Error).message }, 'could not enqueue scheduled job');
        }
      },
      { timezone: timeZone, name: job.name },
    ),
  );
  const requeueMs = options.requeueMs ?? 60_000;
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const requeue = setInterval(() => {
    requeueStranded(db, queue, byName, requeueMs).catch((err) =>
      log.warn({ err: (err as Error).message }, 'could not requeue queued runs'),
    );
  }, requeueMs);
  requeue.unref();
  return {
    caughtUp,
    stop() {
      stopped = true;
      clearInterval(requeue);
      for (const t of tasks) t.destroy();
    },
  };
}

/**
 * Queued runs last changed longer ago than `olderThanMs` are put on the queue again: the row is
 * stored before the queue is asked, so a run asked for while Redis was down is not lost. A run
 * still on the queue (waiting, or delayed for its next attempt) is the same job id: nothing changes.
 */
export async function requeueStranded(
  db: Db,
  queue: Queue,
  jobs: ReadonlyMap<string, ScheduledJob>,
  olderThanMs: number,
): Promise<number> {
  const rows = (await db('job_runs')
    .where('status', 'queued')
    .andWhere('updated_at', '<', dbTime(new Date(Date.now() - olderThanMs)))
    .orderBy('id')
    .limit(100)) as Record<string, unknown>[];
  let n = 0;
  for (const row of rows) {
    const job = jobs.get(String(row.job));
    if (!job) continue;
    await enqueueRun(queue, job, toRun(row));
    n++;
  }
  return n;
}

export interface MaintenanceWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  db: Db;
  log: Logger;
  /** The jobs it can run. Default: every registered job. */
  jobs?: readonly ScheduledJob[];
  timeZone?: string;
  /** `STOCKBRIDGE_OUTPUT_DIR`. */
  outputRoot: string;
  /** The channels, for jobs that talk to them (reconciliation). */
  channels?: ChannelContext | undefined;
}

/** Runs the scheduled jobs that schedulers, the API and catch-up queued, recording each in `job_runs`. */
export function startMaintenanceWorker(options: MaintenanceWorkerOptions): Worker {
  const { db, log } = options;
  const byName = new Map((options.jobs ?? SCHEDULED_JOBS).map((j) => [j.name, j]));
  const timeZone = options.timeZone ?? 'UTC';
  const worker = new Worker(
    QUEUE.maintenance,
    async (job: Job) => {
      const def = byName.get(job.name);
      if (!def) throw new UnrecoverableError(`unknown scheduled job ${job.name}`);
      const data = job.data as Partial<RunJobData>;
      if (typeof data.period !== 'string' || typeof data.run !== 'number') {
        log.warn({ job: job.name, jobId: job.id }, 'scheduled job without a period; dropped');
        return { skipped: 'no period' };
      }
      const run = await claimRun(db, { job: def.name, period: data.period, run: data.run }, job.id ?? null);
      if (!run) {
        log.info({ job: job.name, jobId: job.id }, 'scheduled job skipped: its run is done or taken');
        return { skipped: 'not queued' };
      }
      let lastLogged = 0;
      return runAttempt(def, run, {
        db,
        log,
        timeZone,
        outputRoot: options.outputRoot,
        channels: options.channels,
        jobId: job.id ?? queueJobIdOf(run),
        final: (err) =>
          err instanceof UnrecoverableError ||
          err instanceof PermanentError ||
          job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        onProgress: (done, total) => {
          const t = Date.now();
          if (t - lastLogged < 1000 && done < total) return;
          lastLogged = t;
          job.updateProgress({ done, total }).catch(() => {});
          log.debug({ job: job.name, jobId: job.id, done, total }, 'scheduled job progress');
        },
      }).catch((err) => {
        // A permanent error is not retried by BullMQ either.
        if (err instanceof PermanentError) throw new UnrecoverableError(err.message);
        throw err;
      });
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'maintenance worker error'));
  return worker;
}
