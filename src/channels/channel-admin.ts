import type { ConnectorDefinition } from '../../connectors/contract.js';
import { getConnector, listConnectorTypes } from '../../connectors/registry.js';
import { channelPricing, setChannelPricing } from '../customers/channel-pricing.js';
import { dbTime } from '../db/connection.js';
import type { ChannelPricing } from '../domain/pricing.js';
import { ValidationError } from '../errors/domain-errors.js';
import { zodDetails } from '../errors/zod-details.js';
import { ORDERS } from '../orders/order-store.js';
import { type ChannelTax, channelTax, setChannelTax } from '../orders/tax-rates.js';
import { type ChannelContext, connectorOf, getChannel } from './channel-context.js';
import { type ChannelStockSettings, channelStockSettings } from './channel-publication.js';
import { CHANNELS, type Channel, channelKey, splitSettings } from './channel-store.js';
import { markAllPending } from './stock-push.js';
import { applyStockSettings, type StockSettingsInput } from './stock-settings.js';

/** How a secret setting is shown: it is set, and that is all anyone is told. */
const MASK = '********';

export interface NewChannel {
  type: string;
  name: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  stock?: StockSettingsInput | undefined;
  /** Price policy (README "Price lists"); absent: the default of the channel's kind. */
  pricing?: ChannelPricing | undefined;
  /** Tax settings (README "Order money and tax"). */
  tax?: ChannelTax | undefined;
}

export interface ChannelPatch {
  name?: string | undefined;
  enabled?: boolean | undefined;
  /** Merged over the current settings; null removes a setting, the mask keeps a secret. */
  settings?: Record<string, unknown> | undefined;
  stock?: StockSettingsInput | undefined;
  pricing?: ChannelPricing | undefined;
  tax?: ChannelTax | undefined;
}

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
  pricing: ChannelPricing & { isDefault: boolean };
  tax: { taxZone: string | null; pricesIncludeTax: boolean };
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

function validateSettings(
  connector: ConnectorDefinition<unknown>,
  settings: unknown,
): Record<string, unknown> {
  const result = connector.manifest.settingsSchema.safeParse(settings);
  if (!result.success) {
    throw new ValidationError(
      'invalid_settings',
      `settings are not valid for a ${connector.manifest.type} channel`,
      zodDetails(result.error).map((d) => ({ ...d, path: `settings.${d.path}` })),
    );
  }
  return result.data as Record<string, unknown>;
}

/** A destination setting as compared: an absent one is null, a URL's trailing slashes do not count. */
const destinationValue = (v: unknown) => (typeof v === 'string' ? v.trim().replace(/\/+$/, '') : (v ?? null));

/**
 * Changing where a channel's requests go (its host, a base URL) needs the secrets they carry
 * entered again in the same change: otherwise whoever holds the admin token could have the stored
 * token sent to a host of their own by the next connection test or pull. ValidationError naming
 * the settings changed and the secrets to enter.
 */
function requireSecretsForNewDestination(
  connector: ConnectorDefinition<unknown>,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  given: Record<string, unknown>,
): void {
  const { destinationFields = [], credentialFields = [] } = connector.manifest;
  const changed = destinationFields.filter((k) => destinationValue(before[k]) !== destinationValue(after[k]));
  if (changed.length === 0) return;
  const missing = credentialFields.filter(
    (k) => given[k] === undefined || given[k] === null || given[k] === MASK,
  );
  if (missing.length === 0) return;
  throw new ValidationError(
    'secrets_required',
    `changing ${changed.join(', ')} changes where the channel's requests go: enter ${missing.join(', ')} again in the same change`,
    { changed: changed.map((k) => `settings.${k}`), reenter: missing.map((k) => `settings.${k}`) },
  );
}

export async function createChannel(ctx: ChannelContext, input: NewChannel): Promise<Channel> {
  if (!listConnectorTypes().includes(input.type)) {
    throw new ValidationError('unknown_channel_type', `no connector for channel type "${input.type}"`, {
      known: listConnectorTypes(),
    });
  }
  const connector = getConnector(input.type);
  const settings = validateSettings(connector, input.settings);
  const now = dbTime();
  const [id] = await ctx.db(CHANNELS).insert({
    type: input.type,
    name: input.name,
    enabled: input.enabled,
    ...splitSettings(ctx.secretKey, settings, connector.manifest.secretFields),
    created_at: now,
    updated_at: now,
    disabled_at: input.enabled ? null : now,
  });
  if (input.stock) await applyStockSettings(ctx, Number(id), input.stock);
  await applyMoneySettings(ctx, Number(id), input);
  return getChannel(ctx, Number(id));
}

/**
 * Changes name, enabled or settings. Settings are merged over the current ones and validated
 * whole; a secret field sent back as the mask (or left out) keeps its value — except that a change
 * of where requests go needs the credentials given again (see `requireSecretsForNewDestination`).
 */
export async function updateChannel(ctx: ChannelContext, id: number, patch: ChannelPatch): Promise<Channel> {
  ctx.webhookChannels.delete(id);
  const channel = await getChannel(ctx, id);
  const connector = connectorOf(channel);
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
    const settings = validateSettings(connector, merged);
    requireSecretsForNewDestination(connector, channel.settings, settings, patch.settings);
    Object.assign(update, splitSettings(ctx.secretKey, settings, connector.manifest.secretFields));
    // New settings (a new token, above all) deserve another try.
    update.failing_reason = null;
    update.failing_since = null;
    ctx.memoryLimiters.delete(id);
  }
  await ctx.db(CHANNELS).where({ id }).update(update);
  ctx.webhookChannels.delete(id);
  if (patch.stock) await applyStockSettings(ctx, id, patch.stock);
  await applyMoneySettings(ctx, id, patch);
  // Changes made while the channel was disabled never marked it: it catches up on every SKU.
  if (reenabled) await markAllPending(ctx.db, id);
  // Working settings again (or enabled again): whatever waited for the channel can go now.
  if (patch.settings || patch.enabled) await ctx.requestPush(id);
  return getChannel(ctx, id);
}

/** The price policy and tax settings a new channel or a change names (the same as their own routes). */
async function applyMoneySettings(
  ctx: ChannelContext,
  id: number,
  input: Pick<ChannelPatch, 'pricing' | 'tax'>,
) {
  if (input.pricing) await setChannelPricing(ctx.db, id, input.pricing);
  if (input.tax) await setChannelTax(ctx.db, id, input.tax);
}

/** Disables a channel: webhooks answer 404, pulls and pushes stop; its orders and history stay. */
export const disableChannel = (ctx: ChannelContext, id: number): Promise<Channel> =>
  updateChannel(ctx, id, { enabled: false });

const webhookUrl = (ctx: Pick<ChannelContext, 'publicUrl'>, channel: Pick<Channel, 'id'>): string =>
  `${ctx.publicUrl.replace(/\/+$/, '')}/webhooks/${channel.id}`;

export async function channelView(ctx: ChannelContext, channel: Channel): Promise<ChannelView> {
  const connector = connectorOf(channel);
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(channel.settings)) {
    settings[k] = connector.manifest.secretFields.includes(k) && v !== undefined && v !== '' ? MASK : v;
  }
  const counts = await ctx
    .db(ORDERS)
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
    webhookUrl: connector.manifest.capabilities.includes('webhooks') ? webhookUrl(ctx, channel) : null,
    capabilities: connector.manifest.capabilities,
    settings,
    stock: await channelStockSettings(ctx.db, channel.id),
    pricing: await channelPricing(ctx.db, channel.id),
    tax: await channelTax(ctx.db, channel.id),
    status: {
      lastPullAt: channel.lastPullAt,
      nextPullAt: channel.nextPullAt,
      cursor: channel.pullCursor,
      lastPushAt: channel.lastPushAt,
      lastError: channel.lastError ? { message: channel.lastError, at: channel.lastErrorAt } : null,
      failing: channel.failingReason ? { reason: channel.failingReason, since: channel.failingSince } : null,
      orders: { received, onHold },
    },
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}
