import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import { createMailTransport, type MailSettings } from '../mail/transport.js';
import type { RedisConnection } from '../queue/redis.js';
import { startLoop } from '../queue/relay.js';
import type { NotificationMedium, NotificationSender } from './contract.js';
import { type DispatchQueue, NotificationDispatcher, startDispatchWorker } from './dispatch.js';
import { documentNotifications } from './documents.js';
import { emailSender } from './email-sender.js';
import { messageIdHost } from './message-id.js';
import { ensureDefaultRules } from './rules.js';
import type { StatusLink } from './template-data.js';
import { Templates } from './templates.js';
import { watchEvents } from './watch.js';

/**
 * The built-in senders: e-mail when SMTP is configured (SMS and webhook senders are added to the
 * map beside it); `close` ends the SMTP pool's connections.
 */
export function builtinSenders(mail: MailSettings): {
  senders: Map<NotificationMedium, NotificationSender>;
  close(): void;
} {
  const senders = new Map<NotificationMedium, NotificationSender>();
  const transport = createMailTransport(mail);
  if (transport) senders.set('email', emailSender({ transport, from: mail.from }));
  return { senders, close: () => transport?.close() };
}

export interface NotificationsOptions {
  db: Db;
  log: Logger;
  /** The worker's Redis connection (BullMQ worker). */
  connection: RedisConnection;
  queue: DispatchQueue;
  prefix: string;
  /** The From address (Message-ID host). */
  mailFrom: string;
  senders: Map<NotificationMedium, NotificationSender>;
  /** Folder of template overrides (`config/templates`); null: built-ins only. */
  templatesDir: string | null;
  outputDir: string;
  timeZone: string;
  statusLink?: StatusLink;
  /** How often pending work, failed jobs, failing channels and issued documents are looked for (ms). */
  sweepMs: number;
  leaseMs: number;
  retryBaseMs: number;
  /** How long a temporarily failing notification is retried (ms); default 7 days. */
  giveUpAfterMs?: number;
  concurrency?: number;
}

/**
 * The notifications part of the worker role: the dispatch worker, and a sweep that queues pending
 * notifications whose job was lost and makes the notifications of watched events and issued
 * documents. (The fan-out of outbox messages runs in the relay: `notificationOutboxHandlers`.)
 */
export async function startNotifications(
  o: NotificationsOptions,
): Promise<{ worker: Worker; stopSweep(): Promise<void>; stop(): Promise<void> }> {
  await ensureDefaultRules(o.db);
  const host = messageIdHost(o.mailFrom);
  const dispatcher = new NotificationDispatcher({
    db: o.db,
    log: o.log,
    senders: o.senders,
    templates: new Templates(o.templatesDir),
    ...(o.statusLink ? { statusLink: o.statusLink } : {}),
    outputDir: o.outputDir,
    timeZone: o.timeZone,
    leaseMs: o.leaseMs,
    retryBaseMs: o.retryBaseMs,
    ...(o.giveUpAfterMs !== undefined ? { giveUpAfterMs: o.giveUpAfterMs } : {}),
  });
  const worker = startDispatchWorker({
    connection: o.connection,
    prefix: o.prefix,
    dispatcher,
    queue: o.queue,
    log: o.log,
    concurrency: o.concurrency,
  });
  const sweep = async () => {
    await o.queue.made(await watchEvents(o.db, host));
    await o.queue.made(await documentNotifications(o.db, host));
    await o.queue.swept(await dispatcher.duePending(Math.min(o.sweepMs, 5000)), 'sweep');
  };
  const loop = startLoop('notifications', o.sweepMs, sweep, o.log);
  return {
    worker,
    stopSweep: () => loop.stop(),
    async stop() {
      await loop.stop();
      await worker.close();
    },
  };
}
