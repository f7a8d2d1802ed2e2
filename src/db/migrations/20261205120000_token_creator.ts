import type { Knex } from 'knex';

/**
 * The user who made an API token (null: made with the bootstrap admin token). A service token lives
 * only while the admin who made it is an admin and not disabled.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.integer('creator_user_id').unsigned().nullable().references('id').inTable('users');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.dropForeign(['creator_user_id']);
    t.dropColumn('creator_user_id');
  });
}
