import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConnector, listConnectorTypes } from '../../../connectors/registry.js';
import woocommerce, { wooCommerceAuthParams } from '../../../connectors/woocommerce/index.js';
import {
  BASIC,
  CONSUMER_KEY,
  CONSUMER_SECRET,
  context,
  replies,
  settings,
} from '../../fixtures/woocommerce/helpers.js';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('woocommerce manifest and settings', () => {
  it('declares its type, secrets, capabilities and limits', () => {
    expect(woocommerce.manifest).toMatchObject({
      type: 'woocommerce',
      displayName: 'WooCommerce',
      secretFields: ['consumerKey', 'consumerSecret', 'webhookSecret'],
      capabilities: ['webhooks', 'orderPull', 'stockPush', 'fulfilmentPush'],
      limits: { requestsPerSecond: 5, stockBatchSize: 100, pageSize: 100 },
    });
  });

  it('fills defaults', () => {
    expect(settings()).toMatchObject({
      pullIntervalSeconds: 300,
      pullOverlapSeconds: 600,
      requestsPerSecond: 5,
      authMode: 'basic',
    });
    expect(settings().pullStartAt).toBeUndefined();
  });

  it('reports every bad field at once', () => {
    const r = woocommerce.manifest.settingsSchema.safeParse({
      siteUrl: 'shop.example.com',
      consumerKey: '',
      consumerSecret: ' ',
      pullIntervalSeconds: 0,
      pullOverlapSeconds: -1,
      pullStartAt: 'yesterday',
      requestsPerSecond: 0,
      authMode: 'oauth',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(
      [
        'authMode',
        'consumerKey',
        'consumerSecret',
        'pullIntervalSeconds',
        'pullOverlapSeconds',
        'pullStartAt',
        'requestsPerSecond',
        'siteUrl',
        'webhookSecret',
      ].sort(),
    );
  });

  it('wants https, except to localhost', () => {
    const parse = (siteUrl: string) =>
      woocommerce.manifest.settingsSchema.safeParse({ ...settings(), siteUrl });
    expect(parse('http://shop.example.com').success).toBe(false);
    expect(parse('ftp://shop.example.com').success).toBe(false);
    expect(parse('https://shop.example.com/?x=1').success).toBe(false);
    expect(parse('https://shop.example.com').success).toBe(true);
    expect(parse('http://127.0.0.1:8080').success).toBe(true);
    expect(parse('http://localhost/wordpress').success).toBe(true);
  });

  it('builds the API base from siteUrl, sub-directory included, without a trailing slash', () => {
    expect(woocommerce.baseUrl(settings())).toBe('https://shop.example.com/wp-json/wc/v3');
    expect(woocommerce.baseUrl(settings({ siteUrl: 'https://example.com/shop/' }))).toBe(
      'https://example.com/shop/wp-json/wc/v3',
    );
    expect(woocommerce.baseUrl(settings({ siteUrl: 'http://127.0.0.1:9999' }))).toBe(
      'http://127.0.0.1:9999/wp-json/wc/v3',
    );
  });

  it('authenticates with Basic auth, or in query mode with parameters and no header', () => {
    expect(woocommerce.authHeaders(settings())).toEqual({ Accept: 'application/json', Authorization: BASIC });
    expect(wooCommerceAuthParams(settings())).toEqual({});
    const query = settings({ authMode: 'query' });
    expect(woocommerce.authHeaders(query)).toEqual({ Accept: 'application/json' });
    expect(wooCommerceAuthParams(query)).toEqual({
      consumer_key: CONSUMER_KEY,
      consumer_secret: CONSUMER_SECRET,
    });
  });

  it('takes the request rate from the settings', () => {
    expect(woocommerce.limitsFor?.(settings({ requestsPerSecond: 20 }))).toEqual({
      requestsPerSecond: 20,
      stockBatchSize: 100,
      pageSize: 100,
    });
    expect(woocommerce.limitsFor?.(settings()).requestsPerSecond).toBe(5);
  });
});

describe('woocommerce testConnection', () => {
  it('reads one order', async () => {
    const { seen } = replies('get', '/orders', [
      [200, [], { 'X-WP-Total': '1234', 'X-WP-TotalPages': '1234' }],
    ]);
    const { ctx } = context();
    await expect(woocommerce.testConnection(ctx)).resolves.toEqual({
      ok: true,
      message: 'Connected to WooCommerce at https://shop.example.com (1234 orders)',
    });
    expect(seen[0]?.query).toEqual({ per_page: '1' });
    expect(seen[0]?.headers.authorization).toBe(BASIC);
  });

  it('reports refused credentials without throwing or echoing them', async () => {
    replies('get', '/orders', [
      [
        401,
        {
          code: 'woocommerce_rest_authentication_error',
          message: 'Invalid signature - provided signature does not match.',
          data: { status: 401 },
        },
      ],
    ]);
    const { ctx } = context();
    const r = await woocommerce.testConnection(ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('refused the consumer key/secret');
    expect(r.message).not.toContain(CONSUMER_SECRET);
  });

  it('reports a site that is not the WooCommerce REST API', async () => {
    replies('get', '/orders', [
      [200, '<!doctype html><html><body>Hello</body></html>', { 'Content-Type': 'text/html' }],
    ]);
    const { ctx } = context();
    const r = await woocommerce.testConnection(ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('did not answer as the WooCommerce REST API');
  });

  it('reports a missing REST route', async () => {
    replies('get', '/orders', [
      [404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.' }],
    ]);
    const { ctx } = context();
    const r = await woocommerce.testConnection(ctx);
    expect(r).toEqual({
      ok: false,
      message:
        'No WooCommerce REST API at https://shop.example.com/wp-json/wc/v3 (is WooCommerce active? is siteUrl right?)',
    });
  });
});

describe('connector registry', () => {
  it('lists and finds the WooCommerce connector by type', () => {
    expect(listConnectorTypes()).toContain('woocommerce');
    expect(getConnector('woocommerce')).toBe(woocommerce);
  });
});
