import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, type TestStack } from '../helpers/stack.js';

interceptChannelHttp();

const TOKEN = 'shpat_admin_test_token_abcdef0123456789';
const SECRET = 'webhook-secret-admin-test';
const API = 'https://admin-shop.shopify.test/admin/api/2026-10';

let stack: TestStack;

const shopify = (extra: Record<string, unknown> = {}) => ({
  type: 'shopify',
  name: 'Main shop',
  settings: {
    shopDomain: 'admin-shop.myshopify.com',
    accessToken: TOKEN,
    webhookSecret: SECRET,
    apiBaseUrl: API,
    ...extra,
  },
});

beforeAll(async () => {
  stack = await createStack();
});

afterAll(async () => {
  await stack.close();
});

describe('channel administration API', () => {
  it('creates a channel: 201 with its webhook URL, secrets masked in answers and sealed at rest', async () => {
    const res = await stack.api('POST', '/api/channels', shopify());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'shopify',
      name: 'Main shop',
      enabled: true,
      webhookUrl: `https://stockbridge.example.com/webhooks/${res.body.id}`,
      capabilities: expect.arrayContaining(['webhooks', 'orderPull', 'stockPush']),
      settings: {
        shopDomain: 'admin-shop.myshopify.com',
        accessToken: '********',
        webhookSecret: '********',
        apiVersion: '2026-10',
        pullIntervalSeconds: 300,
      },
      status: {
        lastPullAt: null,
        cursor: null,
        lastError: null,
        failing: null,
        orders: { received: 0, onHold: 0 },
      },
    });
    const row = await stack.db('channels').where({ id: res.body.id }).first();
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain(SECRET);
    expect(row.secrets).toMatch(/^v1:/);

    const list = await stack.api('GET', '/api/channels');
    expect(list.body.items.map((c: { id: number }) => c.id)).toContain(res.body.id);
    expect(JSON.stringify(list.body)).not.toContain(TOKEN);
  });

  it('refuses bad settings with 422 naming every bad field, and unknown types; stores nothing', async () => {
    const before = await stack.db('channels').count({ n: '*' });
    const bad = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Broken',
      settings: { shopDomain: 'not a domain', accessToken: '', pullIntervalSeconds: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('invalid_settings');
    const paths = bad.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'settings.shopDomain',
        'settings.accessToken',
        'settings.webhookSecret',
        'settings.pullIntervalSeconds',
      ]),
    );
    const unknown = await stack.api('POST', '/api/channels', { type: 'ebay', name: 'x', settings: {} });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({
      code: 'unknown_channel_type',
      details: { known: ['shopify', 'woocommerce'] },
    });
    const malformed = await stack.api('POST', '/api/channels', '{"type":');
    expect(malformed.status).toBe(400);
    const noAuth = await stack.api('POST', '/api/channels', shopify(), { token: null });
    expect(noAuth.status).toBe(401);
    expect(await stack.db('channels').count({ n: '*' })).toEqual(before);
  });

  it('updates settings over the current ones; the mask keeps a secret; bad updates change nothing', async () => {
    const { body: ch } = await stack.api('POST', '/api/channels', shopify({ pullIntervalSeconds: 120 }));
    const renamed = await stack.api('PATCH', `/api/channels/${ch.id}`, {
      name: 'Renamed',
      settings: { accessToken: '********', pullIntervalSeconds: 60 },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Renamed', settings: { pullIntervalSeconds: 60 } });
    const channel = await stack.channels.get(ch.id);
    expect(channel.settings.accessToken).toBe(TOKEN);

    const invalid = await stack.api('PATCH', `/api/channels/${ch.id}`, {
      settings: { apiVersion: 'yesterday' },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details[0].path).toBe('settings.apiVersion');
    expect((await stack.channels.get(ch.id)).settings.apiVersion).toBe('2026-10');
    expect((await stack.api('PATCH', `/api/channels/${ch.id}`, {})).status).toBe(422);
    expect((await stack.api('GET', '/api/channels/987654')).status).toBe(404);
    expect((await stack.api('GET', '/api/channels/abc')).status).toBe(400);
  });

  it('shows and changes the price policy and tax settings with the channel itself', async () => {
    const created = await stack.api('POST', '/api/channels', {
      ...shopify({ shopDomain: 'money-shop.myshopify.com' }),
      name: 'Money shop',
      tax: { taxZone: 'eu', pricesIncludeTax: true },
    });
    expect(created.status).toBe(201);
    // A shop accepts the order's prices unless told otherwise.
    expect(created.body.pricing).toEqual({
      policy: 'accept',
      tolerancePercent: null,
      toleranceAmount: null,
      isDefault: true,
    });
    expect(created.body.tax).toEqual({ taxZone: 'eu', pricesIncludeTax: true });
    const id = created.body.id;

    const patched = await stack.api('PATCH', `/api/channels/${id}`, {
      pricing: { policy: 'hold', tolerancePercent: 2, toleranceAmount: 50 },
      tax: { pricesIncludeTax: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.pricing).toEqual({
      policy: 'hold',
      tolerancePercent: 2,
      toleranceAmount: 50,
      isDefault: false,
    });
    expect(patched.body.tax).toEqual({ taxZone: 'eu', pricesIncludeTax: false });
    // The same settings as their own routes read them.
    expect((await stack.api('GET', `/api/channels/${id}/price-policy`)).body).toMatchObject({
      policy: 'hold',
    });
    expect((await stack.api('GET', `/api/channels/${id}`)).body.pricing.policy).toBe('hold');

    // A bad policy is refused with the field named, and changes nothing (not even the name beside it).
    const bad = await stack.api('PATCH', `/api/channels/${id}`, {
      name: 'Renamed',
      pricing: { policy: 'maybe' },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.error)).toContain('pricing');
    const after = (await stack.api('GET', `/api/channels/${id}`)).body;
    expect(after).toMatchObject({ name: 'Money shop', pricing: { policy: 'hold' } });
  });

  it('tests the connection: ok, or the reason recorded on the channel', async () => {
    const { body: ch } = await stack.api('POST', '/api/channels', shopify());
    nock('https://admin-shop.shopify.test')
      .post('/admin/api/2026-10/graphql.json')
      .matchHeader('x-shopify-access-token', TOKEN)
      .reply(200, { data: { shop: { name: 'Admin Shop' } } });
    const ok = await stack.api('POST', `/api/channels/${ch.id}/test`);
    expect(ok.body).toEqual({ ok: true, message: expect.stringContaining('Admin Shop') });

    nock('https://admin-shop.shopify.test').post('/admin/api/2026-10/graphql.json').reply(401, {});
    const refused = await stack.api('POST', `/api/channels/${ch.id}/test`);
    expect(refused.body.ok).toBe(false);
    expect(JSON.stringify(refused.body)).not.toContain(TOKEN);
    const view = (await stack.api('GET', `/api/channels/${ch.id}`)).body;
    expect(view.status.lastError.message).toMatch(/connection test/);
  });

  it('disabling keeps the channel and its history, and its webhooks answer 404', async () => {
    const { body: ch } = await stack.api('POST', '/api/channels', shopify());
    const off = await stack.api('DELETE', `/api/channels/${ch.id}`);
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    expect((await stack.api('GET', `/api/channels/${ch.id}`)).status).toBe(200);
    const hook = await stack.app.request(`/webhooks/${ch.id}`, { method: 'POST', body: '{}' });
    expect(hook.status).toBe(404);
    const sync = await stack.api('POST', `/api/channels/${ch.id}/sync`);
    expect(sync.status).toBe(409);
    expect(sync.body.error.code).toBe('channel_disabled');
    expect(await stack.channels.duePulls()).not.toContain(ch.id);
  });
});
