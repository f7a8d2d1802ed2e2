import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import knexFactory from 'knex';
import { createDb, type Db, dbTime } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';

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
  const db = createDb({ databaseUrl: u.toString(), dataDir: './data', poolMax });
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

/** Starts the built daemon (`dist/`) with `env` and waits until /readyz answers 200. */
export async function startDaemon(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/cli.js', 'start'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 300; i++) {
    if (exited) throw new Error('daemon exited during start');
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('daemon did not become ready');
}
