import type { Knex } from 'knex';

/**
 * The audit log (issue 18): one row per change made through the API or the console — who (the
 * actor and their role), what (the operation, the entity and its id, the request with secrets
 * left out, and for settings the state before and after), when (UTC), and the answer's status.
 * Append-only: nothing updates or deletes these rows.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.specificType('at', mysql ? 'DATETIME(3)' : 'TEXT').notNullable();
    t.string('actor', 255).notNullable();
    t.string('actor_kind', 16).notNullable();
    t.string('actor_role', 16).notNullable();
    t.integer('user_id').unsigned().nullable();
    t.integer('token_id').unsigned().nullable();
    t.string('method', 8).notNullable();
    // The route as declared (`/api/orders/{id}/cancel`), not the concrete path.
    t.string('route', 255).notNullable();
    t.string('operation', 128).notNullable();
    t.string('entity', 64).notNullable();
    t.string('entity_id', 191).nullable();
    t.integer('status').notNullable();
    t.text('request', mysql ? 'mediumtext' : undefined).nullable();
    t.text('before', mysql ? 'mediumtext' : undefined).nullable();
    t.text('after', mysql ? 'mediumtext' : undefined).nullable();
    t.string('request_id', 64).nullable();
    t.index(['entity', 'id'], 'audit_log_entity_idx');
    t.index(['actor', 'id'], 'audit_log_actor_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
}
