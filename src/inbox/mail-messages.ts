import { type Conn, type Db, dbTime, isoTime } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { INBOUND_EVENTS } from '../orders/intake.js';
import { MAIL_MESSAGES } from './mail-inbox-store.js';

/**
 * Where a message is: `processing` (recorded, being imported), `reply_pending` (imported or judged,
 * the reply written down but not yet confirmed sent), `replied` (sent, not yet moved), `done`
 * (moved to the processed folder), `held` (unknown sender: left for a person, nothing imported).
 */
export type MailMessageState = 'processing' | 'reply_pending' | 'replied' | 'done' | 'held';

export type MailOutcome = 'imported' | 'no_attachment' | 'too_large' | 'held';

/** The reply to a message, written down before it is sent so that a resend is the same message. */
export interface StoredReply {
  to: string;
  subject: string;
  text: string;
  /** The reply's own Message-ID (`<…>`), derived from the message it answers: the same on every send. */
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  /** Result workbooks, their paths relative to the output folder. */
  attachments: { fileName: string; path: string }[];
}

export interface MailMessageRecord {
  id: number;
  inboxId: number;
  uidValidity: number;
  uid: number;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
  state: MailMessageState;
  outcome: MailOutcome | null;
  customerId: number | null;
  inboundEventId: number | null;
  reply: StoredReply | null;
  attempts: number;
  error: string | null;
}

function toRecord(r: Record<string, unknown>): MailMessageRecord {
  return {
    id: Number(r.id),
    inboxId: Number(r.inbox_id),
    uidValidity: Number(r.uid_validity),
    uid: Number(r.uid),
    messageId: (r.message_id as string | null) ?? null,
    fromAddress: (r.from_address as string | null) ?? null,
    subject: (r.subject as string | null) ?? null,
    state: String(r.state) as MailMessageState,
    outcome: (r.outcome as MailOutcome | null) ?? null,
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    inboundEventId: r.inbound_event_id === null ? null : Number(r.inbound_event_id),
    reply: r.reply ? (JSON.parse(String(r.reply)) as StoredReply) : null,
    attempts: Number(r.attempts),
    error: (r.error as string | null) ?? null,
  };
}

/** The records of these UIDs of one folder generation (UIDVALIDITY), by UID. */
export async function messagesByUid(
  db: Conn,
  inboxId: number,
  uidValidity: number,
  uids: readonly number[],
): Promise<Map<number, MailMessageRecord>> {
  const found = new Map<number, MailMessageRecord>();
  for (let i = 0; i < uids.length; i += 500) {
    const rows = await db(MAIL_MESSAGES)
      .where({ inbox_id: inboxId, uid_validity: uidValidity })
      .whereIn('uid', uids.slice(i, i + 500));
    for (const r of rows) found.set(Number(r.uid), toRecord(r));
  }
  return found;
}

export interface MessageToClaim {
  inboxId: number;
  uidValidity: number;
  uid: number;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
}

/**
 * Records a message before anything is done with it, unique on (inbox, UIDVALIDITY, UID) and on
 * (inbox, Message-ID). Returns the record, and whether it is new; a message already recorded under
 * another UID (a copy, or the folder renumbered) comes back as that earlier record.
 */
export async function claimMessage(
  db: Db,
  m: MessageToClaim,
): Promise<{ record: MailMessageRecord; created: boolean }> {
  const now = dbTime();
  try {
    const [id] = await db(MAIL_MESSAGES).insert({
      inbox_id: m.inboxId,
      uid_validity: m.uidValidity,
      uid: m.uid,
      message_id: m.messageId?.slice(0, 191) ?? null,
      from_address: m.fromAddress?.slice(0, 255) ?? null,
      subject: m.subject?.slice(0, 998) ?? null,
      state: 'processing',
      received_at: now,
      updated_at: now,
    });
    return { record: await messageById(db, Number(id)), created: true };
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const row = await db(MAIL_MESSAGES)
      .where({ inbox_id: m.inboxId })
      .andWhere((q) => {
        q.where({ uid_validity: m.uidValidity, uid: m.uid });
        if (m.messageId) q.orWhere({ message_id: m.messageId.slice(0, 191) });
      })
      .orderBy('id')
      .first();
    if (!row) throw err;
    return { record: toRecord(row), created: false };
  }
}

/**
 * Moves a message's record that was never finished (`processing`: died mid-import, or released by
 * retry) to the UID the message is found under now (moved by hand, the folder renumbered), so that
 * it is taken up again there. False when the record has moved on meanwhile or the UID is taken.
 */
export async function moveUnfinishedMessage(
  db: Conn,
  id: number,
  to: { uidValidity: number; uid: number },
): Promise<boolean> {
  try {
    const changed = await db(MAIL_MESSAGES)
      .where({ id, state: 'processing' })
      .update({ uid_validity: to.uidValidity, uid: to.uid, updated_at: dbTime() });
    return changed === 1;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

export async function messageById(db: Conn, id: number): Promise<MailMessageRecord> {
  const row = await db(MAIL_MESSAGES).where({ id }).first();
  if (!row) throw new Error(`mail message ${id} not found`);
  return toRecord(row);
}

/** The channel name of a mail inbox's held messages in `inbound_events`: `mail:3`. */
export const mailChannelKey = (inboxId: number) => `mail:${inboxId}`;

/**
 * Holds a message for a person, in one transaction: an inbound event (`GET /api/inbound-events`,
 * failed, with the reason as its error; never applied by the relay: it has no kind) and the
 * message's state `held`. Nothing is imported and no reply is sent.
 */
export async function holdMessage(
  db: Db,
  record: MailMessageRecord,
  reason: string,
  payload: Record<string, unknown>,
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const now = dbTime();
    const deliveryId = `message:${record.messageId ?? `${record.uidValidity}:${record.uid}`}`.slice(0, 191);
    const existing = await tx(INBOUND_EVENTS)
      .where({ channel: mailChannelKey(record.inboxId), delivery_id: deliveryId })
      .first('id');
    if (existing)
      await tx(INBOUND_EVENTS)
        .where({ id: existing.id })
        .update({ processed_at: null, note: 'held', error: reason.slice(0, 2000) });
    const eventId = existing
      ? Number(existing.id)
      : Number(
          (
            await tx(INBOUND_EVENTS).insert({
              channel: mailChannelKey(record.inboxId),
              delivery_id: deliveryId,
              topic: 'mail/held',
              payload: JSON.stringify(payload),
              received_at: now,
              note: 'held',
              error: reason.slice(0, 2000),
            })
          )[0],
        );
    await tx(MAIL_MESSAGES)
      .where({ id: record.id })
      .update({
        state: 'held',
        outcome: 'held',
        inbound_event_id: eventId,
        error: reason.slice(0, 2000),
        updated_at: now,
      });
  });
}

/**
 * Lets a held message be taken again (after its sender was added to a customer's contacts): back to
 * `processing`, read by the next poll while it is still in the folder; its inbound event marked
 * `released`. False when the inbox has no such held message.
 */
export async function releaseHeldMessage(db: Db, inboxId: number, id: number): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const row = await tx(MAIL_MESSAGES)
      .where({ id, inbox_id: inboxId, state: 'held' })
      .first('inbound_event_id');
    if (!row) return false;
    const changed = await tx(MAIL_MESSAGES)
      .where({ id, state: 'held' })
      .update({ state: 'processing', outcome: null, error: null, updated_at: now });
    if (changed !== 1) return false;
    if (row.inbound_event_id !== null)
      await tx(INBOUND_EVENTS)
        .where({ id: row.inbound_event_id })
        .update({ processed_at: now, note: 'released', error: null });
    return true;
  });
}

/** Writes down the reply (and what the message came to) before it is sent: `reply_pending`. */
export async function recordReply(
  db: Conn,
  id: number,
  r: { outcome: MailOutcome; customerId: number | null; reply: StoredReply; summary: unknown },
): Promise<void> {
  await db(MAIL_MESSAGES)
    .where({ id, state: 'processing' })
    .update({
      state: 'reply_pending',
      outcome: r.outcome,
      customer_id: r.customerId,
      reply: JSON.stringify(r.reply),
      reply_message_id: r.reply.messageId,
      summary: JSON.stringify(r.summary),
      error: null,
      updated_at: dbTime(),
    });
}

/** Moves a message on: `replied` (with the time) or `done` (moved to the processed folder). */
export async function setMessageState(db: Conn, id: number, state: 'replied' | 'done'): Promise<void> {
  const now = dbTime();
  await db(MAIL_MESSAGES)
    .where({ id })
    .update({
      state,
      updated_at: now,
      ...(state === 'replied' ? { replied_at: now, error: null } : { moved_at: now }),
    });
}

/** A failed step: counted, and its error kept for a person; the next poll tries again. */
export async function recordMessageError(db: Conn, id: number, error: string): Promise<void> {
  await db(MAIL_MESSAGES)
    .where({ id })
    .update({ error: error.slice(0, 2000), attempts: db.raw('attempts + 1'), updated_at: dbTime() });
}

/** The messages an inbox took, newest first (at most 200), for the API. */
export async function listMailMessages(db: Conn, inboxId: number, state?: MailMessageState) {
  const q = db(MAIL_MESSAGES).where({ inbox_id: inboxId }).orderBy('id', 'desc').limit(200);
  if (state) q.where({ state });
  const rows = await q;
  return rows.map((r) => ({
    id: Number(r.id),
    uidValidity: Number(r.uid_validity),
    uid: Number(r.uid),
    messageId: (r.message_id as string | null) ?? null,
    from: (r.from_address as string | null) ?? null,
    subject: (r.subject as string | null) ?? null,
    state: String(r.state),
    outcome: (r.outcome as string | null) ?? null,
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    inboundEventId: r.inbound_event_id === null ? null : Number(r.inbound_event_id),
    replyMessageId: (r.reply_message_id as string | null) ?? null,
    summary: r.summary ? JSON.parse(String(r.summary)) : null,
    attempts: Number(r.attempts),
    error: (r.error as string | null) ?? null,
    receivedAt: isoTime(r.received_at as string),
    repliedAt: isoTime(r.replied_at as string | null),
    movedAt: isoTime(r.moved_at as string | null),
  }));
}
