import { createHash } from 'node:crypto';
import { z } from 'zod';
import { unprocessable } from '../errors/domain-errors.js';
import { computeOrderMoney, type MoneyLine, type OrderAmounts } from './order-money.js';

/**
 * The limits of what the API takes, in one place: the schemas below and the stock routes use them,
 * the README ("Limits") documents them, and every column that stores such a value is at least this
 * wide (test/integration/input-limits.test.ts checks the columns).
 */
export const LIMITS = {
  linesPerOrder: 1000,
  quantityPerLine: 1_000_000,
  /** Unit prices and order totals, in minor units: exact in a JSON number (2^53 - 1). */
  maxMinor: Number.MAX_SAFE_INTEGER,
  externalIdLength: 191,
  /** The SKU code as an order line names it (a channel's code may be longer than ours). */
  lineSkuLength: 191,
  /** Our own codes: SKU, warehouse, customer. */
  codeLength: 64,
  nameLength: 255,
  emailLength: 255,
  phoneLength: 64,
  idempotencyKeyLength: 191,
  /** Receipt, transfer and adjustment references. */
  referenceLength: 191,
  stockLinesPerDocument: 5000,
  stockQuantityPerLine: 100_000_000,
  /** On hand in one warehouse never exceeds this (the column is a 32-bit integer). */
  maxOnHand: 2 ** 31 - 1,
} as const;

const NUL = '\u0000';

/** Text as the API takes it: no NUL characters (the databases and the logs do not keep them). */
export const text = () => z.string().refine((s) => !s.includes(NUL), 'must not contain NUL characters');

/** An amount of money in integer minor units. */
const minorAmount = () => z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor);

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');

/** The languages customers and staff read stockbridge's texts in. */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export const languageSchema = z.enum(LANGUAGES);

/** An IANA time zone name the runtime knows, such as Asia/Shanghai. */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const orderLineInputSchema = z.object({
  sku: text().trim().min(1, 'must not be empty').max(LIMITS.lineSkuLength),
  quantity: z
    .number()
    .int('must be a whole number')
    .positive('must be at least 1')
    .max(LIMITS.quantityPerLine),
  /** Minor units (cents). Optional: a line without one is sold at the customer's agreed price. */
  unitPrice: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor).optional(),
  /** Minor units off the whole line (not per unit). */
  discount: minorAmount().optional(),
  /** The line's tax in minor units; absent: computed from our tax rates. */
  tax: minorAmount().optional(),
});

export const customerInputSchema = z.object({
  code: text().trim().min(1).max(LIMITS.codeLength).optional(),
  name: text().trim().max(LIMITS.nameLength).optional(),
  email: z.email().max(LIMITS.emailLength).optional(),
  /** The channel's own id for the buyer (a shop's customer id); compared exactly. */
  channelCustomerId: text().trim().min(1).max(LIMITS.externalIdLength).optional(),
  phone: text().trim().min(1).max(LIMITS.phoneLength).optional(),
  language: languageSchema.optional(),
  timeZone: timeZoneSchema.optional(),
});

/** An order as the core understands it, from any channel. */
export const orderInputSchema = z
  .object({
    externalId: text().trim().min(1, 'must not be empty').max(LIMITS.externalIdLength),
    currency: currencySchema,
    placedAt: z.iso.datetime({ offset: true }).optional(),
    customer: customerInputSchema.optional(),
    lines: z.array(orderLineInputSchema).min(1, 'an order needs at least one line').max(LIMITS.linesPerOrder),
    /** Shipping charged on the order, minor units. */
    shipping: minorAmount().optional(),
    /** Discount on the order as a whole, minor units. */
    discount: minorAmount().optional(),
    /** The order's tax, minor units; absent: the sum of the lines' tax. */
    tax: minorAmount().optional(),
    /** The total the sender computed, kept beside ours. */
    channelTotal: minorAmount().optional(),
    /** Unit prices and shipping include tax; absent: the channel's setting. */
    pricesIncludeTax: z.boolean().optional(),
    /** The sales contract (number) the order draws on; absent: none, or its channel's default. */
    contract: text().trim().min(1).max(LIMITS.codeLength).optional(),
    /** Promotion codes the order names (src/domain/promotions.ts). */
    promotionCodes: z.array(text().trim().min(1).max(LIMITS.codeLength)).max(20).optional(),
  })
  .superRefine((order, ctx) => {
    for (const [i, line] of order.lines.entries()) {
      if (BigInt(line.discount ?? 0) > BigInt(line.quantity) * BigInt(line.unitPrice ?? 0))
        ctx.addIssue({
          code: 'custom',
          path: ['lines', i, 'discount'],
          message: 'must not be more than quantity × unitPrice',
        });
    }
    const { total } = computeOrderMoney(order.lines, order);
    if (total > BigInt(LIMITS.maxMinor))
      ctx.addIssue({
        code: 'custom',
        path: ['lines'],
        message: `the order total is more than ${LIMITS.maxMinor} minor units`,
      });
    if (total < 0n)
      ctx.addIssue({
        code: 'custom',
        path: ['discount'],
        message: 'the discount is more than the order is worth: the total would be negative',
      });
  });

export type OrderLineInput = z.infer<typeof orderLineInputSchema>;
export type CustomerInput = z.infer<typeof customerInputSchema>;
export type OrderInput = z.infer<typeof orderInputSchema>;

/** Something wrong with an order that a person has to look at. */
export interface OrderProblem {
  /**
   * Machine-readable, e.g. `unknown_sku`, `invalid_quantity`, `unmapped_sku`. Sales contracts
   * (src/domain/contracts.ts) hold with `contract_exceeded` (figures in the problem),
   * `contract_unknown`, `contract_customer`, `contract_expired`, `contract_not_yet_valid`,
   * `contract_currency`, `contract_sku` and `contract_ambiguous`.
   */
  code: string;
  message: string;
  lineNo?: number;
  sku?: string;
}

/**
 * An order a channel sent, normalised as far as it could be. Unlike `OrderInput` it may carry
 * problems (a malformed line, an unmapped product): such an order is still stored, and goes on
 * hold with those problems instead of being lost.
 */
export interface CanonicalOrder extends OrderInput {
  problems?: OrderProblem[];
  /** Paid on the channel (`orders.paid_on_channel`): no credit check. Channels only, not the API. */
  paidOnChannel?: boolean;
}

/** The reason an order is held for, given its problems: the first problem's code. */
export function holdReason(problems: readonly OrderProblem[]): string {
  return problems[0]?.code ?? 'invalid_order';
}

/**
 * Checks an order's lines against the SKUs we know, before any stock is touched. Pure: returns
 * every problem found, empty when the order can be reserved.
 */
export function validateForReservation(
  lines: readonly { lineNo: number; sku: string; ordered: number }[],
  knownSkus: ReadonlySet<string>,
): OrderProblem[] {
  const problems: OrderProblem[] = [];
  if (lines.length === 0) problems.push({ code: 'no_lines', message: 'the order has no lines' });
  for (const line of lines) {
    if (!Number.isInteger(line.ordered) || line.ordered <= 0) {
      problems.push({
        code: 'invalid_quantity',
        message: `line ${line.lineNo}: quantity must be at least 1`,
        lineNo: line.lineNo,
        sku: line.sku,
      });
    }
    if (!knownSkus.has(line.sku)) {
      problems.push({
        code: 'unknown_sku',
        message: `line ${line.lineNo}: unknown SKU ${line.sku}`,
        lineNo: line.lineNo,
        sku: line.sku,
      });
    }
  }
  return problems;
}

/** Lines with the price they carry, 0 where none was given (the price check fills it in later). */
export function pricedOrZero<L extends { unitPrice?: number | undefined }>(
  lines: readonly L[],
): (L & { unitPrice: number })[] {
  return lines.map((l) => ({ ...l, unitPrice: l.unitPrice ?? 0 }));
}

/**
 * An order's total in minor units: its lines less their discounts, less the order's discount, plus
 * shipping and (prices exclusive of tax) tax — see `computeOrderMoney`. Orders from the API are
 * checked against the bound by the schema; anything else beyond it (a channel's order, an
 * amendment) is refused here rather than stored rounded or overflowing the column.
 */
export function orderTotal(lines: readonly MoneyLine[], amounts: OrderAmounts = {}): number {
  const { total } = computeOrderMoney(lines, amounts);
  if (total > BigInt(LIMITS.maxMinor) || total < 0n)
    throw unprocessable(
      'total_out_of_range',
      total < 0n
        ? 'the order total is negative: its discounts are more than it is worth'
        : `the order total is more than ${LIMITS.maxMinor} minor units`,
      { max: LIMITS.maxMinor },
    );
  return Number(total);
}

/**
 * What an order request asks for, as a digest: the same order sent again (keys in any order, the
 * same values after trimming) gives the same digest, any other difference another.
 */
export function orderFingerprint(order: OrderInput): string {
  return createHash('sha256').update(stableJson(order)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
