import { hostname } from 'node:os';
import { type Db, dbTime } from '../db/connection.js';
import { CHANNELS } from './channel-store.js';

/**
 * What a channel does one at a time, across every process. Each has its own lease columns, and
 * neither is taken while the other is held: a channel never sees a pull and a push of ours at once.
 */
export type LeaseKind = 'pull' | 'push';

/** How long a lease lasts without renewal: a process that died frees it after this. */
export const LEASE_MS = 120_000;

const columns = (kind: LeaseKind) => ({ owner: `${kind}_lease_owner`, until: `${kind}_lease_until` });

export interface ChannelLease {
  /** How long the lease lasts from each renewal (ms). */
  readonly leaseMs: number;
  /**
   * Extends the lease, updating the `extra` columns with it, if it is still ours; false (and
   * nothing written) when it expired and was taken by another process meanwhile.
   */
  renew(extra?: Record<string, unknown>): Promise<boolean>;
  /** Gives the lease up; `extra` columns are updated with it. */
  release(extra?: Record<string, unknown>): Promise<void>;
}

/**
 * Takes the channel's pull or push lease in the database, or returns null while another process
 * (or this one) holds it, or holds the other kind. Works alike on MySQL and SQLite: one conditional UPDATE.
 */
export async function takeChannelLease(
  db: Db,
  channelId: number,
  kind: LeaseKind,
  leaseMs: number = LEASE_MS,
): Promise<ChannelLease | null> {
  const { owner: ownerCol, until: untilCol } = columns(kind);
  const other = columns(kind === 'pull' ? 'push' : 'pull').until;
  const owner = `${hostname().slice(0, 40)}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const now = new Date();
  const taken = await db(CHANNELS)
    .where({ id: channelId })
    .andWhere((q) => q.whereNull(untilCol).orWhere(untilCol, '<', dbTime(now)))
    .andWhere((q) => q.whereNull(other).orWhere(other, '<', dbTime(now)))
    .update({ [ownerCol]: owner, [untilCol]: dbTime(new Date(now.getTime() + leaseMs)) });
  if (taken !== 1) return null;
  const mine = () => db(CHANNELS).where({ id: channelId, [ownerCol]: owner });
  return {
    leaseMs,
    async renew(extra = {}) {
      const kept = await mine().update({ ...extra, [untilCol]: dbTime(new Date(Date.now() + leaseMs)) });
      // MySQL counts changed rows only: a renewal within the same millisecond changes nothing.
      return kept === 1 || (await mine().first('id')) !== undefined;
    },
    async release(extra = {}) {
      await mine().update({ ...extra, [ownerCol]: null, [untilCol]: null });
    },
  };
}
