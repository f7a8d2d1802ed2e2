import type { ConnectorContext } from '../contract.js';
import type { HttpRequest, HttpResponse } from '../http/types.js';
import { type WooCommerceSettings, wooCommerceAuthParams } from './settings.js';

/**
 * WooCommerce answered 2xx with something that is not the JSON we asked for (a caching plugin's
 * HTML page, a PHP notice in front of the JSON). Plain `Error`: retried like a network failure.
 */
export class WooCommerceResponseError extends Error {
  override name = 'WooCommerceResponseError';
}

/**
 * Reads a JSON body. axios hands back the raw string when it could not parse one; WordPress sites
 * sometimes put a byte-order mark in front of it, which is all we forgive.
 */
export function jsonBody(data: unknown, what: string): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data.replace(/^\uFEFF/, ''));
  } catch {
    throw new WooCommerceResponseError(`WooCommerce ${what}: the response is not JSON`);
  }
}

/**
 * Sends one request through the channel's HTTP client, adding the credentials as query
 * parameters when the settings ask for `query` auth (the client's default headers carry them in
 * `basic` mode).
 */
export function wooRequest<T = unknown>(
  ctx: ConnectorContext<WooCommerceSettings>,
  req: HttpRequest,
): Promise<HttpResponse<T>> {
  const auth = wooCommerceAuthParams(ctx.settings);
  if (Object.keys(auth).length === 0) return ctx.http.request<T>(req);
  return ctx.http.request<T>({ ...req, params: { ...req.params, ...auth } });
}
