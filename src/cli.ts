#!/usr/bin/env node
import { SCHEDULED_JOBS } from '../jobs/index.js';
import { addUserCommand } from './auth/add-user-command.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { resyncChannel, startDaemon } from './daemon.js';
import { assertDatabaseReachable, createDb, dbOptionsFrom } from './db/connection.js';
import { migrateLatest, migrateRollback } from './db/migrate.js';
import { createLogger, wantsPrettyLogs } from './logger.js';
import { describeJobs, runJobCommand } from './scheduling/run-command.js';

const USAGE = `usage: stockbridge <command> [--roles api,worker,scheduler] [--all] [--yes]
       stockbridge run <job> [--period <period>] [--force]

commands:
  start              run the daemon (all roles unless --roles or STOCKBRIDGE_ROLES says otherwise)
  migrate            apply pending database migrations
  migrate:rollback   undo the last migration (--all: every one, newest first); refuses while
                     tables hold data unless --yes
  user:add           create a user who can log in: --email a@b.c --role admin|operator|finance|viewer
                     [--name "Name"] [--locale zh-CN|en]; the password from STOCKBRIDGE_NEW_PASSWORD,
                     else asked for on the terminal
  resync <channelId> push every mapped SKU of a channel now, changed or not, and print the result
  run <job>          run a scheduled job now, in this process, for the latest period (a nightly
                     job: yesterday; --period 2026-11-30 for a day, 2026-11 for a month); a period that
                     succeeded runs again only with --force (into a new folder); exits 1 on failure
  help               this text

scheduled jobs (schedule in STOCKBRIDGE_TIME_ZONE, period a run covers):
${describeJobs(SCHEDULED_JOBS)}`;

function parseArgs(argv: string[]): {
  command: string;
  env: Record<string, string>;
  all: boolean;
  yes: boolean;
  channelId: number | null;
  job: string | null;
  period: string | undefined;
  force: boolean;
  help: boolean;
  user: { email: string | null; role: string | null; name: string | null; locale: string | null };
} {
  const [command = 'start', ...rest] = argv;
  const env: Record<string, string> = {};
  let all = false;
  let yes = false;
  let channelId: number | null = null;
  let job: string | null = null;
  let period: string | undefined;
  let force = false;
  let help = false;
  const user = { email: null, role: null, name: null, locale: null } as {
    email: string | null;
    role: string | null;
    name: string | null;
    locale: string | null;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (command === 'user:add') {
      const m = /^--(email|role|name|locale)(?:=(.*))?$/.exec(arg);
      if (!m) throw new ConfigError([`unknown argument ${arg}`]);
      user[m[1] as keyof typeof user] = m[2] ?? rest[++i] ?? '';
      continue;
    }
    if (command === 'run') {
      if (arg === '--help' || arg === '-h') help = true;
      else if (arg === '--force') force = true;
      else if (arg === '--period') period = rest[++i] ?? '';
      else if (arg.startsWith('--period=')) period = arg.slice('--period='.length);
      else if (!arg.startsWith('-') && job === null) job = arg;
      else throw new ConfigError([`unknown argument ${arg}`]);
      continue;
    }
    if (command === 'resync' && channelId === null && /^\d+$/.test(arg)) {
      channelId = Number(arg);
      continue;
    }
    if (arg === '--roles') env.STOCKBRIDGE_ROLES = rest[++i] ?? '';
    else if (arg.startsWith('--roles=')) env.STOCKBRIDGE_ROLES = arg.slice('--roles='.length);
    else if (arg === '--all') all = true;
    else if (arg === '--yes') yes = true;
    else throw new ConfigError([`unknown argument ${arg}`]);
  }
  if (command === 'resync' && channelId === null) throw new ConfigError(['resync needs a channel id']);
  if (command === 'run' && period === '')
    throw new ConfigError(['--period needs a period (2026-11-30, 2026-11)']);
  return { command, env, all, yes, channelId, job, period, force, help, user };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  let config: Config;
  try {
    parsed = parseArgs(process.argv.slice(2));
    config = loadConfig({ ...process.env, ...parsed.env });
  } catch (err) {
    process.stderr.write(`stockbridge: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger(config.LOG_LEVEL, undefined, {
    pretty: wantsPrettyLogs(config.NODE_ENV, process.stdout.isTTY),
  });

  switch (parsed.command) {
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'migrate':
    case 'migrate:rollback': {
      const db = createDb(dbOptionsFrom(config));
      try {
        await assertDatabaseReachable(db, dbOptionsFrom(config));
        const names =
          parsed.command === 'migrate'
            ? await migrateLatest(db)
            : await migrateRollback(db, { all: parsed.all, yes: parsed.yes });
        log.info(
          { migrations: names },
          names.length ? `${parsed.command}: done` : `${parsed.command}: nothing to do`,
        );
        return 0;
      } finally {
        await db.destroy();
      }
    }
    case 'run': {
      if (parsed.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      return runJobCommand(config, log, { job: parsed.job, period: parsed.period, force: parsed.force });
    }
    case 'user:add':
      // A one-off input, not configuration: the new user's password, so it never is an argument.
      return addUserCommand(config, log, { ...parsed.user, password: process.env.STOCKBRIDGE_NEW_PASSWORD });
    case 'resync': {
      const summary = await resyncChannel(config, log, parsed.channelId as number);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return summary.skipped ? 1 : 0;
    }
    case 'start': {
      const daemon = await startDaemon(config, log);
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          log.info({ signal }, 'shutting down: finishing in-flight work');
          const force = setTimeout(() => {
            log.error('shutdown took too long; exiting');
            process.exit(1);
          }, 30_000);
          force.unref();
          daemon.stop().then(resolve, (err) => {
            log.error({ err: (err as Error).message }, 'error during shutdown');
            resolve();
          });
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
      });
      return 0;
    }
    default:
      process.stderr.write(`stockbridge: unknown command ${parsed.command}\n\n${USAGE}\n`);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`stockbridge: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
