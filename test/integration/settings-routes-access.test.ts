import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_ADMIN, type Principal, type Role } from '../../src/auth/roles.js';
import type { AppEnv } from '../../src/http/env.js';
import { handleError } from '../../src/http/errors.js';
import { principalAuth } from '../../src/http/middleware.js';
import { channelRoutes } from '../../src/http/routes/channels.js';
import { inboundEventRoutes } from '../../src/http/routes/inbound-events.js';
import { mailInboxRoutes } from '../../src/http/routes/mail-inboxes.js';
import { notificationRoutes } from '../../src/http/routes/notifications.js';
import { smsGatewayRoutes } from '../../src/http/routes/sms-gateways.js';
import { webhookEndpointRoutes } from '../../src/http/routes/webhook-endpoints.js';
import { WebhookSender } from '../../src/notify/webhooks/webhook-sender.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp();

/**
 * The settings routes (channels, mail inboxes, SMS gateways, webhook endpoints, notification rules
 * and roles): who may call them, and that their audit entries keep before and after without a secret.
 */

const principal = (role: Role, actor: string): Principal => ({
  kind: 'token',
  role,
  userId: null,
  tokenId: null,
  actor,
});
const PRINCIPALS: Record<string, Principal> = {
  'admin-token': BOOTSTRAP_ADMIN,
  'ops-token': principal('operator', 'token:ops'),
  'viewer-token': principal('viewer', 'token:viewer'),
};

let stack: TestStack;
let app: OpenAPIHono<AppEnv>;

async function call(token: string, method: string, path: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

const auditOf = (operation: string) =>
  stack.db('audit_log').where({ operation }).orderBy('id', 'desc').first();

beforeAll(async () => {
  stack = await createStack();
  const { db, secretKey } = stack;
  const api = new OpenAPIHono<AppEnv>();
  api.use('*', principalAuth({ resolve: async (token) => PRINCIPALS[token] ?? null }));
  api.route('/', channelRoutes(stack.channels));
  api.route('/', inboundEventRoutes(db, stack.channels));
  api.route('/', mailInboxRoutes(db, secretKey));
  api.route('/', notificationRoutes({ db }));
  api.route('/', smsGatewayRoutes({ db, secretKey }));
  api.route(
    '/',
    webhookEndpointRoutes({ db, secretKey, sender: new WebhookSender({ db, secretKey, log: silentLog }) }),
  );
  app = new OpenAPIHono<AppEnv>();
  app.route('/api', api);
  app.onError(handleError);
});

afterAll(async () => {
  await stack.close();
});

describe('settings routes', () => {
  it('lets any role read, only an admin change settings, and an operator run channel operations', async () => {
    for (const path of [
      '/api/channels',
      '/api/mail-inboxes',
      '/api/sms-gateways',
      '/api/webhook-endpoints',
      '/api/notification-rules',
      '/api/notification-roles',
      '/api/inbound-events',
    ]) {
      expect((await call('viewer-token', 'GET', path)).status, path).toBe(200);
    }

    const refused: [string, string, string, unknown?][] = [
      ['viewer-token', 'POST', '/api/sms-gateways', {}],
      ['ops-token', 'POST', '/api/channels', {}],
      ['ops-token', 'PATCH', '/api/channels/1', { name: 'x' }],
      ['ops-token', 'DELETE', '/api/channels/1'],
      ['ops-token', 'POST', '/api/mail-inboxes', {}],
      ['ops-token', 'POST', '/api/webhook-endpoints', {}],
      ['ops-token', 'POST', '/api/webhook-endpoints/1/rotate-secret'],
      ['ops-token', 'PATCH', '/api/sms-gateways/1', {}],
      ['ops-token', 'PUT', '/api/notification-roles/operations', { addresses: [] }],
      ['ops-token', 'DELETE', '/api/notification-rules/1'],
      ['viewer-token', 'POST', '/api/channels/1/sync'],
      ['viewer-token', 'POST', '/api/inbound-events/1/replay'],
    ];
    for (const [token, method, path, body] of refused) {
      const res = await call(token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }

    // An operator passes the role check of a channel's operations: what answers is the missing channel.
    for (const [method, path, body] of [
      ['POST', '/api/channels/999999/sync'],
      ['POST', '/api/channels/999999/test'],
      ['PUT', '/api/channels/999999/skus/SKU-1', { variantId: '1' }],
      ['POST', '/api/channels/999999/stock/push'],
      ['POST', '/api/inbound-events/999999/replay'],
    ] as [string, string, unknown?][]) {
      expect((await call('ops-token', method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    // Nothing was changed, so nothing was audited.
    expect(await stack.db('audit_log').select('id')).toEqual([]);
  });

  it('keeps an SMS gateway change in the audit log, before and after, without its secret', async () => {
    const SECRET = 'aliyun-secret-value-0123456789';
    const created = await call('admin-token', 'POST', '/api/sms-gateways', {
      kind: 'aliyun',
      name: 'Aliyun',
      settings: { accessKeyId: 'LTAI-id-1', signName: 'Shop' },
      secrets: { accessKeySecret: SECRET },
    });
    expect(created.status).toBe(201);
    expect(created.body.secrets).toEqual({ accessKeySecret: '********' });
    const changed = await call('admin-token', 'PATCH', `/api/sms-gateways/${created.body.id}`, {
      name: 'Aliyun SMS',
      secrets: { accessKeySecret: `${SECRET}-new` },
    });
    expect(changed.status).toBe(200);
    expect(changed.text).not.toContain(SECRET);

    const entry = await auditOf('updateSmsGateway');
    expect(entry).toMatchObject({
      actor: 'admin',
      entity: 'sms_gateway',
      entity_id: String(created.body.id),
    });
    expect(JSON.parse(entry.before).name).toBe('Aliyun');
    expect(JSON.parse(entry.after).name).toBe('Aliyun SMS');
    const log = JSON.stringify(await stack.db('audit_log').select());
    expect(log).not.toContain(SECRET);
  });

  it('keeps a mail inbox change and a channel change without the password or a connector secret', async () => {
    const PASSWORD = 'imap-password-9876543210';
    const inbox = await call('admin-token', 'POST', '/api/mail-inboxes', {
      name: 'Orders',
      host: 'imap.example.com',
      username: 'orders@example.com',
      password: PASSWORD,
    });
    expect(inbox.status).toBe(201);
    const patched = await call('admin-token', 'PATCH', `/api/mail-inboxes/${inbox.body.id}`, {
      folder: 'Orders',
      password: `${PASSWORD}-2`,
    });
    expect(patched.status).toBe(200);
    const inboxEntry = await auditOf('updateMailInbox');
    expect(JSON.parse(inboxEntry.before).folder).toBe('INBOX');
    expect(JSON.parse(inboxEntry.after).folder).toBe('Orders');

    // `consumerKey` is a secret of WooCommerce channels although its name does not say so.
    const CK = 'ck_0123456789abcdef0123456789abcdef';
    const CS = 'cs_0123456789abcdef0123456789abcdef';
    const channel = await call('admin-token', 'POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Woo',
      settings: {
        siteUrl: 'https://woo.example.com',
        consumerKey: CK,
        consumerSecret: CS,
        webhookSecret: 'whs',
      },
    });
    expect(channel.status).toBe(201);
    expect(channel.body.settings.consumerKey).toBe('********');
    const renamed = await call('admin-token', 'PATCH', `/api/channels/${channel.body.id}`, {
      name: 'Woo shop',
      settings: { consumerKey: `${CK}2` },
    });
    expect(renamed.status).toBe(200);
    const channelEntry = await auditOf('updateChannel');
    expect(JSON.parse(channelEntry.before).name).toBe('Woo');
    expect(JSON.parse(channelEntry.after).name).toBe('Woo shop');
    expect(JSON.parse(channelEntry.request).settings.consumerKey).toBe('********');

    const log = JSON.stringify(await stack.db('audit_log').select());
    for (const secret of [PASSWORD, CK, CS]) expect(log).not.toContain(secret);
  });

  it('names the caller in the audit log and keeps a notification role before and after', async () => {
    const put = await call('admin-token', 'PUT', '/api/notification-roles/warehouse', {
      addresses: [{ address: 'a@example.com' }],
    });
    expect(put.status).toBe(200);
    const again = await call('admin-token', 'PUT', '/api/notification-roles/warehouse', {
      addresses: [{ address: 'b@example.com', language: 'zh-CN' }],
    });
    expect(again.body).toEqual({
      role: 'warehouse',
      addresses: [{ address: 'b@example.com', language: 'zh-CN' }],
    });
    const entry = await auditOf('setNotificationRole');
    expect(entry).toMatchObject({ entity: 'notification_role', entity_id: 'warehouse' });
    expect(JSON.parse(entry.before)).toEqual({ addresses: [{ address: 'a@example.com', language: 'en' }] });
    expect(JSON.parse(entry.after)).toEqual({ addresses: [{ address: 'b@example.com', language: 'zh-CN' }] });

    const lifted = await call(
      'ops-token',
      'DELETE',
      '/api/notification-suppressions/email/nobody@example.com',
    );
    expect(lifted.status).toBe(422);

    // An operator maps a SKU: the entry names the token, and keeps the mapping before and after.
    await seedCatalog(stack, [], ['MAP-1']);
    const channel = (await call('admin-token', 'GET', '/api/channels')).body.items[0];
    const first = await call('ops-token', 'PUT', `/api/channels/${channel.id}/skus/MAP-1`, {
      variantId: '11',
    });
    expect(first.status).toBe(200);
    const moved = await call('ops-token', 'PUT', `/api/channels/${channel.id}/skus/MAP-1`, {
      variantId: '12',
    });
    expect(moved.body).toMatchObject({ sku: 'MAP-1', variantId: '12', source: 'manual' });
    const mapping = await auditOf('setChannelSkuMapping');
    expect(mapping).toMatchObject({
      actor: 'token:ops',
      actor_role: 'operator',
      entity: 'channel_sku',
      entity_id: `${channel.id}/MAP-1`,
    });
    expect(JSON.parse(mapping.before).variantId).toBe('11');
    expect(JSON.parse(mapping.after).variantId).toBe('12');
  });
});
