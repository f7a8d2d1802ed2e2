import type { Knex } from 'knex';
import type { Db } from './connection.js';
import * as coreSchema from './migrations/20261124000000_core_schema.js';
import * as lowStock from './migrations/20261125100000_low_stock.js';
import * as channels from './migrations/20261126100000_channels.js';
import * as stockPush from './migrations/20261127100000_stock_push.js';
import * as inboundEventIndex from './migrations/20261201100000_inbound_event_index.js';
import * as apiEventsProcessed from './migrations/20261201100100_api_events_processed.js';
import * as codesAndIds from './migrations/20261201200000_codes_and_ids.js';

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

export async function migrateRollback(db: Db, all = false): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(migrationConfig, all)) as [number, string[]];
  return rolledBack;
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [
    unknown[],
    Array<{ file: string } | [string, Migration]>,
  ];
  return pending.map((p) => (Array.isArray(p) ? p[0] : p.file));
}
