import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
