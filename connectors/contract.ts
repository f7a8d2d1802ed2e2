/**
 * The connector contract. A connector is one folder under `connectors/` whose `index.ts` default-
 * exports `defineConnector({...})`; `connectors/registry.ts` lists them by `manifest.type`. Adding a
 * channel kind means adding a folder and one line in the registry, nothing in `src/`.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { OrderProblem } from '../src/domain/order-input.js';
import type { HttpClient } from './http/types.js';

export type Capability = 'webhooks' | 'orderPull' | 'stockPush' | 'fulfilmentPush';

export interface ConnectorLimits {
  /** Sustained requests per second the channel allows (across all our workers). */
  requestsPerSecond: number;
  /** Requests that may go at once before the rate applies. Default: requestsPerSecond. */
  burst?: number;
  /** Most stock items one push call may carry. */
  stockBatchSize: number;
  /** Orders asked for per page when pulling. */
  pageSize: number;
}

export interface ConnectorManifest<S extends z.ZodType = z.ZodType> {
  /** Registry name, e.g. `shopify`; stored on the channel. */
  type: string;
  displayName: string;
  /** Settings an administrator gives; validated on create and update (422 with every bad field). */
  settingsSchema: S;
  /** Top-level settings keys that are secrets: encrypted at rest, never returned, never logged. */
  secretFields: readonly string[];
  /**
   * Settings that decide where the channel's requests go (its host, a base URL). Changing one
   * requires every `credentialFields` secret to be entered again with it. Default: none.
   */
  destinationFields?: readonly string[];
  /** The secrets sent with the channel's requests (a token, a key): a subset of `secretFields`. */
  credentialFields?: readonly string[];
  capabilities: readonly Capability[];
  limits: ConnectorLimits;
  /**
   * With `orderPull`: how often the core pulls a channel with these settings, and how far each
   * pull reaches back. The core reads no setting names of its own.
   */
  pullSchedule?(settings: z.infer<S>): PullSchedule;
}

/** When the core pulls a channel's orders. */
export interface PullSchedule {
  /** Seconds from the end of one pull to the next scheduled one. */
  intervalSeconds: number;
  /** Seconds each pull starts before the stored cursor, to read late writes again. */
  overlapSeconds: number;
}

/** What a verified webhook is about. */
export type WebhookKind =
  | 'order.upsert'
  | 'order.cancel'
  | 'order.delete'
  /** A refund of an order, alone (Shopify `refunds/create`): read with `normalizeRefund`. */
  | 'order.refund'
  /**
   * What a carrier did with one of the order's fulfilments (Shopify `fulfillment_events/create`,
   * `fulfillments/update`): read with `normalizeDelivery`.
   */
  | 'order.delivery'
  | 'ping'
  | 'ignored';

export interface WebhookEnvelope {
  /** The channel's own topic name, e.g. `orders/create` or `order.updated`. */
  topic: string;
  kind: WebhookKind;
  /** De-duplication key of this delivery (Shopify: X-Shopify-Event-Id; WooCommerce: X-WC-Webhook-Delivery-ID). */
  deliveryId: string;
  /** The channel's order id as an exact string; null for pings. */
  externalOrderId: string | null;
  /** The body, parsed without losing precision on large ids. */
  payload: unknown;
}

export type WebhookVerification =
  | { valid: false; reason: string }
  | { valid: true; envelope: WebhookEnvelope };

/** Header names are lower-case. */
export type Headers = Record<string, string | undefined>;

/** What the core did with a verified delivery, for a connector that shapes the answer to it. */
export interface WebhookReceipt {
  /** `accepted` (stored, applied afterwards), `duplicate` (stored and applied before), `ignored` (a ping, a topic we do not use). */
  status: 'accepted' | 'duplicate' | 'ignored';
  /** The stored inbound event; null when nothing was stored (`ignored`). */
  eventId: number | null;
  topic: string;
}

/** The body of the HTTP 200 answering a verified delivery. */
export interface WebhookReply {
  /** An object is sent as JSON; a string as it is. */
  body: string | Record<string, unknown>;
  /** Default: `application/json` for an object, `text/plain; charset=utf-8` for a string. */
  contentType?: string;
}

export interface NormalizedLine {
  /** The SKU code the channel holds for the product, if any; used to auto-match our SKUs. */
  channelSku: string | null;
  productId: string | null;
  variantId: string | null;
  inventoryItemId?: string | null;
  title?: string | null;
  quantity: number;
  /** Minor units, converted from the channel's decimal string exactly. */
  unitPrice: number;
  /** Discount on the whole line, minor units, when the channel says. */
  discount?: number;
  /** Tax of the whole line, minor units, when the channel says. */
  tax?: number;
}

/** What a channel says about an order's money beyond its lines, in minor units. */
export interface NormalizedMoney {
  shipping?: number;
  /** Discount on the order not allocated to a line (e.g. a shipping discount). */
  discount?: number;
  /** The order's tax (lines and shipping). */
  tax?: number;
  /** The channel's own total of the order. */
  total?: number;
  pricesIncludeTax?: boolean;
}

/**
 * What the channel did with refunded units (Shopify's restock types): `return` (fulfilled units came
 * back to stock), `cancel` (unfulfilled units, never shipped), `no_restock` (not back in stock),
 * `legacy_restock` (restocked, before Shopify told returns and cancellations apart).
 */
export type RefundRestockType = 'return' | 'cancel' | 'no_restock' | 'legacy_restock';

/** Units of one order line a refund gave money back for, with the line's item ids (for SKU mapping). */
export interface NormalizedRefundLine {
  channelSku: string | null;
  productId: string | null;
  variantId: string | null;
  inventoryItemId?: string | null;
  /** Units refunded (positive). */
  quantity: number;
  /** Null: the channel does not say (WooCommerce); the channel's `restockOnRefund` decides. */
  restockType: RefundRestockType | null;
}

/** A refund the channel reports on an order. */
export interface NormalizedRefund {
  /** The channel's refund id, exact: a return's reference, so that a refund is one return however often it is seen. */
  id: string;
  /** ISO 8601 UTC, when the channel says. */
  createdAt: string | null;
  /** Refunded units; empty for a refund of money only. */
  lines: NormalizedRefundLine[];
  /**
   * The money the refund paid back, when the payload says it whole (absent: not said, e.g. a pull
   * that does not ask for it; the refund's money is then applied when a payload that says it comes).
   */
  money?: RefundMoney;
}

/** What a refund paid back, in minor units of `currency`. */
export interface RefundMoney {
  currency: string;
  /** Paid back to the buyer (Shopify: the refund's successful refund transactions; WooCommerce: `amount`). */
  amount: number;
  /** The channel's value of the refunded units (their subtotal and tax): the rest of `amount` is an allowance. */
  linesAmount: number;
}

/** A refund read from a payload that carries the refund alone (`normalizeRefund`). */
export interface RefundOfOrder {
  /** The channel's id of the refunded order. */
  externalOrderId: string;
  refund: NormalizedRefund;
}

/**
 * What a channel reports about the delivery of one of an order's fulfilments (a webhook, or the
 * current state read by `readDeliveries`).
 */
export interface DeliveryReport {
  /** The channel's id of the order, exact. */
  externalOrderId: string;
  /**
   * The channel's id of the fulfilment, in the form `sendFulfilment` returns it (Shopify: the
   * fulfilment's GID); null when the report does not name one.
   */
  fulfilmentId: string | null;
  /** Tracking numbers the report carries (used to find the shipment when the id is unknown). */
  trackingNumbers: string[];
  /** The channel's status of the parcel, lower case (`in_transit`, `out_for_delivery`, `delivered`…). */
  status: string;
  /** The parcel was delivered. */
  delivered: boolean;
  /** ISO 8601 UTC: when the status happened, when the channel says. */
  happenedAt: string | null;
}

/** A delivery report read by `readDeliveries`, with what it was read from. */
export interface PulledDelivery {
  /** As the channel sent it; stored as the inbound event, and read again by `normalizeDelivery`. */
  raw: unknown;
  report: DeliveryReport;
}

/** A channel order in the core's terms, before SKU mapping. */
export interface NormalizedOrder {
  /** The channel's order id as an exact string. */
  externalId: string;
  /** Human order number (`#1001`), if the channel has one. */
  name?: string | null;
  currency: string;
  /** ISO 8601 UTC. */
  placedAt: string;
  /** The channel's own last-update time, ISO 8601 UTC: an older payload never overwrites a newer one. */
  updatedAt: string;
  cancelled: boolean;
  /** The buyer as the channel describes them; `channelCustomerId` keys a channel customer. */
  customer?: {
    channelCustomerId?: string;
    name?: string;
    email?: string;
    phone?: string;
    language?: 'zh-CN' | 'en';
    timeZone?: string;
  };
  lines: NormalizedLine[];
  /** What the channel says about the order's money beyond its lines. */
  money?: NormalizedMoney;
  /** Problems found while reading the payload (a malformed line): the order goes on hold with them. */
  problems: OrderProblem[];
  /** The channel says the order is paid: it takes no credit check (absent: not paid, or not said). */
  paid?: boolean;
  /**
   * The order's refunds that the payload lists whole (with their lines), oldest first. Absent: the
   * payload lists none (or none whole).
   */
  refunds?: NormalizedRefund[];
}

export interface ConnectorContext<S = unknown> {
  channelId: number;
  settings: S;
  http: HttpClient;
  log: Logger;
}

export interface PulledOrder {
  /** The raw order as the channel sent it (stored as the inbound event). */
  raw: unknown;
  order: NormalizedOrder;
}

/** A pulled order the connector could not read: stored as a failed inbound event, for a replay. */
export interface UnreadOrder {
  /** The raw order as the channel sent it. */
  raw: unknown;
  /** The channel's order id, when it could be found. */
  externalId: string | null;
  /** Why it could not be read. */
  error: string;
}

export interface PullPage {
  orders: PulledOrder[];
  /** Orders of this page that could not be read (the cursor may pass them: they are stored). */
  unread?: UnreadOrder[];
  /** Where the next pull (or page) starts; opaque to the core. Null when there is nothing further. */
  nextCursor: string | null;
}

/** One SKU's quantity for a channel, with the channel's ids for it. */
export interface StockItem {
  sku: string;
  productId?: string | null;
  variantId?: string | null;
  inventoryItemId?: string | null;
  quantity: number;
}

export interface StockPushResult {
  accepted: string[];
  /** SKUs the channel refused, with its reason; they do not block the rest. */
  rejected: { sku: string; reason: string }[];
  /**
   * SKUs the channel did not apply for a passing reason (not a refusal of the item): they stay
   * pending and go again with the next push. Default: none.
   */
  retry?: { sku: string; reason: string }[];
}

/** What a channel says about one order, for reconciliation: enough to compare, not to take in. */
export interface ChannelOrderSummary {
  /** The channel's order id as an exact string. */
  externalId: string;
  name?: string | null;
  /** ISO 8601 UTC. */
  placedAt: string;
  /** ISO 8601 UTC. */
  updatedAt: string;
  cancelled: boolean;
  currency: string;
  /** The order's current total, tax and shipping in minor units, when the channel says. */
  total?: number;
  tax?: number;
  shipping?: number;
}

/** The orders a reconciliation reads: those the channel changed at or after `updatedFrom`. */
export interface OrderListRange {
  /** ISO 8601 UTC. */
  updatedFrom: string;
}

/** What the channel shows for one of our SKUs; null when the channel has no figure for it. */
export interface ShownStock {
  sku: string;
  quantity: number | null;
}

/** One order line of a shipment, with the channel's ids for its SKU (from the SKU mapping). */
export interface FulfilmentLine {
  /** Our SKU code as on the order line. */
  sku: string;
  /** The SKU code the channel holds, when the mapping knows it (else our code). */
  channelSku: string | null;
  productId: string | null;
  variantId: string | null;
  /** Units this shipment carries of the line. */
  quantity: number;
}

/** A shipment to tell the channel about (`sendFulfilment`). */
export interface FulfilmentRequest {
  /** Our shipment id: the same shipment is the same fulfilment, however often it is sent. */
  shipmentId: number;
  /** The channel's order id, exact. */
  externalOrderId: string;
  lines: FulfilmentLine[];
  tracking: {
    /** The carrier's company name as shops know it (e.g. `SF Express`); null when none was given. */
    company: string | null;
    number: string | null;
    url: string | null;
  };
  /** After this shipment, every unit of the order that was not cancelled has shipped. */
  orderFullyShipped: boolean;
}

/**
 * What the channel did with a shipment: `sent` (with its own id for the fulfilment, when it gives
 * one), or `refused` with its reason (not sent again: a person looks at it). A passing failure
 * (network, 5xx, throttling) is thrown instead, and the shipment is tried again.
 */
export type FulfilmentResult =
  | { status: 'sent'; fulfilmentId: string | null }
  | { status: 'refused'; reason: string };

export interface ConnectionTestResult {
  ok: boolean;
  message: string;
}

export interface ConnectorDefinition<S = unknown> {
  manifest: ConnectorManifest<z.ZodType<S>>;
  /** Base URL of the channel's API for these settings (honours the settings' override). */
  baseUrl(settings: S): string;
  /** Default headers (auth) for the shared HTTP client. */
  authHeaders(settings: S): Record<string, string>;
  /** Limits for these settings when they depend on them (e.g. the shop's plan); else `manifest.limits`. */
  limitsFor?(settings: S): ConnectorLimits;
  verifyWebhook(rawBody: Buffer, headers: Headers, settings: S): WebhookVerification;
  /**
   * The answer to a verified delivery, for channels that expect a particular body (some Chinese
   * platforms want e.g. `{"code":0,"msg":"success"}`). Default: `{status, eventId}` as JSON
   * (`{status: "ignored", topic}` when nothing was stored). Refusals (401, 404) keep the core's
   * JSON error body.
   */
  webhookReply?(receipt: WebhookReceipt, settings: S): WebhookReply;
  normalizeOrder(payload: unknown): NormalizedOrder;
  /** With an `order.refund` webhook kind: reads a payload that carries one refund alone. */
  normalizeRefund?(payload: unknown): RefundOfOrder;
  /** With an `order.delivery` webhook kind: reads a delivery report of one fulfilment. */
  normalizeDelivery?(payload: unknown): DeliveryReport;
  /**
   * The delivery state of every fulfilment of these orders, as the channel shows it now: the pull's
   * way to catch delivery reports whose webhooks were missed. Orders the channel does not know are
   * left out. Without it, only webhooks report delivery (and without those, `delivered` stays a
   * manual transition).
   */
  readDeliveries?(ctx: ConnectorContext<S>, externalOrderIds: readonly string[]): Promise<PulledDelivery[]>;
  /**
   * Whether refunded units the channel reports without a restock type (`restockType: null`) go back
   * on hand when they become a return. Default: false (they are written off).
   */
  restockOnRefund?(settings: S): boolean;
  /**
   * Adds to an order payload what the order needs and the payload leaves out, by asking the channel
   * (WooCommerce: the line items of the order's refunds, which an order's JSON lists by amount
   * only). Called before `normalizeOrder` whenever a stored delivery is applied; returns the payload
   * as it is when nothing is missing. A failure leaves the event unapplied, to be tried again.
   */
  completePayload?(ctx: ConnectorContext<S>, payload: unknown): Promise<unknown>;
  /**
   * Parses a stored raw payload (a webhook body, or a pulled order as stored) for a replay, the way
   * `verifyWebhook` parses a body. Default: `JSON.parse`.
   */
  parsePayload?(raw: string): unknown;
  /** Pages of orders changed since `cursor` (null: since the channel's configured start). */
  pullOrders(ctx: ConnectorContext<S>, cursor: string | null): AsyncIterable<PullPage>;
  /** Sends quantities; called with at most `limits.stockBatchSize` items. */
  pushStock(ctx: ConnectorContext<S>, items: StockItem[]): Promise<StockPushResult>;
  testConnection(ctx: ConnectorContext<S>): Promise<ConnectionTestResult>;
  /**
   * Reconciliation: every order the channel changed at or after `range.updatedFrom`, as summaries,
   * in batches (a large read goes the channel's bulk way). Without it, a channel's orders are not
   * reconciled.
   */
  listOrders?(ctx: ConnectorContext<S>, range: OrderListRange): AsyncIterable<ChannelOrderSummary[]>;
  /**
   * Reconciliation: these orders in full, read as a pull reads them (so that they are taken in
   * through the same path). Ids the channel does not know are left out.
   */
  fetchOrders?(ctx: ConnectorContext<S>, externalIds: readonly string[]): AsyncIterable<PullPage>;
  /** Reconciliation: what the channel shows for these items now (its own figure, not ours). */
  readStock?(ctx: ConnectorContext<S>, items: readonly Omit<StockItem, 'quantity'>[]): Promise<ShownStock[]>;
  /**
   * With `fulfilmentPush`: tells the channel that a shipment of one of its orders left (Shopify: a
   * fulfillment with tracking; WooCommerce: the order completed, or a note). Must not create a
   * second fulfilment for a shipment the channel already has, as far as the channel lets it see.
   */
  sendFulfilment?(ctx: ConnectorContext<S>, request: FulfilmentRequest): Promise<FulfilmentResult>;
  /** Whether cancellations we make are sent to a channel with these settings (its `sendCancellations`). Default: never. */
  sendsCancellations?(settings: S): boolean;
  /**
   * Cancels the order on the channel, without refunding or restocking there (those stay decisions
   * for a person on the channel). A passing failure is thrown (retried).
   */
  sendCancellation?(ctx: ConnectorContext<S>, request: CancellationRequest): Promise<FulfilmentResult>;
}

/** A cancellation of ours to tell the channel about (`sendCancellation`). */
export interface CancellationRequest {
  /** Our order id. */
  orderId: number;
  /** The channel's order id, exact. */
  externalOrderId: string;
  /** Why we cancelled it (a staff note on the channel, never shown to the buyer). */
  reason: string;
}

/** Returns its input, typed: the one way to declare a connector. */
export function defineConnector<S>(definition: ConnectorDefinition<S>): ConnectorDefinition<S> {
  return definition;
}
