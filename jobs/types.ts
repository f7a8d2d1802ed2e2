import type { Logger } from 'pino';
import type { ChannelContext } from '../src/channels/channel-context.js';
import type { Db } from '../src/db/connection.js';
import type { JobPeriod } from '../src/domain/job-periods.js';

export type { JobPeriod } from '../src/domain/job-periods.js';

/** What a job's handler gets for one run. */
export interface JobContext {
  db: Db;
  log: Logger;
  /** The queue job's id (`<job>-<period>`, `-run<N>` added for a rerun); `<job>-<period>` from the CLI. */
  jobId?: string;
  /** The period this run covers: '2026-11-30' daily, '2026-11' monthly, or a minute/second key. */
  period: string;
  /** Folder for this run's files: <STOCKBRIDGE_OUTPUT_DIR>/<job>/<period>/ (a new sibling folder for a forced rerun); created by the runner. */
  outputDir: string;
  /** Progress for the CLI bar / logs. */
  progress(done: number, total: number): void;
  /** Business time zone. */
  timeZone: string;
  /** The first instant of the period (a business day or month starts at local midnight). */
  periodStart: Date;
  /** The instant after the period (exclusive end). */
  periodEnd: Date;
  /** The channels (secrets, HTTP clients, queueing), for jobs that talk to them; absent where there are none. */
  channels?: ChannelContext | undefined;
}

/**
 * What a run resolves to: `counts` (figures worth showing: `{invoices: 12}`) and `files` (names
 * inside `outputDir`) are recorded on the run; anything else is logged.
 */
export type JobResult = { counts?: Record<string, number>; files?: string[] } & Record<string, unknown>;

/** A job the scheduler role starts on a schedule and a worker runs: one file in `jobs/`. */
export interface ScheduledJob {
  /** Stable name (`[a-z0-9-]`); with the period it forms the run's key and the queue job's id. */
  name: string;
  /**
   * node-cron expression, read in the business time zone (`STOCKBRIDGE_TIME_ZONE`): five fields,
   * or six with seconds first.
   */
  schedule: string;
  /** The period one run covers: a business `day`, a business `month`, or a UTC slot `{seconds}`. */
  period: JobPeriod;
  /**
   * `day` and `month`: a tick covers the period before the one it falls in (`previous`, default: the
   * run at 01:00 on 2026-12-01 covers 2026-11-30), or the one it falls in (`current`).
   */
  covers?: 'previous' | 'current';
  /**
   * `day` and `month` jobs: how many of the latest periods whose tick has passed the scheduler
   * looks back at when it starts; each without a run (and after the job's first run on this
   * installation) is run then, oldest first. Default 0 (none).
   */
  catchUp?: number;
  /** Attempts of one run and the first wait between them (exponential). Default 3 and 30 s. */
  retry?: { attempts?: number; backoffMs?: number };
  /** The job talks to the channels: `stockbridge run` opens them (their secrets) for it. Default false. */
  usesChannels?: boolean;
  run(ctx: JobContext): Promise<JobResult>;
}
