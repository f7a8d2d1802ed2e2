import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { type Config, redactUrl } from '../config.js';

export type Db = Knex;
export type Tx = Knex.Transaction;
/** Anything a query can run on: the pool or an open transaction. */
export type Conn = Knex | Knex.Transaction;

export type Dialect = 'mysql' | 'sqlite';

export function dialectOf(db: Conn): Dialect {
  const client = (db.client as { config: { client: string } }).config.client;
  return client === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

export interface DbOptions {
  /** `mysql://` URL; without it an embedded SQLite file in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  poolMax?: number;
  /** MySQL transaction isolation; see `STOCKBRIDGE_DB_ISOLATION`. Default `read-committed`. */
  isolation?: Isolation;
}

export type Isolation = 'read-committed' | 'repeatable-read';

export function dbOptionsFrom(config: Config): DbOptions {
  return {
    databaseUrl: config.DATABASE_URL,
    dataDir: config.STOCKBRIDGE_DATA_DIR,
    poolMax: config.STOCKBRIDGE_DB_POOL_MAX,
    isolation: config.STOCKBRIDGE_DB_ISOLATION,
  };
}

/** Where the embedded database lives when no DATABASE_URL is given. */
export function sqlitePath(dataDir: string): string {
  return path.resolve(dataDir, 'stockbridge.sqlite');
}

/**
 * knex's own warnings, minus "Acquire connection error" with its stack: the same error reaches
 * the caller, which says in one line what is wrong (see `assertDatabaseReachable`).
 */
const knexLog = {
  warn(message: string) {
    if (!String(message).startsWith('Acquire connection error')) console.warn(message);
  },
};

export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/**
 * Checks once that the database answers, and otherwise throws a DatabaseUnreachableError whose one
 * line says what is wrong and what to do: a missing database or user comes with the SQL that
 * creates them.
 */
export async function assertDatabaseReachable(db: Db, options: DbOptions): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (err) {
    throw new DatabaseUnreachableError(explainDatabaseError(err as Error & { code?: string }, options));
  }
}

function explainDatabaseError(err: Error & { code?: string }, options: DbOptions): string {
  if (!options.databaseUrl)
    return `the embedded database ${sqlitePath(options.dataDir)} cannot be opened: ${err.message}`;
  const url = new URL(options.databaseUrl);
  const database = url.pathname.replace(/^\//, '');
  const user = decodeURIComponent(url.username);
  const server = `${url.hostname}:${url.port || 3306}`;
  const createUser =
    user && user !== 'root'
      ? ` CREATE USER '${user}'@'%' IDENTIFIED BY '<its password>'; GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'%';`
      : '';
  const createSql = `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;${createUser}`;
  switch (err.code) {
    case 'ER_BAD_DB_ERROR':
      return `database ${database} does not exist on ${server}; create it as a MySQL/MariaDB admin (e.g. sudo mysql): ${createSql}`;
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return `${server} refused user ${user || '(none)'} (${err.message}); create the user and grant it the database as a MySQL/MariaDB admin (e.g. sudo mysql): ${createSql}`;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      return `no MySQL/MariaDB answers at ${server} (${err.code}): start it, or fix DATABASE_URL (unset, stockbridge uses an embedded SQLite file under STOCKBRIDGE_DATA_DIR)`;
    default:
      return `database not reachable at ${redactUrl(options.databaseUrl)}: ${err.message}`;
  }
}

export function createDb(options: DbOptions): Db {
  if (options.databaseUrl) {
    const url = new URL(options.databaseUrl.replace(/^mariadb:/, 'mysql:'));
    const isolationSql = options.isolation === 'repeatable-read' ? 'REPEATABLE READ' : 'READ COMMITTED';
    return knexFactory({
      client: 'mysql2',
      // knex would add the SQL with every bound value inlined to an error's message, and so carry
      // customers' data (names, e-mail addresses, whole payloads) into logs, stored event errors
      // and answers. With this it adds the SQL with its `?` placeholders only.
      compileSqlOnError: false,
      connection: {
        host: url.hostname,
        port: url.port ? Number(url.port) : 3306,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.replace(/^\//, ''),
        // Times are stored in UTC as 'YYYY-MM-DD HH:MM:SS.mmm' strings and read back as strings.
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        // WriteBatch sends a transaction's writes in one round trip; every value is a bound parameter.
        multipleStatements: true,
        charset: 'utf8mb4',
      },
      pool: {
        min: 0,
        max: options.poolMax ?? 20,
        afterCreate: (
          conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
          done: (err: Error | null, conn: unknown) => void,
        ) => {
          // READ COMMITTED: a statement that ran after a lock wait sees what the lock holder
          // committed, and searches for rows that do not exist take no gap locks (which would
          // deadlock concurrent inserts of new orders). See "Transactions" in the README.
          conn.query(
            `SET time_zone = '+00:00'; SET SESSION TRANSACTION ISOLATION LEVEL ${isolationSql}`,
            (err) => done(err, conn),
          );
        },
      },
      acquireConnectionTimeout: 20_000,
      log: knexLog,
    });
  }
  mkdirSync(options.dataDir, { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    compileSqlOnError: false,
    connection: { filename: sqlitePath(options.dataDir) },
    useNullAsDefault: true,
    log: knexLog,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (
        conn: { pragma: (s: string) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}

/** UTC time as stored in every time column: `YYYY-MM-DD HH:MM:SS.mmm`. */
export function dbTime(date: Date = new Date()): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A stored UTC time back to ISO 8601 with `Z`. */
export function isoTime(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return `${s.replace(' ', 'T')}${s.includes('.') ? '' : '.000'}Z`;
}

/** `SELECT ... FOR UPDATE` where the database has row locks; SQLite serialises writers instead. */
export function forUpdate<T extends Knex.QueryBuilder>(qb: T, db: Conn): T {
  return dialectOf(db) === 'mysql' ? (qb.forUpdate() as T) : qb;
}

/** ` FOR UPDATE` where the database has row locks; SQLite serialises writers instead. */
export function lockClause(db: Conn): string {
  return dialectOf(db) === 'mysql' ? ' FOR UPDATE' : '';
}

type Row = Record<string, unknown>;

/** A plain SQL text of one or more `;`-separated statements with its `?` bindings. */
export interface SqlStatements {
  sql: string;
  bindings: readonly unknown[];
}

/** How many statements `rawRows` makes of `sql` (the same split). */
export function statementCount(sql: string): number {
  return splitStatements(sql).length;
}

const splitStatements = (sql: string) =>
  sql
    .split(/;\s*/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Runs one or more `;`-separated SELECTs as plain SQL and returns each one's rows. On MySQL they
 * share one round trip; on SQLite they run in turn.
 */
export async function rawRows(db: Conn, sql: string, bindings: readonly unknown[] = []): Promise<Row[][]> {
  const statements = splitStatements(sql);
  if (dialectOf(db) === 'mysql') {
    const [result] = (await db.raw(sql, bindings as Knex.RawBinding[])) as [Row[] | Row[][]];
    return statements.length > 1 ? (result as Row[][]) : [result as Row[]];
  }
  const out: Row[][] = [];
  let offset = 0;
  for (const statement of statements) {
    const count = (statement.match(/\?/g) ?? []).length;
    out.push((await db.raw(statement, bindings.slice(offset, offset + count) as Knex.RawBinding[])) as Row[]);
    offset += count;
  }
  return out;
}
