import { mkdir, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { JobContext, JobResult, ScheduledJob } from '../../jobs/types.js';
import type { ChannelContext } from '../channels/channel-context.js';
import type { Db } from '../db/connection.js';
import { periodBounds } from '../domain/job-periods.js';
import { safeFileName } from '../inbox/file-name.js';
import { failRun, finishRun, type JobRun, setOutputDir } from './job-runs.js';

/** What running a job needs besides the job and its claimed run. */
export interface RunnerOptions {
  db: Db;
  log: Logger;
  /** The business time zone. */
  timeZone: string;
  /** `STOCKBRIDGE_OUTPUT_DIR`: each run's folder is made under it. */
  outputRoot: string;
  /** The channels, handed to jobs that talk to them. */
  channels?: ChannelContext | undefined;
}

/**
 * Makes a run's folder, `<job>/<period>` for the first run and `<job>/<period>.run<N>` for a rerun,
 * and never one that exists already (files of an earlier run, or of another database, stay as they
 * are): the next free `.run<N>` instead. Returns it relative to the root.
 */
export async function allocateOutputDir(
  root: string,
  job: string,
  period: string,
  run: number,
): Promise<string> {
  await mkdir(path.join(root, job), { recursive: true });
  for (let n = run; n < run + 1000; n++) {
    const name = n === 1 ? period : `${period}.run${n}`;
    try {
      await mkdir(path.join(root, job, name));
      return `${job}/${name}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`no free output folder for ${job} ${period} under ${root}`);
}

/** The counts a run reports: whole numbers only. */
function countsOf(result: JobResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(result.counts ?? {})) if (Number.isFinite(v)) out[k] = v;
  return out;
}

/**
 * Runs one attempt of a claimed run: its folder, the job's handler, and the row's outcome
 * (`succeeded` with counts and files, or the error: `failed` when `final` says this was the last
 * attempt, else back to `queued` for the next). Throws the job's error.
 */
export async function runAttempt(
  job: ScheduledJob,
  run: JobRun,
  options: RunnerOptions & {
    jobId: string;
    final: (err: unknown) => boolean;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<JobResult> {
  const { db, timeZone } = options;
  const log = options.log.child({ job: job.name, period: run.period, jobId: options.jobId });
  try {
    const root = path.resolve(options.outputRoot);
    let relative = run.outputDir;
    if (relative === null) {
      relative = await allocateOutputDir(root, job.name, run.period, run.run);
      await setOutputDir(db, run, relative);
    } else {
      await mkdir(path.join(root, relative), { recursive: true });
    }
    const { start, end } = periodBounds(job.period, run.period, timeZone);
    const ctx: JobContext = {
      db,
      log,
      jobId: options.jobId,
      period: run.period,
      outputDir: path.join(root, relative),
      progress: (done, total) => options.onProgress?.(done, total),
      timeZone,
      periodStart: start,
      periodEnd: end,
      channels: options.channels,
    };
    const result = await job.run(ctx);
    const files = (result.files ?? []).filter((f) => typeof f === 'string' && safeFileName(f) === f);
    if (files.length !== (result.files ?? []).length)
      log.warn(
        { files: result.files },
        'file names that are not plain names in the output folder are not recorded',
      );
    const { counts: _c, files: _f, ...rest } = result;
    // A job that wrote nothing leaves no empty folder behind (an hourly job would leave thousands).
    const left = await readdir(ctx.outputDir);
    if (left.length === 0) await rmdir(ctx.outputDir);
    await finishRun(db, run, {
      counts: countsOf(result),
      files,
      result: rest,
      outputDir: left.length === 0 ? null : relative,
    });
    log.info({ counts: result.counts, files, result: rest }, 'scheduled job done');
    return result;
  } catch (err) {
    const final = options.final(err);
    const message = (err as Error)?.message ?? String(err);
    await failRun(db, run, message, final);
    log.warn(
      { err: message, final },
      final ? 'scheduled job failed' : 'scheduled job attempt failed; retrying',
    );
    throw err;
  }
}
