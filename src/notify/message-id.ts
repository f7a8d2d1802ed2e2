import { createHash } from 'node:crypto';

/** The host part of Message-IDs: the domain of the From address (`stockbridge@localhost` → localhost). */
export function messageIdHost(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return m?.[1]?.toLowerCase() ?? 'stockbridge.invalid';
}

/**
 * The Message-ID of a notification: made once from its unique key (what it tells of, the rule, the
 * medium, the recipient) and stored with it, so every attempt carries the same one and a mail system
 * can drop the one duplicate a process dying after the provider's accept can cause.
 */
export function notificationMessageId(key: string, host: string): string {
  const hash = createHash('sha256').update(key).digest('base64url').slice(0, 27);
  return `<n.${hash}@${host}>`;
}
