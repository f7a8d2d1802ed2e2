import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractDraws } from '../../../src/customers/contracts.js';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's contract pages: list, a contract's lines and draws, create and edit through the API's schema. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let finance: Browser;
let viewer: Browser;
let operator: Browser;
let orderId: number;

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

const invalid = (html: string, id: string) =>
  new RegExp(`id="${id}"[^>]*aria-invalid="true"`).test(html) && html.includes(`id="${id}-error"`);

const contract = async (number: string) => stack.api('GET', `/api/contracts/${number}`);

const contractForm = {
  number: 'HT-2026-001',
  customer: 'ACME',
  name: 'Bolts 2026',
  currency: 'EUR',
  validFrom: '2026-01-01',
  validTo: '2027-12-31',
  'lines.0.sku': 'BOLT',
  'lines.0.quantity': '100',
  'lines.0.price': '8.50',
  'lines.0.overrunPercent': '10',
  'lines.1.sku': 'NUT',
  'lines.1.quantity': '50',
  'lines.1.price': '1.25',
  'lines.1.overrunPercent': '',
  'lines.2.sku': '',
  'lines.2.quantity': '',
  'lines.2.price': '',
  'lines.2.overrunPercent': '',
};

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT']);
  expect(
    (
      await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'opening',
        lines: [
          { sku: 'BOLT', quantity: 1000 },
          { sku: 'NUT', quantity: 1000 },
        ],
      })
    ).status,
  ).toBeLessThan(300);
  expect((await stack.api('PUT', '/api/customers/ACME', { name: 'Acme' })).status).toBe(201);
  finance = await user('fin@example.com', 'finance');
  viewer = await user('view@example.com', 'viewer');
  operator = await user('ops@example.com', 'operator');
});

afterAll(async () => {
  await stack?.close();
});

describe('console contracts', () => {
  it('answers a bad contract with 422 beside its fields and creates nothing', async () => {
    const res = await post('/console/contracts', finance, {
      ...contractForm,
      number: 'bad number',
      validFrom: '2026-13-01',
      'lines.0.quantity': '0',
      'lines.1.price': '1.255',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(invalid(html, 'f-number')).toBe(true);
    expect(invalid(html, 'f-validFrom')).toBe(true);
    expect(invalid(html, 'f-lines-0-quantity')).toBe(true);
    expect(invalid(html, 'f-lines-1-price')).toBe(true);
    expect(html).toContain('value="1.255"');
    // A problem in a row after a blank one is shown beside that row's field.
    const gap = await post('/console/contracts', finance, {
      ...contractForm,
      'lines.1.sku': '',
      'lines.1.quantity': '',
      'lines.1.price': '',
      'lines.2.sku': 'NUT',
      'lines.2.quantity': '-1',
      'lines.2.price': '1.00',
    });
    expect(gap.status).toBe(422);
    const gapHtml = await gap.text();
    expect(invalid(gapHtml, 'f-lines-2-quantity')).toBe(true);
    expect(invalid(gapHtml, 'f-lines-1-quantity')).toBe(false);
    const unknown = await post('/console/contracts', finance, { ...contractForm, customer: 'NOPE' });
    expect(unknown.status).toBe(422);
    expect(invalid(await unknown.text(), 'f-customer')).toBe(true);
    expect((await stack.api('GET', '/api/contracts')).body.items).toEqual([]);
  });

  it('creates a contract through the form as the API would, with its audit entry', async () => {
    expect((await page('/console/contracts/new', finance)).status).toBe(200);
    const res = await post('/console/contracts', finance, contractForm);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/contracts/HT-2026-001');
    const stored = (await contract('HT-2026-001')).body;
    expect(stored).toMatchObject({
      customer: 'ACME',
      name: 'Bolts 2026',
      currency: 'EUR',
      validFrom: '2026-01-01',
      validTo: '2027-12-31',
      lines: [
        expect.objectContaining({ lineNo: 1, sku: 'BOLT', price: 850, overrunPercent: 10, contracted: 100 }),
        expect.objectContaining({ lineNo: 2, sku: 'NUT', price: 125, overrunPercent: 0, contracted: 50 }),
      ],
    });
    // The API's PUT of the same contract changes nothing.
    const same = await stack.api('PUT', '/api/contracts/HT-2026-001', {
      customer: 'ACME',
      name: 'Bolts 2026',
      currency: 'EUR',
      validFrom: '2026-01-01',
      validTo: '2027-12-31',
      lines: [
        { sku: 'BOLT', quantity: 100, price: 850, overrunPercent: 10 },
        { sku: 'NUT', quantity: 50, price: 125 },
      ],
    });
    expect(same.status).toBe(200);
    expect(same.body.updatedAt).toBe(stored.updatedAt);
    const audit = await stack.db('audit_log').where({ operation: 'consoleCreateContract' }).first();
    expect(audit).toMatchObject({ actor: 'fin@example.com', entity: 'contract', entity_id: 'HT-2026-001' });
    const twice = await post('/console/contracts', finance, contractForm);
    expect(twice.status).toBe(409);
    expect(invalid(await twice.text(), 'f-number')).toBe(true);
  });

  it("shows a contract's lines, remaining quantities and draws, in English and Chinese", async () => {
    const res = await stack.api('POST', '/api/orders', {
      externalId: 'k-1',
      currency: 'EUR',
      customer: { code: 'ACME' },
      contract: 'HT-2026-001',
      lines: [{ sku: 'BOLT', quantity: 30, unitPrice: 1000 }],
    });
    expect(res.status).toBe(202);
    orderId = res.body.id;
    stack.startWorker(1);
    await stack.settle();
    const api = (await contract('HT-2026-001')).body;
    expect(api.lines[0]).toMatchObject({ drawn: 30, remaining: 70 });
    const { status, html } = await page('/console/contracts/HT-2026-001', viewer);
    expect(status).toBe(200);
    expect(html).toContain('<h1>Contract HT-2026-001</h1>');
    expect(html).toContain('8.50 EUR');
    expect(html).toMatch(/<td class="num">30<\/td>/);
    expect(html).toMatch(/<td class="num">70<\/td>/);
    expect(html).toContain(`href="/console/orders/${orderId}"`);
    expect(html).toContain('Draws on the contract');
    expect(html).not.toContain('/console/contracts/HT-2026-001/edit');
    const zh = await page('/console/contracts/HT-2026-001', viewer, 'zh-CN');
    expect(zh.html).toContain('<h1>合同 HT-2026-001</h1>');
    expect(zh.html).toContain('剩余');
    const list = await page('/console/contracts', viewer);
    expect(list.html).toContain('href="/console/contracts/HT-2026-001"');
    expect(list.html).toContain('Active');
    const filtered = await page('/console/contracts?customer=OTHER', viewer, 'zh-CN');
    expect(filtered.html).not.toContain('href="/console/contracts/HT-2026-001"');
    expect(filtered.html).toContain('<h1>合同</h1>');
  });

  it('edits a contract, keeping before and after in the audit log; refuses cutting below what is drawn', async () => {
    const edit = await page('/console/contracts/HT-2026-001/edit', finance);
    expect(edit.html).toMatch(/name="lines.0.price" type="text" value="8.50"/);
    const { number: _n, ...fields } = contractForm;
    const cut = await post('/console/contracts/HT-2026-001', finance, {
      ...fields,
      'lines.0.quantity': '10',
    });
    expect(cut.status).toBe(409);
    const before = (await contract('HT-2026-001')).body;
    expect(before.lines[0].contracted).toBe(100);
    const res = await post('/console/contracts/HT-2026-001', finance, {
      ...fields,
      'lines.0.quantity': '200',
      'lines.1.sku': '',
      'lines.1.quantity': '',
      'lines.1.price': '',
    });
    expect(res.status).toBe(303);
    const after = (await contract('HT-2026-001')).body;
    expect(after.lines).toEqual([expect.objectContaining({ sku: 'BOLT', contracted: 200, drawn: 30 })]);
    const entry = await stack
      .db('audit_log')
      .where({ operation: 'consoleSaveContract', entity_id: 'HT-2026-001' })
      .orderBy('id', 'desc')
      .first();
    expect(JSON.parse(entry.before).lines).toHaveLength(2);
    expect(JSON.parse(entry.after).lines).toHaveLength(1);
  });

  it('gives a viewer and an operator no forms, and refuses their posts', async () => {
    for (const who of [viewer, operator]) {
      const list = await page('/console/contracts', who);
      expect(list.html).not.toContain('/console/contracts/new');
      expect((await page('/console/contracts/new', who)).status).toBe(403);
      expect((await page('/console/contracts/HT-2026-001/edit', who)).status).toBe(403);
      const before = (await contract('HT-2026-001')).body;
      const res = await post('/console/contracts/HT-2026-001', who, { ...contractForm, name: 'x' });
      expect(res.status).toBe(403);
      expect((await post('/console/contracts', who, { ...contractForm, number: 'HT-X' })).status).toBe(403);
      expect((await contract('HT-2026-001')).body).toEqual(before);
    }
    expect((await contract('HT-X')).status).toBe(404);
  });

  it("pages a contract's draws, newest first", async () => {
    const second = await stack.api('POST', '/api/orders', {
      externalId: 'k-2',
      currency: 'EUR',
      customer: { code: 'ACME' },
      contract: 'HT-2026-001',
      lines: [{ sku: 'BOLT', quantity: 5, unitPrice: 1000 }],
    });
    expect(second.status).toBe(202);
    await stack.settle();
    const first = await contractDraws(stack.db, 'HT-2026-001', { limit: 1, beforeId: null });
    expect(first.items.map((d) => d.order)).toEqual([second.body.id]);
    expect(first.nextId).toBe(first.items[0]!.id);
    const rest = await contractDraws(stack.db, 'HT-2026-001', { limit: 1, beforeId: first.nextId });
    expect(rest.items.map((d) => d.order)).toEqual([orderId]);
    expect(rest.nextId).toBeNull();
    // The page shows the newest draw first; before the newest, only the older one.
    const older = await page(`/console/contracts/HT-2026-001?before=${first.nextId}`, viewer);
    expect(older.status).toBe(200);
    expect(older.html).toContain(`href="/console/orders/${orderId}"`);
    expect(older.html).not.toContain(`href="/console/orders/${second.body.id}"`);
    expect((await page('/console/contracts/HT-2026-001?before=x', viewer)).status).toBe(400);
  });
});
