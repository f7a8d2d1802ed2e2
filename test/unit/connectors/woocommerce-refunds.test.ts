import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PullPage } from '../../../connectors/contract.js';
import woocommerce from '../../../connectors/woocommerce/index.js';
import { refundedUnits } from '../../../connectors/woocommerce/normalize.js';
import { BASIC, context, fixture, replies } from '../../fixtures/woocommerce/helpers.js';

/**
 * WooCommerce's documented order 723 (its webhook body: refunds 726 and 724 listed by amount only)
 * and the documented `GET orders/723/refunds` answer (724 refunds one unit of line 311).
 */
const order723 = () => JSON.parse(fixture('order-723-webhook-body.txt').toString('utf8'));
const refunds723 = () => JSON.parse(fixture('order-723-refunds.json').toString('utf8'));

async function collect(iterable: AsyncIterable<PullPage>): Promise<PullPage[]> {
  const out: PullPage[] = [];
  for await (const p of iterable) out.push(p);
  return out;
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('woocommerce partial refunds', () => {
  it('counts the units refunded per line from the refunds endpoint (negative quantities, _refunded_item_id)', () => {
    expect(Object.fromEntries(refundedUnits(refunds723()))).toEqual({ '311': 1 });
    // The order's own list (id, reason, total) says nothing about units.
    expect(refundedUnits(order723().refunds).size).toBe(0);
  });

  it('takes refunded units off their lines and drops a line refunded in full', () => {
    const order = woocommerce.normalizeOrder({ ...order723(), refunds: refunds723() });
    expect(order.lines.map((l) => [l.productId, l.quantity, l.unitPrice])).toEqual([['34', 1, 2000]]);
    expect(order.problems).toEqual([]);
    // Without the refund lines the order still counts every unit ordered.
    expect(woocommerce.normalizeOrder(order723()).lines.map((l) => [l.productId, l.quantity])).toEqual([
      ['87', 1],
      ['34', 1],
    ]);
  });

  it('completes a payload listing refunds from the site, and leaves one without refunds alone', async () => {
    const { ctx } = context();
    const { seen, scope } = replies('get', '/orders/723/refunds', [[200, refunds723()]]);
    const complete = await woocommerce.completePayload!(ctx, order723());
    scope.done();
    expect(seen.map((r) => [r.query, r.headers.authorization])).toEqual([
      [{ per_page: '100', page: '1' }, BASIC],
    ]);
    expect(woocommerce.normalizeOrder(complete).lines.map((l) => l.productId)).toEqual(['34']);

    // No refunds listed: no request (nock refuses any unplanned one).
    const plain = { ...order723(), refunds: [] };
    expect(await woocommerce.completePayload!(ctx, plain)).toBe(plain);
  });

  it('pulls a refunded order with its refund lines: the pulled order wants only what is left', async () => {
    const { ctx } = context();
    const orders = replies('get', '/orders', [
      [200, [order723()], { 'X-WP-Total': '1', 'X-WP-TotalPages': '1' }],
    ]);
    const refunds = replies('get', '/orders/723/refunds', [[200, refunds723()]]);
    const pages = await collect(woocommerce.pullOrders(ctx, '2017-03-21T00:00:00.000Z'));
    orders.scope.done();
    refunds.scope.done();
    const pulled = pages.flatMap((p) => p.orders);
    expect(pulled.map((o) => o.order.lines.map((l) => [l.productId, l.quantity]))).toEqual([[['34', 1]]]);
    // What is stored is the order as the site sent it.
    expect(pulled[0]?.raw).toMatchObject({ refunds: order723().refunds });
  });
});
