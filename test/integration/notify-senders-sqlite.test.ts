import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingNotification } from '../../src/notify/contract.js';
import { SmsSender } from '../../src/notify/sms/sms-sender.js';
import { WebhookSender } from '../../src/notify/webhooks/webhook-sender.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack({ sqlite: true });
});

afterAll(async () => {
  await stack?.close();
});

const base: OutgoingNotification = {
  id: 1,
  medium: 'sms',
  event: 'order.confirmed',
  recipient: '+8613800138000',
  language: 'en',
  timeZone: 'Asia/Shanghai',
  subject: 'Order confirmed',
  text: 'Order A-1 confirmed',
  html: null,
  data: { order: 'A-1' },
  messageId: 'sqlite-1',
  attachments: [],
  attempt: 0,
};

describe('SMS and webhook senders on the embedded SQLite database', () => {
  it('keeps the hourly cap', async () => {
    const res = await stack.api('POST', '/api/sms-gateways', {
      kind: 'generic',
      name: 'Gateway',
      hourlyCap: 1,
      settings: { url: 'https://sms.example.com/send', bodyTemplate: '{"to":"{{phone}}","text":"{{text}}"}' },
    });
    expect(res.status).toBe(201);
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: () => new Date('2026-12-01T04:00:00Z'),
    });
    nock('https://sms.example.com').post('/send').reply(200, 'ok');
    expect(await sender.send(base)).toMatchObject({ state: 'sent' });
    expect(await sender.send({ ...base, messageId: 'sqlite-2' })).toMatchObject({
      state: 'deferred',
      until: new Date('2026-12-01T05:00:00Z'),
    });
  });

  it('delivers a signed webhook and logs it', async () => {
    const bodies: Array<{ body: string; headers: Record<string, string> }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push({ body, headers: req.headers as Record<string, string> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
      const created = await stack.api('POST', '/api/webhook-endpoints', { url });
      expect(created.status).toBe(201);
      const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
      const out = await sender.send({ ...base, medium: 'webhook', recipient: String(created.body.id) });
      expect(out).toMatchObject({ state: 'sent' });
      expect(() =>
        new Webhook(created.body.secret).verify(bodies[0]!.body, bodies[0]!.headers),
      ).not.toThrow();
      const log = await stack.api('GET', `/api/webhook-endpoints/${created.body.id}/deliveries`);
      expect(log.body.items).toMatchObject([{ outcome: 'sent', statusCode: 200, messageId: 'sqlite-1' }]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
