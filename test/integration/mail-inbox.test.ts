import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import type { Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALREADY_IMPORTED, EXCEL_CHANNEL, importOrderFile } from '../../src/inbox/import-file.js';
import { getMailInbox } from '../../src/inbox/mail-inbox-store.js';
import { type MailPollerOptions, pollMailInboxes } from '../../src/inbox/mail-poller.js';
import { createMailTransport } from '../../src/mail/transport.js';
import { IntakeBatcher } from '../../src/orders/intake-batcher.js';
import { startTestDovecot, type TestDovecot } from '../helpers/dovecot.js';
import { composeMail, orderWorkbook, resultRows, XLSX_TYPE } from '../helpers/order-mail.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let dovecot: TestDovecot;
let smtp: TestSmtpServer;
let transport: Transporter;
let outputDir: string;
let options: MailPollerOptions;
let inboxId: number;

const ACME = 'buyer@acme.example';
const BETA = 'li.wei@beta.example.cn';
const FROM = 'orders@stockbridge.test';

const count = async (q: PromiseLike<unknown>) => Number(((await q) as { n: number }[])[0]?.n ?? 0);
const excelOrders = (externalId: string) =>
  count(stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: externalId }).count({ n: '*' }));

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT']);
  await stack.api('PUT', '/api/customers/ACME', {
    name: 'Acme Ltd',
    language: 'en',
    contacts: [{ name: 'Buyer', email: 'Buyer@ACME.example' }],
  });
  await stack.api('PUT', '/api/customers/BETA', {
    name: '贝塔贸易',
    language: 'zh-CN',
    currency: 'CNY',
    contacts: [{ name: '李伟', email: BETA }],
  });
  dovecot = await startTestDovecot();
  smtp = await startTestSmtpServer();
  outputDir = mkdtempSync(path.join(tmpdir(), 'sb-mail-out-'));
  transport = createMailTransport({ smtpUrl: smtp.url, from: FROM })!;
  const created = await stack.api('POST', '/api/mail-inboxes', {
    name: 'Orders',
    host: dovecot.host,
    port: dovecot.port,
    tls: 'none',
    username: dovecot.user,
    password: dovecot.password,
  });
  expect(created.status).toBe(201);
  inboxId = created.body.id;
  options = {
    db: stack.db,
    intake: new IntakeBatcher(stack.db, async () => {}),
    secretKey: stack.secretKey,
    transport,
    from: FROM,
    outputDir,
    log: silentLog,
  };
}, 120_000);

afterAll(async () => {
  transport?.close();
  await smtp?.close();
  await dovecot?.stop();
  await stack?.close();
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
});

/** The replies the SMTP server received to the message with this Message-ID. */
const repliesTo = (messageId: string) => smtp.received.filter((m) => m.parsed.inReplyTo === messageId);

describe('mail inboxes through the API', () => {
  it('keeps the password write-only and refuses bad input', async () => {
    const view = await stack.api('GET', `/api/mail-inboxes/${inboxId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      host: '127.0.0.1',
      tls: 'none',
      folder: 'INBOX',
      processedFolder: 'Processed',
      passwordSet: true,
    });
    const list = await stack.api('GET', '/api/mail-inboxes');
    expect(JSON.stringify([view.body, list.body])).not.toContain(dovecot.password);
    // Stored sealed, not in clear.
    const row = await stack.db('mail_inboxes').where({ id: inboxId }).first();
    expect(JSON.stringify(row)).not.toContain(dovecot.password);
    expect((await getMailInbox(stack.db, stack.secretKey, inboxId)).password).toBe(dovecot.password);

    // Sending the stored password elsewhere needs it entered again.
    const moved = await stack.api('PATCH', `/api/mail-inboxes/${inboxId}`, { host: 'imap.evil.example' });
    expect(moved.status).toBe(422);
    expect(moved.body.error.code).toBe('secrets_required');
    const bad = await stack.api('POST', '/api/mail-inboxes', { name: 'x', host: 'h', username: 'u' });
    expect(bad.status).toBe(422);
    const same = await stack.api('PATCH', `/api/mail-inboxes/${inboxId}`, { processedFolder: 'INBOX' });
    expect(same.status).toBe(422);
    expect((await stack.api('GET', '/api/mail-inboxes/999999')).status).toBe(404);
    expect((await getMailInbox(stack.db, stack.secretKey, inboxId)).host).toBe('127.0.0.1');
  });
});

describe('orders by e-mail from a real Dovecot mailbox', () => {
  it('imports a mailed sheet as the sender’s customer and answers once, with the result workbook', async () => {
    const messageId = '<order-1@acme.example>';
    const sheet = await orderWorkbook([
      ['Order No', 'SKU', 'Qty', 'Unit price'],
      ['PO-1', 'BOLT', 3, 10],
      ['PO-1', 'NUT', 2, 1.5],
    ]);
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: `Buyer <${ACME}>`,
        subject: 'Order for December',
        messageId,
        attachments: [{ filename: 'december.xlsx', content: sheet, contentType: XLSX_TYPE }],
      }),
    );
    await pollMailInboxes(options);
    await smtp.waitForCount(1);
    const [reply] = repliesTo(messageId);
    expect(reply).toBeDefined();
    expect(reply!.parsed.subject).toBe('Re: Order for December');
    expect(reply!.parsed.references).toContain(messageId);
    expect(reply!.envelopeTo).toEqual([ACME]);
    expect(reply!.parsed.text).toContain('1 order(s) accepted');
    expect(reply!.parsed.text).not.toMatch(/[\u4e00-\u9fff]/); // English customer: English only
    expect(reply!.parsed.attachments.map((a) => a.filename)).toEqual(['december.result.xlsx']);
    const rows = await resultRows(reply!.parsed.attachments[0]!.content);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r['Status / 状态']).toBe('accepted / 已导入');
      expect(r['Customer / 客户编码']).toBe('ACME');
    }
    expect(await excelOrders('ACME:PO-1')).toBe(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
    expect(await dovecot.uids('Processed')).toHaveLength(1);

    // Polled again: nothing new, nothing sent again.
    await pollMailInboxes(options);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await excelOrders('ACME:PO-1')).toBe(1);
    const messages = await stack.api('GET', `/api/mail-inboxes/${inboxId}/messages`);
    expect(messages.body.items[0]).toMatchObject({ state: 'done', outcome: 'imported', messageId });
    expect(messages.body.items[0].replyMessageId).toBe(reply!.parsed.messageId);

    // The same message delivered again (a new UID): recognised by its Message-ID, not imported again.
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: ACME,
        subject: 'Order for December',
        messageId,
        attachments: [{ filename: 'december.xlsx', content: sheet, contentType: XLSX_TYPE }],
      }),
    );
    await pollMailInboxes(options);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
  });

  it('holds a message from an unknown sender for a person: nothing imported, no reply', async () => {
    const messageId = '<who-am-i@stranger.example>';
    const before = smtp.received.length;
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: 'someone@stranger.example',
        subject: 'Order',
        messageId,
        attachments: [
          {
            filename: 'order.xlsx',
            content: await orderWorkbook([
              ['Order No', 'Customer', 'SKU', 'Qty'],
              ['PO-X', 'ACME', 'BOLT', 1],
            ]),
          },
        ],
      }),
    );
    await pollMailInboxes(options);
    await pollMailInboxes(options);
    expect(await excelOrders('ACME:PO-X')).toBe(0);
    expect(smtp.received.length).toBe(before);
    const held = await stack.api('GET', `/api/inbound-events?channel=mail:${inboxId}&status=failed`);
    expect(held.body.items).toHaveLength(1);
    expect(held.body.items[0].error).toContain('someone@stranger.example is not a contact of any customer');
    expect(held.body.items[0].error).toContain('不是任何客户的联系人');
    const messages = await stack.api('GET', `/api/mail-inboxes/${inboxId}/messages?state=held`);
    expect(messages.body.items).toHaveLength(1);
    // Left in the folder for a person to see.
    expect(await dovecot.uids('INBOX')).toHaveLength(1);

    // The person adds the address to the customer's contacts and has the message taken again.
    const heldId = messages.body.items[0].id;
    await stack.api('PUT', '/api/customers/ACME', {
      name: 'Acme Ltd',
      language: 'en',
      contacts: [{ email: ACME }, { email: 'someone@stranger.example' }],
    });
    const retry = await stack.api('POST', `/api/mail-inboxes/${inboxId}/messages/${heldId}/retry`);
    expect(retry.status).toBe(200);
    const again = await stack.api('POST', `/api/mail-inboxes/${inboxId}/messages/${heldId}/retry`);
    expect(again.status).toBe(409);
    await pollMailInboxes(options);
    expect(await excelOrders('ACME:PO-X')).toBe(1);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
    const event = await stack.api('GET', `/api/inbound-events/${held.body.items[0].id}`);
    expect(event.body).toMatchObject({ note: 'released', error: null });
  });

  it('rejects a row naming another customer than the sender’s', async () => {
    const messageId = '<order-2@acme.example>';
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: ACME,
        subject: 'Re: orders',
        messageId,
        attachments: [
          {
            filename: 'two.xlsx',
            content: await orderWorkbook([
              ['Order No', 'Customer', 'SKU', 'Qty'],
              ['PO-2', 'acme', 'BOLT', 1],
              ['PO-3', 'BETA', 'NUT', 4],
            ]),
          },
        ],
      }),
    );
    await pollMailInboxes(options);
    const [reply] = repliesTo(messageId);
    expect(reply!.parsed.subject).toBe('Re: orders');
    const rows = await resultRows(reply!.parsed.attachments[0]!.content);
    const byOrder = Object.fromEntries(rows.map((r) => [String(r['Order number / 订单号']), r]));
    expect(byOrder['PO-2']!['Status / 状态']).toBe('accepted / 已导入');
    expect(byOrder['PO-3']!['Status / 状态']).toBe('rejected / 已拒绝');
    expect(String(byOrder['PO-3']!['Reason / 原因'])).toContain("is not the sender's customer ACME");
    expect(String(byOrder['PO-3']!['Reason / 原因'])).toContain('不是发件人所属的客户');
    // Under the customer's own code, whatever the sheet's spelling (the same sheet again is one order).
    expect(await excelOrders('ACME:PO-2')).toBe(1);
    expect(await excelOrders('acme:PO-2')).toBe(0);
    expect(await excelOrders('BETA:PO-3')).toBe(0);
  });

  it('imports a GB18030 CSV and answers a Chinese customer in Chinese', async () => {
    const messageId = '<order-3@beta.example.cn>';
    const csv = iconv.encode('订单号,货号,数量,单价\r\nB-1,BOLT,5,12.50\r\nB-1,NUT,1,3\r\n', 'gb18030');
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: `李伟 <${BETA}>`,
        subject: '十二月订单',
        messageId,
        attachments: [{ filename: '订单.csv', content: csv, contentType: 'text/csv' }],
      }),
    );
    await pollMailInboxes(options);
    const [reply] = repliesTo(messageId);
    expect(reply!.parsed.subject).toBe('Re: 十二月订单');
    expect(reply!.parsed.text).toContain('已导入 1 个订单');
    expect(reply!.parsed.text).not.toContain('Thank you');
    const rows = await resultRows(reply!.parsed.attachments[0]!.content);
    expect(rows.map((r) => r['Status / 状态'])).toEqual(['accepted / 已导入', 'accepted / 已导入']);
    const order = await stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: 'BETA:B-1' }).first();
    expect(order).toMatchObject({ currency: 'CNY', customer_code: 'BETA' });
    const lines = await stack.db('order_lines').where({ order_id: order.id }).orderBy('line_no');
    expect(lines.map((l) => [l.sku_code, Number(l.ordered), Number(l.unit_price)])).toEqual([
      ['BOLT', 5, 1250],
      ['NUT', 1, 300],
    ]);
  });

  it('answers a message without an order sheet politely and moves it', async () => {
    const messageId = '<question@acme.example>';
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: ACME,
        subject: 'Question',
        messageId,
        attachments: [{ filename: 'logo.png', content: Buffer.from('not really a png') }],
      }),
    );
    const inboxBefore = (await dovecot.uids('INBOX')).length;
    await pollMailInboxes(options);
    const [reply] = repliesTo(messageId);
    expect(reply!.parsed.text).toContain('could not find an order sheet');
    expect(reply!.parsed.text).toContain('logo.png');
    expect(reply!.parsed.attachments).toHaveLength(0);
    expect((await dovecot.uids('INBOX')).length).toBe(inboxBefore - 1);
  });
});

describe('a message larger than the poller downloads', () => {
  it('is answered by its headers alone, saying so; nothing is imported', async () => {
    const messageId = '<huge@acme.example>';
    const padding = Array.from({ length: 3000 }, (_, i) => [
      'HUGE-1',
      'BOLT',
      1,
      `note ${i} ${'x'.repeat(40)}`,
    ]);
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: ACME,
        subject: 'Big order',
        messageId,
        attachments: [
          {
            filename: 'big.xlsx',
            content: await orderWorkbook([['Order No', 'SKU', 'Qty', 'Notes'], ...padding]),
            contentType: XLSX_TYPE,
          },
        ],
      }),
    );
    await pollMailInboxes({ ...options, maxMessageBytes: 20_000 });
    const [reply] = repliesTo(messageId);
    expect(reply!.parsed.text).toMatch(/larger than the 0\.0 MB we read/);
    expect(reply!.parsed.attachments).toHaveLength(0);
    expect(await excelOrders('ACME:HUGE-1')).toBe(0);
    const messages = await stack.api('GET', `/api/mail-inboxes/${inboxId}/messages`);
    expect(messages.body.items.find((m: { messageId: string }) => m.messageId === messageId)).toMatchObject({
      state: 'done',
      outcome: 'too_large',
    });
  });
});

describe('an e-mailed sheet imported again after a crash', () => {
  it('reports the orders its earlier run stored as accepted, and another import’s as already imported', async () => {
    const data = await orderWorkbook([
      ['Order No', 'SKU', 'Qty'],
      ['AGAIN-1', 'BOLT', 1],
    ]);
    const run = (actor: string) =>
      importOrderFile(
        stack.db,
        options.intake,
        { fileName: 'again.xlsx', data },
        { senderCustomer: 'ACME', actor },
      );
    const first = await run('mail:1:77:1');
    expect(first.outcomes.get('ACME:AGAIN-1')).toMatchObject({ accepted: true });
    expect(first.outcomes.get('ACME:AGAIN-1')?.reason).toBeUndefined();
    // The same message's import run again (its process died before it answered): its own order.
    const again = await run('mail:1:77:1');
    expect(again.outcomes.get('ACME:AGAIN-1')?.reason).toBeUndefined();
    expect(again.summary.ordersAlreadyImported).toBe(0);
    // Another message with the same order: already imported.
    const other = await run('mail:1:78:1');
    expect(other.outcomes.get('ACME:AGAIN-1')?.reason).toBe(ALREADY_IMPORTED);
    expect(await excelOrders('ACME:AGAIN-1')).toBe(1);
  });
});

describe('a message never finished, found again under a new UID', () => {
  /** Moves every message of INBOX to another folder and back, as a person would: new UIDs. */
  async function moveOutAndBack() {
    const c = await dovecot.client();
    try {
      if (!(await c.list()).some((m) => m.path === 'Aside')) await c.mailboxCreate('Aside');
      let lock = await c.getMailboxLock('INBOX');
      try {
        await c.messageMove('1:*', 'Aside');
      } finally {
        lock.release();
      }
      lock = await c.getMailboxLock('Aside');
      try {
        await c.messageMove('1:*', 'INBOX');
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
  }

  it('a released message moved by hand is taken up under its new UID: imported once, answered, moved', async () => {
    const messageId = '<moved-by-hand@stranger.example>';
    const sender = 'moved@stranger.example';
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: sender,
        subject: 'Order',
        messageId,
        attachments: [
          {
            filename: 'order.xlsx',
            content: await orderWorkbook([
              ['Order No', 'SKU', 'Qty'],
              ['PO-MOVED', 'BOLT', 1],
            ]),
          },
        ],
      }),
    );
    await pollMailInboxes(options);
    const [held] = (
      await stack.api('GET', `/api/mail-inboxes/${inboxId}/messages?state=held`)
    ).body.items.filter((m: { messageId: string }) => m.messageId === messageId);
    expect(held).toBeDefined();
    const [oldUid] = await dovecot.uids('INBOX');
    await stack.api('PUT', '/api/customers/ACME', {
      name: 'Acme Ltd',
      language: 'en',
      contacts: [{ email: ACME }, { email: 'someone@stranger.example' }, { email: sender }],
    });
    expect((await stack.api('POST', `/api/mail-inboxes/${inboxId}/messages/${held.id}/retry`)).status).toBe(
      200,
    );
    // Before the next poll, a person moves it out of the folder and back: a new UID.
    await moveOutAndBack();
    const [newUid] = await dovecot.uids('INBOX');
    expect(newUid).not.toBe(oldUid);

    await pollMailInboxes(options);
    expect(await excelOrders('ACME:PO-MOVED')).toBe(1);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
    const row = await stack.db('mail_messages').where({ message_id: messageId });
    expect(row.map((r) => [r.id, r.state, Number(r.uid)])).toEqual([[held.id, 'done', newUid]]);
    await pollMailInboxes(options);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await excelOrders('ACME:PO-MOVED')).toBe(1);
  });

  it('a message whose import died midway, back under a new UID, is taken up and imported once', async () => {
    const messageId = '<died-midway@acme.example>';
    await dovecot.append(
      'INBOX',
      await composeMail({
        from: ACME,
        subject: 'Order',
        messageId,
        attachments: [
          {
            filename: 'order.xlsx',
            content: await orderWorkbook([
              ['Order No', 'SKU', 'Qty'],
              ['PO-DIED', 'BOLT', 2],
            ]),
          },
        ],
      }),
    );
    const [uid] = await dovecot.uids('INBOX');
    // Recorded (processing) under an earlier folder generation, then the process died.
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    const [id] = await stack.db('mail_messages').insert({
      inbox_id: inboxId,
      uid_validity: 1,
      uid: uid! + 1000,
      message_id: messageId,
      from_address: ACME,
      subject: 'Order',
      state: 'processing',
      received_at: now,
      updated_at: now,
    });
    await pollMailInboxes(options);
    expect(await excelOrders('ACME:PO-DIED')).toBe(1);
    expect(repliesTo(messageId)).toHaveLength(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
    expect(await stack.db('mail_messages').where({ message_id: messageId })).toEqual([
      expect.objectContaining({ id: Number(id), state: 'done', uid }),
    ]);
  });
});
