import { markResync } from '../src/channels/stock-push.js';
import type { ScheduledJob } from './types.js';

/**
 * Every night (02:30 business time; the run covers the day before), channels with `nightlyResync` get every mapped SKU marked for a push
 * that sends it whether or not it changed, so that drift on the channel's side (stock edited by
 * hand in the shop, a lost update) is corrected. The scheduler's push sweep queues the pushes.
 */
export const nightlyResync: ScheduledJob = {
  name: 'nightly-resync',
  schedule: '30 2 * * *',
  period: 'day',
  // After nights without a scheduler, one resync brings every channel up to date.
  catchUp: 1,
  async run({ db, progress }) {
    const channels = (await db('channels')
      .where({ enabled: true, nightly_resync: true })
      .pluck('id')) as number[];
    let skus = 0;
    for (const [i, id] of channels.entries()) {
      skus += await markResync(db, Number(id));
      progress(i + 1, channels.length);
    }
    return { counts: { channels: channels.length, skus } };
  },
};
