import { z } from 'zod';
import { ORDER_STATUSES } from '../../domain/order-status.js';

/** The answers of the order routes (orders, returns, status links), as the OpenAPI document states them. */

const isoTime = z.string().describe('UTC, ISO 8601');
const minor = z.number().int().describe('integer minor units');

export const orderStatusSchema = z.enum(ORDER_STATUSES).meta({ id: 'OrderStatus' });

/** A problem with an order (a hold's reason, a quote's findings). */
export const orderProblemSchema = z
  .object({
    code: z.string().describe('machine-readable: `unknown_sku`, `credit_limit`, `contract_exceeded`, ...'),
    message: z.string(),
    lineNo: z.number().int().optional(),
    sku: z.string().optional(),
  })
  .meta({ id: 'OrderProblem' });

export const orderAcceptedSchema = z
  .object({
    id: z.number().int(),
    status: orderStatusSchema,
    duplicate: z.boolean().describe('true: the order was already known; nothing new was stored'),
  })
  .meta({ id: 'OrderAccepted' });

export const orderSummarySchema = z
  .object({
    id: z.number().int(),
    channel: z.string(),
    externalId: z.string(),
    status: orderStatusSchema,
    holdReason: z.string().nullable(),
    customer: z.string().nullable().describe('customer code'),
    currency: z.string(),
    totalAmount: minor,
    placedAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'OrderSummary' });

export const orderListSchema = z.object({
  items: z.array(orderSummarySchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null: the last page'),
});

const promotionApplied = z.object({ code: z.string(), name: z.string(), discount: minor });

const orderNotification = z.object({
  id: z.number().int(),
  event: z.string(),
  medium: z.enum(['email', 'sms', 'webhook']),
  recipient: z.string(),
  orderId: z.number().int().nullable(),
  ruleId: z.number().int().nullable(),
  language: z.enum(['zh-CN', 'en']),
  state: z.enum(['pending', 'sent', 'failed', 'suppressed']),
  reason: z.string().nullable(),
  attempts: z.number().int(),
  nextAttemptAt: isoTime.nullable(),
  messageId: z.string(),
  subject: z.string().nullable(),
  providerAnswer: z.string().nullable(),
  sentAt: isoTime.nullable(),
  createdAt: isoTime,
});

export const orderDetailSchema = z
  .object({
    id: z.number().int(),
    channel: z.string(),
    externalId: z.string(),
    status: orderStatusSchema,
    holdReason: z.string().nullable(),
    holdDetails: z.unknown().describe('what the hold found (its problems and figures); null without a hold'),
    warnings: z.unknown().describe('what processing noted without holding the order; null: nothing'),
    customer: z
      .object({
        code: z.string().nullable().describe('null for a channel customer without our code'),
        name: z.string().nullable(),
        email: z.string().nullable(),
        group: z.string().nullable(),
      })
      .nullable(),
    contact: z.object({
      name: z.string().nullable(),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      language: z.string().nullable(),
      timeZone: z.string().nullable(),
    }),
    contract: z.string().nullable().describe('the sales contract number'),
    salesperson: z.object({ code: z.string(), name: z.string().nullable() }).nullable(),
    approvals: z.array(
      z.object({
        id: z.number().int(),
        decision: z.enum(['approved', 'rejected']),
        holdReason: z.string().nullable(),
        reason: z.string(),
        actor: z.string(),
        amount: minor,
        currency: z.string(),
        at: isoTime,
      }),
    ),
    currency: z.string(),
    totalAmount: minor,
    placedAt: isoTime,
    createdAt: isoTime,
    updatedAt: isoTime,
    lines: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        ordered: z.number().int(),
        reserved: z.number().int(),
        backordered: z.number().int(),
        shipped: z.number().int(),
        cancelled: z.number().int(),
        returned: z.number().int(),
        unitPrice: minor,
        orderUnitPrice: minor.nullable().optional().describe('the price the order carried'),
        checkedPrice: minor.nullable().optional().describe('our price from the price lists'),
        priceRuleId: z.number().int().nullable().optional(),
        priceVariance: z.number().int().nullable().optional(),
        contract: z.object({ number: z.string(), lineNo: z.number().int() }).nullable(),
        promotions: z.array(promotionApplied),
      }),
    ),
    promotions: z.array(promotionApplied).describe('promotions on the whole order'),
    money: z.object({
      currency: z.string(),
      pricesIncludeTax: z.boolean(),
      lines: z.array(
        z.object({
          lineNo: z.number().int(),
          sku: z.string(),
          quantity: z.number().int(),
          unitPrice: minor,
          discount: minor,
          amount: minor,
          tax: minor,
        }),
      ),
      subtotal: minor,
      discount: minor,
      shipping: minor,
      tax: minor,
      total: minor,
      channelTotal: minor.nullable(),
      difference: minor.nullable(),
    }),
    history: z.array(
      z.object({
        from: orderStatusSchema.nullable(),
        to: orderStatusSchema,
        reason: z.string().nullable(),
        actor: z.string(),
        at: isoTime,
      }),
    ),
    notifications: z.array(orderNotification),
    shipments: z.array(
      z.object({
        id: z.number().int(),
        carrier: z.string().nullable(),
        carrierCode: z.string().nullable(),
        trackingNumber: z.string().nullable(),
        trackingUrl: z.string().nullable(),
        at: isoTime,
        channel: z
          .object({
            state: z.string(),
            fulfilmentId: z.string().nullable(),
            reason: z.string().nullable(),
            attempts: z.number().int(),
            sentAt: isoTime.nullable(),
          })
          .nullable()
          .describe('null for an order of no channel; else what the channel was told'),
        delivery: z
          .object({
            status: z.string().nullable(),
            at: isoTime.nullable(),
            deliveredAt: isoTime.nullable(),
          })
          .nullable(),
        lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
      }),
    ),
  })
  .meta({ id: 'OrderDetail' });

export const orderQuoteSchema = z
  .object({
    status: orderStatusSchema.describe('what processing would make of the order now'),
    holdReason: z.string().nullable(),
    problems: z.array(orderProblemSchema).describe('every reason it would be held, from every step'),
    channel: z.string(),
    currency: z.string(),
    customer: z.object({ code: z.string().nullable(), known: z.boolean() }),
    totalAmount: minor,
    pricePolicy: z.string(),
    lines: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        quantity: z.number().int(),
        known: z.boolean().describe('false: an unknown SKU (the order would be held)'),
        price: z.object({
          carried: minor.nullable(),
          checked: minor.nullable(),
          unitPrice: minor,
          variance: z.number().int().nullable(),
          rule: z.object({ itemId: z.number().int(), priceList: z.string(), level: z.string() }).nullable(),
        }),
        stock: z.object({
          available: z.number().int(),
          warehouses: z.array(z.object({ warehouse: z.string(), available: z.number().int() })),
        }),
        reservation: z.object({
          reserved: z.number().int(),
          backordered: z.number().int(),
          warehouses: z.array(z.object({ warehouse: z.string(), quantity: z.number().int() })),
        }),
      }),
    ),
    rules: z
      .record(z.string(), z.unknown())
      .describe('what each order rule (contracts, promotions, credit) says, by rule name'),
    existingOrder: z.object({ id: z.number().int(), status: z.string() }).nullable(),
  })
  .meta({ id: 'OrderQuote' });

export const orderStatusAnswerSchema = z
  .object({ id: z.number().int(), status: orderStatusSchema })
  .meta({ id: 'OrderStatusChange' });

export const shipmentAnswerSchema = z
  .object({
    shipmentId: z.number().int(),
    status: orderStatusSchema.describe("the order's status after the shipment"),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
  })
  .meta({ id: 'ShipmentRecorded' });

export const cancelAnswerSchema = z
  .object({
    id: z.number().int(),
    status: orderStatusSchema,
    filledOrders: z.array(z.number().int()).describe('orders whose backorders took the released stock'),
  })
  .meta({ id: 'OrderCancelled' });

const returnLine = z.object({
  sku: z.string(),
  quantity: z.number().int(),
  warehouse: z.string().nullable(),
});

export const returnAnswerSchema = z
  .object({
    id: z.number().int().describe('the return'),
    orderId: z.number().int(),
    status: orderStatusSchema,
    duplicate: z.boolean().describe('true: a repeat of a return already recorded (same reference)'),
    lines: z.array(returnLine),
    filledOrders: z.array(z.number().int()),
    creditNotes: z.array(z.string()).describe('credit notes issued for returned units that were invoiced'),
  })
  .meta({ id: 'ReturnRecorded' });

export const orderReturnsSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.number().int(),
        reference: z.string().nullable(),
        source: z.string(),
        restock: z.boolean(),
        reason: z.string().nullable(),
        actor: z.string(),
        at: isoTime.nullable(),
        lines: z.array(returnLine),
        creditNotes: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'OrderReturns' });
