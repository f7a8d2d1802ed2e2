import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pushStyleConnector, signPush } from '../fixtures/connectors/push-style.js';
import { createStack, type TestStack } from '../helpers/stack.js';

// The registry with one more connector folder, as adding a channel kind would give it.
vi.mock('../../connectors/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../connectors/registry.js')>();
  const { pushStyleConnector: extra } = await import('../fixtures/connectors/push-style.js');
  return {
    ...real,
    getConnector: (type: string) => (type === extra.manifest.type ? extra : real.getConnector(type)),
    listConnectorTypes: () => [...real.listConnectorTypes(), extra.manifest.type].sort(),
  };
});

const SETTINGS = { clientId: 'client-7', clientSecret: 'push-style-secret' };

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('webhook answers shaped by the connector on %s', (_name, sqlite) => {
  let stack: TestStack;
  let channelId: number;

  const push = (body: Record<string, unknown>) =>
    stack.app.request(`/webhooks/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    const created = await stack.api('POST', '/api/channels', {
      type: pushStyleConnector.manifest.type,
      name: 'Push-style shop',
      settings: SETTINGS,
    });
    expect(created.status).toBe(201);
    channelId = created.body.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers a stored push, and its repeat, with the body the platform expects', async () => {
    const msg = encodeURIComponent(
      JSON.stringify({ tid: 'E2026120100001', status: 'WAIT_SELLER_SEND_GOODS' }),
    );
    const body = { type: 'TRADE_ORDER_STATE', msg, msg_id: 'm-1', sign: signPush(SETTINGS, msg) };

    const first = await push(body);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(await first.json()).toEqual({ code: 0, msg: 'success' });
    // Answered only once stored: the push is an inbound event, with the platform's message id.
    const stored = await stack.db('inbound_events').where({ channel: `pushstyle:${channelId}` });
    expect(stored.map((e) => [e.delivery_id, e.external_id])).toEqual([['m-1', 'E2026120100001']]);

    const again = await push(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ code: 0, msg: 'success' });
    expect(await stack.db('inbound_events').where({ channel: `pushstyle:${channelId}` })).toHaveLength(1);
  });

  it('sends a string answer as it is, and leaves refusals to the core', async () => {
    const msg = 'ping';
    const ignored = await push({ type: 'PING', msg, sign: signPush(SETTINGS, msg) });
    expect(ignored.status).toBe(200);
    expect(ignored.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await ignored.text()).toBe('success');

    const forged = await push({ type: 'TRADE_ORDER_STATE', msg, sign: 'not-the-sign' });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'invalid_webhook' } });
  });

  it('keeps the default {status, eventId} answer for connectors that do not shape it', async () => {
    const woo = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Plain Woo',
      settings: {
        siteUrl: 'https://woo.reply.test',
        consumerKey: 'ck_reply',
        consumerSecret: 'cs_reply',
        webhookSecret: 'reply-secret',
      },
    });
    expect(woo.status).toBe(201);
    const ping = await stack.app.request(`/webhooks/${woo.body.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'webhook_id=12',
    });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ status: 'ignored', topic: 'ping' });
  });
});
