/**
 * Sustained order intake, end to end: orders POSTed over HTTP to a running daemon (api, worker and
 * scheduler roles in one process, as `npm start` runs it; or, with `--workers N`, an api+scheduler
 * process and N worker processes) on MariaDB and Redis, acknowledged (202 after commit) and
 * processed (reserved). Printed beside a raw BullMQ baseline measured in the same run: add and
 * process of empty jobs.
 *
 *   npm run build && npx tsx bench/intake.ts [orders=10000] [httpConcurrency=64] [skus=500] [--workers N]
 */
import { existsSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  apiIntake,
  BENCH_REDIS_URL,
  BENCH_TOKEN,
  benchDaemonEnv,
  benchDatabase,
  type Daemons,
  freePort,
  intArg,
  line,
  parseArgs,
  pct,
  pool,
  seed,
  startDaemons,
} from './support.js';

const { flags, positional } = parseArgs();
const N = intArg(flags.get('n') ?? positional[0], 10000, 'orders');
const HTTP_CONCURRENCY = intArg(flags.get('concurrency') ?? positional[1], 64, 'httpConcurrency');
const SKUS = intArg(flags.get('skus') ?? positional[2], 500, 'skus');
const WORKERS = intArg(flags.get('workers'), 0, '--workers', 0);
const TOKEN = BENCH_TOKEN;

async function bullmqBaseline(count: number, concurrency: number) {
  const prefix = `bench-raw-${Date.now()}`;
  // BullMQ does not close connections handed to it: both are disconnected at the end.
  const conn = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const workerConn = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  let done = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((r) => (finish = r));
  const worker = new Worker(
    'raw',
    async () => {
      if (++done === count) finish();
    },
    { connection: workerConn, prefix, concurrency },
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
  workerConn.disconnect();
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
  let daemons: Daemons | null = null;
  try {
    const { skuCodes } = await seed(db, SKUS, 2, 1_000_000);
    daemons = await startDaemons(benchDaemonEnv(url, port, prefix), port, WORKERS);
    console.log(`daemon: ${daemons.describe}`);

    const externalIds = Array.from({ length: N }, (_, i) => `bench-${i}`);
    const bodies = externalIds.map((externalId, i) => {
      const lines = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        sku: skuCodes[(i * 7 + j * 13) % skuCodes.length]!,
        quantity: 1 + ((i + j) % 3),
        unitPrice: 1000,
      }));
      return JSON.stringify({ externalId, currency: 'EUR', lines });
    });
    const r = await apiIntake({
      db,
      port,
      token: TOKEN,
      bodies,
      externalIds,
      prefix: 'bench-',
      concurrency: HTTP_CONCURRENCY,
    });
    if (r.load.non2xx > 0) {
      throw new Error(`${r.load.non2xx} orders not acknowledged, first: ${r.load.errors.join(' | ')}`);
    }
    if (r.e2eMs === null) throw new Error(`orders not all reserved in time: ${r.statuses}`);
    const lat = (p: number) => pct(r.load.latencies, p).toFixed(1);

    const [over] = (await db('stock_levels').whereRaw('reserved > on_hand').count({ n: '*' })) as {
      n: number;
    }[];
    console.log(line('stockbridge: acknowledged (HTTP 202 after commit)', N, r.load.ms, 'orders'));
    console.log(line('stockbridge: acknowledged and processed end to end', N, r.e2eMs, 'orders'));
    console.log(`ack latency ms: p50 ${lat(0.5)}, p95 ${lat(0.95)}, p99 ${lat(0.99)}`);
    console.log(`statuses: ${r.statuses}; stock rows oversold: ${over!.n}`);
  } finally {
    await daemons?.stop();
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
