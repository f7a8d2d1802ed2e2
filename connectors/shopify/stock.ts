import { randomUUID } from 'node:crypto';
import { PermanentError } from '../../src/errors/permanent-error.js';
import type { ConnectorContext, StockItem, StockPushResult } from '../contract.js';
import { shopifyGraphql } from './graphql.js';
import { toGid } from './normalize.js';
import type { ShopifySettings } from './settings.js';

/** Shopify refuses input arrays longer than 250 (shopify.dev/docs/api/usage/limits). */
export const STOCK_BATCH_SIZE = 250;
/** Times a batch is sent again without the items Shopify refused. */
const MAX_RESENDS = 3;

/**
 * The idempotency key goes in as a literal, as in Shopify's documented example; it is a UUID we
 * generate, so it needs no escaping. Required from API version 2026-04.
 */
export function setQuantitiesMutation(idempotencyKey: string): string {
  return `
mutation SetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "${idempotencyKey}") {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}`;
}

interface UserError {
  field?: string[] | null;
  message?: string;
  code?: string | null;
}

interface SetQuantitiesData {
  inventorySetQuantities: {
    inventoryAdjustmentGroup: { id: string } | null;
    userErrors: UserError[];
  } | null;
}

interface Pending {
  sku: string;
  inventoryItemId: string;
  quantity: number;
}

/** The index into `quantities` a user error points at (`["input","quantities","3","locationId"]`). */
function quantityIndex(field: UserError['field']): number | null {
  if (!Array.isArray(field)) return null;
  const at = field.indexOf('quantities');
  if (at < 0) return null;
  const index = Number(field[at + 1]);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

function describeError(e: UserError): string {
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? 'refused'}`;
}

/**
 * Answers about the idempotency key rather than the input (`@idempotent`, 2026-04+): a retried
 * request met its first attempt still running, or that attempt failed, or the key was used with
 * another input. They carry no field path: the batch as a whole was not applied under that key,
 * and a fresh key is the cure.
 */
const RETRY_WITH_NEW_KEY = new Set([
  'IDEMPOTENCY_CONCURRENT_REQUEST',
  'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED',
  'IDEMPOTENCY_KEY_PARAMETER_MISMATCH',
]);

const isKeyProblem = (e: UserError) => typeof e.code === 'string' && RETRY_WITH_NEW_KEY.has(e.code);

async function pushBatch(
  ctx: ConnectorContext<ShopifySettings>,
  locationId: string,
  batch: Pending[],
  result: StockPushResult,
): Promise<void> {
  let pending = batch;
  for (let send = 0; pending.length > 0; send++) {
    // A new key per distinct request; HTTP retries of this request reuse it.
    const key = randomUUID();
    const data = await shopifyGraphql<SetQuantitiesData>(
      ctx,
      setQuantitiesMutation(key),
      {
        input: {
          name: 'available',
          reason: 'correction',
          referenceDocumentUri: `stockbridge://channels/${ctx.channelId}/stock-push/${key}`,
          quantities: pending.map((p) => ({
            inventoryItemId: p.inventoryItemId,
            locationId,
            quantity: p.quantity,
            changeFromQuantity: null,
          })),
        },
      },
      { cost: 10 },
    );
    const errors = data.inventorySetQuantities?.userErrors ?? [];
    if (errors.length === 0) {
      result.accepted.push(...pending.map((p) => p.sku));
      return;
    }

    const keyProblems = errors.filter(isKeyProblem);
    if (keyProblems.length > 0) {
      // Not a refusal of any item: send the same batch again under a fresh key; if that keeps
      // failing, the items stay pending for the next push instead of being dropped as refused.
      if (send >= MAX_RESENDS) {
        const reason = keyProblems.map(describeError).join('; ');
        result.retry = [...(result.retry ?? []), ...pending.map((p) => ({ sku: p.sku, reason }))];
        return;
      }
      continue;
    }

    const refused = new Map<number, string[]>();
    const general: string[] = [];
    for (const e of errors) {
      const index = quantityIndex(e.field);
      if (index !== null && index < pending.length)
        refused.set(index, [...(refused.get(index) ?? []), describeError(e)]);
      else general.push(describeError(e));
    }
    if (refused.size === 0 || general.length > 0 || send >= MAX_RESENDS) {
      // Not tied to particular items (or still failing): the whole remaining batch is refused.
      const reason = [...general, ...[...refused.values()].flat()].join('; ');
      result.rejected.push(...pending.map((p) => ({ sku: p.sku, reason })));
      return;
    }
    for (const [index, reasons] of refused) {
      result.rejected.push({ sku: (pending[index] as Pending).sku, reason: reasons.join('; ') });
    }
    // Shopify does not document that an answer with userErrors applied part of the batch: count
    // none of it as done and send the others again without the refused items (setting an absolute
    // quantity twice is harmless).
    pending = pending.filter((_, i) => !refused.has(i));
  }
}

/**
 * Sets the `available` quantity of each item at the configured location with
 * `inventorySetQuantities` (no compare-and-set: we are the source of truth), in batches of at
 * most 250. Items Shopify refuses, or that have no inventory item id, are rejected one by one;
 * the rest still go through. A batch Shopify did not apply because of its idempotency key is
 * sent again under a fresh one, and left for the next push (`retry`) if that keeps failing.
 */
export async function pushShopifyStock(
  ctx: ConnectorContext<ShopifySettings>,
  items: StockItem[],
): Promise<StockPushResult> {
  const locationId = toGid('Location', ctx.settings.locationId);
  if (!locationId) {
    throw new PermanentError('missing_location', 'Shopify: set the channel’s locationId to push stock');
  }
  const result: StockPushResult = { accepted: [], rejected: [] };
  const seen = new Set<string>();
  const valid: Pending[] = [];
  for (const item of items) {
    const inventoryItemId = toGid('InventoryItem', item.inventoryItemId);
    if (!inventoryItemId) {
      result.rejected.push({ sku: item.sku, reason: 'missing_inventory_item_id' });
    } else if (!Number.isInteger(item.quantity)) {
      result.rejected.push({ sku: item.sku, reason: 'invalid_quantity' });
    } else if (seen.has(inventoryItemId)) {
      result.rejected.push({ sku: item.sku, reason: 'duplicate_inventory_item_id' });
    } else {
      seen.add(inventoryItemId);
      valid.push({ sku: item.sku, inventoryItemId, quantity: item.quantity });
    }
  }
  for (let i = 0; i < valid.length; i += STOCK_BATCH_SIZE) {
    await pushBatch(ctx, locationId, valid.slice(i, i + STOCK_BATCH_SIZE), result);
  }
  return result;
}
