import type { Knex } from 'knex';
import { outsideIdColumnType } from '../column-types.js';

/**
 * Orders by e-mail (issue 17): the IMAP inboxes the daemon reads (`mail_inboxes`; the password
 * sealed in `secrets`, a lease so one process polls an inbox at a time) and every message it took
 * (`mail_messages`): recorded by UID (with the folder's UIDVALIDITY) and by Message-ID before
 * anything is imported or answered, so a message is processed once whatever dies on the way.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, mysql ? 'DATETIME(3)' : 'TEXT');
  const messageId = await outsideIdColumnType(knex, 191);

  await knex.schema.createTable('mail_inboxes', (t) => {
    t.increments('id').primary();
    t.string('name', 255).notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.string('host', 255).notNullable();
    t.integer('port').notNullable();
    // `tls` (implicit TLS), `starttls` (required), `none` (plain text: a local server only).
    t.string('tls', 16).notNullable();
    t.string('username', 255).notNullable();
    // The password, sealed with AES-256-GCM under STOCKBRIDGE_SECRET_KEY (src/channels/secret-box.ts).
    t.text('secrets').notNullable();
    t.string('folder', 255).notNullable();
    t.string('processed_folder', 255).notNullable();
    t.string('default_currency', 3).nullable();
    t.string('lease_owner', 64).nullable();
    time(t, 'lease_until').nullable();
    time(t, 'last_poll_at').nullable();
    t.text('last_error').nullable();
    time(t, 'last_error_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('mail_messages', (t) => {
    t.increments('id').primary();
    t.integer('inbox_id').unsigned().notNullable().references('mail_inboxes.id');
    t.bigInteger('uid_validity').notNullable();
    t.bigInteger('uid').notNullable();
    t.specificType('message_id', `${messageId} NULL`);
    t.string('from_address', 255).nullable();
    t.string('subject', 998).nullable();
    t.integer('customer_id').unsigned().nullable();
    // processing -> reply_pending -> replied -> done; or held (unknown sender: a person decides).
    t.string('state', 16).notNullable();
    // imported | no_attachment | held
    t.string('outcome', 16).nullable();
    t.bigInteger('inbound_event_id').unsigned().nullable();
    t.string('reply_message_id', 255).nullable();
    // The reply as it is sent (and sent again, the same, after a crash): JSON.
    t.text('reply').nullable();
    t.text('summary').nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('error').nullable();
    time(t, 'received_at').notNullable();
    time(t, 'replied_at').nullable();
    time(t, 'moved_at').nullable();
    time(t, 'updated_at').notNullable();
    t.unique(['inbox_id', 'uid_validity', 'uid']);
    t.unique(['inbox_id', 'message_id']);
    t.index(['inbox_id', 'state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('mail_messages');
  await knex.schema.dropTable('mail_inboxes');
}
