import type { Knex } from 'knex';
import { type Db, dialectOf } from './connection.js';
import * as coreSchema from './migrations/20261124000000_core_schema.js';
import * as lowStock from './migrations/20261125100000_low_stock.js';
import * as channels from './migrations/20261126100000_channels.js';
import * as stockPush from './migrations/20261127100000_stock_push.js';
import * as inboundEventIndex from './migrations/20261201100000_inbound_event_index.js';
import * as apiEventsProcessed from './migrations/20261201100100_api_events_processed.js';
import * as codesAndIds from './migrations/20261201200000_codes_and_ids.js';
import * as customers from './migrations/20261201210000_customers.js';
import * as orderMoney from './migrations/20261201220000_order_money.js';
import * as priceLists from './migrations/20261201230000_price_lists.js';
import * as companies from './migrations/20261202090000_companies.js';
import * as jobRuns from './migrations/20261202100000_job_runs.js';
import * as invoices from './migrations/20261202110000_invoices.js';
import * as credit from './migrations/20261202120000_credit.js';
import * as promotions from './migrations/20261202130000_promotions.js';
import * as contracts from './migrations/20261202135000_contracts.js';
import * as transfers from './migrations/20261202140000_transfers.js';
import * as lineTaxSource from './migrations/20261202150000_line_tax_source.js';
import * as returns from './migrations/20261202160000_returns.js';
import * as payments from './migrations/20261203100000_payments.js';
import * as paymentsMore from './migrations/20261203100500_payments_more.js';
import * as statements from './migrations/20261203130000_statements.js';
import * as reconciliation from './migrations/20261203140000_reconciliation.js';
import * as reportIndexes from './migrations/20261203150000_report_indexes.js';
import * as shipmentChannelState from './migrations/20261203160000_shipment_channel_state.js';
import * as notifications from './migrations/20261204100000_notifications.js';
import * as webhookEndpointsSms from './migrations/20261204110000_webhook_endpoints_sms.js';
import * as orderStatusNonce from './migrations/20261204120000_order_status_nonce.js';
import * as mailInboxes from './migrations/20261204130000_mail_inboxes.js';
import * as shipmentDelivery from './migrations/20261204140000_shipment_delivery.js';
import * as channelRefundMoney from './migrations/20261204150000_channel_refund_money.js';
import * as statementSpeed from './migrations/20261204160000_statement_speed.js';
import * as documentSweepIndex from './migrations/20261204170000_document_sweep_index.js';
import * as auditLog from './migrations/20261205100000_audit_log.js';
import * as usersTokens from './migrations/20261205110000_users_tokens.js';
import * as tokenCreator from './migrations/20261205120000_token_creator.js';
import * as consoleIndexes from './migrations/20261210100000_console_indexes.js';
import * as consoleOrderIndexes from './migrations/20261210110000_console_order_indexes.js';
import * as ordersChannelStatus from './migrations/20261210120000_orders_channel_status.js';
import * as lowStockAlertedIndex from './migrations/20261212100000_low_stock_alerted_index.js';
import * as jobRunsQueuedIndex from './migrations/20261212110000_job_runs_queued_index.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations are listed here in order rather than found on disk, so that the same list runs from
 * TypeScript sources (tests, tsx) and from the compiled `dist/` without extension games.
 */
const MIGRATIONS: Array<[string, Migration]> = [
  ['20261124000000_core_schema', coreSchema],
  ['20261125100000_low_stock', lowStock],
  ['20261126100000_channels', channels],
  ['20261127100000_stock_push', stockPush],
  ['20261201100000_inbound_event_index', inboundEventIndex],
  ['20261201100100_api_events_processed', apiEventsProcessed],
  ['20261201200000_codes_and_ids', codesAndIds],
  ['20261201210000_customers', customers],
  ['20261201220000_order_money', orderMoney],
  ['20261201230000_price_lists', priceLists],
  ['20261202090000_companies', companies],
  ['20261202100000_job_runs', jobRuns],
  ['20261202110000_invoices', invoices],
  ['20261202120000_credit', credit],
  ['20261202130000_promotions', promotions],
  ['20261202135000_contracts', contracts],
  ['20261202140000_transfers', transfers],
  ['20261202150000_line_tax_source', lineTaxSource],
  ['20261202160000_returns', returns],
  ['20261203100000_payments', payments],
  ['20261203100500_payments_more', paymentsMore],
  ['20261203130000_statements', statements],
  ['20261203140000_reconciliation', reconciliation],
  ['20261203150000_report_indexes', reportIndexes],
  ['20261203160000_shipment_channel_state', shipmentChannelState],
  ['20261204100000_notifications', notifications],
  ['20261204110000_webhook_endpoints_sms', webhookEndpointsSms],
  ['20261204120000_order_status_nonce', orderStatusNonce],
  ['20261204130000_mail_inboxes', mailInboxes],
  ['20261204140000_shipment_delivery', shipmentDelivery],
  ['20261204150000_channel_refund_money', channelRefundMoney],
  ['20261204160000_statement_speed', statementSpeed],
  ['20261204170000_document_sweep_index', documentSweepIndex],
  ['20261205100000_audit_log', auditLog],
  ['20261205110000_users_tokens', usersTokens],
  ['20261205120000_token_creator', tokenCreator],
  ['20261210100000_console_indexes', consoleIndexes],
  ['20261210110000_console_order_indexes', consoleOrderIndexes],
  ['20261210120000_orders_channel_status', ordersChannelStatus],
  ['20261212100000_low_stock_alerted_index', lowStockAlertedIndex],
  ['20261212110000_job_runs_queued_index', jobRunsQueuedIndex],
];

const source: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

const migrationConfig: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

export class RollbackRefusedError extends Error {
  override name = 'RollbackRefusedError';
}

export interface RollbackOptions {
  /** Undo every applied migration instead of the last one. */
  all?: boolean;
  /** Go ahead although tables hold data (rolling back may drop them). */
  yes?: boolean;
}

/**
 * Undoes the last applied migration, one at a time (`all`: every one, newest first), and returns
 * the names undone in that order. Migrations applied together at one start form one knex batch,
 * so undoing a batch could drop every table at once: this never goes by batch. When any table
 * holds rows it refuses (RollbackRefusedError naming them) unless `yes`.
 */
export async function migrateRollback(db: Db, options: RollbackOptions = {}): Promise<string[]> {
  const [applied] = (await db.migrate.list(migrationConfig)) as [Array<{ name: string } | string>, unknown];
  if (applied.length === 0) return [];
  if (!options.yes) {
    const filled = await tablesWithRows(db);
    if (filled.length > 0) {
      const undo = options.all
        ? `all ${applied.length} migrations`
        : `the migration ${nameOf(applied.at(-1)!)}`;
      throw new RollbackRefusedError(
        `refusing to undo ${undo}: tables hold data (${filled.join(', ')}) and undoing may drop it; back up the database, then run it again with --yes`,
      );
    }
  }
  const undone: string[] = [];
  do {
    const [, names] = (await db.migrate.down(migrationConfig)) as [number, string[]];
    if (names.length === 0) break;
    undone.push(...names);
  } while (options.all);
  return undone;
}

const nameOf = (m: { name: string } | string) => (typeof m === 'string' ? m : m.name);

/** The application's tables (not knex's own) that hold at least one row. */
async function tablesWithRows(db: Db): Promise<string[]> {
  const tables =
    dialectOf(db) === 'mysql'
      ? (
          (await db.raw(
            'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = ?',
            ['BASE TABLE'],
          )) as [Array<{ name: string }>]
        )[0]
      : ((await db.raw(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )) as Array<{ name: string }>);
  const filled: string[] = [];
  for (const { name } of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    if (name.startsWith(migrationConfig.tableName!)) continue;
    if ((await db(name).select(db.raw('1')).limit(1)).length > 0) filled.push(name);
  }
  return filled;
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [
    unknown[],
    Array<{ file: string } | [string, Migration]>,
  ];
  return pending.map((p) => (Array.isArray(p) ? p[0] : p.file));
}
