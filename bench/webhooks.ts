/**
 * Shopify webhooks, side by side in one run under the same load:
 *
 * - a bare baseline: a `node:http` server in a child process that reads the body, checks the
 *   Shopify HMAC with `timingSafeEqual`, stores the payload with one autocommit INSERT (mysql2 pool
 *   of 20, unique on the delivery id) and answers 200 — the least a durable webhook receiver does;
 * - the daemon's `POST /webhooks/{channelId}` (the built daemon, all roles in one process, or with
 *   `--workers N` an api+scheduler process and N worker processes), for a Shopify channel created
 *   through the admin API with 500 SKUs mapped by variant id; and end to end, from the first
 *   delivery sent until every acknowledged order is reserved (found by polling the database);
 * - the API path end to end (`POST /api/orders`) with the same orders, as `bench/intake.ts` does.
 *
 * Each delivery is a signed `orders/create` built from Shopify's sample order
 * (test/fixtures/shopify/orders-create.json) with ids above 2^53 written as raw JSON digits, a
 * distinct order id, order number, customer and `X-Shopify-Webhook-Id`, and one line of one unit.
 * Shapes: `hot` (every order for one SKU) and `spread` (over 500 SKUs).
 *
 * After each shape, a CPU account of its three phases (Linux, from /proc; see bench/cpu-account.ts):
 * CPU ms per delivery (per order) of the baseline server, the daemon, mariadbd, redis-server and this
 * process (the load generator), and the machine's idle share.
 *
 *   npm run build && npx tsx bench/webhooks.ts [--n 4000] [--concurrency 64] [--shape hot|spread|both] [--workers 0]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { channelKey } from '../src/channels/channel-store.js';
import { benchProcess, type CpuProcess, cpuLine, serverProcesses, startCpuAccount } from './cpu-account.js';
import {
  adminApi,
  apiIntake,
  BENCH_TOKEN,
  benchDaemonEnv,
  benchDatabase,
  type Daemons,
  daemonProcesses,
  freePort,
  type IntakeResult,
  intArg,
  type LoadResult,
  type LogSink,
  line,
  type PostRequest,
  parseArgs,
  pct,
  pool,
  postAll,
  rate,
  seed,
  startDaemons,
  statusSummary,
  waitReserved,
} from './support.js';

const TOKEN = BENCH_TOKEN;
const SECRET = 'shopify-app-client-secret-bench';
const SHOP = 'bench-shop.myshopify.com';
const SKUS = 500;
const BASELINE_TABLE = 'bench_webhook_deliveries';
const FIXTURE = 'test/fixtures/shopify/orders-create.json';

type Shape = 'hot' | 'spread';

// ---------------------------------------------------------------------------------------------
// The baseline receiver (runs in a child process: `webhooks.ts --baseline-server`).

async function baselineServer() {
  const secret = process.env.BENCH_WEBHOOK_SECRET!;
  const db = mysql.createPool({ uri: process.env.BENCH_BASELINE_DATABASE_URL!, connectionLimit: 20 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const sent = Buffer.from(String(req.headers['x-shopify-hmac-sha256'] ?? ''), 'utf8');
      const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64'), 'utf8');
      if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_signature"}');
        return;
      }
      try {
        await db.execute(
          `INSERT INTO ${BASELINE_TABLE} (delivery_id, topic, shop, payload, received_at) VALUES (?, ?, ?, ?, NOW(3))`,
          [
            String(req.headers['x-shopify-webhook-id'] ?? ''),
            String(req.headers['x-shopify-topic'] ?? ''),
            String(req.headers['x-shopify-shop-domain'] ?? ''),
            body.toString('utf8'),
          ],
        );
      } catch (err) {
        // A re-delivery is stored already: acknowledged like the first.
        if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') {
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message }));
          return;
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  // Told to stop (or the parent went away): close the server, its connections and the pool, and
  // let the process end by itself.
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    server.close();
    server.closeAllConnections();
    db.end().catch(() => {});
    if (process.connected) process.disconnect();
  };
  process.on('message', (m) => m === 'stop' && stop());
  process.on('disconnect', stop);
}

async function startBaseline(databaseUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = fork(fileURLToPath(import.meta.url), ['--baseline-server'], {
    env: { ...process.env, BENCH_WEBHOOK_SECRET: SECRET, BENCH_BASELINE_DATABASE_URL: databaseUrl },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`baseline server exited (code ${code})`)));
  });
  return { port, child };
}

async function stopBaseline(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('stop');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Deliveries: Shopify's sample order as a text template, so that big ids stay raw JSON digits.

/** The index just after the `{...}` or `[...]` that opens at `open` (strings skipped). */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error('unbalanced JSON');
}

/** JSON text without the whitespace between tokens (as Shopify sends it), digits untouched. */
function compact(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (!/\s/.test(ch)) out += ch;
  }
  return out;
}

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the sample order has no ${from}`);
  return text.replaceAll(from, to);
}

/** The sample order with placeholders (`__ORDER__`, ...) and its first line item only. */
function orderTemplate(): string {
  let t = compact(readFileSync(FIXTURE, 'utf8'));
  const key = '"line_items":[';
  const arrayStart = t.indexOf(key) + key.length - 1;
  const arrayEnd = closing(t, arrayStart);
  let item = t.slice(arrayStart + 1, closing(t, arrayStart + 1));
  item = replaceOnce(item, '866550311766439020', '__LINE__');
  item = replaceOnce(item, '"sku":"IPOD2008PINK"', '"sku":"__SKU__"');
  item = replaceOnce(item, '"variant_id":808950810', '"variant_id":__VARIANT__');
  item = replaceOnce(item, '"product_id":632910392', '"product_id":__PRODUCT__');
  t = `${t.slice(0, arrayStart)}[${item}]${t.slice(arrayEnd)}`;
  t = replaceOnce(t, '820982911946154508', '__ORDER__');
  t = replaceOnce(t, '115310627314723954', '__CUSTOMER__');
  t = replaceOnce(t, '"jon@example.com"', '"__EMAIL__"');
  t = replaceOnce(t, '"john@example.com"', '"__EMAIL__"');
  t = replaceOnce(t, '"name":"#9999"', '"name":"#__NUMBER__"');
  t = replaceOnce(t, '"number":234', '"number":__NUMBER__');
  t = replaceOnce(t, '"order_number":1234', '"order_number":__ORDER_NUMBER__');
  return t;
}

// All 18 digits, above 2^53 = 9007199254740992 (16 digits).
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const orderIdPrefix = (shape: Shape) => `82098291194${shape === 'hot' ? 1 : 2}`;
const orderIdOf = (shape: Shape, i: number) => `${orderIdPrefix(shape)}${pad(i, 6)}`;
const customerIdOf = (shape: Shape, i: number) => `11531062731${shape === 'hot' ? 1 : 2}${pad(i, 6)}`;
const lineIdOf = (shape: Shape, i: number) => `86655031176${shape === 'hot' ? 1 : 2}${pad(i, 6)}`;
const variantIdOf = (sku: number) => `4400000000${pad(sku, 8)}`;
const productIdOf = (sku: number) => `7700000000${pad(sku, 8)}`;
const inventoryItemIdOf = (sku: number) => `4900000000${pad(sku, 8)}`;
const skuIndexOf = (shape: Shape, i: number) => (shape === 'hot' ? 0 : (i * 7) % SKUS);

interface Delivery {
  orderId: string;
  headers: Record<string, string>;
  body: string;
}

function deliveries(shape: Shape, n: number, skuCodes: string[]): Delivery[] {
  const template = orderTemplate();
  return Array.from({ length: n }, (_, i) => {
    const k = skuIndexOf(shape, i);
    const orderId = orderIdOf(shape, i);
    const values: Record<string, string> = {
      ORDER: orderId,
      CUSTOMER: customerIdOf(shape, i),
      EMAIL: `buyer-${shape}-${i}@example.com`,
      NUMBER: String(1001 + i),
      ORDER_NUMBER: String(1001 + i),
      LINE: lineIdOf(shape, i),
      SKU: skuCodes[k]!,
      VARIANT: variantIdOf(k),
      PRODUCT: productIdOf(k),
    };
    const body = template.replace(/__([A-Z_]+?)__/g, (_, name: string) => values[name]!);
    return {
      orderId,
      body,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': SHOP,
        'x-shopify-api-version': '2026-10',
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-triggered-at': new Date().toISOString(),
        'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
      },
    };
  });
}

/** The same orders for `POST /api/orders`: one line of one unit, a new buyer each (as the webhooks bring). */
function apiOrders(shape: Shape, n: number, skuCodes: string[]) {
  const prefix = `wh-api-${shape}-`;
  const externalIds = Array.from({ length: n }, (_, i) => `${prefix}${pad(i, 6)}`);
  const bodies = externalIds.map((externalId, i) =>
    JSON.stringify({
      externalId,
      currency: 'USD',
      customer: {
        channelCustomerId: `${shape}-${i}`,
        name: 'John Smith',
        email: `buyer-${shape}-${i}@example.com`,
      },
      lines: [{ sku: skuCodes[skuIndexOf(shape, i)]!, quantity: 1, unitPrice: 19900 }],
    }),
  );
  return { prefix, externalIds, bodies };
}

// ---------------------------------------------------------------------------------------------
// A fake Shopify Admin API for the channel's scheduled pulls (nothing new) and stock pushes (ok).

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

function fakeShopify(): Server {
  const cost = { throttleStatus: { maximumAvailable: 20000, currentlyAvailable: 19990, restoreRate: 1000 } };
  return createServer(async (req, res) => {
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json');
    if (body.includes('inventorySetQuantities')) {
      res.end(
        JSON.stringify({
          data: {
            inventorySetQuantities: {
              inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
              userErrors: [],
            },
          },
          extensions: { cost },
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } },
        extensions: { cost },
      }),
    );
  });
}

const api = adminApi;

// ---------------------------------------------------------------------------------------------

const ms = (v: number) => `${v.toFixed(1)} ms`;

function ackLine(label: string, n: number, r: LoadResult, unit = 'deliveries'): string {
  return `${line(label, n, r.ms, unit)}; ack p50 ${ms(pct(r.latencies, 0.5))}, p99 ${ms(pct(r.latencies, 0.99))}; non-2xx ${r.non2xx}`;
}

/** The daemon's warnings and errors (its stdout is read by the bench, not shown). */
const daemonLog: Record<string, unknown>[] = [];
const toDaemonLog: LogSink = (entry) => daemonLog.push(entry);

/** An error's cause from a log entry: the database's message without the SQL before it. */
function causeOf(entry: Record<string, unknown>): string {
  const first = String(entry.err ?? entry.msg ?? '').split('\n')[0]!;
  const sql = first.lastIndexOf(' - ');
  return (sql >= 0 ? first.slice(sql + 3) : first).slice(0, 200);
}

/** The first failures, each with the daemon's logged cause (the 500 body only names a request id). */
function printErrors(r: LoadResult) {
  for (const e of r.errors) {
    const requestId = /"requestId":"([^"]+)"/.exec(e)?.[1];
    const logged = requestId && daemonLog.find((l) => l.requestId === requestId && l.err);
    console.log(`    error ${e}${logged ? `\n      daemon log: ${causeOf(logged)}` : ''}`);
  }
}

/** What the daemon logged at warn or error level since `from` (an index into daemonLog), by cause. */
function printDaemonLog(from: number) {
  const counts = new Map<string, number>();
  for (const entry of daemonLog.slice(from)) {
    if (entry.msg === 'request failed') continue; // the same failure as its 'unhandled error' entry
    const key = `${Number(entry.level) >= 50 ? 'error' : 'warn'} "${entry.msg}": ${causeOf(entry)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
    console.log(`    daemon log: ${n} x ${key}`);
  }
}

function e2eLine(label: string, count: number, e2eMs: number | null, statuses: string): string {
  return e2eMs === null
    ? `${label.padEnd(58)} NOT all ${count} reserved within 120 s after the last ack (${statuses})`
    : `${line(label, count, e2eMs, 'orders')} (${statuses})`;
}

async function main() {
  const { flags } = parseArgs();
  const N = intArg(flags.get('n'), 4000, '--n');
  const CONCURRENCY = intArg(flags.get('concurrency'), 64, '--concurrency');
  const WORKERS = intArg(flags.get('workers'), 0, '--workers', 0);
  const shapeFlag = flags.get('shape') ?? 'both';
  if (!['hot', 'spread', 'both'].includes(shapeFlag)) throw new Error('--shape must be hot, spread or both');
  const shapes: Shape[] = shapeFlag === 'both' ? ['hot', 'spread'] : [shapeFlag as Shape];
  if (N > 999_999) throw new Error('--n must be below 1,000,000 (the order ids have six digits for it)');
  if (!existsSync('dist/src/cli.js')) throw new Error('run `npm run build` first');

  const fake = fakeShopify();
  const fakePort = await new Promise<number>((resolve) =>
    fake.listen(0, '127.0.0.1', () => resolve((fake.address() as { port: number }).port)),
  );
  const { db, url, drop } = await benchDatabase(10);
  const port = await freePort();
  let daemons: Daemons | null = null;
  let baseline: { port: number; child: ChildProcess } | null = null;
  try {
    const { skuCodes } = await seed(db, SKUS, 2, 1_000_000);
    await db.raw(
      `CREATE TABLE ${BASELINE_TABLE} (
         id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
         delivery_id VARCHAR(100) NOT NULL,
         topic VARCHAR(64) NOT NULL,
         shop VARCHAR(255) NOT NULL,
         payload MEDIUMTEXT NOT NULL,
         received_at DATETIME(3) NOT NULL,
         UNIQUE KEY uq_delivery (delivery_id)
       ) ENGINE=InnoDB`,
    );
    daemons = await startDaemons(
      benchDaemonEnv(url, port, `bench-wh-${Date.now()}`),
      port,
      WORKERS,
      toDaemonLog,
    );
    const channel = await api(port, 'POST', '/api/channels', {
      type: 'shopify',
      name: 'Bench shop',
      settings: {
        shopDomain: SHOP,
        accessToken: `shpat_${randomBytes(8).toString('hex')}`,
        webhookSecret: SECRET,
        apiBaseUrl: `http://127.0.0.1:${fakePort}/admin/api/2026-10`,
        locationId: '1',
        plan: 'plus',
        pullIntervalSeconds: 86_400,
        pullStartAt: new Date().toISOString(),
      },
    });
    const key = channelKey({ type: 'shopify', id: channel.id });
    await pool(skuCodes.length, 8, (k) =>
      api(port, 'PUT', `/api/channels/${channel.id}/skus/${skuCodes[k]}`, {
        variantId: variantIdOf(k),
        productId: productIdOf(k),
        inventoryItemId: inventoryItemIdOf(k),
      }),
    );
    baseline = await startBaseline(url);

    console.log(
      `webhooks: ${N} signed orders/create deliveries per shape (Shopify sample order, ids > 2^53, one line of one unit), ` +
        `${CONCURRENCY} keep-alive clients; ${SKUS} SKUs mapped by variant id; daemon: ${daemons.describe}`,
    );
    // Warm-up, not measured: the baseline's pool opens its connections, both servers compile
    // their hot code (the daemon has served the channel and mapping requests already).
    const warmUp = deliveries('hot', CONCURRENCY, skuCodes);
    await postAll(baseline.port, warmUp.length, CONCURRENCY, (i) => ({ path: '/', ...warmUp[i]! }));
    // The CPU account of each phase (processes found once, before the phases): the baseline
    // server, the daemon, the database, Redis and this process (the load generator, and the fake
    // Shopify the daemon's scheduled pulls reach).
    const cpuProcesses: CpuProcess[] = [
      { name: 'baseline server', pids: baseline.child.pid === undefined ? [] : [baseline.child.pid] },
      ...daemonProcesses(daemons),
      ...serverProcesses(),
      benchProcess('load generator'),
    ];
    const summary: string[] = [];
    for (const shape of shapes) {
      const list = deliveries(shape, N, skuCodes);
      const request = (p: string) => (i: number) =>
        ({ path: p, headers: list[i]!.headers, body: list[i]!.body }) satisfies PostRequest;
      console.log(`\n[${shape}] ${shape === 'hot' ? `every order for ${skuCodes[0]}` : `over ${SKUS} SKUs`}`);

      const baseAccount = startCpuAccount(cpuProcesses);
      const base = await postAll(baseline.port, N, CONCURRENCY, request('/'));
      const baseCpu = baseAccount.stop();
      console.log(ackLine('baseline: HMAC + durable INSERT per request', N, base));
      printErrors(base);

      const logFrom = daemonLog.length;
      const hookAccount = startCpuAccount(cpuProcesses);
      const hook = await postAll(port, N, CONCURRENCY, request(`/webhooks/${channel.id}`));
      console.log(ackLine('stockbridge: POST /webhooks/{channel}', N, hook));
      printErrors(hook);
      printDaemonLog(logFrom);
      const acked = list.filter((_, i) => hook.ok[i]).map((d) => d.orderId);
      const hookDone = await waitReserved(db, key, orderIdPrefix(shape), acked);
      const hookCpu = hookAccount.stop();
      const hookE2e = hookDone === null ? null : hookDone - hook.startedAt;
      console.log(
        e2eLine(
          'stockbridge webhook end to end (sent -> reserved)',
          acked.length,
          hookE2e,
          await statusSummary(db, key, orderIdPrefix(shape)),
        ),
      );

      const orders = apiOrders(shape, N, skuCodes);
      const apiRun: IntakeResult = await apiIntake({
        db,
        port,
        token: TOKEN,
        concurrency: CONCURRENCY,
        ...orders,
        cpu: cpuProcesses,
      });
      console.log(ackLine('stockbridge: POST /api/orders (same orders)', N, apiRun.load, 'orders'));
      printErrors(apiRun.load);
      const apiAcked = apiRun.load.ok.filter(Boolean).length;
      console.log(
        e2eLine('stockbridge API end to end (sent -> reserved)', apiAcked, apiRun.e2eMs, apiRun.statuses),
      );

      const pctOf = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
      const hookRate = rate(N, hook.ms);
      const p99x = pct(hook.latencies, 0.99) / pct(base.latencies, 0.99);
      const e2eRatio =
        hookE2e === null || apiRun.e2eMs === null
          ? 'n/a (not all reserved)'
          : pctOf(rate(acked.length, hookE2e), rate(apiAcked, apiRun.e2eMs));
      const ratios =
        `[${shape}] webhook deliveries/s ${pctOf(hookRate, rate(N, base.ms))} of the baseline (target >= 60 %); ` +
        `ack p99 ${p99x.toFixed(1)}x the baseline's (target <= 2x); non-2xx ${hook.non2xx} (target 0); ` +
        `webhook end to end ${e2eRatio} of the API path's (target >= 80 %)`;
      console.log(ratios);
      summary.push(ratios);
      console.log(cpuLine(`[${shape}] baseline phase`, baseCpu, N, 'delivery'));
      console.log(cpuLine(`[${shape}] webhook phase (sent -> reserved)`, hookCpu, N, 'delivery'));
      if (apiRun.cpu) console.log(cpuLine(`[${shape}] API phase (sent -> reserved)`, apiRun.cpu, N, 'order'));
    }
    if (summary.length > 1) console.log(`\n${summary.join('\n')}`);
  } finally {
    if (baseline) await stopBaseline(baseline.child);
    await daemons?.stop();
    await new Promise((r) => fake.close(r));
    await drop();
  }
}

if (process.argv[2] === '--baseline-server') {
  void baselineServer();
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
