import { Hono } from 'hono';
import type { ChannelService } from '../../channels/channel-service.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idParam } from '../params.js';
import {
  createChannelBody,
  skuMappingBody,
  skuPublicationBody,
  updateChannelBody,
} from './channel-schemas.js';

/** Channel administration: configure channels, test them, pull now, map SKUs, replay held orders. */
export function channelRoutes(channels: ChannelService) {
  const app = new Hono<AppEnv>();
  const channelId = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(idParam, c.req.param('id'), 'channel id');

  app.post('/channels', async (c) => {
    const body = await readJson(c, createChannelBody);
    const channel = await channels.create(body);
    return c.json(await channels.view(channel), 201);
  });

  app.get('/channels', async (c) => {
    const list = await channels.list();
    return c.json({ items: await Promise.all(list.map((ch) => channels.view(ch))) });
  });

  app.get('/channels/:id', async (c) => c.json(await channels.view(await channels.get(channelId(c)))));

  app.patch('/channels/:id', async (c) => {
    const id = channelId(c);
    const body = await readJson(c, updateChannelBody);
    return c.json(await channels.view(await channels.update(id, body)));
  });

  app.delete('/channels/:id', async (c) => c.json(await channels.view(await channels.disable(channelId(c)))));

  app.post('/channels/:id/test', async (c) => c.json(await channels.test(channelId(c))));

  app.post('/channels/:id/sync', async (c) => {
    const { toProcess, ...summary } = await channels.pull(channelId(c));
    return c.json({ ...summary, queued: toProcess.length });
  });

  app.post('/channels/:id/replay-held', async (c) => c.json(await channels.replayHeld(channelId(c))));

  app.get('/channels/:id/skus', async (c) => c.json({ items: await channels.mappings(channelId(c)) }));

  app.put('/channels/:id/skus/:sku', async (c) => {
    const id = channelId(c);
    const sku = parseParam(codeParam, c.req.param('sku'), 'sku');
    const body = await readJson(c, skuMappingBody);
    return c.json(await channels.setMapping(id, sku, body));
  });

  app.put('/channels/:id/skus/:sku/publication', async (c) => {
    const id = channelId(c);
    const sku = parseParam(codeParam, c.req.param('sku'), 'sku');
    const body = await readJson(c, skuPublicationBody);
    return c.json(await channels.setSkuPublication(id, sku, body));
  });

  app.post('/channels/:id/stock/resync', async (c) => c.json(await channels.resync(channelId(c)), 202));

  app.post('/channels/:id/stock/push', async (c) => c.json(await channels.push(channelId(c))));

  app.delete('/channels/:id/skus/:sku', async (c) => {
    const id = channelId(c);
    const sku = parseParam(codeParam, c.req.param('sku'), 'sku');
    await channels.deleteMapping(id, sku);
    return c.body(null, 204);
  });

  return app;
}
