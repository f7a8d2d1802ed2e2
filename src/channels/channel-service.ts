import type { ConnectionTestResult, Headers } from '../../connectors/contract.js';
import type { ApplyResult } from './apply-order.js';
import {
  type ChannelPatch,
  type ChannelView,
  channelView,
  createChannel,
  disableChannel,
  type NewChannel,
  updateChannel,
} from './channel-admin.js';
import {
  type ChannelContext,
  type ChannelContextOptions,
  createChannelContext,
  getChannel,
} from './channel-context.js';
import { duePulls, duePushes, pullNow, pushNow, resync } from './channel-scheduling.js';
import { type Channel, listChannels } from './channel-store.js';
import { testChannel } from './connector-runtime.js';
import { pullDeliveries } from './delivery-pull.js';
import { applyEvents } from './event-applier.js';
import { applyEvent, type ReplaySummary, replayEvent, replayHeld } from './event-replay.js';
import { dueFulfilments, type FulfilmentOutcome, sendCancellation, sendShipment } from './fulfilment.js';
import type { PullSummary } from './pull.js';
import type { SkuMapping } from './sku-map.js';
import { channelMappings, deleteMapping, type SkuMappingInput, setMapping } from './sku-mappings.js';
import type { PushSummary } from './stock-push.js';
import { type PublicationRuleInput, setSkuPublication } from './stock-settings.js';
import { receiveWebhook, type WebhookAnswer } from './webhook-intake.js';

/**
 * Everything the daemon does with channels, as one object for the routes, workers and the CLI.
 * It holds no logic: each method is one of the channel functions over one shared context.
 */
export class ChannelService {
  readonly ctx: ChannelContext;

  constructor(options: ChannelContextOptions) {
    this.ctx = createChannelContext(options);
  }

  // Administration
  create = (input: NewChannel): Promise<Channel> => createChannel(this.ctx, input);
  get = (id: number): Promise<Channel> => getChannel(this.ctx, id);
  list = (): Promise<Channel[]> => listChannels(this.ctx.db, this.ctx.secretKey);
  update = (id: number, patch: ChannelPatch): Promise<Channel> => updateChannel(this.ctx, id, patch);
  disable = (id: number): Promise<Channel> => disableChannel(this.ctx, id);
  view = (channel: Channel): Promise<ChannelView> => channelView(this.ctx, channel);
  test = (id: number): Promise<ConnectionTestResult> => testChannel(this.ctx, id);

  // SKU mappings and publication rules
  mappings = (channelId: number): Promise<SkuMapping[]> => channelMappings(this.ctx, channelId);
  setMapping = (channelId: number, sku: string, input: SkuMappingInput): Promise<SkuMapping> =>
    setMapping(this.ctx, channelId, sku, input);
  deleteMapping = (channelId: number, sku: string): Promise<void> => deleteMapping(this.ctx, channelId, sku);
  setSkuPublication = (channelId: number, sku: string, rule: PublicationRuleInput) =>
    setSkuPublication(this.ctx, channelId, sku, rule);

  // Inbound: webhooks, replays, the pending sweep
  receiveWebhook = (id: number, rawBody: Buffer, headers: Headers): Promise<WebhookAnswer> =>
    receiveWebhook(this.ctx, id, rawBody, headers);
  /** `actor`: who asked, as order history names them. */
  replayEvent = (eventId: number, actor?: string): Promise<ApplyResult> =>
    replayEvent(this.ctx, eventId, actor);
  replayHeld = (channelId: number, actor?: string): Promise<ReplaySummary> =>
    replayHeld(this.ctx, channelId, actor);
  applyEvent = (eventId: number): Promise<ApplyResult> => applyEvent(this.ctx, eventId);
  applyEvents = (eventIds: readonly number[]): Promise<(ApplyResult | Error)[]> =>
    applyEvents(this.ctx, eventIds);

  // Pulls and pushes
  pull = (id: number): Promise<PullSummary> => pullNow(this.ctx, id);
  push = (id: number): Promise<PushSummary & { skipped?: string }> => pushNow(this.ctx, id);
  resync = (id: number) => resync(this.ctx, id);
  requestPush = (channelId: number): Promise<void> => this.ctx.requestPush(channelId);
  duePulls = (now?: Date): Promise<number[]> => duePulls(this.ctx, now);
  duePushes = (olderThanMs: number, now?: Date): Promise<number[]> => duePushes(this.ctx, olderThanMs, now);

  // Shipments told to the channels (fulfilment)
  sendShipment = (shipmentId: number): Promise<FulfilmentOutcome> => sendShipment(this.ctx, shipmentId);
  dueFulfilments = (olderThanMs: number) => dueFulfilments(this.ctx, olderThanMs);
  sendCancellation = (orderId: number) => sendCancellation(this.ctx, orderId);
  /** Delivery reports read from the channel now (the scheduled pull does this after the orders). */
  pullDeliveries = async (id: number) => pullDeliveries(this.ctx, await getChannel(this.ctx, id));
}
