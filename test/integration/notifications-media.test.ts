import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, spawnDaemon } from '../helpers/daemon-process.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { MAIL_FROM } from '../helpers/notify.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { ADMIN_TOKEN, createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The daemon's worker role carries a notification by every medium it is wired with: e-mail (with
 * the status page link for the order's own contact), SMS through a gateway, and a signed outbound
 * webhook. A real worker process (`stockbridge start`, worker role) over the test stack's database,
 * with the stack's secret key (sealed gateway and endpoint secrets) and public URL (status links).
 */

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let stack: TestStack;
let smtp: TestSmtpServer;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let dataDir: string;
let worker: DaemonProcess | null = null;

beforeAll(async () => {
  stack = await createStack({ poolMax: 5 });
  smtp = await startTestSmtpServer();
  dataDir = mkdtempSync(path.join(tmpdir(), 'sb-media-'));
  // The company's own system (webhooks) and its SMS gateway: one plain HTTP server on this machine.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['M1']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'start',
    lines: [{ sku: 'M1', quantity: 50 }],
  });
}, 60_000);

afterAll(async () => {
  await worker?.kill();
  await stack?.close();
  await smtp?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the worker carries notifications by e-mail, SMS and webhook', () => {
  it('a confirmed order: the customer e-mail with a working status link, one SMS to the gateway, one signed webhook', async () => {
    const endpoint = await stack.api('POST', '/api/webhook-endpoints', {
      url: `${receiverUrl}/events`,
      description: 'ERP',
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    const secret = String(endpoint.body.secret);
    const gateway = await stack.api('POST', '/api/sms-gateways', {
      kind: 'generic',
      name: 'Local gateway',
      settings: {
        url: `${receiverUrl}/sms`,
        bodyTemplate: '{"to":"{{phone}}","message":"{{text}}","ref":"{{messageId}}"}',
        authHeaderName: 'Authorization',
      },
      secrets: { authHeaderValue: 'Bearer local-gateway-token-123456' },
    });
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201);
    const rule = await stack.api('POST', '/api/notification-rules', {
      name: 'ERP and the warehouse phone hear of confirmations',
      event: 'order.confirmed',
      recipients: [
        { type: 'webhook', endpointId: Number(endpoint.body.id) },
        { type: 'phone', number: '+8613800138000', language: 'zh-CN' },
      ],
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);

    worker = await spawnDaemon(
      {
        REDIS_URL: TEST_REDIS_URL,
        DATABASE_URL: stack.database.url,
        STOCKBRIDGE_QUEUE_PREFIX: stack.prefix,
        STOCKBRIDGE_ROLES: 'worker',
        STOCKBRIDGE_MIGRATE_ON_START: 'false',
        STOCKBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        STOCKBRIDGE_SECRET_KEY: stack.secretKey.toString('hex'),
        STOCKBRIDGE_PUBLIC_URL: 'https://stockbridge.example.com',
        STOCKBRIDGE_DATA_DIR: dataDir,
        STOCKBRIDGE_DB_POOL_MAX: '4',
        STOCKBRIDGE_RELAY_INTERVAL_MS: '100',
        STOCKBRIDGE_RELAY_GRACE_MS: '0',
        STOCKBRIDGE_SMTP_URL: smtp.url,
        STOCKBRIDGE_MAIL_FROM: MAIL_FROM,
        STOCKBRIDGE_TEMPLATES_DIR: path.join(dataDir, 'no-templates'),
        STOCKBRIDGE_NOTIFY_SWEEP_MS: '300',
        STOCKBRIDGE_NOTIFY_RETRY_MS: '300',
      },
      { name: 'media worker', timeoutMs: 120_000 },
    );

    const address = 'media@buyer.example';
    const placed = await stack.api(
      'POST',
      '/api/orders',
      orderBody('MEDIA-1', [{ sku: 'M1', quantity: 2 }], {
        customer: { name: 'Mei', email: address, language: 'en' },
      }),
    );
    expect(placed.status).toBe(202);
    const id = Number(placed.body.id);
    const settled = async () => {
      const rows = await stack.db('notifications').where({ order_id: id, event: 'order.confirmed' });
      return rows.length === 3 && rows.every((r) => r.state !== 'pending');
    };
    await waitFor(settled, { timeoutMs: 90_000, message: 'three confirmation notifications settled' });
    const rows = await stack.db('notifications').where({ order_id: id, event: 'order.confirmed' });
    expect(rows.map((r) => `${r.medium}:${r.state}`).sort()).toEqual([
      'email:sent',
      'sms:sent',
      'webhook:sent',
    ]);

    // E-mail: once, with the status link, which opens this order's page.
    const mails = smtp.received.filter((m) => m.envelopeTo.includes(address));
    expect(mails).toHaveLength(1);
    const link = /https:\/\/stockbridge\.example\.com\/status\/([A-Za-z0-9_-]+)/.exec(
      mails[0]!.parsed.text ?? '',
    );
    expect(link, mails[0]!.parsed.text).not.toBeNull();
    const page = await stack.app.request(`/status/${link![1]}`, { headers: { accept: 'application/json' } });
    expect(page.status).toBe(200);
    expect(JSON.stringify(await page.json())).toContain('MEDIA-1');

    // Webhook: once, verified with the secret shown at creation.
    const hooks = received.filter((r) => r.path === '/events');
    expect(hooks).toHaveLength(1);
    const event = new Webhook(secret).verify(hooks[0]!.body, hooks[0]!.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(event.type).toBe('order.confirmed');
    expect(hooks[0]!.headers['webhook-id']).toBe(rows.find((r) => r.medium === 'webhook')!.message_id);

    // SMS: once, to the number as the gateway was told to write it, with the gateway's auth header.
    const sms = received.filter((r) => r.path === '/sms');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.headers.authorization).toBe('Bearer local-gateway-token-123456');
    expect(JSON.parse(sms[0]!.body).to).toBe('+8613800138000');
  }, 240_000);
});
