import type { ConnectorContext, ConnectorDefinition } from '../../connectors/contract.js';
import { bodyHash } from '../../connectors/shared/webhook.js';
import { type Db, dbTime } from '../db/connection.js';
import { type ApplyOutcome, receiveChannelEvent, UnappliedEventError } from './apply-order.js';
import { type Channel, clearChannelFailing } from './channel-store.js';
import { takeChannelLease } from './lease.js';

/** Default seconds between pulls and of overlap, for connectors whose settings do not say. */
const DEFAULT_PULL_INTERVAL_S = 300;
const DEFAULT_PULL_OVERLAP_S = 600;

/** What one pull did. */
export interface PullSummary {
  channelId: number;
  pages: number;
  orders: number;
  outcomes: Partial<Record<ApplyOutcome, number>>;
  /** Orders that could not be applied (the rest of the pull went on). */
  errors: { externalId: string; error: string }[];
  cursorBefore: string | null;
  cursorAfter: string | null;
  /** Orders the pull made `received` (queued for processing page by page). */
  toProcess: number[];
}

/** Another pull of this channel holds the lease. */
export class PullBusyError extends Error {
  override name = 'PullBusyError';
  constructor(channelId: number) {
    super(`a pull or stock push of channel ${channelId} is already running`);
  }
}

/** Epoch ms of an ISO 8601 time with a date and time; NaN for anything else (Date.parse is too lenient). */
function isoMs(value: string): number {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) ? Date.parse(value) : Number.NaN;
}

const numberSetting = (settings: Record<string, unknown>, key: string, fallback: number) =>
  typeof settings[key] === 'number' ? (settings[key] as number) : fallback;

export const pullIntervalSeconds = (c: Channel) =>
  numberSetting(c.settings, 'pullIntervalSeconds', DEFAULT_PULL_INTERVAL_S);

/**
 * Where a pull starts: the stored cursor moved back by the overlap window, so that orders written
 * late near the end of the previous pull are read again (re-reading is harmless: the same version
 * of an order changes nothing). A cursor that is not a time is passed on as it is.
 */
export function pullStart(cursor: string | null, overlapSeconds: number): string | null {
  if (cursor === null) return null;
  const ms = isoMs(cursor);
  if (Number.isNaN(ms)) return cursor;
  return new Date(ms - Math.max(0, overlapSeconds) * 1000).toISOString();
}

/**
 * The cursor to store after a page: the connector's (it is cumulative over the pull, and may hold
 * back to where the pull began when pages shifted under it), but never earlier than the cursor the
 * pull started from — the connector is handed that cursor less the overlap, and an empty pull must
 * not walk the cursor back by the overlap each time. Times compare as instants, in UTC.
 */
export function laterCursor(current: string | null, next: string | null): string | null {
  if (next === null) return current;
  if (current === null) return next;
  const a = isoMs(current);
  const b = isoMs(next);
  if (Number.isNaN(a) || Number.isNaN(b)) return next;
  return b >= a ? new Date(b).toISOString() : new Date(a).toISOString();
}

/**
 * Pulls the orders a channel changed since its cursor (minus the overlap), applying each through
 * the same path as webhooks, page by page: the cursor moves on only once a page is stored. One
 * order that cannot be applied is recorded and skipped; the rest go on. Holds the channel's pull
 * lease throughout, so that pulls of one channel never overlap, across all processes.
 */
export async function pullChannel(
  db: Db,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
  ctx: ConnectorContext<unknown>,
  /** Queues the orders a page made `received`, once the page is stored (errors are the caller's to swallow). */
  enqueue: (orderIds: number[]) => Promise<void>,
): Promise<PullSummary> {
  const lease = await takeChannelLease(db, channel.id, 'pull');
  if (!lease) throw new PullBusyError(channel.id);
  const summary: PullSummary = {
    channelId: channel.id,
    pages: 0,
    orders: 0,
    outcomes: {},
    errors: [],
    cursorBefore: channel.pullCursor,
    cursorAfter: channel.pullCursor,
    toProcess: [],
  };
  const overlap = numberSetting(channel.settings, 'pullOverlapSeconds', DEFAULT_PULL_OVERLAP_S);
  let failed = false;
  let held = false;
  try {
    for await (const page of connector.pullOrders(ctx, pullStart(channel.pullCursor, overlap))) {
      summary.pages++;
      const stored: number[] = [];
      let unstored = false;
      for (const pulled of page.orders) {
        summary.orders++;
        const order = pulled.order;
        const rawPayload = JSON.stringify(pulled.raw);
        try {
          const result = await receiveChannelEvent(db, channel, {
            // The update time alone is not a version (WooCommerce keeps it to the second): the
            // body's hash tells two changes in one second apart, and a re-read of the same one not.
            deliveryId: `pull:${order.externalId}:${order.updatedAt}:${bodyHash(Buffer.from(rawPayload))}`,
            topic: 'pull',
            kind: order.cancelled ? 'order.cancel' : 'order.upsert',
            externalId: order.externalId,
            rawPayload,
            order,
          });
          summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
          stored.push(...result.toProcess);
        } catch (err) {
          summary.errors.push({ externalId: order.externalId, error: (err as Error).message });
          ctx.log.error({ err, externalId: order.externalId }, 'pulled order could not be applied; skipped');
          // Stored but not applied: the pending sweep applies it later. Not even stored: the
          // cursor must not pass it.
          if (!(err instanceof UnappliedEventError)) unstored = true;
        }
      }
      summary.toProcess.push(...stored);
      await enqueue(stored);
      // The page is stored: move the cursor on and keep the lease.
      // An order of this page not even stored holds the cursor for the rest of this pull, so the
      // next pull reads it again.
      if (unstored) held = true;
      if (!held && page.nextCursor !== null) {
        summary.cursorAfter = laterCursor(summary.cursorBefore, page.nextCursor);
      }
      await lease.renew(held ? {} : { pull_cursor: summary.cursorAfter });
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    const now = new Date();
    await lease
      .release({
        last_pull_at: dbTime(now),
        next_pull_at: dbTime(new Date(now.getTime() + pullIntervalSeconds(channel) * 1000)),
      })
      .catch((err) => ctx.log.warn({ err: (err as Error).message }, 'could not release the pull lease'));
  }
  if (!failed) await clearChannelFailing(db, channel.id);
  return summary;
}
