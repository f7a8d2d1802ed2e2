import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../jobs/index.js';
import { periodKey, startMaintenanceWorker, startScheduler } from '../../src/scheduler.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { createStack, type TestStack } from '../helpers/stack.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs the CLI from source and collects what it prints and how it exits. */
function runCli(
  args: string[],
  env: Record<string, string>,
  untilMs = 20_000,
): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), untilMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    }),
  );
}

describe('start-up checks', () => {
  it('stops at once, saying where it looked and how to start Redis, when Redis is unreachable', async () => {
    const r = await runCli(['start'], {
      REDIS_URL: 'redis://:hunter2@127.0.0.1:1',
      STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-')),
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('redis://:***@127.0.0.1:1');
    expect(r.out).toContain('redis-server --daemonize yes');
    expect(r.out).not.toContain('hunter2');
    expect(r.ms).toBeLessThan(15_000);
  });

  it('names every bad configuration key and exits 2', async () => {
    const r = await runCli(['start'], {
      PORT: 'x',
      STOCKBRIDGE_ROLES: 'api,chef',
      DATABASE_URL: 'postgres://nope',
    });
    expect(r.code).toBe(2);
    for (const key of ['PORT', 'STOCKBRIDGE_ROLES', 'DATABASE_URL']) expect(r.out).toContain(key);
  });
});

describe('graceful shutdown', () => {
  let stack: TestStack;
  afterAll(async () => {
    await stack?.close();
  });

  it('answers requests, then on SIGTERM finishes and exits 0', async () => {
    stack = await createStack();
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: stack.database.url,
        REDIS_URL: TEST_REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        STOCKBRIDGE_QUEUE_PREFIX: stack.prefix,
        STOCKBRIDGE_ADMIN_TOKEN: 'daemon-test-token-0123456789',
        STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-')),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
    const unauth = await fetch(`http://127.0.0.1:${port}/api/orders`);
    expect(unauth.status).toBe(401);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('stockbridge stopped');
    expect(out).not.toContain('daemon-test-token-0123456789');
  });
});

describe('scheduler', () => {
  it('enqueues each period once however many schedulers run, and a worker runs the job', async () => {
    const prefix = `sbtest-sched-${Date.now()}`;
    const conn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('maintenance', { connection: conn, prefix });
    const runs: string[] = [];
    const job: ScheduledJob = {
      name: 'tick',
      cron: '* * * * * *',
      run: async () => {
        runs.push(periodKey(new Date()));
        return { ok: true };
      },
    };
    const log = pino({ level: 'silent' });
    const a = startScheduler(queue, log, [job]);
    const b = startScheduler(queue, log, [job]);
    const worker = startMaintenanceWorker(conn, prefix, { db: null as never, log }, [job]);
    await new Promise((r) => setTimeout(r, 2500));
    a.stop();
    b.stop();
    await worker.close();
    // Two schedulers ticking every second within one minute share one job id: one run.
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(runs).size).toBe(runs.length);
    await queue.obliterate({ force: true });
    await queue.close();
    conn.disconnect();
  });
});
