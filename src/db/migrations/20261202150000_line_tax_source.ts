import type { Knex } from 'knex';

/**
 * Which order lines were taxed from our rates (their order said no tax): their tax is computed
 * again whenever processing changes their price or discount (the price check under `enforce`, a
 * line priced only at processing, a contract price, a promotion). A channel's own tax is kept.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('order_lines', (t) => {
    t.boolean('tax_from_rates').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it: knex's SQLite way rebuilds the table,
  // which its foreign keys refuse inside the migration's transaction.
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['order_lines', 'tax_from_rates']);
}
