import { serve } from '@hono/node-server';
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { scheduledJobs } from '../jobs/index.js';
import { resolveBootstrapSecrets } from './bootstrap-secrets.js';
import { ChannelService } from './channels/channel-service.js';
import { type Config, configWarnings, outputDirOf } from './config.js';
import { setBusinessTimeZone } from './customers/price-book.js';
import { assertDatabaseReachable, createDb, type Db, dbOptionsFrom } from './db/connection.js';
import { migrateLatest } from './db/migrate.js';
import { createApp, DEFAULT_MAX_BODY_BYTES } from './http/app.js';
import { startMetricsServer } from './http/metrics-server.js';
import { serverWithFastPath, webhookFastPath } from './http/webhook-listener.js';
import { startInboxWatcher } from './inbox/folder-watcher.js';
import { startMailPoller } from './inbox/mail-poller.js';
import { createMailTransport, mailSettingsOf } from './mail/transport.js';
import { instrumentWorker, useCachedExposition, watchQueues } from './metrics.js';
import { DispatchQueue } from './notify/dispatch.js';
import { messageIdHost } from './notify/message-id.js';
import { notificationOutboxHandlers } from './notify/outbox-handlers.js';
import { ensureDefaultRules } from './notify/rules.js';
import { builtinSenders, startNotifications } from './notify/service.js';
import { SmsSender } from './notify/sms/index.js';
import { statusLinkFor } from './notify/status-token.js';
import { WebhookSender } from './notify/webhooks/index.js';
import { fillBackorders } from './orders/backorders.js';
import { IntakeBatcher } from './orders/intake-batcher.js';
import { outboxHandlers } from './outbox/handlers.js';
import { startChannelWorker, startPullScheduler } from './queue/channel-worker.js';
import { startEventWorker } from './queue/event-worker.js';
import { IntakePriority } from './queue/intake-priority.js';
import { startOrderWorker } from './queue/order-worker.js';
import { createQueues, type Queues } from './queue/queues.js';
import {
  assertRedisReachable,
  producerConnection,
  type RedisConnection,
  redisReady,
  redisTargetOf,
  workerConnection,
} from './queue/redis.js';
import { Relay, startLoop } from './queue/relay.js';
import { startMaintenanceWorker, startScheduler } from './scheduler.js';

export interface Daemon {
  db: Db;
  queues: Queues;
  /** The HTTP port actually bound (api role), e.g. when PORT=0. */
  port: number | null;
  /** The metrics server's port (worker/scheduler roles with STOCKBRIDGE_METRICS_PORT), else null. */
  metricsPort: number | null;
  /** Stops taking work, finishes in-flight jobs, closes queues, HTTP server and pool. */
  stop(): Promise<void>;
}

/** Where channels reach this daemon (the base of webhook URLs). */
const publicUrlOf = (config: Config) => config.STOCKBRIDGE_PUBLIC_URL ?? `http://localhost:${config.PORT}`;

/** Starts the roles named in the configuration against one database and one Redis. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const roles = new Set(config.STOCKBRIDGE_ROLES);
  for (const warning of configWarnings(config)) log.warn(warning);
  const { adminToken, secretKey } = resolveBootstrapSecrets(config, log);
  const redis = redisTargetOf(config);
  const jobs = scheduledJobs({ heartbeatSeconds: config.STOCKBRIDGE_HEARTBEAT_SECONDS });

  await assertRedisReachable(redis);
  setBusinessTimeZone(config.STOCKBRIDGE_TIME_ZONE);
  const db = createDb(dbOptionsFrom(config));
  try {
    await assertDatabaseReachable(db, dbOptionsFrom(config));
  } catch (err) {
    await db.destroy();
    throw err;
  }
  if (config.STOCKBRIDGE_MIGRATE_ON_START) {
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
  }

  const prefix = config.STOCKBRIDGE_QUEUE_PREFIX;
  const producer = producerConnection(redis);
  producer.on('error', (err) => log.debug({ err: err.message }, 'redis producer connection error'));
  // It fails fast while not connected; let it connect (a cluster: learn the slots) before work comes.
  if (!(await redisReady(producer))) log.warn('redis producer connection not ready yet; going on');
  const queues = createQueues(producer, prefix);
  const notifyQueue = new DispatchQueue(producer, prefix);
  const allQueues = [queues.orders, queues.events, queues.channels, queues.maintenance, notifyQueue.queue];
  watchQueues(allQueues);
  const enqueueOrders = (ids: number[]) => queues.enqueueOrders(ids);
  const intake = new IntakeBatcher(db, enqueueOrders, { log });
  const channels = new ChannelService({
    db,
    log: log.child({ component: 'channels' }),
    secretKey,
    publicUrl: publicUrlOf(config),
    redis: producer,
    prefix,
    enqueueOrders,
    enqueueEvents: (ids) => queues.enqueueEvents(ids),
    requestPush: (channelId) => queues.enqueuePush(channelId, config.STOCKBRIDGE_PUSH_DEBOUNCE_MS),
  });

  // The customer's status page link, put into notifications to the order's own contact.
  const statusLinkOptions = { secretKey, publicUrl: publicUrlOf(config) };
  const statusLink = (orderId: number) => statusLinkFor(db, statusLinkOptions, orderId);

  const closers: Array<() => Promise<void> | void> = [];
  const workerConnections: RedisConnection[] = [];
  let port: number | null = null;

  // With both roles in this process, applying webhook events gives way to receiving them.
  const priority =
    roles.has('api') && roles.has('worker')
      ? new IntakePriority({ maxDeferMs: config.STOCKBRIDGE_APPLY_DEFER_MS })
      : undefined;

  if (roles.has('worker')) {
    const conn = workerConnection(redis);
    conn.on('error', (err) => log.debug({ err: err.message }, 'redis worker connection error'));
    workerConnections.push(conn);
    const workers: Worker[] = [
      startOrderWorker({
        db,
        connection: conn,
        prefix,
        log: log.child({ role: 'worker' }),
        concurrency: config.STOCKBRIDGE_WORKER_CONCURRENCY,
        lockDurationMs: config.STOCKBRIDGE_JOB_LOCK_MS,
      }),
      startMaintenanceWorker({
        connection: conn,
        prefix,
        db,
        log: log.child({ role: 'worker' }),
        jobs,
        timeZone: config.STOCKBRIDGE_TIME_ZONE,
        outputRoot: outputDirOf(config),
        channels: channels.ctx,
      }),
      startChannelWorker(conn, prefix, channels, log.child({ role: 'worker' })),
      startEventWorker({
        connection: conn,
        prefix,
        channels,
        log: log.child({ role: 'worker' }),
        concurrency: config.STOCKBRIDGE_WORKER_CONCURRENCY,
        lockDurationMs: config.STOCKBRIDGE_JOB_LOCK_MS,
        priority,
      }),
    ];
    const relay = new Relay({
      db,
      log: log.child({ role: 'relay' }),
      enqueueOrders,
      enqueueEvents: (ids) => queues.enqueueEvents(ids),
      graceMs: config.STOCKBRIDGE_RELAY_GRACE_MS,
      handlers: outboxHandlers({
        requestPush: async (ids) => {
          for (const id of ids) await queues.enqueuePush(id, config.STOCKBRIDGE_PUSH_DEBOUNCE_MS);
        },
        fillBackorders: (skuIds) => fillBackorders(db, skuIds, 'relay'),
        requestFulfilment: (channelId, shipmentId) => queues.enqueueFulfilment(channelId, shipmentId),
        requestCancellation: (channelId, orderId) => queues.enqueueCancellation(channelId, orderId),
        notifications: notificationOutboxHandlers({
          host: messageIdHost(config.STOCKBRIDGE_MAIL_FROM),
          requestDispatch: (items) => notifyQueue.made(items),
        }),
      }),
    });
    // Notifications: the dispatch worker and its sweep (the fan-out runs in the relay above).
    const notifySenders = builtinSenders(mailSettingsOf(config));
    notifySenders.senders.set(
      'sms',
      new SmsSender({
        db,
        secretKey,
        businessTimeZone: config.STOCKBRIDGE_TIME_ZONE,
        log: log.child({ role: 'sms' }),
      }),
    );
    notifySenders.senders.set(
      'webhook',
      new WebhookSender({ db, secretKey, log: log.child({ role: 'webhooks' }) }),
    );
    const notifications = await startNotifications({
      db,
      log: log.child({ role: 'notifications' }),
      connection: conn,
      queue: notifyQueue,
      prefix,
      mailFrom: config.STOCKBRIDGE_MAIL_FROM,
      senders: notifySenders.senders,
      statusLink,
      templatesDir: config.STOCKBRIDGE_TEMPLATES_DIR,
      outputDir: outputDirOf(config),
      timeZone: config.STOCKBRIDGE_TIME_ZONE,
      sweepMs: config.STOCKBRIDGE_NOTIFY_SWEEP_MS,
      leaseMs: config.STOCKBRIDGE_NOTIFY_LEASE_MS,
      retryBaseMs: config.STOCKBRIDGE_NOTIFY_RETRY_MS,
      giveUpAfterMs: config.STOCKBRIDGE_NOTIFY_GIVE_UP_MS,
    });
    workers.push(notifications.worker);
    closers.push(() => notifications.stopSweep());
    const loop = startLoop('relay', config.STOCKBRIDGE_RELAY_INTERVAL_MS, () => relay.tick(), log);
    // Stop the relay first, then let workers finish what they hold.
    closers.push(() => loop.stop());
    if (config.STOCKBRIDGE_INBOX_DIR) {
      const inbox = await startInboxWatcher({
        folder: config.STOCKBRIDGE_INBOX_DIR,
        db,
        intake,
        log: log.child({ role: 'inbox' }),
        defaultCurrency: config.STOCKBRIDGE_INBOX_CURRENCY,
        intervalMs: config.STOCKBRIDGE_INBOX_INTERVAL_MS,
      });
      closers.push(() => inbox.stop());
    }
    // Orders by e-mail: the inboxes configured through /api/mail-inboxes, one poller each across processes.
    const mailTransport = createMailTransport(mailSettingsOf(config));
    const mail = startMailPoller({
      db,
      intake,
      secretKey,
      transport: mailTransport,
      from: config.STOCKBRIDGE_MAIL_FROM,
      outputDir: outputDirOf(config),
      log: log.child({ role: 'mail-inbox' }),
      defaultCurrency: config.STOCKBRIDGE_INBOX_CURRENCY,
      intervalMs: config.STOCKBRIDGE_MAIL_INBOX_INTERVAL_MS,
    });
    closers.push(async () => {
      await mail.stop();
      mailTransport?.close();
    });
    for (const w of workers) instrumentWorker(w);
    closers.push(async () => {
      await Promise.all(workers.map((w) => w.close()));
      notifySenders.close();
    });
  }

  if (roles.has('scheduler')) {
    const scheduler = startScheduler({
      queue: queues.maintenance,
      db,
      log: log.child({ role: 'scheduler' }),
      jobs,
      timeZone: config.STOCKBRIDGE_TIME_ZONE,
    });
    closers.push(() => scheduler.stop());
    const pulls = startPullScheduler(
      channels,
      queues,
      log.child({ role: 'scheduler' }),
      config.STOCKBRIDGE_PULL_CHECK_MS,
      config.STOCKBRIDGE_PUSH_DEBOUNCE_MS,
    );
    closers.push(() => pulls.stop());
  }

  useCachedExposition(config.STOCKBRIDGE_METRICS_FAST);
  let metricsPort: number | null = null;
  if ((roles.has('worker') || roles.has('scheduler')) && config.STOCKBRIDGE_METRICS_PORT !== undefined) {
    const metrics = await startMetricsServer({
      port: config.STOCKBRIDGE_METRICS_PORT,
      host: config.HOST,
      token: config.STOCKBRIDGE_METRICS_TOKEN,
      log,
    });
    metricsPort = metrics.port;
    closers.unshift(() => metrics.close());
  }

  if (roles.has('api')) {
    // A fresh install lists the default notification rules even before a worker has run; reading
    // the rules never writes them (a viewer's GET changes nothing).
    await ensureDefaultRules(db);
    const app = createApp({
      db,
      log: log.child({ role: 'api' }),
      adminToken,
      enqueueOrders,
      intake,
      channels,
      queues: allQueues,
      metricsToken: config.STOCKBRIDGE_METRICS_TOKEN,
      scheduledJobs: {
        jobs,
        timeZone: config.STOCKBRIDGE_TIME_ZONE,
        outputRoot: outputDirOf(config),
        queue: queues.maintenance,
      },
      outputDir: outputDirOf(config),
      secretKey,
      statusPage: { secretKey, publicUrl: publicUrlOf(config), redis: producer, prefix },
      notifications: { templatesDir: config.STOCKBRIDGE_TEMPLATES_DIR, statusLink },
      checkRedis: async () => {
        await producer.ping();
      },
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      // Webhooks are answered on Node's request and response, ahead of the app (src/http/webhook-listener.ts).
      const fast = channels
        ? webhookFastPath({ channels, log, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, priority })
        : null;
      const options = { fetch: app.fetch, port: config.PORT, hostname: config.HOST };
      const s = serve(fast ? { ...options, createServer: serverWithFastPath(fast) } : options, (info) => {
        port = info.port;
        resolve(s);
      });
      s.once('error', reject);
    });
    log.info({ port, host: config.HOST }, 'api listening');
    // Stop accepting requests before anything else closes.
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        }),
    );
  }

  log.info(
    {
      roles: [...roles],
      prefix,
      redis: typeof redis === 'string' ? 'single' : 'cluster',
      database: config.DATABASE_URL ? 'mysql' : 'sqlite',
    },
    'stockbridge started',
  );

  let stopping: Promise<void> | null = null;
  return {
    db,
    queues,
    get port() {
      return port;
    },
    metricsPort,
    stop() {
      stopping ??= (async () => {
        for (const close of closers) await close();
        await queues.close();
        await notifyQueue.close();
        producer.disconnect();
        for (const c of workerConnections) c.disconnect();
        await db.destroy();
        log.info('stockbridge stopped');
      })();
      return stopping;
    },
  };
}

/**
 * The `resync` command: marks every mapped SKU of the channel and pushes them now from this
 * process (no worker needed), through the same code and rate limiter as the daemon.
 */
export async function resyncChannel(config: Config, log: Logger, channelId: number) {
  const { secretKey } = resolveBootstrapSecrets(config, log);
  const target = redisTargetOf(config);
  await assertRedisReachable(target);
  const db = createDb(dbOptionsFrom(config));
  const redis = producerConnection(target);
  await redisReady(redis);
  try {
    const channels = new ChannelService({
      db,
      log,
      secretKey,
      publicUrl: publicUrlOf(config),
      redis,
      prefix: config.STOCKBRIDGE_QUEUE_PREFIX,
      enqueueOrders: async () => {},
    });
    await channels.resync(channelId);
    let summary = await channels.push(channelId);
    const total = { ...summary };
    // Changes that arrived meanwhile: go on until nothing is pending.
    for (let round = 0; summary.stillPending > 0 && round < 10; round++) {
      summary = await channels.push(channelId);
      total.sent += summary.sent;
      total.accepted += summary.accepted;
      total.calls += summary.calls;
      total.rejected.push(...summary.rejected);
      total.stillPending = summary.stillPending;
    }
    return total;
  } finally {
    redis.disconnect();
    await db.destroy();
  }
}
