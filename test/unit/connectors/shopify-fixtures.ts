import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext } from '../../../connectors/contract.js';
import { createHttpClient } from '../../../connectors/http/client.js';
import type { RateLimiter } from '../../../connectors/http/rate-limiter.js';
import shopify, { type ShopifySettings } from '../../../connectors/shopify/index.js';

export const SECRET = 'hush-app-client-secret';
export const TOKEN = 'shpat_test_access_token_0123456789';
export const SHOP = 'https://example.myshopify.com';
export const GRAPHQL_PATH = '/admin/api/2026-10/graphql.json';

/** A fixture's raw bytes, exactly as in the file (big ids included). */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/shopify/${name}`, import.meta.url));
}

export function sign(body: Buffer | string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export function settings(extra: Partial<ShopifySettings> = {}): ShopifySettings {
  return shopify.manifest.settingsSchema.parse({
    shopDomain: 'example.myshopify.com',
    accessToken: TOKEN,
    webhookSecret: SECRET,
    locationId: 'gid://shopify/Location/655441491',
    ...extra,
  });
}

/** A context whose HTTP client is the real one, with tiny backoff and a recorded sleep. */
export function context(extra: Partial<ShopifySettings> = {}, limiter?: RateLimiter) {
  const s = settings(extra);
  const waits: number[] = [];
  const http = createHttpClient({
    baseURL: shopify.baseUrl(s),
    headers: shopify.authHeaders(s),
    minDelayMs: 10,
    maxDelayMs: 40,
    // Full jitter can draw 0 ms, which skips the sleep; a fixed draw keeps the recorded waits exact.
    random: () => 0.5,
    ...(limiter ? { limiter } : {}),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  const ctx: ConnectorContext<ShopifySettings> = {
    channelId: 7,
    settings: s,
    http,
    log: pino({ level: 'silent' }),
  };
  return { ctx, waits };
}

export interface SeenRequest {
  query: string;
  variables: Record<string, unknown>;
}

/** Intercepts GraphQL POSTs, recording each body and answering with the next of `replies`. */
export function graphqlReplies(replies: Array<[number, unknown, Record<string, string>?]>): {
  seen: SeenRequest[];
  scope: nock.Scope;
} {
  const seen: SeenRequest[] = [];
  const scope = nock(SHOP, { reqheaders: { 'x-shopify-access-token': TOKEN } });
  for (const [status, body, headers] of replies) {
    scope.post(GRAPHQL_PATH).reply((_uri, requestBody) => {
      const parsed = (typeof requestBody === 'string' ? JSON.parse(requestBody) : requestBody) as SeenRequest;
      seen.push(parsed);
      return [status, typeof body === 'string' ? body : JSON.stringify(body), headers ?? {}];
    });
  }
  return { seen, scope };
}

export const COST_OK = {
  cost: {
    requestedQueryCost: 52,
    actualQueryCost: 12,
    throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1988, restoreRate: 100 },
  },
};
