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
