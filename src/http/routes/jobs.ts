import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { z } from 'zod';
import type { ScheduledJob } from '../../../jobs/types.js';
import type { Conn } from '../../db/connection.js';
import { periodLabel } from '../../domain/job-periods.js';
import { notFound } from '../../errors/domain-errors.js';
import { attachmentDisposition, safeFileName } from '../../inbox/file-name.js';
import { enqueueRun } from '../../scheduler.js';
import { nextTick } from '../../scheduling/cron-ticks.js';
import { getRun, type JobRun, lastRuns, listRuns, RUN_STATUSES } from '../../scheduling/job-runs.js';
import { requestJobRun } from '../../scheduling/request-run.js';
import type { AppEnv, ScheduledJobsDeps } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';

const jobNameParam = z.string().min(1).max(64);

/** An empty `job=` or `status=` is no filter. */
const blankAsUnset = (v: unknown) => (v === '' ? undefined : v);

const listQuery = z.object({
  job: z.preprocess(blankAsUnset, jobNameParam.optional()),
  status: z.preprocess(blankAsUnset, z.enum(RUN_STATUSES as [string, ...string[]]).optional()),
  ...pageQuery,
});

const runBody = z
  .object({
    /** The period to run; default: the one a tick now would cover. */
    period: z.string().min(1).max(32).optional(),
    /** Run a period that already succeeded again (into a new folder). */
    force: z.boolean().default(false),
  })
  .strict()
  .default({ force: false });

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pdf': 'application/pdf',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** A run as the API shows it: the stored run and where its files are downloaded. */
const toRunView = (run: JobRun) => ({
  ...run,
  fileUrls: run.files.map((f) => `/api/jobs/runs/${run.id}/files/${encodeURIComponent(f)}`),
});

function toJobView(job: ScheduledJob, deps: ScheduledJobsDeps, last: JobRun | undefined, now: Date) {
  return {
    name: job.name,
    schedule: job.schedule,
    timeZone: deps.timeZone,
    period: periodLabel(job.period),
    covers: typeof job.period === 'string' ? (job.covers ?? 'previous') : 'current',
    catchUp: typeof job.period === 'string' ? (job.catchUp ?? 0) : 0,
    lastRun: last ? toRunView(last) : null,
    nextRunAt: nextTick(job.schedule, deps.timeZone, now)?.toISOString() ?? null,
  };
}

/** Scheduled jobs: what runs when, the runs, asking for one, and the files runs wrote. */
export function jobRoutes(db: Conn, deps: ScheduledJobsDeps) {
  const app = new Hono<AppEnv>();
  const byName = new Map(deps.jobs.map((j) => [j.name, j]));
  const now = deps.now ?? (() => new Date());
  const jobOf = (name: string) => {
    const job = byName.get(name);
    if (!job) throw notFound(`scheduled job ${name}`, { jobs: [...byName.keys()] });
    return job;
  };

  app.get('/jobs', async (c) => {
    const last = await lastRuns(
      db,
      deps.jobs.map((j) => j.name),
    );
    const at = now();
    return c.json({ items: deps.jobs.map((j) => toJobView(j, deps, last.get(j.name), at)) });
  });

  app.get('/jobs/runs', async (c) => {
    const q = parseParam(listQuery, c.req.query(), 'query');
    const beforeId = readCursor(q.cursor);
    const rows = await listRuns(db, {
      job: q.job,
      status: q.status as JobRun['status'] | undefined,
      beforeId,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map(toRunView);
    return c.json({ items, nextCursor: nextCursor(rows.length > q.limit ? items.at(-1)?.id : null) });
  });

  app.get('/jobs/runs/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'run id');
    const run = await getRun(db, id);
    if (!run) throw notFound(`job run ${id}`);
    return c.json(toRunView(run));
  });

  app.post('/jobs/:name/run', async (c) => {
    const job = jobOf(parseParam(jobNameParam, c.req.param('name'), 'job name'));
    const body = await readJson(c, runBody);
    const run = await requestJobRun(db, job, {
      period: body.period,
      force: body.force,
      triggeredBy: 'api',
      timeZone: deps.timeZone,
      now: now(),
    });
    await enqueueRun(deps.queue, job, run);
    return c.json(toRunView(run), 202);
  });

  app.get('/jobs/runs/:id/files/:name', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'run id');
    const name = c.req.param('name');
    const run = await getRun(db, id);
    // Only a name the run recorded, and only a plain one: nothing outside the run's folder.
    if (!run || run.outputDir === null || safeFileName(name) !== name || !run.files.includes(name))
      throw notFound(`file ${JSON.stringify(name)} of job run ${id}`);
    const root = path.resolve(deps.outputRoot);
    const file = path.resolve(root, run.outputDir, name);
    if (!file.startsWith(root + path.sep)) throw notFound(`file ${JSON.stringify(name)} of job run ${id}`);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw notFound(`file ${JSON.stringify(name)} of job run ${id} (no longer on disk)`);
    c.header('Content-Type', CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream');
    c.header('Content-Disposition', attachmentDisposition(name));
    c.header('Content-Length', String(info.size));
    return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream, 200);
  });

  return app;
}
