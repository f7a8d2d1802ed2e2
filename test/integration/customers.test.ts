import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookOutcome } from '../helpers/applied-event.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { ADMIN_TOKEN, createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

/**
 * Customers and salespeople (issue 12) through the HTTP app, on MariaDB and SQLite: trade customer
 * records, who an order's customer is (mapping, contact e-mail, channel customer, unknown code),
 * the buyer's contact on the order, and a customer's and a salesperson's orders and execution.
 */

const SHOPIFY_SECRET = 'customers-shopify-secret';
const WOO_SECRET = 'customers-woo-secret';
const fixtureText = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/** Shopify's documented orders/create sample: customer 115310627314723954, john@example.com, locale en. */
const SHOPIFY_ORDER = fixtureText('shopify/orders-create.json');
/** WooCommerce's documented order 727: a guest (customer_id 0), billing john.doe@example.com. */
const WOO_GUEST = fixtureText('woocommerce/order-727.json');

const acme = {
  name: 'Acme Trading Ltd',
  group: 'wholesale',
  salesperson: 'SP-LI',
  currency: 'EUR',
  language: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  taxId: '91310000MA1FL4XX1X',
  billingAddress: { line1: '1 Nanjing Rd', city: 'Shanghai', country: 'CN' },
  shippingAddress: { line1: 'Dock 4', city: 'Ningbo', country: 'CN' },
  contacts: [
    { name: 'Wang Fang', email: 'Buyer@Acme.example', phone: '+86 21 5555 0101' },
    { name: 'Accounts', email: 'ap@acme.example' },
  ],
  paymentTermsDays: 30,
  creditLimit: { amount: 5_000_000, currency: 'EUR' },
  company: 'stockbridge-cn',
  tags: ['key-account', 'east'],
};

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('customers and salespeople on %s', (_name, sqlite) => {
  let stack: TestStack;
  let shopifyId: number;
  let wooId: number;

  async function webhook(channelId: number, headers: Record<string, string>, body: string) {
    const res = await stack.app.request(`/webhooks/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  }

  const shopify = (body: string, eventId: string) =>
    webhook(
      shopifyId,
      {
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'customers.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    );

  const woo = (body: string, deliveryId: string) =>
    webhook(
      wooId,
      {
        'x-wc-webhook-source': 'https://woo.customers.test/',
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': 'created',
        'x-wc-webhook-id': '41',
        'x-wc-webhook-delivery-id': deliveryId,
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
      },
      body,
    );

  /** The documented Shopify order as another order of another buyer (ids and e-mails replaced). */
  const shopifyOrder = (orderId: string, customerId: string, mail: string) =>
    SHOPIFY_ORDER.replaceAll('820982911946154508', orderId)
      .replaceAll('115310627314723954', customerId)
      .replaceAll('john@example.com', mail)
      .replaceAll('jon@example.com', mail);

  const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;

  async function upload(path: string, data: string | Uint8Array, name: string) {
    const form = new FormData();
    form.set('file', new File([data], name));
    return stack.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
  }

  async function importCsv(csv: string, name: string) {
    const form = new FormData();
    form.set('file', new File([csv], name));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(
      stack,
      [{ code: 'main', priority: 1 }],
      ['IPOD2008PINK', 'IPOD2008BLACK', 'A-1', 'WOO-93'],
    );
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: ['IPOD2008PINK', 'IPOD2008BLACK', 'A-1', 'WOO-93'].map((sku) => ({ sku, quantity: 50 })),
    });
    const s = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Customers shop',
      settings: {
        shopDomain: 'customers.myshopify.com',
        accessToken: 'shpat_customers_0123456789',
        webhookSecret: SHOPIFY_SECRET,
        apiBaseUrl: 'https://shopify.customers.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
      },
    });
    expect(s.status).toBe(201);
    shopifyId = s.body.id;
    const w = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Customers Woo',
      settings: {
        siteUrl: 'https://woo.customers.test',
        consumerKey: 'ck_customers',
        consumerSecret: 'cs_customers',
        webhookSecret: WOO_SECRET,
        pullIntervalSeconds: 3600,
      },
    });
    expect(w.status).toBe(201);
    wooId = w.body.id;
    expect((await stack.api('PUT', `/api/channels/${wooId}/skus/WOO-93`, { productId: '93' })).status).toBe(
      200,
    );
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('keeps a trade customer record: PUT creates, the same body again is unchanged, GET, search and paging', async () => {
    expect((await stack.api('PUT', '/api/salespeople/SP-LI', { name: 'Li Na' })).status).toBe(201);
    const created = await stack.api('PUT', '/api/customers/ACME', acme);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code: 'ACME',
      outcome: 'created',
      ...acme,
      contacts: [
        { name: 'Wang Fang', email: 'buyer@acme.example', phone: '+86 21 5555 0101' },
        { name: 'Accounts', email: 'ap@acme.example' },
      ],
      onHold: false,
      onHoldReason: null,
    });

    const again = await stack.api('PUT', '/api/customers/ACME', acme);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('unchanged');
    expect(again.body.updatedAt).toBe(created.body.updatedAt);

    const changed = await stack.api('PUT', '/api/customers/acme', { ...acme, paymentTermsDays: 60 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ code: 'ACME', outcome: 'updated', paymentTermsDays: 60 });
    expect((await stack.api('GET', '/api/customers/Acme')).body).toMatchObject({
      code: 'ACME',
      paymentTermsDays: 60,
    });

    for (const i of [1, 2, 3])
      await stack.api('PUT', `/api/customers/PAGE-${i}`, { name: `Paging Customer ${i}` });
    const byMail = await stack.api('GET', '/api/customers?q=AP@ACME');
    expect(byMail.body.items.map((c: any) => c.code)).toEqual(['ACME']);
    const byName = await stack.api('GET', '/api/customers?q=paging%20cust');
    expect(byName.body.items.map((c: any) => c.code)).toEqual(['PAGE-3', 'PAGE-2', 'PAGE-1']);
    const first = await stack.api('GET', '/api/customers?q=page-&limit=2');
    expect(first.body.items.map((c: any) => c.code)).toEqual(['PAGE-3', 'PAGE-2']);
    const second = await stack.api('GET', `/api/customers?q=page-&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((c: any) => c.code)).toEqual(['PAGE-1']);
    expect(second.body.nextCursor).toBeNull();
    const bySalesperson = await stack.api('GET', '/api/customers?salesperson=sp-li');
    expect(bySalesperson.body.items.map((c: any) => c.code)).toEqual(['ACME']);
  });

  it("keeps a change of a customer's credit limit, terms and hold in the audit log, before and after", async () => {
    const current = (await stack.api('GET', '/api/customers/ACME')).body;
    const { code: _code, createdAt: _c, updatedAt: _u, ...record } = current;
    const held = await stack.api('PUT', '/api/customers/ACME', {
      ...record,
      creditLimit: { amount: 500_000, currency: 'CNY' },
      paymentTermsDays: 45,
      onHold: true,
      onHoldReason: 'credit review',
    });
    expect(held.status).toBe(200);
    const entry = await stack
      .db('audit_log')
      .where({ operation: 'putCustomer', entity: 'customer', entity_id: 'ACME' })
      .orderBy('id', 'desc')
      .first();
    expect(entry).toMatchObject({ actor: 'admin', actor_kind: 'bootstrap', method: 'PUT', status: 200 });
    expect(entry.route).toBe('/api/customers/{code}');
    const before = JSON.parse(entry.before);
    const after = JSON.parse(entry.after);
    expect(before).toMatchObject({ creditLimit: current.creditLimit, paymentTermsDays: 60, onHold: false });
    expect(after).toMatchObject({
      creditLimit: { amount: 500_000, currency: 'CNY' },
      paymentTermsDays: 45,
      onHold: true,
      onHoldReason: 'credit review',
    });

    // Back as it was; a new customer has no state before.
    expect((await stack.api('PUT', '/api/customers/ACME', record)).status).toBe(200);
    expect((await stack.api('PUT', '/api/customers/AUDIT-NEW', { name: 'New' })).status).toBe(201);
    const created = await stack.db('audit_log').where({ entity_id: 'AUDIT-NEW' }).first();
    expect(created.before).toBe('null');
    expect(JSON.parse(created.after)).toMatchObject({ code: 'AUDIT-NEW', name: 'New' });
    expect((await stack.api('DELETE', '/api/customers/AUDIT-NEW')).status).toBe(204);
  });

  it('refuses a bad customer record and changes nothing', async () => {
    const before = (await stack.api('GET', '/api/customers/ACME')).body;
    const bad = await stack.api('PUT', '/api/customers/ACME', {
      ...acme,
      language: 'fr',
      timeZone: 'Mars/Olympus',
      creditLimit: { amount: 1.5, currency: 'EUR' },
      contacts: [{ email: 'not-an-email' }],
    });
    expect(bad.status).toBe(422);
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(['language', 'timeZone', 'creditLimit.amount', 'contacts.0.email']),
    );
    const unknownSalesperson = await stack.api('PUT', '/api/customers/ACME', {
      ...acme,
      salesperson: 'NOBODY',
    });
    expect(unknownSalesperson.status).toBe(422);
    expect(unknownSalesperson.body.error.code).toBe('unknown_salesperson');
    expect((await stack.api('PUT', '/api/customers/bad%20code', { name: 'x' })).status).toBe(400);
    expect((await stack.api('GET', '/api/customers/NOPE')).status).toBe(404);
    expect((await stack.api('GET', '/api/customers/ACME')).body).toEqual(before);
  });

  it('a Shopify buyer matched to a trade customer by mapping and another kept as a channel customer', async () => {
    const map = await stack.api('PUT', `/api/channels/${shopifyId}/customers/115310627314723954`, {
      customer: 'acme',
    });
    expect(map.status).toBe(201);
    expect(map.body).toMatchObject({ channelCustomerId: '115310627314723954', customer: 'ACME' });
    expect(
      (
        await stack.api('PUT', `/api/channels/${shopifyId}/customers/115310627314723954`, {
          customer: 'ACME',
        })
      ).body.outcome,
    ).toBe('unchanged');
    expect(
      (await stack.api('PUT', `/api/channels/${shopifyId}/customers/1`, { customer: 'NOPE' })).status,
    ).toBe(422);
    expect((await stack.api('GET', `/api/channels/${shopifyId}/customers`)).body.items).toEqual([
      expect.objectContaining({ channelCustomerId: '115310627314723954', customer: 'ACME' }),
    ]);

    const mapped = await shopify(SHOPIFY_ORDER, 'evt-cust-mapped');
    expect(mapped.body.status).toBe('created');
    const retail = await shopify(
      shopifyOrder('820982911946154600', '115310627314720001', 'walk.in@example.com'),
      'evt-cust-retail',
    );
    const retailAgain = await shopify(
      shopifyOrder('820982911946154601', '115310627314720001', 'walk.in@example.com'),
      'evt-cust-retail-2',
    );
    await stack.settle();

    const a = await order(mapped.body.orderId);
    expect(a.customer).toMatchObject({ code: 'ACME', group: 'wholesale' });
    expect(a.contact).toEqual({
      name: 'John Smith',
      email: 'john@example.com',
      phone: '555-555-SHIP',
      language: 'en',
      timeZone: null,
    });
    const b = await order(retail.body.orderId);
    expect(b.customer).toMatchObject({ code: null, group: 'retail' });
    expect(b.contact).toMatchObject({ name: 'John Smith', email: 'walk.in@example.com' });
    const channelCustomers = await stack
      .db('customers')
      .where({ channel: `shopify:${shopifyId}`, channel_customer_id: '115310627314720001' });
    expect(channelCustomers).toHaveLength(1);
    expect(channelCustomers[0].customer_group).toBe('retail');
    const again = await stack.db('orders').where({ id: retailAgain.body.orderId }).first('customer_id');
    expect(Number(again.customer_id)).toBe(Number(channelCustomers[0].id));
    // Mapping the buyer does not create a trade customer, and the mapped one made no channel customer.
    expect(
      await stack.db('customers').where({ channel_customer_id: '115310627314723954' }).count({ n: '*' }),
    ).toEqual([{ n: 0 }]);
  });

  it("a buyer whose e-mail is a trade customer's contact belongs to that customer; a guest without one to none", async () => {
    const byMail = await shopify(
      shopifyOrder('820982911946154700', '115310627314720002', 'BUYER@acme.example'),
      'evt-cust-by-mail',
    );
    const guestMail = JSON.parse(WOO_GUEST);
    guestMail.id = 9727;
    guestMail.billing.email = 'AP@acme.example';
    const wooByMail = await woo(JSON.stringify(guestMail), 'd-cust-727-mail');
    const guest = await woo(WOO_GUEST, 'd-cust-727');
    await stack.settle();
    expect((await order(byMail.body.orderId)).customer).toMatchObject({ code: 'ACME' });
    expect((await order(wooByMail.body.orderId)).customer).toMatchObject({ code: 'ACME' });
    const g = await order(guest.body.orderId);
    expect(g.customer).toBeNull();
    expect(g.contact).toMatchObject({
      name: 'John Doe',
      email: 'john.doe@example.com',
      phone: '(555) 555-5555',
    });
  });

  it('holds an Excel order whose customer code is unknown and creates no customer until one is created and the order released; a known one keeps its contact name', async () => {
    const csv =
      'Order No,Customer Code,Customer Name,Item Code,Quantity,Unit Price,Currency\n' +
      'X-1,NEWCO,New Company Ltd,A-1,2,10.00,EUR\n' +
      'X-2,ACME,Wang Fang,A-1,1,10.00,EUR\n';
    const res = await importCsv(csv, 'orders-customers.csv');
    expect(res.status).toBe(200);
    await stack.settle();
    const held = await stack.db('orders').where({ external_id: 'NEWCO:X-1' }).first('id');
    const h = await order(held.id);
    expect(h.status).toBe('on_hold');
    expect(h.holdReason).toBe('unknown_customer');
    expect(h.customer).toBeNull();
    expect(h.contact.name).toBe('New Company Ltd');
    expect(await stack.db('customers').where({ code: 'NEWCO' }).count({ n: '*' })).toEqual([{ n: 0 }]);
    // Released before the customer exists: held again. Once it is created, the release finds it.
    expect((await stack.api('POST', `/api/orders/${held.id}/release`)).status).toBe(200);
    await stack.settle();
    expect((await order(held.id)).holdReason).toBe('unknown_customer');
    expect((await stack.api('PUT', '/api/customers/newco', { name: 'New Company Ltd' })).status).toBe(201);
    expect((await stack.api('POST', `/api/orders/${held.id}/release`)).status).toBe(200);
    await stack.settle();
    const released = await order(held.id);
    expect(released.status).toBe('confirmed');
    expect(released.customer).toMatchObject({ code: 'newco' });
    const known = await stack.db('orders').where({ external_id: 'ACME:X-2' }).first('id');
    const k = await order(known.id);
    expect(k.status).toBe('confirmed');
    expect(k.customer).toMatchObject({ code: 'ACME', name: 'Acme Trading Ltd' });
    expect(k.contact.name).toBe('Wang Fang');
  });

  it("holds the orders of a customer on hold, with the customer's reason, until it is off hold and the order released", async () => {
    await stack.api('PUT', '/api/customers/LATE', {
      name: 'Late Payer',
      onHold: true,
      onHoldReason: 'overdue invoices',
    });
    const post = await stack.api(
      'POST',
      '/api/orders',
      orderBody('late-1', [{ sku: 'A-1', quantity: 1 }], { customer: { code: 'LATE' } }),
    );
    await stack.settle();
    const o = await order(post.body.id);
    expect(o.status).toBe('on_hold');
    expect(o.holdReason).toBe('customer_on_hold');
    expect(o.holdDetails[0].message).toContain('overdue invoices');
    await stack.api('PUT', '/api/customers/LATE', { name: 'Late Payer' });
    await stack.api('POST', `/api/orders/${post.body.id}/release`);
    await stack.settle();
    expect((await order(post.body.id)).status).toBe('confirmed');
  });

  it("lists a customer's orders with ordered, shipped and open values, and a salesperson's customers with totals", async () => {
    await stack.api('PUT', '/api/salespeople/SP-WU', {
      name: 'Wu Lei',
      email: 'wu@example.com',
      creditLimit: { amount: 100_000, currency: 'EUR' },
    });
    await stack.api('PUT', '/api/customers/EXEC', { name: 'Execution Co', salesperson: 'SP-WU' });
    await stack.api('PUT', '/api/customers/EXEC2', { name: 'Second Co', salesperson: 'SP-WU' });
    const one = await stack.api(
      'POST',
      '/api/orders',
      orderBody('exec-1', [{ sku: 'A-1', quantity: 5 }], { customer: { code: 'EXEC' } }),
    );
    const two = await stack.api(
      'POST',
      '/api/orders',
      orderBody('exec-2', [{ sku: 'A-1', quantity: 2 }], { customer: { code: 'exec2' } }),
    );
    await stack.settle();
    const shipped = await stack.api('POST', `/api/orders/${one.body.id}/shipments`, {
      lines: [{ sku: 'A-1', quantity: 3 }],
    });
    expect(shipped.status).toBeLessThan(300);

    const list = await stack.api('GET', '/api/customers/EXEC/orders');
    expect(list.status).toBe(200);
    expect(list.body.totals).toEqual([
      { currency: 'EUR', orders: 1, ordered: 5000, shipped: 3000, open: 2000 },
    ]);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: one.body.id,
        status: 'partially_shipped',
        orderedValue: 5000,
        shippedValue: 3000,
        openValue: 2000,
        lines: [{ lineNo: 1, sku: 'A-1', unitPrice: 1000, ordered: 5, shipped: 3, cancelled: 0, open: 2 }],
      }),
    ]);

    const sp = await stack.api('GET', '/api/salespeople/sp-wu/customers');
    expect(sp.status).toBe(200);
    expect(sp.body.salesperson).toEqual({
      code: 'SP-WU',
      name: 'Wu Lei',
      creditLimit: { amount: 100_000, currency: 'EUR' },
    });
    expect(sp.body.totals).toEqual([
      { currency: 'EUR', orders: 2, ordered: 7000, shipped: 3000, open: 4000 },
    ]);
    expect(sp.body.creditUsed).toBe(4000);
    expect(sp.body.items).toEqual([
      {
        code: 'EXEC2',
        name: 'Second Co',
        totals: [{ currency: 'EUR', orders: 1, ordered: 2000, shipped: 0, open: 2000 }],
      },
      {
        code: 'EXEC',
        name: 'Execution Co',
        totals: [{ currency: 'EUR', orders: 1, ordered: 5000, shipped: 3000, open: 2000 }],
      },
    ]);
    expect(two.status).toBe(202);
  });

  it('salespeople: CRUD, idempotent PUT, and no delete while customers name them', async () => {
    const again = await stack.api('PUT', '/api/salespeople/SP-WU', {
      name: 'Wu Lei',
      email: 'wu@example.com',
      creditLimit: { amount: 100_000, currency: 'EUR' },
    });
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('unchanged');
    const inactive = await stack.api('PUT', '/api/salespeople/SP-WU', { name: 'Wu Lei', active: false });
    expect(inactive.body).toMatchObject({
      outcome: 'updated',
      active: false,
      email: null,
      creditLimit: null,
    });
    expect((await stack.api('GET', '/api/salespeople')).body.items.map((s: any) => s.code)).toEqual([
      'SP-WU',
      'SP-LI',
    ]);
    const refused = await stack.api('DELETE', '/api/salespeople/SP-WU');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('salesperson_has_customers');
    await stack.api('PUT', '/api/salespeople/SP-GONE', { name: 'Gone' });
    expect((await stack.api('DELETE', '/api/salespeople/SP-GONE')).status).toBe(204);
    expect((await stack.api('GET', '/api/salespeople/SP-GONE')).status).toBe(404);
  });

  it('deletes a customer without orders, refuses one with orders (409), and unmaps a channel buyer', async () => {
    const refused = await stack.api('DELETE', '/api/customers/EXEC');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('customer_has_orders');
    expect((await stack.api('GET', '/api/customers/EXEC')).status).toBe(200);
    expect((await stack.api('DELETE', '/api/customers/PAGE-1')).status).toBe(204);
    expect((await stack.api('GET', '/api/customers/PAGE-1')).status).toBe(404);
    expect(
      (await stack.api('DELETE', `/api/channels/${shopifyId}/customers/115310627314723954`)).status,
    ).toBe(204);
    expect((await stack.api('GET', `/api/channels/${shopifyId}/customers/115310627314723954`)).status).toBe(
      404,
    );
  });

  it('imports customers from a sheet with Chinese headers: per-row results, only the columns it has, the same sheet again unchanged', async () => {
    const csv =
      '客户编码,客户名称,业务员,币种,账期,信用额度,邮箱,标签\n' +
      'IMP-1,华东贸易,SP-LI,CNY,45,10000.50,orders@huadong.example,"vip;east"\n' +
      'ACME,Acme Trading Ltd,SP-LI,EUR,90,50000,buyer@acme.example,"key-account,east"\n' +
      'bad code,坏编码,,CNY,,,,\n' +
      'IMP-2,无业务员,NOBODY,CNY,,,,\n' +
      'imp-1,重复,,CNY,,,,\n';
    const before = (await stack.api('GET', '/api/customers/ACME')).body;
    const res = await upload('/api/customers/import', csv, 'customers.csv');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.summary).toMatchObject({ rows: 5, created: 1, updated: 1, rejected: 3 });
    expect(body.rows.map((r: any) => [r.row, r.code, r.status])).toEqual([
      [2, 'IMP-1', 'created'],
      [3, 'ACME', 'updated'],
      [4, 'bad code', 'rejected'],
      [5, 'IMP-2', 'rejected'],
      [6, 'imp-1', 'rejected'],
    ]);
    expect(body.rows[2].reason).toContain('客户编码');
    expect(body.rows[3].reason).toContain('业务员不存在');
    expect(body.rows[4].reason).toContain('row 2');
    expect((await stack.api('GET', '/api/customers/IMP-1')).body).toMatchObject({
      name: '华东贸易',
      salesperson: 'SP-LI',
      currency: 'CNY',
      paymentTermsDays: 45,
      creditLimit: { amount: 1_000_050, currency: 'CNY' },
      contacts: [{ email: 'orders@huadong.example' }],
      tags: ['vip', 'east'],
    });
    // ACME keeps what the sheet has no column for (group, addresses, its second contact).
    const acmeAfter = (await stack.api('GET', '/api/customers/ACME')).body;
    expect(acmeAfter).toMatchObject({
      paymentTermsDays: 90,
      creditLimit: { amount: 5_000_000, currency: 'EUR' },
      group: before.group,
      billingAddress: before.billingAddress,
      contacts: [{ email: 'buyer@acme.example' }, before.contacts[1]],
    });
    expect(await stack.db('customers').where({ code: 'IMP-2' }).count({ n: '*' })).toEqual([{ n: 0 }]);

    const again = await upload('/api/customers/import?format=xlsx', csv, 'customers.csv');
    expect(again.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await again.arrayBuffer()) as never);
    const result = wb.getWorksheet('Result')!;
    expect(result.getRow(1).values).toEqual([
      undefined,
      'Row / 行号',
      'Code / 客户编码',
      'Name / 客户名称',
      'Status / 状态',
      'Reason / 原因',
    ]);
    const statuses: unknown[] = [];
    result.eachRow((r, n) => {
      if (n > 1) statuses.push([r.getCell(2).value, r.getCell(4).value]);
    });
    expect(statuses).toEqual([
      ['IMP-1', 'unchanged / 无变化'],
      ['ACME', 'unchanged / 无变化'],
      ['bad code', 'rejected / 已拒绝'],
      ['IMP-2', 'rejected / 已拒绝'],
      ['imp-1', 'rejected / 已拒绝'],
    ]);
    expect((await stack.api('GET', '/api/customers/ACME')).body.updatedAt).toBe(acmeAfter.updatedAt);

    const xlsx = new ExcelJS.Workbook();
    const sheet = xlsx.addWorksheet('Customers');
    sheet.addRow(['Code', 'Name', 'Language', 'Time zone']);
    sheet.addRow(['IMP-X', 'Workbook Co', 'en', 'Europe/Berlin']);
    const fromXlsx = await upload(
      '/api/customers/import',
      new Uint8Array(await xlsx.xlsx.writeBuffer()),
      'c.xlsx',
    );
    expect(((await fromXlsx.json()) as any).rows).toEqual([
      { row: 2, code: 'IMP-X', name: 'Workbook Co', status: 'created' },
    ]);
    const unreadable = await upload('/api/customers/import', 'Name\nonly a name\n', 'c.csv');
    expect(unreadable.status).toBe(422);
    expect(((await unreadable.json()) as any).error.message).toContain('缺少必填列');
  });
});
