import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConnector, listConnectorTypes } from '../../../connectors/registry.js';
import shopify, { shopifyLimits } from '../../../connectors/shopify/index.js';
import { COST_OK, context, graphqlReplies, settings, TOKEN } from './shopify-fixtures.js';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('shopify manifest and settings', () => {
  it('declares its type, secrets, capabilities and limits', () => {
    expect(shopify.manifest).toMatchObject({
      type: 'shopify',
      secretFields: ['accessToken', 'webhookSecret'],
      capabilities: ['webhooks', 'orderPull', 'stockPush', 'fulfilmentPush'],
      limits: { stockBatchSize: 250, pageSize: 7, requestsPerSecond: 100 },
    });
  });

  it('fills defaults', () => {
    expect(settings()).toMatchObject({
      apiVersion: '2026-10',
      pullIntervalSeconds: 300,
      pullOverlapSeconds: 600,
      plan: 'standard',
    });
  });

  it('reports every bad field at once', () => {
    const r = shopify.manifest.settingsSchema.safeParse({
      shopDomain: 'example.com',
      accessToken: '',
      apiVersion: '26-10',
      locationId: 'Location 1',
      plan: 'gold',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(
      ['accessToken', 'apiVersion', 'locationId', 'plan', 'shopDomain', 'webhookSecret'].sort(),
    );
  });

  it('builds the base URL from the shop domain and version, or takes the override', () => {
    expect(shopify.baseUrl(settings())).toBe('https://example.myshopify.com/admin/api/2026-10');
    expect(shopify.baseUrl(settings({ apiVersion: '2026-07' }))).toBe(
      'https://example.myshopify.com/admin/api/2026-07',
    );
    expect(shopify.baseUrl(settings({ apiBaseUrl: 'http://127.0.0.1:9999/shopify/' }))).toBe(
      'http://127.0.0.1:9999/shopify',
    );
  });

  it('authenticates with X-Shopify-Access-Token', () => {
    expect(shopify.authHeaders(settings())).toMatchObject({ 'X-Shopify-Access-Token': TOKEN });
  });

  it('rates by plan in cost points per second', () => {
    expect(shopifyLimits({ plan: 'standard' }).requestsPerSecond).toBe(100);
    expect(shopifyLimits({ plan: 'advanced' }).requestsPerSecond).toBe(200);
    expect(shopify.limitsFor?.(settings({ plan: 'plus' })).requestsPerSecond).toBe(1000);
  });
});

describe('shopify testConnection', () => {
  it('asks for the shop name', async () => {
    const { seen } = graphqlReplies([
      [200, { data: { shop: { name: 'Example Shop' } }, extensions: COST_OK }],
    ]);
    const { ctx } = context();
    await expect(shopify.testConnection(ctx)).resolves.toEqual({
      ok: true,
      message: 'Connected to Shopify shop “Example Shop”',
    });
    expect(seen[0]?.query).toContain('shop { name }');
  });

  it('reports refused credentials without throwing or echoing the token', async () => {
    graphqlReplies([[401, { errors: '[API] Invalid API key or access token' }]]);
    const { ctx } = context();
    const r = await shopify.testConnection(ctx);
    expect(r.ok).toBe(false);
    expect(r.message).not.toContain(TOKEN);
  });

  it('reports GraphQL errors such as a missing scope', async () => {
    graphqlReplies([
      [
        200,
        { errors: [{ message: 'Access denied for shop field.', extensions: { code: 'ACCESS_DENIED' } }] },
      ],
    ]);
    const { ctx } = context();
    const r = await shopify.testConnection(ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('Access denied');
  });
});

describe('connector registry', () => {
  it('lists and finds connectors by type', () => {
    expect(listConnectorTypes()).toContain('shopify');
    expect(getConnector('shopify')).toBe(shopify);
  });

  it('throws for an unknown type', () => {
    expect(() => getConnector('myspace')).toThrow(/unknown channel type "myspace"/);
  });
});
