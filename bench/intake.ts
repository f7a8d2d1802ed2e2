/**
 * Sustained order intake, end to end: orders POSTed over HTTP to a running daemon (api, worker and
 * scheduler roles in one process, as `npm start` runs it) on MariaDB and Redis, acknowledged (202
 * after commit) and processed (reserved). Printed beside a raw BullMQ baseline measured in the same
 * run: add and process of empty jobs.
 *
 *   npm run build && npx tsx bench/intake.ts [orders=10000] [httpConcurrency=64] [skus=500]
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BENCH_REDIS_URL, benchDatabase, freePort, line, pool, seed, startDaemon } from './support.js';

const N = Number(process.argv[2] ?? 10000);
const HTTP_CONCURRENCY = Number(process.argv[3] ?? 64);
const SKUS = Number(process.argv[4] ?? 500);
const TOKEN = 'bench-admin-token-0123456789abcdef';

async function bullmqBaseline(count: number, concurrency: number) {
  const prefix = `bench-raw-${Date.now()}`;
  const conn = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  let done = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((r) => (finish = r));
  const worker = new Worker(
    'raw',
    async () => {
      if (++done === count) finish();
    },
    { connection: new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency },
  );
  await worker.waitUntilReady();
  const t0 = performance.now();
  await pool(count, 64, (i) => queue.add('job', {}, { jobId: `j-${i}`, removeOnComplete: true }));
  const addMs = performance.now() - t0;
  await allDone;
  const totalMs = performance.now() - t0;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return { addMs, totalMs };
}

async function main() {
  if (!existsSync('dist/src/cli.js')) throw new Error('run `npm run build` first');
  console.log(
    `intake: ${N} orders of 1-3 lines over ${SKUS} SKUs in 2 warehouses, ${HTTP_CONCURRENCY} concurrent HTTP clients`,
  );

  const raw = await bullmqBaseline(N, 64);
  console.log(line('raw BullMQ add of empty jobs (64 at a time)', N, raw.addMs, 'jobs'));
  console.log(line('raw BullMQ add + process of empty jobs (concurrency 64)', N, raw.totalMs, 'jobs'));

  const { db, url, drop } = await benchDatabase(10);
  const port = await freePort();
  const prefix = `bench-${Date.now()}`;
  let daemon: ChildProcess | null = null;
  try {
    const { skuCodes } = await seed(db, SKUS, 2, 1_000_000);
    daemon = await startDaemon(
      {
        DATABASE_URL: url,
        REDIS_URL: BENCH_REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        STOCKBRIDGE_QUEUE_PREFIX: prefix,
        STOCKBRIDGE_ADMIN_TOKEN: TOKEN,
        STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-bench-')),
        STOCKBRIDGE_WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY ?? '64',
        LOG_LEVEL: 'warn',
      },
      port,
    );

    const bodies = Array.from({ length: N }, (_, i) => {
      const lines = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        sku: skuCodes[(i * 7 + j * 13) % skuCodes.length]!,
        quantity: 1 + ((i + j) % 3),
        unitPrice: 1000,
      }));
      return JSON.stringify({ externalId: `bench-${i}`, currency: 'EUR', lines });
    });
    const latencies: number[] = [];
    let processedAt = 0;
    const t0 = performance.now();
    const watcher = (async () => {
      for (;;) {
        const [row] = (await db('orders').whereNot('status', 'received').count({ n: '*' })) as {
          n: number;
        }[];
        if (Number(row!.n) >= N) {
          processedAt = performance.now();
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await pool(N, HTTP_CONCURRENCY, async (i) => {
      const s = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/api/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: bodies[i],
      });
      if (res.status !== 202) throw new Error(`order ${i}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - s);
    });
    const ackMs = performance.now() - t0;
    await watcher;
    const e2eMs = processedAt - t0;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);

    const statuses = (await db('orders').select('status').count({ n: '*' }).groupBy('status')) as {
      status: string;
      n: number;
    }[];
    const [over] = (await db('stock_levels').whereRaw('reserved > on_hand').count({ n: '*' })) as {
      n: number;
    }[];
    console.log(line('stockbridge: acknowledged (HTTP 202 after commit)', N, ackMs, 'orders'));
    console.log(line('stockbridge: acknowledged and processed end to end', N, e2eMs, 'orders'));
    console.log(`ack latency ms: p50 ${pct(0.5)}, p95 ${pct(0.95)}, p99 ${pct(0.99)}`);
    console.log(
      `statuses: ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}; stock rows oversold: ${over!.n}`,
    );
  } finally {
    daemon?.kill('SIGTERM');
    if (daemon) await new Promise((r) => daemon!.once('exit', r));
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
