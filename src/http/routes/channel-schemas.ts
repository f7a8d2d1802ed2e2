import { z } from 'zod';
import { codeParam } from '../params.js';

/** What a channel is told about stock: feeding warehouses and its publication rule. */
const stockSettingsBody = z.object({
  /** Warehouse codes that feed the channel; null or absent: all warehouses. */
  warehouses: z.array(z.string().min(1).max(64)).max(1000).nullable().optional(),
  safetyStock: z.number().int().min(0).max(100_000_000).nullable().optional(),
  allocationPercent: z.number().int().min(0).max(100).nullable().optional(),
  maxQuantity: z.number().int().min(0).max(100_000_000).nullable().optional(),
  nightlyResync: z.boolean().optional(),
});

export const skuPublicationBody = z
  .object({
    safetyStock: z.number().int().min(0).max(100_000_000).nullable().optional(),
    allocationPercent: z.number().int().min(0).max(100).nullable().optional(),
    maxQuantity: z.number().int().min(0).max(100_000_000).nullable().optional(),
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    'give at least one of safetyStock, allocationPercent, maxQuantity',
  );

/** A channel's tax settings (README "Order money and tax"): `PUT /api/channels/{id}/tax`. */
export const channelTaxBody = z
  .object({
    /** The tax zone of the channel's orders whose customer has none; null: `default`. */
    taxZone: codeParam.nullable().optional(),
    /** Prices on orders that do not say (API, Excel, a pull without the flag) include tax. */
    pricesIncludeTax: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of taxZone, pricesIncludeTax');

/** A channel's price policy: what its orders' prices meet (see "Price lists" in the README). */
export const pricePolicyBody = z.object({
  policy: z.enum(['enforce', 'accept', 'hold']),
  /** `hold`: differences up to this percent of our price pass. */
  tolerancePercent: z
    .number()
    .min(0)
    .max(10_000)
    .multipleOf(0.01, 'at most 2 decimals')
    .nullable()
    .default(null),
  /** `hold`: differences up to this many minor units pass. */
  toleranceAmount: z
    .number()
    .int('must be integer minor units')
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .default(null),
});

export const createChannelBody = z.object({
  type: z.string().trim().min(1).max(32),
  name: z.string().trim().min(1).max(255),
  enabled: z.boolean().default(true),
  settings: z.record(z.string(), z.unknown()),
  stock: stockSettingsBody.optional(),
  pricing: pricePolicyBody.optional(),
  tax: channelTaxBody.optional(),
});

export const updateChannelBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    stock: stockSettingsBody.optional(),
    pricing: pricePolicyBody.optional(),
    tax: channelTaxBody.optional(),
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    'give at least one of name, enabled, settings, stock, pricing, tax',
  );

const channelItemId = z
  .string()
  .trim()
  .min(1)
  .max(200)
  // A GraphQL global id (`gid://shopify/ProductVariant/123`) is kept as its number, like the connectors do.
  .transform((v) => /^gid:\/\/[^/]+\/[^/]+\/(\d+)(\?.*)?$/.exec(v)?.[1] ?? v);

export const skuMappingBody = z
  .object({
    productId: channelItemId.nullable().optional(),
    variantId: channelItemId.nullable().optional(),
    inventoryItemId: channelItemId.nullable().optional(),
    channelSku: z.string().trim().min(1).max(191).nullable().optional(),
  })
  .refine(
    (b) => Boolean(b.productId || b.variantId || b.inventoryItemId),
    'give at least one of productId, variantId, inventoryItemId',
  );

/** `PUT /api/channels/{id}/customers/{channelCustomerId}`: the trade customer the buyer is. */
export const channelCustomerBody = z.object({ customer: codeParam }).strict();

// Answers of the channel routes.

const time = z.string().describe('UTC, ISO 8601');

/** What an order event's applying came to (`ApplyOutcome` in src/channels/apply-order.ts). */
export const applyOutcomeSchema = z
  .enum([
    'created',
    'updated',
    'cancelled',
    'unchanged',
    'stale',
    'duplicate',
    'not_applied',
    'failed',
    'ignored',
  ])
  .meta({ id: 'ApplyOutcome' });

/** Counts by outcome; an outcome that did not happen is absent. */
const outcomeCounts = z
  .record(z.string(), z.number().int())
  .describe('orders by outcome (`created`: 2, ...)');

export const channelView = z
  .object({
    id: z.number().int(),
    type: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    webhookUrl: z.string().nullable().describe('where the channel sends its webhooks; null: it sends none'),
    capabilities: z.array(z.string()),
    settings: z
      .record(z.string(), z.unknown())
      .describe(
        "the connector's settings; its secret fields are answered as '********' when set, never their values",
      ),
    stock: z.object({
      warehouses: z.array(z.string()).nullable().describe('codes of the feeding warehouses; null: all'),
      safetyStock: z.number().int().nullable(),
      allocationPercent: z.number().int().nullable(),
      maxQuantity: z.number().int().nullable(),
      nightlyResync: z.boolean(),
    }),
    pricing: z.object({
      policy: z.enum(['enforce', 'accept', 'hold']),
      tolerancePercent: z.number().nullable(),
      toleranceAmount: z.number().int().nullable().describe('minor units'),
      isDefault: z.boolean().describe('no policy set: the default of its kind'),
    }),
    tax: z.object({ taxZone: z.string().nullable(), pricesIncludeTax: z.boolean() }),
    status: z.object({
      lastPullAt: time.nullable(),
      nextPullAt: time.nullable(),
      cursor: z.string().nullable(),
      lastPushAt: time.nullable(),
      lastError: z.object({ message: z.string(), at: time.nullable() }).nullable(),
      failing: z.object({ reason: z.string(), since: time.nullable() }).nullable(),
      orders: z.object({ received: z.number().int(), onHold: z.number().int() }),
    }),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'Channel' });

export const connectionTestAnswer = z
  .object({ ok: z.boolean(), message: z.string() })
  .meta({ id: 'ChannelConnectionTest' });

export const pullAnswer = z
  .object({
    channelId: z.number().int(),
    pages: z.number().int(),
    orders: z.number().int(),
    outcomes: outcomeCounts,
    errors: z
      .array(z.object({ externalId: z.string(), error: z.string() }))
      .describe('orders that could not be applied (the rest of the pull went on)'),
    cursorBefore: z.string().nullable(),
    cursorAfter: z.string().nullable(),
    deliveries: z
      .object({ orders: z.number().int(), reports: z.number().int(), outcomes: outcomeCounts })
      .optional()
      .describe('delivery reports read after the orders (channels that report delivery)'),
    queued: z.number().int().describe('orders queued for processing'),
  })
  .meta({ id: 'ChannelPull' });

export const replaySummary = z
  .object({
    orders: z.number().int(),
    outcomes: outcomeCounts,
    errors: z.array(z.object({ orderId: z.number().int(), error: z.string() })),
  })
  .meta({ id: 'ReplaySummary' });

export const skuMappingView = z
  .object({
    sku: z.string(),
    channelSku: z.string().nullable(),
    productId: z.string().nullable(),
    variantId: z.string().nullable(),
    inventoryItemId: z.string().nullable(),
    source: z
      .enum(['auto', 'manual'])
      .describe('`auto`: matched by SKU code from an order; `manual`: set by a person'),
    updatedAt: time,
  })
  .meta({ id: 'ChannelSkuMapping' });

export const skuPublicationView = skuMappingView
  .extend({
    safetyStock: z.number().int().nullable(),
    allocationPercent: z.number().int().nullable(),
    maxQuantity: z.number().int().nullable(),
  })
  .meta({ id: 'ChannelSkuPublication' });

const skuProblem = z.object({ sku: z.string(), reason: z.string() });

export const stockPushAnswer = z
  .object({
    channelId: z.number().int(),
    pending: z.number().int().describe('(channel, SKU) pairs that were pending'),
    sent: z.number().int(),
    accepted: z.number().int(),
    rejected: z.array(skuProblem),
    deferred: z
      .array(skuProblem)
      .describe('sent but not applied for a passing reason: they go with the next push'),
    calls: z.number().int(),
    stillPending: z.number().int(),
    skipped: z.string().optional().describe('why nothing was pushed'),
  })
  .meta({ id: 'StockPush' });

export const resyncAnswer = z
  .object({ channelId: z.number().int(), pending: z.number().int().describe('SKUs marked to be pushed') })
  .meta({ id: 'StockResync' });
