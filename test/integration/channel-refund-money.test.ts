import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import shopifyConnector, { parseJsonKeepingBigIds } from '../../connectors/shopify/index.js';
import { pollIssuer, submitInvoices } from '../../src/billing/einvoicing.js';
import { issueDueInvoices } from '../../src/billing/invoicing-run.js';
import { type ChannelOrderEvent, receiveChannelEvent } from '../../src/channels/apply-order.js';
import { findChannel } from '../../src/channels/channel-store.js';
import { heldRefundProblems } from '../../src/reconciliation/internal-checks.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { FakeEinvoiceProvider } from '../helpers/fake-einvoice.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SHOPIFY_SECRET = 'shopify-refund-money-client-secret';
const SHOPIFY_HOST = 'https://shopify-refund-money.test';
const WOO_SITE = 'https://woo-refund-money.test';
const WOO_SECRET = 'woo-refund-money-webhook-secret';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/**
 * A paid Shopify order (REST-shaped, as `orders/create` and `orders/updated` send it): 2 × TEE at
 * 50.00 with 13.00 tax (standard rate, 13 %), 1 × MUG at 50.00 with 4.50 tax (reduced rate, 9 %),
 * 167.50 in all; with the refunds given (REST-shaped text). Ids as numbers, the way Shopify sends them.
 */
function paidOrder(id: string, updatedAt: string, refunds: string[] = []): string {
  const line = (i: number, sku: string, variant: string, quantity: number, tax: string) =>
    `{"id":${id}${i},"admin_graphql_api_id":"gid://shopify/LineItem/${id}${i}","sku":"${sku}","variant_id":${variant},` +
    `"product_id":7700000000000000001,"title":"${sku}","quantity":${quantity},"current_quantity":${quantity},` +
    `"price":"50.00","tax_lines":[{"price":"${tax}","title":"VAT"}]}`;
  return (
    `{"id":${id},"admin_graphql_api_id":"gid://shopify/Order/${id}","name":"#${id.slice(-4)}","currency":"EUR",` +
    `"created_at":"2026-11-20T10:00:00Z","updated_at":"${updatedAt}","cancelled_at":null,` +
    `"email":"li.wei@example.com","customer":{"id":9900000000000000${id.slice(-3)},"first_name":"Li","last_name":"Wei",` +
    `"email":"li.wei@example.com"},"financial_status":"${refunds.length ? 'partially_refunded' : 'paid'}",` +
    `"taxes_included":false,"total_price":"167.50","total_tax":"17.50","line_items":[` +
    `${line(0, 'TEE', '4400000000000000031', 2, '13.00')},${line(1, 'MUG', '4400000000000000032', 1, '4.50')}],` +
    `"refunds":[${refunds.join(',')}]}`
  );
}

/**
 * A refund of money only (a goodwill refund) as `refunds/create` sends it: no refund line items, one
 * successful refund transaction of `amount`, the difference in `order_adjustments`.
 */
function moneyRefund(id: string, orderId: string, amount: string): string {
  return (
    `{"id":${id},"order_id":${orderId},"admin_graphql_api_id":"gid://shopify/Refund/${id}",` +
    `"created_at":"2026-11-28T12:00:00Z","processed_at":"2026-11-28T12:00:00Z","note":"Goodwill","restock":false,` +
    `"refund_line_items":[],"refund_shipping_lines":[],` +
    `"transactions":[{"id":${id}1,"order_id":${orderId},"kind":"refund","gateway":"shopify_payments",` +
    `"status":"success","amount":"${amount}","currency":"EUR"}],` +
    `"order_adjustments":[{"id":${id}2,"order_id":${orderId},"refund_id":${id},"amount":"-${amount}",` +
    `"tax_amount":"0.00","kind":"refund_discrepancy","reason":"Refund discrepancy"}]}`
  );
}

/**
 * A refund of 1 × MUG (its value 50.00 + 4.50 tax), restocked, that paid back `amount`: what is
 * beyond the unit (a shipping or goodwill part) is told by an `order_adjustments` entry.
 */
function unitAndMoneyRefund(id: string, orderId: string, amount: string): string {
  const lineId = `${orderId}1`;
  return (
    `{"id":${id},"order_id":${orderId},"admin_graphql_api_id":"gid://shopify/Refund/${id}",` +
    `"created_at":"2026-11-28T12:00:00Z","note":"Broken mug","restock":true,` +
    `"refund_line_items":[{"id":${id}0,"quantity":1,"line_item_id":${lineId},"restock_type":"return",` +
    `"subtotal":50.0,"total_tax":4.5,"subtotal_set":{"shop_money":{"amount":"50.00","currency_code":"EUR"}},` +
    `"total_tax_set":{"shop_money":{"amount":"4.50","currency_code":"EUR"}},` +
    `"line_item":{"id":${lineId},"sku":"MUG","variant_id":4400000000000000032,"product_id":7700000000000000001,` +
    `"quantity":1,"price":"50.00"}}],` +
    `"transactions":[{"id":${id}1,"kind":"refund","status":"success","amount":"${amount}","currency":"EUR"}],` +
    `"order_adjustments":[{"id":${id}2,"amount":"-5.50","tax_amount":"0.00","kind":"shipping_refund"}]}`
  );
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('refunds of money on the channel: allowances and payouts (%s, Redis, worker)', (_name, sqlite) => {
  let stack: TestStack;
  let shopifyId: number;
  let wooId: number;
  let seq = 0;

  async function shopifyWebhook(topic: string, body: string, eventId = `evt-${++seq}`) {
    const res = await stack.app.request(`/webhooks/${shopifyId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': 'refund-money.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  }

  async function wooWebhook(topic: string, body: string, deliveryId = `woo-${++seq}`) {
    const res = await stack.app.request(`/webhooks/${wooId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': topic.split('.')[1]!,
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
        'x-wc-webhook-delivery-id': deliveryId,
        'x-wc-webhook-source': `${WOO_SITE}/`,
      },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  }

  const receive = (sku: string, quantity: number) =>
    stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: `in-${++seq}`,
      lines: [{ sku, quantity }],
    });

  /** A paid Shopify order placed by webhook and shipped in full. */
  async function shippedPaidOrder(id: string) {
    await receive('TEE', 2);
    await receive('MUG', 1);
    const created = await shopifyWebhook('orders/create', paidOrder(id, '2026-11-20T10:00:00Z'));
    expect(created.body.status).toBe('created');
    await stack.settle();
    const row = await stack
      .db('orders')
      .where({ channel: `shopify:${shopifyId}`, external_id: id })
      .first();
    expect(row.status).toBe('confirmed');
    expect(Number(row.paid_on_channel)).toBe(1);
    expect(Number(row.total_amount)).toBe(16750);
    const shipment = await stack.api('POST', `/api/orders/${row.id}/shipments`, {});
    expect(shipment.status).toBe(201);
    return {
      orderId: Number(row.id),
      customerId: Number(row.customer_id),
      shipmentId: shipment.body.shipmentId,
    };
  }

  const creditNotesOf = (invoiceId: number) =>
    stack.db('invoices').where({ type: 'credit_note', credits_invoice_id: invoiceId }).orderBy('id');
  const linesOf = (invoiceId: number) =>
    stack
      .db('invoice_lines')
      .where({ invoice_id: invoiceId })
      .orderBy('line_no')
      .select('sku', 'quantity', 'amount', 'tax', 'tax_class', 'tax_code');
  const paymentsOf = (orderId: number) => stack.db('payments').where({ order_id: orderId }).orderBy('id');
  /** What the customer owes in a currency: invoices − credit notes − payments (payouts count back). */
  async function balanceOf(customerId: number): Promise<number> {
    const [i] = await stack
      .db('invoices')
      .where({ customer_id: customerId })
      .select(stack.db.raw("COALESCE(SUM(CASE WHEN type = 'invoice' THEN total ELSE -total END), 0) AS n"));
    const [p] = await stack.db('payments').where({ customer_id: customerId }).sum({ n: 'amount' });
    return Number(i.n) - Number(p?.n ?? 0);
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE', 'MUG']);
    for (const [sku, taxClass] of [
      ['TEE', 'standard'],
      ['MUG', 'reduced'],
    ] as const) {
      const r = await stack.api('PUT', `/api/skus/${sku}`, {
        name: `SKU ${sku}`,
        unitPrice: 5000,
        currency: 'EUR',
        taxClass,
      });
      expect(r.status).toBeLessThan(300);
    }
    expect((await stack.api('PUT', '/api/tax-classes/standard/code', { code: '1090511' })).status).toBe(200);
    expect((await stack.api('PUT', '/api/tax-classes/reduced/code', { code: '1010101' })).status).toBe(200);
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Refund money shop',
      settings: {
        shopDomain: 'refund-money.myshopify.com',
        accessToken: 'shpat_refundmoney_0123456789abcdef',
        webhookSecret: SHOPIFY_SECRET,
        apiBaseUrl: `${SHOPIFY_HOST}/admin/api/2026-10`,
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(shop.status).toBe(201);
    shopifyId = shop.body.id;
    const woo = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Refund money Woo',
      settings: {
        siteUrl: WOO_SITE,
        consumerKey: 'ck_refundmoney_0123456789abcdef0123456789abcd',
        consumerSecret: 'cs_refundmoney_fedcba9876543210fedcba98765432',
        webhookSecret: WOO_SECRET,
        pullIntervalSeconds: 3600,
        pullStartAt: '2017-03-01T00:00:00Z',
      },
    });
    expect(woo.status).toBe(201);
    wooId = woo.body.id;
    stack.startWorker(4);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('Shopify: a refund of money only on an invoiced, paid order → one allowance credit note split over the tax rates, and the payout; seen again → nothing more', async () => {
    const id = '5810000000000000001';
    const order = await shippedPaidOrder(id);
    const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    expect(issued.status).toBe(201);
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    expect(Number(invoice.total)).toBe(16750);
    // Paid by the channel when it was posted.
    expect(Number(invoice.paid)).toBe(16750);

    const refund = moneyRefund('6610000000000000001', id, '30.00');
    const applied = await shopifyWebhook('refunds/create', refund);
    expect(applied.body.status).toBe('updated');
    expect(applied.body.note).toMatch(
      /refund 6610000000000000001 paid back 3000 EUR, allowance 3000 credited/,
    );

    const [note, ...more] = await creditNotesOf(invoice.id);
    expect(more).toEqual([]);
    expect(Number(note.total)).toBe(3000);
    // 30.00 over the invoice's rates by their net (100.00 at 13 %, 50.00 at 9 %): gross 20.24 and
    // 9.76 (the cent of rounding to the larger), each with its rate's tax, no quantity.
    expect(
      (await linesOf(note.id)).map((l) => ({ ...l, amount: Number(l.amount), tax: Number(l.tax) })),
    ).toEqual([
      { sku: 'ALLOWANCE', quantity: 0, amount: 1791, tax: 233, tax_class: 'standard', tax_code: '1090511' },
      { sku: 'ALLOWANCE', quantity: 0, amount: 895, tax: 81, tax_class: 'reduced', tax_code: '1010101' },
    ]);
    expect(Number(note.tax)).toBe(314);
    // The credit note goes to the e-invoice issuer like every other (a red invoice against the blue).
    const view = (await stack.api('GET', `/api/credit-notes/${note.number}`)).body;
    expect(view.lines).toHaveLength(2);

    // The money: the receipt took 167.50; the credit note gave 30.00 back to it; the payout took it.
    const payments = await paymentsOf(order.orderId);
    expect(
      payments.map((p) => [
        Number(p.amount),
        Number(p.unapplied),
        p.payout_of === null ? null : Number(p.payout_of),
      ]),
    ).toEqual([
      [16750, 0, null],
      [-3000, 0, Number(payments[0].id)],
    ]);
    expect(await balanceOf(order.customerId)).toBe(0);
    const refundRow = await stack.db('channel_refunds').where({ order_id: order.orderId }).first();
    expect(refundRow).toMatchObject({ status: 'credited', document: note.number });

    // Seen again: redelivered under another event id, and listed by orders/updated.
    expect((await shopifyWebhook('refunds/create', refund)).body.status).toBe('unchanged');
    const listed = await shopifyWebhook('orders/updated', paidOrder(id, '2026-11-28T12:00:05Z', [refund]));
    expect(['unchanged', 'not_applied']).toContain(listed.body.status);
    expect(await creditNotesOf(invoice.id)).toHaveLength(1);
    expect(await paymentsOf(order.orderId)).toHaveLength(2);
    expect(await balanceOf(order.customerId)).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);

    // Everything comes back later: the return's credit note takes what the invoice has left after
    // the allowance, never more (the credit notes add up to the invoice's total).
    const back = await stack.api('POST', `/api/orders/${order.orderId}/returns`, {
      lines: [
        { sku: 'TEE', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ],
      restock: false,
      reason: 'all back',
    });
    expect(back.status).toBe(201);
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([3000, 13750]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: the allowance credit note goes to a 数电票 provider as a red invoice of amounts and tax only, issued once the buyer confirms', async () => {
    const id = '5810000000000000007';
    const order = await shippedPaidOrder(id);
    const fake = new FakeEinvoiceProvider();
    const dir = mkdtempSync(path.join(tmpdir(), 'refund-money-'));
    try {
      await issueDueInvoices(stack.db, {
        period: new Date().toISOString().slice(0, 10),
        timeZone: 'UTC',
        outputDir: dir,
        log: silentLog,
        issuer: fake,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const [line] = await stack
      .db('invoice_lines')
      .where({ shipment_id: order.shipmentId })
      .select('invoice_id');
    const invoice = await stack.db('invoices').where({ id: line.invoice_id }).first();
    fake.complete(`SB-${invoice.number}`);
    await pollIssuer(stack.db, fake);
    const blue = (await stack.api('GET', `/api/invoices/${invoice.number}`)).body;
    expect(blue.einvoice.status).toBe('issued');

    expect(
      (await shopifyWebhook('refunds/create', moneyRefund('6610000000000000007', id, '30.00'))).body.status,
    ).toBe('updated');
    const [note] = await creditNotesOf(invoice.id);
    await submitInvoices(stack.db, fake, [Number(note.id)]);
    const red = fake.red.get(`SB-${note.number}`)!.request;
    expect(red.originalPlatformNumber).toBe(blue.einvoice.platformNumber);
    expect(red.lines.map((l) => [l.sku, l.quantity, l.amount, l.tax, l.taxCode])).toEqual([
      ['ALLOWANCE', 0, 1791, 233, '1090511'],
      ['ALLOWANCE', 0, 895, 81, '1010101'],
    ]);
    expect(red.total).toBe(3000);
    fake.confirm(`SB-${note.number}`);
    await pollIssuer(stack.db, fake);
    const view = (await stack.api('GET', `/api/credit-notes/${note.number}`)).body;
    expect(view.einvoice).toMatchObject({ status: 'issued', redLetterStatus: 'confirmed' });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: the same refund of money on an order not invoiced yet → the invoice carries it as discount lines, and the payout follows the receipt', async () => {
    const id = '5810000000000000002';
    const order = await shippedPaidOrder(id);
    const refund = moneyRefund('6610000000000000002', id, '30.00');
    const applied = await shopifyWebhook('refunds/create', refund);
    expect(applied.body.status).toBe('updated');
    expect(applied.body.note).toMatch(/allowance 3000 carried on the order's invoice/);
    expect(await stack.db('channel_refunds').where({ order_id: order.orderId }).first()).toMatchObject({
      status: 'pending',
    });
    expect(await paymentsOf(order.orderId)).toEqual([]);

    const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    expect(issued.status).toBe(201);
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    expect(Number(invoice.total)).toBe(16750 - 3000);
    const lines = await linesOf(invoice.id);
    expect(
      lines.filter((l) => l.sku === 'ALLOWANCE').map((l) => [Number(l.amount), Number(l.tax), l.tax_code]),
    ).toEqual([
      [-1791, -233, '1090511'],
      [-895, -81, '1010101'],
    ]);
    expect(Number(invoice.tax)).toBe(1750 - 314);
    expect(await creditNotesOf(invoice.id)).toEqual([]);
    expect(await stack.db('channel_refunds').where({ order_id: order.orderId }).first()).toMatchObject({
      status: 'carried',
      document: invoice.number,
    });
    // The receipt of 167.50 paid the invoice's 137.50; the 30.00 went back to the buyer.
    const payments = await paymentsOf(order.orderId);
    expect(payments.map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
      [16750, 0],
      [-3000, 0],
    ]);
    expect(Number((await stack.db('invoices').where({ id: invoice.id }).first()).paid)).toBe(13750);
    const receipt = await stack.api('GET', `/api/payments/${payments[0].id}`);
    expect(receipt.body).toMatchObject({ amount: 16750, applied: 13750, paidOut: 3000, unapplied: 0 });
    const payout = await stack.api('GET', `/api/payments/${payments[1].id}`);
    expect(payout.body).toMatchObject({
      amount: -3000,
      applied: 0,
      unapplied: 0,
      payoutOf: Number(payments[0].id),
    });
    expect(await balanceOf(order.customerId)).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);

    // Everything comes back later: the credit note takes back what the invoice billed, net of the
    // allowance it carried — never more than its total.
    const back = await stack.api('POST', `/api/orders/${order.orderId}/returns`, {
      lines: [
        { sku: 'TEE', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ],
      restock: true,
      reason: 'all back',
    });
    expect(back.status).toBe(201);
    const [note, ...more] = await creditNotesOf(invoice.id);
    expect(more).toEqual([]);
    expect(Number(note.total)).toBe(13750);
    expect(Number(note.tax)).toBe(1750 - 314);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: a refund of a unit and money beyond it → the return’s credit note, an allowance for the rest, and all of it paid out', async () => {
    const id = '5810000000000000005';
    const order = await shippedPaidOrder(id);
    const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    const refund = unitAndMoneyRefund('6610000000000000005', id, '60.00');
    const applied = await shopifyWebhook('refunds/create', refund);
    expect(applied.body.status).toBe('updated');
    const notes = await creditNotesOf(invoice.id);
    // The unit at what the invoice billed for it, then the 5.50 beyond it over the invoice's rates.
    expect(notes.map((n) => Number(n.total))).toEqual([5450, 550]);
    expect((await linesOf(notes[0].id)).map((l) => [l.sku, l.quantity])).toEqual([['MUG', 1]]);
    expect((await linesOf(notes[1].id)).map((l) => [l.sku, l.quantity])).toEqual([
      ['ALLOWANCE', 0],
      ['ALLOWANCE', 0],
    ]);
    expect((await paymentsOf(order.orderId)).map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
      [16750, 0],
      [-6000, 0],
    ]);
    expect(await balanceOf(order.customerId)).toBe(0);
    expect((await shopifyWebhook('refunds/create', refund)).body.status).toBe('unchanged');
    expect(await creditNotesOf(invoice.id)).toHaveLength(2);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: a refund of more than the invoice has left to credit is held for a person: nothing credited, nothing paid out, once', async () => {
    const id = '5810000000000000003';
    const order = await shippedPaidOrder(id);
    const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    const refund = moneyRefund('6610000000000000003', id, '200.00');
    const applied = await shopifyWebhook('refunds/create', refund);
    expect(applied.body.status).toBe('updated');
    expect(applied.body.note).toMatch(/HELD: refund 6610000000000000003 paid back 20000 EUR beyond/);
    expect(await creditNotesOf(invoice.id)).toEqual([]);
    expect((await paymentsOf(order.orderId)).map((p) => Number(p.amount))).toEqual([16750]);
    const row = await stack.db('channel_refunds').where({ order_id: order.orderId }).first();
    expect(row.status).toBe('held');
    expect(row.held_reason).toMatch(/16750 EUR left to credit/);
    expect((await shopifyWebhook('refunds/create', refund)).body.status).toBe('unchanged');
    expect(await stack.db('channel_refunds').where({ order_id: order.orderId })).toHaveLength(1);
    expect(await balanceOf(order.customerId)).toBe(0);
    // The nightly reconciliation reports it for a person.
    expect(await heldRefundProblems(stack.db)).toEqual([
      expect.objectContaining({
        kind: 'refund.held',
        subject: `refund shopify:${shopifyId}:${id}:6610000000000000003`,
        message: expect.stringMatching(/16750 EUR left to credit: held for a person/),
      }),
    ]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: a full refund with its shipping of an order cancelled and credited whole → the allowance is covered, not held, and everything is paid out', async () => {
    const id = '5810000000000000011';
    await receive('TEE', 2);
    await receive('MUG', 1);
    // The order with 10.00 shipping: 177.50 in all.
    const withShipping = (updatedAt: string, refunds: string[] = []) =>
      paidOrder(id, updatedAt, refunds).replace(
        '"total_price":"167.50"',
        '"total_price":"177.50","shipping_lines":[{"id":1,"price":"10.00","tax_lines":[]}]',
      );
    expect((await shopifyWebhook('orders/create', withShipping('2026-11-20T10:00:00Z'))).body.status).toBe(
      'created',
    );
    await stack.settle();
    const row = await stack
      .db('orders')
      .where({ channel: `shopify:${shopifyId}`, external_id: id })
      .first();
    const shipment = await stack.api('POST', `/api/orders/${row.id}/shipments`, {});
    expect(shipment.status).toBe(201);
    const issued = await stack.api('POST', '/api/invoices', { shipment: shipment.body.shipmentId });
    expect(issued.status).toBe(201);
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    expect(Number(invoice.total)).toBe(17750);
    expect(Number(invoice.paid)).toBe(17750);

    // Cancelled: the whole invoice credited, shipping included (177.50 back on the receipt's
    // account), then the channel's refund of all of it (units 167.50 + shipping 10.00).
    const credited = await stack.api('POST', `/api/invoices/${invoice.number}/credit-notes`, {
      reason: 'cancelled on the channel',
    });
    expect(credited.status).toBe(201);
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([17750]);
    const refund = moneyRefund('6610000000000000011', id, '177.50');
    const applied = await shopifyWebhook('refunds/create', refund);
    expect(applied.body.status).toBe('updated');
    expect(applied.body.note).not.toMatch(/HELD/);
    expect(applied.body.note).toMatch(/allowance 17750 covered/);
    expect(await stack.db('channel_refunds').where({ order_id: row.id }).first()).toMatchObject({
      status: 'covered',
      held_reason: null,
    });
    // No second credit note; the 177.50 the channel paid back is paid out of the receipt.
    expect(await creditNotesOf(invoice.id)).toHaveLength(1);
    expect((await paymentsOf(Number(row.id))).map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
      [17750, 0],
      [-17750, 0],
    ]);
    expect(await balanceOf(Number(row.customer_id))).toBe(0);
    expect(await heldRefundProblems(stack.db)).not.toContainEqual(
      expect.objectContaining({ subject: expect.stringContaining('6610000000000000011') }),
    );
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: a held allowance still pays out what the order’s credit notes gave back to the receipt', async () => {
    const id = '5810000000000000012';
    const order = await shippedPaidOrder(id);
    const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    // One mug back (54.50 credited, back on the receipt's account), then 120.00 of money only:
    // more than the invoice has left (113.00), held — but the 54.50 on account is paid out.
    const back = await stack.api('POST', `/api/orders/${order.orderId}/returns`, {
      lines: [{ sku: 'MUG', quantity: 1 }],
      restock: true,
      reason: 'broken',
    });
    expect(back.status).toBe(201);
    const applied = await shopifyWebhook('refunds/create', moneyRefund('6610000000000000012', id, '120.00'));
    expect(applied.body.note).toMatch(/HELD: .*11300 EUR left to credit/);
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([5450]);
    expect((await paymentsOf(order.orderId)).map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
      [16750, 0],
      [-5450, 0],
    ]);
    expect(await balanceOf(order.customerId)).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: on a periodic invoice of two orders, an order whose units were all credited has nothing left for an allowance (the other order’s share is not taken)', async () => {
    const email = 'periodic.buyer@example.com';
    const customer = await stack.api('PUT', '/api/customers/PERIODIC-EUR', {
      name: 'Periodic buyer',
      currency: 'EUR',
      language: 'en',
      contacts: [{ email }],
      invoicePolicy: 'periodic',
    });
    expect(customer.status).toBeLessThan(300);
    const ids = ['5810000000000000021', '5810000000000000022'];
    const orders: { orderId: number; customerId: number }[] = [];
    for (const id of ids) {
      await receive('TEE', 2);
      await receive('MUG', 1);
      const body = paidOrder(id, '2026-11-20T10:00:00Z').replaceAll('li.wei@example.com', email);
      expect((await shopifyWebhook('orders/create', body)).body.status).toBe('created');
      await stack.settle();
      const row = await stack
        .db('orders')
        .where({ channel: `shopify:${shopifyId}`, external_id: id })
        .first();
      expect(row.status).toBe('confirmed');
      expect((await stack.api('POST', `/api/orders/${row.id}/shipments`, {})).status).toBe(201);
      orders.push({ orderId: Number(row.id), customerId: Number(row.customer_id) });
    }
    expect(orders[0]!.customerId).toBe(orders[1]!.customerId);
    const dir = mkdtempSync(path.join(tmpdir(), 'refund-money-periodic-'));
    const today = new Date().toISOString().slice(0, 10);
    const monthEnd = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 0))
      .toISOString()
      .slice(0, 10);
    try {
      await issueDueInvoices(stack.db, { period: monthEnd, timeZone: 'UTC', outputDir: dir, log: silentLog });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const [line] = await stack
      .db('invoice_lines')
      .where({ order_id: orders[0]!.orderId })
      .select('invoice_id');
    const invoice = await stack.db('invoices').where({ id: line.invoice_id }).first();
    expect(invoice.order_id).toBeNull();
    expect(Number(invoice.total)).toBe(2 * 16750);

    // The first order's units all come back: its 167.50 credited; the second's 167.50 stays billed.
    const back = await stack.api('POST', `/api/orders/${orders[0]!.orderId}/returns`, {
      lines: [
        { sku: 'TEE', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ],
      restock: true,
      reason: 'all back',
    });
    expect(back.status).toBe(201);
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([16750]);
    // 30.00 of money on the first order: nothing of it is left on the invoice to credit.
    const applied = await shopifyWebhook(
      'refunds/create',
      moneyRefund('6610000000000000021', ids[0]!, '30.00'),
    );
    expect(applied.body.status).toBe('updated');
    expect(await stack.db('channel_refunds').where({ order_id: orders[0]!.orderId }).first()).toMatchObject({
      status: 'covered',
      credited: 0,
    });
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([16750]);
    // The second order's allowance still finds its own share.
    const other = await shopifyWebhook(
      'refunds/create',
      moneyRefund('6610000000000000022', ids[1]!, '30.00'),
    );
    expect(other.body.note).toMatch(/allowance 3000 credited/);
    expect((await creditNotesOf(invoice.id)).map((n) => Number(n.total))).toEqual([16750, 3000]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('WooCommerce: a refund of an amount only (no line items) on an invoiced, paid order → an allowance credit note and the payout', async () => {
    await receive('TEE', 1);
    await receive('MUG', 1);
    const body = JSON.parse(fixture('woocommerce/order-723-webhook-body.txt'));
    body.id = 823;
    body.currency = 'EUR';
    body.line_items[0].sku = 'TEE';
    body.line_items[1].sku = 'MUG';
    body.date_paid_gmt = '2017-03-21T19:20:00';
    const placed = { ...body, status: 'processing', refunds: [], date_modified_gmt: body.date_created_gmt };
    expect((await wooWebhook('order.created', JSON.stringify(placed))).body.status).toBe('created');
    await stack.settle();
    const row = await stack
      .db('orders')
      .where({ channel: `woocommerce:${wooId}`, external_id: '823' })
      .first();
    expect(row.status).toBe('confirmed');
    const shipment = await stack.api('POST', `/api/orders/${row.id}/shipments`, {});
    const issued = await stack.api('POST', '/api/invoices', { shipment: shipment.body.shipmentId });
    expect(issued.status).toBe(201);
    const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
    expect(Number(invoice.total)).toBe(3900);
    expect(Number(invoice.paid)).toBe(3900);

    // The shop refunds 10.00 with no line items; the order lists it by amount, its refunds say the rest.
    const refunds = [
      {
        id: 826,
        date_created_gmt: '2017-03-22T10:00:00',
        amount: '10.00',
        reason: 'late delivery',
        refunded_payment: true,
        line_items: [],
        shipping_lines: [],
      },
    ];
    const asked = nock(WOO_SITE)
      .get('/wp-json/wc/v3/orders/823/refunds')
      .query(true)
      .times(2)
      .reply(200, JSON.stringify(refunds), { 'content-type': 'application/json' });
    const updated = {
      ...body,
      status: 'completed',
      date_modified_gmt: '2017-03-22T10:00:01',
      refunds: [{ id: 826, reason: 'late delivery', total: '-10.00' }],
    };
    const applied = await wooWebhook('order.updated', JSON.stringify(updated));
    expect(applied.body.status).toBe('updated');
    const [note, ...more] = await creditNotesOf(invoice.id);
    expect(more).toEqual([]);
    expect(Number(note.total)).toBe(1000);
    expect((await linesOf(note.id)).every((l) => l.sku === 'ALLOWANCE' && l.quantity === 0)).toBe(true);
    expect((await paymentsOf(Number(row.id))).map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
      [3900, 0],
      [-1000, 0],
    ]);
    // Delivered again under another delivery id: nothing more.
    expect((await wooWebhook('order.updated', JSON.stringify(updated))).body.status).not.toBe('updated');
    expect(asked.isDone()).toBe(true);
    expect(await creditNotesOf(invoice.id)).toHaveLength(1);
    expect(await paymentsOf(Number(row.id))).toHaveLength(2);
    expect(await balanceOf(Number(row.customer_id))).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  // Lock waits are read from InnoDB's tables: the forced interleavings run on MariaDB.
  if (!sqlite)
    it('Shopify: a refund of money and the order’s invoice posted at once, queued behind the order row → the allowance once (carried or credited), one payout', async () => {
      const id = '5810000000000000006';
      const order = await shippedPaidOrder(id);
      const refund = moneyRefund('6610000000000000006', id, '30.00');
      const channel = (await findChannel(stack.db, stack.secretKey, shopifyId))!;
      const event: ChannelOrderEvent = {
        deliveryId: 'race-money-invoice',
        topic: 'refunds/create',
        kind: 'order.refund',
        rawPayload: refund,
        externalId: id,
        order: null,
        refund: shopifyConnector.normalizeRefund!(parseJsonKeepingBigIds(refund)),
      };
      const blocker = await block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [order.orderId]);
      let finished = 0;
      const both = [
        receiveChannelEvent(stack.db, channel, event),
        stack.api('POST', '/api/invoices', { shipment: order.shipmentId }),
      ].map((p) =>
        (p as Promise<unknown>).finally(() => {
          finished++;
        }),
      );
      await waitForLockWaits(stack.db, 2, {
        table: 'orders',
        settled: () => (finished > 0 ? `${finished} finished without waiting` : null),
      });
      await blocker.commit();
      const [applied, issued] = (await Promise.all(both)) as [
        { outcome: string },
        { status: number; body: any },
      ];
      expect(applied.outcome).toBe('updated');
      expect(issued.status).toBe(201);
      const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
      const row = await stack.db('channel_refunds').where({ order_id: order.orderId }).first();
      const notes = await creditNotesOf(invoice.id);
      if (row.status === 'carried') {
        expect(Number(invoice.total)).toBe(13750);
        expect(notes).toEqual([]);
      } else {
        expect(row.status).toBe('credited');
        expect(Number(invoice.total)).toBe(16750);
        expect(notes.map((n) => Number(n.total))).toEqual([3000]);
      }
      expect((await paymentsOf(order.orderId)).map((p) => [Number(p.amount), Number(p.unapplied)])).toEqual([
        [16750, 0],
        [-3000, 0],
      ]);
      expect(await balanceOf(order.customerId)).toBe(0);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

  // Lock waits are read from InnoDB's tables: the forced interleaving runs on MariaDB.
  if (!sqlite)
    it('Shopify: refunds/create and orders/updated of one refund of money applied at once, queued behind the order row → one credit note, one payout', async () => {
      const id = '5810000000000000004';
      const order = await shippedPaidOrder(id);
      const issued = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
      const invoice = await stack.db('invoices').where({ number: issued.body.number }).first();
      const refund = moneyRefund('6610000000000000004', id, '12.34');
      const updatedBody = paidOrder(id, '2026-11-28T12:00:05Z', [refund]);
      const channel = (await findChannel(stack.db, stack.secretKey, shopifyId))!;
      const events: ChannelOrderEvent[] = [
        {
          deliveryId: 'race-money-updated',
          topic: 'orders/updated',
          kind: 'order.upsert',
          rawPayload: updatedBody,
          externalId: id,
          order: shopifyConnector.normalizeOrder(parseJsonKeepingBigIds(updatedBody)),
        },
        {
          deliveryId: 'race-money-refund',
          topic: 'refunds/create',
          kind: 'order.refund',
          rawPayload: refund,
          externalId: id,
          order: null,
          refund: shopifyConnector.normalizeRefund!(parseJsonKeepingBigIds(refund)),
        },
      ];
      // A blocker holds the order row; both deliveries queue behind it, then go one after the other.
      const blocker = await block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [order.orderId]);
      let finished = 0;
      const applying = events.map((e) =>
        receiveChannelEvent(stack.db, channel, e).finally(() => {
          finished++;
        }),
      );
      await waitForLockWaits(stack.db, 2, {
        table: 'orders',
        settled: () => (finished > 0 ? `${finished} finished without waiting` : null),
      });
      await blocker.commit();
      const results = await Promise.all(applying);
      expect(results.filter((r) => r.outcome === 'updated')).toHaveLength(1);
      const notes = await creditNotesOf(invoice.id);
      expect(notes.map((n) => Number(n.total))).toEqual([1234]);
      expect((await paymentsOf(order.orderId)).map((p) => Number(p.amount))).toEqual([16750, -1234]);
      expect(await stack.db('channel_refunds').where({ order_id: order.orderId })).toHaveLength(1);
      expect(await balanceOf(order.customerId)).toBe(0);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });
});
