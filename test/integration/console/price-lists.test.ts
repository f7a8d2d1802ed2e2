import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's price list pages: lists, items (paged), one-item edits, sheet import, assignments. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let finance: Browser;
let viewer: Browser;
let operator: Browser;

async function user(email: string, role: string): Promise<Browser> {
  const made = await stack.api('POST', '/api/users', { email, role, password: 'correct horse battery' });
  expect(made.status).toBe(201);
  return logIn(stack.app, email, 'correct horse battery', `198.51.100.${made.body.id}`);
}

const page = async (path: string, who: Browser, lang = 'en') => {
  const res = await stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });
  return { status: res.status, html: await res.text() };
};

const post = (path: string, who: Browser, fields: Record<string, string>) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: form({ _csrf: who.csrf, ...fields }),
  });

const upload = (path: string, who: Browser, name: string, data: string) => {
  const body = new FormData();
  body.set('_csrf', who.csrf);
  body.set('file', new File([data], name));
  return stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'accept-language': 'en' },
    body,
  });
};

const invalid = (html: string, id: string) =>
  new RegExp(`id="${id}"[^>]*aria-invalid="true"`).test(html) && html.includes(`id="${id}-error"`);

const items = async (code: string) => (await stack.api('GET', `/api/price-lists/${code}/items`)).body.items;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(
    stack,
    [{ code: 'main', priority: 1 }],
    Array.from({ length: 55 }, (_, i) => `P-${String(i + 1).padStart(2, '0')}`),
  );
  expect((await stack.api('PUT', '/api/customers/ACME', { name: 'Acme' })).status).toBe(201);
  finance = await user('fin@example.com', 'finance');
  viewer = await user('view@example.com', 'viewer');
  operator = await user('ops@example.com', 'operator');
});

afterAll(async () => {
  await stack?.close();
});

describe('console price lists', () => {
  it('creates a price list through the form, as PUT /api/price-lists would', async () => {
    const bad = await post('/console/price-lists', finance, { code: 'bad code', name: '', currency: 'euro' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    for (const id of ['f-code', 'f-name', 'f-currency']) expect(invalid(html, id)).toBe(true);
    expect((await stack.api('GET', '/api/price-lists')).body.items).toEqual([]);
    const res = await post('/console/price-lists', finance, {
      code: 'VIP',
      name: 'VIP prices',
      currency: 'EUR',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/price-lists/VIP');
    expect((await stack.api('GET', '/api/price-lists/VIP')).body).toMatchObject({
      code: 'VIP',
      name: 'VIP prices',
      currency: 'EUR',
      itemCount: 0,
    });
    const audit = await stack.db('audit_log').where({ operation: 'consoleCreatePriceList' }).first();
    expect(audit).toMatchObject({ actor: 'fin@example.com', entity: 'price_list', entity_id: 'VIP' });
  });

  it('adds and changes one item through the form, prices typed in major units', async () => {
    const res = await post('/console/price-lists/VIP/items', finance, {
      sku: 'P-01',
      minQuantity: '1',
      price: '12.50',
      validFrom: '',
      validTo: '',
      percent: '',
      basedOn: '',
    });
    expect(res.status).toBe(303);
    expect(await items('VIP')).toEqual([
      expect.objectContaining({ sku: 'P-01', minQuantity: 1, price: 1250, validFrom: null, percent: null }),
    ]);
    const changed = await post('/console/price-lists/VIP/items', finance, {
      sku: 'P-01',
      minQuantity: '1',
      price: '11',
    });
    expect(changed.status).toBe(303);
    const second = await post('/console/price-lists/VIP/items', finance, {
      sku: 'P-01',
      minQuantity: '10',
      price: '10.00',
      validTo: '2027-12-31',
    });
    expect(second.status).toBe(303);
    const now = await items('VIP');
    expect(now.map((i: any) => [i.sku, i.minQuantity, i.price, i.validTo])).toEqual([
      ['P-01', 1, 1100, null],
      ['P-01', 10, 1000, '2027-12-31'],
    ]);
    // What the form wrote is what the API writes: the same items again change nothing.
    const same = await stack.api('PUT', '/api/price-lists/VIP/items', {
      items: now.map(({ id: _id, ...i }: any) => i),
    });
    expect(same.body).toEqual({ created: 0, updated: 0, deleted: 0, unchanged: 2 });
    const entries = await stack.db('audit_log').where({ operation: 'consoleSavePriceItem' });
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({ entity: 'price_list', entity_id: 'VIP', actor: 'fin@example.com' });
  });

  it('answers a bad item with 422 beside its field and changes nothing', async () => {
    const before = await items('VIP');
    const decimals = await post('/console/price-lists/VIP/items', finance, { sku: 'P-02', price: '1.234' });
    expect(decimals.status).toBe(422);
    const html = await decimals.text();
    expect(invalid(html, 'f-price')).toBe(true);
    expect(html).toContain('value="1.234"');
    const quantity = await post('/console/price-lists/VIP/items', finance, {
      sku: 'P-02',
      minQuantity: '0',
      price: '1',
      validFrom: '2026-02-30',
    });
    expect(quantity.status).toBe(422);
    const qHtml = await quantity.text();
    expect(invalid(qHtml, 'f-minQuantity')).toBe(true);
    expect(invalid(qHtml, 'f-validFrom')).toBe(true);
    const unknown = await post('/console/price-lists/VIP/items', finance, { sku: 'NOPE', price: '1' });
    expect(unknown.status).toBe(422);
    expect(invalid(await unknown.text(), 'f-sku')).toBe(true);
    expect(await items('VIP')).toEqual(before);
  });

  it('removes an item', async () => {
    const [, second] = await items('VIP');
    const res = await post(`/console/price-lists/VIP/items/${second.id}/delete`, finance, {});
    expect(res.status).toBe(303);
    expect((await items('VIP')).map((i: any) => i.minQuantity)).toEqual([1]);
    expect((await post('/console/price-lists/VIP/items/999999/delete', finance, {})).status).toBe(404);
  });

  it('saves one item without touching the others, even ones added meanwhile', async () => {
    const before = await items('VIP');
    // Items saved at the same time through the console and the API all stay.
    const saves = await Promise.all(
      ['P-20', 'P-21', 'P-22', 'P-23', 'P-24'].map((sku) =>
        post('/console/price-lists/VIP/items', finance, { sku, minQuantity: '1', price: '3' }),
      ),
    );
    expect(saves.map((r) => r.status)).toEqual([303, 303, 303, 303, 303]);
    const after = await items('VIP');
    expect(after).toHaveLength(before.length + 5);
    for (const item of before) expect(after).toContainEqual(item);
    const removed = after.find((i: any) => i.sku === 'P-22');
    const gone = await Promise.all([
      post(`/console/price-lists/VIP/items/${removed.id}/delete`, finance, {}),
      post('/console/price-lists/VIP/items', finance, { sku: 'P-25', minQuantity: '1', price: '4' }),
    ]);
    expect(gone.map((r) => r.status)).toEqual([303, 303]);
    const last = await items('VIP');
    expect(last.map((i: any) => i.sku).sort()).toEqual(
      [...after.map((i: any) => i.sku).filter((s: string) => s !== 'P-22'), 'P-25'].sort(),
    );
    for (const sku of ['P-20', 'P-21', 'P-22', 'P-23', 'P-24', 'P-25']) {
      const it = last.find((i: any) => i.sku === sku);
      if (it) await post(`/console/price-lists/VIP/items/${it.id}/delete`, finance, {});
    }
    expect(await items('VIP')).toEqual(before);
  });

  it('takes a sheet larger than the 1 MiB body limit, as the API does', async () => {
    const before = await items('VIP');
    const big = `SKU,Price\n${'NOPE,1.00\n'.repeat(120_000)}`;
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const res = await upload('/console/price-lists/VIP/import', finance, 'prices.csv', big);
    expect(res.status).toBe(422);
    expect(await items('VIP')).toEqual(before);
  });

  it('imports a sheet, listing its bad rows and changing nothing then', async () => {
    const before = await items('VIP');
    const bad = await upload(
      '/console/price-lists/VIP/import',
      finance,
      'prices.csv',
      'SKU,Price\nP-01,1.00\nNOPE,2.00\nP-03,x\n',
    );
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('nothing was changed');
    expect(html).toContain('Rows of the sheet that are not valid');
    expect(html).toMatch(/<td class="num">4<\/td><td>unit price &quot;x&quot; is not a decimal number/);
    expect(await items('VIP')).toEqual(before);
    // An unknown SKU is named by its row too.
    const unknown = await upload(
      '/console/price-lists/VIP/import',
      finance,
      'prices.csv',
      'SKU,Price\nP-01,1.00\nNOPE,2.00\n',
    );
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toMatch(/<td class="num">3<\/td>/);
    expect(await items('VIP')).toEqual(before);
    const empty = await upload('/console/price-lists/VIP/import', finance, '', '');
    expect(empty.status).toBe(422);
    const rows = [
      'SKU,Min quantity,Price',
      ...Array.from({ length: 55 }, (_, i) => `P-${String(i + 1).padStart(2, '0')},1,${i + 1}.00`),
    ];
    const ok = await upload('/console/price-lists/VIP/import', finance, 'prices.csv', `${rows.join('\n')}\n`);
    expect(ok.status).toBe(303);
    const stored = await items('VIP');
    expect(stored).toHaveLength(55);
    expect(stored.find((i: any) => i.sku === 'P-03').price).toBe(300);
    const audit = await stack.db('audit_log').where({ operation: 'consoleImportPriceList' });
    expect(audit).toHaveLength(1);
  });

  it('shows the items paged, with the export link, in English and Chinese', async () => {
    const first = await page('/console/price-lists/VIP', viewer);
    expect(first.status).toBe(200);
    expect(first.html).toContain('VIP prices');
    expect(first.html).toContain('href="/api/price-lists/VIP/export"');
    expect(first.html).toContain('<td>P-01</td>');
    expect(first.html).toContain('1.00 EUR');
    expect(first.html).toContain('<td>P-50</td>');
    expect(first.html).not.toContain('<td>P-51</td>');
    const next = /href="(\/console\/price-lists\/VIP\?after=[^"]+)"/.exec(first.html)?.[1];
    expect(next).toBeTruthy();
    const second = await page(next!.replace(/&amp;/g, '&'), viewer);
    expect(second.html).toContain('<td>P-51</td>');
    expect(second.html).toContain('<td>P-55</td>');
    expect(second.html).not.toContain('<td>P-50</td>');
    const zh = await page('/console/price-lists/VIP', viewer, 'zh-CN');
    expect(zh.html).toContain('价格表 VIP');
    expect(zh.html).toContain('适用对象');
    const list = await page('/console/price-lists', viewer, 'zh-CN');
    expect(list.html).toContain('<h1>价格表</h1>');
    expect(list.html).toContain('href="/console/price-lists/VIP"');
    expect(list.html).toMatch(/<td class="num">55<\/td>/);
  });

  it('assigns a list to a customer and a group, and removes an assignment', async () => {
    const unknown = await post('/console/price-lists/VIP/assignments', finance, {
      level: 'customer',
      target: 'NOPE',
    });
    expect(unknown.status).toBe(422);
    expect(invalid(await unknown.text(), 'f-target')).toBe(true);
    const blank = await post('/console/price-lists/VIP/assignments', finance, { level: 'group', target: '' });
    expect(blank.status).toBe(422);
    expect(invalid(await blank.text(), 'f-target')).toBe(true);
    expect((await stack.api('GET', '/api/price-lists/VIP')).body.assignments).toEqual([]);
    expect(
      (await post('/console/price-lists/VIP/assignments', finance, { level: 'customer', target: 'ACME' }))
        .status,
    ).toBe(303);
    expect(
      (await post('/console/price-lists/VIP/assignments', finance, { level: 'group', target: 'wholesale' }))
        .status,
    ).toBe(303);
    const assignments = (await stack.api('GET', '/api/price-lists/VIP')).body.assignments;
    expect(assignments).toEqual([
      expect.objectContaining({ level: 'customer', customer: 'ACME' }),
      expect.objectContaining({ level: 'group', group: 'wholesale' }),
    ]);
    const { html } = await page('/console/price-lists/VIP', finance);
    expect(html).toContain('href="/console/customers/ACME"');
    const res = await post(`/console/price-lists/VIP/assignments/${assignments[1].id}/delete`, finance, {});
    expect(res.status).toBe(303);
    expect((await stack.api('GET', '/api/price-lists/VIP')).body.assignments).toHaveLength(1);
    expect(await stack.db('audit_log').where({ operation: 'consoleAssignPriceList' })).toHaveLength(2);
  });

  it('gives a viewer and an operator no forms, and refuses their posts', async () => {
    for (const who of [viewer, operator]) {
      const { html } = await page('/console/price-lists/VIP', who);
      expect(html).not.toContain('method="post" action="/console/price-lists/VIP');
      const list = await page('/console/price-lists', who);
      expect(list.html).not.toContain('action="/console/price-lists"');
      const before = await items('VIP');
      expect((await post('/console/price-lists/VIP/items', who, { sku: 'P-01', price: '1' })).status).toBe(
        403,
      );
      expect(
        (await post('/console/price-lists', who, { code: 'X', name: 'x', currency: 'EUR' })).status,
      ).toBe(403);
      expect(
        (await upload('/console/price-lists/VIP/import', who, 'p.csv', 'SKU,Price\nP-01,1\n')).status,
      ).toBe(403);
      expect(await items('VIP')).toEqual(before);
    }
  });

  it('shows promotions read-only, in English and Chinese', async () => {
    const made = await stack.api('PUT', '/api/promotions/SPRING', {
      name: 'Spring sale',
      kind: 'amount',
      amount: 500,
      currency: 'EUR',
      validFrom: '2026-03-01',
      groups: ['wholesale'],
    });
    expect(made.status).toBe(201);
    const list = await page('/console/promotions', viewer);
    expect(list.status).toBe(200);
    expect(list.html).toContain('href="/console/promotions/SPRING"');
    expect(list.html).toContain('Amount off: <span class="money">5.00 EUR</span>');
    const one = await page('/console/promotions/SPRING', viewer, 'zh-CN');
    expect(one.status).toBe(200);
    expect(one.html).toContain('促销 SPRING');
    expect(one.html).toContain('按金额优惠');
    expect(one.html).toContain('wholesale');
    expect((await page('/console/promotions/NOPE', viewer)).status).toBe(404);
  });
});
