import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { NotFoundError } from '../../errors/domain-errors.js';
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
import { newRoutes, routeRegistrar } from '../openapi.js';
import { idParam } from '../params.js';

const time = z.string().describe('UTC, ISO 8601');

/** A gateway as answered: each secret that is set shows as '********', never its value. */
const smsGateway = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(['generic', 'aliyun']),
    enabled: z.boolean(),
    settings: z.record(z.string(), z.unknown()).describe("the kind's settings (no secrets)"),
    secrets: z
      .record(z.string(), z.literal('********'))
      .describe("the secrets that are set, each as '********': they are write-only"),
    templateCodes: z.record(z.string(), z.string()).describe('aliyun: TemplateCode by event'),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable().describe("wall times 'HH:MM'"),
    defaultTimeZone: z.string().nullable().describe('null: the business time zone'),
    hourlyCap: z.number().int().nullable(),
    createdAt: time,
    updatedAt: time,
  })
  .strict()
  .meta({ id: 'SmsGateway' });

const gatewayParams = z.object({ id: idParam.describe('gateway id') });

/** SMS gateways (`/api/sms-gateways`): secrets are write-only, answered as '********'. */
export function smsGatewayRoutes(deps: { db: Db; secretKey: Buffer }) {
  const { db, secretKey } = deps;
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'SMS gateways', entity: 'sms_gateway', db });
  /** The gateway as answered (secrets masked), for the audit log's before and after; null when there is none. */
  const loadGateway = async ({ params }: { params: Record<string, unknown> }) => {
    try {
      return gatewayView(await getGateway(db, secretKey, params.id as number));
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };

  route(
    {
      method: 'post',
      path: '/sms-gateways',
      access: 'admin',
      operationId: 'createSmsGateway',
      summary: 'Add an SMS gateway',
      description: 'The first enabled gateway (lowest id) sends the SMS. Secrets are write-only.',
      body: createGatewayBody,
      responses: { 201: { description: 'The gateway', schema: smsGateway } },
    },
    async (c, { body }) => c.json(gatewayView(await createGateway(db, secretKey, body)), 201),
  );

  route(
    {
      method: 'get',
      path: '/sms-gateways',
      access: 'read',
      operationId: 'listSmsGateways',
      summary: 'Every SMS gateway (secrets masked)',
      responses: { 200: { description: 'The gateways', schema: z.object({ items: z.array(smsGateway) }) } },
    },
    async (c) => c.json({ items: (await listGateways(db, secretKey)).map(gatewayView) }),
  );

  route(
    {
      method: 'get',
      path: '/sms-gateways/:id',
      access: 'read',
      operationId: 'getSmsGateway',
      summary: 'One SMS gateway (secrets masked)',
      params: gatewayParams,
      responses: { 200: { description: 'The gateway', schema: smsGateway } },
      errors: [404],
    },
    async (c, { params }) => c.json(gatewayView(await getGateway(db, secretKey, params.id))),
  );

  route(
    {
      method: 'patch',
      path: '/sms-gateways/:id',
      access: 'admin',
      operationId: 'updateSmsGateway',
      summary: 'Change an SMS gateway',
      description: '`settings` and `secrets` replace what was there field by field.',
      params: gatewayParams,
      body: updateGatewayBody,
      responses: { 200: { description: 'The gateway now', schema: smsGateway } },
      errors: [404],
      audit: { load: loadGateway },
    },
    async (c, { params, body }) => c.json(gatewayView(await updateGateway(db, secretKey, params.id, body))),
  );

  route(
    {
      method: 'delete',
      path: '/sms-gateways/:id',
      access: 'admin',
      operationId: 'deleteSmsGateway',
      summary: 'Remove an SMS gateway',
      params: gatewayParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404],
      audit: { load: loadGateway },
    },
    async (c, { params }) => {
      await deleteGateway(db, params.id);
      return c.body(null, 204);
    },
  );

  return app;
}
