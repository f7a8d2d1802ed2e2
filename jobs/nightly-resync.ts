import { markResync } from '../src/channels/stock-push.js';
import type { ScheduledJob } from './types.js';

/**
 * Every night (02:30 UTC), channels with `nightlyResync` get every mapped SKU marked for a push
 * that sends it whether or not it changed, so that drift on the channel's side (stock edited by
 * hand in the shop, a lost update) is corrected. The scheduler's push sweep queues the pushes.
 */
export const nightlyResync: ScheduledJob = {
  name: 'nightly-resync',
  cron: '30 2 * * *',
  async run({ db }) {
    const channels = (await db('channels')
      .where({ enabled: true, nightly_resync: true })
      .pluck('id')) as number[];
    let skus = 0;
    for (const id of channels) skus += await markResync(db, Number(id));
    return { channels: channels.length, skus };
  },
};
