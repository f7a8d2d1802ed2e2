import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import { scheduledJobs } from '../../jobs/index.js';
import type { ScheduledJob } from '../../jobs/types.js';
import { resolveBootstrapSecrets } from '../bootstrap-secrets.js';
import { createChannelContext } from '../channels/channel-context.js';
import { type Config, outputDirOf } from '../config.js';
import { setBusinessTimeZone } from '../customers/price-book.js';
import { assertDatabaseReachable, createDb, dbOptionsFrom } from '../db/connection.js';
import { migrateLatest } from '../db/migrate.js';
import { periodLabel } from '../domain/job-periods.js';
import { DomainError } from '../errors/domain-errors.js';
import { claimRun, getRun, queueJobIdOf } from './job-runs.js';
import { requestJobRun } from './request-run.js';
import { runAttempt } from './run-job.js';

export interface RunCommandOptions {
  job: string | null;
  period?: string | undefined;
  force: boolean;
  /** Where progress goes: a bar on a terminal, plain lines otherwise. Default stderr. */
  progressStream?: NodeJS.WriteStream;
  /** Where the finished run is printed (one JSON line). Default stdout. */
  out?: NodeJS.WritableStream;
}

/** The jobs `stockbridge run` knows, for its help and for an unknown name. */
export function describeJobs(jobs: readonly ScheduledJob[]): string {
  const width = Math.max(...jobs.map((j) => j.name.length));
  return jobs
    .map((j) => `  ${j.name.padEnd(width)}  ${j.schedule.padEnd(14)} ${periodLabel(j.period)}`)
    .join('\n');
}

/** Progress as a bar on a terminal, else a plain line at most once a second and at the end. */
function progressReporter(label: string, stream: NodeJS.WriteStream) {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done: number, total: number) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(done);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let lastLine = '';
  return {
    update(done: number, total: number) {
      const now = Date.now();
      const line = `${label}: ${done}/${total}`;
      if ((now - last < 1000 && done < total) || line === lastLine) return;
      last = now;
      lastLine = line;
      stream.write(`${line}\n`);
    },
    stop() {},
  };
}

/**
 * `stockbridge run <job> [--period P] [--force]`: runs one job in this process, with the same
 * bookkeeping as the daemon's runs (a period that succeeded is refused without `--force`; a rerun
 * writes to a new folder). Resolves with the exit code: 0 done, 1 failed or refused, 2 bad usage.
 */
export async function runJobCommand(
  config: Config,
  log: Logger,
  options: RunCommandOptions,
): Promise<number> {
  const jobs = scheduledJobs({ heartbeatSeconds: config.STOCKBRIDGE_HEARTBEAT_SECONDS });
  const errors = options.progressStream ?? process.stderr;
  const out = options.out ?? process.stdout;
  const job = jobs.find((j) => j.name === options.job);
  if (!job) {
    errors.write(
      `stockbridge run: ${options.job ? `no job named ${options.job}` : 'name a job'}; the jobs are:\n${describeJobs(jobs)}\n`,
    );
    return 2;
  }
  const timeZone = config.STOCKBRIDGE_TIME_ZONE;
  setBusinessTimeZone(timeZone);
  const db = createDb(dbOptionsFrom(config));
  try {
    await assertDatabaseReachable(db, dbOptionsFrom(config));
    if (config.STOCKBRIDGE_MIGRATE_ON_START) await migrateLatest(db);
    let requested: Awaited<ReturnType<typeof requestJobRun>>;
    try {
      requested = await requestJobRun(db, job, {
        period: options.period,
        force: options.force,
        triggeredBy: 'cli',
        timeZone,
        now: new Date(),
      });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      errors.write(`stockbridge run: ${err.message}\n`);
      return err.code === 'invalid_period' || err.code === 'period_not_over' ? 2 : 1;
    }
    const run = await claimRun(db, requested, null);
    if (!run) {
      errors.write(`stockbridge run: ${job.name} for ${requested.period} was taken by a worker meanwhile\n`);
      return 1;
    }
    /** The run as stored, and the folder its files are in. */
    const runLine = async (id: number) => {
      const stored = await getRun(db, id);
      const folder = stored?.outputDir ? path.join(outputDirOf(config), stored.outputDir) : null;
      return JSON.stringify({ ...stored, folder });
    };
    // A job that talks to channels gets them as the daemon has them, less the queues: orders it
    // takes in wait as `received` for the daemon's relay, pushes it marks for its push sweep.
    const channels = job.usesChannels
      ? createChannelContext({
          db,
          log,
          secretKey: resolveBootstrapSecrets(config, log).secretKey,
          publicUrl: config.STOCKBRIDGE_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
          enqueueOrders: async () => {},
        })
      : undefined;
    const bar = progressReporter(`${job.name} ${run.period}`, errors);
    try {
      await runAttempt(job, run, {
        db,
        log,
        timeZone,
        outputRoot: outputDirOf(config),
        channels,
        jobId: queueJobIdOf(run),
        final: () => true,
        onProgress: (done, total) => bar.update(done, total),
      });
    } catch (err) {
      bar.stop();
      errors.write(`stockbridge run: ${job.name} for ${run.period} failed: ${(err as Error).message}\n`);
      out.write(`${await runLine(run.id)}\n`);
      return 1;
    }
    bar.stop();
    out.write(`${await runLine(run.id)}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}
