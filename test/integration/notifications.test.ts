import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordChannelError } from '../../src/channels/channel-store.js';
import { dbTime } from '../../src/db/connection.js';
import { createApp } from '../../src/http/app.js';
import { PREVIEW_STATUS_LINK } from '../../src/http/routes/notifications.js';
import { notificationOutboxHandlers } from '../../src/notify/outbox-handlers.js';
import { statusLinkFor } from '../../src/notify/status-token.js';
import { MAIL_FROM, type NotifyHarness, startNotifyHarness } from '../helpers/notify.js';
import { type ReceivedMail, startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import {
  ADMIN_TOKEN,
  createStack,
  orderBody,
  seedCatalog,
  silentLog,
  type TestStack,
} from '../helpers/stack.js';
import { insertDocument } from '../helpers/statement-fixtures.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;
let smtp: TestSmtpServer;
let notify: NotifyHarness;
let templatesDir: string;
let outputDir: string;

beforeAll(async () => {
  stack = await createStack();
  smtp = await startTestSmtpServer();
  templatesDir = mkdtempSync(path.join(tmpdir(), 'sb-templates-'));
  outputDir = mkdtempSync(path.join(tmpdir(), 'sb-notify-out-'));
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['N1', 'N2']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'start',
    lines: [
      { sku: 'N1', quantity: 1000 },
      { sku: 'N2', quantity: 1000 },
    ],
  });
  stack.startWorker(4);
  notify = await startNotifyHarness(stack, { smtpUrl: smtp.url, templatesDir, outputDir });
}, 60_000);

afterAll(async () => {
  await notify?.close();
  await stack?.close();
  await smtp?.close();
  if (templatesDir) rmSync(templatesDir, { recursive: true, force: true });
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
});

const mailsTo = (address: string) => smtp.received.filter((m) => m.envelopeTo.includes(address));

async function placeOrder(externalId: string, customer: Record<string, unknown>, sku = 'N1') {
  const r = await stack.api(
    'POST',
    '/api/orders',
    orderBody(externalId, [{ sku, quantity: 2 }], { customer }),
  );
  expect(r.status).toBe(202);
  return Number(r.body.id);
}

async function notificationsOf(orderId: number) {
  const r = await stack.api('GET', `/api/notifications?order=${orderId}`);
  expect(r.status).toBe(200);
  return r.body.items as Array<Record<string, any>>;
}

describe('notification rules', () => {
  it('a fresh install has the default rules: the customer hears of confirmed, shipped, cancelled; staff of holds, failing channels, failed jobs', async () => {
    const r = await stack.api('GET', '/api/notification-rules');
    expect(r.status).toBe(200);
    const byEvent = (e: string) => r.body.items.filter((x: any) => x.event === e);
    for (const e of ['order.confirmed', 'order.shipped', 'order.cancelled'])
      expect(byEvent(e)[0]?.recipients).toEqual([{ type: 'contact', medium: 'email' }]);
    for (const e of ['order.held', 'channel.failing', 'job.failed'])
      expect(byEvent(e)[0]?.recipients).toEqual([{ type: 'role', role: 'operations' }]);
  });

  it('validates rules (422 listing the problems), answers 404 for one that does not exist, and keeps a deleted default deleted', async () => {
    const bad = await stack.api('POST', '/api/notification-rules', {
      event: 'order.teleported',
      recipients: [{ type: 'phone', number: '12345' }],
    });
    expect(bad.status).toBe(422);
    const paths = bad.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['event', 'recipients.0.number']));
    expect(
      (
        await stack.api('PUT', '/api/notification-rules/999999', {
          event: 'order.shipped',
          recipients: [{ type: 'contact' }],
        })
      ).status,
    ).toBe(404);

    const made = await stack.api('POST', '/api/notification-rules', {
      event: 'order.delivered',
      filters: { channel: 'api' },
      recipients: [{ type: 'email', address: 'Sales@Shop.Example', language: 'zh-CN' }],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ event: 'order.delivered', filters: { channel: 'api' }, enabled: true });
    const got = await stack.api('GET', `/api/notification-rules/${made.body.id}`);
    expect(got.body.recipients[0]).toMatchObject({ type: 'email', language: 'zh-CN' });
    expect((await stack.api('DELETE', `/api/notification-rules/${made.body.id}`)).status).toBe(204);
    expect((await stack.api('GET', `/api/notification-rules/${made.body.id}`)).status).toBe(404);

    const rules = (await stack.api('GET', '/api/notification-rules')).body.items;
    const cancelledRule = rules.find((x: any) => x.defaultKey === 'customer-cancelled');
    expect((await stack.api('DELETE', `/api/notification-rules/${cancelledRule.id}`)).status).toBe(204);
    const again = (await stack.api('GET', '/api/notification-rules')).body.items;
    expect(again.find((x: any) => x.defaultKey === 'customer-cancelled')).toBeUndefined();
    // Restored for the other tests, as an ordinary rule.
    expect(
      (
        await stack.api('POST', '/api/notification-rules', {
          event: 'order.cancelled',
          recipients: [{ type: 'contact' }],
        })
      ).status,
    ).toBe(201);
  });
});

describe('e-mail to customers', () => {
  it('tells an English customer of the confirmation and the shipment, with its lines, tracking link and escaped HTML', async () => {
    const address = 'ann@buyer.example';
    const id = await placeOrder('EN-1', { name: 'Ann <b>& Co</b>', email: address, language: 'en' });
    await waitFor(() => mailsTo(address).length >= 1, { message: 'the confirmation e-mail' });
    const ship = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF123 456',
    });
    expect(ship.status).toBe(201);
    await waitFor(() => mailsTo(address).length >= 2, { message: 'the shipment e-mail' });
    const [confirmed, shipped] = mailsTo(address) as [ReceivedMail, ReceivedMail];
    expect(confirmed.parsed.subject).toBe('Order EN-1 confirmed');
    expect(confirmed.parsed.text).toContain('Hello Ann <b>& Co</b>,');
    expect(confirmed.parsed.text).toContain('N1 SKU N1 × 2');
    expect(confirmed.parsed.html).toContain('Ann &lt;b&gt;&amp; Co&lt;/b&gt;');
    expect(confirmed.parsed.html).not.toContain('<b>& Co');
    expect(confirmed.parsed.from?.text).toContain('orders@shop.example');
    expect(shipped.parsed.subject).toBe('Order EN-1 shipped');
    expect(shipped.parsed.text).toContain(
      'https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF123%20456',
    );
    expect(shipped.parsed.html).toContain(
      'href="https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF123%20456"',
    );
    expect(confirmed.parsed.messageId).toMatch(/^<n\.[A-Za-z0-9_-]+@shop\.example>$/);
    expect(shipped.parsed.messageId).not.toBe(confirmed.parsed.messageId);

    const items = await notificationsOf(id);
    expect(items.map((n) => [n.event, n.state, n.recipient])).toEqual([
      ['order.shipped', 'sent', address],
      ['order.confirmed', 'sent', address],
    ]);
    expect(items[1]!.messageId).toBe(confirmed.parsed.messageId);
    expect(items[1]!.providerAnswer).toMatch(/^250/);
    const detail = await stack.api('GET', `/api/orders/${id}`);
    expect(detail.body.notifications.map((n: any) => [n.event, n.state])).toEqual([
      ['order.confirmed', 'sent'],
      ['order.shipped', 'sent'],
    ]);
  });

  it('writes to a zh-CN customer in Chinese', async () => {
    const address = 'wang@buyer.example';
    await placeOrder('ZH-1', { name: '王先生', email: address, language: 'zh-CN' });
    await waitFor(() => mailsTo(address).length >= 1, { message: 'the Chinese confirmation' });
    const [mail] = mailsTo(address) as [ReceivedMail];
    expect(mail.parsed.subject).toBe('订单 ZH-1 已确认');
    expect(mail.parsed.text).toContain('王先生，您好：');
    expect(mail.parsed.text).toContain('您的订单 ZH-1 已确认');
    expect(mail.parsed.html).toContain('lang="zh-CN"');
  });

  it('a template file under the templates folder overrides the built-in part', async () => {
    writeFileSync(
      path.join(templatesDir, 'order.confirmed.en.subject'),
      'Good news for {{contact.name}}: {{order.externalId}} is confirmed\n',
    );
    writeFileSync(
      path.join(templatesDir, 'order.confirmed.en.text'),
      'Custom text {{order.total}}\n{{#lines}}* {{sku}}\n{{/lines}}',
    );
    try {
      const address = 'tpl@buyer.example';
      await placeOrder('TPL-1', { name: 'Tom', email: address, language: 'en' });
      await waitFor(() => mailsTo(address).length >= 1, { message: 'the overridden e-mail' });
      const [mail] = mailsTo(address) as [ReceivedMail];
      expect(mail.parsed.subject).toBe('Good news for Tom: TPL-1 is confirmed');
      expect(mail.parsed.text?.trim()).toBe('Custom text EUR 20.00\n* N1');
      // The part not overridden stays the built-in one.
      expect(mail.parsed.html).toContain('Your order TPL-1 is confirmed');
    } finally {
      rmSync(path.join(templatesDir, 'order.confirmed.en.subject'));
      rmSync(path.join(templatesDir, 'order.confirmed.en.text'));
    }
  });
});

describe('render errors', () => {
  it('retries a file-system error while rendering, and fails a broken template for good', async () => {
    // A part that cannot be read (a folder where the file should be): not the template's fault.
    const part = path.join(templatesDir, 'order.confirmed.en.subject');
    mkdirSync(part);
    let orderId: number;
    try {
      orderId = await placeOrder('RENDER-1', { email: 'render@buyer.example', language: 'en' });
      const waiting = await waitFor(
        async () =>
          (await notificationsOf(orderId)).find(
            (n) => n.event === 'order.confirmed' && n.state === 'pending' && n.attempts >= 1,
          ),
        { message: 'a retried render failure' },
      );
      expect(waiting.providerAnswer).toContain('could not be rendered');
    } finally {
      rmSync(part, { recursive: true, force: true });
    }
    await waitFor(
      async () =>
        (await notificationsOf(orderId)).find((n) => n.event === 'order.confirmed' && n.state === 'sent'),
      { message: 'the notification sent once the part can be read' },
    );
    expect(mailsTo('render@buyer.example')).toHaveLength(1);

    // A template that does not parse stays broken: failed for good, at once.
    writeFileSync(part, '{{#order}}never closed');
    try {
      const broken = await placeOrder('RENDER-2', { email: 'render2@buyer.example', language: 'en' });
      const failed = await waitFor(
        async () =>
          (await notificationsOf(broken)).find((n) => n.event === 'order.confirmed' && n.state === 'failed'),
        { message: 'the broken template to fail' },
      );
      expect(failed.attempts).toBe(1);
      expect(failed.reason).toContain('never closed');
    } finally {
      rmSync(part, { force: true });
    }
  });
});

describe('staff notifications', () => {
  it("tells the operations role of a held order, in each address's language, with the hold reason", async () => {
    const put = await stack.api('PUT', '/api/notification-roles/operations', {
      addresses: [
        { address: 'ops@shop.example', language: 'en' },
        { address: 'cangku@shop.example', language: 'zh-CN' },
      ],
    });
    expect(put.status).toBe(200);
    const id = await placeOrder('HELD-1', { email: 'held-buyer@buyer.example' }, 'NO-SUCH-SKU');
    await waitFor(
      () => mailsTo('ops@shop.example').length >= 1 && mailsTo('cangku@shop.example').length >= 1,
      {
        message: 'the staff e-mails',
      },
    );
    const order = (await stack.api('GET', `/api/orders/${id}`)).body;
    expect(order.status).toBe('on_hold');
    const en = mailsTo('ops@shop.example')[0]!;
    const zh = mailsTo('cangku@shop.example')[0]!;
    expect(en.parsed.subject).toBe(`Order HELD-1 (api) is on hold: ${order.holdReason}`);
    expect(zh.parsed.subject).toBe(`订单 HELD-1（api）已暂停：${order.holdReason}`);
    // The buyer hears nothing of a hold (no default rule), and the staff mail has no greeting by name.
    expect(mailsTo('held-buyer@buyer.example')).toHaveLength(0);
    const items = await notificationsOf(id);
    expect(items.map((n) => n.recipient).sort()).toEqual(['cangku@shop.example', 'ops@shop.example']);
  });

  it('tells of the hold reason at the time of the hold, not the one the order has when the relay runs', async () => {
    const id = await placeOrder('HELD-2', { email: 'held2-buyer@buyer.example' }, 'NO-SUCH-SKU');
    await waitFor(async () => (await stack.api('GET', `/api/orders/${id}`)).body.status === 'on_hold', {
      message: 'the order held',
    });
    const reason = (await stack.api('GET', `/api/orders/${id}`)).body.holdReason as string;
    // The relay is done with this order's hold (its staff notifications are sent) before the row is touched.
    await waitFor(
      async () => {
        const items = await notificationsOf(id);
        return items.length > 0 && items.every((n) => n.state !== 'pending');
      },
      { message: 'the hold notifications sent' },
    );
    // The outbox row carries the reason of the hold.
    const rows = await stack.db('outbox').where('topic', 'order.status_changed').select('payload');
    const payloads = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload));
    expect(payloads).toContainEqual(
      expect.objectContaining({ orderId: id, to: 'on_hold', holdReason: reason }),
    );
    // A row relayed after the order's reason changed: the fan-out keeps the payload's reason.
    await stack.db
      .transaction(async (tx) => {
        await tx('orders').where({ id }).update({ hold_reason: 'credit_limit' });
        await notificationOutboxHandlers({ host: 'shop.example' })['order.status_changed']!(
          [
            {
              id: 900_000_001,
              topic: 'order.status_changed',
              payload: { orderId: id, from: 'received', to: 'on_hold', holdReason: reason },
            },
          ],
          tx,
        );
        const made = await tx('notifications')
          .where('source_key', 'like', 'outbox:900000001%')
          .select('event', 'data');
        expect(made.length).toBeGreaterThan(0);
        expect(made.map((m) => m.event)).not.toContain('order.credit_hold');
        for (const m of made)
          expect((typeof m.data === 'string' ? JSON.parse(m.data) : m.data).holdReason).toBe(reason);
        await tx.rollback();
      })
      .catch((err: Error) => {
        if (!String(err?.message ?? err).includes('Transaction rejected with non-error')) throw err;
      });
  });
});

describe('one person, one message', () => {
  it('two matching rules naming the same address make one notification and one e-mail', async () => {
    const ids: number[] = [];
    for (const address of ['both@shop.example', 'BOTH@shop.example']) {
      const r = await stack.api('POST', '/api/notification-rules', {
        event: 'order.confirmed',
        recipients: [{ type: 'email', address, language: 'en' }],
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids.push(Number(r.body.id));
    }
    try {
      const id = await placeOrder('TWICE-1', { email: 'twice-buyer@buyer.example' });
      await waitFor(() => mailsTo('twice-buyer@buyer.example').length >= 1, { message: 'the buyer e-mail' });
      await waitFor(
        async () =>
          (await notificationsOf(id)).some(
            (n) => n.recipient.toLowerCase() === 'both@shop.example' && n.state === 'sent',
          ),
        {
          message: 'the e-mail to the address both rules name',
        },
      );
      await notify.tick();
      const rows = (await notificationsOf(id)).filter(
        (n) => n.recipient.toLowerCase() === 'both@shop.example',
      );
      expect(rows).toHaveLength(1);
      expect(
        smtp.received.filter((m) => m.envelopeTo.some((a) => a.toLowerCase() === 'both@shop.example')),
      ).toHaveLength(1);
    } finally {
      for (const ruleId of ids) await stack.api('DELETE', `/api/notification-rules/${ruleId}`);
    }
  });
});

describe('failures', () => {
  it('retries a temporary failure, records a permanent one and suppresses the address from then on', async () => {
    smtp.setMode('permanent-failure');
    const address = 'gone@buyer.example';
    const first = await placeOrder('BOUNCE-1', { email: address });
    const failed = await waitFor(
      async () => (await notificationsOf(first)).find((n) => n.state === 'failed'),
      { message: 'the notification to fail' },
    );
    smtp.setMode('accept');
    expect(failed.providerAnswer).toContain('5.1.1');
    expect(failed.attempts).toBe(1);
    const suppressions = (await stack.api('GET', '/api/notification-suppressions')).body.items;
    expect(suppressions).toEqual(
      expect.arrayContaining([expect.objectContaining({ medium: 'email', recipient: address })]),
    );

    const second = await placeOrder('BOUNCE-2', { email: 'GONE@buyer.example' });
    const suppressed = await waitFor(
      async () => (await notificationsOf(second)).find((n) => n.state === 'suppressed'),
      { message: 'the second notification to be suppressed' },
    );
    expect(suppressed.reason).toContain('address suppressed');
    expect(mailsTo(address)).toHaveLength(0);
    expect(mailsTo('GONE@buyer.example')).toHaveLength(0);

    // A temporary failure is tried again and then goes out once.
    smtp.setMode('temporary-failure');
    const third = await placeOrder('RETRY-1', { email: 'later@buyer.example' });
    await waitFor(
      async () => (await notificationsOf(third)).some((n) => n.attempts >= 1 && n.state === 'pending'),
      {
        message: 'a failed first attempt',
      },
    );
    smtp.setMode('accept');
    const sent = await waitFor(async () => (await notificationsOf(third)).find((n) => n.state === 'sent'), {
      message: 'the retry to succeed',
    });
    expect(sent.attempts).toBeGreaterThanOrEqual(2);
    expect(mailsTo('later@buyer.example')).toHaveLength(1);
  });

  it('a message refused for its content (554 5.7.1) fails that notification only, without suppressing the address', async () => {
    smtp.setMode('rejected-content');
    const address = 'picky@buyer.example';
    const first = await placeOrder('REFUSED-1', { email: address });
    const failed = await waitFor(
      async () => (await notificationsOf(first)).find((n) => n.state === 'failed'),
      { message: 'the notification to fail' },
    );
    smtp.setMode('accept');
    expect(failed.providerAnswer).toContain('5.7.1');
    const suppressions = (await stack.api('GET', '/api/notification-suppressions')).body.items;
    expect(suppressions.some((s: { recipient: string }) => s.recipient === address)).toBe(false);
    const second = await placeOrder('REFUSED-2', { email: address });
    await waitFor(async () => (await notificationsOf(second)).find((n) => n.state === 'sent'), {
      message: 'the next notification to the same address to go out',
    });
    expect(mailsTo(address)).toHaveLength(1);
  });
});

describe('preview', () => {
  it('renders a template for an order without sending anything', async () => {
    const id = await placeOrder('PREV-1', { name: 'Li', email: 'preview@buyer.example', language: 'zh-CN' });
    await waitFor(() => mailsTo('preview@buyer.example').length >= 1, { message: 'the confirmation' });
    const before = smtp.received.length;
    const rowsBefore = (await notificationsOf(id)).length;
    const r = await stack.api('POST', '/api/notifications/preview', {
      event: 'order.shipped',
      orderId: id,
      language: 'zh-CN',
      medium: 'email',
    });
    expect(r.status).toBe(200);
    expect(r.body.subject).toBe('订单 PREV-1 已发货');
    expect(r.body.text).toContain('Li，您好：');
    expect(r.body.html).toContain('<table');
    const en = await stack.api('POST', '/api/notifications/preview', {
      event: 'order.shipped',
      orderId: id,
      language: 'en',
      medium: 'sms',
    });
    expect(en.body).toMatchObject({ subject: 'Order PREV-1 shipped', html: null });
    expect(smtp.received.length).toBe(before);
    expect((await notificationsOf(id)).length).toBe(rowsBefore);

    expect(
      (await stack.api('POST', '/api/notifications/preview', { event: 'order.shipped', language: 'en' }))
        .status,
    ).toBe(422);
    expect(
      (await stack.api('POST', '/api/notifications/preview', { event: 'order.shipped', orderId: 99999999 }))
        .status,
    ).toBe(404);
    expect(
      (await stack.api('POST', '/api/notifications/preview', { event: 'nope', orderId: id })).status,
    ).toBe(422);
    expect(MAIL_FROM).toContain('shop.example');
  });

  it("shows a placeholder for the status page link: never the customer's link, no nonce written", async () => {
    const id = await placeOrder('PREV-2', { name: 'Ann', email: 'preview2@buyer.example', language: 'en' });
    await stack.db('orders').where({ id }).update({ status_nonce: null });
    const options = { secretKey: randomBytes(32), publicUrl: 'https://stockbridge.example.com' };
    const app = createApp({
      db: stack.db,
      log: silentLog,
      adminToken: ADMIN_TOKEN,
      enqueueOrders: async () => {},
      checkRedis: async () => {},
      notifications: {
        templatesDir: null,
        statusLink: (orderId) => statusLinkFor(stack.db, options, orderId),
      },
    });
    const res = await app.request('/api/notifications/preview', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'order.shipped', orderId: id, language: 'en', medium: 'email' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string; html: string };
    expect(body.text).toContain(PREVIEW_STATUS_LINK);
    expect(`${body.text}${body.html}`).not.toContain('stockbridge.example.com/status/');
    expect((await stack.db('orders').where({ id }).first('status_nonce')).status_nonce).toBeNull();
  });
});

describe('documents to customers', () => {
  it('e-mails invoices and statements as attachments to customers who asked for it, and a sent statement is sent', async () => {
    for (const code of ['DOCS', 'NODOCS'])
      expect(
        (
          await stack.api('PUT', `/api/customers/${code}`, {
            name: `${code} Ltd`,
            currency: 'EUR',
            language: 'zh-CN',
          })
        ).status,
      ).toBeLessThan(300);
    const bad = await stack.api('PUT', '/api/customers/DOCS/document-delivery', {
      email: true,
      billingEmail: 'nope',
    });
    expect(bad.status).toBe(422);
    expect((await stack.api('PUT', '/api/customers/NOSUCH/document-delivery', { email: true })).status).toBe(
      404,
    );
    const on = await stack.api('PUT', '/api/customers/DOCS/document-delivery', {
      email: true,
      billingEmail: 'AP@docs.example',
    });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ customer: 'DOCS', email: true, sendsTo: 'ap@docs.example' });

    const idOf = async (code: string) =>
      Number((await stack.db('customers').where('code', code).first('id')).id);
    const today = new Date().toISOString().slice(0, 10);
    const invoiceId = await insertDocument(stack.db, {
      customerId: await idOf('DOCS'),
      type: 'invoice',
      total: 12345,
      issueDate: today,
    });
    const otherId = await insertDocument(stack.db, {
      customerId: await idOf('NODOCS'),
      type: 'invoice',
      total: 500,
      issueDate: today,
    });
    const number = (await stack.db('invoices').where({ id: invoiceId }).first('number')).number;

    await waitFor(() => mailsTo('ap@docs.example').length >= 1, { message: 'the invoice e-mail' });
    const invoiceMail = mailsTo('ap@docs.example')[0]!;
    // In the invoice's own language (the fixture writes `en`); the statement in the customer's.
    expect(invoiceMail.parsed.subject).toBe(`Invoice ${number}`);
    expect(invoiceMail.parsed.text).toContain('EUR 123.45');
    expect(invoiceMail.parsed.attachments.map((a) => a.filename)).toEqual([`${number}.xlsx`]);
    expect(invoiceMail.parsed.attachments[0]!.content.subarray(0, 2).toString()).toBe('PK');

    const statement = await stack.api('POST', '/api/statements', {
      customer: 'DOCS',
      period: today.slice(0, 7),
    });
    expect(statement.status).toBe(201);
    const statementId = Number(statement.body.items[0].id);
    await waitFor(
      async () => (await stack.db('statements').where({ id: statementId }).first('state')).state === 'sent',
      {
        message: 'the statement sent',
      },
    );
    const statementMail = mailsTo('ap@docs.example')[1]!;
    expect(statementMail.parsed.subject).toBe(`对账单 ${today.slice(0, 7)}`);
    expect(statementMail.parsed.attachments).toHaveLength(1);
    expect(statementMail.parsed.attachments[0]!.filename).toMatch(/\.xlsx$/);
    const rows = await stack
      .db('notifications')
      .whereIn('source_key', [`invoice:${invoiceId}`, `statement:${statementId}`, `invoice:${otherId}`]);
    expect(rows.map((r) => [r.source_key, r.state]).sort()).toEqual([
      [`invoice:${invoiceId}`, 'sent'],
      [`statement:${statementId}`, 'sent'],
    ]);
  });
});

describe('watched events', () => {
  it('tells operations once of a scheduled job that failed for good', async () => {
    await stack.api('PUT', '/api/notification-roles/operations', {
      addresses: [
        { address: 'ops@shop.example', language: 'en' },
        { address: 'cangku@shop.example', language: 'zh-CN' },
      ],
    });
    const now = dbTime();
    await stack.db('job_runs').insert({
      job: 'invoicing',
      period: '2026-11-30',
      status: 'failed',
      run: 1,
      attempts: 3,
      triggered_by: 'schedule',
      error: 'disk full',
      queued_at: now,
      started_at: now,
      finished_at: now,
      updated_at: now,
    });
    await waitFor(
      () =>
        mailsTo('ops@shop.example').some((m) =>
          m.parsed.subject?.startsWith('Scheduled job invoicing failed'),
        ) && mailsTo('cangku@shop.example').some((m) => m.parsed.subject?.startsWith('定时任务 invoicing')),
      { message: 'the failed job e-mails' },
    );
    const zh = mailsTo('cangku@shop.example').find((m) => m.parsed.subject?.startsWith('定时任务 invoicing'));
    expect(zh?.parsed.text).toContain('disk full');
    await notify.tick();
    await notify.tick();
    expect(
      mailsTo('ops@shop.example').filter((m) =>
        m.parsed.subject?.startsWith('Scheduled job invoicing failed'),
      ),
    ).toHaveLength(1);
  });
});

describe('failing channels', () => {
  it('tells operations once per failing spell of a channel', async () => {
    await stack.api('PUT', '/api/notification-roles/operations', {
      addresses: [{ address: 'ops@shop.example', language: 'en' }],
    });
    const now = dbTime();
    const [id] = await stack.db('channels').insert({
      type: 'shopify',
      name: 'Flagship <shop>',
      enabled: false,
      settings: '{}',
      secrets: '',
      created_at: now,
      updated_at: now,
    });
    const subject = 'Channel Flagship <shop> is failing';
    await recordChannelError(stack.db, Number(id), 'pull: 401 Unauthorized', { failing: true });
    await waitFor(() => mailsTo('ops@shop.example').some((m) => m.parsed.subject === subject), {
      message: 'the failing channel e-mail',
    });
    const mail = mailsTo('ops@shop.example').find((m) => m.parsed.subject === subject)!;
    expect(mail.parsed.text).toContain('pull: 401 Unauthorized');
    expect(mail.parsed.html).toContain('Flagship &lt;shop&gt;');
    // Still failing: the same spell, nothing new.
    await recordChannelError(stack.db, Number(id), 'pull: 401 again', { failing: true });
    await notify.tick();
    await notify.tick();
    expect(mailsTo('ops@shop.example').filter((m) => m.parsed.subject === subject)).toHaveLength(1);
  });
});

describe('replays', () => {
  it('an outbox row handed over again makes no second notification and no second e-mail', async () => {
    const address = 'replay@buyer.example';
    const id = await placeOrder('REPLAY-1', { email: address });
    await waitFor(() => mailsTo(address).length >= 1, { message: 'the confirmation' });
    const before = await stack.db('notifications').where({ order_id: id }).count({ n: '*' });
    // As if the relay had died before its commit was seen: every row of the order again.
    const rows = await stack
      .db('outbox')
      .where({ topic: 'order.status_changed' })
      .whereRaw('payload LIKE ?', [`%"orderId":${id},%`]);
    expect(rows.length).toBeGreaterThan(0);
    await stack
      .db('outbox')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ published_at: null });
    await waitFor(
      async () =>
        Number(
          (
            await stack
              .db('outbox')
              .whereIn(
                'id',
                rows.map((r) => r.id),
              )
              .whereNull('published_at')
              .count({ n: '*' })
          )[0]!.n,
        ) === 0,
      { message: 'the rows handed over again' },
    );
    await notify.tick();
    const after = await stack.db('notifications').where({ order_id: id }).count({ n: '*' });
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    expect(mailsTo(address)).toHaveLength(1);
  });
});
