import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's customer and salesperson pages: list, credit, create/edit/delete through the API's schema. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let finance: Browser;
let viewer: Browser;
let operator: Browser;
let heldId: number;
let passedId: number;

async function user(email: string, role: string): Promise<Browser> {
  const made = await stack.api('POST', '/api/users', { email, role, password: 'correct horse battery' });
  expect(made.status).toBe(201);
  return logIn(stack.app, email, 'correct horse battery', `198.51.100.${made.body.id}`);
}

const page = async (path: string, who: Browser, lang = 'en') => {
  const res = await stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });
  return { status: res.status, html: await res.text(), res };
};

const post = (path: string, who: Browser, fields: Record<string, string>) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: form({ _csrf: who.csrf, ...fields }),
  });

/** Whether the input of a field is marked invalid, with its error text next to it. */
const invalid = (html: string, id: string) =>
  new RegExp(`id="${id}"[^>]*aria-invalid="true"`).test(html) && html.includes(`id="${id}-error"`);

const apiCustomer = async (code: string) => (await stack.api('GET', `/api/customers/${code}`)).body;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['CR-1']);
  expect(
    (
      await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'opening',
        lines: [{ sku: 'CR-1', quantity: 100 }],
      })
    ).status,
  ).toBeLessThan(300);
  expect(
    (
      await stack.api('PUT', '/api/salespeople/sp-li', {
        name: 'Li Wei',
        email: 'li@example.com',
        creditLimit: { amount: 100_000, currency: 'EUR' },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await stack.api('PUT', '/api/customers/ACME', {
        name: 'Acme Trading',
        group: 'wholesale',
        salesperson: 'sp-li',
        currency: 'EUR',
        contacts: [{ name: 'Zhang San', email: 'zhang@acme.example' }],
        creditLimit: { amount: 1500, currency: 'EUR' },
        paymentTermsDays: 30,
      })
    ).status,
  ).toBe(201);
  expect((await stack.api('PUT', '/api/customers/BETA', { name: 'Beta Supplies' })).status).toBe(201);
  stack.startWorker(1);
  const order = async (externalId: string) => {
    const res = await stack.api('POST', '/api/orders', {
      externalId,
      currency: 'EUR',
      lines: [{ sku: 'CR-1', quantity: 1, unitPrice: 1000 }],
      customer: { code: 'ACME' },
    });
    expect(res.status).toBe(202);
    return res.body.id as number;
  };
  passedId = await order('cc-1');
  await stack.settle();
  heldId = await order('cc-2');
  await stack.settle();
  expect((await stack.api('GET', `/api/orders/${heldId}`)).body).toMatchObject({
    status: 'on_hold',
    holdReason: 'credit_limit',
  });
  finance = await user('fin@example.com', 'finance');
  viewer = await user('view@example.com', 'viewer');
  operator = await user('ops@example.com', 'operator');
});

afterAll(async () => {
  await stack?.close();
});

describe('console customers', () => {
  it('lists customers, finds them by code or name, in English and Chinese', async () => {
    const en = await page('/console/customers', viewer);
    expect(en.status).toBe(200);
    expect(en.html).toContain('<h1>Customers</h1>');
    expect(en.html).toContain('href="/console/customers/ACME"');
    expect(en.html).toContain('href="/console/customers/BETA"');
    expect(en.html).toContain('15.00 EUR');
    const zh = await page('/console/customers', viewer, 'zh-CN');
    expect(zh.html).toContain('<h1>客户</h1>');
    expect(zh.html).toContain('lang="zh-CN"');
    const found = await page('/console/customers?q=beta', viewer);
    expect(found.html).toContain('/console/customers/BETA');
    expect(found.html).not.toContain('/console/customers/ACME"');
    const byName = await page('/console/customers?q=acme%20trad', viewer);
    expect(byName.html).toContain('/console/customers/ACME');
    // A viewer is offered no new-customer form.
    expect(en.html).not.toContain('/console/customers/new');
  });

  it('pages the list', async () => {
    const first = await page('/console/customers?limit=1', viewer);
    const next = /href="(\/console\/customers\?[^"]*cursor=[^"]+)"/.exec(first.html)?.[1];
    expect(next).toBeTruthy();
    const second = await page(next!.replace(/&amp;/g, '&'), viewer);
    expect(second.status).toBe(200);
    expect(second.html).toContain('/console/customers/ACME');
    expect(second.html).not.toContain('/console/customers/BETA"');
  });

  it("shows a customer's contacts, credit, held and recent orders and document delivery", async () => {
    const credit = (await stack.api('GET', '/api/customers/ACME/credit')).body;
    expect(credit.exposure.total).toBe(1000);
    const { status, html } = await page('/console/customers/ACME', viewer);
    expect(status).toBe(200);
    expect(html).toContain('Acme Trading');
    expect(html).toContain('zhang@acme.example');
    expect(html).toContain('href="/console/salespeople/sp-li"');
    // Limit, exposure and headroom as the API's credit view has them.
    expect(html).toContain('15.00 EUR');
    expect(html).toContain('10.00 EUR');
    expect(html).toContain('5.00 EUR');
    expect(html).toContain('Over the credit limit');
    expect(html).toContain(`href="/console/orders/${heldId}"`);
    expect(html).toContain(`href="/console/orders/${passedId}"`);
    expect(html).toContain('Documents are not e-mailed');
    // The newest orders only: no sums over all of them, a link to the order list instead.
    expect(html).toContain('href="/console/orders?customer=ACME"');
    expect(html).not.toContain('Order values by currency');
    // A viewer gets no forms.
    expect(html).not.toContain('/console/customers/ACME/edit');
    expect(html).not.toContain('method="post" action="/console/customers/ACME');
    const zh = await page('/console/customers/ACME', viewer, 'zh-CN');
    expect(zh.html).toContain('信用额度');
    expect(zh.html).toContain('超出信用额度');
    expect(zh.html).toContain('因信用挂起的订单');
    expect((await page('/console/customers/NOPE', viewer)).status).toBe(404);
  });

  it("shows a salesperson's credit and their customers' held orders", async () => {
    const { status, html } = await page('/console/salespeople/sp-li', viewer);
    expect(status).toBe(200);
    expect(html).toContain('Li Wei');
    expect(html).toContain('1,000.00 EUR');
    expect(html).toContain(`href="/console/orders/${heldId}"`);
    expect(html).toContain('href="/console/customers/ACME"');
    const zh = await page('/console/salespeople/sp-li', viewer, 'zh-CN');
    expect(zh.html).toContain('业务员 sp-li');
  });

  it("pages a salesperson's customers, 50 at a time", async () => {
    expect((await stack.api('PUT', '/api/salespeople/sp-many', { name: 'Many' })).status).toBeLessThan(300);
    for (let i = 0; i < 51; i++)
      expect(
        (await stack.api('PUT', `/api/customers/MANY-${i}`, { name: `Many ${i}`, salesperson: 'sp-many' }))
          .status,
      ).toBe(201);
    const first = await page('/console/salespeople/sp-many', viewer);
    expect(first.html).not.toContain('href="/console/customers/MANY-0"');
    expect(first.html).toContain('href="/console/customers/MANY-50"');
    const next = /href="(\/console\/salespeople\/sp-many\?beforeId=\d+)" rel="next"/.exec(first.html)?.[1];
    expect(next).toBeTruthy();
    const second = await page(next!, viewer);
    expect(second.html).toContain('href="/console/customers/MANY-0"');
    expect(second.html).not.toContain('href="/console/customers/MANY-50"');
  });

  it('creates a customer through the form as the API would, with its audit entry', async () => {
    const form = await page('/console/customers/new', finance);
    expect(form.status).toBe(200);
    expect(form.html).toContain('name="creditLimit.amount"');
    const res = await post('/console/customers', finance, {
      code: 'GAMMA',
      name: 'Gamma Ltd',
      group: 'wholesale',
      salesperson: 'sp-li',
      currency: 'CNY',
      language: 'zh-CN',
      tags: 'vip, north',
      paymentTermsDays: '45',
      'creditLimit.amount': '5000.50',
      'creditLimit.currency': 'CNY',
      invoicePolicy: 'on_order',
      overdueHold: 'false',
      onHold: 'false',
      onHoldReason: '',
      'contacts.0.name': 'Wang Wu',
      'contacts.0.email': 'Wang@Gamma.example',
      'contacts.1.name': '',
      'contacts.1.email': '',
      'billingAddress.city': 'Shanghai',
      'billingAddress.country': 'CN',
      'shippingAddress.city': '',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/customers/GAMMA');
    const stored = await apiCustomer('GAMMA');
    expect(stored).toMatchObject({
      name: 'Gamma Ltd',
      group: 'wholesale',
      salesperson: 'sp-li',
      currency: 'CNY',
      language: 'zh-CN',
      tags: ['vip', 'north'],
      paymentTermsDays: 45,
      creditLimit: { amount: 500_050, currency: 'CNY' },
      invoicePolicy: 'on_order',
      onHold: false,
      contacts: [{ name: 'Wang Wu', email: 'wang@gamma.example' }],
      billingAddress: { city: 'Shanghai', country: 'CN' },
      shippingAddress: null,
    });
    // The same body through the API changes nothing: the form wrote what the API would.
    const { code: _c, createdAt: _a, updatedAt: _u, ...body } = stored;
    const again = await stack.api('PUT', '/api/customers/GAMMA', body);
    expect(again.body.outcome).toBe('unchanged');
    const audit = await stack.db('audit_log').where({ operation: 'consoleCreateCustomer' }).first();
    expect(audit).toMatchObject({
      actor: 'fin@example.com',
      entity: 'customer',
      entity_id: 'GAMMA',
      status: 303,
    });
    // Creating it again is refused beside the code.
    const twice = await post('/console/customers', finance, { code: 'GAMMA', name: 'Other' });
    expect(twice.status).toBe(409);
    expect(invalid(await twice.text(), 'f-code')).toBe(true);
    expect((await apiCustomer('GAMMA')).name).toBe('Gamma Ltd');
  });

  it('edits a customer with the whole record, keeping before and after in the audit log', async () => {
    const edit = await page('/console/customers/ACME/edit', finance);
    expect(edit.status).toBe(200);
    // The form holds the stored record, the limit in major units.
    expect(edit.html).toMatch(/name="creditLimit.amount" type="text" value="15.00"/);
    expect(edit.html).toContain('value="zhang@acme.example"');
    const res = await post('/console/customers/ACME', finance, {
      name: 'Acme Trading Co',
      group: 'wholesale',
      salesperson: 'sp-li',
      currency: 'EUR',
      'creditLimit.amount': '20',
      'creditLimit.currency': 'EUR',
      paymentTermsDays: '30',
      invoicePolicy: 'on_shipment',
      onHold: 'true',
      onHoldReason: 'credit review',
      'contacts.0.name': 'Zhang San',
      'contacts.0.email': 'zhang@acme.example',
    });
    expect(res.status).toBe(303);
    expect(await apiCustomer('ACME')).toMatchObject({
      name: 'Acme Trading Co',
      creditLimit: { amount: 2000, currency: 'EUR' },
      onHold: true,
      onHoldReason: 'credit review',
      contacts: [{ name: 'Zhang San', email: 'zhang@acme.example' }],
    });
    const entry = await stack
      .db('audit_log')
      .where({ operation: 'consoleSaveCustomer', entity_id: 'ACME' })
      .orderBy('id', 'desc')
      .first();
    expect(entry.actor).toBe('fin@example.com');
    expect(JSON.parse(entry.before)).toMatchObject({ creditLimit: { amount: 1500 }, onHold: false });
    expect(JSON.parse(entry.after)).toMatchObject({ creditLimit: { amount: 2000 }, onHold: true });
  });

  it('takes a customer off hold with the form as shown (its reason pre-filled)', async () => {
    const edit = await page('/console/customers/ACME/edit', finance);
    expect(edit.html).toContain('value="credit review"');
    const res = await post('/console/customers/ACME', finance, {
      name: 'Acme Trading Co',
      group: 'wholesale',
      salesperson: 'sp-li',
      currency: 'EUR',
      'creditLimit.amount': '20',
      'creditLimit.currency': 'EUR',
      paymentTermsDays: '30',
      invoicePolicy: 'on_shipment',
      onHold: 'false',
      onHoldReason: 'credit review',
      'contacts.0.name': 'Zhang San',
      'contacts.0.email': 'zhang@acme.example',
    });
    expect(res.status).toBe(303);
    expect(await apiCustomer('ACME')).toMatchObject({ onHold: false, onHoldReason: null });
    const back = await post('/console/customers/ACME', finance, {
      name: 'Acme Trading Co',
      group: 'wholesale',
      salesperson: 'sp-li',
      currency: 'EUR',
      'creditLimit.amount': '20',
      'creditLimit.currency': 'EUR',
      paymentTermsDays: '30',
      invoicePolicy: 'on_shipment',
      onHold: 'true',
      onHoldReason: 'credit review',
      'contacts.0.name': 'Zhang San',
      'contacts.0.email': 'zhang@acme.example',
    });
    expect(back.status).toBe(303);
  });

  it('answers a bad form with 422, each error beside its field, and changes nothing', async () => {
    const before = await apiCustomer('BETA');
    const res = await post('/console/customers/BETA', finance, {
      name: '',
      'creditLimit.amount': '12.345',
      'creditLimit.currency': 'EUR',
      paymentTermsDays: 'soon',
      onHold: 'false',
      onHoldReason: 'why not',
      'contacts.0.email': 'not-an-email',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(invalid(html, 'f-name')).toBe(true);
    expect(invalid(html, 'f-creditLimit-amount')).toBe(true);
    expect(html).toContain('too many decimals');
    // In the reader's language only.
    expect(html).not.toContain('小数位过多');
    expect(invalid(html, 'f-paymentTermsDays')).toBe(true);
    expect(invalid(html, 'f-contacts-0-email')).toBe(true);
    expect(html).toContain('class="error-summary"');
    // The values typed are shown again.
    expect(html).toContain('value="12.345"');
    const zh = await stack.app.request('/console/customers/BETA', {
      method: 'POST',
      headers: { cookie: finance.cookie, 'content-type': FORM_TYPE, 'accept-language': 'zh-CN' },
      body: form({
        _csrf: finance.csrf,
        name: 'Beta',
        'creditLimit.amount': '12.345',
        'creditLimit.currency': 'EUR',
      }),
    });
    expect(zh.status).toBe(422);
    const zhHtml = await zh.text();
    expect(zhHtml).toContain('小数位过多');
    expect(zhHtml).not.toContain('too many decimals');
    expect(await apiCustomer('BETA')).toEqual(before);
    // An unknown salesperson: refused beside the field.
    const unknown = await post('/console/customers/BETA', finance, { name: 'Beta', salesperson: 'nobody' });
    expect(unknown.status).toBe(422);
    expect(invalid(await unknown.text(), 'f-salesperson')).toBe(true);
    expect(await apiCustomer('BETA')).toEqual(before);
    expect(
      await stack.db('audit_log').where({ operation: 'consoleSaveCustomer', entity_id: 'BETA' }),
    ).toEqual([]);
  });

  it('sets document delivery through the API’s schema', async () => {
    const bad = await post('/console/customers/BETA/document-delivery', finance, {
      email: 'true',
      billingEmail: 'nope',
    });
    expect(bad.status).toBe(422);
    expect(invalid(await bad.text(), 'f-billingEmail')).toBe(true);
    const res = await post('/console/customers/BETA/document-delivery', finance, {
      email: 'true',
      billingEmail: 'Billing@Beta.example',
    });
    expect(res.status).toBe(303);
    const delivery = (await stack.api('GET', '/api/customers/BETA/document-delivery')).body;
    expect(delivery).toMatchObject({ email: true, billingEmail: 'billing@beta.example' });
    const { html } = await page('/console/customers/BETA', viewer);
    expect(html).toContain('Invoices, credit notes and statements are e-mailed');
  });

  it('deletes a customer without orders, and refuses one with orders', async () => {
    const refused = await post('/console/customers/ACME/delete', finance, {});
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('cannot be deleted');
    expect((await stack.api('GET', '/api/customers/ACME')).status).toBe(200);
    const res = await post('/console/customers/GAMMA/delete', finance, {});
    expect(res.status).toBe(303);
    expect((await stack.api('GET', '/api/customers/GAMMA')).status).toBe(404);
    const entry = await stack.db('audit_log').where({ operation: 'consoleDeleteCustomer' }).first();
    expect(entry).toMatchObject({ entity_id: 'GAMMA', after: 'null' });
  });

  it('gives a viewer and an operator no finance forms, and refuses their posts', async () => {
    for (const who of [viewer, operator]) {
      const { html } = await page('/console/customers/BETA', who);
      expect(html).not.toContain('/console/customers/BETA/edit');
      expect(html).not.toContain('/console/customers/BETA/delete');
      expect(html).not.toContain('/document-delivery');
      expect((await page('/console/customers/new', who)).status).toBe(403);
      const before = await apiCustomer('BETA');
      const res = await post('/console/customers/BETA', who, { name: 'Hacked' });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect((await post('/console/customers', who, { code: 'NEW1', name: 'x' })).status).toBe(403);
      expect((await post('/console/customers/BETA/delete', who, {})).status).toBe(403);
      expect(await apiCustomer('BETA')).toEqual(before);
    }
    expect((await stack.api('GET', '/api/customers/NEW1')).status).toBe(404);
  });
});
