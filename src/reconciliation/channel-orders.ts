import type {
  ChannelOrderSummary,
  ConnectorContext,
  ConnectorDefinition,
} from '../../connectors/contract.js';
import { receiveChannelEvent } from '../channels/apply-order.js';
import { type Channel, channelKey } from '../channels/channel-store.js';
import { pulledOrderEvent } from '../channels/pull.js';
import { type Db, dbTime, isoTime } from '../db/connection.js';
import { OPEN_STATUSES, type OrderStatus } from '../domain/order-status.js';
import {
  compareOrder,
  type FindingDraft,
  missingThere,
  type OurOrder,
  oursInWindow,
  type ReconWindow,
  theirsInWindow,
} from '../domain/reconciliation.js';
import { ORDERS } from '../orders/order-store.js';

/** Ids asked for at once when looking up our side of channel orders. */
const LOOKUP_CHUNK = 1000;

const toOurOrder = (r: Record<string, unknown>): OurOrder => ({
  externalId: String(r.external_id),
  status: String(r.status),
  open: OPEN_STATUSES.includes(r.status as OrderStatus),
  currency: String(r.currency),
  total: Number(r.total_amount ?? 0),
  tax: Number(r.tax_amount ?? 0),
  shipping: Number(r.shipping_amount ?? 0),
  placedAt: isoTime(r.placed_at as string) as string,
});

const OUR_COLUMNS = [
  'external_id',
  'status',
  'currency',
  'total_amount',
  'tax_amount',
  'shipping_amount',
  'placed_at',
];

/** What comparing one channel's orders found, with figures for the run. */
export interface ChannelOrdersResult {
  drafts: FindingDraft[];
  /** Channel orders compared (in the window). */
  compared: number;
  /** Channel orders read (the list reaches to now). */
  read: number;
}

/**
 * Reads the channel's orders changed since the window began (through the connector's `listOrders`)
 * and compares those placed or changed in the window with ours; ours placed in the window that the
 * channel does not list are missing there.
 */
export async function compareChannelOrders(
  db: Db,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
  ctx: ConnectorContext<unknown>,
  window: ReconWindow,
  healCancel: boolean,
): Promise<ChannelOrdersResult> {
  const key = channelKey(channel);
  const listOrders = connector.listOrders;
  if (!listOrders) return { drafts: [], compared: 0, read: 0 };
  // Ours placed in the window, or changed by the channel since it began: one read.
  const ours = new Map<string, OurOrder>();
  const fromTime = dbTime(new Date(window.from));
  for (const r of await db(ORDERS)
    .where({ channel: key })
    .andWhere((q) => q.where('placed_at', '>=', fromTime).orWhere('channel_updated_at', '>=', fromTime))
    .select(OUR_COLUMNS))
    ours.set(String(r.external_id), toOurOrder(r));
  const listed = new Set<string>();
  const drafts: FindingDraft[] = [];
  let compared = 0;
  let read = 0;
  for await (const batch of listOrders.call(connector, ctx, {
    updatedFrom: new Date(window.from).toISOString(),
  })) {
    read += batch.length;
    const inWindow: ChannelOrderSummary[] = [];
    for (const o of batch) {
      listed.add(o.externalId);
      if (theirsInWindow(o, window)) inWindow.push(o);
    }
    // Channel orders we did not read above (placed before the window, not changed by the channel
    // since): looked up by id, so that only true absences count as missing.
    const unknown = inWindow.filter((o) => !ours.has(o.externalId)).map((o) => o.externalId);
    for (let i = 0; i < unknown.length; i += LOOKUP_CHUNK) {
      for (const r of await db(ORDERS)
        .where({ channel: key })
        .whereIn('external_id', unknown.slice(i, i + LOOKUP_CHUNK))
        .select(OUR_COLUMNS))
        ours.set(String(r.external_id), toOurOrder(r));
    }
    for (const o of inWindow) {
      compared++;
      drafts.push(...compareOrder(key, o, ours.get(o.externalId) ?? null, healCancel));
    }
  }
  for (const o of ours.values())
    if (oursInWindow(o, window) && !listed.has(o.externalId)) drafts.push(missingThere(key, o));
  return { drafts, compared, read };
}

/** What healing channel orders did. */
export interface OrderHealOutcome {
  /** By external id: what the intake did (`created`, `cancelled`, …) or why it could not. */
  done: Map<string, string>;
  failed: Map<string, string>;
  /** Orders now `received`, to be queued for processing. */
  toProcess: number[];
}

/**
 * Takes these orders in through the same path as a pull: read in full from the channel, stored as
 * inbound events under the pull's delivery key (a version already pulled is a duplicate), applied
 * by the channel intake — which creates a missing order, or cancels one the channel cancelled.
 */
export async function takeInOrders(
  db: Db,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
  ctx: ConnectorContext<unknown>,
  externalIds: readonly string[],
): Promise<OrderHealOutcome> {
  const out: OrderHealOutcome = { done: new Map(), failed: new Map(), toProcess: [] };
  if (externalIds.length === 0) return out;
  if (!connector.fetchOrders) {
    for (const id of externalIds) out.failed.set(id, 'the connector cannot read single orders');
    return out;
  }
  for await (const page of connector.fetchOrders.call(connector, ctx, externalIds)) {
    for (const pulled of page.orders) {
      try {
        const result = await receiveChannelEvent(db, channel, pulledOrderEvent(pulled));
        out.done.set(pulled.order.externalId, result.outcome);
        out.toProcess.push(...result.toProcess);
      } catch (err) {
        out.failed.set(pulled.order.externalId, (err as Error).message);
      }
    }
    for (const unread of page.unread ?? [])
      if (unread.externalId) out.failed.set(unread.externalId, `not readable: ${unread.error}`);
  }
  for (const id of externalIds)
    if (!out.done.has(id) && !out.failed.has(id)) out.failed.set(id, 'the channel did not return it');
  return out;
}
