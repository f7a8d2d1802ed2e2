import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StockItem } from '../../../connectors/contract.js';
import shopify from '../../../connectors/shopify/index.js';
import { PermanentError } from '../../../src/errors/index.js';
import { COST_OK, context, graphqlReplies } from './shopify-fixtures.js';

interface Quantity {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity: null;
}
interface SetInput {
  input: { name: string; reason: string; referenceDocumentUri: string; quantities: Quantity[] };
}

function sent(req: { variables: Record<string, unknown> } | undefined): SetInput['input'] {
  if (!req) throw new Error('no request was sent');
  return (req.variables as unknown as SetInput).input;
}

const ok = {
  data: {
    inventorySetQuantities: {
      inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
      userErrors: [],
    },
  },
  extensions: COST_OK,
};

function items(n: number): StockItem[] {
  return Array.from({ length: n }, (_, i) => ({
    sku: `SKU-${i + 1}`,
    inventoryItemId: `gid://shopify/InventoryItem/${30322695 + i}`,
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

describe('shopify pushStock', () => {
  it('sets available quantities with inventorySetQuantities, an idempotency key and no compare', async () => {
    const { seen, scope } = graphqlReplies([[200, ok]]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, [
      { sku: 'A', inventoryItemId: 'gid://shopify/InventoryItem/30322695', quantity: 7 },
      { sku: 'B', inventoryItemId: '30322696', quantity: 0 },
    ]);
    scope.done();
    expect(result).toEqual({ accepted: ['A', 'B'], rejected: [] });
    const req = seen[0]!;
    expect(req.query).toContain('inventorySetQuantities(input: $input)');
    expect(req.query).toMatch(/@idempotent\(key: "[0-9a-f-]{36}"\)/);
    const input = sent(req);
    expect(input).toMatchObject({ name: 'available', reason: 'correction' });
    expect(input.referenceDocumentUri).toMatch(/^stockbridge:\/\/channels\/7\/stock-push\//);
    expect(input.quantities).toEqual([
      {
        inventoryItemId: 'gid://shopify/InventoryItem/30322695',
        locationId: 'gid://shopify/Location/655441491',
        quantity: 7,
        changeFromQuantity: null,
      },
      {
        inventoryItemId: 'gid://shopify/InventoryItem/30322696',
        locationId: 'gid://shopify/Location/655441491',
        quantity: 0,
        changeFromQuantity: null,
      },
    ]);
    // changeFromQuantity must be sent as an explicit null, not left out.
    expect('changeFromQuantity' in (input.quantities[0] as object)).toBe(true);
  });

  it('sends at most 250 quantities per call', async () => {
    const { seen } = graphqlReplies([
      [200, ok],
      [200, ok],
    ]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(300));
    const sizes = seen.map((r) => sent(r).quantities.length);
    expect(sizes).toEqual([250, 50]);
    expect(result.accepted).toHaveLength(300);
    expect(shopify.manifest.limits.stockBatchSize).toBe(250);
    // A fresh idempotency key per distinct call.
    expect(seen[0]?.query).not.toBe(seen[1]?.query);
  });

  it('rejects the SKU a userError points at; the others still go through', async () => {
    const refused = {
      data: {
        inventorySetQuantities: {
          inventoryAdjustmentGroup: null,
          userErrors: [
            {
              field: ['input', 'quantities', '1', 'inventoryItemId'],
              message: 'The specified inventory item could not be found.',
              code: 'INVALID_INVENTORY_ITEM',
            },
          ],
        },
      },
      extensions: COST_OK,
    };
    const { seen } = graphqlReplies([
      [200, refused],
      [200, ok],
    ]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(3));
    expect(result.accepted).toEqual(['SKU-1', 'SKU-3']);
    expect(result.rejected).toEqual([
      { sku: 'SKU-2', reason: 'INVALID_INVENTORY_ITEM: The specified inventory item could not be found.' },
    ]);
    // Nothing was applied the first time, so the others were sent again without SKU-2.
    const resent = sent(seen[1]).quantities.map((q) => q.inventoryItemId);
    expect(resent).toEqual(['gid://shopify/InventoryItem/30322695', 'gid://shopify/InventoryItem/30322697']);
  });

  it('does not count the others as applied when the answer has userErrors: it sends them again', async () => {
    // Shopify does not document that an answer with userErrors applied part of the batch, even
    // when it carries an adjustment group.
    const withGroup = {
      data: {
        inventorySetQuantities: {
          inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/2' },
          userErrors: [
            {
              field: ['input', 'quantities', '0', 'locationId'],
              message: 'not stocked',
              code: 'ITEM_NOT_STOCKED_AT_LOCATION',
            },
          ],
        },
      },
    };
    const { seen } = graphqlReplies([
      [200, withGroup],
      [200, ok],
    ]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(2));
    expect(seen).toHaveLength(2);
    expect(sent(seen[1]).quantities.map((q) => q.inventoryItemId)).toEqual([
      'gid://shopify/InventoryItem/30322696',
    ]);
    expect(result).toEqual({
      accepted: ['SKU-2'],
      rejected: [{ sku: 'SKU-1', reason: 'ITEM_NOT_STOCKED_AT_LOCATION: not stocked' }],
    });
  });

  /** The documented payload of an answer about the idempotency key: no field path, the batch as a whole. */
  const keyProblem = (code: string, message: string) => ({
    data: {
      inventorySetQuantities: {
        inventoryAdjustmentGroup: null,
        userErrors: [{ field: null, message, code }],
      },
    },
    extensions: COST_OK,
  });

  it.each([
    ['IDEMPOTENCY_CONCURRENT_REQUEST', 'A request with this idempotency key is already in progress.'],
    ['IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED', 'The previous attempt with this idempotency key failed.'],
    ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH', 'The idempotency key was used with different parameters.'],
  ])('sends a batch answered %s again under a fresh key, refusing nothing', async (code, message) => {
    const { seen, scope } = graphqlReplies([
      [200, keyProblem(code, message)],
      [200, ok],
    ]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(3));
    scope.done();
    expect(result).toEqual({ accepted: ['SKU-1', 'SKU-2', 'SKU-3'], rejected: [] });
    // The whole batch again, under another key.
    expect(sent(seen[1]).quantities).toEqual(sent(seen[0]).quantities);
    const key = (q: string) => /@idempotent\(key: "([0-9a-f-]{36})"\)/.exec(q)?.[1];
    expect(key(seen[0]!.query)).toBeTruthy();
    expect(key(seen[1]!.query)).not.toBe(key(seen[0]!.query));
    expect(sent(seen[1]).referenceDocumentUri).not.toBe(sent(seen[0]).referenceDocumentUri);
  });

  it('leaves a batch whose key keeps failing for the next push, not refused', async () => {
    const failing = keyProblem('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED', 'The previous attempt failed.');
    const { seen } = graphqlReplies(Array.from({ length: 4 }, () => [200, failing] as [number, unknown]));
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(2));
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((r) => r.query)).size).toBe(4);
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toEqual([]);
    expect(result.retry).toEqual([
      { sku: 'SKU-1', reason: expect.stringContaining('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED') },
      { sku: 'SKU-2', reason: expect.stringContaining('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED') },
    ]);
  });

  it('rejects the whole batch for an error not tied to an item', async () => {
    const general = {
      data: {
        inventorySetQuantities: {
          inventoryAdjustmentGroup: null,
          userErrors: [
            {
              field: ['input', 'reason'],
              message: 'The specified reason is invalid.',
              code: 'INVALID_REASON',
            },
          ],
        },
      },
    };
    graphqlReplies([[200, general]]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, items(2));
    expect(result.accepted).toEqual([]);
    expect(result.rejected.map((r) => r.sku)).toEqual(['SKU-1', 'SKU-2']);
  });

  it('rejects items without an inventory item id, or with a bad quantity, before calling Shopify', async () => {
    const { seen } = graphqlReplies([[200, ok]]);
    const { ctx } = context();
    const result = await shopify.pushStock(ctx, [
      { sku: 'NO-ID', variantId: '808950810', quantity: 1 },
      { sku: 'HALF', inventoryItemId: '1', quantity: 1.5 },
      { sku: 'OK', inventoryItemId: '2', quantity: 3 },
      { sku: 'SAME-ITEM', inventoryItemId: 'gid://shopify/InventoryItem/2', quantity: 4 },
    ]);
    expect(result).toEqual({
      accepted: ['OK'],
      rejected: [
        { sku: 'NO-ID', reason: 'missing_inventory_item_id' },
        { sku: 'HALF', reason: 'invalid_quantity' },
        { sku: 'SAME-ITEM', reason: 'duplicate_inventory_item_id' },
      ],
    });
    expect(sent(seen[0]).quantities).toHaveLength(1);
  });

  it('makes no call when no item is pushable', async () => {
    const { ctx } = context();
    await expect(shopify.pushStock(ctx, [{ sku: 'X', quantity: 1 }])).resolves.toEqual({
      accepted: [],
      rejected: [{ sku: 'X', reason: 'missing_inventory_item_id' }],
    });
  });

  it('needs a locationId', async () => {
    const { ctx } = context({ locationId: undefined });
    await expect(shopify.pushStock(ctx, items(1))).rejects.toBeInstanceOf(PermanentError);
  });
});
