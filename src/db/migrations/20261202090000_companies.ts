import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * The group's companies (legal entities): who sells (a customer's `company` names one by code),
 * whose header an invoice or statement carries, and which company owns each warehouse (transfers
 * between two companies are intra-group sales, not stock transfers).
 */
export async function up(given: Knex): Promise<void> {
  await given.transaction((knex) => create(knex));
}

async function create(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');
  await knex.schema.createTable('companies', (t) => {
    t.increments('id').primary();
    t.specificType('code', code).notNullable().unique();
    t.string('name', 255).notNullable();
    // The name in the other language of the documents (zh-CN / en), when it differs.
    t.string('name_zh', 255).nullable();
    t.string('tax_id', 64).nullable();
    t.text('address').nullable();
    t.string('phone', 64).nullable();
    t.string('email', 255).nullable();
    t.string('bank_account', 255).nullable();
    t.string('currency', 3).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });
  await knex.schema.alterTable('warehouses', (t) => {
    t.integer('company_id').unsigned().nullable().references('companies.id');
  });
}

/**
 * SQLite can drop `warehouses.company_id` (a foreign key) only by rebuilding the table, which the
 * other tables' foreign keys to warehouses refuse unless they are off — and SQLite turns them off
 * only outside a transaction. So this migration runs without knex's wrapping transaction and opens
 * its own.
 */
export const config = { transaction: false };

export async function down(knex: Knex): Promise<void> {
  const sqlite = knex.client.config.client !== 'mysql2';
  if (sqlite) await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    await knex.transaction(async (trx) => {
      await trx.schema.alterTable('warehouses', (t) => {
        t.dropForeign(['company_id']);
      });
      await trx.schema.alterTable('warehouses', (t) => {
        t.dropColumn('company_id');
      });
      await trx.schema.dropTable('companies');
      if (sqlite) {
        const broken = (await trx.raw('PRAGMA foreign_key_check')) as unknown[];
        if (broken.length > 0) throw new Error(`foreign keys broken: ${JSON.stringify(broken)}`);
      }
    });
  } finally {
    if (sqlite) await knex.raw('PRAGMA foreign_keys = ON');
  }
}
