import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  makeStatusToken,
  newStatusNonce,
  parseStatusToken,
  STATUS_MAC_BYTES,
  STATUS_TOKEN_LENGTH,
  statusTokenKey,
  statusUrl,
  verifyStatusToken,
} from '../../src/notify/status-token.js';

// The comparison must go through crypto.timingSafeEqual: wrapped so the test can see each call.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const secret = Buffer.alloc(32, 7);
const key = statusTokenKey(secret);
const nonces = new Map<number, string | null>([
  [42, 'nonce-of-order-42'],
  [43, 'nonce-of-order-43'],
  [44, null],
]);
const nonceOf = (id: number) => nonces.get(id) ?? null;

/** The token with one bit flipped in byte `index` of its bytes. */
function flip(token: string, index: number): string {
  const raw = Buffer.from(token, 'base64url');
  raw[index] = raw[index]! ^ 0x01;
  return raw.toString('base64url');
}

describe('status tokens', () => {
  beforeEach(() => {
    vi.mocked(crypto.timingSafeEqual).mockClear();
  });

  it('carry at least 128 bits of HMAC, and the order they open', async () => {
    expect(STATUS_MAC_BYTES * 8).toBeGreaterThanOrEqual(128);
    const token = makeStatusToken(key, 42, 'nonce-of-order-42');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token).toHaveLength(STATUS_TOKEN_LENGTH);
    const parsed = parseStatusToken(token)!;
    expect(parsed.orderId).toBe(42);
    expect(parsed.mac.length * 8).toBeGreaterThanOrEqual(128);
    await expect(verifyStatusToken(key, token, nonceOf)).resolves.toBe(42);
  });

  it('are the same when rebuilt from the same order and nonce, and differ per nonce and key', () => {
    const a = makeStatusToken(key, 42, 'n1');
    expect(makeStatusToken(key, 42, 'n1')).toBe(a);
    expect(makeStatusToken(key, 42, 'n2')).not.toBe(a);
    expect(makeStatusToken(statusTokenKey(Buffer.alloc(32, 8)), 42, 'n1')).not.toBe(a);
    // The key is derived from the secret key, not the secret key itself.
    expect(statusTokenKey(secret).equals(secret)).toBe(false);
    expect(newStatusNonce()).not.toBe(newStatusNonce());
    expect(Buffer.from(newStatusNonce(), 'base64url')).toHaveLength(16);
  });

  it('open nothing when any bit is changed', async () => {
    const token = makeStatusToken(key, 42, 'nonce-of-order-42');
    const bytes = Buffer.from(token, 'base64url').length;
    for (let i = 0; i < bytes; i++) {
      await expect(verifyStatusToken(key, flip(token, i), nonceOf), `byte ${i}`).resolves.toBeNull();
    }
  });

  it("open nothing for another order's id with this MAC, a revoked nonce, or an order without one", async () => {
    const token = makeStatusToken(key, 42, 'nonce-of-order-42');
    const raw = Buffer.from(token, 'base64url');
    raw.writeBigUInt64BE(43n, 1);
    await expect(verifyStatusToken(key, raw.toString('base64url'), nonceOf)).resolves.toBeNull();
    await expect(verifyStatusToken(key, token, () => 'a-new-nonce')).resolves.toBeNull();
    await expect(verifyStatusToken(key, makeStatusToken(key, 44, 'x'), nonceOf)).resolves.toBeNull();
    await expect(verifyStatusToken(key, makeStatusToken(key, 99, 'x'), nonceOf)).resolves.toBeNull();
  });

  it('refuse what is not a token without looking anything up', async () => {
    const token = makeStatusToken(key, 42, 'nonce-of-order-42');
    const lookup = vi.fn(nonceOf);
    for (const bad of [
      '',
      'abc',
      token.slice(1),
      `${token}A`,
      `${token.slice(0, -1)}+`,
      token.replace(/./, '%'),
      Buffer.alloc(33).toString('base64url'), // version 0, order 0
      makeStatusToken(key, 42, 'n').replace(/^./, 'B'), // another version byte
    ]) {
      await expect(verifyStatusToken(key, bad, lookup), bad).resolves.toBeNull();
    }
    expect(lookup).not.toHaveBeenCalled();
    expect(() => makeStatusToken(key, 0, 'n')).toThrow(RangeError);
    expect(() => makeStatusToken(key, 2 ** 53, 'n')).toThrow(RangeError);
  });

  it('compare the whole MAC in constant time, for a right, a wrong and an unknown order alike', async () => {
    const token = makeStatusToken(key, 42, 'nonce-of-order-42');
    const wrongFirstByte = flip(token, 9);
    const wrongLastByte = flip(token, Buffer.from(token, 'base64url').length - 1);
    for (const t of [token, wrongFirstByte, wrongLastByte, makeStatusToken(key, 99, 'x')]) {
      vi.mocked(crypto.timingSafeEqual).mockClear();
      await verifyStatusToken(key, t, nonceOf);
      const calls = vi.mocked(crypto.timingSafeEqual).mock.calls;
      expect(calls).toHaveLength(1);
      const [a, b] = calls[0]! as [Buffer, Buffer];
      expect(a.length).toBe(STATUS_MAC_BYTES);
      expect(b.length).toBe(STATUS_MAC_BYTES);
    }
  });

  it('make links under the public URL', () => {
    expect(statusUrl('https://shop.example.com/', 'T')).toBe('https://shop.example.com/status/T');
    expect(statusUrl('https://shop.example.com/sb', 'T')).toBe('https://shop.example.com/sb/status/T');
  });
});
