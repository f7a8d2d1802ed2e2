import { heartbeat } from './heartbeat.js';
import { nightlyResync } from './nightly-resync.js';
import { outboxPrune } from './outbox-prune.js';
import type { ScheduledJob } from './types.js';

export type { JobContext, ScheduledJob } from './types.js';

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [outboxPrune, nightlyResync];

/** The scheduled jobs of one configuration: the standing ones, plus the heartbeat when asked for. */
export function scheduledJobs(options: { heartbeatSeconds?: number | undefined } = {}): ScheduledJob[] {
  return options.heartbeatSeconds
    ? [...SCHEDULED_JOBS, heartbeat(options.heartbeatSeconds)]
    : [...SCHEDULED_JOBS];
}
