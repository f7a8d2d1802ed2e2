import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, spawnDaemon } from '../helpers/daemon-process.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { MAIL_FROM } from '../helpers/notify.js';
import { type ReceivedMail, startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { ADMIN_TOKEN, createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 16's acceptance: e-mails to the customer are sent once each even when the worker process
 * (relay + dispatch) is killed — between the outbox row and the send, and after the SMTP server
 * accepted a message and before the worker recorded it (then at most that one duplicate, with
 * the same Message-ID). The worker runs as a real child process (`stockbridge start`, worker role).
 */

let stack: TestStack;
let smtp: TestSmtpServer;
let dataDir: string;
const workers: DaemonProcess[] = [];

beforeAll(async () => {
  stack = await createStack({ poolMax: 5 });
  smtp = await startTestSmtpServer();
  dataDir = mkdtempSync(path.join(tmpdir(), 'sb-notify-'));
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['D1', 'D2']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'start',
    lines: [{ sku: 'D2', quantity: 100 }],
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await stack?.close();
  await smtp?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function startWorker(name: string): Promise<DaemonProcess> {
  const w = await spawnDaemon(
    {
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: stack.database.url,
      STOCKBRIDGE_QUEUE_PREFIX: stack.prefix,
      STOCKBRIDGE_ROLES: 'worker',
      STOCKBRIDGE_MIGRATE_ON_START: 'false',
      STOCKBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      STOCKBRIDGE_DATA_DIR: dataDir,
      STOCKBRIDGE_DB_POOL_MAX: '4',
      STOCKBRIDGE_WORKER_CONCURRENCY: '4',
      STOCKBRIDGE_RELAY_INTERVAL_MS: '100',
      STOCKBRIDGE_RELAY_GRACE_MS: '0',
      STOCKBRIDGE_SMTP_URL: smtp.url,
      STOCKBRIDGE_MAIL_FROM: MAIL_FROM,
      STOCKBRIDGE_TEMPLATES_DIR: path.join(dataDir, 'no-templates'),
      STOCKBRIDGE_NOTIFY_SWEEP_MS: '300',
      STOCKBRIDGE_NOTIFY_LEASE_MS: '2000',
      STOCKBRIDGE_NOTIFY_RETRY_MS: '300',
    },
    { name, timeoutMs: 120_000 },
  );
  workers.push(w);
  return w;
}

const mailsTo = (address: string) => smtp.received.filter((m) => m.envelopeTo.includes(address));
const statusOf = async (id: number) =>
  (await stack.db('orders').where({ id }).first('status')).status as string;

/** Every outbox row handed over, and every notification of the order out of `pending`. */
async function settled(orderId: number): Promise<boolean> {
  const unpublished = await stack.db('outbox').whereNull('published_at').count({ n: '*' });
  const pending = await stack
    .db('notifications')
    .where({ order_id: orderId, state: 'pending' })
    .count({ n: '*' });
  return Number(unpublished[0]!.n) === 0 && Number(pending[0]!.n) === 0;
}

describe('a customer hears of each status once, whatever happens to the worker', () => {
  it('received → backordered → confirmed → shipped: one confirmation and one shipment e-mail, with the worker killed between outbox row and send', async () => {
    const address = 'durable@buyer.example';
    let worker = await startWorker('worker 1');
    const placed = await stack.api(
      'POST',
      '/api/orders',
      orderBody('DUR-1', [{ sku: 'D1', quantity: 3 }], {
        customer: { name: 'Dora', email: address, language: 'en' },
      }),
    );
    expect(placed.status).toBe(202);
    const id = Number(placed.body.id);
    await waitFor(async () => (await statusOf(id)) === 'backordered', {
      timeoutMs: 60_000,
      message: 'the backorder',
    });
    await worker.kill();

    // The stock arrives while no worker runs: the order is confirmed, its outbox row waits.
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'arrival',
      lines: [{ sku: 'D1', quantity: 10 }],
    });
    await waitFor(async () => (await statusOf(id)) === 'confirmed', { message: 'the confirmation' });
    const waiting = await stack
      .db('outbox')
      .whereNull('published_at')
      .where({ topic: 'order.status_changed' })
      .count({ n: '*' });
    expect(Number(waiting[0]!.n)).toBeGreaterThan(0);
    expect(await stack.db('notifications').where({ order_id: id })).toHaveLength(0);

    // The next worker makes the notification but cannot send it (the server says 451); killed then.
    smtp.setMode('temporary-failure');
    worker = await startWorker('worker 2');
    await waitFor(
      async () => {
        const row = await stack.db('notifications').where({ order_id: id, event: 'order.confirmed' }).first();
        return row && Number(row.attempts) >= 1 && row.state === 'pending';
      },
      { timeoutMs: 60_000, message: 'a failed attempt at the confirmation' },
    );
    await worker.kill();
    expect(mailsTo(address)).toHaveLength(0);

    // Shipped while no worker runs; then a worker that can send.
    const ship = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'ups',
      trackingNumber: '1Z999',
    });
    expect(ship.status).toBe(201);
    smtp.setMode('accept');
    worker = await startWorker('worker 3');
    await waitFor(() => settled(id), {
      timeoutMs: 90_000,
      message: 'every notification of the order settled',
    });

    const mails = mailsTo(address);
    expect(mails.map((m) => m.parsed.subject)).toEqual(['Order DUR-1 confirmed', 'Order DUR-1 shipped']);
    expect(new Set(mails.map((m) => m.parsed.messageId)).size).toBe(2);
    expect(mails[1]!.parsed.text).toContain('https://www.ups.com/track?tracknum=1Z999');
    const rows = await stack.db('notifications').where({ order_id: id }).orderBy('id');
    expect(rows.map((r) => [r.event, r.state])).toEqual([
      ['order.confirmed', 'sent'],
      ['order.shipped', 'sent'],
    ]);
    // SIGTERM: the worker finishes, closes its SMTP connections and exits 0.
    expect(await worker.stop()).toBe(0);
  }, 400_000);

  it('killed after the SMTP server accepted and before the worker recorded it: that one message again, with the same Message-ID', async () => {
    const address = 'twice@buyer.example';
    let worker = await startWorker('worker 4');
    let killed: Promise<void> | null = null;
    let acceptedOnce = false;
    smtp.onAccepted(async (mail: ReceivedMail) => {
      if (!killed && mail.envelopeTo.includes(address)) {
        acceptedOnce = true;
        // The message is stored; the worker dies before it hears the 250.
        killed = worker.kill();
        await killed;
      }
    });
    const placed = await stack.api(
      'POST',
      '/api/orders',
      orderBody('DUR-2', [{ sku: 'D2', quantity: 1 }], { customer: { email: address, language: 'zh-CN' } }),
    );
    const id = Number(placed.body.id);
    await waitFor(() => acceptedOnce, { timeoutMs: 90_000, message: 'the worker killed at the accept' });
    await killed;
    smtp.onAccepted(null);
    const row = await stack.db('notifications').where({ order_id: id, event: 'order.confirmed' }).first();
    expect(row.state).toBe('pending');

    worker = await startWorker('worker 5');
    await waitFor(
      async () => (await stack.db('notifications').where({ id: row.id }).first()).state === 'sent',
      {
        timeoutMs: 90_000,
        message: 'the confirmation recorded as sent',
      },
    );
    const ship = await stack.api('POST', `/api/orders/${id}/shipments`, {});
    expect(ship.status).toBe(201);
    await waitFor(async () => mailsTo(address).length >= 3 && (await settled(id)), {
      timeoutMs: 90_000,
      message: 'the shipment e-mail',
    });

    const mails = mailsTo(address);
    const confirmations = mails.filter((m) => m.parsed.subject === '订单 DUR-2 已确认');
    expect(confirmations).toHaveLength(2);
    expect(confirmations[0]!.parsed.messageId).toBe(confirmations[1]!.parsed.messageId);
    expect(confirmations[0]!.parsed.messageId).toBe(row.message_id);
    expect(mails.filter((m) => m.parsed.subject === '订单 DUR-2 已发货')).toHaveLength(1);
    expect(mails).toHaveLength(3);
    await worker.stop();
  }, 400_000);
});
