import type { Logger } from 'pino';
import type { Db } from '../src/db/connection.js';

export interface JobContext {
  db: Db;
  log: Logger;
  /** The queue job's id (`name-period`) of this run; set by the maintenance worker. */
  jobId?: string;
}

/** A job the scheduler role starts on a cron schedule and a worker runs. */
export interface ScheduledJob {
  /** Stable name; with the period it forms the job id, so two schedulers enqueue a period once. */
  name: string;
  /** node-cron expression, evaluated in UTC (six fields: the first is seconds). */
  cron: string;
  /**
   * Length of the period that names a run, in seconds; must divide 60, or be 60 (default: one
   * UTC minute). A job that runs more often than once a minute needs it shorter than its interval.
   */
  periodSeconds?: number;
  run(ctx: JobContext): Promise<Record<string, unknown>>;
}
