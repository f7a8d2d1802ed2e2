import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Headers } from '../contract.js';

/**
 * The first of `names` present in `headers`, compared case-insensitively (HTTP/2 lower-cases
 * header names, proxies may not); a blank value counts as absent. Trimmed.
 */
export function headerValue(headers: Headers, ...names: string[]): string | undefined {
  for (const name of names) {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === wanted && typeof value === 'string' && value.trim() !== '')
        return value.trim();
    }
  }
  return undefined;
}

/** base64(HMAC-SHA256(body, secret)): how Shopify and WooCommerce sign a webhook body. */
export function hmacSha256Base64(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** Compares a signature sent with the one expected in constant time; a length mismatch is just "no". */
export function signatureMatches(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `sha256:<hex>` of a body: a delivery's identity when the channel sends none (or one that is not unique). */
export function bodyHash(rawBody: Buffer): string {
  return `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
}
