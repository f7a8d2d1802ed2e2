import type { Knex } from 'knex';

/**
 * Notifications (issue 16): the rules that say who hears of which event, the staff addresses of
 * each role, one row per notification (its state, attempts and the provider's answer), the
 * addresses that failed for good, and per customer whether issued documents (invoices, credit
 * notes, statements) are e-mailed to its billing address.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder | Knex.AlterTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('notification_rules', (t) => {
    t.increments('id').primary();
    t.string('name', 255).nullable();
    t.string('event', 48).notNullable();
    // JSON: { channel?, customerGroup?, holdReason? }
    t.text('filters').notNullable();
    // JSON: the recipients (see src/notify/rules.ts)
    t.text('recipients').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    // The defaults of a fresh install, each once: deleting one (deleted_at) keeps it deleted.
    t.string('default_key', 48).nullable().unique();
    time(t, 'deleted_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.index(['event']);
  });

  await knex.schema.createTable('notification_role_addresses', (t) => {
    t.string('role', 64).notNullable();
    t.string('address', 255).notNullable();
    t.string('language', 8).notNullable().defaultTo('en');
    t.primary(['role', 'address']);
  });

  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    // What it tells of: `outbox:<id>`, `order:<id>:received`, `invoice:<id>`, `job_run:<id>:<run>` …
    t.string('source_key', 96).notNullable();
    // The rule that made it (0: a document to a customer, which no rule makes).
    t.integer('rule_id').unsigned().notNullable().defaultTo(0);
    t.string('event', 48).notNullable();
    t.string('medium', 16).notNullable();
    t.string('recipient', 255).notNullable();
    // Lower case for e-mail: the unique key and suppressions compare it.
    t.string('recipient_key', 255).notNullable();
    t.bigInteger('order_id').unsigned().nullable();
    t.integer('customer_id').unsigned().nullable();
    t.string('language', 8).notNullable();
    t.string('time_zone', 64).nullable();
    // pending | sent | failed | suppressed
    t.string('state', 16).notNullable();
    t.string('reason', 500).nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    time(t, 'next_attempt_at').notNullable();
    time(t, 'lease_until').nullable();
    t.string('lease_token', 32).nullable();
    t.string('message_id', 255).notNullable();
    t.string('subject', 500).nullable();
    t.string('provider_answer', 1000).nullable();
    t.string('provider_reference', 255).nullable();
    // JSON: what the event carried (ids of the alert, finding, document …)
    t.text('data').nullable();
    time(t, 'sent_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['source_key', 'rule_id', 'medium', 'recipient_key']);
    t.index(['order_id', 'id']);
    t.index(['state', 'next_attempt_at']);
  });

  await knex.schema.createTable('notification_suppressions', (t) => {
    t.string('medium', 16).notNullable();
    t.string('recipient_key', 255).notNullable();
    t.string('reason', 1000).notNullable();
    t.bigInteger('notification_id').unsigned().nullable();
    time(t, 'created_at').notNullable();
    t.primary(['medium', 'recipient_key']);
  });

  await knex.schema.alterTable('customers', (t) => {
    // Where invoices, credit notes and statements go; null: the customer's e-mail.
    t.string('billing_email', 255).nullable();
    // Documents issued from this time on are e-mailed; null: documents are not e-mailed.
    time(t, 'email_documents_since').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const column of ['billing_email', 'email_documents_since'])
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['customers', column]);
  await knex.schema.dropTable('notification_suppressions');
  await knex.schema.dropTable('notifications');
  await knex.schema.dropTable('notification_role_addresses');
  await knex.schema.dropTable('notification_rules');
}
