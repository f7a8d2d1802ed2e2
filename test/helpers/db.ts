import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { createDb, type Db } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrate.js';

/** The server the integration tests use; CI and every dev machine run MariaDB here. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connection to the test server without a database selected (to create and drop them). */
function serverConnection() {
  const u = new URL(TEST_DATABASE_URL);
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

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file, so that files can run side by side
 * against the one MariaDB server. Dropped afterwards.
 */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const name = `sb_test_${randomBytes(5).toString('hex')}`;
  const root = serverConnection();
  await root.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await root.destroy();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = createDb({ databaseUrl: url.toString(), dataDir: './data', poolMax: options.poolMax ?? 20 });
  await migrateLatest(db);
  return {
    db,
    url: url.toString(),
    name,
    async drop() {
      await db.destroy();
      const r = serverConnection();
      await r.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await r.destroy();
    },
  };
}

/** The embedded default: a SQLite file in a temporary data dir, migrated. */
export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-sqlite-'));
  const db = createDb({ dataDir });
  await migrateLatest(db);
  return {
    db,
    url: '',
    name: dataDir,
    async drop() {
      await db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
