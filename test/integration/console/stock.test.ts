import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { checkInvariants } from '../../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's stock pages: levels, a SKU's ledger and channel figures, the stock forms, low stock. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let operator: Browser;
let viewer: Browser;

const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  stack = await createStack();
  stack.startWorker(4);
  await seedCatalog(
    stack,
    [
      { code: 'MAIN', priority: 1 },
      { code: 'WEST', priority: 2 },
    ],
    ['A1', 'B2', 'TWIN'],
  );
  await stack.api('PUT', '/api/skus/A1', { name: 'Blue kettle', unitPrice: 1000, currency: 'EUR' });
  for (const [email, role] of [
    ['ops@example.com', 'operator'],
    ['look@example.com', 'viewer'],
  ] as const) {
    const made = await stack.api('POST', '/api/users', { email, role, password: PASSWORD });
    expect(made.status).toBe(201);
  }
  operator = await logIn(stack.app, 'ops@example.com', PASSWORD, '203.0.113.21');
  viewer = await logIn(stack.app, 'look@example.com', PASSWORD, '203.0.113.22');
});

afterAll(async () => {
  await stack?.close();
});

const get = (path: string, who: Browser, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });

const post = (path: string, who: Browser, fields: Record<string, string>, lang = 'en') =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': lang },
    body: form({ _csrf: who.csrf, ...fields }),
  });

const level = async (sku: string, warehouse: string) =>
  stack
    .db('stock_levels as sl')
    .join('skus as s', 's.id', 'sl.sku_id')
    .join('warehouses as w', 'w.id', 'sl.warehouse_id')
    .where({ 's.code': sku, 'w.code': warehouse })
    .first('sl.on_hand', 'sl.reserved', 'sl.reorder_point');

/** A SKU's ledger rows, oldest first, without ids, times or document ids. */
const ledger = async (sku: string) =>
  (
    await stack
      .db('stock_movements as m')
      .join('skus as s', 's.id', 'm.sku_id')
      .join('warehouses as w', 'w.id', 'm.warehouse_id')
      .where('s.code', sku)
      .orderBy('m.id')
      .select('w.code as warehouse', 'm.d_on_hand', 'm.d_reserved', 'm.reason', 'm.ref_type')
  ).map((r) => ({ ...r, d_on_hand: Number(r.d_on_hand), d_reserved: Number(r.d_reserved) }));

const movementCount = async () => Number((await stack.db('stock_movements').count({ n: '*' }))[0]!.n);

/** The flash message the next page shows after a 303. */
const flashOf = async (res: Response, who: Browser) => {
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('stockbridge_flash='))
    ?.split(';')[0];
  const page = await stack.app.request(res.headers.get('location')!, {
    headers: { cookie: `${who.cookie}; ${cookie}`, 'accept-language': 'en' },
  });
  return { page, html: await page.text() };
};

describe('stock forms', () => {
  it('records a receipt exactly as the API does, with its audit entry, and the ledger shows it', async () => {
    const res = await post('/console/stock/new/receipt', operator, {
      warehouse: 'MAIN',
      reference: 'GRN-1',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '10',
      'lines.1.sku': '',
      'lines.1.quantity': '',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/stock/A1#ledger');
    const api = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'MAIN',
      reference: 'GRN-TWIN',
      lines: [{ sku: 'TWIN', quantity: 10 }],
    });
    expect(api.status).toBe(201);
    expect(await level('A1', 'MAIN')).toEqual(await level('TWIN', 'MAIN'));
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 10, reserved: 0 });
    expect(await ledger('A1')).toEqual(await ledger('TWIN'));
    expect(await ledger('A1')).toEqual([
      { warehouse: 'MAIN', d_on_hand: 10, d_reserved: 0, reason: 'receipt', ref_type: 'receipt' },
    ]);
    const audit = await stack.db('audit_log').where('operation', 'consoleStockReceipt').first();
    expect(audit).toMatchObject({ actor: 'ops@example.com', entity: 'stock', status: 303 });
    const doc = await stack
      .db('stock_documents')
      .where({ reference: 'GRN-1', kind: 'receipt' })
      .orderBy('id')
      .first();
    expect(String(audit.entity_id)).toBe(String(doc.id));

    const { page, html } = await flashOf(res, operator);
    expect(page.status).toBe(200);
    expect(html).toContain('Recorded: GRN-1.');
    expect(html).toMatch(/<td>Receipt<\/td><td>Receipt GRN-1<\/td>/);
    expect(html).toContain('+10');

    // The same reference and lines again: counted once.
    const again = await post('/console/stock/new/receipt', operator, {
      warehouse: 'MAIN',
      reference: 'GRN-1',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '10',
    });
    expect(again.status).toBe(303);
    expect((await flashOf(again, operator)).html).toContain(
      'already recorded with the same lines; nothing changed',
    );
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 10, reserved: 0 });
  });

  it('answers a bad quantity with 422 beside the field and changes nothing', async () => {
    const before = await movementCount();
    for (const [quantity, message] of [
      ['0', 'must be at least 1'],
      ['2.5', 'must be a whole number'],
      ['ten', ''],
    ] as const) {
      const res = await post('/console/stock/new/receipt', operator, {
        warehouse: 'MAIN',
        reference: `GRN-bad-${quantity}`,
        'lines.0.sku': 'A1',
        'lines.0.quantity': quantity,
      });
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toMatch(/<input id="f-lines-0-quantity" name="lines.0.quantity"[^>]*aria-invalid="true"/);
      expect(html).toContain('id="f-lines-0-quantity-error"');
      if (message) expect(html).toContain(message);
      // What was typed is kept.
      expect(html).toContain(`value="GRN-bad-${quantity}"`);
    }
    // No lines at all, and an unknown SKU and warehouse: each beside its field.
    const empty = await post('/console/stock/new/receipt', operator, {
      warehouse: 'MAIN',
      reference: 'GRN-x',
    });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('id="f-lines-error"');
    const unknown = await post('/console/stock/new/receipt', operator, {
      warehouse: 'NOWHERE',
      reference: 'GRN-y',
      'lines.0.sku': 'NOPE',
      'lines.0.quantity': '1',
    });
    expect(unknown.status).toBe(422);
    const html = await unknown.text();
    expect(html).toMatch(/<input id="f-lines-0-sku" name="lines.0.sku"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/<select id="f-warehouse" name="warehouse"[^>]*aria-invalid="true"/);
    expect(html).toContain('unknown SKU NOPE');
    expect(await movementCount()).toBe(before);
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 10, reserved: 0 });
  });

  it('refuses an adjustment that would take on hand below what is reserved, with the API’s reason', async () => {
    const placed = await stack.api(
      'POST',
      '/api/orders',
      orderBody('console-stock-1', [{ sku: 'A1', quantity: 6 }]),
    );
    expect(placed.status).toBeLessThan(300);
    await stack.settle();
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 10, reserved: 6 });
    const before = await movementCount();
    const res = await post('/console/stock/new/adjustment', operator, {
      warehouse: 'MAIN',
      reason: 'stock count',
      reference: '',
      'lines.0.sku': 'A1',
      'lines.0.delta': '-5',
    });
    expect(res.status).toBe(409);
    const html = await res.text();
    const api = await stack.api('POST', '/api/stock/adjustments', {
      warehouse: 'MAIN',
      reason: 'stock count',
      lines: [{ sku: 'A1', delta: -5 }],
    });
    expect(api.status).toBe(409);
    expect(html).toContain(api.body.error.message);
    expect(html).toMatch(/<input id="f-lines-0-delta" name="lines.0.delta"[^>]*aria-invalid="true"/);
    expect(html).toContain('on hand would fall below what is reserved');
    expect(await movementCount()).toBe(before);
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 10, reserved: 6 });

    // In Chinese, the reason in Chinese.
    const zh = await post(
      '/console/stock/new/adjustment',
      operator,
      { warehouse: 'MAIN', reason: '盘点', 'lines.0.sku': 'A1', 'lines.0.delta': '-5' },
      'zh-CN',
    );
    expect(zh.status).toBe(409);
    expect(await zh.text()).toContain('在库数量将低于已预留数量');

    // Within what is free it is recorded, as the API records it.
    const ok = await post('/console/stock/new/adjustment', operator, {
      warehouse: 'MAIN',
      reason: 'damaged',
      'lines.0.sku': 'A1',
      'lines.0.delta': '-4',
    });
    expect(ok.status).toBe(303);
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 6, reserved: 6 });
    expect((await ledger('A1')).at(-1)).toEqual({
      warehouse: 'MAIN',
      d_on_hand: -4,
      d_reserved: 0,
      reason: 'adjustment',
      ref_type: 'adjustment',
    });
    expect(
      await stack.db('audit_log').where('operation', 'consoleStockAdjustment').count({ n: '*' }),
    ).toEqual([{ n: 1 }]);

    // Without a reference, the form's own key stands in: posting the same form twice adjusts once.
    const page = await (await get('/console/stock/new/adjustment', operator)).text();
    const formKey = /name="formKey" value="(console:[0-9a-f-]{36})"/.exec(page)?.[1];
    expect(formKey).toBeTruthy();
    const twice = () =>
      post('/console/stock/new/adjustment', operator, {
        formKey: formKey!,
        warehouse: 'MAIN',
        reason: 'found',
        reference: '',
        'lines.0.sku': 'A1',
        'lines.0.delta': '2',
      });
    expect((await twice()).status).toBe(303);
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 8, reserved: 6 });
    const second = await twice();
    expect(second.status).toBe(303);
    expect((await flashOf(second, operator)).html).toContain('already recorded');
    expect(await level('A1', 'MAIN')).toMatchObject({ on_hand: 8, reserved: 6 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('transfers free stock between warehouses, and refuses more than is free', async () => {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'MAIN',
      reference: 'GRN-B2',
      lines: [{ sku: 'B2', quantity: 8 }],
    });
    const tooMuch = await post('/console/stock/new/transfer', operator, {
      from: 'MAIN',
      to: 'WEST',
      reference: 'TR-0',
      'lines.0.sku': 'B2',
      'lines.0.quantity': '9',
    });
    expect(tooMuch.status).toBe(409);
    const refused = await tooMuch.text();
    expect(refused).toContain('MAIN does not have that much free (not reserved) stock');
    expect(refused).toMatch(/<input id="f-lines-0-quantity" name="lines.0.quantity"[^>]*aria-invalid="true"/);
    const same = await post('/console/stock/new/transfer', operator, {
      from: 'MAIN',
      to: 'MAIN',
      reference: 'TR-00',
      'lines.0.sku': 'B2',
      'lines.0.quantity': '1',
    });
    expect(same.status).toBe(422);
    expect(await same.text()).toMatch(/<select id="f-to" name="to"[^>]*aria-invalid="true"/);
    expect(await level('B2', 'WEST')).toBeUndefined();

    const res = await post('/console/stock/new/transfer', operator, {
      from: 'MAIN',
      to: 'WEST',
      reference: 'TR-1',
      'lines.0.sku': 'B2',
      'lines.0.quantity': '3',
    });
    expect(res.status).toBe(303);
    expect(await level('B2', 'MAIN')).toMatchObject({ on_hand: 5, reserved: 0 });
    expect(await level('B2', 'WEST')).toMatchObject({ on_hand: 3, reserved: 0 });
    expect((await ledger('B2')).slice(-2)).toEqual([
      { warehouse: 'MAIN', d_on_hand: -3, d_reserved: 0, reason: 'transfer', ref_type: 'transfer' },
      { warehouse: 'WEST', d_on_hand: 3, d_reserved: 0, reason: 'transfer', ref_type: 'transfer' },
    ]);
    const page = await (await get('/console/stock/B2', operator)).text();
    expect(page).toContain('Transfer TR-1');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('sets a reorder point per warehouse as the API does, and refuses a bad one', async () => {
    const res = await post('/console/stock/A1/warehouses/WEST/reorder-point', operator, {
      reorderPoint: '3',
    });
    expect(res.status).toBe(303);
    expect(await level('A1', 'WEST')).toMatchObject({ on_hand: 0, reserved: 0, reorder_point: 3 });
    const audit = await stack.db('audit_log').where('operation', 'consoleSetWarehouseReorderPoint').first();
    expect(audit).toMatchObject({ entity: 'stock', entity_id: 'A1/WEST' });
    const bad = await post('/console/stock/A1/warehouses/WEST/reorder-point', operator, {
      reorderPoint: '-1',
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/<input id="rp-WEST" name="reorderPoint"[^>]*aria-invalid="true"/);
    expect(await level('A1', 'WEST')).toMatchObject({ reorder_point: 3 });
    // Left empty: cleared.
    expect(
      (await post('/console/stock/A1/warehouses/WEST/reorder-point', operator, { reorderPoint: '' })).status,
    ).toBe(303);
    expect(await level('A1', 'WEST')).toMatchObject({ reorder_point: null });
  });
});

describe('stock pages', () => {
  it('list stock per SKU and warehouse in English and Chinese, searched by name and by warehouse', async () => {
    const en = await get('/console/stock', operator);
    expect(en.status).toBe(200);
    const html = await en.text();
    expect(html).toContain('<h1>Stock</h1>');
    expect(html).toContain('<a href="/console/stock/A1">A1</a>');
    expect(html).toContain('Blue kettle');
    expect(html).toContain('href="/console/stock/new/receipt"');
    const zh = await (await get('/console/stock', operator, 'zh-CN')).text();
    expect(zh).toContain('<h1>库存</h1>');
    expect(zh).toContain('<th scope="col" class="num">可用</th>');

    const byName = await (await get('/console/stock?q=kettle&warehouse=', operator)).text();
    expect(byName).toContain('/console/stock/A1"');
    expect(byName).not.toContain('/console/stock/B2"');
    const west = await (await get('/console/stock?warehouse=WEST', operator)).text();
    expect(west).toContain('/console/stock/B2"');
    expect(west).not.toContain('/console/stock/TWIN"');
  });

  it('pages the stock list 50 rows at a time', async () => {
    const codes = Array.from({ length: 55 }, (_, i) => `PG${String(i).padStart(2, '0')}`);
    const put = await stack.api('PUT', '/api/skus', {
      skus: codes.map((code) => ({ code, name: `Paged ${code}`, unitPrice: 100, currency: 'EUR' })),
    });
    expect(put.status).toBe(200);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'WEST',
      reference: 'GRN-paged',
      lines: codes.map((sku) => ({ sku, quantity: 1 })),
    });
    const first = await (await get('/console/stock?q=Paged', operator)).text();
    const rowsOf = (html: string) =>
      [...html.matchAll(/<a href="\/console\/stock\/(PG\d\d)">/g)].map((m) => m[1]);
    expect(rowsOf(first)).toHaveLength(50);
    const next = /<a href="(\/console\/stock\?[^"]+)" rel="next">/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain('q=Paged');
    const second = await (await get(next!, operator)).text();
    expect(rowsOf(second)).toHaveLength(5);
    expect(new Set([...rowsOf(first), ...rowsOf(second)])).toEqual(new Set(codes));
    expect(second).not.toContain('rel="next"');
  });

  it('shows a SKU’s levels, its ledger newest first with paging, and what each channel was told', async () => {
    const channel = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Shop',
      settings: {
        shopDomain: 'console-stock.myshopify.com',
        accessToken: 'shpat_console_token',
        webhookSecret: 'console-secret',
        locationId: 'gid://shopify/Location/1',
      },
    });
    expect(channel.status).toBe(201);
    const id = channel.body.id as number;
    expect((await stack.api('PUT', `/api/channels/${id}/skus/B2`, { inventoryItemId: '4401' })).status).toBe(
      200,
    );
    // What the push left behind, as a push records it.
    await stack.db('channel_skus').where({ channel_id: id, sku_code: 'B2' }).update({
      published_qty: 7,
      published_at: '2026-12-01 08:30:00.000',
      push_pending: true,
    });

    const res = await get('/console/stock/B2', operator);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>SKU B2</h1>');
    expect(html).toContain(`href="/console/channels/${id}">Shop (shopify:${id})</a>`);
    expect(html).toContain('<td class="num">7</td>');
    expect(html).toContain('2026-12-01 08:30 UTC');
    expect(html).toContain('Change waiting to be pushed');
    expect(html).not.toContain('shpat_console_token');
    // Ledger: newest first.
    const ledgerPart = html.slice(html.indexOf('id="ledger"'));
    expect(ledgerPart.indexOf('Transfer TR-1')).toBeLessThan(ledgerPart.indexOf('Receipt GRN-B2'));
    const zh = await (await get('/console/stock/B2', operator, 'zh-CN')).text();
    expect(zh).toContain('库存流水');
    expect(zh).toContain('调拨单 TR-1');
    expect(zh).toContain('有变动待推送');
    // The ledger of one warehouse.
    const west = await (await get('/console/stock/B2?warehouse=WEST', operator)).text();
    expect(west.slice(west.indexOf('id="ledger"'))).not.toContain('GRN-B2');

    // Paging: 52 more movements, 50 on the first page, the rest after.
    for (let i = 0; i < 26; i++) {
      await stack.api('POST', '/api/stock/adjustments', {
        warehouse: 'WEST',
        reason: 'count',
        reference: `ADJ-${i}`,
        lines: [{ sku: 'B2', delta: 1 }],
      });
      await stack.api('POST', '/api/stock/adjustments', {
        warehouse: 'MAIN',
        reason: 'count',
        reference: `ADJ-${i}`,
        lines: [{ sku: 'B2', delta: 1 }],
      });
    }
    const total = (await ledger('B2')).length;
    expect(total).toBe(55);
    const refsOf = (h: string) =>
      [...h.matchAll(/<td>(?:Adjustment|Receipt|Transfer) ([^<]+)<\/td>/g)].map((m) => m[1]);
    const one = await (await get('/console/stock/B2', operator)).text();
    expect(refsOf(one)).toHaveLength(50);
    expect(refsOf(one)[0]).toBe('ADJ-25');
    const next = /<a href="(\/console\/stock\/B2\?[^"]+)#ledger" rel="next">/
      .exec(one)?.[1]
      ?.replace(/&amp;/g, '&');
    const two = await (await get(next!, operator)).text();
    expect(refsOf(two)).toEqual(['ADJ-0', 'ADJ-0', 'TR-1', 'TR-1', 'GRN-B2']);
    expect(two).not.toContain('rel="next"');
    expect((await get('/console/stock/NO-SUCH', operator)).status).toBe(404);
  });

  it('lists low-stock alerts linking to each SKU', async () => {
    await stack.api('PUT', '/api/skus/A1', {
      name: 'Blue kettle',
      unitPrice: 1000,
      currency: 'EUR',
      reorderPoint: 5,
    });
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'MAIN',
      reference: 'GRN-A1-2',
      lines: [{ sku: 'A1', quantity: 1 }],
    });
    await stack.settle();
    while ((await stack.relay.publishOutbox()) > 0) {
      // the relay hands stock changes to the low-stock check
    }
    const alerts = await stack.api('GET', '/api/alerts?sku=A1');
    expect(alerts.body.items.length).toBeGreaterThan(0);
    const html = await (await get('/console/stock/alerts/low', operator)).text();
    expect(html).toContain('<h1>Low-stock alerts</h1>');
    expect(html).toContain('<a href="/console/stock/A1">A1</a>');
    const zh = await (await get('/console/stock/alerts/low?sku=A1', operator, 'zh-CN')).text();
    expect(zh).toContain('<h1>低库存预警</h1>');
    expect(zh).toContain('<a href="/console/stock/A1">A1</a>');

    // The current list: A1 (all warehouses) is below its reorder point of 5 now.
    const avail = (await stack.api('GET', '/api/stock?below=reorder')).body.items as { sku: string }[];
    expect(avail.map((i) => i.sku)).toContain('A1');
    const low = await (await get('/console/stock/low', viewer)).text();
    expect(low).toContain('<h1>Low stock now</h1>');
    expect(low).toContain('<a href="/console/stock/A1">A1</a>');
    expect(low).toContain('All warehouses');
    expect(await (await get('/console/stock/low', viewer, 'zh-CN')).text()).toContain('<h1>当前低库存</h1>');
    expect(await (await get('/console/stock', viewer)).text()).toContain('href="/console/stock/low"');
    expect((await get('/console/stock/low?cursor=bad', viewer)).status).toBe(400);
    // Raised again above the reorder point: it leaves the list.
    await stack.api('PUT', '/api/skus/A1', {
      name: 'Blue kettle',
      unitPrice: 1000,
      currency: 'EUR',
      reorderPoint: 0,
    });
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'MAIN',
      reference: 'GRN-A1-3',
      lines: [{ sku: 'A1', quantity: 1 }],
    });
    await stack.settle();
    while ((await stack.relay.publishOutbox()) > 0) {
      // the relay hands stock changes to the low-stock check
    }
    expect(await (await get('/console/stock/low', viewer)).text()).toContain(
      'No SKU is below its reorder point.',
    );
  });
});

describe('the pages’ markup', () => {
  it('labels every field, repeats no id and has one h1 on each stock page', async () => {
    for (const path of [
      '/console/stock',
      '/console/stock/new/receipt?sku=A1',
      '/console/stock/new/adjustment',
      '/console/stock/new/transfer',
      '/console/stock/new/group-transfer',
      '/console/stock/A1',
      '/console/stock/alerts/low',
      '/console/stock/low',
    ]) {
      const res = await get(path, operator);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
      expect(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        path,
      ).toEqual([]);
      const labelled = new Set([...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
      const fields = [...html.matchAll(/<(input|select|textarea)\b([^>]*)>/g)]
        .filter((m) => !/type="hidden"/.test(m[2]!))
        .map((m) => / id="([^"]+)"/.exec(m[2]!)?.[1]);
      expect(
        fields.filter((id) => !id || !labelled.has(id)),
        path,
      ).toEqual([]);
      expect(html.match(/<h1>/g), path).toHaveLength(1);
      expect(html, path).not.toMatch(/ style="| on[a-z]+="|<script>/);
    }
    const receipt = await (await get('/console/stock/new/receipt?sku=A1', operator)).text();
    expect(receipt).toMatch(/<input id="f-lines-0-sku" name="lines.0.sku" type="text" value="A1"/);
    expect(receipt).toContain('<script src="/console/assets/stock.js" defer');
    const script = await get('/console/assets/stock.js', operator);
    expect(await script.text()).toContain('/api/skus?limit=20&q=');
  });
});

describe('a viewer', () => {
  it('sees the stock but no forms, and may not post one', async () => {
    const list = await (await get('/console/stock?q=kettle', viewer)).text();
    expect(list).toContain('/console/stock/A1"');
    expect(list).not.toContain('/console/stock/new/receipt');
    const sku = await (await get('/console/stock/A1', viewer)).text();
    expect(sku).toContain('<h1>SKU A1</h1>');
    expect(sku).not.toContain('reorder-point');
    expect(sku).not.toContain('/console/stock/new/');
    expect((await get('/console/stock/new/receipt', viewer)).status).toBe(403);
    const before = await movementCount();
    const res = await post('/console/stock/new/receipt', viewer, {
      warehouse: 'MAIN',
      reference: 'GRN-viewer',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '1',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(
      (await post('/console/stock/A1/warehouses/MAIN/reorder-point', viewer, { reorderPoint: '1' })).status,
    ).toBe(403);
    expect(await movementCount()).toBe(before);
    expect(await stack.db('stock_documents').where({ reference: 'GRN-viewer' }).first()).toBeUndefined();
  });
});

describe('intra-group transfers', () => {
  it('sends stock to another company and receives it in parts, as the API does', async () => {
    expect(
      (await stack.api('PUT', '/api/price-lists/IC-HK', { name: 'Intercompany HK', currency: 'CNY' })).status,
    ).toBe(201);
    expect(
      (await stack.api('PUT', '/api/price-lists/IC-HK/items', { items: [{ sku: 'A1', price: 800 }] })).status,
    ).toBe(200);
    expect(
      (await stack.api('PUT', '/api/companies/SH', { name: 'Shanghai Trading', currency: 'CNY' })).status,
    ).toBe(201);
    expect(
      (
        await stack.api('PUT', '/api/companies/HK', {
          name: 'HK Trading',
          currency: 'CNY',
          transferPriceList: 'IC-HK',
        })
      ).status,
    ).toBe(201);
    for (const [code, company] of [
      ['SH-1', 'SH'],
      ['HK-1', 'HK'],
    ] as const)
      expect(
        (await stack.api('PUT', `/api/warehouses/${code}`, { name: code, priority: 5, company })).status,
      ).toBe(201);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'SH-1',
      reference: 'GRN-SH',
      lines: [{ sku: 'A1', quantity: 10 }],
    });

    const form = await (await get('/console/stock/new/group-transfer', operator)).text();
    expect(form).toContain('<option value="HK-1">HK-1 · HK-1 (HK)</option>');
    expect(form).not.toContain('<option value="MAIN">');
    const before = await movementCount();
    const tooMuch = await post('/console/stock/new/group-transfer', operator, {
      ref: 'IG-1',
      from: 'SH-1',
      to: 'HK-1',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '11',
    });
    expect(tooMuch.status).toBe(409);
    expect(await tooMuch.text()).toMatch(
      /<input id="f-lines-0-quantity" name="lines.0.quantity"[^>]*aria-invalid="true"/,
    );
    const bad = await post('/console/stock/new/group-transfer', operator, {
      ref: '',
      from: 'SH-1',
      to: 'HK-1',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '4',
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/<input id="f-ref" name="ref"[^>]*aria-invalid="true"/);
    expect(await movementCount()).toBe(before);

    const sent = await post('/console/stock/new/group-transfer', operator, {
      ref: 'IG-1',
      from: 'SH-1',
      to: 'HK-1',
      priceList: '',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '4',
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe('/console/stock/group-transfers/IG-1');
    const api = await stack.api('GET', '/api/transfers/IG-1');
    expect(api.body).toMatchObject({ status: 'in_transit', totals: { sent: 4, received: 0, inTransit: 4 } });
    expect(await level('A1', 'SH-1')).toMatchObject({ on_hand: 6, reserved: 0 });
    expect(await level('A1', api.body.inTransitLocation)).toMatchObject({ on_hand: 4, reserved: 0 });
    expect(
      await stack.db('audit_log').where({ operation: 'consoleSendTransfer', entity_id: 'IG-1' }).first(),
    ).toBeTruthy();

    const { html } = await flashOf(sent, operator);
    expect(html).toContain('Transfer IG-1 sent: the stock is in transit.');
    expect(html).toContain('<h1>Intra-group transfer IG-1</h1>');
    expect(html).toContain('32.00 CNY');
    const zh = await (await get('/console/stock/group-transfers/IG-1', operator, 'zh-CN')).text();
    expect(zh).toContain('<h1>集团内部调拨 IG-1</h1>');
    expect(zh).toContain('在途');
    expect((await get('/console/stock/find/group-transfer?ref=IG-1', operator)).headers.get('location')).toBe(
      '/console/stock/group-transfers/IG-1',
    );

    // Part, then the rest (lines left blank).
    // The receipt reference left blank: the page's own key stands in, so posting twice books it once.
    const shown = await (await get('/console/stock/group-transfers/IG-1', operator)).text();
    const formKey = /name="formKey" value="(console:[0-9a-f-]{36})"/.exec(shown)?.[1];
    expect(formKey).toBeTruthy();
    const receivePart = () =>
      post('/console/stock/group-transfers/IG-1/receive', operator, {
        formKey: formKey!,
        receipt: '',
        'lines.0.sku': 'A1',
        'lines.0.quantity': '1',
      });
    const part = await receivePart();
    expect(part.status).toBe(303);
    expect(await level('A1', 'HK-1')).toMatchObject({ on_hand: 1, reserved: 0 });
    const again = await receivePart();
    expect(again.status).toBe(303);
    expect((await flashOf(again, operator)).html).toContain('IG-1');
    expect(await level('A1', 'HK-1')).toMatchObject({ on_hand: 1, reserved: 0 });
    expect((await stack.api('GET', '/api/transfers/IG-1')).body.receipts).toHaveLength(1);
    const over = await post('/console/stock/group-transfers/IG-1/receive', operator, {
      receipt: 'RC-2',
      'lines.0.sku': 'A1',
      'lines.0.quantity': '9',
    });
    expect(over.status).toBe(409);
    expect(await over.text()).toMatch(
      /<input id="f-lines-0-quantity" name="lines.0.quantity"[^>]*aria-invalid="true"/,
    );
    const rest = await post('/console/stock/group-transfers/IG-1/receive', operator, {
      receipt: 'RC-3',
      'lines.0.sku': '',
      'lines.0.quantity': '',
    });
    expect(rest.status).toBe(303);
    expect(await level('A1', 'HK-1')).toMatchObject({ on_hand: 4, reserved: 0 });
    const done = await (await get('/console/stock/group-transfers/IG-1', operator)).text();
    expect(done).toContain('Received');
    expect(done).not.toContain('/receive"');
    expect(
      await stack.db('audit_log').where({ operation: 'consoleReceiveTransfer' }).count({ n: '*' }),
    ).toEqual([{ n: 3 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);

    expect(
      (await post('/console/stock/group-transfers/IG-1/receive', viewer, { receipt: 'RC-v' })).status,
    ).toBe(403);
    expect((await get('/console/stock/group-transfers/NOPE', operator)).status).toBe(404);
  });
});

describe('on SQLite', () => {
  it('searches stock, pages a ledger and records a receipt with the same queries', async () => {
    const lite = await createStack({ sqlite: true });
    try {
      await seedCatalog(
        lite,
        [
          { code: 'MAIN', priority: 1 },
          { code: 'WEST', priority: 2 },
        ],
        ['Q1', 'Q2'],
      );
      await lite.api('PUT', '/api/skus/Q1', { name: 'Green teapot', unitPrice: 100, currency: 'EUR' });
      expect(
        (
          await lite.api('POST', '/api/users', {
            email: 'lite@example.com',
            role: 'operator',
            password: PASSWORD,
          })
        ).status,
      ).toBe(201);
      const who = await logIn(lite.app, 'lite@example.com', PASSWORD, '203.0.113.31');
      const res = await lite.app.request('/console/stock/new/receipt', {
        method: 'POST',
        headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
        body: form({
          _csrf: who.csrf,
          warehouse: 'WEST',
          reference: 'L-1',
          'lines.0.sku': 'Q1',
          'lines.0.quantity': '3',
        }),
      });
      expect(res.status).toBe(303);
      for (let i = 0; i < 3; i++)
        await lite.api('POST', '/api/stock/adjustments', {
          warehouse: i % 2 ? 'MAIN' : 'WEST',
          reason: 'count',
          lines: [{ sku: 'Q1', delta: 1 }],
        });
      const page = async (path: string) =>
        (await lite.app.request(path, { headers: { cookie: who.cookie, 'accept-language': 'en' } })).text();
      const found = await page('/console/stock?q=TEAPOT');
      expect(found).toContain('<a href="/console/stock/Q1">Q1</a>');
      expect(found).not.toContain('/console/stock/Q2"');
      const sku = await page('/console/stock/Q1');
      const refs = [...sku.matchAll(/<td>(Adjustment|Receipt) ([^<]+)<\/td>/g)].map((m) => m[1]);
      expect(refs).toEqual(['Adjustment', 'Adjustment', 'Adjustment', 'Receipt']);
      const west = await page('/console/stock/Q1?warehouse=WEST');
      expect([...west.matchAll(/<td>(Adjustment|Receipt) ([^<]+)<\/td>/g)]).toHaveLength(3);
      expect(await page('/console/stock/alerts/low')).toContain('No low-stock alerts.');
    } finally {
      await lite.close();
    }
  });
});
