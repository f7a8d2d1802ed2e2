import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingNotification } from '../../src/notify/contract.js';
import { WebhookSender } from '../../src/notify/webhooks/webhook-sender.js';
import { createStack, type TestStack } from '../helpers/stack.js';

/** A receiver of our users' kind: a real HTTP server on a free port, answering as told. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
interface Receiver {
  url: string;
  received: Received[];
  /** Status codes to answer with, in turn; the last one is kept once the list is used up. */
  answers: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const r = { received, answers: [200] } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = r.answers.length > 1 ? (r.answers.shift() as number) : (r.answers[0] as number);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'thanks' : `nope ${status} ${'x'.repeat(3000)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

let stack: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await createStack();
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

beforeEach(() => {
  receiver.received.length = 0;
  receiver.answers = [200];
});

let seq = 0;
const notification = (
  endpointId: number,
  extra: Partial<OutgoingNotification> = {},
): OutgoingNotification => {
  seq += 1;
  return {
    id: 1000 + seq,
    medium: 'webhook',
    event: 'order.shipped',
    recipient: String(endpointId),
    language: 'en',
    timeZone: null,
    subject: 'Order A-1 shipped',
    text: 'Order A-1 shipped',
    html: null,
    data: { orderId: 7, externalId: 'A-1', status: 'shipped', lines: [{ sku: 'SKU-1', quantity: 2 }] },
    messageId: `msg_${seq}_${Date.now()}`,
    attachments: [],
    attempt: 0,
    ...extra,
  };
};

async function createEndpoint(body: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/api/webhook-endpoints', {
    url: receiver.url,
    description: 'ERP',
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body as { id: number; secret: string; state: string };
}

describe('webhook endpoints API', () => {
  it('shows the signing secret once, stores it sealed, and never answers it again', async () => {
    const created = await createEndpoint({ events: ['order.*'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(created).toMatchObject({
      url: receiver.url,
      description: 'ERP',
      enabled: true,
      events: ['order.*'],
      state: 'active',
    });

    const one = await stack.api('GET', `/api/webhook-endpoints/${created.id}`);
    const list = await stack.api('GET', '/api/webhook-endpoints');
    const patched = await stack.api('PATCH', `/api/webhook-endpoints/${created.id}`, {
      description: 'ERP (prod)',
    });
    for (const res of [one, list, patched]) {
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(created.secret.slice(6, 30));
      expect(JSON.stringify(res.body)).not.toContain('secret');
    }
    const row = await stack.db('webhook_endpoints').where({ id: created.id }).first();
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6, 30));

    const rotated = await stack.api('POST', `/api/webhook-endpoints/${created.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    // Deliveries are signed with the new secret from now on.
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
    const out = await sender.send(notification(created.id));
    expect(out.state).toBe('sent');
    const got = receiver.received[0]!;
    expect(() =>
      new Webhook(rotated.body.secret).verify(got.body, got.headers as Record<string, string>),
    ).not.toThrow();
    expect(() =>
      new Webhook(created.secret).verify(got.body, got.headers as Record<string, string>),
    ).toThrow();
  });

  it("masks a stored URL's userinfo and query string in answers and the audit log, keeping it whole", async () => {
    // The API refuses such URLs; one stored otherwise (by hand, an older version) is still not shown.
    const created = await createEndpoint({ description: 'query token' });
    const url = receiver.url.replace('://', '://hook-user:hook-pass@');
    await stack
      .db('webhook_endpoints')
      .where({ id: created.id })
      .update({ url: `${url}?token=hook-credential-123` });
    const shown = `${receiver.url.replace('://', '://***:***@')}?***`;
    const one = await stack.api('GET', `/api/webhook-endpoints/${created.id}`);
    const list = await stack.api('GET', '/api/webhook-endpoints');
    const patched = await stack.api('PATCH', `/api/webhook-endpoints/${created.id}`, {
      description: 'masked',
    });
    expect(one.body.url).toBe(shown);
    expect(patched.body.url).toBe(shown);
    const audit = await stack.api('GET', `/api/audit?entity=webhook_endpoint&entityId=${created.id}`);
    expect(audit.body.items[0].before.url).toBe(shown);
    for (const body of [list.body, audit.body]) {
      expect(JSON.stringify(body)).not.toContain('hook-credential');
      expect(JSON.stringify(body)).not.toContain('hook-pass');
    }
    const row = await stack.db('webhook_endpoints').where({ id: created.id }).first('url');
    expect(row.url).toBe(`${url}?token=hook-credential-123`);
    await stack.api('DELETE', `/api/webhook-endpoints/${created.id}`);
  });

  it('refuses bad input with a clear answer and changes nothing', async () => {
    const before = await stack.db('webhook_endpoints').count({ n: '*' });
    const plain = await stack.api('POST', '/api/webhook-endpoints', { url: 'http://erp.example.com/hooks' });
    expect(plain.status).toBe(422);
    expect(JSON.stringify(plain.body)).toContain('https');
    const withUser = await stack.api('POST', '/api/webhook-endpoints', {
      url: 'https://u:p@erp.example.com/hooks',
    });
    expect(withUser.status).toBe(422);
    const badEvent = await stack.api('POST', '/api/webhook-endpoints', {
      url: 'https://erp.example.com/h',
      events: ['Shipped!'],
    });
    expect(badEvent.status).toBe(422);
    const secretGiven = await stack.api('POST', '/api/webhook-endpoints', {
      url: 'https://erp.example.com/h',
      secret: 'whsec_x',
    });
    expect(secretGiven.status).toBe(422);
    expect(await stack.db('webhook_endpoints').count({ n: '*' })).toEqual(before);
    expect((await stack.api('GET', '/api/webhook-endpoints/999999')).status).toBe(404);
    expect((await stack.api('PATCH', '/api/webhook-endpoints/abc', { enabled: false })).status).toBe(400);
    expect((await stack.api('GET', '/api/webhook-endpoints/999999/deliveries')).status).toBe(404);
    expect((await stack.api('GET', '/api/webhook-endpoints', undefined, { token: null })).status).toBe(401);
  });
});

describe('webhook sender', () => {
  it('an endpoint that fails twice then answers 200 gets the event once accepted, verifiably signed', async () => {
    const { id, secret } = await createEndpoint();
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
    receiver.answers = [500, 503, 200];
    const n = notification(id);

    // The core calls again when told (retryAt); here at once, the schedule is checked below.
    const first = await sender.send(n);
    const second = await sender.send({ ...n, attempt: 1 });
    const third = await sender.send({ ...n, attempt: 2 });
    expect(first).toMatchObject({ state: 'failed', permanent: false });
    expect(second).toMatchObject({ state: 'failed', permanent: false });
    expect(third).toMatchObject({ state: 'sent' });
    expect(receiver.received).toHaveLength(3);

    // Every attempt carries the same id and the same body bytes; the accepted one verifies.
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([n.messageId]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    const accepted = receiver.received[2]!;
    const payload = new Webhook(secret).verify(
      accepted.body,
      accepted.headers as Record<string, string>,
    ) as Record<string, unknown>;
    expect(payload).toMatchObject({ type: 'order.shipped', data: n.data });
    expect(new Date(String(payload.timestamp)).toString()).not.toBe('Invalid Date');
    expect(accepted.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(accepted.headers['content-type']).toBe('application/json');

    // The log holds each attempt, newest first, with the retry times of the schedule.
    const log = await stack.api('GET', `/api/webhook-endpoints/${id}/deliveries`);
    expect(log.status).toBe(200);
    const items = log.body.items as Array<Record<string, any>>;
    expect(items.map((d) => [d.outcome, d.statusCode])).toEqual([
      ['sent', 200],
      ['failed', 503],
      ['failed', 500],
    ]);
    const waits = items
      .slice(1)
      .reverse()
      .map((d) => Date.parse(d.retryAt) - Date.parse(d.attemptedAt));
    expect(waits).toEqual([5_000, 300_000]);
    expect(items[1]!.responseBody.length).toBeLessThanOrEqual(1000);
    expect(items[1]!.responseBody).toMatch(/^nope 503/);
    expect(
      items.every((d) => d.messageId === n.messageId && d.trigger === 'dispatch' && d.durationMs >= 0),
    ).toBe(true);
    expect(first.state === 'failed' && first.retryAt).toEqual(new Date(items[2]!.retryAt));

    // Called again for the same message (the core lost our answer): not sent twice.
    expect(await sender.send({ ...n, attempt: 3 })).toMatchObject({ state: 'sent' });
    expect(receiver.received).toHaveLength(3);
  });

  it('retries on the schedule for a day, then fails for good and marks the endpoint failing; a success clears it', async () => {
    const { id } = await createEndpoint();
    let clock = new Date('2026-12-01T10:00:00.000Z');
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey, now: () => clock });
    receiver.answers = [500];
    const n = notification(id);
    const retries: number[] = [];
    let outcome = await sender.send(n);
    while (outcome.state === 'failed' && !outcome.permanent) {
      retries.push(outcome.retryAt!.getTime() - Date.parse('2026-12-01T10:00:00.000Z'));
      clock = outcome.retryAt!;
      outcome = await sender.send(n);
    }
    const H = 3_600_000;
    expect(retries).toEqual([5_000, 305_000, 2_105_000, 9_305_000, 27_305_000, 63_305_000, 24 * H]);
    expect(outcome).toMatchObject({ state: 'failed', permanent: true });
    expect(receiver.received).toHaveLength(8);
    const failing = await stack.api('GET', `/api/webhook-endpoints/${id}`);
    expect(failing.body).toMatchObject({ state: 'failing', failingSince: '2026-12-02T10:00:00.000Z' });

    // A later event that gets through makes the endpoint healthy again.
    receiver.answers = [200];
    clock = new Date('2026-12-02T12:00:00.000Z');
    expect(await sender.send(notification(id))).toMatchObject({ state: 'sent' });
    const healthy = await stack.api('GET', `/api/webhook-endpoints/${id}`);
    expect(healthy.body).toMatchObject({
      state: 'active',
      failingSince: null,
      lastSuccessAt: '2026-12-02T12:00:00.000Z',
    });
  });

  it('redelivers a logged delivery on request with the same id and body, and logs it', async () => {
    const { id, secret } = await createEndpoint();
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
    receiver.answers = [500];
    const n = notification(id);
    await sender.send(n);
    const [logged] = (await stack.api('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items;

    receiver.answers = [204];
    const res = await stack.api('POST', `/api/webhook-endpoints/${id}/deliveries/${logged.id}/redeliver`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      trigger: 'redeliver',
      redeliveryOf: logged.id,
      outcome: 'sent',
      statusCode: 204,
      messageId: n.messageId,
    });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(n.messageId);
    expect(() =>
      new Webhook(secret).verify(
        receiver.received[1]!.body,
        receiver.received[1]!.headers as Record<string, string>,
      ),
    ).not.toThrow();
    const log = (await stack.api('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items;
    expect(log.map((d: { trigger: string }) => d.trigger)).toEqual(['redeliver', 'dispatch']);

    // Another endpoint's delivery, or an unknown one, is not found; nothing is sent.
    const other = await createEndpoint();
    expect(
      (await stack.api('POST', `/api/webhook-endpoints/${other.id}/deliveries/${logged.id}/redeliver`))
        .status,
    ).toBe(404);
    expect(
      (await stack.api('POST', `/api/webhook-endpoints/${id}/deliveries/99999999/redeliver`)).status,
    ).toBe(404);
    await stack.api('PATCH', `/api/webhook-endpoints/${id}`, { enabled: false });
    const disabled = await stack.api(
      'POST',
      `/api/webhook-endpoints/${id}/deliveries/${logged.id}/redeliver`,
    );
    expect(disabled.status).toBe(409);
    expect(receiver.received).toHaveLength(2);
  });

  it('pages the delivery log', async () => {
    const { id } = await createEndpoint();
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
    for (let i = 0; i < 3; i++) await sender.send(notification(id));
    const page1 = await stack.api('GET', `/api/webhook-endpoints/${id}/deliveries?limit=2`);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await stack.api(
      'GET',
      `/api/webhook-endpoints/${id}/deliveries?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.items[0].id).toBeLessThan(page1.body.items[1].id);
  });

  it('times out a receiver that does not answer, as a failed attempt to retry', async () => {
    const { id } = await createEndpoint();
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      await stack.api('PATCH', `/api/webhook-endpoints/${id}`, {
        url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`,
      });
      const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey, timeoutMs: 300 });
      const out = await sender.send(notification(id));
      expect(out).toMatchObject({
        state: 'failed',
        permanent: false,
        answer: expect.stringContaining('no answer within 300 ms'),
      });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it('suppresses what no endpoint takes: unknown, disabled, or not subscribed to the event', async () => {
    const sender = new WebhookSender({ db: stack.db, secretKey: stack.secretKey });
    expect(await sender.send(notification(99999999))).toMatchObject({
      state: 'suppressed',
      reason: expect.stringContaining('does not exist'),
    });
    expect(await sender.send({ ...notification(1), recipient: 'ops@example.com' })).toMatchObject({
      state: 'suppressed',
    });
    const picky = await createEndpoint({ events: ['stock.low', 'job.*'] });
    expect(await sender.send(notification(picky.id))).toMatchObject({
      state: 'suppressed',
      reason: expect.stringContaining('does not take order.shipped'),
    });
    expect(await sender.send(notification(picky.id, { event: 'job.failed' }))).toMatchObject({
      state: 'sent',
    });
    const wrongKey = new WebhookSender({ db: stack.db, secretKey: Buffer.alloc(32, 7) });
    expect(await wrongKey.send(notification(picky.id, { event: 'job.failed' }))).toMatchObject({
      state: 'failed',
      permanent: false,
      answer: expect.stringContaining('cannot be opened'),
    });
    const off = await createEndpoint({ enabled: false });
    expect(await sender.send(notification(off.id))).toMatchObject({
      state: 'suppressed',
      reason: expect.stringContaining('disabled'),
    });
    expect(receiver.received).toHaveLength(1);
  });
});
