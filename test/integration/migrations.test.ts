import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dbTime } from '../../src/db/connection.js';
import {
  migrateLatest,
  migrateRollback,
  pendingMigrations,
  RollbackRefusedError,
} from '../../src/db/migrate.js';
import {
  createSqliteDatabase,
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../helpers/db.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';

const stamps = () => ({ created_at: dbTime(), updated_at: dbTime() });
const root = path.resolve(import.meta.dirname, '../..');
/** The migrations in the order they apply (names without extension), as the folder holds them. */
const MIGRATIONS = readdirSync(path.join(root, 'src/db/migrations'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const LAST = MIGRATIONS.at(-1)!;
const BEFORE_LAST = MIGRATIONS.at(-2)!;

/** The CLI from source, as `node dist/src/cli.js` runs it after a build. */
const cli = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: plainEnv({ LOG_LEVEL: 'info', ...env }),
  });

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('migrate:rollback on %s', (_name, sqlite) => {
  const databases: TestDatabase[] = [];
  const fresh = async () => {
    const d = sqlite ? await createSqliteDatabase() : await createTestDatabase({ poolMax: 2 });
    databases.push(d);
    return d;
  };
  /** What the CLI needs to reach a test database. */
  const envOf = (d: TestDatabase): Record<string, string> =>
    sqlite ? { STOCKBRIDGE_DATA_DIR: d.name } : { DATABASE_URL: d.url, STOCKBRIDGE_DATA_DIR: tmpdir() };

  afterAll(async () => {
    for (const d of databases) await d.drop();
  });

  it('undoes one migration at a time, although the first start applied them all in one batch', async () => {
    const { db } = await fresh();
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await migrateRollback(db)).toEqual([LAST]);
    expect(await pendingMigrations(db)).toEqual([LAST]);
    expect(await migrateRollback(db)).toEqual([BEFORE_LAST]);
    expect(await pendingMigrations(db)).toEqual([BEFORE_LAST, LAST]);
    // The core tables are still there.
    expect(await db.schema.hasTable('orders')).toBe(true);
    expect(await migrateLatest(db)).toEqual([BEFORE_LAST, LAST]);
  });

  it('refuses while tables hold data, changing nothing, and goes ahead with yes', async () => {
    const { db } = await fresh();
    await db('warehouses').insert({ code: 'main', name: 'Main', priority: 1, ...stamps() });
    const refused = await migrateRollback(db).catch((e) => e);
    expect(refused).toBeInstanceOf(RollbackRefusedError);
    expect(refused.message).toContain('warehouses');
    expect(refused.message).toContain(LAST);
    expect(refused.message).toContain('--yes');
    const all = await migrateRollback(db, { all: true }).catch((e) => e);
    expect(all).toBeInstanceOf(RollbackRefusedError);
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await db('warehouses').count({ n: '*' })).toEqual([{ n: 1 }]);

    expect(await migrateRollback(db, { yes: true })).toEqual([LAST]);
    expect(await db('warehouses').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('--all undoes every migration, newest first', async () => {
    const { db } = await fresh();
    const undone = await migrateRollback(db, { all: true });
    expect(undone[0]).toBe(LAST);
    expect(undone.at(-1)).toBe('20261124000000_core_schema');
    expect(await db.schema.hasTable('orders')).toBe(false);
    expect(await migrateLatest(db)).toEqual(undone.slice().reverse());
  });

  it('the CLI undoes the last migration, and refuses without --yes while tables hold data', async () => {
    const d = await fresh();
    const first = await cli(['migrate:rollback'], envOf(d));
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain(LAST);
    expect(await pendingMigrations(d.db)).toEqual([LAST]);

    await d.db('skus').insert({ code: 'A1', name: 'Widget', unit_price: 100, currency: 'EUR', ...stamps() });
    const refused = await cli(['migrate:rollback'], envOf(d));
    expect(refused.code).toBe(1);
    expect(refused.out.trim().split('\n')).toHaveLength(1);
    expect(refused.out).toMatch(/^stockbridge: refusing to undo .*skus.*--yes/);
    expect(await pendingMigrations(d.db)).toEqual([LAST]);

    const forced = await cli(['migrate:rollback', '--yes'], envOf(d));
    expect(forced.code, forced.out).toBe(0);
    expect(forced.out).toContain(BEFORE_LAST);
    expect(await pendingMigrations(d.db)).toEqual([BEFORE_LAST, LAST]);
  }, 240_000);
});

describe('a database that does not exist yet', () => {
  const missing = () => {
    const url = new URL(TEST_DATABASE_URL);
    // Never created: nothing to drop afterwards.
    url.pathname = `/sb_test_missing_${randomBytes(4).toString('hex')}`;
    return url;
  };

  it.each([['migrate'], ['start']])(
    '%s says in one line how to create it, no stack trace',
    async (command) => {
      const url = missing();
      const r = await cli([command], {
        DATABASE_URL: url.toString(),
        STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-')),
        LOG_LEVEL: 'error',
      });
      expect(r.killed, r.out).toBe(false);
      expect(r.code).toBe(1);
      const lines = r.out.trim().split('\n');
      expect(lines, r.out).toHaveLength(1);
      expect(lines[0]).toMatch(/^stockbridge: database sb_test_missing_\w+ does not exist/);
      expect(lines[0]).toContain(`CREATE DATABASE \`${url.pathname.slice(1)}\``);
      expect(r.out).not.toMatch(/\n\s+at /);
    },
  );
});
