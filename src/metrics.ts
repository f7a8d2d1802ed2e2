import type { JobType, Queue, Worker } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { expositionBytes } from './metrics-exposition.js';

/**
 * Prometheus metrics of this process: one registry, every counter defined here. Label values are
 * bounded sets — channel keys (`api`, `excel`, `shopify:3`), queue and job names, outcomes,
 * statuses and hold reasons — never order ids or SKUs, so the series stay few however much work
 * passes through.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Few buckets on purpose: each is a series per label combination, and scrape time grows with them. */
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export const ordersReceived = new Counter({
  name: 'stockbridge_orders_received_total',
  help: 'Orders that arrived, by channel and outcome (created: stored new; duplicate: already known).',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

export const ordersProcessed = new Counter({
  name: 'stockbridge_orders_processed_total',
  help: 'Orders processed (validated and reserved), by channel and the status they reached.',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

export const orderProcessingSeconds = new Histogram({
  name: 'stockbridge_order_processing_seconds',
  help: 'Time from an order being stored (received) to its processing being committed.',
  labelNames: ['channel'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const ordersHeld = new Counter({
  name: 'stockbridge_orders_held_total',
  help: 'Orders put on hold by processing, by channel and hold reason.',
  labelNames: ['channel', 'reason'] as const,
  registers: [registry],
});

export const jobSeconds = new Histogram({
  name: 'stockbridge_job_duration_seconds',
  help: 'Time a worker spent on a job, by queue, job name and outcome (completed, failed).',
  labelNames: ['queue', 'name', 'outcome'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const stockPushes = new Counter({
  name: 'stockbridge_stock_pushes_total',
  help: 'Stock pushes to channels, by channel and outcome (pushed, skipped, busy, failed).',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

export const stockPushSeconds = new Histogram({
  name: 'stockbridge_stock_push_seconds',
  help: 'Duration of a stock push to a channel (pushed or failed).',
  labelNames: ['channel'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const stockPushSkus = new Counter({
  name: 'stockbridge_stock_push_skus_total',
  help: 'SKU quantities sent in stock pushes, by channel and what the channel did (accepted, rejected, deferred).',
  labelNames: ['channel', 'result'] as const,
  registers: [registry],
});

export const channelRequests = new Counter({
  name: 'stockbridge_channel_http_requests_total',
  help: 'HTTP calls to channel APIs (each attempt), by channel and status (the HTTP status, or "error" without an answer).',
  labelNames: ['channel', 'status'] as const,
  registers: [registry],
});

export const channelRequestSeconds = new Histogram({
  name: 'stockbridge_channel_http_request_seconds',
  help: 'Duration of one HTTP call to a channel API.',
  labelNames: ['channel'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const throttleWaits = new Counter({
  name: 'stockbridge_channel_throttle_waits_total',
  help: 'Waits before a channel API call, by channel and kind (limiter: our rate limiter; retry_after: the channel asked; backoff: after a failure).',
  labelNames: ['channel', 'kind'] as const,
  registers: [registry],
});

export const throttleWaitSeconds = new Counter({
  name: 'stockbridge_channel_throttle_wait_seconds_total',
  help: 'Time spent in those waits, by channel and kind.',
  labelNames: ['channel', 'kind'] as const,
  registers: [registry],
});

export const webhookVerificationsFailed = new Counter({
  name: 'stockbridge_webhook_verifications_failed_total',
  help: 'Webhook deliveries refused because their signature did not verify, by channel.',
  labelNames: ['channel'] as const,
  registers: [registry],
});

export const reconciliationFindings = new Counter({
  name: 'stockbridge_reconciliation_findings_total',
  help: 'Findings reconciliation runs found first (a finding found again on a later night is not counted again), by channel (`internal` for the checks of our own data) and kind.',
  labelNames: ['channel', 'kind'] as const,
  registers: [registry],
});

export const notificationFailures = new Counter({
  name: 'stockbridge_notification_failures_total',
  help: 'Notifications that failed, by medium and outcome (failed_attempt: retried later; given_up: failed for good — given up after retrying, refused by the provider, or not renderable).',
  labelNames: ['medium', 'outcome'] as const,
  registers: [registry],
});

/** Job states reported as queue depths. */
const QUEUE_STATES: JobType[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
  'failed',
  'completed',
];

/** How long queue counts read from Redis are reused: a burst of scrapes costs one round of reads. */
export const QUEUE_COUNTS_TTL_MS = 2000;

let watchedQueues: readonly Queue[] = [];
let countsCache: { at: number; counts: Promise<{ queue: string; state: string; n: number }[]> } | null = null;

/** Longest a scrape waits for the queue counts; a slow Redis leaves them out instead of stalling the scrape. */
const QUEUE_COUNTS_TIMEOUT_MS = 1500;

async function readQueueCounts(queues: readonly Queue[]) {
  const out: { queue: string; state: string; n: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('queue counts timed out')), QUEUE_COUNTS_TIMEOUT_MS);
    timer.unref();
  });
  const read = Promise.all(
    queues.map(async (q) => {
      const counts = await q.getJobCounts(...QUEUE_STATES);
      for (const state of QUEUE_STATES) out.push({ queue: q.name, state, n: counts[state] ?? 0 });
    }),
  );
  try {
    await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Queue depths, read at scrape time (cached for QUEUE_COUNTS_TTL_MS). A Redis failure leaves them out. */
export const queueJobs = new Gauge({
  name: 'stockbridge_queue_jobs',
  help: 'Jobs in each queue by state, read from Redis when scraped (cached for 2 s).',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (watchedQueues.length === 0) return;
    const now = Date.now();
    if (!countsCache || now - countsCache.at > QUEUE_COUNTS_TTL_MS) {
      const counts = readQueueCounts(watchedQueues);
      countsCache = { at: now, counts };
      counts.catch(() => {
        if (countsCache?.counts === counts) countsCache = null;
      });
    }
    try {
      for (const { queue, state, n } of await countsCache.counts) this.set({ queue, state }, n);
    } catch {
      // Redis unreachable: no depths in this scrape rather than a failed scrape.
    }
  },
});

/** The queues whose depths this process reports. */
export function watchQueues(queues: readonly Queue[]): void {
  watchedQueues = queues;
  countsCache = null;
}

/** Records each job's duration when the worker finishes it. */
export function instrumentWorker(worker: Worker): Worker {
  const observe = (
    job: { name: string; processedOn?: number; finishedOn?: number } | undefined,
    outcome: string,
  ) => {
    if (!job?.processedOn) return;
    const ms = (job.finishedOn ?? Date.now()) - job.processedOn;
    jobSeconds.observe({ queue: worker.name, name: job.name, outcome }, Math.max(0, ms) / 1000);
  };
  worker.on('completed', (job) => observe(job, 'completed'));
  worker.on('failed', (job) => observe(job, 'failed'));
  return worker;
}

/** What the channel HTTP client reports to (see connectors/http/client.ts HttpObserver), for one channel. */
export function channelHttpObserver(channel: string) {
  return {
    attempt(status: number | null, ms: number) {
      channelRequests.inc({ channel, status: status === null ? 'error' : String(status) });
      channelRequestSeconds.observe({ channel }, ms / 1000);
    },
    waited(kind: 'limiter' | 'retry_after' | 'backoff', ms: number) {
      throttleWaits.inc({ channel, kind });
      throttleWaitSeconds.inc({ channel, kind }, ms / 1000);
    },
  };
}

/** One order a processing run moved on: its channel, the status reached, when it was received (ISO). */
export interface ProcessedChange {
  channel: string;
  status: string;
  holdReason: string | null;
  receivedAt: string;
}

/** Counts processed orders (and holds) from what a committed processing run changed. */
export function recordProcessed(changes: readonly ProcessedChange[], now = Date.now()): void {
  for (const c of changes) {
    ordersProcessed.inc({ channel: c.channel, outcome: c.status });
    if (c.status === 'on_hold') ordersHeld.inc({ channel: c.channel, reason: c.holdReason ?? 'unknown' });
    const received = Date.parse(c.receivedAt);
    if (Number.isFinite(received))
      orderProcessingSeconds.observe({ channel: c.channel }, Math.max(0, now - received) / 1000);
  }
}

/** Counts the findings a reconciliation run stored that it found first (`runId` is the run's). */
export function recordNewFindings(
  runId: number,
  findings: Iterable<{ runId: number; source: string; kind: string }>,
): void {
  for (const f of findings) {
    if (f.runId === runId) reconciliationFindings.inc({ channel: f.source, kind: f.kind });
  }
}

let cachedExposition = true;

/**
 * Whether scrapes use the cached exposition (src/metrics-exposition.ts; the default) or
 * prom-client's `registry.metrics()` — the same text either way (`STOCKBRIDGE_METRICS_FAST`).
 */
export function useCachedExposition(on: boolean): void {
  cachedExposition = on;
}

/** The text a Prometheus scrape gets, and its content type. */
export async function scrape(): Promise<{ body: string | Uint8Array<ArrayBuffer>; contentType: string }> {
  const body = cachedExposition ? await expositionBytes(registry) : await registry.metrics();
  return { body, contentType: registry.contentType };
}
