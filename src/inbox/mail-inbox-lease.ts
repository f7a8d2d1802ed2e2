import { hostname } from 'node:os';
import { type Db, dbTime } from '../db/connection.js';
import { MAIL_INBOXES } from './mail-inbox-store.js';

/** How long an inbox lease lasts without renewal: a process that died frees the inbox after this. */
export const MAIL_LEASE_MS = 30_000;

export interface InboxLease {
  /** Extends the lease if it is still ours; false when it ran out and another process took it. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Takes an inbox's lease, or returns null while another process (or this one) holds it: one
 * poller per inbox across every daemon, as channel pulls (src/channels/lease.ts). One conditional
 * UPDATE, alike on MySQL and SQLite.
 */
export async function takeInboxLease(
  db: Db,
  inboxId: number,
  leaseMs = MAIL_LEASE_MS,
): Promise<InboxLease | null> {
  const owner = `${hostname().slice(0, 40)}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const now = new Date();
  const taken = await db(MAIL_INBOXES)
    .where({ id: inboxId })
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', dbTime(now)))
    .update({ lease_owner: owner, lease_until: dbTime(new Date(now.getTime() + leaseMs)) });
  if (taken !== 1) return null;
  const mine = () => db(MAIL_INBOXES).where({ id: inboxId, lease_owner: owner });
  return {
    async renew() {
      const kept = await mine().update({ lease_until: dbTime(new Date(Date.now() + leaseMs)) });
      // MySQL counts changed rows only: a renewal within the same millisecond changes nothing.
      return kept === 1 || (await mine().first('id')) !== undefined;
    },
    async release() {
      await mine().update({ lease_owner: null, lease_until: null });
    },
  };
}
