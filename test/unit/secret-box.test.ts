import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, SecretBoxError, seal } from '../../src/channels/secret-box.js';

describe('secret box (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const value = { accessToken: 'shpat_secret_value', webhookSecret: 'hush' };
    const sealed = seal(key, value);
    expect(sealed).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(sealed).not.toContain('shpat_secret_value');
    expect(open(key, sealed)).toEqual(value);
  });

  it('uses a fresh nonce each time', () => {
    expect(seal(key, { a: 1 })).not.toBe(seal(key, { a: 1 }));
  });

  it('refuses another key, changed data and unknown formats', () => {
    const sealed = seal(key, { a: 'b' });
    expect(() => open(randomBytes(32), sealed)).toThrow(SecretBoxError);
    const parts = sealed.split(':');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => open(key, parts.join(':'))).toThrow(/could not be opened/);
    expect(() => open(key, 'plain text')).toThrow(/unknown format/);
  });

  it('insists on a 32-byte key', () => {
    expect(() => seal(randomBytes(16), {})).toThrow(/32 bytes/);
  });
});
