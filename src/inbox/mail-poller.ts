import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { type ParsedMail, simpleParser } from 'mailparser';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { bilingual } from '../../connectors/excel-inbox/bilingual.js';
import { resultFileName } from '../../connectors/excel-inbox/result-workbook.js';
import { emailKey } from '../customers/order-customer.js';
import type { Db } from '../db/connection.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';
import { startLoop } from '../queue/relay.js';
import { safeFileName } from './file-name.js';
import { type ImportSummary, importOrderFile } from './import-file.js';
import { MAIL_LEASE_MS, takeInboxLease } from './mail-inbox-lease.js';
import { listMailInboxes, MAIL_MESSAGES, type MailInbox, recordPoll } from './mail-inbox-store.js';
import {
  claimMessage,
  holdMessage,
  type MailMessageRecord,
  messageById,
  messagesByUid,
  moveUnfinishedMessage,
  recordMessageError,
  recordReply,
  type StoredReply,
  setMessageState,
} from './mail-messages.js';
import {
  importedText,
  noAttachmentText,
  type ReplyLanguage,
  replyMessageId,
  replyReferences,
  replySubject,
  tooLargeText,
} from './mail-reply.js';

export interface MailPollerOptions {
  db: Db;
  intake: IntakeBatcher;
  /** STOCKBRIDGE_SECRET_KEY: opens the inboxes' passwords. */
  secretKey: Buffer;
  /** The shared SMTP transport (src/mail/transport.ts); null: mail is not configured, nothing is polled. */
  transport: Transporter | null;
  /** The replies' From (STOCKBRIDGE_MAIL_FROM). */
  from: string;
  /** Where result workbooks are kept (STOCKBRIDGE_OUTPUT_DIR). */
  outputDir: string;
  log: Logger;
  /** Currency of rows that name none, when neither the inbox nor the customer has one. Default: the parser's. */
  defaultCurrency?: string | undefined;
  /** Largest message downloaded (bytes); a larger one is answered saying so. Default 30 MiB. */
  maxMessageBytes?: number;
  /** How often the inboxes are looked at (ms). Default 30,000. */
  intervalMs?: number;
  /**
   * How long an inbox lease lasts without renewal (ms); renewed every third of it while a poll
   * runs. A poller that died frees its inbox after this. Default 30,000 (`MAIL_LEASE_MS`).
   */
  leaseMs?: number;
}

/** The largest message downloaded (bytes): an order sheet may have 20 MiB, base64 makes that 27 MB. */
export const MAX_MESSAGE_BYTES = 30 * 1024 * 1024;

/** Messages seen only by their headers, being larger than allowed, with their size. */
const tooLarge = new WeakMap<ParsedMail, number>();

/** The attachments read as order sheets. */
const ORDER_SHEET = /\.(xlsx|csv)$/i;

/** What one poll of an inbox did. */
export interface PollSummary {
  seen: number;
  imported: number;
  held: number;
  replied: number;
  moved: number;
  failed: number;
}

interface SenderCustomer {
  id: number;
  code: string;
  language: ReplyLanguage;
  currency: string | null;
}

/** The trade customer whose contact has this e-mail address (the oldest, when several have it). */
async function customerOfSender(db: Db, address: string): Promise<SenderCustomer | null> {
  const row = await db('customer_contacts as cc')
    .join('customers as c', 'c.id', 'cc.customer_id')
    .where('cc.email', emailKey(address))
    .whereNotNull('c.code')
    .orderBy('c.id')
    .first('c.id', 'c.code', 'c.language', 'c.currency');
  if (!row) return null;
  const language = row.language === 'zh-CN' || row.language === 'en' ? row.language : null;
  return {
    id: Number(row.id),
    code: String(row.code),
    language,
    currency: (row.currency as string | null) ?? null,
  };
}

function imapClient(inbox: MailInbox): ImapFlow {
  const client = new ImapFlow({
    host: inbox.host,
    port: inbox.port,
    secure: inbox.tls === 'tls',
    doSTARTTLS: inbox.tls === 'starttls' ? true : inbox.tls === 'none' ? false : undefined,
    auth: { user: inbox.username, pass: inbox.password },
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    socketTimeout: 120_000,
  });
  // Errors surface through the calls; without a listener an idle socket error would crash the process.
  client.on('error', () => {});
  return client;
}

/** A message's sender, subject and ids as a record needs them. */
function headersOf(parsed: ParsedMail) {
  const from = parsed.from?.value.find((a) => a.address)?.address ?? null;
  return {
    fromAddress: from ? from.trim() : null,
    subject: parsed.subject ?? null,
    messageId: parsed.messageId ?? null,
  };
}

/**
 * Reads one inbox: every message in its folder, oldest first, is recorded (UID with UIDVALIDITY,
 * and Message-ID) before anything is done with it, then imported as its sender's customer (or held,
 * for an unknown sender), answered, and moved to the processed folder. Each step is written down
 * when done, so that a process killed anywhere takes the message up again where it stopped: the
 * import is never repeated (the orders are keyed by customer and order number and found again,
 * reported as this import's own), and the reply is sent again at most once, with the same
 * Message-ID. `renew` is called between messages; when it says the lease is lost the poll stops.
 */
export async function pollInbox(
  options: MailPollerOptions,
  inbox: MailInbox,
  renew: () => Promise<boolean> = async () => true,
): Promise<PollSummary> {
  const summary: PollSummary = { seen: 0, imported: 0, held: 0, replied: 0, moved: 0, failed: 0 };
  const log = options.log.child({ inbox: inbox.id });
  const client = imapClient(inbox);
  await client.connect();
  try {
    const folders = await client.list();
    if (!folders.some((f) => f.path === inbox.processedFolder)) {
      await client.mailboxCreate(inbox.processedFolder).catch((err: Error) => {
        // Created meanwhile by another client: fine.
        if (!/exist/i.test(String((err as { responseText?: string }).responseText ?? err.message))) throw err;
      });
    }
    const lock = await client.getMailboxLock(inbox.folder);
    try {
      const mailbox = client.mailbox;
      if (!mailbox) throw new Error(`folder ${inbox.folder} could not be opened`);
      const uidValidity = Number(mailbox.uidValidity);
      const found = await client.search({ all: true }, { uid: true });
      const uids = (Array.isArray(found) ? found : []).sort((a, b) => a - b);
      const records = await messagesByUid(options.db, inbox.id, uidValidity, uids);
      for (const uid of uids) {
        if (!(await renew())) {
          log.warn('mail inbox lease lost: stopping this poll');
          break;
        }
        summary.seen++;
        try {
          await handleMessage(options, client, inbox, uidValidity, uid, records.get(uid), summary, log);
        } catch (err) {
          summary.failed++;
          log.warn(
            { uid, err: (err as Error).message },
            'mail message could not be handled; tried again next poll',
          );
        }
      }
      // Replies written down for messages no longer in the folder (moved by hand, or moved just
      // before the process died): sent (once) and closed.
      const listed = new Set(uids);
      const open = await options
        .db(MAIL_MESSAGES)
        .where({ inbox_id: inbox.id })
        .whereIn('state', ['reply_pending', 'replied'])
        .select('id', 'uid', 'uid_validity');
      for (const row of open) {
        if (Number(row.uid_validity) === uidValidity && listed.has(Number(row.uid))) continue;
        const record = await messageById(options.db, Number(row.id));
        try {
          if (record.state === 'reply_pending' && (await sendReply(options, record))) summary.replied++;
          await setMessageState(options.db, record.id, 'done');
        } catch (err) {
          summary.failed++;
          await recordMessageError(options.db, record.id, (err as Error).message);
        }
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return summary;
}

async function handleMessage(
  options: MailPollerOptions,
  client: ImapFlow,
  inbox: MailInbox,
  uidValidity: number,
  uid: number,
  known: MailMessageRecord | undefined,
  summary: PollSummary,
  log: Logger,
): Promise<void> {
  let record = known;
  let parsed: ParsedMail | null = null;
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const fetchParsed = async (): Promise<ParsedMail> => {
    const sized = await client.fetchOne(String(uid), { size: true }, { uid: true });
    if (sized === false) throw new Error(`message ${uid} could not be fetched`);
    if ((sized.size ?? 0) > maxBytes) {
      // Not downloaded: its headers are enough to know the sender and answer.
      const head = await client.fetchOne(String(uid), { headers: true }, { uid: true });
      if (head === false || !head.headers) throw new Error(`message ${uid} could not be fetched`);
      const parsed = await simpleParser(Buffer.concat([head.headers, Buffer.from('\r\n')]));
      tooLarge.set(parsed, sized.size ?? 0);
      return parsed;
    }
    const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
    if (message === false || !message.source) throw new Error(`message ${uid} could not be fetched`);
    return simpleParser(message.source);
  };
  if (!record) {
    parsed = await fetchParsed();
    const { record: claimed, created } = await claimMessage(options.db, {
      inboxId: inbox.id,
      uidValidity,
      uid,
      ...headersOf(parsed),
    });
    if (!created && (claimed.uid !== uid || claimed.uidValidity !== uidValidity)) {
      // The same message (by Message-ID) was taken before under another UID: a copy. Processed once.
      if (claimed.state === 'done' || claimed.state === 'replied') {
        await moveToProcessed(client, inbox, uid);
        summary.moved++;
        log.info({ uid, messageId: claimed.messageId }, 'copy of a message processed before: moved');
        return;
      }
      // Never finished (died mid-import, or released by retry) and now under a new UID (moved by
      // hand, the folder renumbered): taken up here, else it would wait forever under the old one.
      if (
        claimed.state !== 'processing' ||
        !(await moveUnfinishedMessage(options.db, claimed.id, { uidValidity, uid }))
      )
        return;
      log.info({ uid, messageId: claimed.messageId }, 'unfinished message found under a new UID: taken up');
      record = await messageById(options.db, claimed.id);
    } else record = claimed;
  }
  if (record.state === 'held') return;
  if (record.state === 'processing') {
    let outcome: 'held' | 'reply_pending';
    try {
      parsed ??= await fetchParsed();
      outcome = await processMessage(options, inbox, record, parsed, log);
    } catch (err) {
      // Kept for a person to see (GET /api/mail-inboxes/{id}/messages); the next poll tries again.
      await recordMessageError(options.db, record.id, (err as Error).message).catch(() => {});
      throw err;
    }
    if (outcome === 'held') {
      summary.held++;
      return;
    }
    summary.imported++;
    record = await messageById(options.db, record.id);
  }
  if (record.state === 'reply_pending') {
    if (!(await sendReply(options, record))) return;
    summary.replied++;
    record = await messageById(options.db, record.id);
  }
  if (record.state === 'replied' || record.state === 'done') {
    await moveToProcessed(client, inbox, uid);
    await setMessageState(options.db, record.id, 'done');
    summary.moved++;
  }
}

async function moveToProcessed(client: ImapFlow, inbox: MailInbox, uid: number): Promise<void> {
  const moved = await client.messageMove(String(uid), inbox.processedFolder, { uid: true });
  if (moved === false) throw new Error(`message ${uid} could not be moved to ${inbox.processedFolder}`);
}

/**
 * What a recorded message comes to: held (unknown sender), or imported (or found without an order
 * sheet) with its reply written down (`reply_pending`).
 */
async function processMessage(
  options: MailPollerOptions,
  inbox: MailInbox,
  record: MailMessageRecord,
  parsed: ParsedMail,
  log: Logger,
): Promise<'held' | 'reply_pending'> {
  const { fromAddress, subject, messageId } = headersOf(parsed);
  const attachments = parsed.attachments.filter((a) => a.contentDisposition !== 'inline' || a.filename);
  const names = attachments.map((a) => safeFileName(a.filename ?? 'attachment'));
  const customer = fromAddress ? await customerOfSender(options.db, fromAddress) : null;
  if (!customer) {
    const reason = fromAddress
      ? bilingual(
          `the sender ${fromAddress} is not a contact of any customer: add the address to the customer's ` +
            'contacts, then have the order sent again; nothing was imported and no reply was sent',
          `发件人 ${fromAddress} 不是任何客户的联系人：请将该地址添加到客户的联系人中，然后请客户重新发送订单；未导入任何内容，也未回复`,
        )
      : bilingual(
          'the message has no sender address; nothing was imported and no reply was sent',
          '邮件没有发件人地址；未导入任何内容，也未回复',
        );
    await holdMessage(options.db, record, reason, {
      inbox: inbox.id,
      uidValidity: record.uidValidity,
      uid: record.uid,
      messageId,
      from: fromAddress,
      subject,
      date: parsed.date?.toISOString() ?? null,
      attachments: names,
    });
    log.info({ uid: record.uid, messageRecord: record.id }, 'mail from an unknown sender held');
    return 'held';
  }

  const oversize = tooLarge.get(parsed);
  const sheets = attachments.filter((a) => ORDER_SHEET.test(a.filename ?? ''));
  const dir = path.join('mail-inboxes', String(inbox.id), String(record.id));
  const files: ImportSummary[] = [];
  const results: StoredReply['attachments'] = [];
  for (const [i, sheet] of sheets.entries()) {
    const fileName = safeFileName(sheet.filename ?? `sheet-${i + 1}.xlsx`);
    const relative = path.join(dir, String(i + 1), resultFileName(fileName));
    await mkdir(path.dirname(path.join(options.outputDir, relative)), { recursive: true });
    const currency = inbox.defaultCurrency ?? customer.currency ?? options.defaultCurrency;
    const { summary } = await importOrderFile(
      options.db,
      options.intake,
      { fileName, data: sheet.content },
      {
        senderCustomer: customer.code,
        actor: `mail:${inbox.id}:${record.id}:${i + 1}`,
        resultPath: path.join(options.outputDir, relative),
        ...(currency ? { defaultCurrency: currency } : {}),
      },
    );
    files.push(summary);
    results.push({ fileName: resultFileName(fileName), path: relative });
  }
  const to = fromAddress as string;
  const reply: StoredReply = {
    to,
    subject: replySubject(subject),
    text:
      oversize !== undefined
        ? tooLargeText(customer.language, oversize, options.maxMessageBytes ?? MAX_MESSAGE_BYTES)
        : sheets.length > 0
          ? importedText(customer.language, files)
          : noAttachmentText(customer.language, names),
    messageId: replyMessageId(inbox.id, record, options.from),
    ...(messageId ? { inReplyTo: messageId } : {}),
    references: replyReferences(parsed.references, messageId),
    attachments: results,
  };
  await recordReply(options.db, record.id, {
    outcome: oversize !== undefined ? 'too_large' : sheets.length > 0 ? 'imported' : 'no_attachment',
    customerId: customer.id,
    reply,
    summary: files,
  });
  log.info(
    { uid: record.uid, messageRecord: record.id, customer: customer.code, files },
    sheets.length > 0 ? 'mailed order sheets imported' : 'mail without an order sheet',
  );
  return 'reply_pending';
}

/**
 * Sends the reply written down for a message, with its fixed Message-ID, and marks it `replied`.
 * False when it could not be sent now (kept `reply_pending`, tried again next poll); a refusal for
 * good (5xx) is recorded and the message goes on to be moved.
 */
async function sendReply(options: MailPollerOptions, record: MailMessageRecord): Promise<boolean> {
  const reply = record.reply;
  if (!reply || !options.transport) return false;
  try {
    await options.transport.sendMail({
      from: options.from,
      to: reply.to,
      subject: reply.subject,
      text: reply.text,
      messageId: reply.messageId,
      ...(reply.inReplyTo ? { inReplyTo: reply.inReplyTo } : {}),
      ...(reply.references?.length ? { references: reply.references } : {}),
      attachments: reply.attachments.map((a) => ({
        filename: a.fileName,
        path: path.join(options.outputDir, a.path),
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      })),
    });
  } catch (err) {
    const code = Number((err as { responseCode?: number }).responseCode);
    await recordMessageError(options.db, record.id, `reply not sent: ${(err as Error).message}`);
    if (code >= 500 && code < 600) {
      await setMessageState(options.db, record.id, 'replied');
      await recordMessageError(options.db, record.id, `reply refused for good: ${(err as Error).message}`);
      return true;
    }
    return false;
  }
  await setMessageState(options.db, record.id, 'replied');
  return true;
}

/**
 * One pass over every enabled inbox: each is polled by the one process that takes its lease (several
 * daemons may run this at once), and its poll recorded (time, error).
 */
export async function pollMailInboxes(options: MailPollerOptions): Promise<void> {
  const inboxes = (await listMailInboxes(options.db, options.secretKey)).filter((i) => i.enabled);
  for (const inbox of inboxes) {
    const leaseMs = options.leaseMs ?? MAIL_LEASE_MS;
    const lease = await takeInboxLease(options.db, inbox.id, leaseMs);
    if (!lease) continue;
    // Renewed on a timer while the poll runs (a big sheet takes a while), so that the lease can be
    // short and an inbox whose poller died is taken up again soon.
    let lost = false;
    const heartbeat = setInterval(() => {
      lease.renew().then(
        (kept) => {
          if (!kept) lost = true;
        },
        () => {},
      );
    }, leaseMs / 3);
    try {
      if (!options.transport) {
        await recordPoll(
          options.db,
          inbox.id,
          'STOCKBRIDGE_SMTP_URL is not set: e-mailed orders are not read until replies can be sent',
        );
        continue;
      }
      await pollInbox(options, inbox, async () => !lost);
      await recordPoll(options.db, inbox.id, null);
    } catch (err) {
      const message = (err as { responseText?: string }).responseText ?? (err as Error).message;
      options.log.warn({ inbox: inbox.id, err: message }, 'mail inbox could not be read');
      await recordPoll(options.db, inbox.id, message).catch(() => {});
    } finally {
      clearInterval(heartbeat);
      await lease.release().catch(() => {});
    }
  }
}

/** Polls the mail inboxes on a timer (worker role). */
export function startMailPoller(options: MailPollerOptions): { stop(): Promise<void> } {
  return startLoop('mail-inboxes', options.intervalMs ?? 30_000, () => pollMailInboxes(options), options.log);
}
