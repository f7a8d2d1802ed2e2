import type { ConnectorContext, PulledOrder, PullPage, UnreadOrder } from '../contract.js';
import { pullStartOf } from '../shared/pull-settings.js';
import { isoSeconds } from '../shared/time-cursor.js';
import { DRAFT_STATUSES, normalizeWooCommerceOrder, wooIdString } from './normalize.js';
import { withRefundLines } from './refunds.js';
import { jsonBody, WooCommerceResponseError, wooRequest } from './request.js';
import type { WooCommerceSettings } from './settings.js';

/** Orders asked for per page: WooCommerce's `per_page` maximum (also `manifest.limits.pageSize`). */
export const ORDERS_PAGE_SIZE = 100;

/**
 * `modified_after` as WooCommerce's own `_gmt` fields are written: UTC, no zone designator, read
 * as GMT because we also send `dates_are_gmt=true`. One second earlier than `sinceMs`, because
 * `modified_after` is exclusive and we want orders changed in that very second too.
 */
export function modifiedAfterParam(sinceMs: number): string {
  return isoSeconds(sinceMs - 1000).replace(/Z$/, '');
}

function headerInt(headers: Record<string, string>, name: string): number | null {
  const value = headers[name];
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

function idOf(raw: unknown): string | null {
  return typeof raw === 'object' && raw !== null ? wooIdString((raw as { id?: unknown }).id) : null;
}

function statusOf(raw: unknown): string {
  const status = typeof raw === 'object' && raw !== null ? (raw as { status?: unknown }).status : undefined;
  return typeof status === 'string' ? status.toLowerCase() : '';
}

/**
 * Pages of orders modified at or after the cursor (an ISO time; null: `initialPullStart`), oldest
 * change first: `GET orders?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc`,
 * page by page until `X-WP-TotalPages` (or, without that header, until a page comes back short).
 * Every date involved is UTC, so a daylight-saving change in the shop's zone cannot reorder or
 * hide anything.
 *
 * Each page's `nextCursor` is the latest `date_modified_gmt` seen so far; the caller moves it back
 * by the overlap (see `pullSince`). Page numbers shift when an order we already read changes again
 * (it moves to the end) or disappears (trashed) during the walk, which can push one unread order
 * onto a page we have passed. We notice both (an order id seen again; `X-WP-Total` going down),
 * and from then on hold the cursor at what it was before the page that may have lost an order, so
 * the next pull reads that stretch again.
 *
 * Checkout drafts are skipped (WooCommerce's webhooks skip them too); an order that cannot be read
 * at all is handed back as `unread` (stored as a failed event, for a replay).
 */
export async function* pullWooCommerceOrders(
  ctx: ConnectorContext<WooCommerceSettings>,
  cursor: string | null,
): AsyncIterable<PullPage> {
  const since = pullStartOf(ctx.settings, cursor);
  const modifiedAfter = modifiedAfterParam(Date.parse(since));
  let latest = Date.parse(since);
  /** The cursor to hold at once page numbers may have shifted; null while they have not. */
  let heldAt: number | null = null;
  /** For each order read in this walk: the cursor as it was before its page. */
  const seenBefore = new Map<string, number>();
  let previousTotal: number | null = null;

  for (let page = 1; ; page++) {
    const res = await wooRequest<unknown>(ctx, {
      method: 'GET',
      url: 'orders',
      params: {
        modified_after: modifiedAfter,
        dates_are_gmt: 'true',
        orderby: 'modified',
        order: 'asc',
        per_page: ORDERS_PAGE_SIZE,
        page,
      },
    });
    const body = jsonBody(res.data, 'orders');
    if (!Array.isArray(body))
      throw new WooCommerceResponseError('WooCommerce orders: the response is not a list');
    const totalPages = headerInt(res.headers, 'x-wp-totalpages');
    const total = headerInt(res.headers, 'x-wp-total');
    const beforePage = latest;

    if (previousTotal !== null && total !== null && total < previousTotal) {
      // Orders left the result set since the last page: the earlier pages shrank under us.
      heldAt = Math.min(heldAt ?? Number.POSITIVE_INFINITY, beforePage);
      ctx.log.warn({ page, total, previousTotal }, 'woocommerce: orders left the pull while paging');
    }
    if (total !== null) previousTotal = total;

    const orders: PulledOrder[] = [];
    const unread: UnreadOrder[] = [];
    for (const raw of body) {
      const id = idOf(raw);
      if (id !== null) {
        const firstSeen = seenBefore.get(id);
        if (firstSeen !== undefined) {
          // Read on an earlier page and changed since: it moved to the end, shifting the pages.
          heldAt = Math.min(heldAt ?? Number.POSITIVE_INFINITY, firstSeen);
        } else {
          seenBefore.set(id, beforePage);
        }
      }
      if (DRAFT_STATUSES.has(statusOf(raw))) continue;
      // Refund lines are read before the order (a failure fails the pull, which is tried again).
      const complete = await withRefundLines(ctx, raw);
      try {
        const order = normalizeWooCommerceOrder(complete);
        orders.push({ raw, order });
        latest = Math.max(latest, Date.parse(order.updatedAt));
      } catch (err) {
        ctx.log.error({ err, orderId: id }, 'woocommerce: pulled order could not be read; stored as failed');
        unread.push({ raw, externalId: id, error: (err as Error).message });
      }
    }

    yield {
      orders,
      ...(unread.length > 0 ? { unread } : {}),
      nextCursor: new Date(heldAt ?? latest).toISOString(),
    };
    const more = totalPages !== null ? page < totalPages : body.length >= ORDERS_PAGE_SIZE;
    if (!more || body.length === 0) return;
  }
}
