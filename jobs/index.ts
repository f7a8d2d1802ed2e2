import { nightlyResync } from './nightly-resync.js';
import { outboxPrune } from './outbox-prune.js';
import type { ScheduledJob } from './types.js';

export type { JobContext, ScheduledJob } from './types.js';

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [outboxPrune, nightlyResync];
