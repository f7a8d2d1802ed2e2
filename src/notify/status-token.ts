import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Conn } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';

/**
 * An order's status link: `<public URL>/status/<token>`. The token is self-locating without being
 * stored: base64url of a version byte, the order id (8 bytes, big-endian) and an HMAC-SHA256 of the
 * order id and the order's random nonce (`orders.status_nonce`), cut to 192 bits, under a key
 * derived from STOCKBRIDGE_SECRET_KEY. A link is rebuilt whenever a notification needs it; a new
 * nonce revokes every link made before.
 */

const VERSION = 1;
const ID_BYTES = 8;
/** The HMAC bytes a token carries: 192 bits, well above the 128 that make it unguessable. */
export const STATUS_MAC_BYTES = 24;
const TOKEN_BYTES = 1 + ID_BYTES + STATUS_MAC_BYTES;
/** Characters of a token (33 bytes in base64url, no padding). */
export const STATUS_TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);
const TOKEN_SHAPE = new RegExp(`^[A-Za-z0-9_-]{${STATUS_TOKEN_LENGTH}}$`);
const HKDF_INFO = 'stockbridge:order-status-token:v1';
const NONCE_BYTES = 16;

/** The key status tokens are signed with, derived (HKDF-SHA256) from the 32-byte secret key. */
export function statusTokenKey(secretKey: Buffer): Buffer {
  if (secretKey.length !== 32)
    throw new RangeError(`the secret key must be 32 bytes, got ${secretKey.length}`);
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), HKDF_INFO, 32));
}

/** A fresh nonce for an order (128 random bits, base64url). */
export function newStatusNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64url');
}

function idBytes(orderId: number): Buffer {
  const b = Buffer.alloc(ID_BYTES);
  b.writeBigUInt64BE(BigInt(orderId));
  return b;
}

function mac(tokenKey: Buffer, orderId: number, nonce: string): Buffer {
  return createHmac('sha256', tokenKey)
    .update(Buffer.from([VERSION]))
    .update(idBytes(orderId))
    .update(nonce, 'utf8')
    .digest()
    .subarray(0, STATUS_MAC_BYTES);
}

/** The token for an order and its nonce. */
export function makeStatusToken(tokenKey: Buffer, orderId: number, nonce: string): string {
  if (!Number.isSafeInteger(orderId) || orderId <= 0) throw new RangeError(`not an order id: ${orderId}`);
  return Buffer.concat([Buffer.from([VERSION]), idBytes(orderId), mac(tokenKey, orderId, nonce)]).toString(
    'base64url',
  );
}

/** The order a token names and the MAC it carries, or null when it is not a token's shape. */
export function parseStatusToken(token: string): { orderId: number; mac: Buffer } | null {
  if (!TOKEN_SHAPE.test(token)) return null;
  const raw = Buffer.from(token, 'base64url');
  // Base64url with stray bits in the last character decodes to the same bytes: only the one spelling counts.
  if (raw.length !== TOKEN_BYTES || raw.toString('base64url') !== token || raw[0] !== VERSION) return null;
  const id = raw.readBigUInt64BE(1);
  if (id === 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { orderId: Number(id), mac: raw.subarray(1 + ID_BYTES) };
}

/** Stands in for a missing nonce, so an unknown order costs the same HMAC and comparison as a known one. */
const NO_NONCE = '\u0000no-nonce';

/**
 * The order id a token opens, or null: not a token, an order without a nonce (or none at all), or
 * a MAC that does not match the order's current nonce (tampered, or revoked). The MACs are
 * compared in constant time.
 */
export async function verifyStatusToken(
  tokenKey: Buffer,
  token: string,
  nonceOf: (orderId: number) => Promise<string | null> | string | null,
): Promise<number | null> {
  const parsed = parseStatusToken(token);
  if (!parsed) return null;
  const nonce = await nonceOf(parsed.orderId);
  const expected = mac(tokenKey, parsed.orderId, nonce ?? NO_NONCE);
  const same = timingSafeEqual(expected, parsed.mac);
  return same && nonce !== null ? parsed.orderId : null;
}

export interface StatusLinkOptions {
  /** STOCKBRIDGE_SECRET_KEY (32 bytes); the tokens' key is derived from it. */
  secretKey: Buffer;
  /** Where customers reach the daemon (STOCKBRIDGE_PUBLIC_URL); links are `<publicUrl>/status/<token>`. */
  publicUrl: string;
}

const keys = new WeakMap<Buffer, Buffer>();
function keyOf(secretKey: Buffer): Buffer {
  let key = keys.get(secretKey);
  if (!key) {
    key = statusTokenKey(secretKey);
    keys.set(secretKey, key);
  }
  return key;
}

/** The status page URL of a token. */
export function statusUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/status/${token}`;
}

async function currentNonce(db: Conn, orderId: number): Promise<string | null | undefined> {
  const row = await db('orders').where({ id: orderId }).first('status_nonce');
  return row ? ((row.status_nonce as string | null) ?? null) : undefined;
}

/**
 * The status page URL of an order, for notifications and the admin: made from the order's nonce,
 * which is created here (once, whoever asks first) when the order has none. Throws NotFoundError
 * for an unknown order. Call it outside a transaction, or in one that has locked the order row
 * first (the lock order: orders come first).
 */
export async function statusLinkFor(db: Conn, options: StatusLinkOptions, orderId: number): Promise<string> {
  let nonce = await currentNonce(db, orderId);
  if (nonce === undefined) throw notFound(`order ${orderId}`);
  if (nonce === null) {
    // Guarded: two first callers at once both end up with the one nonce that was written first.
    await db('orders')
      .where({ id: orderId })
      .whereNull('status_nonce')
      .update({ status_nonce: newStatusNonce() });
    nonce = await currentNonce(db, orderId);
    if (!nonce) throw notFound(`order ${orderId}`);
  }
  return statusUrl(options.publicUrl, makeStatusToken(keyOf(options.secretKey), orderId, nonce));
}

/** Gives the order a new nonce, so every link sent before answers 404; returns the new link. */
export async function revokeStatusLink(
  db: Conn,
  options: StatusLinkOptions,
  orderId: number,
): Promise<string> {
  const nonce = newStatusNonce();
  const changed = await db('orders').where({ id: orderId }).update({ status_nonce: nonce });
  if (!changed) throw notFound(`order ${orderId}`);
  return statusUrl(options.publicUrl, makeStatusToken(keyOf(options.secretKey), orderId, nonce));
}

/** The order a status token opens, or null (whatever was wrong with it). */
export async function orderOfStatusToken(db: Conn, secretKey: Buffer, token: string): Promise<number | null> {
  return verifyStatusToken(keyOf(secretKey), token, async (id) => (await currentNonce(db, id)) ?? null);
}
