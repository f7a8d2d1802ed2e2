import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * The group's companies (legal entities): who sells (a customer's `company` names one by code),
 * whose header an invoice or statement carries, and which company owns each warehouse (transfers
 * between two companies are intra-group sales, not stock transfers).
 */
export async function up(knex: Knex): Promise<void> {
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
  const mysql = knex.client.config.client === 'mysql2';
  await knex.schema.alterTable('warehouses', (t) => {
    const column = t.integer('company_id').unsigned().nullable();
    // SQLite can drop a column only when no foreign key names it (see `down`).
    if (mysql) column.references('companies.id');
  });
}

/**
 * Outside a transaction: on SQLite, dropping `warehouses.company_id` rebuilds the table, which only
 * works with foreign keys off while rows (stock levels) point at warehouses, and SQLite ignores
 * turning them off inside a transaction. (MySQL commits DDL at once anyway.)
 */
export const config = { transaction: false };

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'mysql2')
    await knex.schema.alterTable('warehouses', (t) => {
      t.dropForeign(['company_id']);
    });
  // ALTER TABLE … DROP COLUMN on both: knex's SQLite way rebuilds the table, which the foreign keys
  // of the stock rows refuse.
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['warehouses', 'company_id']);
  await knex.schema.dropTable('companies');
}
