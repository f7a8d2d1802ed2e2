import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const AAD = Buffer.from('stockbridge:channel-secrets:v1', 'utf8');

/** Raised when sealed data cannot be opened: another key, or the data was changed. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretBoxError(`the secret key must be 32 bytes, got ${key.length}`);
}

/**
 * Encrypts a JSON value with AES-256-GCM under `key` (STOCKBRIDGE_SECRET_KEY): a fresh 96-bit
 * nonce per call, the 128-bit tag kept, as `v1:<nonce>:<tag>:<ciphertext>` in base64url.
 */
export function seal(key: Buffer, value: unknown): string {
  checkKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join(':');
}

/** Decrypts what `seal` made; throws `SecretBoxError` for a wrong key or changed data. */
export function open<T = unknown>(key: Buffer, sealed: string): T {
  checkKey(key);
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== VERSION)
    throw new SecretBoxError('sealed data has an unknown format');
  const [, iv, tag, ct] = parts as [string, string, string, string];
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    throw new SecretBoxError(
      'sealed data could not be opened (wrong STOCKBRIDGE_SECRET_KEY, or changed data)',
    );
  }
}
