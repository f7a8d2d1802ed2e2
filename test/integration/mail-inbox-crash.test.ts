import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCEL_CHANNEL } from '../../src/inbox/import-file.js';
import { createMailInbox } from '../../src/inbox/mail-inbox-store.js';
import { type DaemonProcess, spawnDaemon } from '../helpers/daemon-process.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { startTestDovecot, type TestDovecot } from '../helpers/dovecot.js';
import { composeMail, orderWorkbook, resultRows, XLSX_TYPE } from '../helpers/order-mail.js';
import { waitFor } from '../helpers/ports.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

/**
 * Orders by e-mail through a worker process killed with SIGKILL at the two points that matter:
 * after the import, before the reply went out; and after the reply was delivered, before the
 * message was moved. After a restart: one import, and the reply at most once more, the same.
 */
const KEY_HEX = 'cd'.repeat(32);
const ACME = 'buyer@acme.example';
const FROM = 'orders@stockbridge.test';

let stack: TestStack;
let dovecot: TestDovecot;
let smtp: TestSmtpServer;
let inboxId: number;
const dirs: string[] = [];
const daemons: DaemonProcess[] = [];
const prefix = `sbtest-mailkill-${randomBytes(4).toString('hex')}`;

const count = async (q: PromiseLike<unknown>) => Number(((await q) as { n: number }[])[0]?.n ?? 0);

beforeAll(async () => {
  stack = await createStack({ poolMax: 5 });
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT']);
  await stack.api('PUT', '/api/customers/ACME', {
    name: 'Acme Ltd',
    language: 'en',
    contacts: [{ email: ACME }],
  });
  dovecot = await startTestDovecot();
  smtp = await startTestSmtpServer();
  const inbox = await createMailInbox(stack.db, Buffer.from(KEY_HEX, 'hex'), {
    name: 'Orders',
    enabled: true,
    host: dovecot.host,
    port: dovecot.port,
    tls: 'none',
    username: dovecot.user,
    password: dovecot.password,
    folder: 'INBOX',
    processedFolder: 'Processed',
  });
  inboxId = inbox.id;
}, 120_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await smtp?.close();
  await dovecot?.stop();
  const conn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of ['orders', 'maintenance', 'channels', 'events']) {
    const q = new Queue(name, { connection: conn, prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  conn.disconnect();
  await stack?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A worker-only daemon process reading the mail inbox every 300 ms. */
async function startWorker(name: string): Promise<DaemonProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-mailkill-'));
  dirs.push(dataDir);
  const daemon = await spawnDaemon(
    {
      STOCKBRIDGE_ROLES: 'worker',
      DATABASE_URL: stack.database.url,
      REDIS_URL: TEST_REDIS_URL,
      STOCKBRIDGE_QUEUE_PREFIX: prefix,
      STOCKBRIDGE_MIGRATE_ON_START: 'false',
      STOCKBRIDGE_ADMIN_TOKEN: 'mail-kill-admin-token-0123456789',
      STOCKBRIDGE_SECRET_KEY: KEY_HEX,
      STOCKBRIDGE_DATA_DIR: dataDir,
      // Shared by both processes, as the README asks for several machines.
      STOCKBRIDGE_OUTPUT_DIR: path.join(tmpdir(), `sb-mailkill-out-${prefix}`),
      STOCKBRIDGE_DB_POOL_MAX: '5',
      STOCKBRIDGE_SMTP_URL: smtp.url,
      STOCKBRIDGE_MAIL_FROM: FROM,
      STOCKBRIDGE_MAIL_INBOX_INTERVAL_MS: '300',
      PORT: '0',
      HOST: '127.0.0.1',
    },
    { name, timeoutMs: 120_000 },
  );
  daemons.push(daemon);
  return daemon;
}

async function mailOrder(orderNo: string, messageId: string) {
  await dovecot.append(
    'INBOX',
    await composeMail({
      from: ACME,
      subject: `Order ${orderNo}`,
      messageId,
      attachments: [
        {
          filename: `${orderNo}.xlsx`,
          content: await orderWorkbook([
            ['Order No', 'SKU', 'Qty'],
            [orderNo, 'BOLT', 2],
          ]),
          contentType: XLSX_TYPE,
        },
      ],
    }),
  );
}

/** Waits as `waitFor` does; on a timeout, says what the daemons printed. */
async function waitWithOutput(what: string, check: () => Promise<boolean> | boolean) {
  try {
    await waitFor(what, check, 120_000, 100);
  } catch (err) {
    const outputs = daemons.map((d) => d.output().slice(-3000)).join('\n----\n');
    throw new Error(`${(err as Error).message}\n${outputs}`);
  }
}

const messageRow = (messageId: string) =>
  stack.db('mail_messages').where({ inbox_id: inboxId, message_id: messageId }).first();

/** What must hold once the message is through: one order, one history start, done, moved. */
async function expectProcessedOnce(orderNo: string, messageId: string) {
  const externalId = `ACME:${orderNo}`;
  expect(
    await count(
      stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: externalId }).count({ n: '*' }),
    ),
  ).toBe(1);
  expect(
    await count(
      stack
        .db('inbound_events')
        .where({ channel: EXCEL_CHANNEL, delivery_id: `order:${externalId}` })
        .count({ n: '*' }),
    ),
  ).toBe(1);
  expect(await count(stack.db('mail_messages').where({ message_id: messageId }).count({ n: '*' }))).toBe(1);
  expect((await messageRow(messageId))?.state).toBe('done');
  const replies = smtp.received.filter((m) => m.parsed.inReplyTo === messageId);
  expect(replies.length).toBeGreaterThanOrEqual(1);
  expect(replies.length).toBeLessThanOrEqual(2);
  // A resend is the same message: one Message-ID, the one on record.
  expect(new Set(replies.map((r) => r.parsed.messageId))).toEqual(
    new Set([(await messageRow(messageId))!.reply_message_id]),
  );
  for (const reply of replies) {
    const rows = await resultRows(reply.parsed.attachments[0]!.content);
    // Reported accepted (not "already imported"): the customer hears what the one import did.
    expect(rows.map((r) => [r['Status / 状态'], r['Reason / 原因']])).toEqual([['accepted / 已导入', null]]);
  }
  return replies;
}

describe('orders by e-mail through a worker killed mid-way', () => {
  it('killed after the import, before the reply: restarted, it answers once and imports nothing again', async () => {
    const messageId = '<kill-before-reply@acme.example>';
    smtp.setMode('temporary-failure');
    const first = await startWorker('worker-1');
    await mailOrder('K-1', messageId);
    // Imported, its reply written down, and the SMTP server refusing it for now.
    await waitWithOutput('the message imported and its reply pending', async () => {
      const row = await messageRow(messageId);
      return row?.state === 'reply_pending' && Number(row.attempts) >= 1;
    });
    await first.kill();
    expect(smtp.received.filter((m) => m.parsed.inReplyTo === messageId)).toHaveLength(0);
    smtp.setMode('accept');
    // Two processes now: the lease lets one of them at the inbox at a time.
    await Promise.all([startWorker('worker-2'), startWorker('worker-3')]);
    await waitWithOutput('the message done', async () => (await messageRow(messageId))?.state === 'done');
    const replies = await expectProcessedOnce('K-1', messageId);
    expect(replies).toHaveLength(1);
    expect(await dovecot.uids('INBOX')).toEqual([]);
  }, 300_000);

  it('killed after the reply was delivered, before the move: restarted, the one duplicate has the same Message-ID', async () => {
    for (const d of daemons.splice(0)) await d.stop();
    const messageId = '<kill-before-move@acme.example>';
    let victim: DaemonProcess | null = null;
    let killed = false;
    smtp.onAccepted(async (mail) => {
      if (killed || mail.parsed.inReplyTo !== messageId || !victim) return;
      killed = true;
      // The reply is stored at the server; the worker dies before it hears 250.
      await victim.kill();
    });
    const processedBefore = (await dovecot.uids('Processed')).length;
    victim = await startWorker('worker-4');
    await mailOrder('K-2', messageId);
    await waitWithOutput('the worker killed at the reply', () => killed && victim!.exited());
    smtp.onAccepted(null);
    expect((await messageRow(messageId))?.state).toBe('reply_pending');
    expect(await dovecot.uids('INBOX')).toHaveLength(1);
    await startWorker('worker-5');
    await waitWithOutput('the message done', async () => (await messageRow(messageId))?.state === 'done');
    const replies = await expectProcessedOnce('K-2', messageId);
    expect(replies).toHaveLength(2);
    expect(await dovecot.uids('INBOX')).toEqual([]);
    expect(await dovecot.uids('Processed')).toHaveLength(processedBefore + 1);
  }, 300_000);
});
