import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createMailTransport } from '../../src/mail/transport.js';
import type { NotificationMedium, NotificationSender } from '../../src/notify/contract.js';
import { DispatchQueue, NotificationDispatcher, startDispatchWorker } from '../../src/notify/dispatch.js';
import { documentNotifications } from '../../src/notify/documents.js';
import { emailSender } from '../../src/notify/email-sender.js';
import { messageIdHost } from '../../src/notify/message-id.js';
import { notificationOutboxHandlers } from '../../src/notify/outbox-handlers.js';
import { ensureDefaultRules } from '../../src/notify/rules.js';
import { Templates } from '../../src/notify/templates.js';
import { watchEvents } from '../../src/notify/watch.js';
import { fillBackorders } from '../../src/orders/backorders.js';
import { outboxHandlers } from '../../src/outbox/handlers.js';
import { producerConnection, workerConnection } from '../../src/queue/redis.js';
import { Relay, startLoop } from '../../src/queue/relay.js';
import { TEST_REDIS_URL } from './db.js';
import { silentLog, type TestStack } from './stack.js';

export const MAIL_FROM = 'Stockbridge <orders@shop.example>';

export interface NotifyHarness {
  dispatcher: NotificationDispatcher;
  queue: DispatchQueue;
  relay: Relay;
  /** Runs the relay, the documents/watch scan and the pending sweep once. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The worker role's notification parts in this process, over a test stack: a relay with the
 * notification handlers, the dispatch queue and worker with the e-mail sender, and loops that run
 * the relay and the sweep.
 */
export async function startNotifyHarness(
  stack: TestStack,
  options: { smtpUrl: string; templatesDir?: string | null; outputDir?: string; loopMs?: number },
): Promise<NotifyHarness> {
  await ensureDefaultRules(stack.db);
  const producer: Redis = producerConnection(TEST_REDIS_URL);
  const conn: Redis = workerConnection(TEST_REDIS_URL);
  const queue = new DispatchQueue(producer, stack.prefix);
  const host = messageIdHost(MAIL_FROM);
  const transport = createMailTransport({ smtpUrl: options.smtpUrl, from: MAIL_FROM })!;
  const senders = new Map<NotificationMedium, NotificationSender>([
    ['email', emailSender({ transport, from: MAIL_FROM })],
  ]);
  const dispatcher = new NotificationDispatcher({
    db: stack.db,
    log: silentLog,
    senders,
    templates: new Templates(options.templatesDir ?? null),
    outputDir: options.outputDir ?? '/tmp',
    timeZone: 'UTC',
    leaseMs: 5000,
    retryBaseMs: 300,
  });
  const relay = new Relay({
    db: stack.db,
    log: silentLog,
    enqueueOrders: (ids) => stack.queues.enqueueOrders(ids),
    graceMs: 0,
    handlers: outboxHandlers({
      fillBackorders: (skuIds) => fillBackorders(stack.db, skuIds, 'relay'),
      notifications: notificationOutboxHandlers({ host, requestDispatch: (items) => queue.made(items) }),
    }),
  });
  const worker: Worker = startDispatchWorker({
    connection: conn,
    prefix: stack.prefix,
    dispatcher,
    queue,
    log: silentLog,
  });
  const tick = async () => {
    await relay.tick();
    await queue.made(await watchEvents(stack.db, host));
    await queue.made(await documentNotifications(stack.db, host));
    await queue.swept(await dispatcher.duePending(200), 'sweep');
  };
  const loop = startLoop('notify-test', options.loopMs ?? 100, tick, silentLog);
  return {
    dispatcher,
    queue,
    relay,
    tick,
    async close() {
      await loop.stop();
      await worker.close();
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      transport.close();
      producer.disconnect();
      conn.disconnect();
    },
  };
}
