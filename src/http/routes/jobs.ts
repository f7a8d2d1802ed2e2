import { z } from 'zod';
import type { ScheduledJob } from '../../../jobs/types.js';
import type { Conn } from '../../db/connection.js';
import { periodLabel } from '../../domain/job-periods.js';
import { notFound } from '../../errors/domain-errors.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { nextTick } from '../../scheduling/cron-ticks.js';
import { getRun, type JobRun, lastRuns, listRuns, RUN_STATUSES } from '../../scheduling/job-runs.js';
import { openRunFile, RUN_FILE_TYPES } from '../../scheduling/run-files.js';
import { runJobNow } from '../../scheduling/run-now.js';
import type { ScheduledJobsDeps } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';

const jobNameParam = z.string().min(1).max(64);

/** An empty `job=` or `status=` is no filter. */
const blankAsUnset = (v: unknown) => (v === '' ? undefined : v);

export const listQuery = z.object({
  job: z.preprocess(blankAsUnset, jobNameParam.optional()),
  status: z.preprocess(blankAsUnset, z.enum(RUN_STATUSES as [string, ...string[]]).optional()),
  ...pageQuery,
});

export const runBody = z
  .object({
    /** The period to run; default: the one a tick now would cover. */
    period: z.string().min(1).max(32).optional(),
    /** Run a period that already succeeded again (into a new folder). */
    force: z.boolean().default(false),
  })
  .strict()
  .default({ force: false });

/** A run as the API shows it: the stored run and where its files are downloaded. */
export const toRunView = (run: JobRun) => ({
  ...run,
  fileUrls: run.files.map((f) => `/api/jobs/runs/${run.id}/files/${encodeURIComponent(f)}`),
});

export function toJobView(job: ScheduledJob, deps: ScheduledJobsDeps, last: JobRun | undefined, now: Date) {
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

const isoTime = z.string().describe('UTC, ISO 8601');
const runSchema = z
  .object({
    id: z.number().int(),
    job: z.string(),
    period: z.string().describe('2026-11-30 daily, 2026-11 monthly, or a minute/second key'),
    status: z.enum(RUN_STATUSES as [string, ...string[]]),
    run: z.number().int().describe('1, then + 1 for each rerun'),
    attempts: z.number().int(),
    triggeredBy: z.enum(['schedule', 'catch-up', 'api', 'cli']),
    queueJobId: z.string().nullable(),
    outputDir: z.string().nullable().describe('the run’s folder relative to the output folder'),
    counts: z.record(z.string(), z.number()),
    files: z.array(z.string()),
    fileUrls: z.array(z.string()).describe('where each file is downloaded'),
    result: z.record(z.string(), z.unknown()).nullable().describe('what the job reported, its own shape'),
    error: z.string().nullable(),
    history: z.array(z.record(z.string(), z.unknown())).describe('earlier runs of the period, oldest first'),
    queuedAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: 'JobRun' });
const jobSchema = z
  .object({
    name: z.string(),
    schedule: z.string().describe('cron expression'),
    timeZone: z.string(),
    period: z.string().describe('day, month or <n>s'),
    covers: z.enum(['previous', 'current']),
    catchUp: z.number().int(),
    lastRun: runSchema.nullable(),
    nextRunAt: isoTime.nullable(),
  })
  .meta({ id: 'ScheduledJob' });
const runParams = z.object({ id: idParam.describe('run id') });

/** Scheduled jobs: what runs when, the runs, asking for one, and the files runs wrote. */
export function jobRoutes(db: Conn, deps: ScheduledJobsDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Jobs', entity: 'job_run', db });
  const byName = new Map(deps.jobs.map((j) => [j.name, j]));
  const now = deps.now ?? (() => new Date());
  const jobOf = (name: string) => {
    const job = byName.get(name);
    if (!job) throw notFound(`scheduled job ${name}`, { jobs: [...byName.keys()] });
    return job;
  };

  route(
    {
      method: 'get',
      path: '/jobs',
      access: 'read',
      operationId: 'listScheduledJobs',
      summary: 'The scheduled jobs: when each runs, its last run and the next',
      responses: { 200: { description: 'Every job', schema: z.object({ items: z.array(jobSchema) }) } },
    },
    async (c) => {
      const last = await lastRuns(
        db,
        deps.jobs.map((j) => j.name),
      );
      const at = now();
      return c.json({ items: deps.jobs.map((j) => toJobView(j, deps, last.get(j.name), at)) });
    },
  );

  route(
    {
      method: 'get',
      path: '/jobs/runs',
      access: 'read',
      operationId: 'listJobRuns',
      summary: 'Job runs, newest first',
      query: listQuery,
      responses: {
        200: {
          description: 'A page',
          schema: z.object({ items: z.array(runSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query: q }) => {
      const beforeId = readCursor(q.cursor);
      const rows = await listRuns(db, {
        job: q.job,
        status: q.status as JobRun['status'] | undefined,
        beforeId,
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit).map(toRunView);
      return c.json({ items, nextCursor: nextCursor(rows.length > q.limit ? items.at(-1)?.id : null) });
    },
  );

  route(
    {
      method: 'get',
      path: '/jobs/runs/:id',
      access: 'read',
      operationId: 'getJobRun',
      summary: 'One job run',
      params: runParams,
      responses: { 200: { description: 'The run', schema: runSchema } },
      errors: [404],
    },
    async (c, { params }) => {
      const run = await getRun(db, params.id);
      if (!run) throw notFound(`job run ${params.id}`);
      return c.json(toRunView(run));
    },
  );

  route(
    {
      method: 'post',
      path: '/jobs/:name/run',
      access: 'finance',
      operationId: 'runJob',
      summary: 'Ask for a run of a job now (queued)',
      description:
        'Default period: the one a tick now would cover. A period that already succeeded runs again only with `force`.',
      params: z.object({ name: jobNameParam.describe('job name') }),
      body: runBody,
      responses: { 202: { description: 'Queued', schema: runSchema } },
      errors: [404, 409, 422],
    },
    async (c, { params, body }) => {
      const run = await runJobNow(db, deps, jobOf(params.name), { ...body, triggeredBy: 'api' });
      return c.json(toRunView(run), 202);
    },
  );

  route(
    {
      method: 'get',
      path: '/jobs/runs/:id/files/:name',
      access: 'read',
      operationId: 'downloadJobRunFile',
      summary: 'A file a run wrote',
      description: 'Only a file the run recorded, from its own folder.',
      params: z.object({ id: idParam.describe('run id'), name: z.string().describe('file name') }),
      responses: {
        200: {
          description: 'The file (CSV, xlsx, PDF, JSON or text by its extension)',
          contentType: 'application/octet-stream',
          files: RUN_FILE_TYPES,
        },
      },
      errors: [404],
    },
    async (c, { params }) => {
      const file = await openRunFile(db, deps.outputRoot, params.id, params.name);
      c.header('Content-Type', file.type);
      c.header('Content-Disposition', attachmentDisposition(params.name));
      c.header('Content-Length', String(file.size));
      return c.body(file.body, 200);
    },
  );

  return app;
}
