import type {
  ChannelOrderSummary,
  ConnectorContext,
  OrderListRange,
  PulledOrder,
  PullPage,
  UnreadOrder,
} from '../contract.js';
import { toMinorUnits } from '../shared/money.js';
import { isRecord } from '../shared/payload.js';
import { DRAFT_STATUSES, normalizeWooCommerceOrder, wooDateToIso, wooIdString } from './normalize.js';
import { modifiedAfterParam, ORDERS_PAGE_SIZE } from './pull.js';
import { withRefundLines } from './refunds.js';
import { jsonBody, WooCommerceResponseError, wooRequest } from './request.js';
import type { WooCommerceSettings } from './settings.js';

/*
 * What reconciliation reads from a WooCommerce site: the orders changed since a time, as summaries
 * (`_fields` keeps each page small), page by page under the channel's request rate; and orders in
 * full by id (`include=`), read and normalized as the pull reads them.
 */

/** The same statuses the webhook and the pull take as cancelled. */
const CANCELLED = new Set(['cancelled', 'refunded', 'trash']);
const SUMMARY_FIELDS =
  'id,number,status,currency,date_created_gmt,date_modified_gmt,total,total_tax,shipping_total';

/** One order of a summary page; null when it cannot be read (or is a checkout draft). */
export function wooSummaryOf(raw: unknown): ChannelOrderSummary | null {
  if (!isRecord(raw)) return null;
  const externalId = wooIdString(raw.id);
  const status = typeof raw.status === 'string' ? raw.status.toLowerCase() : '';
  const currency = typeof raw.currency === 'string' ? raw.currency.toUpperCase() : null;
  const placedAt = wooDateToIso(raw.date_created_gmt);
  const updatedAt = wooDateToIso(raw.date_modified_gmt) ?? placedAt;
  if (!externalId || !currency || !placedAt || !updatedAt || DRAFT_STATUSES.has(status)) return null;
  const minor = (v: unknown) =>
    v === undefined || v === null ? undefined : (toMinorUnits(v, currency) ?? undefined);
  const total = minor(raw.total);
  const tax = minor(raw.total_tax);
  const shipping = minor(raw.shipping_total);
  return {
    externalId,
    name: typeof raw.number === 'string' ? `#${raw.number}` : null,
    placedAt,
    updatedAt,
    cancelled: CANCELLED.has(status),
    currency,
    ...(total === undefined ? {} : { total }),
    ...(tax === undefined ? {} : { tax }),
    ...(shipping === undefined ? {} : { shipping }),
  };
}

/** Every order changed at or after `range.updatedFrom`, a page of summaries at a time. */
export async function* listWooCommerceOrders(
  ctx: ConnectorContext<WooCommerceSettings>,
  range: OrderListRange,
): AsyncIterable<ChannelOrderSummary[]> {
  const modifiedAfter = modifiedAfterParam(Date.parse(range.updatedFrom));
  const seen = new Set<string>();
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
        _fields: SUMMARY_FIELDS,
      },
    });
    const body = jsonBody(res.data, 'orders');
    if (!Array.isArray(body))
      throw new WooCommerceResponseError('WooCommerce orders: the response is not a list');
    const batch: ChannelOrderSummary[] = [];
    for (const raw of body) {
      const s = wooSummaryOf(raw);
      // An order changed while we paged moves to the end and is listed twice: once is enough.
      if (s && !seen.has(s.externalId)) {
        seen.add(s.externalId);
        batch.push(s);
      }
    }
    if (batch.length > 0) yield batch;
    const pages = Number(res.headers['x-wp-totalpages']);
    const more = Number.isInteger(pages) && pages > 0 ? page < pages : body.length >= ORDERS_PAGE_SIZE;
    if (!more || body.length === 0) return;
  }
}

/** These orders in full (`include=`), with their refund lines, normalized as the pull does. */
export async function* fetchWooCommerceOrders(
  ctx: ConnectorContext<WooCommerceSettings>,
  externalIds: readonly string[],
): AsyncIterable<PullPage> {
  const ids = externalIds.filter((id) => /^\d+$/.test(id));
  for (let i = 0; i < ids.length; i += ORDERS_PAGE_SIZE) {
    const res = await wooRequest<unknown>(ctx, {
      method: 'GET',
      url: 'orders',
      params: { include: ids.slice(i, i + ORDERS_PAGE_SIZE).join(','), per_page: ORDERS_PAGE_SIZE },
    });
    const body = jsonBody(res.data, 'orders');
    if (!Array.isArray(body))
      throw new WooCommerceResponseError('WooCommerce orders: the response is not a list');
    const orders: PulledOrder[] = [];
    const unread: UnreadOrder[] = [];
    for (const raw of body) {
      const complete = await withRefundLines(ctx, raw);
      try {
        orders.push({ raw, order: normalizeWooCommerceOrder(complete) });
      } catch (err) {
        unread.push({
          raw,
          externalId: isRecord(raw) ? wooIdString(raw.id) : null,
          error: (err as Error).message,
        });
      }
    }
    yield { orders, ...(unread.length > 0 ? { unread } : {}), nextCursor: null };
  }
}
