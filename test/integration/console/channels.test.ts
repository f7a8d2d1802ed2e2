import { createHmac } from 'node:crypto';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.js';
import { FORM_TYPE, logIn } from '../../helpers/auth.js';
import { interceptChannelHttp } from '../../helpers/nock.js';
import { shopifyOrderBody } from '../../helpers/shopify-webhook.js';
import { ADMIN_TOKEN, createStack, seedCatalog, silentLog, type TestStack } from '../../helpers/stack.js';

/** The console's channels pages: create/edit from the connector's schema, test, mappings, sheets, held orders. */
interceptChannelHttp();

const TOKEN = 'shpat_console_token_0123456789abcdef';
const SECRET = 'console-webhook-secret-9876';
const HOST = 'https://console-shop.shopify.test';
const API = `${HOST}/admin/api/2026-10`;

let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let admin: Browser;
let operator: Browser;
let viewer: Browser;
let channelId: number;

const PASSWORD = 'correct horse battery';

async function user(email: string, role: string, ip: string): Promise<Browser> {
  const made = await stack.api('POST', '/api/users', { email, role, password: PASSWORD });
  expect(made.status).toBe(201);
  return logIn(stack.app, email, PASSWORD, ip);
}

const get = (b: Browser, path: string, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: b.cookie, 'accept-language': lang } });

/** Posts a form as a browser does (fields may repeat, as a checkbox with its hidden field does). */
const post = (b: Browser, path: string, fields: [string, string][]) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: b.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: new URLSearchParams([['_csrf', b.csrf], ...fields]).toString(),
  });

const upload = (b: Browser, path: string, name: string, data: Buffer, type: string) => {
  const fd = new FormData();
  fd.set('_csrf', b.csrf);
  fd.set('file', new File([new Uint8Array(data)], name, { type }));
  return stack.app.request(path, {
    method: 'POST',
    headers: { cookie: b.cookie, 'accept-language': 'en' },
    body: fd,
  });
};

const shopifyFields = (extra: [string, string][] = []): [string, string][] => [
  ['type', 'shopify'],
  ['name', 'Console shop'],
  ['enabled', 'false'],
  ['enabled', 'true'],
  ['settings.shopDomain', 'console-shop.myshopify.com'],
  ['settings.accessToken', TOKEN],
  ['settings.webhookSecret', SECRET],
  ['settings.apiVersion', '2026-10'],
  ['settings.apiBaseUrl', API],
  ['settings.locationId', ''],
  ['settings.pullIntervalSeconds', '900'],
  ['settings.pullOverlapSeconds', '600'],
  ['settings.pullStartAt', ''],
  ['settings.plan', 'advanced'],
  ['settings.fulfilmentNotifyCustomer', 'false'],
  ['settings.sendCancellations', 'false'],
  ['settings.sendCancellations', 'true'],
  ...extra,
];

const mappingCount = async () =>
  Number(
    ((await stack.db('channel_skus').where('channel_id', channelId).count({ n: '*' })) as { n: number }[])[0]!
      .n,
  );

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S', 'MUG', 'CUP', 'BAG', 'HAT']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: ['TEE-S', 'MUG', 'CUP', 'BAG', 'HAT'].map((sku) => ({ sku, quantity: 20 })),
  });
  admin = await user('admin@example.com', 'admin', '203.0.113.11');
  operator = await user('ops@example.com', 'operator', '203.0.113.12');
  viewer = await user('viewer@example.com', 'viewer', '203.0.113.13');
});

afterAll(async () => {
  await stack?.close();
});

describe('creating and editing a channel', () => {
  it('shows a form with one field per setting of the connector, secrets as password inputs', async () => {
    const res = await get(admin, '/console/channels/new?type=shopify');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>New channel</h1>');
    for (const label of [
      'Shop domain (name.myshopify.com)',
      'Admin API access token',
      'Pull interval (seconds)',
    ])
      expect(html).toContain(label);
    expect(html).toMatch(/<select[^>]*name="settings.plan"/);
    expect(html).toMatch(
      /type="password"[^>]*name="settings.accessToken"|name="settings.accessToken"[^>]*type="password"/,
    );
    expect(html).toMatch(/type="checkbox"[^>]*name="settings.sendCancellations"/);
    const woo = await (await get(admin, '/console/channels/new?type=woocommerce')).text();
    expect(woo).toContain('name="settings.consumerSecret"');
    expect(woo).toMatch(/<select[^>]*name="settings.authMode"/);
  });

  it('refuses a bad form with every error beside its field, and creates nothing', async () => {
    const before = await stack.db('channels').count({ n: '*' });
    const res = await post(admin, '/console/channels', [
      ['type', 'shopify'],
      ['name', 'Broken'],
      ['settings.shopDomain', 'not a domain'],
      ['settings.accessToken', ''],
      ['settings.webhookSecret', SECRET],
      ['settings.pullIntervalSeconds', '-5'],
    ]);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(
      /id="f-settings-shopDomain"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-settings-shopDomain"/,
    );
    expect(html).toContain('f-settings-accessToken-error');
    expect(html).toContain('f-settings-pullIntervalSeconds-error');
    expect(html).not.toContain(SECRET);
    const noName = await post(
      admin,
      '/console/channels',
      shopifyFields().map(([k, v]) => [k, k === 'name' ? '' : v]),
    );
    expect(noName.status).toBe(422);
    expect(await noName.text()).toContain('f-name-error');
    expect(await stack.db('channels').count({ n: '*' })).toEqual(before);
  });

  it('creates a Shopify channel from the form; its secrets never appear in a page afterwards', async () => {
    const res = await post(admin, '/console/channels', shopifyFields());
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    channelId = Number(/\/console\/channels\/(\d+)$/.exec(location)?.[1]);
    expect(channelId).toBeGreaterThan(0);
    const ch = await stack.channels.get(channelId);
    expect(ch).toMatchObject({ type: 'shopify', name: 'Console shop', enabled: true });
    expect(ch.settings).toMatchObject({
      shopDomain: 'console-shop.myshopify.com',
      accessToken: TOKEN,
      webhookSecret: SECRET,
      plan: 'advanced',
      pullIntervalSeconds: 900,
      fulfilmentNotifyCustomer: false,
      sendCancellations: true,
    });
    expect(ch.settings.locationId).toBeUndefined();
    const audit = await stack.db('audit_log').where('operation', 'consoleCreateChannel').first();
    expect(audit).toMatchObject({
      actor: 'admin@example.com',
      entity: 'channel',
      entity_id: String(channelId),
    });
    expect(JSON.stringify(audit)).not.toContain(TOKEN);

    for (const path of [
      '/console/channels',
      `/console/channels/${channelId}`,
      `/console/channels/${channelId}/edit`,
    ]) {
      const page = await get(admin, path);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toContain(TOKEN);
      expect(html).not.toContain(SECRET);
    }
    const page = await (await get(admin, `/console/channels/${channelId}`)).text();
    expect(page).toContain('Admin API access token');
    expect(page).toMatch(/Admin API access token<\/td><td>set<\/td>/);
    expect(page).toMatch(/Shop plan<\/td><td>Advanced<\/td>/);
    expect(page).toMatch(/Send our cancellations to the channel<\/td><td>Yes<\/td>/);
    expect(page).toMatch(/Location id for stock<\/td><td>–<\/td>/);
    expect(page).toContain(`value="https://stockbridge.example.com/webhooks/${channelId}"`);
    expect(page).toContain('data-copy="webhook-url"');
    const list = await (await get(viewer, '/console/channels')).text();
    expect(list).toContain('Console shop');
    expect(list).toContain('Working');
  });

  it('keeps a secret left empty on an edit, and takes a new one when given', async () => {
    const edit = await (await get(admin, `/console/channels/${channelId}/edit`)).text();
    expect(edit).toContain('Admin API access token — set');
    expect(edit).toContain('value="console-shop.myshopify.com"');
    const res = await post(
      admin,
      `/console/channels/${channelId}`,
      shopifyFields().map(([k, v]): [string, string] =>
        k === 'settings.accessToken' || k === 'settings.webhookSecret'
          ? [k, '']
          : k === 'name'
            ? [k, 'Console shop renamed']
            : k === 'settings.pullIntervalSeconds'
              ? [k, '']
              : [k, v],
      ),
    );
    expect(res.status).toBe(303);
    let ch = await stack.channels.get(channelId);
    expect(ch.name).toBe('Console shop renamed');
    expect(ch.settings.accessToken).toBe(TOKEN);
    expect(ch.settings.webhookSecret).toBe(SECRET);
    // An emptied setting goes back to its default.
    expect(ch.settings.pullIntervalSeconds).toBe(300);
    const audit = await stack.db('audit_log').where('operation', 'consoleUpdateChannel').first();
    expect(audit.before).toContain('Console shop');
    expect(audit.after).toContain('Console shop renamed');
    expect(`${audit.before}${audit.after}${audit.request ?? ''}`).not.toContain(TOKEN);

    const changed = await post(
      admin,
      `/console/channels/${channelId}`,
      shopifyFields().map(([k, v]): [string, string] =>
        k === 'settings.accessToken'
          ? [k, `${TOKEN}-new`]
          : k === 'settings.webhookSecret'
            ? [k, '']
            : [k, v],
      ),
    );
    expect(changed.status).toBe(303);
    ch = await stack.channels.get(channelId);
    expect(ch.settings.accessToken).toBe(`${TOKEN}-new`);
    expect(ch.settings.webhookSecret).toBe(SECRET);
    // Back to the first token for the tests below.
    await stack.channels.update(channelId, { settings: { accessToken: TOKEN } });

    const bad = await post(
      admin,
      `/console/channels/${channelId}`,
      shopifyFields().map(([k, v]): [string, string] =>
        k === 'settings.apiVersion' ? [k, 'yesterday'] : [k, v],
      ),
    );
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('f-settings-apiVersion-error');
    expect((await stack.channels.get(channelId)).settings.apiVersion).toBe('2026-10');
  });

  it('lets neither a viewer nor an operator create or change a channel; a viewer sees no buttons', async () => {
    expect((await get(viewer, '/console/channels/new')).status).toBe(403);
    expect((await post(viewer, '/console/channels', shopifyFields())).status).toBe(403);
    expect((await post(operator, '/console/channels', shopifyFields())).status).toBe(403);
    expect((await post(operator, `/console/channels/${channelId}`, shopifyFields())).status).toBe(403);
    expect((await post(viewer, `/console/channels/${channelId}/test`, [])).status).toBe(403);
    expect(
      (
        await post(viewer, `/console/channels/${channelId}/skus`, [
          ['sku', 'MUG'],
          ['variantId', '1'],
        ])
      ).status,
    ).toBe(403);
    const html = await (await get(viewer, `/console/channels/${channelId}`)).text();
    const page = html.slice(html.indexOf('<main'));
    expect(page).toContain('Console shop');
    expect(page).not.toContain('<button type="submit"');
    expect(page).not.toContain('<form');
    expect(page).not.toContain('Test connection');
    expect(page).not.toContain('New channel');
    const ops = await (await get(operator, `/console/channels/${channelId}`)).text();
    expect(ops).toContain('Test connection');
    expect(ops).not.toContain('Disable channel');
  });
});

describe('a channel’s page', () => {
  it('tests the connection through the channel’s HTTP and shows what it answered', async () => {
    nock(HOST)
      .post('/admin/api/2026-10/graphql.json')
      .matchHeader('x-shopify-access-token', TOKEN)
      .reply(200, { data: { shop: { name: 'Console Test Shop' } } });
    const ok = await post(operator, `/console/channels/${channelId}/test`, []);
    expect(ok.status).toBe(200);
    const html = await ok.text();
    expect(html).toContain('Connection works');
    expect(html).toContain('Console Test Shop');

    nock(HOST).post('/admin/api/2026-10/graphql.json').reply(401, {});
    const refused = await post(operator, `/console/channels/${channelId}/test`, []);
    expect(refused.status).toBe(200);
    const text = await refused.text();
    expect(text).toContain('Connection failed');
    expect(text).not.toContain(TOKEN);
    const zh = await (await get(operator, `/console/channels/${channelId}`, 'zh-CN')).text();
    expect(zh).toContain('测试连接');
    expect(zh).toContain('最近错误');
  });

  it('syncs now through the same pull as the API, and shows the channel’s refusal', async () => {
    nock(HOST).post('/admin/api/2026-10/graphql.json').reply(401, {}).persist();
    const res = await post(operator, `/console/channels/${channelId}/sync`, []);
    expect(res.status).toBe(502);
    const html = await res.text();
    expect(html).not.toContain(TOKEN);
    const view = (await stack.api('GET', `/api/channels/${channelId}`)).body;
    expect(view.status.lastError).not.toBeNull();
    // The page again, with the channel's refusal at the top.
    expect(html).toContain('<h1>Console shop</h1>');
    expect(html).toMatch(/class="flash error" role="alert">[^<]+</);
    nock.cleanAll();
    expect((await post(viewer, `/console/channels/${channelId}/sync`, [])).status).toBe(403);
  });

  it('maps a SKU and shows it mapped; a bad mapping is refused beside its field; unmapping removes it', async () => {
    const res = await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'MUG'],
      ['variantId', 'gid://shopify/ProductVariant/4400000000000000001'],
      ['productId', ''],
      ['inventoryItemId', ''],
      ['channelSku', 'SHOP-MUG'],
    ]);
    expect(res.status).toBe(303);
    const row = await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'MUG' }).first();
    expect(row).toMatchObject({
      variant_id: '4400000000000000001',
      channel_sku: 'SHOP-MUG',
      source: 'manual',
    });
    const page = await (await get(operator, `/console/channels/${channelId}`)).text();
    expect(page).toMatch(/<td>MUG<\/td><td>4400000000000000001<\/td>/);
    const audit = await stack.db('audit_log').where('operation', 'consoleMapChannelSku').first();
    expect(audit).toMatchObject({ actor: 'ops@example.com', entity: 'channel_sku' });

    const before = await mappingCount();
    const unknown = await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'NOPE'],
      ['variantId', '77'],
    ]);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(
      /id="f-sku"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-sku"/,
    );
    const noIds = await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'CUP'],
      ['variantId', ''],
    ]);
    expect(noIds.status).toBe(422);
    expect(await noIds.text()).toContain('give at least one of productId, variantId, inventoryItemId');
    const badCode = await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'a b'],
      ['variantId', '5'],
    ]);
    expect(badCode.status).toBe(422);
    expect(await badCode.text()).toContain('f-sku-error');
    const clash = await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'CUP'],
      ['variantId', '4400000000000000001'],
    ]);
    expect(clash.status).toBe(409);
    expect(await clash.text()).toContain('already mapped to SKU MUG');
    expect(await mappingCount()).toBe(before);

    await post(operator, `/console/channels/${channelId}/skus`, [
      ['sku', 'HAT'],
      ['variantId', '999'],
    ]);
    const removed = await post(operator, `/console/channels/${channelId}/skus/HAT/delete`, []);
    expect(removed.status).toBe(303);
    expect(
      await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'HAT' }).first(),
    ).toBeUndefined();
  });

  it('maps SKUs from an xlsx sheet and from a GB18030 CSV with Chinese headers', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Mappings');
    ws.addRow(['SKU', 'Variant id', 'Channel SKU']);
    ws.addRow(['TEE-S', '4400000000000000010', 'SHOP-TEE-S']);
    ws.addRow(['cup', '4400000000000000011', 'SHOP-CUP']);
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    const res = await upload(
      operator,
      `/console/channels/${channelId}/skus/import`,
      'mappings.xlsx',
      xlsx,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(res.status).toBe(303);
    expect(
      await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'TEE-S' }).first(),
    ).toMatchObject({ variant_id: '4400000000000000010', channel_sku: 'SHOP-TEE-S', source: 'manual' });
    // Our codes in any letter case, stored as they were created.
    expect(
      await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'CUP' }).first(),
    ).toMatchObject({
      variant_id: '4400000000000000011',
    });

    const csv = iconv.encode('货号,规格ID,渠道货号\r\nBAG,4400000000000000012,包包-红\r\n', 'gb18030');
    const gb = await upload(
      operator,
      `/console/channels/${channelId}/skus/import`,
      'mappings.csv',
      csv,
      'text/csv',
    );
    expect(gb.status).toBe(303);
    expect(
      await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'BAG' }).first(),
    ).toMatchObject({
      variant_id: '4400000000000000012',
      channel_sku: '包包-红',
    });
    const audit = await stack.db('audit_log').where('operation', 'consoleImportChannelSkuMappings');
    expect(audit).toHaveLength(2);
  });

  it('refuses a sheet with bad rows, naming each row and why, and changes nothing', async () => {
    const before = await stack.db('channel_skus').where('channel_id', channelId).orderBy('sku_code');
    const csv = Buffer.from(
      [
        'SKU,Variant id,Channel SKU',
        'HAT,4400000000000000020,OK-ROW',
        'NOPE,4400000000000000021,',
        'MUG,,',
        'HAT,4400000000000000022,',
        'a b,4400000000000000023,',
      ].join('\n'),
    );
    const res = await upload(
      operator,
      `/console/channels/${channelId}/skus/import`,
      'bad.csv',
      csv,
      'text/csv',
    );
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('The sheet was refused; nothing was changed.');
    expect(html).toMatch(/<td class="num">3<\/td><td>SKU NOPE is not one of ours/);
    expect(html).toMatch(/<td class="num">4<\/td><td>give a variant id/);
    expect(html).toMatch(/<td class="num">5<\/td><td>SKU HAT/);
    expect(html).toMatch(
      /<td class="num">6<\/td><td>SKU &quot;a b&quot;|<td class="num">6<\/td><td>SKU "a b"/,
    );
    expect(html).not.toMatch(/<td class="num">2<\/td>/);
    expect(await stack.db('channel_skus').where('channel_id', channelId).orderBy('sku_code')).toEqual(before);

    const notSheet = await upload(
      operator,
      `/console/channels/${channelId}/skus/import`,
      'x.txt',
      Buffer.from('x'),
      'text/plain',
    );
    expect(notSheet.status).toBe(422);
    expect(await notSheet.text()).toContain('unsupported file type');
    const viewerTry = await upload(
      viewer,
      `/console/channels/${channelId}/skus/import`,
      'bad.csv',
      csv,
      'text/csv',
    );
    expect(viewerTry.status).toBe(403);
  });
});

describe('held orders of a channel', () => {
  let eventSeq = 0;
  const webhook = async (body: string) => {
    const res = await stack.app.request(`/webhooks/${channelId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'console-shop.myshopify.com',
        'x-shopify-event-id': `console-evt-${++eventSeq}`,
        'x-shopify-webhook-id': `console-wh-${eventSeq}`,
        'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
      },
      body,
    });
    expect(res.status).toBe(200);
  };

  it('lists unmapped channel SKUs first and the held orders; mapping and replay confirm them', async () => {
    stack.startWorker(4);
    const externalId = '5800000000000000001';
    await webhook(
      shopifyOrderBody(externalId, [
        { sku: 'SHOP-ONLY-CODE', variantId: '4400000000000000099', quantity: 1 },
      ]),
    );
    await stack.settle();
    const order = await stack
      .db('orders')
      .where({ channel: `shopify:${channelId}`, external_id: externalId })
      .first();
    expect(order.status).toBe('on_hold');

    const page = await (await get(operator, `/console/channels/${channelId}`)).text();
    const unmappedAt = page.indexOf('Unmapped channel SKUs');
    const mappedAt = page.indexOf('Mapped SKUs');
    expect(unmappedAt).toBeGreaterThan(0);
    expect(mappedAt).toBeGreaterThan(unmappedAt);
    const unmappedSection = page.slice(unmappedAt, mappedAt);
    expect(unmappedSection).toContain('SHOP-ONLY-CODE');
    expect(unmappedSection).toContain('4400000000000000099');
    expect(page).toContain(`href="/console/orders/${order.id}"`);
    expect(page).toContain('Unmapped SKU');

    // The unmapped row's own form: the channel's ids go with it.
    const mapped = await post(operator, `/console/channels/${channelId}/skus`, [
      ['variantId', '4400000000000000099'],
      ['channelSku', 'SHOP-ONLY-CODE'],
      ['sku', 'HAT'],
    ]);
    expect(mapped.status).toBe(303);
    const after = await (await get(operator, `/console/channels/${channelId}`)).text();
    expect(after.slice(after.indexOf('Unmapped channel SKUs'), after.indexOf('Mapped SKUs'))).not.toContain(
      'SHOP-ONLY-CODE',
    );

    expect((await post(viewer, `/console/channels/${channelId}/replay-held`, [])).status).toBe(403);
    const replay = await post(operator, `/console/channels/${channelId}/replay-held`, []);
    expect(replay.status).toBe(200);
    expect(await replay.text()).toContain('Replayed 1 held order(s).');
    await stack.settle();
    const done = await stack.db('orders').where({ id: order.id }).first();
    expect(done.status).toBe('confirmed');
    const lines = await stack.db('order_lines').where({ order_id: order.id });
    expect(lines.map((l: { sku_code: string }) => l.sku_code)).toEqual(['HAT']);
    expect(await (await get(operator, `/console/channels/${channelId}`)).text()).toContain(
      'No order of this channel is on hold.',
    );
  });

  it('disables a channel (admin, confirmed), keeping it and its orders', async () => {
    const page = await (await get(admin, `/console/channels/${channelId}`)).text();
    expect(page).toContain('data-confirm=');
    expect((await post(operator, `/console/channels/${channelId}/delete`, [])).status).toBe(403);
    const res = await post(admin, `/console/channels/${channelId}/delete`, []);
    expect(res.status).toBe(303);
    expect((await stack.channels.get(channelId)).enabled).toBe(false);
    expect(await (await get(admin, '/console/channels')).text()).toContain('Disabled');
    expect((await get(admin, '/console/channels/987654')).status).toBe(404);
  });
});

describe('a daemon without channels', () => {
  it('says channels are not configured, on the list and on the inbound events page', async () => {
    const app = createApp({
      db: stack.db,
      log: silentLog,
      adminToken: ADMIN_TOKEN,
      enqueueOrders: async () => {},
      secretKey: stack.secretKey,
      checkRedis: async () => {},
    });
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'accept-language': 'en' };
    const list = await app.request('/console/channels', { headers });
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('Channels are not configured in this daemon');
    const page = await app.request('/console/channels/1', { headers });
    expect(await page.text()).toContain('Channels are not configured in this daemon');
    const events = await app.request('/console/inbound-events', { headers });
    expect(events.status).toBe(200);
    expect(await events.text()).toContain('Channels are not configured in this daemon');
  });
});
