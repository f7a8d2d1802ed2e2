import { heartbeat } from './heartbeat.js';
import { invoicing } from './invoicing.js';
import { nightlyResync } from './nightly-resync.js';
import { outboxPrune } from './outbox-prune.js';
import { reconciliation } from './reconciliation.js';
import { reports } from './reports.js';
import { statements } from './statements.js';
import { stockSnapshot } from './stock-snapshot.js';
import type { ScheduledJob } from './types.js';

export type { JobContext, JobPeriod, JobResult, ScheduledJob } from './types.js';

/** Every scheduled job: one file each in this folder, listed here once. */
export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  outboxPrune,
  invoicing,
  nightlyResync,
  stockSnapshot,
  reports,
  statements,
  reconciliation,
];

/** The scheduled jobs of one configuration: the standing ones, plus the heartbeat when asked for. */
export function scheduledJobs(options: { heartbeatSeconds?: number | undefined } = {}): ScheduledJob[] {
  return options.heartbeatSeconds
    ? [...SCHEDULED_JOBS, heartbeat(options.heartbeatSeconds)]
    : [...SCHEDULED_JOBS];
}
