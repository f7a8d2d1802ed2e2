import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithToken } from '../../helpers/auth.js';
import { interceptChannelHttp } from '../../helpers/nock.js';
import { ADMIN_TOKEN, createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** `POST /api/channels/{id}/skus/import`: the sheet of SKU mappings the console's upload goes through too. */
interceptChannelHttp();

let stack: TestStack;
let channelId: number;

const send = (path: string, name: string, data: Buffer, token: string | null = ADMIN_TOKEN) => {
  const fd = new FormData();
  fd.set('file', new File([new Uint8Array(data)], name));
  return stack.app.request(path, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: fd,
  });
};

const rows = async () =>
  stack
    .db('channel_skus')
    .where('channel_id', channelId)
    .orderBy('sku_code')
    .select('sku_code', 'variant_id', 'product_id', 'inventory_item_id', 'channel_sku');

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S', 'TEE-M', 'MUG']);
  const created = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Import shop',
    settings: {
      shopDomain: 'import-shop.myshopify.com',
      accessToken: 'shpat_import_0123456789',
      webhookSecret: 'import-secret',
      apiBaseUrl: 'https://import-shop.shopify.test/admin/api/2026-10',
    },
  });
  expect(created.status).toBe(201);
  channelId = created.body.id;
});

afterAll(async () => {
  await stack?.close();
});

describe('POST /api/channels/{id}/skus/import', () => {
  it('maps every row of an xlsx sheet as PUT /skus/{sku} would, and is in the API description', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    ws.addRow(['Our SKU', 'Product id', 'Variant id', 'Inventory item id', 'Channel SKU']);
    ws.addRow([
      'TEE-S',
      '7700000000000000001',
      'gid://shopify/ProductVariant/4400000000000000001',
      '',
      'T-S',
    ]);
    ws.addRow(['tee-m', '7700000000000000001', '4400000000000000002', '5500000000000000002', '']);
    const res = await send(
      `/api/channels/${channelId}/skus/import`,
      'map.xlsx',
      Buffer.from(await wb.xlsx.writeBuffer()),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fileName: 'map.xlsx', rows: 2 });
    expect(await rows()).toEqual([
      {
        sku_code: 'TEE-M',
        variant_id: '4400000000000000002',
        product_id: '7700000000000000001',
        inventory_item_id: '5500000000000000002',
        channel_sku: null,
      },
      {
        sku_code: 'TEE-S',
        variant_id: '4400000000000000001',
        product_id: '7700000000000000001',
        inventory_item_id: null,
        channel_sku: 'T-S',
      },
    ]);
    const listed = await stack.api('GET', `/api/channels/${channelId}/skus`);
    expect(listed.body.items.map((m: { source: string }) => m.source)).toEqual(['manual', 'manual']);
    const audit = await stack.db('audit_log').where('operation', 'importChannelSkuMappings').first();
    expect(audit).toMatchObject({ entity: 'channel_sku', status: 200 });
    const doc = (await stack.api('GET', '/api/openapi.json')).body;
    expect(doc.paths['/api/channels/{id}/skus/import'].post.operationId).toBe('importChannelSkuMappings');
  });

  it('reads a GB18030 CSV with Chinese headers, and replaces a mapping as PUT does', async () => {
    const csv = iconv.encode(
      '货号,规格ID,渠道货号\nMUG,4400000000000000003,杯子\nTEE-S,4400000000000000009,\n',
      'gb18030',
    );
    const res = await send(`/api/channels/${channelId}/skus/import`, '映射.csv', csv);
    expect(res.status).toBe(200);
    const now = await rows();
    expect(now.find((r: { sku_code: string }) => r.sku_code === 'MUG')).toMatchObject({
      variant_id: '4400000000000000003',
      channel_sku: '杯子',
    });
    expect(now.find((r: { sku_code: string }) => r.sku_code === 'TEE-S')).toMatchObject({
      variant_id: '4400000000000000009',
      product_id: null,
    });
  });

  it('refuses a sheet with any bad row: 422 naming every bad row, nothing changed', async () => {
    const before = await rows();
    const csv = Buffer.from(
      [
        'SKU,Variant id',
        'TEE-M,4400000000000000100',
        'GHOST,4400000000000000101',
        'MUG,',
        'TEE-M,4400000000000000102',
        'MUG,4400000000000000100',
      ].join('\r\n'),
    );
    const res = await send(`/api/channels/${channelId}/skus/import`, 'bad.csv', csv);
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('invalid_sheet');
    const reasons = Object.fromEntries(
      body.error.details.rows.map((r: { row: number; reason: string }) => [r.row, r.reason]),
    );
    expect(Object.keys(reasons).map(Number)).toEqual([3, 4, 5, 6]);
    expect(reasons[3]).toContain('GHOST is not one of ours');
    expect(reasons[4]).toContain('give a variant id');
    expect(reasons[5]).toContain('also on row 2');
    expect(reasons[6]).toContain('also on row 2');
    expect(await rows()).toEqual(before);

    // An item already mapped to another SKU (not in the sheet) undoes the whole sheet.
    const clash = Buffer.from(
      ['SKU,Variant id', 'TEE-M,4400000000000000200', 'MUG,4400000000000000009'].join('\n'),
    );
    const refused = await send(`/api/channels/${channelId}/skus/import`, 'clash.csv', clash);
    expect(refused.status).toBe(422);
    const clashBody = (await refused.json()) as any;
    expect(clashBody.error.details.rows).toEqual([
      { row: 3, reason: expect.stringContaining('already mapped to SKU TEE-S') },
    ]);
    expect(await rows()).toEqual(before);
  });

  it('answers 404 for an unknown channel, 415 without multipart, 403 to a viewer', async () => {
    const csv = Buffer.from('SKU,Variant id\nMUG,1\n');
    expect((await send('/api/channels/987654/skus/import', 'x.csv', csv)).status).toBe(404);
    const plain = await stack.app.request(`/api/channels/${channelId}/skus/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
      body: 'SKU,Variant id\nMUG,1\n',
    });
    expect(plain.status).toBe(415);
    const viewer = await userWithToken(stack, 'viewer-import@example.com', 'viewer');
    expect((await send(`/api/channels/${channelId}/skus/import`, 'x.csv', csv, viewer.token)).status).toBe(
      403,
    );
  });
});
