/**
 * The console's pages with 100,000 orders in the database (issue 19: every page under 100 ms at
 * p95). A fresh database gets a catalogue, 1,000 customers, five Shopify channels (made through
 * the admin API), 100,000 orders over the last 30 days with two lines and two or three history
 * entries each (bulk multi-row INSERTs, spread over channels, customers, statuses and days),
 * 20,000 inbound events, job runs and reconciliation findings. Then the built daemon (api role)
 * serves it and each page is fetched N times over real HTTP with a logged-in session, one at a
 * time; p50/p95/max per page are printed, with whether p95 is under 100 ms.
 *
 *   npm run bench:console -- [--orders 100000] [--n 40] [--keep]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import {
  adminApi,
  benchDaemonEnv,
  benchDatabase,
  freePort,
  intArg,
  parseArgs,
  pct,
  seed,
  stopProcess,
  waitReady,
} from './support.js';

const { flags } = parseArgs();
const ORDERS = intArg(flags.get('orders'), 100_000, 'orders');
const N = intArg(flags.get('n'), 40, 'n');
/** `--keep`: leave the database for EXPLAINs (its name is printed); drop it by hand afterwards. */
const KEEP = flags.has('keep');
const WARMUP = 5;
const CUSTOMERS = 1000;
const SKUS = 500;
const CHANNELS = 5;
const EVENTS = 20_000;
const DAYS = 30;
const LIMIT_MS = 100;
const PASSWORD = 'correct horse battery staple';

/** Status of order `id` (out of every 100): mostly done, some waiting, held, cancelled. */
function statusOf(id: number): { status: string; hold: string | null } {
  const r = id % 100;
  if (r < 30) return { status: 'shipped', hold: null };
  if (r < 45) return { status: 'completed', hold: null };
  if (r < 55) return { status: 'delivered', hold: null };
  if (r < 75) return { status: 'confirmed', hold: null };
  if (r < 80) return { status: 'partially_shipped', hold: null };
  if (r < 85) return { status: 'backordered', hold: null };
  if (r < 87) return { status: 'on_hold', hold: 'unmapped_sku' };
  if (r < 88) return { status: 'on_hold', hold: 'credit_limit' };
  if (r < 89) return { status: 'on_hold', hold: 'unknown_sku' };
  if (r < 90) return { status: 'rejected', hold: null };
  return { status: 'cancelled', hold: null };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

async function seedAll(db: Awaited<ReturnType<typeof benchDatabase>>['db'], channelKeys: string[]) {
  const now = dbTime();
  const skus = await db('skus').orderBy('id').select('id', 'code');
  for (let i = 0; i < CUSTOMERS; i += 500)
    await db('customers').insert(
      Array.from({ length: Math.min(500, CUSTOMERS - i) }, (_, j) => ({
        code: `C${i + j + 1}`,
        name: `Customer ${i + j + 1}`,
        email: `c${i + j + 1}@example.com`,
        created_at: now,
        updated_at: now,
      })),
    );
  const channels = [...channelKeys, 'api', 'excel', 'phone'];
  const end = Date.now();
  const span = DAYS * 86_400_000;
  const placedAt = (id: number) => end - span + Math.floor((id / ORDERS) * span) - (id % 7) * 1000;
  const LINES = 2;
  const BATCH = 1000;
  let eventId = 0;
  for (let start = 0; start < ORDERS; start += BATCH) {
    const n = Math.min(BATCH, ORDERS - start);
    const ids = Array.from({ length: n }, (_, i) => start + i + 1);
    await db.raw(
      `INSERT INTO orders (id, channel, external_id, customer_id, status, hold_reason, currency, total_amount, shipping_amount, placed_at, created_at, updated_at) VALUES ${placeholders(n, 12)}`,
      ids.flatMap((id) => {
        const s = statusOf(id);
        const at = iso(placedAt(id));
        return [
          id,
          channels[id % channels.length]!,
          `B-${id}`,
          id % 5 === 0 ? null : (id % CUSTOMERS) + 1,
          s.status,
          s.hold,
          'EUR',
          LINES * 2 * 1000 + 500,
          500,
          at,
          at,
          at,
        ];
      }),
    );
    await db.raw(
      `INSERT INTO order_lines (id, order_id, line_no, sku_code, sku_id, ordered, reserved, shipped, cancelled, unit_price) VALUES ${placeholders(n * LINES, 10)}`,
      ids.flatMap((id) =>
        Array.from({ length: LINES }, (_, j): (string | number | null)[] => {
          const sku = skus[(id * 7 + j) % skus.length]!;
          const s = statusOf(id).status;
          const unmapped = s === 'on_hold' && j === 1;
          return [
            (id - 1) * LINES + j + 1,
            id,
            j + 1,
            unmapped ? `UNMAPPED-${id % 50}` : sku.code,
            unmapped ? null : sku.id,
            2,
            s === 'confirmed' ? 2 : 0,
            ['shipped', 'completed', 'delivered'].includes(s) ? 2 : 0,
            s === 'cancelled' ? 2 : 0,
            1000,
          ];
        }).flat(),
      ),
    );
    const events = ids.flatMap((id) => {
      const s = statusOf(id).status;
      const at = placedAt(id);
      const rows: (string | number | null)[][] = [[id, null, 'received', null, 'intake', iso(at)]];
      const reserved = ['on_hold', 'rejected', 'backordered'].includes(s) ? s : 'confirmed';
      rows.push([id, 'received', reserved, null, 'worker', iso(at + 200)]);
      if (reserved !== s)
        rows.push([id, 'confirmed', s, 'by the bench', 'ops@example.com', iso(at + 3_600_000)]);
      return rows;
    });
    await db.raw(
      `INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES ${placeholders(events.length, 6)}`,
      events.flat(),
    );
    // Inbound events: the first EVENTS orders of the Shopify channels came in as webhooks.
    const inbound = ids
      .filter((id) => id % channels.length < channelKeys.length && eventId < EVENTS)
      .map((id) => {
        eventId++;
        const at = iso(placedAt(id));
        const failed = id % 97 === 0;
        return [
          channels[id % channels.length]!,
          `evt-${id}`,
          'orders/create',
          'order.upsert',
          `B-${id}`,
          JSON.stringify({ id, name: `#${id}`, line_items: [{ sku: 'SKU-00001', quantity: 2 }] }),
          failed ? null : id,
          at,
          failed ? null : at,
          failed ? 'connector: line 2 has no SKU' : null,
          failed ? 3 : 0,
        ];
      });
    if (inbound.length)
      await db.raw(
        `INSERT INTO inbound_events (channel, delivery_id, topic, kind, external_id, payload, order_id, received_at, processed_at, error, attempts) VALUES ${placeholders(inbound.length, 11)}`,
        inbound.flat(),
      );
  }
  // Job runs of the last month and a reconciliation run with its findings.
  const days = Array.from({ length: DAYS }, (_, i) =>
    new Date(end - (DAYS - i) * 86_400_000).toISOString().slice(0, 10),
  );
  await db('job_runs').insert(
    days.flatMap((d) =>
      ['reconciliation', 'invoicing', 'stock-snapshot'].map((job) => ({
        job,
        period: d,
        status: 'succeeded',
        run: 1,
        attempts: 1,
        triggered_by: 'schedule',
        counts: JSON.stringify({ items: 10 }),
        queued_at: `${d} 02:00:00.000`,
        started_at: `${d} 02:00:01.000`,
        finished_at: `${d} 02:01:00.000`,
        updated_at: `${d} 02:01:00.000`,
      })),
    ),
  );
  const day = days.at(-1)!;
  const [runId] = await db('reconciliation_runs').insert({
    period: day,
    window_from: `${day} 00:00:00.000`,
    window_to: `${day} 23:59:59.999`,
    triggered_by: 'job',
    status: 'succeeded',
    counts: JSON.stringify({ findings: 500 }),
    started_at: now,
    finished_at: now,
  });
  await db('reconciliation_findings').insert(
    Array.from({ length: 500 }, (_, i) => ({
      period: day,
      finding_key: `stock:SKU-${i}`,
      kind: 'stock.drift',
      severity: i % 10 === 0 ? 'error' : 'warning',
      source: channelKeys[i % channelKeys.length]!,
      subject: skus[i % skus.length]!.code,
      ours: '10',
      theirs: '9',
      message: `published 9, we have 10`,
      state: i % 3 === 0 ? 'acknowledged' : 'open',
      run_id: runId,
      last_run_id: runId,
      created_at: now,
      updated_at: now,
    })),
  );
}

/** Logs in through the login form over HTTP, as a browser does: the session cookie. */
async function logIn(base: string, email: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const html = await page.text();
  const loginCookie = page.headers
    .getSetCookie()
    .find((c) => c.startsWith('stockbridge_login_csrf='))
    ?.split(';')[0];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!loginCookie || !csrf) throw new Error('the login page has no CSRF token');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email, password: PASSWORD }).toString(),
  });
  await res.arrayBuffer();
  const session = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('stockbridge_session='))
    ?.split(';')[0];
  if (res.status !== 303 || !session) throw new Error(`login answered ${res.status}`);
  return session;
}

interface Timing {
  page: string;
  path: string;
  status: number;
  bytes: number;
  times: number[];
}

async function time(base: string, cookie: string, page: string, path: string): Promise<Timing> {
  const times: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < WARMUP + N; i++) {
    const started = performance.now();
    const res = await fetch(`${base}${path}`, {
      headers: { cookie, 'accept-language': 'en' },
      redirect: 'manual',
    });
    const body = await res.text();
    const ms = performance.now() - started;
    status = res.status;
    bytes = body.length;
    if (status !== 200) break;
    if (i >= WARMUP) times.push(ms);
  }
  return { page, path, status, bytes, times: times.sort((a, b) => a - b) };
}

/**
 * The daemon from the sources (`tsx`, no build step), api role only (nothing processes the seeded
 * orders behind the bench's back); ready when /readyz answers 200.
 */
async function startApi(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    env: { ...process.env, ...env, STOCKBRIDGE_ROLES: 'api' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return waitReady(child, port, 120_000);
}

async function main() {
  const { db, url, drop } = await benchDatabase(8);
  let daemon: ChildProcess | undefined;
  try {
    const t0 = performance.now();
    await seed(db, SKUS, 2, 1000);
    const port = await freePort();
    daemon = await startApi(
      {
        ...benchDaemonEnv(url, port, `sbbench-console-${process.pid}`),
        STOCKBRIDGE_SECRET_KEY: randomBytes(32).toString('hex'),
      },
      port,
    );
    const base = `http://127.0.0.1:${port}`;
    const channelKeys: string[] = [];
    for (let i = 1; i <= CHANNELS; i++) {
      const ch = await adminApi(port, 'POST', '/api/channels', {
        type: 'shopify',
        name: `Shop ${i}`,
        enabled: false,
        settings: {
          shopDomain: `bench-shop-${i}.myshopify.com`,
          accessToken: 'shpat_bench',
          webhookSecret: 'bench-secret',
        },
      });
      channelKeys.push(`shopify:${ch.id}`);
    }
    await seedAll(db, channelKeys);
    await adminApi(port, 'POST', '/api/users', {
      email: 'admin@example.com',
      role: 'admin',
      password: PASSWORD,
    });
    const seededMs = performance.now() - t0;
    const cookie = await logIn(base, 'admin@example.com');

    const mid = Math.floor(ORDERS / 2);
    const today = new Date().toISOString().slice(0, 10);
    const pages: [string, string][] = [
      ['dashboard', '/console'],
      ['orders', '/console/orders'],
      ['orders, status on_hold', '/console/orders?status=on_hold'],
      ['orders, channel', `/console/orders?channel=${encodeURIComponent(channelKeys[0]!)}`],
      ['orders, customer', '/console/orders?customer=C17'],
      ['orders, external id', `/console/orders?externalId=B-${mid}`],
      ['orders, placed today', `/console/orders?placedFrom=${today}&placedTo=${today}`],
      ['order detail', `/console/orders/${mid}`],
      ['new phone order', '/console/orders/new'],
      ['stock', '/console/stock'],
      ['stock, low', '/console/stock/alerts/low'],
      ['SKU page', '/console/stock/SKU-00007'],
      ['channels', '/console/channels'],
      ['channel', `/console/channels/${channelKeys[0]!.split(':')[1]}`],
      ['inbound events', '/console/inbound-events'],
      ['customers', '/console/customers'],
      ['customer', '/console/customers/C17'],
      ['price lists', '/console/price-lists'],
      ['contracts', '/console/contracts'],
      ['jobs', '/console/jobs'],
      ['reconciliation', '/console/reconciliation'],
      ['settings', '/console/settings'],
    ];
    console.log(
      `console pages: ${ORDERS} orders (${ORDERS * 2} lines, ~${Math.round(ORDERS * 2.4)} history entries), ${EVENTS} inbound events, ${CUSTOMERS} customers, ${SKUS} SKUs, ${CHANNELS} Shopify channels; seeded in ${Math.round(seededMs / 1000)} s`,
    );
    console.log(
      `each page ${N} times after ${WARMUP} warm-up requests, one at a time, logged in as an admin\n`,
    );
    console.log(
      `${'page'.padEnd(26)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'max'.padStart(7)} ${'KiB'.padStart(6)}  < ${LIMIT_MS} ms p95`,
    );
    const slow: string[] = [];
    const missing: string[] = [];
    for (const [name, path] of pages) {
      const t = await time(base, cookie, name, path);
      if (t.status !== 200) {
        console.log(`${name.padEnd(26)} ${`HTTP ${t.status}`.padStart(23)}         (${path})`);
        missing.push(`${name} (${path}: ${t.status})`);
        continue;
      }
      const p95 = pct(t.times, 0.95);
      const ok = p95 < LIMIT_MS;
      if (!ok) slow.push(`${name} (${path})`);
      const f = (ms: number) => ms.toFixed(1).padStart(7);
      console.log(
        `${name.padEnd(26)} ${f(pct(t.times, 0.5))} ${f(p95)} ${f(t.times.at(-1)!)} ${(t.bytes / 1024).toFixed(1).padStart(6)}  ${ok ? 'yes' : 'NO'}`,
      );
    }
    console.log(
      `\nload average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (missing.length) console.log(`not answered 200: ${missing.join('; ')}`);
    console.log(
      slow.length
        ? `over ${LIMIT_MS} ms at p95: ${slow.join('; ')}`
        : `every page under ${LIMIT_MS} ms at p95`,
    );
  } finally {
    if (daemon) await stopProcess(daemon);
    if (KEEP) {
      console.log(`kept the database: ${url}`);
      await db.destroy();
    } else await drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
