import type { Knex } from 'knex';
import { type Db, dbTime, dialectOf } from '../db/connection.js';
import { INBOUND_EVENTS } from '../orders/intake.js';
import type { OrderEventKind } from './apply-order.js';

/** A verified delivery, as it is stored before anything is applied. */
export interface EventToStore {
  /** `shopify:3`. */
  channel: string;
  deliveryId: string;
  topic: string;
  kind: OrderEventKind;
  externalId: string | null;
  rawPayload: string;
}

/**
 * How long a queued event is left to its job before the event relay queues it again (ms): long
 * enough that a backlog in the queue is not queued twice, short enough that a job lost with Redis
 * or a killed worker is taken up again within a minute.
 */
export const EVENT_LEASE_MS = 60_000;

export interface StoredEvent {
  eventId: number;
  /** The delivery was stored and applied before: nothing is left to do. */
  applied: boolean;
}

const consecutive = new WeakMap<Db, Promise<boolean>>();

/**
 * Whether one multi-row INSERT gets consecutive auto-increment ids: InnoDB's lock modes 0 and 1
 * (MariaDB's default) promise it, mode 2 (MySQL 8's default) does not. Asked once per pool.
 */
function consecutiveIds(db: Db): Promise<boolean> {
  let known = consecutive.get(db);
  if (!known) {
    known = db
      .raw('SELECT @@innodb_autoinc_lock_mode AS mode')
      .then(([rows]: [{ mode: number }[]]) => Number(rows[0]?.mode) < 2)
      .catch(() => false);
    consecutive.set(db, known);
  }
  return known;
}

/**
 * Stores deliveries in one statement (one commit for all of them: group commit), each unique on
 * (channel, delivery id): a delivery stored before is left as it is. Returns, per delivery, its
 * event id and whether it has already been applied.
 */
export async function storeEvents(db: Db, events: readonly EventToStore[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const now = dbTime();
  const leaseUntil = dbTime(new Date(Date.now() + EVENT_LEASE_MS));
  const rows = events.map((e) => [
    e.channel,
    e.deliveryId.slice(0, 191),
    e.topic.slice(0, 64),
    e.kind,
    e.externalId?.slice(0, 191) ?? null,
    e.rawPayload,
    now,
    leaseUntil,
  ]);
  const conflict =
    dialectOf(db) === 'mysql'
      ? 'ON DUPLICATE KEY UPDATE id = id'
      : 'ON CONFLICT (channel, delivery_id) DO NOTHING';
  const result = await db.raw(
    `INSERT INTO ${INBOUND_EVENTS} (channel, delivery_id, topic, kind, external_id, payload, received_at, retry_at) ` +
      `VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ${conflict}`,
    rows.flat() as Knex.RawBinding[],
  );
  if (dialectOf(db) === 'mysql' && (await consecutiveIds(db))) {
    // Every row new (no duplicate among them, the usual case): one statement inserted them with
    // consecutive ids from the first, so nothing needs reading back.
    const header = (result as [{ affectedRows: number; insertId: number }])[0];
    const distinct = new Set(rows.map((r) => `${r[0]}\u0000${r[1]}`)).size === rows.length;
    if (distinct && header.affectedRows === rows.length && header.insertId > 0) {
      return rows.map((_, i) => ({ eventId: header.insertId + i, applied: false }));
    }
  }
  const found = await db(INBOUND_EVENTS)
    .whereIn(
      ['channel', 'delivery_id'],
      rows.map((r) => [r[0], r[1]] as [string, string]),
    )
    .select('id', 'channel', 'delivery_id', 'processed_at');
  const byKey = new Map(found.map((r) => [`${r.channel}\u0000${r.delivery_id}`, r]));
  return rows.map((r) => {
    const row = byKey.get(`${r[0]}\u0000${r[1]}`);
    if (!row) throw new Error(`event ${r[1]} not found after storing it`);
    return { eventId: Number(row.id), applied: row.processed_at !== null };
  });
}

/** Sets when the event relay may queue these unapplied events again (null: as soon as it looks). */
export async function leaseEvents(db: Db, eventIds: readonly number[], until: Date | null): Promise<void> {
  if (eventIds.length === 0) return;
  await db(INBOUND_EVENTS)
    .whereIn('id', [...eventIds])
    .whereNull('processed_at')
    .update({ retry_at: until === null ? null : dbTime(until) });
}
