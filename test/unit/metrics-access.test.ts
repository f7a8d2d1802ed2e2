import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isPrivateAddress, metricsRoutes } from '../../src/http/metrics-access.js';

describe('who may scrape /metrics without a token', () => {
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.10.20', true],
    ['fd12:3456::1', true],
    ['172.32.0.1', false],
    ['8.8.8.8', false],
    ['::ffff:203.0.113.9', false],
    ['2001:db8::1', false],
    ['', false],
    [undefined, false],
    ['not-an-address', false],
  ])('%s: %s', (address, allowed) => {
    expect(isPrivateAddress(address)).toBe(allowed);
  });
});

describe('GET /metrics', () => {
  const app = (token?: string) => new Hono().route('/', metricsRoutes(token));

  it('with a token: 401 without it or with another, the exposition with it', async () => {
    const secured = app('scrape-token-0123456789');
    const none = await secured.request('/metrics');
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('unauthorized');
    expect((await secured.request('/metrics', { headers: { authorization: 'Bearer other' } })).status).toBe(
      401,
    );
    const ok = await secured.request('/metrics', {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    expect(await ok.text()).toContain('# TYPE stockbridge_orders_received_total counter');
  });

  it('without a token: 403 when the peer address is unknown (not a network request)', async () => {
    const res = await app().request('/metrics');
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('forbidden');
  });
});
