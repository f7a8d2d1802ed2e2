import { Hono } from 'hono';
import type { Db } from '../../db/connection.js';
import {
  createGateway,
  createGatewayBody,
  deleteGateway,
  gatewayView,
  getGateway,
  listGateways,
  updateGateway,
  updateGatewayBody,
} from '../../notify/sms/gateway-store.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { idParam } from '../params.js';

/** SMS gateways (`/api/sms-gateways`): secrets are write-only, answered as '********'. */
export function smsGatewayRoutes(deps: { db: Db; secretKey: Buffer }) {
  const { db, secretKey } = deps;
  const app = new Hono<AppEnv>();
  const gatewayId = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(idParam, c.req.param('id'), 'gateway id');

  app.post('/sms-gateways', async (c) => {
    const body = await readJson(c, createGatewayBody);
    return c.json(gatewayView(await createGateway(db, secretKey, body)), 201);
  });

  app.get('/sms-gateways', async (c) =>
    c.json({ items: (await listGateways(db, secretKey)).map(gatewayView) }),
  );

  app.get('/sms-gateways/:id', async (c) =>
    c.json(gatewayView(await getGateway(db, secretKey, gatewayId(c)))),
  );

  app.patch('/sms-gateways/:id', async (c) => {
    const id = gatewayId(c);
    const body = await readJson(c, updateGatewayBody);
    return c.json(gatewayView(await updateGateway(db, secretKey, id, body)));
  });

  app.delete('/sms-gateways/:id', async (c) => {
    await deleteGateway(db, gatewayId(c));
    return c.body(null, 204);
  });

  return app;
}
