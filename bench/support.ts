import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import knexFactory from 'knex';
import { createDb, type Db, dbTime } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { recordOrder } from '../src/orders/intake.js';
import { type CpuAccount, type CpuProcess, startCpuAccount } from './cpu-account.js';

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

function serverConnection() {
  const u = new URL(BENCH_DATABASE_URL);
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    },
    pool: { min: 0, max: 1 },
  });
}

/** A fresh database on the bench server, migrated; dropped by `drop()`. */
export async function benchDatabase(poolMax = 40): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const name = `sb_bench_${randomBytes(4).toString('hex')}`;
  const root = serverConnection();
  await root.raw(`CREATE DATABASE \`${name}\``);
  await root.destroy();
  const u = new URL(BENCH_DATABASE_URL);
  u.pathname = `/${name}`;
  // BENCH_DB_ISOLATION=repeatable-read measures InnoDB's default beside ours (read-committed).
  const isolation =
    process.env.BENCH_DB_ISOLATION === 'repeatable-read' ? 'repeatable-read' : 'read-committed';
  const db = createDb({ databaseUrl: u.toString(), dataDir: './data', poolMax, isolation });
  await migrateLatest(db);
  return {
    db,
    url: u.toString(),
    async drop() {
      await db.destroy();
      const r = serverConnection();
      await r.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await r.destroy();
    },
  };
}

/** Warehouses and SKUs straight into the tables (set-up is not what is measured). */
export async function seed(
  db: Db,
  skus: number,
  warehouses: number,
  onHandEach: number,
): Promise<{ skuCodes: string[] }> {
  const now = dbTime();
  await db('warehouses').insert(
    Array.from({ length: warehouses }, (_, i) => ({
      code: `W${i + 1}`,
      name: `W${i + 1}`,
      priority: i + 1,
      created_at: now,
      updated_at: now,
    })),
  );
  const skuCodes = Array.from({ length: skus }, (_, i) => `SKU-${String(i + 1).padStart(5, '0')}`);
  for (let i = 0; i < skuCodes.length; i += 500) {
    await db('skus').insert(
      skuCodes.slice(i, i + 500).map((code) => ({
        code,
        name: code,
        unit_price: 1000,
        currency: 'EUR',
        created_at: now,
        updated_at: now,
      })),
    );
  }
  const skuRows = await db('skus').select('id');
  const whRows = await db('warehouses').select('id');
  const levels = skuRows.flatMap((s) =>
    whRows.map((w) => ({
      sku_id: s.id,
      warehouse_id: w.id,
      on_hand: onHandEach,
      reserved: 0,
      updated_at: now,
    })),
  );
  for (let i = 0; i < levels.length; i += 1000) await db('stock_levels').insert(levels.slice(i, i + 1000));
  const moves = levels.map((l) => ({
    sku_id: l.sku_id,
    warehouse_id: l.warehouse_id,
    d_on_hand: onHandEach,
    d_reserved: 0,
    reason: 'receipt',
    ref_type: 'seed',
    ref_id: 'seed',
    created_at: now,
  }));
  for (let i = 0; i < moves.length; i += 1000) await db('stock_movements').insert(moves.slice(i, i + 1000));
  return { skuCodes };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once. */
export async function pool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

export const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

/** The middle value of a list (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export type RulesMode = 'off' | 'on';

/** One round of a side-by-side comparison: its throughput, whether its counts were as expected, and those counts. */
export interface RoundResult {
  rate: number;
  ms: number;
  ok: boolean;
  detail: string;
}

/**
 * The order rules off and on, side by side in one process on one database: `rounds` rounds of each,
 * alternating, and alternating which of the two goes first, so that both see the same machine (a
 * 2-core machine's speed drifts by up to 2x within minutes), the same tables and the same warm caches.
 * A warm-up round of each (round 0, printed, not counted) comes first. Prints every round, the
 * medians, each round's on/off, the ratio of the medians and the median of the rounds' on/off (the
 * figure the target is read from: a round's two runs are seconds apart). `measure` runs one round (its set-up,
 * then the measured part, then its checks). Returns whether every round's counts were as expected.
 */
export async function sideBySide(
  rounds: number,
  unit: string,
  measure: (mode: RulesMode, round: number) => Promise<RoundResult>,
): Promise<{ ok: boolean; ratio: number }> {
  const rates: Record<RulesMode, number[]> = { off: [], on: [] };
  let ok = true;
  // Round 0 warms both paths up (a long-running daemon is warm) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const mode of round % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const r = await measure(mode, round);
      if (round > 0) rates[mode].push(r.rate);
      ok &&= r.ok;
      console.log(
        `${round === 0 ? 'warm-up' : `round ${round}`} ${mode.padEnd(3)} ${String(r.rate).padStart(6)} ${unit}/s ` +
          `(${Math.round(r.ms)} ms): ${r.detail}${r.ok ? '' : ' -> UNEXPECTED'}`,
      );
    }
  }
  const off = Math.round(median(rates.off));
  const on = Math.round(median(rates.on));
  const pairs = rates.on.map((v, i) => (v / rates.off[i]!) * 100);
  const ratio = median(pairs);
  console.log(`${rounds} rounds of each, alternating`);
  console.log(`median without rules (off): ${off} ${unit}/s; every rule on: ${on} ${unit}/s`);
  console.log(`on / off per round: ${pairs.map((p) => `${p.toFixed(1)} %`).join(', ')}`);
  console.log(`ratio of the medians: ${((on / off) * 100).toFixed(1)} %`);
  // A round's two runs come back to back, seconds apart: the machine's drift over minutes cancels
  // within a round, and the median over rounds leaves out the rounds a burst of other work hit.
  console.log(`median of the rounds' on / off: ${ratio.toFixed(1)} % (target >= 80 %)`);
  return { ok, ratio };
}

export function line(label: string, count: number, ms: number, unit = 'ops'): string {
  return `${label.padEnd(58)} ${String(count).padStart(6)} ${unit} in ${String(Math.round(ms)).padStart(6)} ms = ${String(rate(count, ms)).padStart(6)} ${unit}/s`;
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Whether a child process has already exited (then no further 'exit' event comes). */
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Sends SIGTERM (unless it is gone already) and waits for the exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** A daemon's log line at warn level or above, parsed (pino JSON), and its text. */
export type LogSink = (entry: Record<string, unknown>, text: string) => void;

/**
 * Reads a daemon's stdout (its pino log) line by line: entries at warn level or above go to `sink`
 * (default: our stderr), `started` is called on `stockbridge started`, the rest is dropped.
 */
function readLog(child: ChildProcess, sink: LogSink | undefined, started?: () => void) {
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text);
    } catch {
      process.stderr.write(`[daemon ${child.pid}] ${text}\n`);
      return;
    }
    if (entry.msg === 'stockbridge started') started?.();
    if (Number(entry.level ?? 0) < 40) return;
    if (sink) sink(entry, text);
    else process.stderr.write(`${text}\n`);
  });
}

/**
 * Starts the built daemon (`dist/`) with `env` and waits until /readyz answers 200. With `log`,
 * its warnings and errors go there instead of to our stderr.
 */
export async function startDaemon(
  env: Record<string, string>,
  port: number,
  log?: LogSink,
): Promise<ChildProcess> {
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/cli.js', 'start'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', log ? 'pipe' : 'inherit', 'inherit'],
  });
  if (log) readLog(child, log);
  return waitReady(child, port);
}

/**
 * Waits until the daemon `child` answers 200 on /readyz (at most `timeoutMs`); stops it and throws
 * if it exits or never becomes ready.
 */
export async function waitReady(
  child: ChildProcess,
  port: number,
  timeoutMs = 60_000,
): Promise<ChildProcess> {
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error('the daemon exited during start');
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.ok;
      },
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(child);
  throw new Error('the daemon did not become ready');
}

/**
 * Starts a worker-only daemon process (`--roles worker`); it has no HTTP port, so it is ready when
 * it logs `stockbridge started` (its log is read at info level for that line). Its warnings and
 * errors go to `log`, or to our stderr.
 */
export async function startWorkerProcess(env: Record<string, string>, log?: LogSink): Promise<ChildProcess> {
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/cli.js', 'start', '--roles', 'worker'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      if (ready) return;
      child.kill('SIGTERM');
      reject(new Error('worker process did not start'));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`worker process exited during start (code ${code})`));
    });
    readLog(child, log, () => {
      ready = true;
      clearTimeout(timer);
      resolve(child);
    });
  });
}

export interface Daemons {
  /** What runs: `1 process (api,worker,scheduler)` or `api,scheduler + 2 worker processes`. */
  describe: string;
  /** The processes' pids: the one with the api role first, then the worker-only processes. */
  pids: number[];
  stop(): Promise<void>;
}

/** The daemon's processes for a CPU account: `daemon`, or `daemon api` and `daemon workers (N)`. */
export function daemonProcesses(d: Daemons): CpuProcess[] {
  const [api, ...workers] = d.pids;
  if (workers.length === 0) return [{ name: 'daemon', pids: d.pids }];
  return [
    { name: 'daemon api', pids: api === undefined ? [] : [api] },
    { name: `daemon workers (${workers.length})`, pids: workers },
  ];
}

/**
 * The daemon as the benches run it. `workers` 0: one process with all roles (as `npm start`).
 * `workers` N > 0: one process with the api and scheduler roles, plus N processes with the worker
 * role only, all on the same database and Redis (they share the secret key through `env`).
 */
export async function startDaemons(
  env: Record<string, string>,
  port: number,
  workers = 0,
  log?: LogSink,
): Promise<Daemons> {
  const shared = { STOCKBRIDGE_SECRET_KEY: randomBytes(32).toString('hex'), ...env };
  const children: ChildProcess[] = [];
  const stop = async () => {
    // Workers first, so that nothing is left half-done when the API goes.
    await Promise.all(children.slice(1).map(stopProcess));
    if (children[0]) await stopProcess(children[0]);
  };
  try {
    children.push(
      await startDaemon(workers > 0 ? { ...shared, STOCKBRIDGE_ROLES: 'api,scheduler' } : shared, port, log),
    );
    for (let i = 0; i < workers; i++) children.push(await startWorkerProcess(shared, log));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    describe:
      workers > 0
        ? `1 api,scheduler process + ${workers} worker process${workers > 1 ? 'es' : ''}`
        : '1 process (api,worker,scheduler)',
    pids: children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    stop,
  };
}

/** `--name value` / `--name=value` flags and the positional arguments, from `process.argv`. */
export function parseArgs(argv = process.argv.slice(2)): {
  flags: Map<string, string>;
  positional: string[];
} {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    // A flag followed by another flag (or by nothing) has no value: `--side-by-side --workers 2`.
    else if (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) flags.set(arg.slice(2), '');
    else flags.set(arg.slice(2), argv[++i]!);
  }
  return { flags, positional };
}

/** A whole number >= `min` from a flag (or positional) value, else `fallback`. */
export function intArg(value: string | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}`);
  return n;
}

/** The value at fraction `p` of an ascending list. */
export const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

export interface PostRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  /** From the first request sent until the last answer read. */
  ms: number;
  /** The time each request was sent (performance.now()). */
  startedAt: number;
  /** Ack latency of every answer, ascending, in ms. */
  latencies: number[];
  /** Per request: answered with a 2xx. */
  ok: boolean[];
  non2xx: number;
  /** The first few failures: status and body, or the request error. */
  errors: string[];
}

/**
 * POSTs `n` requests to 127.0.0.1:`port` from `concurrency` clients over keep-alive connections
 * (one `http.Agent`, at most `concurrency` sockets), and closes those connections at the end.
 */
export async function postAll(
  port: number,
  n: number,
  concurrency: number,
  make: (i: number) => PostRequest,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const ok: boolean[] = new Array(n).fill(false);
  const errors: string[] = [];
  let non2xx = 0;
  const send = (r: PostRequest) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: r.path,
          agent,
          headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
  const startedAt = performance.now();
  try {
    await pool(n, concurrency, async (i) => {
      const s = performance.now();
      try {
        const res = await send(make(i));
        latencies.push(performance.now() - s);
        if (res.status >= 200 && res.status < 300) ok[i] = true;
        else {
          non2xx++;
          if (errors.length < 3) errors.push(`#${i}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
        }
      } catch (err) {
        latencies.push(performance.now() - s);
        non2xx++;
        if (errors.length < 3) errors.push(`#${i}: ${(err as Error).message}`);
      }
    });
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  return { ms: performance.now() - startedAt, startedAt, latencies, ok, non2xx, errors };
}

export const RESERVED_STATUSES = ['confirmed', 'backordered'] as const;

/**
 * Waits until every order of `channel` whose external id is in `expected` is reserved (confirmed
 * or backordered), polling the database: a cheap count over the external id prefix every 25 ms,
 * then an exact check once the count is high enough. Returns performance.now() at that moment,
 * or null after `timeoutMs` without it.
 */
export async function waitReserved(
  db: Db,
  channel: string,
  prefix: string,
  expected: string[],
  timeoutMs = 120_000,
): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  const reserved = () =>
    db('orders')
      .where('channel', channel)
      .whereIn('status', [...RESERVED_STATUSES]);
  while (performance.now() < deadline) {
    const [row] = (await reserved().where('external_id', 'like', `${prefix}%`).count({ n: '*' })) as {
      n: number;
    }[];
    if (Number(row!.n) >= expected.length) {
      let found = 0;
      for (let i = 0; i < expected.length; i += 1000) {
        const [c] = (await reserved()
          .whereIn('external_id', expected.slice(i, i + 1000))
          .count({ n: '*' })) as { n: number }[];
        found += Number(c!.n);
      }
      if (found === expected.length) return performance.now();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return null;
}

/** `confirmed 3990, backordered 10` for the orders of `channel` with the external id prefix. */
export async function statusSummary(db: Db, channel: string, prefix: string): Promise<string> {
  const rows = (await db('orders')
    .where('channel', channel)
    .where('external_id', 'like', `${prefix}%`)
    .select('status')
    .count({ n: '*' })
    .groupBy('status')) as { status: string; n: number }[];
  return rows.map((r) => `${r.status} ${r.n}`).join(', ') || 'no orders';
}

export interface IntakeResult {
  load: LoadResult;
  /** From the first order sent until every acknowledged order is reserved; null on timeout. */
  e2eMs: number | null;
  statuses: string;
  /** With `cpu`: the CPU account from the first order sent until every acknowledged order is reserved. */
  cpu?: CpuAccount;
}

/**
 * The API path end to end: POSTs `bodies` (orders whose `externalId` starts with `prefix`) to
 * `/api/orders`, then waits until every acknowledged (202) order is reserved.
 */
export async function apiIntake(o: {
  db: Db;
  port: number;
  token: string;
  bodies: string[];
  externalIds: string[];
  prefix: string;
  concurrency: number;
  /** The processes to keep a CPU account of (see bench/cpu-account.ts). */
  cpu?: CpuProcess[];
}): Promise<IntakeResult> {
  const headers = { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' };
  const account = o.cpu && startCpuAccount(o.cpu);
  const load = await postAll(o.port, o.bodies.length, o.concurrency, (i) => ({
    path: '/api/orders',
    headers,
    body: o.bodies[i]!,
  }));
  const acked = o.externalIds.filter((_, i) => load.ok[i]);
  const doneAt = await waitReserved(o.db, 'api', o.prefix, acked);
  const cpu = account?.stop();
  return {
    load,
    e2eMs: doneAt === null ? null : doneAt - load.startedAt,
    statuses: await statusSummary(o.db, 'api', o.prefix),
    ...(cpu ? { cpu } : {}),
  };
}

/** The admin token every bench daemon is started with. */
export const BENCH_TOKEN = 'bench-admin-token-0123456789abcdef';

/** What every bench daemon is started with: the bench's database, Redis, port and its own prefix. */
export function benchDaemonEnv(url: string, port: number, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: url,
    REDIS_URL: BENCH_REDIS_URL,
    PORT: String(port),
    HOST: '127.0.0.1',
    STOCKBRIDGE_QUEUE_PREFIX: prefix,
    STOCKBRIDGE_ADMIN_TOKEN: BENCH_TOKEN,
    STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-bench-')),
    STOCKBRIDGE_WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY ?? '64',
    LOG_LEVEL: 'warn',
  };
}

/** Calls a bench daemon's admin API; an answer of 300 or more throws with its body. */
export async function adminApi(port: number, method: string, url: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

/** One promotion every order takes: 5 % off each line (with a usage limit for `limited`). */
export async function seedPromotion(db: Db, usageLimit: number | null): Promise<string> {
  const now = dbTime();
  await db('promotions').insert({
    code: 'BENCH-5',
    name: 'Bench 5 %',
    kind: 'percent',
    applies_to: 'line',
    percent_bp: 500,
    customers: '[]',
    customer_groups: '[]',
    channels: '[]',
    skus: '[]',
    usage_limit: usageLimit,
    created_at: now,
    updated_at: now,
  });
  return `promotion: 5 % off every line${usageLimit === null ? '' : `, limited to ${usageLimit} uses`}`;
}

/**
 * The hot-SKU benches' customers: one salesperson (`SP-HOT`) with a credit limit and, per set,
 * `count` customers of it (`<prefix>0`, `<prefix>1`, …) with a credit limit high enough that
 * nothing is held, in group `retail` when the set says so (credit control then leaves them alone).
 */
export async function seedHotCustomers(
  db: Db,
  sets: readonly { prefix: string; retail: boolean }[],
  count = 100,
): Promise<void> {
  const now = dbTime();
  const [sp] = await db('salespeople').insert({
    code: 'SP-HOT',
    name: 'Hot salesperson',
    credit_limit: 1_000_000_000_000,
    credit_currency: 'EUR',
    created_at: now,
    updated_at: now,
  });
  await db('customers').insert(
    sets.flatMap(({ prefix, retail }) =>
      Array.from({ length: count }, (_, c) => ({
        code: `${prefix}${c}`,
        name: `${retail ? 'Retail' : 'Trade'} customer ${c}`,
        salesperson_id: sp,
        credit_limit: 1_000_000_000,
        credit_currency: 'EUR',
        ...(retail ? { customer_group: 'retail' } : {}),
        created_at: now,
        updated_at: now,
      })),
    ),
  );
}

/**
 * Takes in the hot-SKU benches' order number `i` of a channel (as intake stores it: status
 * `received`): one unit of `sku` at 10.00 EUR, with the line's own discount and the customer (by
 * code) when given. Returns the order's id.
 */
export async function recordOneUnitOrder(
  db: Db,
  o: { channel: string; i: number; sku: string; discount?: number; customer?: string },
): Promise<number> {
  const r = await recordOrder(db, {
    channel: o.channel,
    deliveryId: `d${o.i}`,
    topic: 'orders/create',
    rawPayload: '{}',
    order: {
      externalId: `o${o.i}`,
      currency: 'EUR',
      lines: [{ sku: o.sku, quantity: 1, unitPrice: 1000, ...(o.discount ? { discount: o.discount } : {}) }],
      ...(o.customer ? { customer: { code: o.customer } } : {}),
    },
  });
  return r.orderId;
}

/** How many orders took the promotion, its uses and its counter. */
export async function promotionCounts(db: Db): Promise<string> {
  const [orders] = (await db('orders').count({ n: '*' })) as { n: number }[];
  const [taken] = (await db('order_line_promotions').countDistinct({ n: 'order_id' })) as { n: number }[];
  const [uses] = (await db('promotion_uses').sum({ n: 'delta' })) as { n: number }[];
  const p = await db('promotions').where({ code: 'BENCH-5' }).first('used', 'usage_limit');
  return `promotions: ${taken!.n} of ${orders!.n} orders took the promotion; uses ${Number(uses!.n ?? 0)}, counter ${p ? (p.usage_limit === null ? 'not kept (no limit)' : p.used) : '-'}`;
}
