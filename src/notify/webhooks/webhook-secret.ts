import { randomBytes } from 'node:crypto';

/** Bytes of randomness in a signing secret (Standard Webhooks asks for 24 to 64). */
export const SECRET_BYTES = 32;

/** A new endpoint signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}
