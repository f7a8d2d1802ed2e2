import { z } from 'zod';
import { getConnector, listConnectorTypes } from '../../../connectors/registry.js';
import type { ChannelService } from '../../channels/channel-service.js';
import { CHANNEL_SKUS } from '../../channels/channel-store.js';
import { importSkuMappings } from '../../channels/sku-mapping-import.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idParam } from '../params.js';
import { readUpload } from '../upload.js';
import {
  channelView,
  connectionTestAnswer,
  createChannelBody,
  pullAnswer,
  replaySummary,
  resyncAnswer,
  skuMappingBody,
  skuMappingView,
  skuPublicationBody,
  skuPublicationView,
  stockPushAnswer,
  updateChannelBody,
} from './channel-schemas.js';

const MASK = '********';

/** Every setting any connector declares secret: masked in what the audit log keeps of a request. */
const SECRET_SETTINGS = new Set(listConnectorTypes().flatMap((t) => getConnector(t).manifest.secretFields));

/**
 * What the audit log keeps of a channel's body. Secret-named keys are redacted there anyway, but a
 * connector's secret may have an ordinary name (`consumerKey`), so its secret fields are masked the
 * way the answers mask them.
 */
function withoutSecretSettings(body: unknown): unknown {
  const b = body as { settings?: Record<string, unknown> };
  if (!b.settings) return body;
  const settings = Object.fromEntries(
    Object.entries(b.settings).map(([k, v]) => [
      k,
      SECRET_SETTINGS.has(k) && v !== undefined && v !== null && v !== '' ? MASK : v,
    ]),
  );
  return { ...b, settings };
}

/** null for what is not there (before a create, after a delete, or a wrong id: the handler answers 404). */
const orNull = async <T>(read: () => Promise<T>): Promise<T | null> => {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
};

export const channelParams = z.object({ id: idParam.describe('channel id') });
export const skuParams = z.object({ id: idParam.describe('channel id'), sku: codeParam.describe('sku') });

/** Channel administration: configure channels, test them, pull now, map SKUs, replay held orders. */
export function channelRoutes(channels: ChannelService) {
  const { db } = channels.ctx;
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Channels', entity: 'channel', db });

  /** The channel as the API answers it (secrets masked), for the audit log's before and after. */
  const loadChannel = ({ params }: { params: Record<string, unknown> }) =>
    orNull(async () => channels.view(await channels.get(params.id as number)));
  const loadMapping = ({ params }: { params: Record<string, unknown> }) =>
    orNull(
      async () => (await channels.mappings(params.id as number)).find((m) => m.sku === params.sku) ?? null,
    );
  const loadPublication = async ({ params }: { params: Record<string, unknown> }) => {
    const row = await db(CHANNEL_SKUS)
      .where({ channel_id: params.id as number, sku_code: params.sku as string })
      .first('safety_stock', 'allocation_percent', 'max_quantity');
    if (!row) return null;
    const num = (v: unknown) => (v === null ? null : Number(v));
    return {
      safetyStock: num(row.safety_stock),
      allocationPercent: num(row.allocation_percent),
      maxQuantity: num(row.max_quantity),
    };
  };

  route(
    {
      method: 'post',
      path: '/channels',
      access: 'admin',
      operationId: 'createChannel',
      summary: 'Add a channel',
      description:
        "The settings are checked against the connector's schema. Secret settings are write-only: answers show them as '********'.",
      body: createChannelBody,
      responses: { 201: { description: 'The channel', schema: channelView } },
      errors: [409],
      audit: { request: withoutSecretSettings },
    },
    async (c, { body }) => {
      const channel = await channels.create(body);
      return c.json(await channels.view(channel), 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels',
      access: 'read',
      operationId: 'listChannels',
      summary: 'Every channel, with its settings (secrets masked) and status',
      responses: { 200: { description: 'The channels', schema: z.object({ items: z.array(channelView) }) } },
    },
    async (c) => {
      const list = await channels.list();
      return c.json({ items: await Promise.all(list.map((ch) => channels.view(ch))) });
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id',
      access: 'read',
      operationId: 'getChannel',
      summary: 'One channel',
      params: channelParams,
      responses: { 200: { description: 'The channel', schema: channelView } },
      errors: [404],
    },
    async (c, { params }) => c.json(await channels.view(await channels.get(params.id))),
  );

  route(
    {
      method: 'patch',
      path: '/channels/:id',
      access: 'admin',
      operationId: 'updateChannel',
      summary: "Change a channel's name, settings, stock publication, price policy or tax",
      description: "A secret setting sent as '********' (or left out) keeps its stored value.",
      params: channelParams,
      body: updateChannelBody,
      responses: { 200: { description: 'The channel now', schema: channelView } },
      errors: [404, 409],
      audit: { load: loadChannel, request: withoutSecretSettings },
    },
    async (c, { params, body }) => c.json(await channels.view(await channels.update(params.id, body))),
  );

  route(
    {
      method: 'delete',
      path: '/channels/:id',
      access: 'admin',
      operationId: 'disableChannel',
      summary: 'Disable a channel',
      description: 'A channel is disabled, not forgotten: its orders and events stay on record.',
      params: channelParams,
      responses: { 200: { description: 'The channel, disabled', schema: channelView } },
      errors: [404],
      audit: { load: loadChannel },
    },
    async (c, { params }) => c.json(await channels.view(await channels.disable(params.id))),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/test',
      access: 'operate',
      operationId: 'testChannel',
      summary: "Try the channel's credentials and connection",
      params: channelParams,
      responses: { 200: { description: 'What the channel answered', schema: connectionTestAnswer } },
      errors: [404, 409, 502],
    },
    async (c, { params }) => c.json(await channels.test(params.id)),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/sync',
      access: 'operate',
      operationId: 'pullChannel',
      summary: "Pull the channel's orders now",
      params: channelParams,
      responses: { 200: { description: 'What the pull did', schema: pullAnswer } },
      errors: [404, 409, 502],
    },
    async (c, { params }) => {
      const { toProcess, ...summary } = await channels.pull(params.id);
      return c.json({ ...summary, queued: toProcess.length });
    },
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/replay-held',
      access: 'operate',
      operationId: 'replayHeldOrders',
      summary: "Apply the channel's held orders again",
      params: channelParams,
      responses: { 200: { description: 'What the replay did', schema: replaySummary } },
      errors: [404, 409],
    },
    async (c, { params }) => c.json(await channels.replayHeld(params.id, actorOf(c))),
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/skus',
      access: 'read',
      operationId: 'listChannelSkuMappings',
      summary: "The channel's SKU mappings",
      params: channelParams,
      responses: {
        200: { description: 'The mappings', schema: z.object({ items: z.array(skuMappingView) }) },
      },
      errors: [404],
    },
    async (c, { params }) => c.json({ items: await channels.mappings(params.id) }),
  );

  route(
    {
      method: 'put',
      path: '/channels/:id/skus/:sku',
      access: 'operate',
      operationId: 'setChannelSkuMapping',
      summary: "Map a SKU to the channel's product, variant or inventory item",
      params: skuParams,
      body: skuMappingBody,
      responses: { 200: { description: 'The mapping', schema: skuMappingView } },
      errors: [404, 409],
      audit: { entity: 'channel_sku', load: loadMapping },
    },
    async (c, { params, body }) => c.json(await channels.setMapping(params.id, params.sku, body)),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/skus/import',
      access: 'operate',
      operationId: 'importChannelSkuMappings',
      summary: "Map SKUs from a sheet (.xlsx or .csv): our SKU and the channel's ids, one row each",
      description:
        'Columns: SKU (ours), variant id, product id, inventory item id, channel SKU (English or Chinese headers). ' +
        'A CSV may be UTF-8 or GB18030. Each row is set as `PUT /channels/{id}/skus/{sku}` sets one. ' +
        'All or nothing: a sheet with any bad row changes nothing, and every bad row is reported (422, `details.rows`).',
      params: channelParams,
      upload: { contentTypes: ['multipart/form-data'], description: 'the sheet in the form field `file`' },
      responses: {
        200: {
          description: 'Every row was mapped',
          schema: z
            .object({ fileName: z.string(), rows: z.number().int().describe('rows mapped') })
            .meta({ id: 'ChannelSkuMappingImport' }),
        },
      },
      errors: [404, 415, 422],
      audit: { entity: 'channel_sku' },
    },
    async (c, { params }) => {
      const { file } = await readUpload(c, { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' });
      const data = Buffer.from(await file.arrayBuffer());
      return c.json(
        await importSkuMappings(channels.ctx, params.id, { fileName: file.name || 'mappings.xlsx', data }),
      );
    },
  );

  route(
    {
      method: 'put',
      path: '/channels/:id/skus/:sku/publication',
      access: 'operate',
      operationId: 'setChannelSkuPublication',
      summary: 'Set how much of a SKU the channel is told (safety stock, share, maximum)',
      params: skuParams,
      body: skuPublicationBody,
      responses: { 200: { description: 'The mapping with its rule', schema: skuPublicationView } },
      errors: [404],
      audit: { entity: 'channel_sku', load: loadPublication },
    },
    async (c, { params, body }) => c.json(await channels.setSkuPublication(params.id, params.sku, body)),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/stock/resync',
      access: 'operate',
      operationId: 'resyncChannelStock',
      summary: 'Mark every SKU of the channel to be pushed again',
      params: channelParams,
      responses: { 202: { description: 'Marked; the push is queued', schema: resyncAnswer } },
      errors: [404, 409],
    },
    async (c, { params }) => c.json(await channels.resync(params.id), 202),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/stock/push',
      access: 'operate',
      operationId: 'pushChannelStock',
      summary: 'Push the pending stock figures to the channel now',
      params: channelParams,
      responses: { 200: { description: 'What the push did', schema: stockPushAnswer } },
      errors: [404, 409, 502],
    },
    async (c, { params }) => c.json(await channels.push(params.id)),
  );

  route(
    {
      method: 'delete',
      path: '/channels/:id/skus/:sku',
      access: 'operate',
      operationId: 'deleteChannelSkuMapping',
      summary: 'Remove a SKU mapping',
      params: skuParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404],
      audit: { entity: 'channel_sku', load: loadMapping },
    },
    async (c, { params }) => {
      await channels.deleteMapping(params.id, params.sku);
      return c.body(null, 204);
    },
  );

  return app;
}
