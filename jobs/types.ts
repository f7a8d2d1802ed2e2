import type { Logger } from 'pino';
import type { Db } from '../src/db/connection.js';

export interface JobContext {
  db: Db;
  log: Logger;
}

/** A job the scheduler role starts on a cron schedule and a worker runs. */
export interface ScheduledJob {
  /** Stable name; with the period it forms the job id, so two schedulers enqueue a period once. */
  name: string;
  /** node-cron expression, evaluated in UTC. */
  cron: string;
  run(ctx: JobContext): Promise<Record<string, unknown>>;
}
