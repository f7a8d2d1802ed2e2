/**
 * `/metrics` scrape time with 10,000 label combinations present (issue 18: under 50 ms).
 *
 * Two rounds on this process's registry (src/metrics.ts), each scraping the metrics server over
 * HTTP (with a bearer token, as Prometheus would) and printing p50/p95/max and the load average,
 * with four real BullMQ queues on Redis watched for the queue depths:
 *  1. counters: 1,250 channels x 8 counter combinations (orders received x2 outcomes, processed
 *     x4, held x2) = 10,000;
 *  2. mixed: 1,000 channels x (those 8 + 2 histogram combinations: processing latency and channel
 *     call duration) = 10,000, a histogram combination being 14 samples.
 *
 * Each round scrapes twice over HTTP: with nothing changed between scrapes, and with every one of
 * the 10,000 series changed before each scrape (untimed), the worst case for the cached
 * exposition (src/metrics-exposition.ts). Then the serialisation alone, without HTTP:
 * prom-client's `registry.metrics()` and, unless switched off, the cached exposition, unchanged
 * and all changed.
 *
 *   npx tsx bench/metrics-scrape.ts [scrapes=50]
 *   STOCKBRIDGE_METRICS_FAST=0 npx tsx bench/metrics-scrape.ts   # scrapes by registry.metrics()
 */
import { loadavg } from 'node:os';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { startMetricsServer } from '../src/http/metrics-server.js';
import {
  channelRequestSeconds,
  orderProcessingSeconds,
  ordersHeld,
  ordersProcessed,
  ordersReceived,
  registry,
  useCachedExposition,
  watchQueues,
} from '../src/metrics.js';
import { expositionBytes } from '../src/metrics-exposition.js';
import { producerConnection } from '../src/queue/redis.js';
import { BENCH_REDIS_URL } from './support.js';

const scrapes = Number(process.argv[2] ?? 50);
const fast = !['0', 'false'].includes(process.env.STOCKBRIDGE_METRICS_FAST ?? '');
useCachedExposition(fast);
const TOKEN = 'bench-metrics-token-0123456789';

/** Label combinations of one channel: 8 counters, and with `histograms` 2 histograms. */
function fillChannel(i: number, histograms: boolean) {
  const channel = `shopify:${i}`;
  for (const outcome of ['created', 'duplicate']) ordersReceived.inc({ channel, outcome }, i + 1);
  for (const outcome of ['confirmed', 'partially_reserved', 'backordered', 'on_hold'])
    ordersProcessed.inc({ channel, outcome }, i + 1);
  for (const reason of ['unknown_sku', 'unmapped_sku']) ordersHeld.inc({ channel, reason });
  if (!histograms) return 8;
  orderProcessingSeconds.observe({ channel }, (i % 50) / 10);
  channelRequestSeconds.observe({ channel }, (i % 20) / 10);
  return 10;
}

/** Changes every series of the round (each counter +1, each histogram one observation). */
function touchAll(channels: number, histograms: boolean) {
  for (let i = 0; i < channels; i++) {
    const channel = `shopify:${i}`;
    for (const outcome of ['created', 'duplicate']) ordersReceived.inc({ channel, outcome });
    for (const outcome of ['confirmed', 'partially_reserved', 'backordered', 'on_hold'])
      ordersProcessed.inc({ channel, outcome });
    for (const reason of ['unknown_sku', 'unmapped_sku']) ordersHeld.inc({ channel, reason });
    if (!histograms) continue;
    orderProcessingSeconds.observe({ channel }, 0.3);
    channelRequestSeconds.observe({ channel }, 0.03);
  }
}

function fill(histograms: boolean) {
  for (const m of [
    ordersReceived,
    ordersProcessed,
    ordersHeld,
    orderProcessingSeconds,
    channelRequestSeconds,
  ])
    m.reset();
  let combinations = 0;
  let channels = 0;
  while (combinations < 10_000) combinations += fillChannel(channels++, histograms);
  return { combinations, channels };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function round(url: string, headers: Record<string, string>, before?: () => void) {
  let bytes = 0;
  let lines = 0;
  const times: number[] = [];
  for (let i = 0; i < 5 + scrapes; i++) {
    before?.();
    const started = performance.now();
    const res = await fetch(url, { headers });
    // The bytes, as Prometheus reads them: decoding them into a JS string is the client's cost.
    const body = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
    if (i >= 5) times.push(ms);
    bytes = body.length;
    if (i === 4 + scrapes)
      lines = body
        .toString('utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#')).length;
  }
  return { times: times.sort((a, b) => a - b), bytes, lines };
}

/** Times `render` alone, `scrapes` times (after `before`, untimed, each time). */
async function alone(render: () => Promise<unknown>, before?: () => void) {
  const times: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    before?.();
    const started = performance.now();
    await render();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const fmt = (sorted: number[]) =>
  `p50 ${pct(sorted, 50).toFixed(1)} ms, p95 ${pct(sorted, 95).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`;

async function main() {
  const redis = producerConnection(BENCH_REDIS_URL);
  const prefix = `sbbench-metrics-${process.pid}`;
  const queues = ['orders', 'events', 'channels', 'maintenance'].map(
    (n) => new Queue(n, { connection: redis, prefix }),
  );
  await queues[0]!.add('process', { orderId: 1 }, { delay: 60_000 });
  watchQueues(queues);
  const log = pino({ level: 'warn' });
  const server = await startMetricsServer({ port: 0, host: '127.0.0.1', token: TOKEN, log });
  const url = `http://127.0.0.1:${server.port}/metrics`;
  const headers = { authorization: `Bearer ${TOKEN}` };
  try {
    for (const [name, histograms] of [
      ['counters', false],
      ['mixed', true],
    ] as const) {
      const { combinations, channels } = fill(histograms);
      const touch = () => touchAll(channels, histograms);
      const unchanged = await round(url, headers);
      const changed = await round(url, headers, touch);
      const prom = await alone(() => registry.metrics());
      const cached = fast ? await alone(() => expositionBytes(registry)) : null;
      const cachedChanged = fast ? await alone(() => expositionBytes(registry), touch) : null;
      const [l1, l5, l15] = loadavg().map((n) => n.toFixed(2));
      console.log(
        `${name} (${fast ? 'cached exposition' : 'registry.metrics()'}): ${combinations} label combinations, ${unchanged.lines} samples (with Node's own), ${(unchanged.bytes / 1024).toFixed(0)} KiB per scrape`,
      );
      console.log(
        `  ${scrapes} scrapes over HTTP, nothing changed: ${fmt(unchanged.times)} (target: under 50 ms)`,
      );
      console.log(`  ${scrapes} scrapes over HTTP, every series changed: ${fmt(changed.times)}`);
      console.log(`  registry.metrics() alone (no HTTP): ${fmt(prom)}`);
      if (cached && cachedChanged) {
        console.log(`  cached exposition alone, nothing changed: ${fmt(cached)}`);
        console.log(`  cached exposition alone, every series changed: ${fmt(cachedChanged)}`);
      }
      console.log(`  load average after the round: ${l1} ${l5} ${l15} (1/5/15 min)`);
    }
  } finally {
    await server.close();
    for (const q of queues) await q.obliterate({ force: true }).catch(() => {});
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
