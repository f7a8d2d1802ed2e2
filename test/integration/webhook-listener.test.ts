import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKey } from '../../src/channels/channel-store.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/http/app.js';
import { serverWithFastPath, webhookFastPath } from '../../src/http/webhook-listener.js';
import { checkInvariants } from '../helpers/invariants.js';
import { capturingLogger } from '../helpers/log-sink.js';
import { shopifyOrderBody, shopWithOneSku } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

/*
 * The daemon answers `POST /webhooks/{id}` on Node's request and response, ahead of the Hono app
 * (src/http/webhook-listener.ts). Over real HTTP, every kind of delivery gets the same answer as
 * the app's own route gives it (`app.request`), and what the fast path does not take (another
 * method, an id that is not digits, a body over the limit or without a length) still reaches the app.
 */

const SECRET = 'fast-path-webhook-secret';
/** The app's own limit, which the daemon gives the fast path too. */
const LIMIT = DEFAULT_MAX_BODY_BYTES;

describe('webhooks on the fast path, over real HTTP', () => {
  let stack: TestStack;
  let server: ReturnType<typeof serve>;
  let port: number;
  let shopId: number;
  let seq = 0;
  const sink = capturingLogger();

  const headersFor = (body: string, extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    'x-shopify-topic': 'orders/create',
    'x-shopify-shop-domain': 'fast-shop.myshopify.com',
    'x-shopify-event-id': `evt-${++seq}`,
    'x-shopify-webhook-id': `wh-${seq}`,
    'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    ...extra,
  });

  /** A request over HTTP to the server with the fast path in front of the app. */
  const overHttp = async (path: string, init: RequestInit) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      requestId: res.headers.get('x-request-id'),
      body: await res.text(),
    };
  };
  /** The same request to the app alone. */
  const inApp = async (path: string, init: RequestInit) => {
    const res = await stack.app.request(path, init);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      requestId: res.headers.get('x-request-id'),
      body: await res.text(),
    };
  };

  beforeAll(async () => {
    stack = await createStack();
    shopId = await shopWithOneSku(
      stack,
      (sku) => seedCatalog(stack, [{ code: 'main', priority: 1 }], [sku]),
      {
        name: 'Fast shop',
        domain: 'fast-shop.myshopify.com',
        secret: SECRET,
        sku: 'FAST-1',
        variantId: '4400000000000000990',
        stock: 100,
      },
    );
    const fast = webhookFastPath({ channels: stack.channels, log: sink.log, maxBodyBytes: LIMIT });
    server = await new Promise((resolve) => {
      const s = serve(
        { fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1', createServer: serverWithFastPath(fast) },
        () => resolve(s),
      );
    });
    port = (server.address() as AddressInfo).port;
    stack.startWorker(4);
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await stack?.close();
  });

  it('stores a signed delivery and answers it as the app does; its repeat is a duplicate', async () => {
    const body = shopifyOrderBody('7700000000000000001', [
      { sku: 'FAST-1', variantId: '4400000000000000990', quantity: 2, price: '10.00' },
    ]);
    const headers = headersFor(body, { 'x-request-id': 'fast-req-1' });
    const first = await overHttp(`/webhooks/${shopId}`, { method: 'POST', headers, body });
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/json');
    expect(first.requestId).toBe('fast-req-1');
    const answer = JSON.parse(first.body);
    expect(answer).toMatchObject({ status: 'accepted', eventId: expect.any(Number) });
    // Stored before the answer: the event is there, with the delivery's key.
    const stored = await stack
      .db('inbound_events')
      .where({ channel: channelKey({ type: 'shopify', id: shopId }) });
    expect(stored).toHaveLength(1);
    expect(Number(stored[0].id)).toBe(answer.eventId);

    // The same delivery again, over HTTP and through the app: the same answer, still one event.
    const again = await overHttp(`/webhooks/${shopId}`, { method: 'POST', headers, body });
    const viaApp = await inApp(`/webhooks/${shopId}`, { method: 'POST', headers, body });
    expect(again.status).toBe(viaApp.status);
    expect(JSON.parse(again.body)).toEqual(JSON.parse(viaApp.body));
    expect(
      await stack.db('inbound_events').where({ channel: channelKey({ type: 'shopify', id: shopId }) }),
    ).toHaveLength(1);
    // One log line per request, as every route writes it (both carried the caller's request id).
    const lines = sink.entries().filter((e) => e.msg === 'request' && e.requestId === 'fast-req-1');
    expect(lines).toEqual([
      expect.objectContaining({ method: 'POST', path: `/webhooks/${shopId}`, status: 200 }),
      expect.objectContaining({ method: 'POST', path: `/webhooks/${shopId}`, status: 200 }),
    ]);
  });

  it('refuses a bad signature (401) and an unknown channel (404) exactly as the app does, storing nothing', async () => {
    const body = shopifyOrderBody('7700000000000000002', [
      { sku: 'FAST-1', variantId: '4400000000000000990', quantity: 1, price: '10.00' },
    ]);
    const before = await stack.db('inbound_events').count({ n: '*' });
    const forged = { ...headersFor(body), 'x-shopify-hmac-sha256': 'AAAA' };
    for (const [path, headers] of [
      [`/webhooks/${shopId}`, forged],
      ['/webhooks/987654', headersFor(body)],
    ] as const) {
      const fast = await overHttp(path, { method: 'POST', headers, body });
      const app = await inApp(path, { method: 'POST', headers, body });
      expect([fast.status, fast.type, JSON.parse(fast.body)]).toEqual([
        app.status,
        app.type,
        JSON.parse(app.body),
      ]);
      expect([401, 404]).toContain(fast.status);
    }
    expect(await stack.db('inbound_events').count({ n: '*' })).toEqual(before);
  });

  it('hands what it does not take to the app: a bad id, another method, a body over the limit or without a length', async () => {
    const badId = await overHttp('/webhooks/abc', { method: 'POST', headers: headersFor('{}'), body: '{}' });
    expect(badId).toMatchObject({
      status: (await inApp('/webhooks/abc', { method: 'POST', body: '{}' })).status,
    });
    expect(badId.status).toBe(400);

    const get = await overHttp(`/webhooks/${shopId}`, { method: 'GET' });
    expect(get.status).toBe(404);
    expect(JSON.parse(get.body)).toMatchObject({ error: { code: 'not_found' } });

    const big = 'x'.repeat(LIMIT + 1);
    const tooBig = await overHttp(`/webhooks/${shopId}`, {
      method: 'POST',
      headers: headersFor(big),
      body: big,
    });
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(tooBig.body)).toMatchObject({ error: { code: 'payload_too_large' } });

    // Chunked (no content-length): the app reads it, verifies it and answers as usual.
    const body = shopifyOrderBody('7700000000000000003', [
      { sku: 'FAST-1', variantId: '4400000000000000990', quantity: 1, price: '10.00' },
    ]);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: `/webhooks/${shopId}`, method: 'POST', headers: headersFor(body) },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 100));
      req.end(body.slice(100));
    });
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body)).toMatchObject({ status: 'accepted' });
    await stack.settle();
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
