import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, decodeKey } from './config.js';

export interface BootstrapSecrets {
  secretKey: Buffer;
  adminToken: string;
}

/** Reads a generated secret from the data dir, or makes one (mode 0600) with a warning. */
function devSecret(dataDir: string, file: string, make: () => string, what: string, log: Logger): string {
  const p = path.resolve(dataDir, file);
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  writeFileSync(p, `${value}\n`, { mode: 0o600 });
  chmodSync(p, 0o600);
  // The value itself never goes to the log: only where it is.
  log.warn({ file: p }, `${what} not configured; generated one for development`);
  return value;
}

/**
 * The secret key for secrets at rest and the bootstrap admin token. Production requires both in
 * the environment (config validation enforces it); development generates them into the data dir.
 */
export function resolveBootstrapSecrets(config: Config, log: Logger): BootstrapSecrets {
  const keyText =
    config.STOCKBRIDGE_SECRET_KEY ??
    devSecret(
      config.STOCKBRIDGE_DATA_DIR,
      'secret.key',
      () => randomBytes(32).toString('hex'),
      'STOCKBRIDGE_SECRET_KEY',
      log,
    );
  const secretKey = decodeKey(keyText);
  if (!secretKey)
    throw new Error(`the secret key in ${config.STOCKBRIDGE_DATA_DIR}/secret.key is not 32 bytes`);
  const adminToken =
    config.STOCKBRIDGE_ADMIN_TOKEN ??
    devSecret(
      config.STOCKBRIDGE_DATA_DIR,
      'admin-token',
      () => randomBytes(24).toString('base64url'),
      'STOCKBRIDGE_ADMIN_TOKEN',
      log,
    );
  return { secretKey, adminToken };
}
