import type { Knex } from 'knex';

/**
 * "Codes and ids" (docs/ARCHITECTURE): ids from outside (channel order ids, delivery ids,
 * idempotency keys, receipt references, the channel's item ids) compare exactly; our own codes
 * (SKU, warehouse, customer) compare case-insensitively but accent-sensitively, and keep the
 * spelling they were created with. Before this, MySQL/MariaDB compared everything with the
 * database's default collation (`ab-77` and `AB-77` were one order, so the second was lost) and
 * SQLite compared everything exactly (`a1` did not find `A1`).
 *
 * Also: a delivery id holds a prefix and an id of up to 191 characters (255 now), and a delivery
 * whose id the client chose keeps a digest of what it asked for (`request_hash`).
 *
 * Codes that differ only in letter case are one code from here on: if two such rows exist, the
 * migration stops before changing anything and names them, rather than merge or lose either.
 */

/** SQLite rebuilds tables with foreign keys off, which it only allows outside a transaction. */
export const config = { transaction: false };

interface Column {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}

/** Ids from outside: exact comparison. */
const OUTSIDE_IDS: Column[] = [
  { table: 'orders', column: 'external_id', type: 'VARCHAR(191)', nullable: false },
  { table: 'inbound_events', column: 'delivery_id', type: 'VARCHAR(255)', nullable: false },
  { table: 'inbound_events', column: 'external_id', type: 'VARCHAR(191)', nullable: true },
  { table: 'stock_documents', column: 'reference', type: 'VARCHAR(191)', nullable: false },
  { table: 'channel_skus', column: 'channel_sku', type: 'VARCHAR(191)', nullable: true },
  { table: 'channel_skus', column: 'product_id', type: 'VARCHAR(64)', nullable: true },
  { table: 'channel_skus', column: 'variant_id', type: 'VARCHAR(64)', nullable: true },
  { table: 'channel_skus', column: 'inventory_item_id', type: 'VARCHAR(64)', nullable: true },
];

/** Our own codes: case-insensitive, accent-sensitive; `unique` is the unique key they are part of. */
const CODES: (Column & { unique?: string[] })[] = [
  { table: 'warehouses', column: 'code', type: 'VARCHAR(64)', nullable: false, unique: ['code'] },
  { table: 'skus', column: 'code', type: 'VARCHAR(64)', nullable: false, unique: ['code'] },
  { table: 'customers', column: 'code', type: 'VARCHAR(64)', nullable: true, unique: ['code'] },
  {
    table: 'channel_skus',
    column: 'sku_code',
    type: 'VARCHAR(64)',
    nullable: false,
    unique: ['channel_id', 'sku_code'],
  },
  // The code as an order line names it; joined with skus.code, so it compares the same way.
  { table: 'order_lines', column: 'sku_code', type: 'VARCHAR(191)', nullable: false },
];

/** First that the server has: MariaDB 10.10+, then MySQL 8. NO PAD: a trailing space counts. */
const CODE_COLLATIONS = ['utf8mb4_uca1400_nopad_as_ci', 'utf8mb4_0900_as_ci'];
const EXACT_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

export async function up(knex: Knex): Promise<void> {
  if (isMysql(knex)) await upMysql(knex);
  else await upSqlite(knex);
}

export async function down(knex: Knex): Promise<void> {
  // delivery_id stays 255 wide: narrowing it could cut ids stored since. Outside ids stored since
  // that differ only in letter case make the way back fail on MySQL (the unique key refuses them).
  if (isMysql(knex)) {
    const [[table]] = (await knex.raw(
      'SELECT TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      ['orders'],
    )) as [{ c: string }[]];
    await alterMysql(knex, [...OUTSIDE_IDS, ...CODES], () => table!.c);
  } else {
    await rebuildSqlite(knex, CODES, null);
  }
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['inbound_events', 'request_hash']);
}

async function upMysql(knex: Knex): Promise<void> {
  const codes = await firstCollation(knex, CODE_COLLATIONS);
  const exact = await firstCollation(knex, EXACT_COLLATIONS);
  if (!codes || !exact) {
    const [[v]] = (await knex.raw('SELECT VERSION() AS v')) as [{ v: string }[]];
    throw new Error(
      `this database server (${v!.v}) has no case-insensitive, accent-sensitive utf8mb4 collation ` +
        `(one of ${CODE_COLLATIONS.join(', ')}); stockbridge needs MariaDB 10.10 or newer or MySQL 8.0 or newer`,
    );
  }
  const clashes: string[] = [];
  for (const c of CODES.filter((c) => c.unique)) {
    const keys = c.unique!.map((k) => (k === c.column ? `${k} COLLATE ${codes}` : k)).join(', ');
    const [rows] = (await knex.raw(
      `SELECT GROUP_CONCAT(${c.column} SEPARATOR ' / ') AS spellings FROM ${c.table} ` +
        `WHERE ${c.column} IS NOT NULL GROUP BY ${keys} HAVING COUNT(*) > 1 LIMIT 20`,
    )) as [{ spellings: string }[]];
    for (const r of rows) clashes.push(`${c.table}.${c.column}: ${r.spellings}`);
  }
  refuseClashes(clashes);
  await alterMysql(knex, OUTSIDE_IDS, () => exact);
  await alterMysql(knex, CODES, () => codes);
  await knex.schema.alterTable('inbound_events', (t) => {
    t.string('request_hash', 64).nullable();
  });
}

async function firstCollation(knex: Knex, candidates: readonly string[]): Promise<string | null> {
  for (const name of candidates) {
    try {
      await knex.raw(`SELECT _utf8mb4'a' COLLATE ${name} AS x`);
      return name;
    } catch {
      // not on this server
    }
  }
  return null;
}

/** One ALTER TABLE per table, restating each column with its collation. */
async function alterMysql(knex: Knex, columns: readonly Column[], collation: () => string): Promise<void> {
  const tables = [...new Set(columns.map((c) => c.table))];
  for (const table of tables) {
    const changes = columns
      .filter((c) => c.table === table)
      .map(
        (c) =>
          `MODIFY ${c.column} ${c.type} CHARACTER SET utf8mb4 COLLATE ${collation()} ${c.nullable ? 'NULL' : 'NOT NULL'}`,
      );
    await knex.raw(`ALTER TABLE ${table} ${changes.join(', ')}`);
  }
}

function refuseClashes(clashes: readonly string[]): void {
  if (clashes.length === 0) return;
  throw new Error(
    'codes that differ only in letter case would become one code; nothing was changed. ' +
      `Rename or merge these, then migrate again: ${clashes.join('; ')}`,
  );
}

async function upSqlite(knex: Knex): Promise<void> {
  const clashes: string[] = [];
  for (const c of CODES.filter((c) => c.unique)) {
    const keys = c.unique!.map((k) => (k === c.column ? `${k} COLLATE NOCASE` : k)).join(', ');
    const rows = (await knex.raw(
      `SELECT GROUP_CONCAT(${c.column}, ' / ') AS spellings FROM ${c.table} ` +
        `WHERE ${c.column} IS NOT NULL GROUP BY ${keys} HAVING COUNT(*) > 1 LIMIT 20`,
    )) as { spellings: string }[];
    for (const r of rows) clashes.push(`${c.table}.${c.column}: ${r.spellings}`);
  }
  refuseClashes(clashes);
  // SQLite columns compare exactly (BINARY) unless declared otherwise, which suits outside ids.
  // NOCASE folds ASCII letters only: accents stay apart, as they must.
  await rebuildSqlite(knex, CODES, 'NOCASE');
  await knex.schema.alterTable('inbound_events', (t) => {
    t.string('request_hash', 64).nullable();
  });
}

/**
 * Changes the collation of columns the SQLite way (a column's collation is fixed when its table
 * is created): each table is created again with the new declaration, its rows, indexes and
 * AUTOINCREMENT counter copied over, in one transaction with foreign keys off, then checked.
 */
async function rebuildSqlite(knex: Knex, columns: readonly Column[], collate: string | null): Promise<void> {
  await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    await knex.transaction(async (trx) => {
      for (const table of [...new Set(columns.map((c) => c.table))]) {
        await rebuildTable(
          trx,
          table,
          columns.filter((c) => c.table === table).map((c) => c.column),
          collate,
        );
      }
      const broken = (await trx.raw('PRAGMA foreign_key_check')) as unknown[];
      if (broken.length > 0) throw new Error(`foreign keys broken by the rebuild: ${JSON.stringify(broken)}`);
    });
  } finally {
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}

async function rebuildTable(
  trx: Knex.Transaction,
  table: string,
  columns: readonly string[],
  collate: string | null,
): Promise<void> {
  const [created] = (await trx.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [
    table,
  ])) as { sql: string }[];
  const indexes = (await trx.raw(
    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
    [table],
  )) as { sql: string }[];
  const [sequence] = (await trx.raw('SELECT seq FROM sqlite_sequence WHERE name = ?', [table])) as {
    seq: number;
  }[];
  let sql = created!.sql;
  for (const column of columns) {
    const declaration = new RegExp(`(\`${column}\` [a-z]+\\(\\d+\\))(?: COLLATE \\w+)?`);
    if (!declaration.test(sql)) throw new Error(`cannot find column ${table}.${column} in: ${sql}`);
    sql = sql.replace(declaration, `$1${collate ? ` COLLATE ${collate}` : ''}`);
  }
  const temp = `${table}__rebuild`;
  // After a rename SQLite keeps the table's name in double quotes.
  await trx.raw(sql.replace(/^CREATE TABLE (?:`[^`]+`|"[^"]+"|\S+)/, `CREATE TABLE \`${temp}\``));
  await trx.raw(`INSERT INTO \`${temp}\` SELECT * FROM \`${table}\``);
  await trx.raw(`DROP TABLE \`${table}\``);
  await trx.raw(`ALTER TABLE \`${temp}\` RENAME TO \`${table}\``);
  for (const index of indexes) await trx.raw(index.sql);
  if (sequence) await trx.raw('UPDATE sqlite_sequence SET seq = ? WHERE name = ?', [sequence.seq, table]);
}
