import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';
import { waitFor } from '../helpers/wait.js';

const root = path.resolve(import.meta.dirname, '../..');

/** A copy of what `npm start` needs of the repository, without node_modules (so no TypeScript). */
function treeWithoutTypescript(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tree-'));
  mkdirSync(path.join(dir, 'scripts'));
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  copyFileSync(path.join(root, 'scripts/run.mjs'), path.join(dir, 'scripts/run.mjs'));
  return dir;
}

describe('npm start without TypeScript (NODE_ENV=production npm ci)', () => {
  it('stops with the advice to build once or use the Docker image, not "tsc: not found"', async () => {
    const r = await runCommand('npm', ['start', '--silent'], {
      cwd: treeWithoutTypescript(),
      env: plainEnv({ NODE_ENV: 'production' }),
    });
    expect(r.killed, r.out).toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('not found');
    for (const advice of ['NODE_ENV=production npm ci', 'npm ci && npm run build', 'Docker image'])
      expect(r.out).toContain(advice);
  });

  it('runs a tree built earlier without needing TypeScript', async () => {
    const dir = treeWithoutTypescript();
    mkdirSync(path.join(dir, 'dist/src'), { recursive: true });
    // A stand-in for the built CLI that says how it was called.
    writeFileSync(
      path.join(dir, 'dist/src/cli.js'),
      "process.stdout.write('built cli: ' + process.argv.slice(2).join(' ') + '\\n');\n",
    );
    writeFileSync(path.join(dir, 'dist/package.json'), '{"type":"module"}');
    const r = await runCommand('npm', ['run', 'migrate', '--silent'], {
      cwd: dir,
      env: plainEnv({ NODE_ENV: 'production' }),
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('built cli: migrate');
  });
});

describe('npm start in development', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('builds, starts a local redis-server with its data under the data dir when none answers, and serves', async () => {
    const redisPort = await freePort();
    const httpPort = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-data-'));
    const child = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: plainEnv({
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        PORT: String(httpPort),
        HOST: '127.0.0.1',
        STOCKBRIDGE_DATA_DIR: dataDir,
        STOCKBRIDGE_QUEUE_PREFIX: `sbtest-npmstart-${redisPort}`,
        LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await exited;
    });
    const redis = new Redis(`redis://127.0.0.1:${redisPort}`, {
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    cleanups.push(async () => {
      await redis.shutdown('NOSAVE').catch(() => {});
      redis.disconnect();
    });

    // A cold build on a busy machine takes a while: the limit is generous.
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      { timeoutMs: 240_000, intervalMs: 250, message: () => `/readyz to answer 200; output:\n${out}` },
    );
    expect(out).toContain(`starting`);
    expect(out).toContain(`redis-server on 127.0.0.1:${redisPort}`);
    await redis.connect();
    const [, dir] = (await redis.config('GET', 'dir')) as [string, string];
    expect(realpathSync(dir)).toBe(realpathSync(dataDir));
    // JSON lines when not on a terminal.
    expect(out).toContain('"msg":"stockbridge started"');
  }, 300_000);
});
