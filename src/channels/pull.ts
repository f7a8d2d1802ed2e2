import type {
  ConnectorContext,
  ConnectorDefinition,
  PulledOrder,
  PullSchedule,
  UnreadOrder,
} from '../../connectors/contract.js';
import { bodyHash } from '../../connectors/shared/webhook.js';
import { type Db, dbTime } from '../db/connection.js';
import {
  type ApplyOutcome,
  type ApplyResult,
  type ChannelOrderEvent,
  receiveChannelEvent,
  UnappliedEventError,
} from './apply-order.js';
import { type Channel, clearChannelFailing } from './channel-store.js';
import type { DeliveryPullSummary } from './delivery-pull.js';
import { type ChannelLease, LEASE_MS, takeChannelLease } from './lease.js';

/** The schedule of a connector that declares none. */
const DEFAULT_SCHEDULE: PullSchedule = { intervalSeconds: 300, overlapSeconds: 600 };

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
  /** The delivery reports read after the orders (channels that report delivery). */
  deliveries?: DeliveryPullSummary;
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

/** Another process took the pull lease while this pull waited (it outlived the lease): it stops. */
export class PullLeaseLostError extends Error {
  override name = 'PullLeaseLostError';
  constructor(channelId: number) {
    super(`the pull lease of channel ${channelId} was lost; this pull stopped, another one runs`);
  }
}

/** When the channel is pulled, as its connector declares for its settings. */
export function channelPullSchedule(connector: ConnectorDefinition<unknown>, channel: Channel): PullSchedule {
  return connector.manifest.pullSchedule?.(channel.settings) ?? DEFAULT_SCHEDULE;
}

export interface PullOptions {
  /** How long the pull lease lasts without renewal (ms). Default `LEASE_MS`. */
  leaseMs?: number;
}

/**
 * Renews the lease every third of its length while the pull runs — also while it waits for the
 * channel (a throttle, a long answer) — so that no other process takes it. A renewal that finds
 * the lease taken marks it lost; the pull checks before it stores anything and stops.
 */
function keepLease(lease: ChannelLease, log: ConnectorContext['log']) {
  let lost = false;
  const timer = setInterval(
    () => {
      lease.renew().then(
        (kept) => {
          if (!kept) lost = true;
        },
        (err) => log.warn({ err: (err as Error).message }, 'could not renew the pull lease'),
      );
    },
    Math.max(1, Math.floor(lease.leaseMs / 3)),
  );
  timer.unref();
  return {
    /** Renews now (with `extra` columns); false once the lease is lost. */
    async renew(extra?: Record<string, unknown>): Promise<boolean> {
      if (lost) return false;
      if (!(await lease.renew(extra))) lost = true;
      return !lost;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** A pulled order that could not be read, as an inbound event: stored failed, for a replay. */
function unreadEvent(unread: UnreadOrder): ChannelOrderEvent {
  const rawPayload = JSON.stringify(unread.raw) ?? 'null';
  // No version to tell re-reads apart: the same body is the same event.
  return {
    deliveryId: `pull:${unread.externalId ?? 'unknown'}:${bodyHash(Buffer.from(rawPayload))}`,
    topic: 'pull',
    kind: 'order.upsert',
    externalId: unread.externalId,
    rawPayload,
    order: null,
    readError: unread.error,
  };
}

/**
 * A pulled order as an inbound event. The update time alone is not a version (WooCommerce keeps it
 * to the second): the body's hash tells two changes in one second apart, and a re-read of the same
 * one not — so the same version read by a pull and by reconciliation is one delivery.
 */
export function pulledOrderEvent(pulled: PulledOrder): ChannelOrderEvent {
  const order = pulled.order;
  const rawPayload = JSON.stringify(pulled.raw);
  return {
    deliveryId: `pull:${order.externalId}:${order.updatedAt}:${bodyHash(Buffer.from(rawPayload))}`,
    topic: 'pull',
    kind: order.cancelled ? 'order.cancel' : 'order.upsert',
    externalId: order.externalId,
    rawPayload,
    order,
  };
}

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
  options: PullOptions = {},
): Promise<PullSummary> {
  const taken = await takeChannelLease(db, channel.id, 'pull', options.leaseMs ?? LEASE_MS);
  if (!taken) throw new PullBusyError(channel.id);
  const lease = keepLease(taken, ctx.log);
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
  const schedule = channelPullSchedule(connector, channel);
  let failed = false;
  let held = false;
  try {
    for await (const page of connector.pullOrders(
      ctx,
      pullStart(channel.pullCursor, schedule.overlapSeconds),
    )) {
      // The page may have taken longer than the lease (a long throttle): store nothing once
      // another pull has taken over.
      if (!(await lease.renew())) throw new PullLeaseLostError(channel.id);
      summary.pages++;
      const stored: number[] = [];
      let unstored = false;
      const receive = async (externalId: string | null, event: ChannelOrderEvent): Promise<void> => {
        let result: ApplyResult;
        try {
          result = await receiveChannelEvent(db, channel, event);
        } catch (err) {
          summary.errors.push({ externalId: externalId ?? '', error: (err as Error).message });
          ctx.log.error({ err, externalId }, 'pulled order could not be applied; skipped');
          // Stored but not applied: the pending sweep applies it later. Not even stored: the
          // cursor must not pass it.
          if (!(err instanceof UnappliedEventError)) unstored = true;
          return;
        }
        summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
        stored.push(...result.toProcess);
        if (result.outcome === 'failed') {
          summary.errors.push({ externalId: externalId ?? '', error: `not readable: ${result.note ?? ''}` });
        }
      };
      for (const pulled of page.orders) {
        summary.orders++;
        await receive(pulled.order.externalId, pulledOrderEvent(pulled));
      }
      // Orders the connector could not read are stored as failed events (as webhooks are), for a
      // replay; once stored, the cursor may pass them.
      for (const unread of page.unread ?? []) {
        summary.orders++;
        await receive(unread.externalId, unreadEvent(unread));
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
      if (!(await lease.renew(held ? {} : { pull_cursor: summary.cursorAfter }))) {
        throw new PullLeaseLostError(channel.id);
      }
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    lease.stop();
    const now = new Date();
    const next = { next_pull_at: dbTime(new Date(now.getTime() + schedule.intervalSeconds * 1000)) };
    // A failed pull is tried again at the next pull time, but did not pull: `last_pull_at` stays.
    await taken
      .release(failed ? next : { ...next, last_pull_at: dbTime(now) })
      .catch((err) => ctx.log.warn({ err: (err as Error).message }, 'could not release the pull lease'));
  }
  if (!failed) await clearChannelFailing(db, channel.id);
  return summary;
}
