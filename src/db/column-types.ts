import type { Knex } from 'knex';

/**
 * Column types for migrations that add new code or outside-id columns, so that they compare as
 * "Codes and ids" in the README decides (see migration 20261201200000_codes_and_ids): our own codes
 * case-insensitively and accent-sensitively, ids from outside exactly. Use with `specificType`:
 *
 *   const code = await codeColumnType(knex, 64);
 *   await knex.schema.createTable('salespeople', (t) => { t.specificType('code', code).notNullable().unique(); });
 */

/** First that the server has: MariaDB 10.10+, then MySQL 8. NO PAD: a trailing space counts. */
const CODE_COLLATIONS = ['utf8mb4_uca1400_nopad_as_ci', 'utf8mb4_0900_as_ci'];
const EXACT_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

async function firstCollation(knex: Knex, candidates: readonly string[]): Promise<string> {
  for (const name of candidates) {
    try {
      await knex.raw(`SELECT _utf8mb4'a' COLLATE ${name} AS x`);
      return name;
    } catch {
      // not on this server
    }
  }
  throw new Error(`the database server has none of the collations ${candidates.join(', ')}`);
}

/** A code of ours (customer, salesperson, price list…): `a1` finds `A1`, `CAFÉ` is not `CAFE`. */
export async function codeColumnType(knex: Knex, length: number): Promise<string> {
  // SQLite's NOCASE folds ASCII letters only: accents stay apart, as they must.
  if (!isMysql(knex)) return `VARCHAR(${length}) COLLATE NOCASE`;
  return `VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE ${await firstCollation(knex, CODE_COLLATIONS)}`;
}

/** An id from outside (a channel's customer id, a reference): compared exactly. */
export async function outsideIdColumnType(knex: Knex, length: number): Promise<string> {
  if (!isMysql(knex)) return `VARCHAR(${length})`;
  return `VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE ${await firstCollation(knex, EXACT_COLLATIONS)}`;
}
