import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import knexFactory from 'knex';
import { describe, expect, it } from 'vitest';
import { ensureMariaDb, ensureRedis, mysqlAnswers, redisAnswers } from '../../src/dev/local-services.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/db.js';
import { freePort } from '../helpers/ports.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';

const quiet = { say: () => {} };

describe('local Redis for development and tests', () => {
  it('starts the installed redis-server when none answers, with its data in the given folder', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-redis-'));
    expect(await redisAnswers(url)).toBe(false);
    expect(await ensureRedis(url, dataDir, 'REDIS_URL', quiet)).toBe('started');
    // No reconnecting once it is shut down at the end.
    const client = new Redis(url, { retryStrategy: () => null });
    client.on('error', () => {});
    try {
      expect(await client.ping()).toBe('PONG');
      const [, dir] = (await client.config('GET', 'dir')) as [string, string];
      expect(realpathSync(dir)).toBe(realpathSync(dataDir));
      // Answering now: a second call leaves it alone.
      expect(await ensureRedis(url, dataDir, 'REDIS_URL', quiet)).toBe('answering');
    } finally {
      await client.shutdown('NOSAVE').catch(() => {});
      client.disconnect();
    }
  });

  it('does nothing when Redis answers', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-redis-'));
    expect(await ensureRedis(TEST_REDIS_URL, dataDir, 'TEST_REDIS_URL', { ...quiet, binDirs: [] })).toBe(
      'answering',
    );
  });

  it('says in one line what to install, or which URL to set, when redis-server is not installed', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error = await ensureRedis(url, tmpdir(), 'REDIS_URL', { ...quiet, binDirs: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    const text = String(error.message);
    expect(text).not.toContain('\n');
    for (const part of ['apt install redis-server', 'brew install redis', 'REDIS_URL', url])
      expect(text).toContain(part);
    // Another host is not ours to start: only the URL to set.
    const remote = await ensureRedis('redis://127.0.0.2:1', tmpdir(), 'TEST_REDIS_URL', quiet).catch(
      (e) => e,
    );
    expect(remote.message).toMatch(/does not answer at redis:\/\/127\.0\.0\.2:1.*TEST_REDIS_URL/);
  });
});

describe('local MariaDB for the tests', () => {
  it('does nothing when MariaDB answers: no database made or dropped', async () => {
    const server = knexFactory({ client: 'mysql2', connection: TEST_DATABASE_URL.replace(/\/[^/]*$/, '/') });
    try {
      const before = (await server.raw('SHOW DATABASES'))[0].map((r: { Database: string }) => r.Database);
      expect(await ensureMariaDb(TEST_DATABASE_URL, 'TEST_DATABASE_URL', { ...quiet, binDirs: [] })).toBe(
        'answering',
      );
      const after = (await server.raw('SHOW DATABASES'))[0].map((r: { Database: string }) => r.Database);
      // Other test files create theirs meanwhile; none of those seen before is gone.
      expect(after).toEqual(expect.arrayContaining(before.filter((d: string) => !d.startsWith('sb_test_'))));
    } finally {
      await server.destroy();
    }
  });

  it('starts the installed mariadbd in the background when none answers, and waits until it does', async () => {
    // A stand-in server program (a real second MariaDB would fight the running one over its data
    // directory): it greets like a MySQL server on the port it is given and notes its pid.
    const bin = mkdtempSync(path.join(tmpdir(), 'sb-bin-'));
    const port = await freePort();
    const pidFile = path.join(bin, 'pid');
    const script = `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
require('node:net').createServer((s) => s.end('greeting')).listen(${port}, '127.0.0.1');`;
    writeFileSync(path.join(bin, 'server.cjs'), script);
    writeFileSync(path.join(bin, 'mariadbd'), `#!/bin/sh\nexec "${process.execPath}" "${bin}/server.cjs"\n`, {
      mode: 0o755,
    });
    const url = `mysql://root@127.0.0.1:${port}/test`;
    try {
      expect(await mysqlAnswers(url)).toBe(false);
      expect(await ensureMariaDb(url, 'TEST_DATABASE_URL', { ...quiet, binDirs: [bin] })).toBe('started');
      expect(await mysqlAnswers(url)).toBe(true);
      expect(await ensureMariaDb(url, 'TEST_DATABASE_URL', { ...quiet, binDirs: [bin] })).toBe('answering');
    } finally {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid) process.kill(pid, 'SIGTERM');
    }
  });

  it('says in one line what to install, or which URL to set, when mariadbd is not installed', async () => {
    const url = `mysql://root@127.0.0.1:${await freePort()}/test`;
    const error = await ensureMariaDb(url, 'TEST_DATABASE_URL', { ...quiet, binDirs: [] }).catch((e) => e);
    const text = String(error.message);
    expect(text).not.toContain('\n');
    for (const part of ['apt install mariadb-server', 'brew install mariadb', 'TEST_DATABASE_URL'])
      expect(text).toContain(part);
  });
});

describe('npm run test:unit', () => {
  it('passes with no Redis and no MariaDB reachable, and starts neither', async () => {
    const redisPort = await freePort();
    const mysqlPort = await freePort();
    const r = await runCommand(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--project', 'unit', 'test/unit/config.test.ts'],
      {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: plainEnv({
          TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          TEST_DATABASE_URL: `mysql://root@127.0.0.1:${mysqlPort}/test`,
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          DATABASE_URL: `mysql://root@127.0.0.1:${mysqlPort}/test`,
        }),
      },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('passed');
    expect(r.out).not.toContain('starting');
    expect(await redisAnswers(`redis://127.0.0.1:${redisPort}`)).toBe(false);
  });
});
