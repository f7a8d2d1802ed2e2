import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { PullPage } from '../../../connectors/contract.js';
import woocommerce, {
  initialPullStart,
  modifiedAfterParam,
  pullSince,
  WooCommerceResponseError,
} from '../../../connectors/woocommerce/index.js';
import { ChannelAuthError } from '../../../src/errors/index.js';
import {
  BASIC,
  CONSUMER_KEY,
  CONSUMER_SECRET,
  context,
  load,
  replies,
} from '../../fixtures/woocommerce/helpers.js';

/** The documented order 727 as order `id`, last modified at `modifiedGmt` (UTC, written without a zone). */
function order(id: number, modifiedGmt: string, extra: Record<string, unknown> = {}) {
  const o = load('order-727.json');
  return {
    ...o,
    id,
    number: String(id),
    date_created_gmt: '2026-11-01T08:00:00',
    date_created: '2026-11-01T09:00:00',
    date_modified_gmt: modifiedGmt,
    date_modified: modifiedGmt.replace(
      /T(\d{2})/,
      (_m, h: string) => `T${String(Number(h) + 1).padStart(2, '0')}`,
    ),
    ...extra,
  };
}

/** `count` orders from id `firstId`, modified 10 s apart from `startMs`. */
function orders(firstId: number, count: number, startMs: number) {
  return Array.from({ length: count }, (_, i) =>
    order(firstId + i, new Date(startMs + (firstId + i) * 10_000).toISOString().slice(0, 19)),
  );
}

function pages(total: number, totalPages: number): Record<string, string> {
  return { 'X-WP-Total': String(total), 'X-WP-TotalPages': String(totalPages) };
}

async function collect(iterable: AsyncIterable<PullPage>): Promise<PullPage[]> {
  const out: PullPage[] = [];
  for await (const p of iterable) out.push(p);
  return out;
}

function inBerlin(): void {
  const tz = process.env.TZ;
  process.env.TZ = 'Europe/Berlin';
  onTestFinished(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('woocommerce pullOrders', () => {
  it('follows X-WP-TotalPages across 3 pages with modified_after in GMT; cursor = latest date_modified_gmt', async () => {
    const start = Date.parse('2026-11-01T10:00:00Z');
    const { seen, scope } = replies('get', '/orders', [
      [200, orders(1, 100, start), pages(237, 3)],
      [200, orders(101, 100, start), pages(237, 3)],
      [200, orders(201, 37, start), pages(237, 3)],
    ]);
    const { ctx } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00.000Z'));
    scope.done();

    expect(result.map((p) => p.orders.length)).toEqual([100, 100, 37]);
    expect(result.map((p) => p.nextCursor)).toEqual([
      '2026-11-01T10:16:40.000Z', // order 100: 10:00 + 1000 s
      '2026-11-01T10:33:20.000Z',
      '2026-11-01T10:39:30.000Z', // order 237
    ]);
    expect(seen.map((r) => r.query)).toEqual(
      [1, 2, 3].map((page) => ({
        // One second before the cursor (modified_after is exclusive), as GMT without a zone.
        modified_after: '2026-11-01T09:49:59',
        dates_are_gmt: 'true',
        orderby: 'modified',
        order: 'asc',
        per_page: '100',
        page: String(page),
      })),
    );
    for (const r of seen) {
      expect(r.path).toBe('/wp-json/wc/v3/orders');
      expect(r.headers.authorization).toBe(BASIC);
    }
    const first = result[0]?.orders[0];
    expect(first?.order).toMatchObject({ externalId: '1', updatedAt: '2026-11-01T10:00:10.000Z' });
    expect(first?.raw).toMatchObject({ id: 1, number: '1' });
  });

  it('in query auth mode sends consumer_key and consumer_secret as parameters and no Authorization header', async () => {
    const { seen } = replies('get', '/orders', [[200, [], pages(0, 0)]]);
    const { ctx } = context({ authMode: 'query' });
    await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    expect(seen[0]?.query).toMatchObject({ consumer_key: CONSUMER_KEY, consumer_secret: CONSUMER_SECRET });
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('a null cursor starts at pullStartAt, converted to UTC', async () => {
    const { seen } = replies('get', '/orders', [[200, [], pages(0, 0)]]);
    const { ctx } = context({ pullStartAt: '2026-10-01T00:00:00+02:00' });
    const result = await collect(woocommerce.pullOrders(ctx, null));
    expect(seen[0]?.query.modified_after).toBe('2026-09-30T21:59:59');
    expect(result).toEqual([{ orders: [], nextCursor: '2026-09-30T22:00:00.000Z' }]);
  });

  it('loses nothing across the end of summer time: ambiguous local times, UTC order and cursor', async () => {
    inBerlin();
    const dst = load<Record<string, unknown>[]>('orders-dst-fall-back.json');
    // The site-local times repeat and run backwards; only the _gmt ones give the real order.
    expect(dst.map((o) => o.date_modified)).toEqual([
      '2026-10-25T02:30:00',
      '2026-10-25T02:10:00',
      '2026-10-25T02:45:00',
      '2026-10-25T03:05:00',
    ]);
    const { seen, scope } = replies('get', '/orders', [
      [200, dst.slice(0, 2), pages(4, 2)],
      [200, dst.slice(2), pages(4, 2)],
    ]);
    const { ctx } = context();
    // 01:00 summer time in Berlin.
    const result = await collect(woocommerce.pullOrders(ctx, '2026-10-24T23:00:00Z'));
    scope.done();

    expect(seen.map((r) => r.query.modified_after)).toEqual(['2026-10-24T22:59:59', '2026-10-24T22:59:59']);
    const pulled = result.flatMap((p) => p.orders.map((o) => [o.order.externalId, o.order.updatedAt]));
    expect(pulled).toEqual([
      ['5001', '2026-10-25T00:30:00.000Z'],
      ['5002', '2026-10-25T01:10:00.000Z'],
      ['5003', '2026-10-25T01:45:00.000Z'],
      ['5004', '2026-10-25T02:05:00.000Z'],
    ]);
    expect(result.flatMap((p) => p.orders.map((o) => o.order.placedAt))).toEqual([
      '2026-10-25T00:20:00.000Z',
      '2026-10-25T01:05:00.000Z',
      '2026-10-25T01:40:00.000Z',
      '2026-10-25T01:59:00.000Z',
    ]);
    // Read as UTC, the local 03:05 would have moved the cursor an hour too far and the next pull
    // would have skipped whatever changed from 02:05 to 03:05 UTC.
    expect(result.map((p) => p.nextCursor)).toEqual(['2026-10-25T01:10:00.000Z', '2026-10-25T02:05:00.000Z']);
    // The next pull starts at the cursor less the overlap, in UTC.
    expect(modifiedAfterParam(Date.parse(pullSince(result[1]!.nextCursor, 600)!))).toBe(
      '2026-10-25T01:54:59',
    );
  });

  it('without X-WP-TotalPages, keeps going while pages come back full', async () => {
    const start = Date.parse('2026-11-01T10:00:00Z');
    const { seen } = replies('get', '/orders', [
      [200, orders(1, 100, start)],
      [200, orders(101, 3, start)],
    ]);
    const { ctx } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    expect(seen.map((r) => r.query.page)).toEqual(['1', '2']);
    expect(result.map((p) => p.orders.length)).toEqual([100, 3]);
  });

  it('holds the cursor when an order read on an earlier page turns up again (the pages shifted)', async () => {
    const { scope } = replies('get', '/orders', [
      [200, [order(1, '2026-11-01T10:00:00'), order(2, '2026-11-01T10:05:00')], pages(4, 2)],
      // Order 1 changed while we paged: it moved to the end and pushed an order onto page 1.
      [200, [order(3, '2026-11-01T10:10:00'), order(1, '2026-11-01T10:20:00')], pages(4, 2)],
    ]);
    const { ctx } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    scope.done();
    expect(result.map((p) => p.nextCursor)).toEqual([
      '2026-11-01T10:05:00.000Z',
      // Back to before page 1: the next pull reads the whole stretch again.
      '2026-11-01T09:50:00.000Z',
    ]);
    expect(result[1]?.orders.map((o) => o.order.externalId)).toEqual(['3', '1']);
  });

  it('holds the cursor when X-WP-Total goes down while paging (an order left the earlier pages)', async () => {
    const { scope } = replies('get', '/orders', [
      [200, [order(1, '2026-11-01T10:00:00')], pages(3, 3)],
      [200, [order(3, '2026-11-01T10:10:00')], pages(2, 3)],
      [200, [order(4, '2026-11-01T10:15:00')], pages(2, 3)],
    ]);
    const { ctx } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    scope.done();
    expect(result.map((p) => p.nextCursor)).toEqual([
      '2026-11-01T10:00:00.000Z',
      '2026-11-01T10:00:00.000Z',
      '2026-11-01T10:00:00.000Z',
    ]);
  });

  it('skips checkout drafts, and hands back an order it cannot read as unread (to be stored failed)', async () => {
    replies('get', '/orders', [
      [
        200,
        [
          order(1, '2026-11-01T10:00:00', { status: 'checkout-draft' }),
          order(2, '2026-11-01T10:01:00', { currency: 'dollars' }),
          order(3, '2026-11-01T10:02:00'),
        ],
        pages(3, 1),
      ],
    ]);
    const { ctx, errors } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    expect(result[0]?.orders.map((o) => o.order.externalId)).toEqual(['3']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ orderId: '2' });
    expect(result[0]?.unread).toEqual([
      {
        raw: expect.objectContaining({ id: 2, currency: 'dollars' }),
        externalId: '2',
        error: expect.any(String),
      },
    ]);
  });

  it('waits Retry-After on HTTP 429 (seconds, as ms), then succeeds', async () => {
    const { scope } = replies('get', '/orders', [
      [429, { code: 'rest_too_many_requests', message: 'Too many requests' }, { 'Retry-After': '1' }],
      [200, [order(1, '2026-11-01T10:00:00')], pages(1, 1)],
    ]);
    const { ctx, waits } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    scope.done();
    expect(waits).toEqual([1_000]);
    expect(result[0]?.orders).toHaveLength(1);
  });

  it('retries a 5xx, then succeeds', async () => {
    const { scope } = replies('get', '/orders', [
      [503, '<html><body>Service Unavailable</body></html>', { 'Content-Type': 'text/html' }],
      [500, { code: 'internal_server_error', message: 'There has been a critical error on this website.' }],
      [200, [order(1, '2026-11-01T10:00:00')], pages(1, 1)],
    ]);
    const { ctx, waits } = context();
    const result = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z'));
    scope.done();
    // Exponential backoff with jitter (here half of each ceiling): ceilings 10 ms, then 20 ms.
    expect(waits).toEqual([5, 10]);
    expect(result[0]?.orders).toHaveLength(1);
  });

  it('401 throws ChannelAuthError after one attempt, without the credentials in the message', async () => {
    for (const authMode of ['basic', 'query'] as const) {
      const { seen, scope } = replies('get', '/orders', [
        [
          401,
          {
            code: 'woocommerce_rest_cannot_view',
            message: 'Sorry, you cannot list resources.',
            data: { status: 401 },
          },
        ],
      ]);
      const { ctx, waits } = context({ authMode });
      const err = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z')).catch((e: unknown) => e);
      scope.done();
      expect(err).toBeInstanceOf(ChannelAuthError);
      expect(seen).toHaveLength(1);
      expect(waits).toEqual([]);
      const printed = `${(err as Error).message} ${JSON.stringify((err as ChannelAuthError).details)}`;
      expect(printed).not.toContain(CONSUMER_KEY);
      expect(printed).not.toContain(CONSUMER_SECRET);
    }
  });

  it('a 200 that is not a list of orders (a cached HTML page) is a retryable response error', async () => {
    replies('get', '/orders', [
      [200, '<!doctype html><html><body>Welcome to my shop</body></html>', { 'Content-Type': 'text/html' }],
    ]);
    const { ctx } = context();
    const err = await collect(woocommerce.pullOrders(ctx, '2026-11-01T09:50:00Z')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WooCommerceResponseError);
  });
});

describe('woocommerce pull cursor helpers', () => {
  it('pullSince moves the cursor back by the overlap', () => {
    expect(pullSince('2026-11-01T12:30:00.000Z', 600)).toBe('2026-11-01T12:20:00Z');
    expect(pullSince(null, 600)).toBeNull();
    expect(pullSince('not a date', 600)).toBeNull();
  });

  it('initialPullStart is one interval plus the overlap ago without pullStartAt', () => {
    const { ctx } = context();
    expect(initialPullStart(ctx.settings, Date.parse('2026-11-01T12:00:00Z'))).toBe('2026-11-01T11:45:00Z');
  });

  it('modifiedAfterParam is UTC without a zone, one second early', () => {
    expect(modifiedAfterParam(Date.parse('2026-03-29T01:30:00Z'))).toBe('2026-03-29T01:29:59');
  });
});
