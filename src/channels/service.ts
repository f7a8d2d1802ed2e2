import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type {
  ConnectionTestResult,
  ConnectorContext,
  ConnectorDefinition,
  Headers,
  NormalizedOrder,
} from '../../connectors/contract.js';
import { createHttpClient, type HttpClientOptions } from '../../connectors/http/client.js';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from '../../connectors/http/rate-limiter.js';
import { getConnector, listConnectorTypes } from '../../connectors/registry.js';
import { type Db, dbTime } from '../db/connection.js';
import { ApiError } from '../errors/api-error.js';
import { ChannelAuthError } from '../errors/channel-auth-error.js';
import { notFound } from '../errors/domain-errors.js';
import { PermanentError } from '../errors/permanent-error.js';
import { zodDetails } from '../http/errors.js';
import { setOrderStatus } from '../orders/fulfilment.js';
import { INBOUND_EVENTS } from '../orders/intake.js';
import { ORDERS } from '../orders/order-store.js';
import {
  type ApplyResult,
  applyStoredEvent,
  type OrderEventKind,
  receiveChannelEvent,
} from './apply-order.js';
import {
  CHANNEL_SKUS,
  CHANNELS,
  type Channel,
  channelKey,
  clearChannelFailing,
  findChannel,
  listChannels,
  recordChannelError,
  splitSettings,
} from './channel-store.js';
import { PullBusyError, type PullSummary, pullChannel } from './pull.js';
import { listMappings, type SkuMapping, toMapping } from './sku-map.js';
import {
  type ChannelStockSettings,
  channelStockSettings,
  emptyPushSummary,
  markAllPending,
  markResync,
  PushBusyError,
  type PushSummary,
  pendingMark,
  pushChannelStock,
} from './stock-push.js';

/** Failed attempts after which the pending sweep leaves an event to an administrator. */
export const MAX_PENDING_ATTEMPTS = 5;

/** How a secret setting is shown: it is set, and that is all anyone is told. */
export const MASK = '********';

export interface ChannelServiceOptions {
  db: Db;
  log: Logger;
  /** STOCKBRIDGE_SECRET_KEY: seals the channels' secret settings. */
  secretKey: Buffer;
  /** Base of the webhook URLs shown to administrators (STOCKBRIDGE_PUBLIC_URL). */
  publicUrl: string;
  /** Shared rate limits across processes; without it, limits hold per process only. */
  redis?: Redis | Cluster;
  prefix?: string;
  /** Queues processing of stored orders (may throw when Redis is down: the relay catches up). */
  enqueueOrders: (orderIds: number[]) => Promise<void>;
  /** Queues a debounced stock push of the channel (the channels queue); without it, pushes run only when asked. */
  requestPush?: (channelId: number) => Promise<void>;
  /** Overrides for the channels' HTTP client (tests: short backoff). */
  http?: Partial<Pick<HttpClientOptions, 'retries' | 'minDelayMs' | 'maxDelayMs' | 'timeoutMs' | 'sleep'>>;
}

/** What a channel is told about stock: feeding warehouses and its publication rule. */
export const stockSettingsBody = z.object({
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

export const createChannelBody = z.object({
  type: z.string().trim().min(1).max(32),
  name: z.string().trim().min(1).max(255),
  enabled: z.boolean().default(true),
  settings: z.record(z.string(), z.unknown()),
  stock: stockSettingsBody.optional(),
});

export const updateChannelBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    stock: stockSettingsBody.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of name, enabled, settings, stock');

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

/** A channel as the admin API shows it: secrets masked, with its status. */
export interface ChannelView {
  id: number;
  type: string;
  name: string;
  enabled: boolean;
  webhookUrl: string | null;
  capabilities: readonly string[];
  settings: Record<string, unknown>;
  stock: ChannelStockSettings;
  status: {
    lastPullAt: string | null;
    nextPullAt: string | null;
    cursor: string | null;
    lastPushAt: string | null;
    lastError: { message: string; at: string | null } | null;
    failing: { reason: string; since: string | null } | null;
    orders: { received: number; onHold: number };
  };
  createdAt: string;
  updatedAt: string;
}

export interface ReplaySummary {
  orders: number;
  outcomes: Record<string, number>;
  errors: { orderId: number; error: string }[];
}

/**
 * Channel administration and everything the core does with a channel: webhooks, pulls, tests,
 * replays and SKU mappings. Connectors stay behind `getConnector`; nothing here knows a channel kind.
 */
export class ChannelService {
  private readonly memoryLimiters = new Map<number, RateLimiter>();

  constructor(private readonly o: ChannelServiceOptions) {}

  get db(): Db {
    return this.o.db;
  }

  connectorOf(channel: Pick<Channel, 'type'>): ConnectorDefinition<unknown> {
    return getConnector(channel.type);
  }

  private validateSettings(
    connector: ConnectorDefinition<unknown>,
    settings: unknown,
  ): Record<string, unknown> {
    const result = connector.manifest.settingsSchema.safeParse(settings);
    if (!result.success) {
      throw new ApiError(
        422,
        'invalid_settings',
        `settings are not valid for a ${connector.manifest.type} channel`,
        zodDetails(result.error).map((d) => ({ ...d, path: `settings.${d.path}` })),
      );
    }
    return result.data as Record<string, unknown>;
  }

  async create(input: z.output<typeof createChannelBody>): Promise<Channel> {
    if (!listConnectorTypes().includes(input.type)) {
      throw new ApiError(422, 'unknown_channel_type', `no connector for channel type "${input.type}"`, {
        known: listConnectorTypes(),
      });
    }
    const connector = getConnector(input.type);
    const settings = this.validateSettings(connector, input.settings);
    const now = dbTime();
    const [id] = await this.db(CHANNELS).insert({
      type: input.type,
      name: input.name,
      enabled: input.enabled,
      ...splitSettings(this.o.secretKey, settings, connector.manifest.secretFields),
      created_at: now,
      updated_at: now,
      disabled_at: input.enabled ? null : now,
    });
    if (input.stock) await this.applyStockSettings(Number(id), input.stock);
    return this.get(Number(id));
  }

  /** Sets which warehouses feed the channel and its publication rule; 422 for an unknown warehouse. */
  private async applyStockSettings(id: number, stock: z.output<typeof stockSettingsBody>): Promise<void> {
    const update: Record<string, unknown> = {};
    if (stock.safetyStock !== undefined) update.safety_stock = stock.safetyStock;
    if (stock.allocationPercent !== undefined) update.allocation_percent = stock.allocationPercent;
    if (stock.maxQuantity !== undefined) update.max_quantity = stock.maxQuantity;
    if (stock.nightlyResync !== undefined) update.nightly_resync = stock.nightlyResync;
    await this.db.transaction(async (tx) => {
      if (stock.warehouses !== undefined) {
        const codes = [...new Set(stock.warehouses ?? [])];
        const found = codes.length ? await tx('warehouses').whereIn('code', codes).select('id', 'code') : [];
        const missing = codes.filter((c) => !found.some((f) => f.code === c));
        if (missing.length > 0) {
          throw new ApiError(422, 'unknown_warehouse', `unknown warehouses: ${missing.join(', ')}`, {
            missing,
          });
        }
        await tx('channel_warehouses').where({ channel_id: id }).delete();
        if (found.length > 0)
          await tx('channel_warehouses').insert(
            found.map((f) => ({ channel_id: id, warehouse_id: Number(f.id) })),
          );
      }
      if (Object.keys(update).length > 0) await tx(CHANNELS).where({ id }).update(update);
    });
    // What the channel should be told may have changed for every SKU.
    if (stock.warehouses !== undefined || Object.keys(update).some((k) => k !== 'nightly_resync')) {
      await markAllPending(this.db, id);
      await this.requestPush(id);
    }
  }

  /** Queues a debounced push of the channel (errors logged: the push sweep catches up). */
  async requestPush(channelId: number): Promise<void> {
    try {
      await this.o.requestPush?.(channelId);
    } catch (err) {
      this.o.log.warn(
        { channelId, err: (err as Error).message },
        'push not queued; the push sweep will queue it',
      );
    }
  }

  async get(id: number): Promise<Channel> {
    const channel = await findChannel(this.db, this.o.secretKey, id);
    if (!channel) throw notFound(`channel ${id}`);
    return channel;
  }

  list(): Promise<Channel[]> {
    return listChannels(this.db, this.o.secretKey);
  }

  /**
   * Changes name, enabled or settings. Settings are merged over the current ones and validated
   * whole; a secret field sent back as the mask (or left out) keeps its value.
   */
  async update(id: number, patch: z.output<typeof updateChannelBody>): Promise<Channel> {
    const channel = await this.get(id);
    const connector = this.connectorOf(channel);
    const now = dbTime();
    const update: Record<string, unknown> = { updated_at: now };
    if (patch.name !== undefined) update.name = patch.name;
    const reenabled = patch.enabled === true && !channel.enabled;
    if (patch.enabled !== undefined && patch.enabled !== channel.enabled) {
      update.enabled = patch.enabled;
      update.disabled_at = patch.enabled ? null : now;
    }
    if (patch.settings) {
      const merged = { ...channel.settings };
      for (const [k, v] of Object.entries(patch.settings)) {
        if (v === MASK && connector.manifest.secretFields.includes(k)) continue;
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const settings = this.validateSettings(connector, merged);
      Object.assign(update, splitSettings(this.o.secretKey, settings, connector.manifest.secretFields));
      // New settings (a new token, above all) deserve another try.
      update.failing_reason = null;
      update.failing_since = null;
      this.memoryLimiters.delete(id);
    }
    await this.db(CHANNELS).where({ id }).update(update);
    if (patch.stock) await this.applyStockSettings(id, patch.stock);
    // Changes made while the channel was disabled never marked it: it catches up on every SKU.
    if (reenabled) await markAllPending(this.db, id);
    // Working settings again (or enabled again): whatever waited for the channel can go now.
    if (patch.settings || patch.enabled) await this.requestPush(id);
    return this.get(id);
  }

  /** Disables a channel: webhooks answer 404, pulls and pushes stop; its orders and history stay. */
  async disable(id: number): Promise<Channel> {
    return this.update(id, { enabled: false });
  }

  webhookUrl(channel: Pick<Channel, 'id'>): string {
    return `${this.o.publicUrl.replace(/\/+$/, '')}/webhooks/${channel.id}`;
  }

  async view(channel: Channel): Promise<ChannelView> {
    const connector = this.connectorOf(channel);
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(channel.settings)) {
      settings[k] = connector.manifest.secretFields.includes(k) && v !== undefined && v !== '' ? MASK : v;
    }
    const counts = await this.db(ORDERS)
      .where({ channel: channelKey(channel) })
      .select('status')
      .count({ n: '*' })
      .groupBy('status');
    let received = 0;
    let onHold = 0;
    for (const c of counts as { status: string; n: number | string }[]) {
      received += Number(c.n);
      if (c.status === 'on_hold') onHold += Number(c.n);
    }
    return {
      id: channel.id,
      type: channel.type,
      name: channel.name,
      enabled: channel.enabled,
      webhookUrl: connector.manifest.capabilities.includes('webhooks') ? this.webhookUrl(channel) : null,
      capabilities: connector.manifest.capabilities,
      settings,
      stock: await channelStockSettings(this.db, channel.id),
      status: {
        lastPullAt: channel.lastPullAt,
        nextPullAt: channel.nextPullAt,
        cursor: channel.pullCursor,
        lastPushAt: channel.lastPushAt,
        lastError: channel.lastError ? { message: channel.lastError, at: channel.lastErrorAt } : null,
        failing: channel.failingReason
          ? { reason: channel.failingReason, since: channel.failingSince }
          : null,
        orders: { received, onHold },
      },
      createdAt: channel.createdAt,
      updatedAt: channel.updatedAt,
    };
  }

  private limiterFor(channel: Channel, connector: ConnectorDefinition<unknown>): RateLimiter {
    const limits = connector.limitsFor?.(channel.settings) ?? connector.manifest.limits;
    const bucket = {
      ratePerSecond: limits.requestsPerSecond,
      burst: limits.burst ?? limits.requestsPerSecond,
    };
    if (this.o.redis) {
      return createRedisRateLimiter(
        this.o.redis,
        `${this.o.prefix ?? 'stockbridge'}:ratelimit:channel:${channel.id}`,
        bucket,
      );
    }
    let limiter = this.memoryLimiters.get(channel.id);
    if (!limiter) {
      limiter = createMemoryRateLimiter(bucket);
      this.memoryLimiters.set(channel.id, limiter);
    }
    return limiter;
  }

  /** What a connector gets to work with for this channel: its settings and the shared HTTP client. */
  context(channel: Channel): ConnectorContext<unknown> {
    const connector = this.connectorOf(channel);
    const secrets = connector.manifest.secretFields
      .map((k) => channel.settings[k])
      .filter((v): v is string => typeof v === 'string' && v.length > 0);
    const http = createHttpClient({
      ...this.o.http,
      baseURL: connector.baseUrl(channel.settings),
      headers: connector.authHeaders(channel.settings),
      limiter: this.limiterFor(channel, connector),
      secrets,
    });
    return {
      channelId: channel.id,
      settings: channel.settings,
      http,
      log: this.o.log.child({ channelId: channel.id, channelType: channel.type }),
    };
  }

  /** Runs the connector's connection test; a failure is recorded on the channel, a success clears it. */
  async test(id: number): Promise<ConnectionTestResult> {
    const channel = await this.get(id);
    const connector = this.connectorOf(channel);
    let result: ConnectionTestResult;
    try {
      result = await connector.testConnection(this.context(channel));
    } catch (err) {
      result = { ok: false, message: (err as Error).message };
    }
    if (result.ok) await clearChannelFailing(this.db, id);
    else await recordChannelError(this.db, id, `connection test: ${result.message}`);
    return result;
  }

  /**
   * Pulls now (an administrator's sync, or the scheduled pull). Refused with 409 for a disabled
   * channel, one without order pull, or while another pull of it runs. A 401/403 from the channel
   * marks it failing; any error is recorded in its status.
   */
  async pull(id: number): Promise<PullSummary> {
    const channel = await this.get(id);
    const connector = this.connectorOf(channel);
    if (!channel.enabled) throw new ApiError(409, 'channel_disabled', `channel ${id} is disabled`);
    if (!connector.manifest.capabilities.includes('orderPull'))
      throw new ApiError(409, 'not_supported', `${channel.type} channels do not pull orders`);
    let summary: PullSummary;
    try {
      summary = await pullChannel(this.db, channel, connector, this.context(channel), (ids) =>
        this.enqueue(ids),
      );
    } catch (err) {
      if (err instanceof PullBusyError) throw new ApiError(409, 'pull_in_progress', err.message);
      const auth = err instanceof ChannelAuthError;
      await recordChannelError(this.db, id, `pull: ${(err as Error).message}`, { failing: auth });
      throw new ApiError(
        502,
        auth ? 'channel_auth_failed' : 'channel_error',
        `pull failed: ${(err as Error).message}`,
      );
    }
    if (summary.errors.length > 0) {
      await recordChannelError(
        this.db,
        id,
        `pull: ${summary.errors.length} order(s) not applied, first ${summary.errors[0]!.externalId}: ${summary.errors[0]!.error}`,
      );
    }
    return summary;
  }

  private async enqueue(orderIds: number[]): Promise<void> {
    if (orderIds.length === 0) return;
    try {
      await this.o.enqueueOrders(orderIds);
    } catch (err) {
      this.o.log.warn(
        { orderIds, err: (err as Error).message },
        'orders stored but not queued; the relay will queue them',
      );
    }
  }

  /**
   * A webhook delivery: 404 for an unknown or disabled channel (or one without webhooks), 401 for a
   * bad or missing signature (nothing stored), else the event is stored and applied, and 200.
   */
  async receiveWebhook(
    id: number,
    rawBody: Buffer,
    headers: Headers,
  ): Promise<{ status: 200 | 401 | 404; body: Record<string, unknown> }> {
    const channel = await findChannel(this.db, this.o.secretKey, id);
    const connector = channel ? this.connectorOf(channel) : null;
    if (!channel || !connector || !channel.enabled || !connector.manifest.capabilities.includes('webhooks')) {
      return {
        status: 404,
        body: { error: { code: 'not_found', message: `no enabled channel ${id} takes webhooks` } },
      };
    }
    const verified = connector.verifyWebhook(rawBody, headers, channel.settings);
    if (!verified.valid) {
      this.o.log.warn({ channelId: id, reason: verified.reason }, 'webhook refused');
      return {
        status: 401,
        body: { error: { code: 'invalid_webhook', message: `webhook refused: ${verified.reason}` } },
      };
    }
    const env = verified.envelope;
    if (env.kind === 'ping' || env.kind === 'ignored') {
      return { status: 200, body: { status: 'ignored', topic: env.topic } };
    }
    const result = await receiveChannelEvent(this.db, channel, {
      deliveryId: env.deliveryId,
      topic: env.topic,
      kind: env.kind,
      externalId: env.externalOrderId,
      rawPayload: rawBody.toString('utf8'),
      ...this.readOrder(connector, env.payload, env.kind),
    });
    await this.enqueue(result.toProcess);
    return {
      status: 200,
      body: { status: result.outcome, orderId: result.orderId, eventId: result.eventId },
    };
  }

  /**
   * Reads the order from a payload. A deletion often carries little more than the order's id, so
   * a deletion that is not a whole order is no error: its id is enough.
   */
  private readOrder(
    connector: ConnectorDefinition<unknown>,
    payload: unknown,
    kind: OrderEventKind,
  ): { order: NormalizedOrder | null; readError?: string } {
    try {
      return { order: connector.normalizeOrder(payload) };
    } catch (err) {
      return kind === 'order.delete' ? { order: null } : { order: null, readError: (err as Error).message };
    }
  }

  private async channelOfKey(key: string): Promise<Channel | null> {
    const m = /^([a-z0-9_-]+):(\d+)$/.exec(key);
    if (!m) return null;
    const channel = await findChannel(this.db, this.o.secretKey, Number(m[2]));
    return channel && channel.type === m[1] ? channel : null;
  }

  /**
   * Processes a stored inbound event again, e.g. after an administrator mapped a missing SKU: the
   * order is brought to what the payload says with today's mappings, never duplicated. For the
   * built-in channels (API, Excel) a held order is released for another try.
   */
  async replayEvent(eventId: number): Promise<ApplyResult> {
    const row = await this.db(INBOUND_EVENTS).where({ id: eventId }).first();
    if (!row) throw notFound(`inbound event ${eventId}`);
    const channel = await this.channelOfKey(String(row.channel));
    if (!channel) return this.releaseBuiltIn(eventId, row.order_id === null ? null : Number(row.order_id));
    const connector = this.connectorOf(channel);
    const kind = (row.kind as OrderEventKind | null) ?? 'order.upsert';
    let read: { order: NormalizedOrder | null; readError?: string };
    try {
      const raw = String(row.payload);
      read = this.readOrder(
        connector,
        connector.parsePayload ? connector.parsePayload(raw) : JSON.parse(raw),
        kind,
      );
    } catch (err) {
      read = { order: null, readError: `stored payload is not JSON: ${(err as Error).message}` };
    }
    const result = await applyStoredEvent(
      this.db,
      channel,
      eventId,
      {
        deliveryId: String(row.delivery_id),
        topic: String(row.topic),
        kind,
        externalId: (row.external_id as string | null) ?? null,
        rawPayload: String(row.payload),
        ...read,
      },
      { replay: true },
    );
    await this.enqueue(result.toProcess);
    return result;
  }

  private async releaseBuiltIn(eventId: number, orderId: number | null): Promise<ApplyResult> {
    const base = { eventId, orderId, toProcess: [] as number[] };
    if (orderId === null) return { ...base, outcome: 'ignored', note: 'the event has no order' };
    const order = await this.db(ORDERS).where({ id: orderId }).first('status', 'hold_reason');
    if (order?.status !== 'on_hold' || order.hold_reason === 'manual_hold') {
      return { ...base, outcome: 'unchanged', note: `the order is ${order?.status ?? 'gone'}` };
    }
    await setOrderStatus(this.db, orderId, 'received', 'replayed: processing again', 'admin');
    await this.enqueue([orderId]);
    return { ...base, outcome: 'updated', note: 'released from hold for another try', toProcess: [orderId] };
  }

  /**
   * Applies channel events that were stored but never applied — their process died between storing
   * and applying, or the database failed mid-way — once they are `graceMs` old (younger ones may
   * still be in hand). Events older than a day, or that failed MAX_PENDING_ATTEMPTS times, are left
   * to an administrator's replay (`GET /api/inbound-events?status=failed`). Returns how many were
   * applied.
   */
  async applyPending(graceMs = 30_000, limit = 100): Promise<number> {
    const now = Date.now();
    const rows = await this.db(INBOUND_EVENTS)
      .whereNull('processed_at')
      .whereNull('note')
      .whereNotNull('kind')
      .where('attempts', '<', MAX_PENDING_ATTEMPTS)
      .where('received_at', '<', dbTime(new Date(now - graceMs)))
      .where('received_at', '>', dbTime(new Date(now - 86_400_000)))
      .orderBy('id')
      .limit(limit)
      .select('id');
    let applied = 0;
    for (const { id } of rows) {
      try {
        await this.replayEvent(Number(id));
        applied++;
      } catch (err) {
        this.o.log.warn(
          { eventId: Number(id), err: (err as Error).message },
          'pending channel event not applied',
        );
      }
    }
    return applied;
  }

  /** Replays the latest event of every order of the channel held for a problem (not held by hand). */
  async replayHeld(channelId: number): Promise<ReplaySummary> {
    const channel = await this.get(channelId);
    const held = await this.db(ORDERS)
      .where({ channel: channelKey(channel), status: 'on_hold' })
      .andWhere((q) => q.whereNull('hold_reason').orWhereNot('hold_reason', 'manual_hold'))
      .orderBy('id')
      .select('id');
    const summary: ReplaySummary = { orders: held.length, outcomes: {}, errors: [] };
    for (const { id } of held) {
      const event = await this.db(INBOUND_EVENTS).where({ order_id: id }).orderBy('id', 'desc').first('id');
      try {
        if (!event) throw new Error('no stored event for this order');
        const result = await this.replayEvent(Number(event.id));
        summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
      } catch (err) {
        summary.errors.push({ orderId: Number(id), error: (err as Error).message });
      }
    }
    return summary;
  }

  async mappings(channelId: number): Promise<SkuMapping[]> {
    await this.get(channelId);
    return listMappings(this.db, channelId);
  }

  /**
   * Maps one of our SKUs to the channel's ids for it (replacing an automatic match). 404 for an
   * unknown SKU; 409 when one of the ids already belongs to another SKU of this channel.
   */
  async setMapping(
    channelId: number,
    sku: string,
    body: z.output<typeof skuMappingBody>,
  ): Promise<SkuMapping> {
    await this.get(channelId);
    const known = await this.db('skus').where({ code: sku }).first('id');
    if (!known) throw notFound(`SKU ${sku}`);
    const ids = {
      variant_id: body.variantId ?? null,
      product_id: body.productId ?? null,
      inventory_item_id: body.inventoryItemId ?? null,
    };
    const clash = await this.db(CHANNEL_SKUS)
      .where('channel_id', channelId)
      .whereNot('sku_code', sku)
      .andWhere((q) => {
        if (ids.variant_id) q.orWhere('variant_id', ids.variant_id);
        if (ids.inventory_item_id) q.orWhere('inventory_item_id', ids.inventory_item_id);
        if (ids.product_id && !ids.variant_id)
          q.orWhere((p) => p.where('product_id', ids.product_id).whereNull('variant_id'));
      })
      .first('sku_code');
    if (clash) {
      throw new ApiError(
        409,
        'mapping_conflict',
        `that channel item is already mapped to SKU ${clash.sku_code}`,
        {
          sku: clash.sku_code,
        },
      );
    }
    const now = dbTime();
    await this.db(CHANNEL_SKUS)
      .insert({
        channel_id: channelId,
        sku_code: sku,
        channel_sku: body.channelSku ?? null,
        ...ids,
        source: 'manual',
        created_at: now,
        updated_at: now,
      })
      .onConflict(['channel_id', 'sku_code'])
      .merge({ channel_sku: body.channelSku ?? null, ...ids, source: 'manual', updated_at: now });
    return toMapping(await this.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).first());
  }

  async deleteMapping(channelId: number, sku: string): Promise<void> {
    await this.get(channelId);
    const n = await this.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).delete();
    if (n === 0) throw notFound(`mapping of SKU ${sku}`);
  }

  /**
   * Pushes the channel's pending stock now (the push job, a resync, the CLI). Skipped for a
   * disabled or failing channel or one without stock push; 409 while another push of it runs. A
   * 401/403 marks the channel failing; other errors are recorded and thrown (the job retries).
   */
  async push(id: number): Promise<PushSummary & { skipped?: string }> {
    const channel = await this.get(id);
    const connector = this.connectorOf(channel);
    const empty = emptyPushSummary(id);

    if (!channel.enabled) return { ...empty, skipped: 'channel_disabled' };
    if (channel.failingReason) return { ...empty, skipped: 'channel_failing' };
    if (!connector.manifest.capabilities.includes('stockPush')) return { ...empty, skipped: 'not_supported' };
    try {
      const summary = await pushChannelStock(this.db, channel, connector, this.context(channel));
      if (summary.accepted > 0) await clearChannelFailing(this.db, id);
      if (summary.rejected.length > 0) {
        const first = summary.rejected[0]!;
        await recordChannelError(
          this.db,
          id,
          `push: ${summary.rejected.length} SKU(s) refused, first ${first.sku}: ${first.reason}`,
        );
      }
      if (summary.stillPending > 0) await this.requestPush(id);
      return summary;
    } catch (err) {
      if (err instanceof PushBusyError) throw new ApiError(409, 'push_in_progress', err.message);
      const auth = err instanceof ChannelAuthError;
      await recordChannelError(this.db, id, `push: ${(err as Error).message}`, { failing: auth });
      if (auth) return { ...empty, skipped: 'channel_auth_failed' };
      // Another attempt will not help (e.g. no Shopify location configured): the SKUs stay pending
      // until the settings change, which queues a push again.
      if (err instanceof PermanentError) return { ...empty, skipped: err.reason };
      throw err;
    }
  }

  /** Marks every mapped SKU of the channel to be sent, changed or not, and queues the push. */
  async resync(id: number): Promise<{ channelId: number; pending: number }> {
    const channel = await this.get(id);
    if (!channel.enabled) throw new ApiError(409, 'channel_disabled', `channel ${id} is disabled`);
    if (!this.connectorOf(channel).manifest.capabilities.includes('stockPush'))
      throw new ApiError(409, 'not_supported', `${channel.type} channels do not take stock`);
    const pending = await markResync(this.db, id);
    await this.requestPush(id);
    return { channelId: id, pending };
  }

  /** Safety stock, allocation and cap for one SKU on this channel (null clears, the channel's apply). */
  async setSkuPublication(
    channelId: number,
    sku: string,
    body: z.output<typeof skuPublicationBody>,
  ): Promise<
    SkuMapping & { safetyStock: number | null; allocationPercent: number | null; maxQuantity: number | null }
  > {
    await this.get(channelId);
    const update = pendingMark(this.db);
    if (body.safetyStock !== undefined) update.safety_stock = body.safetyStock;
    if (body.allocationPercent !== undefined) update.allocation_percent = body.allocationPercent;
    if (body.maxQuantity !== undefined) update.max_quantity = body.maxQuantity;
    const n = await this.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).update(update);
    if (n === 0) throw notFound(`mapping of SKU ${sku} on channel ${channelId}`);
    await this.requestPush(channelId);
    const row = await this.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).first();
    const num = (v: unknown) => (v === null ? null : Number(v));
    return {
      ...toMapping(row),
      safetyStock: num(row.safety_stock),
      allocationPercent: num(row.allocation_percent),
      maxQuantity: num(row.max_quantity),
    };
  }

  /**
   * Channels with stock waiting to be pushed for longer than `olderThanMs` (their push job was lost,
   * or they were marked by a nightly resync): the scheduler queues their pushes.
   */
  async duePushes(olderThanMs: number, now = new Date()): Promise<number[]> {
    const rows = await this.db(CHANNEL_SKUS)
      .where('push_pending', true)
      .where('pending_since', '<', dbTime(new Date(now.getTime() - olderThanMs)))
      .whereIn(
        'channel_id',
        this.db(CHANNELS).where({ enabled: true }).whereNull('failing_reason').select('id'),
      )
      .distinct('channel_id');
    return rows.map((r) => Number(r.channel_id)).sort((a, b) => a - b);
  }

  /** Channels due for their scheduled pull: enabled, not failing, pull capable, next pull time reached. */
  async duePulls(now = new Date()): Promise<number[]> {
    const rows = await this.db(CHANNELS)
      .where({ enabled: true })
      .whereNull('failing_reason')
      .andWhere((q) => q.whereNull('next_pull_at').orWhere('next_pull_at', '<=', dbTime(now)))
      .select('id', 'type');
    return rows
      .filter((r) => {
        try {
          return getConnector(String(r.type)).manifest.capabilities.includes('orderPull');
        } catch {
          return false;
        }
      })
      .map((r) => Number(r.id));
  }
}
