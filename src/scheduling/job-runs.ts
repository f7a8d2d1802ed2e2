import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { isDuplicateKeyError } from '../db/retry.js';
import { conflict } from '../errors/domain-errors.js';

export const JOB_RUNS = 'job_runs';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed'];
/** Who asked for a run. */
export type RunTrigger = 'schedule' | 'catch-up' | 'api' | 'cli';

/** One (job, period) as stored: its latest run. */
export interface JobRun {
  id: number;
  job: string;
  period: string;
  status: RunStatus;
  /** 1, then + 1 for each rerun. */
  run: number;
  /** Attempts made, over every run. */
  attempts: number;
  triggeredBy: RunTrigger;
  queueJobId: string | null;
  /** The run's folder relative to the output folder, once it started. */
  outputDir: string | null;
  counts: Record<string, number>;
  files: string[];
  result: Record<string, unknown> | null;
  error: string | null;
  /** Earlier runs, oldest first. */
  history: Array<Record<string, unknown>>;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const json = <T>(v: unknown, fallback: T): T =>
  v === null || v === undefined ? fallback : JSON.parse(String(v));

export function toRun(r: Record<string, unknown>): JobRun {
  return {
    id: Number(r.id),
    job: String(r.job),
    period: String(r.period),
    status: r.status as RunStatus,
    run: Number(r.run),
    attempts: Number(r.attempts),
    triggeredBy: r.triggered_by as RunTrigger,
    queueJobId: (r.queue_job_id as string | null) ?? null,
    outputDir: (r.output_dir as string | null) ?? null,
    counts: json(r.counts, {}),
    files: json(r.files, []),
    result: json(r.result, null),
    error: (r.error as string | null) ?? null,
    history: json(r.history, []),
    queuedAt: isoTime(r.queued_at as string)!,
    startedAt: isoTime(r.started_at as string | null),
    finishedAt: isoTime(r.finished_at as string | null),
  };
}

/** The queue job's id of a run: `<job>-<period>`, and `-run<N>` for a rerun. Never a `:`. */
export const queueJobIdOf = (run: Pick<JobRun, 'job' | 'period' | 'run'>) =>
  run.run === 1 ? `${run.job}-${run.period}` : `${run.job}-${run.period}-run${run.run}`;

export async function findRun(db: Conn, job: string, period: string): Promise<JobRun | null> {
  const row = await db(JOB_RUNS).where({ job, period }).first();
  return row ? toRun(row) : null;
}

export async function getRun(db: Conn, id: number): Promise<JobRun | null> {
  const row = await db(JOB_RUNS).where({ id }).first();
  return row ? toRun(row) : null;
}

/**
 * The row of (job, period), created `queued` when there is none. `created` says whether this call
 * made it: of several schedulers asking at once, one does.
 */
export async function ensureRun(
  db: Conn,
  job: string,
  period: string,
  triggeredBy: RunTrigger,
): Promise<{ run: JobRun; created: boolean }> {
  const now = dbTime();
  try {
    await db(JOB_RUNS).insert({
      job,
      period,
      status: 'queued',
      run: 1,
      attempts: 0,
      triggered_by: triggeredBy,
      queued_at: now,
      updated_at: now,
    });
    return { run: (await findRun(db, job, period))!, created: true };
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const run = await findRun(db, job, period);
    if (!run) throw err;
    return { run, created: false };
  }
}

/**
 * A run asked for by a person (API, CLI): a new row, or a new run of a failed one, or with `force`
 * of a succeeded one. A run queued or running is 409 `job_run_in_progress`; a succeeded one
 * without `force` 409 `job_run_succeeded`.
 */
export async function requestRun(
  db: Conn,
  job: string,
  period: string,
  options: { force: boolean; triggeredBy: RunTrigger },
): Promise<JobRun> {
  const { run, created } = await ensureRun(db, job, period, options.triggeredBy);
  if (created) return run;
  if (run.status === 'queued' || run.status === 'running')
    throw conflict('job_run_in_progress', `${job} for ${period} is already ${run.status}`, {
      id: run.id,
      status: run.status,
    });
  if (run.status === 'succeeded' && !options.force)
    throw conflict(
      'job_run_succeeded',
      `${job} for ${period} already succeeded (run ${run.id}); force a rerun to run it again (--force, or force: true in the API)`,
      { id: run.id },
    );
  const now = dbTime();
  const earlier = {
    run: run.run,
    status: run.status,
    attempts: run.attempts,
    triggeredBy: run.triggeredBy,
    outputDir: run.outputDir,
    counts: run.counts,
    files: run.files,
    error: run.error,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
  // Guarded on the run and status read: of two reruns asked for at once, one happens.
  const changed = await db(JOB_RUNS)
    .where({ id: run.id, run: run.run, status: run.status })
    .update({
      status: 'queued',
      run: run.run + 1,
      triggered_by: options.triggeredBy,
      queue_job_id: null,
      output_dir: null,
      counts: null,
      files: null,
      result: null,
      error: null,
      history: JSON.stringify([...run.history, earlier]),
      queued_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
    });
  if (changed === 0)
    throw conflict('job_run_in_progress', `${job} for ${period} was started again meanwhile`, { id: run.id });
  return (await getRun(db, run.id))!;
}

/**
 * Takes a queued run for one attempt: `running`, one more attempt. A run already running under the
 * same queue job is taken again (its worker died and BullMQ runs the job again). Null: the run is
 * not this job's to run (done, rerun meanwhile, or taken elsewhere).
 */
export async function claimRun(
  db: Conn,
  target: { job: string; period: string; run: number },
  queueJobId: string | null,
): Promise<JobRun | null> {
  const now = dbTime();
  const changed = await db(JOB_RUNS)
    .where({ job: target.job, period: target.period, run: target.run })
    .andWhere((q) => {
      q.where('status', 'queued');
      if (queueJobId !== null) q.orWhere((r) => r.where({ status: 'running', queue_job_id: queueJobId }));
    })
    .update({
      status: 'running',
      attempts: db.raw('attempts + 1'),
      queue_job_id: queueJobId,
      started_at: db.raw('COALESCE(started_at, ?)', [now]),
      updated_at: now,
    });
  return changed === 0 ? null : findRun(db, target.job, target.period);
}

/** Records where a run writes its files (once, at its first attempt). */
export async function setOutputDir(db: Conn, run: JobRun, outputDir: string): Promise<void> {
  await db(JOB_RUNS)
    .where({ id: run.id, run: run.run })
    .update({ output_dir: outputDir, updated_at: dbTime() });
}

export async function finishRun(
  db: Conn,
  run: JobRun,
  outcome: {
    counts: Record<string, number>;
    files: string[];
    result: Record<string, unknown>;
    /** The run's folder, or null when it was left empty and removed. */
    outputDir: string | null;
  },
): Promise<void> {
  const now = dbTime();
  await db(JOB_RUNS)
    .where({ id: run.id, run: run.run, status: 'running' })
    .update({
      status: 'succeeded',
      output_dir: outcome.outputDir,
      counts: JSON.stringify(outcome.counts),
      files: JSON.stringify(outcome.files),
      result: JSON.stringify(outcome.result),
      error: null,
      finished_at: now,
      updated_at: now,
    });
}

/**
 * Records a failed attempt: `failed` for good when `final`, else back to `queued` with the error
 * (BullMQ tries again after its backoff).
 */
export async function failRun(db: Conn, run: JobRun, error: string, final: boolean): Promise<void> {
  const now = dbTime();
  await db(JOB_RUNS)
    .where({ id: run.id, run: run.run, status: 'running' })
    .update({
      status: final ? 'failed' : 'queued',
      error: error.slice(0, 10_000),
      finished_at: final ? now : null,
      updated_at: now,
    });
}

/**
 * The latest run of each job (the one queued last, a rerun of an old period included), by job name:
 * the one definition of "last run" (the API's job list, the console's jobs page and dashboard). One
 * look along the `job_runs (job, queued_at, id)` index per job.
 */
export async function lastRuns(db: Conn, jobs: readonly string[]): Promise<Map<string, JobRun>> {
  const rows = await Promise.all(
    jobs.map((job) => db(JOB_RUNS).where({ job }).orderBy('queued_at', 'desc').orderBy('id', 'desc').first()),
  );
  const out = new Map<string, JobRun>();
  rows.forEach((row, i) => {
    if (row) out.set(jobs[i]!, toRun(row));
  });
  return out;
}

/** Runs newest first, by id, optionally of one job and status. */
export async function listRuns(
  db: Conn,
  q: { job?: string | undefined; status?: RunStatus | undefined; beforeId: number | null; limit: number },
): Promise<JobRun[]> {
  const query = db(JOB_RUNS).orderBy('id', 'desc').limit(q.limit);
  if (q.job) query.where('job', q.job);
  if (q.status) query.where('status', q.status);
  if (q.beforeId !== null) query.where('id', '<', q.beforeId);
  return (await query).map(toRun);
}
