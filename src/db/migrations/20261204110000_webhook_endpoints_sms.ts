import type { Knex } from 'knex';

/**
 * Notification media of issue 16 (README "SMS" and "Outbound webhooks"):
 *
 * - `sms_gateways`: the configured SMS gateways (a generic HTTP gateway or Aliyun SMS), their plain
 *   settings as JSON, their secrets (auth header value, AccessKey secret) sealed with
 *   STOCKBRIDGE_SECRET_KEY, Aliyun's TemplateCode per event, quiet hours and the hourly cap.
 * - `sms_recipient_hours`: per phone number and UTC hour, how many SMS went out: the guarded
 *   counter behind the hourly cap (`UPDATE … SET sent = sent + 1 WHERE sent < cap`).
 * - `webhook_endpoints`: the company's own receivers, their signing secret sealed, `failing` once
 *   an event could not be delivered within the retry window (a later success clears it).
 * - `webhook_deliveries`: every attempt (and manual redelivery) with the answer's status, how long
 *   it took and the first part of the answer's body.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('sms_gateways', (t) => {
    t.bigIncrements('id').primary();
    t.string('name', 100).notNullable();
    // generic | aliyun
    t.string('kind', 16).notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    // JSON: the kind's plain settings (URL, method, body template; AccessKey id, sign name …).
    t.text('settings').notNullable();
    // secret-box sealed JSON of the kind's secret settings; never returned.
    t.text('secrets_sealed').nullable();
    // JSON: event -> Aliyun TemplateCode.
    t.text('template_codes').nullable();
    // Quiet hours as local wall times 'HH:MM' in the recipient's time zone; both null: none.
    t.string('quiet_start', 5).nullable();
    t.string('quiet_end', 5).nullable();
    // Used when the recipient's time zone is unknown.
    t.string('default_time_zone', 64).notNullable().defaultTo('UTC');
    // Most SMS to one number per UTC hour; null: no cap.
    t.integer('hourly_cap').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('sms_recipient_hours', (t) => {
    t.string('phone', 20).notNullable();
    // The UTC hour counted, 'YYYY-MM-DD HH:00'.
    t.string('hour', 16).notNullable();
    t.integer('sent').notNullable().defaultTo(0);
    t.primary(['phone', 'hour']);
  });

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.bigIncrements('id').primary();
    t.string('url', 2000).notNullable();
    t.string('description', 500).notNullable().defaultTo('');
    t.boolean('enabled').notNullable().defaultTo(true);
    // JSON array of event names it wants (null: every event).
    t.text('events').nullable();
    // secret-box sealed `whsec_…`; never returned after create/rotate.
    t.text('secret_sealed').notNullable();
    // active | failing
    t.string('state', 16).notNullable().defaultTo('active');
    time(t, 'failing_since').nullable();
    time(t, 'last_success_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('endpoint_id')
      .unsigned()
      .notNullable()
      .references('webhook_endpoints.id')
      .onDelete('CASCADE');
    // The `webhook-id`: the notification's messageId, the same on every attempt and redelivery.
    t.string('message_id', 191).notNullable();
    t.bigInteger('notification_id').nullable();
    t.string('event', 100).notNullable();
    // dispatch | redeliver
    t.string('triggered_by', 16).notNullable();
    t.bigInteger('redelivery_of').unsigned().nullable();
    // The JSON body sent (kept for redelivery).
    t.text('body', 'mediumtext').notNullable();
    // sent | failed
    t.string('outcome', 16).notNullable();
    t.integer('status_code').nullable();
    t.integer('duration_ms').notNullable();
    t.string('response_body', 1000).nullable();
    t.string('error', 500).nullable();
    time(t, 'retry_at').nullable();
    time(t, 'attempted_at').notNullable();
    t.index(['endpoint_id', 'id']);
    t.index(['message_id', 'endpoint_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhook_endpoints');
  await knex.schema.dropTable('sms_recipient_hours');
  await knex.schema.dropTable('sms_gateways');
}
