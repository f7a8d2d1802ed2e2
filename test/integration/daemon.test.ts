import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../jobs/index.js';
import { startMaintenanceWorker, startScheduler } from '../../src/scheduler.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { createStack, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Runs the CLI from source and collects what it prints and how it exits. A run still going after
 * `untilMs` (a generous limit for a busy machine) is killed and reported as `killed`.
 */
function runCli(
  args: string[],
  env: Record<string, string>,
  untilMs = 60_000,
): Promise<{ code: number | null; out: string; killed: boolean }> {
  let killed = false;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, untilMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    }),
  );
}

describe('start-up checks', () => {
  it('stops at once, saying where it looked and how to start Redis, when Redis is unreachable', async () => {
    const r = await runCli(['start'], {
      REDIS_URL: 'redis://:hunter2@127.0.0.1:1',
      STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-')),
    });
    // It stopped by itself, after one check: no hang and no reconnect loop (those never exit).
    expect(r.killed, r.out).toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).toContain('redis://:***@127.0.0.1:1');
    expect(r.out).toContain('redis-server --daemonize yes');
    expect(r.out).not.toContain('hunter2');
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
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 100, message: () => `/readyz to answer 200; output:\n${out}` },
    );
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
    // Every tick of either scheduler, by the job id it asked for.
    const ticks: string[] = [];
    const add = queue.add.bind(queue);
    queue.add = ((name, data, opts) => {
      ticks.push(String(opts?.jobId));
      return add(name, data, opts);
    }) as typeof queue.add;
    // Every run, by the id of the job that ran (the worker puts it on the job's logger).
    const runs: string[] = [];
    const job: ScheduledJob = {
      name: 'tick',
      cron: '* * * * * *',
      run: async ({ log }) => {
        runs.push(String(log.bindings().jobId));
        return { ok: true };
      },
    };
    const log = pino({ level: 'silent' });
    const a = startScheduler(queue, log, [job]);
    const b = startScheduler(queue, log, [job]);
    const worker = startMaintenanceWorker(conn, prefix, { db: null as never, log }, [job]);
    try {
      // Both schedulers have ticked a few times (more ticks than periods) and a job ran.
      await waitFor(() => ticks.length >= 6 && new Set(ticks).size < ticks.length && runs.length >= 1, {
        timeoutMs: 60_000,
        message: () => `ticks and a run (ticks ${ticks.join(', ')}; runs ${runs.join(', ')})`,
      });
    } finally {
      a.stop();
      b.stop();
    }
    try {
      // Whatever was enqueued has run, and nothing is left waiting to run again.
      await waitFor(
        async () => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          const left = Object.values(counts).reduce((x, y) => x + y, 0);
          return left === 0 && ticks.every((id) => runs.includes(id));
        },
        { timeoutMs: 30_000, message: () => `every period run (ticks ${ticks.join(', ')}; runs ${runs}` },
      );
    } finally {
      await worker.close();
    }
    // Two schedulers ticking every second ask for the same job id within one period: each period
    // that was asked for ran exactly once.
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(runs).size).toBe(runs.length);
    expect(new Set(runs)).toEqual(new Set(ticks));
    await queue.obliterate({ force: true });
    await queue.close();
    conn.disconnect();
  });
});
