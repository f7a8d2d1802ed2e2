import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTime, isoTime } from '../../src/db/connection.js';
import type {
  NotificationMedium,
  NotificationSender,
  OutgoingNotification,
  SendOutcome,
} from '../../src/notify/contract.js';
import { type DispatcherOptions, NotificationDispatcher } from '../../src/notify/dispatch.js';
import { documentNotifications } from '../../src/notify/documents.js';
import {
  insertNotifications,
  NOTIFICATIONS,
  type NotificationRow,
  toNotification,
} from '../../src/notify/store.js';
import { Templates } from '../../src/notify/templates.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog } from '../helpers/stack.js';
import { insertDocument } from '../helpers/statement-fixtures.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 5 });
}, 60_000);

afterAll(async () => {
  await t?.drop();
});

/** An e-mail sender that answers what it is told and counts what it was handed. */
function fakeSender(answer: () => SendOutcome) {
  const sent: OutgoingNotification[] = [];
  const sender: NotificationSender = {
    medium: 'email',
    async send(n) {
      sent.push(n);
      return answer();
    },
  };
  return { sender, sent };
}

function options(sender: NotificationSender, more: Partial<DispatcherOptions> = {}): DispatcherOptions {
  return {
    db: t.db,
    log: silentLog,
    senders: new Map<NotificationMedium, NotificationSender>([['email', sender]]),
    templates: new Templates(null),
    outputDir: '/tmp',
    timeZone: 'UTC',
    leaseMs: 60_000,
    retryBaseMs: 1000,
    ...more,
  };
}

let seq = 0;
async function aNotification(): Promise<number> {
  seq += 1;
  const [made] = await insertNotifications(
    t.db,
    [
      {
        sourceKey: `test:${Date.now()}:${seq}`,
        ruleId: 1,
        event: 'job.failed',
        medium: 'email',
        recipient: `ops${seq}@shop.example`,
        orderId: null,
        customerId: null,
        language: 'en',
        timeZone: null,
        data: { jobName: 'nightly', message: 'boom' },
      },
    ],
    (key) => `<${key.replace(/[^a-z0-9]/gi, '')}@shop.example>`,
  );
  return made!.id;
}

const rowOf = async (id: number) => toNotification(await t.db(NOTIFICATIONS).where({ id }).first());

describe('the lease before the send', () => {
  it('does not send when another process took the row over while it was being rendered', async () => {
    const id = await aNotification();
    const { sender, sent } = fakeSender(() => ({ state: 'sent', answer: '250 ok' }));
    // While this process renders, its lease runs out and another process claims the row.
    class SlowRender extends NotificationDispatcher {
      override async render(row: NotificationRow) {
        const out = await super.render(row);
        await t
          .db(NOTIFICATIONS)
          .where({ id: row.id })
          .update({ lease_token: 'another-process', lease_until: dbTime(new Date(Date.now() + 60_000)) });
        return out;
      }
    }
    await new SlowRender(options(sender)).dispatch({ notificationId: id });
    expect(sent).toHaveLength(0);
    const row = await t.db(NOTIFICATIONS).where({ id }).first();
    expect(row.state).toBe('pending');
    expect(row.lease_token).toBe('another-process');
    expect(row.attempts).toBe(0);
  });

  it('sends when the lease is still its own, and renews it before the send', async () => {
    const id = await aNotification();
    let leaseAtSend: Date | null = null;
    const sender: NotificationSender = {
      medium: 'email',
      async send() {
        const r = await t.db(NOTIFICATIONS).where({ id }).first('lease_until');
        leaseAtSend = new Date(isoTime(r.lease_until)!);
        return { state: 'sent', answer: '250 ok' };
      },
    };
    const before = Date.now();
    await new NotificationDispatcher(options(sender, { leaseMs: 3_600_000 })).dispatch({
      notificationId: id,
    });
    expect((await rowOf(id)).state).toBe('sent');
    expect(leaseAtSend).not.toBeNull();
    expect(leaseAtSend!.getTime()).toBeGreaterThan(before + 3_000_000);
  });
});

describe('temporary failures', () => {
  const temporary = (): SendOutcome => ({ state: 'failed', permanent: false, answer: '451 try again later' });

  it('keeps retrying after many attempts while the notification is young, at most 6 h apart', async () => {
    const id = await aNotification();
    await t.db(NOTIFICATIONS).where({ id }).update({ attempts: 25 });
    const { sender, sent } = fakeSender(temporary);
    const next = await new NotificationDispatcher(options(sender)).dispatch({ notificationId: id });
    expect(sent).toHaveLength(1);
    const row = await rowOf(id);
    expect(row.state).toBe('pending');
    expect(row.attempts).toBe(26);
    expect(next).not.toBeNull();
    // The backoff cap (6 h, ±20 % jitter).
    expect(next!.getTime() - Date.now()).toBeLessThanOrEqual(6 * 3600_000 * 1.2 + 1000);
  });

  it('gives up one that is older than the give-up age, whatever its attempts', async () => {
    const id = await aNotification();
    await t
      .db(NOTIFICATIONS)
      .where({ id })
      .update({ attempts: 3, created_at: dbTime(new Date(Date.now() - 8 * 86_400_000)) });
    const { sender } = fakeSender(temporary);
    expect(await new NotificationDispatcher(options(sender)).dispatch({ notificationId: id })).toBeNull();
    const row = await rowOf(id);
    expect(row.state).toBe('failed');
    expect(row.reason).toContain('gave up after 4 attempts');
  });
});

describe('the documents sweep', () => {
  it('reads invoices of the last 7 days only, and none from before the customer asked for them', async () => {
    const now = new Date();
    const daysAgo = (d: number) => dbTime(new Date(now.getTime() - d * 86_400_000));
    const [customerId] = await t.db('customers').insert({
      code: 'WINDOW',
      name: 'Window Ltd',
      email: 'ap@window.example',
      email_documents_since: daysAgo(30),
      created_at: daysAgo(30),
      updated_at: daysAgo(30),
    });
    const issueDate = now.toISOString().slice(0, 10);
    const old = await insertDocument(t.db, {
      customerId: customerId!,
      type: 'invoice',
      total: 100,
      issueDate,
    });
    const recent = await insertDocument(t.db, {
      customerId: customerId!,
      type: 'invoice',
      total: 200,
      issueDate,
    });
    await t
      .db('invoices')
      .where({ id: old })
      .update({ created_at: daysAgo(10) });
    await t
      .db('invoices')
      .where({ id: recent })
      .update({ created_at: daysAgo(6) });
    // A second customer who asked only now: an invoice from yesterday is not theirs to get.
    const [lateId] = await t.db('customers').insert({
      code: 'LATE',
      name: 'Late Ltd',
      email: 'ap@late.example',
      email_documents_since: dbTime(now),
      created_at: daysAgo(30),
      updated_at: daysAgo(30),
    });
    const before = await insertDocument(t.db, {
      customerId: lateId!,
      type: 'invoice',
      total: 300,
      issueDate,
    });
    await t
      .db('invoices')
      .where({ id: before })
      .update({ created_at: daysAgo(1) });

    await documentNotifications(t.db, 'shop.example', 500, now);
    const sources = (
      await t.db(NOTIFICATIONS).where('source_key', 'like', 'invoice:%').select('source_key')
    ).map((r) => r.source_key);
    expect(sources).toEqual([`invoice:${recent}`]);
  });
});
