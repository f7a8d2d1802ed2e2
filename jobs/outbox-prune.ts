import { dbTime } from '../src/db/connection.js';
import type { ScheduledJob } from './types.js';

/** Published outbox rows are kept a week for inspection, then deleted in slices, every hour. */
export const OUTBOX_RETENTION_DAYS = 7;

export const outboxPrune: ScheduledJob = {
  name: 'outbox-prune',
  schedule: '17 * * * *',
  period: { seconds: 3600 },
  async run({ db }) {
    const cutoff = dbTime(new Date(Date.now() - OUTBOX_RETENTION_DAYS * 86_400_000));
    let deleted = 0;
    for (;;) {
      const ids = (await db('outbox')
        .whereNotNull('published_at')
        .andWhere('published_at', '<', cutoff)
        .limit(1000)
        .pluck('id')) as number[];
      if (ids.length === 0) break;
      deleted += await db('outbox').whereIn('id', ids).delete();
    }
    return { counts: { deleted } };
  },
};
