import type { Knex } from 'knex';

/**
 * Users, API tokens and browser sessions (issue 18). Secrets are never stored as given: passwords
 * as argon2id hashes, API tokens and session ids as SHA-256 hashes (both are long random values,
 * so a fast hash is enough and keeps the per-request lookup cheap). Times are UTC.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  const time = mysql ? 'DATETIME(3)' : 'TEXT';
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('email', 191).notNullable();
    t.string('name', 191).notNullable();
    t.string('role', 16).notNullable();
    t.string('password_hash', 255).notNullable();
    t.string('locale', 8).notNullable().defaultTo('zh-CN');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.specificType('created_at', time).notNullable();
    t.specificType('updated_at', time).notNullable();
    // Stored lower-cased by the store, so one unique index is case-insensitive on both databases.
    t.unique(['email'], { indexName: 'users_email_unique' });
  });
  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id').primary();
    t.string('name', 191).notNullable();
    t.string('role', 16).notNullable();
    // Null: a service token, made by an admin, belonging to no person.
    t.integer('user_id').unsigned().nullable().references('id').inTable('users');
    t.specificType('token_hash', mysql ? 'CHAR(64)' : 'TEXT').notNullable();
    t.string('prefix', 16).notNullable();
    t.specificType('last_used_at', time).nullable();
    t.specificType('revoked_at', time).nullable();
    t.specificType('created_at', time).notNullable();
    t.string('created_by', 255).notNullable();
    t.unique(['token_hash'], { indexName: 'api_tokens_hash_unique' });
    t.index(['user_id'], 'api_tokens_user_idx');
  });
  await knex.schema.createTable('user_sessions', (t) => {
    t.increments('id').primary();
    t.specificType('id_hash', mysql ? 'CHAR(64)' : 'TEXT').notNullable();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    t.string('csrf_token', 64).notNullable();
    t.specificType('created_at', time).notNullable();
    t.specificType('expires_at', time).notNullable();
    t.specificType('last_seen_at', time).notNullable();
    t.unique(['id_hash'], { indexName: 'user_sessions_hash_unique' });
    t.index(['user_id'], 'user_sessions_user_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('user_sessions');
  await knex.schema.dropTableIfExists('api_tokens');
  await knex.schema.dropTableIfExists('users');
}
