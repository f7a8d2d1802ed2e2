import { randomBytes } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { type Db, dbTime } from '../db/connection.js';
import { notificationFailures } from '../metrics.js';
import type { RedisConnection } from '../queue/redis.js';
import type {
  NotificationAttachment,
  NotificationMedium,
  NotificationSender,
  OutgoingNotification,
  SendOutcome,
} from './contract.js';
import { documentAttachments, onDocumentSent } from './documents.js';
import type { NotificationEvent } from './events.js';
import { isSuppressed, NOTIFICATIONS, type NotificationRow, suppress, toNotification } from './store.js';
import { type StatusLink, templateData } from './template-data.js';
import { TemplateError } from './template-engine.js';
import type { Templates } from './templates.js';

export const NOTIFY_QUEUE = 'notifications';

/** A dispatch job: send the due notifications of one order (in order), or one notification of no order. */
export interface DispatchJob {
  orderId?: number;
  notificationId?: number;
}

export interface DispatcherOptions {
  db: Db;
  log: Logger;
  /** The sender of each medium; a notification of a medium without one waits (pending, with why). */
  senders: Map<NotificationMedium, NotificationSender>;
  templates: Templates;
  /** The status page's link of an order, for customers' notifications; none: no link. */
  statusLink?: StatusLink;
  /** `STOCKBRIDGE_OUTPUT_DIR`: documents attached are (re)written there. */
  outputDir: string;
  /** The business time zone (statement workbooks). */
  timeZone: string;
  /** How long one sending holds a notification (ms); after it another process may take it. Default 120 000. */
  leaseMs?: number;
  /** Wait before the first retry (ms), doubled for each further one (capped at 6 h). Default 30 000. */
  retryBaseMs?: number;
  /**
   * How long after it was made a notification that keeps failing temporarily is given up (ms);
   * until then it is retried, at most 6 h apart, however many attempts that takes. Default 7 days.
   */
  giveUpAfterMs?: number;
  /** How long a notification of a medium without a sender waits before it is looked at again (ms). Default 600 000. */
  noSenderWaitMs?: number;
}

type Claimed = NotificationRow & { token: string };

/**
 * Sends notifications: claims each (a lease on the row, so two processes never send one at once),
 * renders it, hands it to its medium's sender and records the answer under that lease. Per order
 * and recipient, notifications go out in the order they were made: a later one waits while an
 * earlier one is still pending.
 */
export class NotificationDispatcher {
  readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly giveUpAfterMs: number;
  private readonly noSenderWaitMs: number;

  constructor(private readonly o: DispatcherOptions) {
    this.leaseMs = o.leaseMs ?? 120_000;
    this.retryBaseMs = o.retryBaseMs ?? 30_000;
    this.giveUpAfterMs = o.giveUpAfterMs ?? 7 * 24 * 3600_000;
    this.noSenderWaitMs = o.noSenderWaitMs ?? 600_000;
  }

  /**
   * Sends what is due of one group (an order's notifications, or one notification). Returns when
   * the next pending one of the group is due (null: nothing left pending that waits for a time).
   */
  async dispatch(group: DispatchJob): Promise<Date | null> {
    const { db } = this.o;
    let nextDue: Date | null = null;
    for (let round = 0; round < 50; round++) {
      let q = db(NOTIFICATIONS).where('state', 'pending');
      q =
        group.orderId !== undefined
          ? q.where('order_id', group.orderId)
          : q.where('id', group.notificationId ?? 0);
      const rows = (await q.orderBy('id').limit(200)).map(toNotification);
      const blocked = new Set<string>();
      let progressed = false;
      nextDue = null;
      for (const row of rows) {
        const key = `${row.medium}|${row.recipientKey}`;
        if (blocked.has(key)) continue;
        const now = new Date();
        const due = new Date(row.nextAttemptAt);
        if (due > now) {
          blocked.add(key);
          if (!nextDue || due < nextDue) nextDue = due;
          continue;
        }
        const claimed = await this.claim(row);
        if (!claimed) {
          blocked.add(key);
          continue;
        }
        progressed = true;
        const after = await this.sendClaimed(claimed);
        if (after) {
          blocked.add(key);
          if (!nextDue || after < nextDue) nextDue = after;
        }
      }
      if (!progressed) break;
    }
    return nextDue;
  }

  /** Takes the lease of a due, pending notification; null when another process holds it or it moved on. */
  private async claim(row: NotificationRow): Promise<Claimed | null> {
    const token = randomBytes(12).toString('hex');
    const now = new Date();
    const n = await this.o
      .db(NOTIFICATIONS)
      .where({ id: row.id, state: 'pending' })
      .where('next_attempt_at', '<=', dbTime(now))
      .where((w) => w.whereNull('lease_until').orWhere('lease_until', '<', dbTime(now)))
      .update({
        lease_until: dbTime(new Date(now.getTime() + this.leaseMs)),
        lease_token: token,
        updated_at: dbTime(now),
      });
    return n === 1 ? { ...row, token } : null;
  }

  /** Records what happened under the lease; false when the lease was lost meanwhile (nothing written). */
  private async record(row: Claimed, fields: Record<string, unknown>): Promise<boolean> {
    const n = await this.o
      .db(NOTIFICATIONS)
      .where({ id: row.id, state: 'pending', lease_token: row.token })
      .update({ ...fields, lease_until: null, lease_token: null, updated_at: dbTime() });
    return n === 1;
  }

  private backoff(attempts: number): number {
    const ms = Math.min(this.retryBaseMs * 2 ** Math.max(0, attempts - 1), 6 * 3600_000);
    return Math.round(ms * (0.8 + Math.random() * 0.4));
  }

  /** Sends one claimed notification; returns when it is due again if it stays pending, else null. */
  private async sendClaimed(row: Claimed): Promise<Date | null> {
    const { log, senders } = this.o;
    const reason = await isSuppressed(this.o.db, row.medium, row.recipientKey);
    if (reason) {
      await this.record(row, { state: 'suppressed', reason: `address suppressed: ${reason}`.slice(0, 500) });
      return null;
    }
    const sender = senders.get(row.medium);
    if (!sender) {
      const until = new Date(Date.now() + this.noSenderWaitMs);
      await this.record(row, {
        reason: `no ${row.medium} sender is configured`,
        next_attempt_at: dbTime(until),
      });
      return until;
    }
    let outgoing: OutgoingNotification;
    try {
      outgoing = await this.render(row);
    } catch (err) {
      log.warn({ notificationId: row.id, err: (err as Error).message }, 'notification could not be rendered');
      const answer = `could not be rendered: ${(err as Error).message}`;
      // A broken template stays broken: failed for good. Anything else (the database, a file that
      // could not be read) may pass on a later attempt: retried with backoff like a send failure.
      if (err instanceof TemplateError) {
        if (
          await this.record(row, {
            state: 'failed',
            reason: answer.slice(0, 500),
            attempts: row.attempts + 1,
          })
        )
          notificationFailures.inc({ medium: row.medium, outcome: 'given_up' });
        return null;
      }
      return this.apply(row, null, { state: 'failed', permanent: false, answer });
    }
    // Rendering took time (data, documents): the lease is renewed right before the send, and only
    // while it is still ours; else another process took the row over and sends it itself.
    const leaseUntil = new Date(Date.now() + this.leaseMs);
    const renewed = await this.o
      .db(NOTIFICATIONS)
      .where({ id: row.id, lease_token: row.token, state: 'pending' })
      .update({ lease_until: dbTime(leaseUntil), updated_at: dbTime() });
    if (renewed === 0) {
      log.info({ notificationId: row.id }, 'notification lease lost while rendering; not sent here');
      return leaseUntil;
    }
    let outcome: SendOutcome;
    try {
      outcome = await sender.send(outgoing);
    } catch (err) {
      outcome = {
        state: 'failed',
        permanent: false,
        answer: `sender error: ${(err as Error).message}`.slice(0, 1000),
      };
    }
    return this.apply(row, outgoing.subject, outcome);
  }

  /** Records an outcome; `renderedSubject` null: nothing was rendered (the row's subject is kept). */
  private async apply(
    row: Claimed,
    renderedSubject: string | null,
    outcome: SendOutcome,
  ): Promise<Date | null> {
    const subject = renderedSubject?.slice(0, 500) ?? row.subject;
    switch (outcome.state) {
      case 'sent': {
        const recorded = await this.record(row, {
          state: 'sent',
          reason: null,
          subject,
          attempts: row.attempts + 1,
          provider_answer: outcome.answer?.slice(0, 1000) ?? null,
          provider_reference: outcome.providerReference?.slice(0, 255) ?? null,
          sent_at: dbTime(),
        });
        if (recorded) await onDocumentSent(this.o.db, row, this.o.log);
        return null;
      }
      case 'suppressed':
        await this.record(row, { state: 'suppressed', reason: outcome.reason.slice(0, 500), subject });
        return null;
      case 'deferred':
        await this.record(row, {
          reason: outcome.reason.slice(0, 500),
          next_attempt_at: dbTime(outcome.until),
          subject,
        });
        return outcome.until;
      case 'failed': {
        const attempts = row.attempts + 1;
        const answer = outcome.answer.slice(0, 1000);
        if (outcome.permanent) {
          // The address first: once the row says failed, the suppression is there. Only when the
          // provider refused the address itself; other permanent failures fail this one only.
          if (outcome.suppressAddress === true && row.medium !== 'webhook')
            await suppress(this.o.db, row.medium, row.recipientKey, answer, row.id);
          const recorded = await this.record(row, {
            state: 'failed',
            reason: 'the provider refused it for good',
            attempts,
            provider_answer: answer,
            subject,
          });
          if (recorded) notificationFailures.inc({ medium: row.medium, outcome: 'given_up' });
          return null;
        }
        // Retried at the backoff cap for as long as the notification is young enough (a weekend's
        // outage loses nothing); given up once it is older than giveUpAfterMs.
        if (Date.now() - new Date(row.createdAt).getTime() >= this.giveUpAfterMs) {
          const recorded = await this.record(row, {
            state: 'failed',
            reason: `gave up after ${attempts} attempts over ${Math.round(this.giveUpAfterMs / 3600_000)} h`,
            attempts,
            provider_answer: answer,
            subject,
          });
          if (recorded) notificationFailures.inc({ medium: row.medium, outcome: 'given_up' });
          return null;
        }
        const until = outcome.retryAt ?? new Date(Date.now() + this.backoff(attempts));
        const recorded = await this.record(row, {
          reason: 'retrying',
          attempts,
          provider_answer: answer,
          next_attempt_at: dbTime(until),
          subject,
        });
        if (recorded) notificationFailures.inc({ medium: row.medium, outcome: 'failed_attempt' });
        return until;
      }
    }
  }

  /** The notification rendered, as its sender gets it. */
  async render(row: NotificationRow): Promise<OutgoingNotification> {
    const { db, templates } = this.o;
    const data = await templateData(
      db,
      {
        event: row.event,
        orderId: row.orderId,
        customerId: row.customerId,
        language: row.language,
        toContact: row.data.toContact === true || (row.orderId !== null && (await this.isContact(row))),
        data: row.data,
      },
      this.o.statusLink,
    );
    const message = templates.render(row.event as NotificationEvent, row.language, data);
    const attachments: NotificationAttachment[] = await documentAttachments(db, row, this.o);
    return {
      id: row.id,
      medium: row.medium,
      event: row.event,
      recipient: row.recipient,
      language: row.language,
      timeZone: row.timeZone,
      subject: message.subject,
      text: message.text,
      html: row.medium === 'email' ? message.html : null,
      data: { ...row.data, event: row.event, orderId: row.orderId, statusLink: data.statusLink ?? null },
      messageId: row.messageId,
      attachments,
      attempt: row.attempts,
    };
  }

  /** Whether the recipient is the order's own contact (the greeting and the status link are theirs). */
  private async isContact(row: NotificationRow): Promise<boolean> {
    const o = await this.o.db('orders').where({ id: row.orderId! }).first('contact_email', 'contact_phone');
    if (!o) return false;
    const r = row.recipientKey.toLowerCase();
    return (o.contact_email ?? '').toLowerCase() === r || (o.contact_phone ?? '') === row.recipientKey;
  }

  /**
   * Pending notifications that are due and held by no one (their job was lost: Redis flushed, a
   * worker killed), grouped as the dispatcher takes them. Only rows older than `graceMs`.
   */
  async duePending(graceMs: number, limit = 500) {
    const now = new Date();
    const rows = await this.o
      .db(NOTIFICATIONS)
      .where('state', 'pending')
      .where('next_attempt_at', '<=', dbTime(now))
      .where('created_at', '<=', dbTime(new Date(now.getTime() - graceMs)))
      .where((w) => w.whereNull('lease_until').orWhere('lease_until', '<', dbTime(now)))
      .orderBy('id')
      .limit(limit)
      .select('id', 'order_id', 'attempts');
    return groupsOf(
      rows.map((r) => ({ id: Number(r.id), orderId: r.order_id === null ? null : Number(r.order_id) })),
    );
  }
}

/** The dispatch groups of these notifications: one per order, one per notification of no order. */
export function groupsOf(
  items: readonly { id: number; orderId: number | null }[],
): (DispatchJob & { firstId: number; lastId: number })[] {
  const byKey = new Map<string, DispatchJob & { firstId: number; lastId: number }>();
  for (const i of items) {
    const key = i.orderId !== null ? `o${i.orderId}` : `n${i.id}`;
    const g = byKey.get(key);
    if (g) {
      g.firstId = Math.min(g.firstId, i.id);
      g.lastId = Math.max(g.lastId, i.id);
    } else
      byKey.set(key, {
        ...(i.orderId !== null ? { orderId: i.orderId } : { notificationId: i.id }),
        firstId: i.id,
        lastId: i.id,
      });
  }
  return [...byKey.values()];
}

const groupKey = (g: DispatchJob) => (g.orderId !== undefined ? `o${g.orderId}` : `n${g.notificationId}`);

const jobOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};

/** The notifications queue: one job per order (or notification) and batch, under ids that dedupe replays. */
export class DispatchQueue {
  readonly queue: Queue<DispatchJob>;

  constructor(connection: RedisConnection, prefix: string) {
    this.queue = new Queue<DispatchJob>(NOTIFY_QUEUE, { connection, prefix });
    this.queue.on('error', () => {});
  }

  /** After a fan-out: a job per group, keyed on the newest notification (a replay adds nothing new). */
  async made(items: readonly { id: number; orderId: number | null }[]): Promise<void> {
    const groups = groupsOf(items);
    if (groups.length === 0) return;
    await this.queue.addBulk(
      groups.map((g) => ({
        name: 'dispatch',
        data: g.orderId !== undefined ? { orderId: g.orderId } : { notificationId: g.notificationId! },
        opts: { ...jobOptions, jobId: `${groupKey(g)}-m${g.lastId}` },
      })),
    );
  }

  /** A group found pending by the sweep: one job while it waits (same id until the rows move on). */
  async swept(groups: readonly (DispatchJob & { firstId: number })[], stamp: string): Promise<void> {
    if (groups.length === 0) return;
    await this.queue.addBulk(
      groups.map((g) => ({
        name: 'dispatch',
        data: g.orderId !== undefined ? { orderId: g.orderId } : { notificationId: g.notificationId! },
        opts: { ...jobOptions, jobId: `${groupKey(g)}-s${g.firstId}-${stamp}` },
      })),
    );
  }

  /** A group to look at again when its next notification is due. */
  async later(group: DispatchJob, at: Date): Promise<void> {
    await this.queue.add('dispatch', group, {
      ...jobOptions,
      jobId: `${groupKey(group)}-t${at.getTime()}`,
      delay: Math.max(0, at.getTime() - Date.now()),
    });
  }

  close() {
    return this.queue.close();
  }
}

/** The worker of the notifications queue. */
export function startDispatchWorker(options: {
  connection: RedisConnection;
  prefix: string;
  dispatcher: NotificationDispatcher;
  queue: DispatchQueue;
  log: Logger;
  concurrency?: number;
}): Worker<DispatchJob> {
  const { dispatcher, queue, log } = options;
  const worker = new Worker<DispatchJob>(
    NOTIFY_QUEUE,
    async (job: Job<DispatchJob>) => {
      const next = await dispatcher.dispatch(job.data);
      if (next) await queue.later(job.data, next).catch(() => {});
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 8,
      // A sending holds its rows by lease; the job lock only has to outlast one group's sends.
      lockDuration: Math.max(30_000, dispatcher.leaseMs),
    },
  );
  worker.on('error', (err) => log.debug({ err: err.message }, 'notifications worker error'));
  worker.on('failed', (job, err) =>
    log.warn({ jobId: job?.id, err: err.message }, 'notification dispatch failed'),
  );
  return worker;
}
