import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StockItem } from '../../../connectors/contract.js';
import woocommerce from '../../../connectors/woocommerce/index.js';
import { ChannelAuthError } from '../../../src/errors/index.js';
import {
  BASIC,
  CONSUMER_SECRET,
  context,
  type Reply,
  replies,
  type SeenRequest,
} from '../../fixtures/woocommerce/helpers.js';

interface Update {
  id: number;
  manage_stock: boolean;
  stock_quantity: number;
}

function updates(req: SeenRequest | undefined): Update[] {
  if (!req) throw new Error('no request was sent');
  return (req.body as { update: Update[] }).update;
}

/** What WooCommerce answers for a batch: each object as updated (trimmed here to what we read). */
function ok(sent: Update[]) {
  return {
    update: sent.map((u) => ({ id: u.id, manage_stock: true, stock_quantity: u.stock_quantity, _links: {} })),
  };
}

/** Answers `count` batch POSTs to `path` with `answer(sent updates)`, recording the requests. */
function batches(path: string, count: number, answer: (sent: Update[]) => Reply = (sent) => [200, ok(sent)]) {
  return replies(
    'post',
    path,
    Array.from({ length: count }, () => (body: unknown) => answer((body as { update: Update[] }).update)),
  );
}

function simpleItems(n: number): StockItem[] {
  return Array.from({ length: n }, (_, i) => ({
    sku: `SKU-${i + 1}`,
    productId: String(1000 + i),
    quantity: i,
  }));
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('woocommerce pushStock', () => {
  it('sets stock_quantity with manage_stock through products/batch', async () => {
    const { seen, scope } = batches('/products/batch', 1);
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, [
      { sku: 'A', productId: '93', quantity: 7 },
      { sku: 'B', productId: '94', quantity: 0 },
    ]);
    scope.done();
    expect(result).toEqual({ accepted: ['A', 'B'], rejected: [] });
    expect(seen[0]?.body).toEqual({
      update: [
        { id: 93, manage_stock: true, stock_quantity: 7 },
        { id: 94, manage_stock: true, stock_quantity: 0 },
      ],
    });
    expect(seen[0]?.headers.authorization).toBe(BASIC);
    expect(seen[0]?.headers['content-type']).toContain('application/json');
  });

  it('sends 250 items in 3 calls of at most 100; a per-item error rejects that SKU only', async () => {
    const { seen, scope } = batches('/products/batch', 3, (sent) => {
      const body = ok(sent) as { update: Record<string, unknown>[] };
      const at = sent.findIndex((u) => u.id === 1150);
      if (at >= 0) {
        body.update[at] = {
          id: 1150,
          error: {
            code: 'woocommerce_rest_product_invalid_id',
            message: 'Invalid ID.',
            data: { status: 400 },
          },
        };
      }
      return [200, body];
    });
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, simpleItems(250));
    scope.done();
    expect(seen.map((r) => updates(r).length)).toEqual([100, 100, 50]);
    expect(result.rejected).toEqual([
      { sku: 'SKU-151', reason: 'woocommerce_rest_product_invalid_id: Invalid ID.' },
    ]);
    expect(result.accepted).toHaveLength(249);
    expect(result.accepted).not.toContain('SKU-151');
    expect(woocommerce.manifest.limits.stockBatchSize).toBe(100);
  });

  it('groups variations per parent product; simple products go through products/batch', async () => {
    const simple = batches('/products/batch', 1);
    const shirts = batches('/products/22/variations/batch', 1);
    const mugs = batches('/products/40/variations/batch', 1);
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, [
      { sku: 'SHIRT-S', productId: '22', variantId: '23', quantity: 5 },
      { sku: 'MUG-RED', productId: '40', variantId: '41', quantity: 2 },
      { sku: 'POSTER', productId: '93', quantity: 9 },
      { sku: 'SHIRT-M', productId: '22', variantId: '24', quantity: 0 },
    ]);
    for (const b of [simple, shirts, mugs]) b.scope.done();
    expect(updates(simple.seen[0])).toEqual([{ id: 93, manage_stock: true, stock_quantity: 9 }]);
    expect(updates(shirts.seen[0])).toEqual([
      { id: 23, manage_stock: true, stock_quantity: 5 },
      { id: 24, manage_stock: true, stock_quantity: 0 },
    ]);
    expect(updates(mugs.seen[0])).toEqual([{ id: 41, manage_stock: true, stock_quantity: 2 }]);
    expect(result.rejected).toEqual([]);
    expect([...result.accepted].sort()).toEqual(['MUG-RED', 'POSTER', 'SHIRT-M', 'SHIRT-S']);
  });

  it('splits one parent’s 150 variations into calls of 100 and 50', async () => {
    const { seen, scope } = batches('/products/22/variations/batch', 2);
    const { ctx } = context();
    const items = Array.from({ length: 150 }, (_, i) => ({
      sku: `V-${i}`,
      productId: '22',
      variantId: String(500 + i),
      quantity: 1,
    }));
    const result = await woocommerce.pushStock(ctx, items);
    scope.done();
    expect(seen.map((r) => updates(r).length)).toEqual([100, 50]);
    expect(result.accepted).toHaveLength(150);
  });

  it('a refused call rejects its batch only; the other groups still go through', async () => {
    const gone = batches('/products/22/variations/batch', 1, () => [
      404,
      { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 404 } },
    ]);
    const simple = batches('/products/batch', 1);
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, [
      { sku: 'SHIRT-S', productId: '22', variantId: '23', quantity: 5 },
      { sku: 'POSTER', productId: '93', quantity: 9 },
    ]);
    gone.scope.done();
    simple.scope.done();
    expect(result.accepted).toEqual(['POSTER']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.sku).toBe('SHIRT-S');
    expect(result.rejected[0]?.reason).toMatch(/^http_404: /);
  });

  it('an item missing from the answer is rejected, not assumed done', async () => {
    batches('/products/batch', 1, (sent) => [200, { update: ok(sent).update.slice(0, 1) }]);
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, simpleItems(2));
    expect(result).toEqual({
      accepted: ['SKU-1'],
      rejected: [{ sku: 'SKU-2', reason: 'no_result_in_response' }],
    });
  });

  it('rejects items without a product id, with a bad quantity, or twice the same, before calling', async () => {
    const { seen } = batches('/products/batch', 1);
    const { ctx } = context();
    const result = await woocommerce.pushStock(ctx, [
      { sku: 'NO-ID', quantity: 1 },
      { sku: 'VARIANT-ONLY', variantId: '23', quantity: 1 },
      { sku: 'HALF', productId: '95', quantity: 1.5 },
      { sku: 'OK', productId: '93', quantity: 3 },
      { sku: 'SAME', productId: '93', quantity: 4 },
    ]);
    expect(result).toEqual({
      accepted: ['OK'],
      rejected: [
        { sku: 'NO-ID', reason: 'missing_product_id' },
        { sku: 'VARIANT-ONLY', reason: 'missing_product_id' },
        { sku: 'HALF', reason: 'invalid_quantity' },
        { sku: 'SAME', reason: 'duplicate_product_id' },
      ],
    });
    expect(updates(seen[0])).toHaveLength(1);
  });

  it('makes no call when no item is pushable', async () => {
    const { ctx } = context();
    await expect(woocommerce.pushStock(ctx, [{ sku: 'X', quantity: 1 }])).resolves.toEqual({
      accepted: [],
      rejected: [{ sku: 'X', reason: 'missing_product_id' }],
    });
  });

  it('refused credentials end the push (401 -> ChannelAuthError, no retry)', async () => {
    const { seen } = batches('/products/batch', 1, () => [
      401,
      { code: 'woocommerce_rest_cannot_edit', message: 'Sorry, you are not allowed to edit this resource.' },
    ]);
    const { ctx, waits } = context();
    await expect(woocommerce.pushStock(ctx, simpleItems(1))).rejects.toBeInstanceOf(ChannelAuthError);
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('in query auth mode carries the keys as parameters', async () => {
    const { seen } = batches('/products/batch', 1);
    const { ctx } = context({ authMode: 'query' });
    await woocommerce.pushStock(ctx, simpleItems(1));
    expect(seen[0]?.query.consumer_secret).toBe(CONSUMER_SECRET);
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });
});
