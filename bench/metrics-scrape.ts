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
 *   npx tsx bench/metrics-scrape.ts [scrapes=50]
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
  watchQueues,
} from '../src/metrics.js';
import { producerConnection } from '../src/queue/redis.js';
import { BENCH_REDIS_URL } from './support.js';

const scrapes = Number(process.argv[2] ?? 50);
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
  for (let i = 0; combinations < 10_000; i++) combinations += fillChannel(i, histograms);
  return combinations;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function round(url: string, headers: Record<string, string>) {
  let bytes = 0;
  let lines = 0;
  const times: number[] = [];
  for (let i = 0; i < 5 + scrapes; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
    if (i >= 5) times.push(ms);
    bytes = text.length;
    lines = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
  }
  return { times: times.sort((a, b) => a - b), bytes, lines };
}

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
      const combinations = fill(histograms);
      const { times, bytes, lines } = await round(url, headers);
      const serialize: number[] = [];
      for (let i = 0; i < scrapes; i++) {
        const started = performance.now();
        await registry.metrics();
        serialize.push(performance.now() - started);
      }
      serialize.sort((a, b) => a - b);
      const [l1, l5, l15] = loadavg().map((n) => n.toFixed(2));
      console.log(
        `${name}: ${combinations} label combinations, ${lines} samples (with Node's own), ${(bytes / 1024).toFixed(0)} KiB per scrape`,
      );
      console.log(
        `  ${scrapes} scrapes over HTTP: p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms (target: under 50 ms)`,
      );
      console.log(
        `  registry.metrics() alone (no HTTP): p50 ${pct(serialize, 50).toFixed(1)} ms, p95 ${pct(serialize, 95).toFixed(1)} ms`,
      );
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
