/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { z } from 'zod';
import type { ScheduledJob } from '../../../jobs/types.js';
import { notFound } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { newRoutes, routeRegistrar } from '../../http/openapi.js';
import { encodeCursor, readCursor } from '../../http/pagination.js';
import { idParam } from '../../http/params.js';
import { listQuery, runBody, toJobView } from '../../http/routes/jobs.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { getRun, type JobRun, lastRuns, listRuns, RUN_STATUSES } from '../../scheduling/job-runs.js';
import { openRunFile, RUN_FILE_TYPES } from '../../scheduling/run-files.js';
import { runJobNow } from '../../scheduling/run-now.js';
import {
  ActionForm,
  Badge,
  Checkbox,
  ErrorSummary,
  Facts,
  Field,
  Pager,
  Select,
  Table,
  Time,
} from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, type FormObject, readForm } from '../forms.js';
import { JOB_TEXTS as T } from '../jobs/texts.js';
import { COMMON } from '../texts.js';

const PAGE_SIZE = 50;
const RUN_KIND = { succeeded: 'ok', failed: 'bad', running: undefined, queued: undefined } as const;

const RunStatus = ({ run, locale }: { run: Pick<JobRun, 'status'>; locale: 'en' | 'zh-CN' }) => (
  <Badge kind={RUN_KIND[run.status]}>{T[locale].status[run.status]}</Badge>
);

const runParams = z.object({ id: idParam.describe('run id') });
const jobParams = z.object({ name: z.string().min(1).max(64).describe('job name') });

interface FormState {
  status?: 409 | 422 | 404;
  error?: string;
  errors?: FieldErrors;
  values?: FormObject;
}

/** Jobs and files: the scheduled jobs, their runs and the files they wrote, and "Run now". */
export function jobPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'job_run', db: cd.deps.db });
  const db = cd.deps.db;
  const sched = cd.deps.scheduledJobs;
  const outputRoot = sched?.outputRoot ?? cd.deps.outputDir ?? './data/outputs';
  const jobOf = (name: string): ScheduledJob | undefined => sched?.jobs.find((j) => j.name === name);

  route(
    {
      method: 'get',
      path: '/jobs',
      access: 'read',
      operationId: 'consoleJobs',
      summary: 'The scheduled jobs and their recent runs',
      query: listQuery,
      responses: PAGE,
    },
    async (c, { query: q }) => {
      const { locale, t } = viewer(c);
      const tt = T[locale];
      const limit = Math.min(q.limit, PAGE_SIZE);
      const beforeId = readCursor(q.cursor);
      const rows = await listRuns(db, {
        job: q.job,
        status: q.status as JobRun['status'] | undefined,
        beforeId,
        limit: limit + 1,
      });
      const runs = rows.slice(0, limit);
      const last = sched
        ? await lastRuns(
            db,
            sched.jobs.map((j) => j.name),
          )
        : new Map<string, JobRun>();
      const now = (sched?.now ?? (() => new Date()))();
      const jobs = sched ? sched.jobs.map((j) => toJobView(j, sched, last.get(j.name), now)) : [];
      return render(
        c,
        { title: tt.title, nav: 'jobs' },
        <>
          <h1>{tt.title}</h1>
          <section class="card" aria-labelledby="j-scheduled">
            <h2 id="j-scheduled">{tt.scheduled}</h2>
            {sched ? (
              <Table
                locale={locale}
                caption={tt.scheduledCaption}
                hideCaption
                rows={jobs}
                columns={[
                  {
                    label: tt.job,
                    cell: (j) => <a href={`/console/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a>,
                  },
                  { label: tt.schedule, cell: (j) => <code>{j.schedule}</code> },
                  { label: tt.period, cell: (j) => periodText(locale, j.period) },
                  {
                    label: tt.lastRun,
                    cell: (j) =>
                      j.lastRun ? (
                        <>
                          <a href={`/console/jobs/runs/${j.lastRun.id}`}>{j.lastRun.period}</a>{' '}
                          <RunStatus run={j.lastRun} locale={locale} />
                        </>
                      ) : (
                        <span class="muted">{tt.never}</span>
                      ),
                  },
                  { label: tt.nextRun, cell: (j) => <Time at={j.nextRunAt} /> },
                ]}
              />
            ) : (
              <p class="muted">{tt.notConfigured}</p>
            )}
          </section>
          <section class="card" aria-labelledby="j-runs">
            <h2 id="j-runs">{tt.runs}</h2>
            <form method="get" action="/console/jobs" class="filters">
              {sched ? (
                <Select
                  name="job"
                  label={tt.job}
                  value={q.job ?? ''}
                  blank={tt.anyJob}
                  options={sched.jobs.map((j) => ({ value: j.name, label: j.name }))}
                />
              ) : (
                <Field name="job" label={tt.job} value={q.job ?? ''} />
              )}
              <Select
                name="status"
                label={t.status}
                value={q.status ?? ''}
                blank={tt.anyStatus}
                options={RUN_STATUSES.map((s) => ({ value: s, label: tt.status[s] }))}
              />
              <div>
                <button type="submit">{t.filter}</button>
              </div>
            </form>
            <RunTable runs={runs} locale={locale} />
            <Pager
              locale={locale}
              path="/console/jobs"
              query={{ job: q.job, status: q.status }}
              prev={beforeId !== null ? { cursor: '' } : null}
              next={rows.length > limit ? { cursor: encodeCursor(runs.at(-1)!.id) } : null}
            />
          </section>
        </>,
      );
    },
  );

  const jobPage = async (
    c: Context<AppEnv>,
    name: string,
    cursor: string | undefined,
    form: FormState = {},
  ) => {
    const { locale, t, csrf, can } = viewer(c);
    const tt = T[locale];
    const job = jobOf(name);
    if (!job || !sched) throw notFound(`scheduled job ${name}`);
    const beforeId = readCursor(cursor);
    const rows = await listRuns(db, { job: job.name, beforeId, limit: PAGE_SIZE + 1 });
    const runs = rows.slice(0, PAGE_SIZE);
    const last = await lastRuns(db, [job.name]);
    const view = toJobView(job, sched, last.get(job.name), (sched.now ?? (() => new Date()))());
    const labels = { period: tt.periodField, force: tt.force };
    return render(
      c,
      { title: tt.jobTitle(job.name), nav: 'jobs', status: form.status ?? 200, error: form.error },
      <>
        <h1>{tt.jobTitle(job.name)}</h1>
        <section class="card">
          <Facts
            items={[
              [tt.schedule, <code>{view.schedule}</code>],
              [tt.timeZone, view.timeZone],
              [tt.period, periodText(locale, view.period)],
              [tt.covers, tt.coversText[view.covers]],
              [
                tt.lastRun,
                view.lastRun ? (
                  <a href={`/console/jobs/runs/${view.lastRun.id}`}>{view.lastRun.period}</a>
                ) : (
                  tt.never
                ),
              ],
              [tt.nextRun, <Time at={view.nextRunAt} />],
            ]}
          />
        </section>
        {can('finance') ? (
          <section class="card" aria-labelledby="j-run-now">
            <h2 id="j-run-now">{tt.runNow}</h2>
            <p class="hint">{tt.runNowHelp}</p>
            <ErrorSummary errors={form.errors} locale={locale} labels={labels} />
            <ActionForm
              action={`/console/jobs/${encodeURIComponent(job.name)}/run`}
              csrf={csrf}
              label={tt.runNow}
            >
              <Field
                name="period"
                label={tt.periodField}
                hint={tt.periodHint}
                values={form.values}
                errors={form.errors}
              />
              <Checkbox name="force" label={tt.force} values={form.values} errors={form.errors} />
            </ActionForm>
          </section>
        ) : null}
        <section class="card" aria-labelledby="j-job-runs">
          <h2 id="j-job-runs">{tt.runs}</h2>
          <RunTable runs={runs} locale={locale} />
          <Pager
            locale={locale}
            path={`/console/jobs/${encodeURIComponent(job.name)}`}
            query={{}}
            prev={beforeId !== null ? { cursor: '' } : null}
            next={rows.length > PAGE_SIZE ? { cursor: encodeCursor(runs.at(-1)!.id) } : null}
          />
        </section>
        <p>
          <a href="/console/jobs">{t.back}</a>
        </p>
      </>,
    );
  };

  route(
    {
      method: 'get',
      path: '/jobs/:name',
      access: 'read',
      operationId: 'consoleJob',
      summary: 'A scheduled job: when it runs, its runs, and "Run now"',
      params: jobParams,
      query: z.object({ cursor: z.string().max(200).optional() }),
      responses: PAGE,
      errors: [404],
    },
    (c, { params, query }) => jobPage(c, params.name, query.cursor),
  );

  route(
    {
      method: 'post',
      path: '/jobs/:name/run',
      access: 'finance',
      operationId: 'consoleRunJob',
      summary: 'Run a job now (queued), as POST /api/jobs/{name}/run',
      params: jobParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such job here', contentType: HTML } },
    },
    async (c, { params }) => {
      const job = jobOf(params.name);
      if (!job || !sched) throw notFound(`scheduled job ${params.name}`);
      const form = await readForm(c, runBody);
      if (!form.ok)
        return jobPage(c, job.name, undefined, { status: 422, errors: form.errors, values: form.values });
      try {
        const run = await runJobNow(db, sched, job, { ...form.data, triggeredBy: 'api' });
        c.set('auditEntityId', run.id);
        return doneTo(c, `/console/jobs/runs/${run.id}`, T[viewer(c).locale].queued(job.name, run.period));
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        const status = e.status === 409 ? 409 : e.status === 404 ? 404 : 422;
        const errors: FieldErrors = status === 422 ? { period: [e.message] } : {};
        return jobPage(c, job.name, undefined, { status, error: e.message, errors, values: form.values });
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/jobs/runs/:id',
      access: 'read',
      operationId: 'consoleJobRun',
      summary: 'A job run: its status, figures, error and files to download',
      params: runParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => {
      const { locale, t } = viewer(c);
      const tt = T[locale];
      const run = await getRun(db, params.id);
      if (!run) throw notFound(`job run ${params.id}`);
      const title = tt.runTitle(run.job, run.period);
      return render(
        c,
        { title, nav: 'jobs' },
        <>
          <h1>{title}</h1>
          <section class="card">
            <Facts
              items={[
                [
                  tt.job,
                  jobOf(run.job) ? (
                    <a href={`/console/jobs/${encodeURIComponent(run.job)}`}>{run.job}</a>
                  ) : (
                    run.job
                  ),
                ],
                [tt.period, run.period],
                [t.status, <RunStatus run={run} locale={locale} />],
                [tt.runNumber, String(run.run)],
                [tt.attempts, String(run.attempts)],
                [tt.triggeredBy, tt.trigger[run.triggeredBy] ?? run.triggeredBy],
                [tt.queuedAt, <Time at={run.queuedAt} />],
                [tt.startedAt, <Time at={run.startedAt} />],
                [tt.finishedAt, <Time at={run.finishedAt} />],
                [
                  tt.counts,
                  Object.keys(run.counts).length
                    ? Object.entries(run.counts)
                        .map(([k, v]) => `${tt.countNames[k] ?? k}: ${v}`)
                        .join(', ')
                    : t.none,
                ],
              ]}
            />
          </section>
          {run.error ? (
            <section class="card" aria-labelledby="r-error">
              <h2 id="r-error">{tt.error}</h2>
              <pre>{run.error}</pre>
            </section>
          ) : null}
          <section class="card" aria-labelledby="r-files">
            <h2 id="r-files">{tt.files}</h2>
            {run.files.length ? (
              <ul>
                {run.files.map((f) => (
                  <li>
                    <a href={`/console/jobs/runs/${run.id}/files/${encodeURIComponent(f)}`} download={f}>
                      {tt.download(f)}
                    </a>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">{tt.noFiles}</p>
            )}
          </section>
          {run.history.length ? (
            <section class="card" aria-labelledby="r-history">
              <h2 id="r-history">{tt.history}</h2>
              <Table
                locale={locale}
                caption={tt.historyCaption}
                hideCaption
                rows={run.history}
                columns={[
                  { label: tt.run, num: true, cell: (h) => String(h.run ?? '') },
                  {
                    label: t.status,
                    cell: (h) => tt.status[h.status as JobRun['status']] ?? String(h.status ?? ''),
                  },
                  { label: tt.startedAt, cell: (h) => <Time at={h.startedAt as string | null} /> },
                  { label: tt.finishedAt, cell: (h) => <Time at={h.finishedAt as string | null} /> },
                  { label: tt.error, cell: (h) => String(h.error ?? '') },
                ]}
              />
            </section>
          ) : null}
          <p>
            <a href="/console/jobs">{t.back}</a>
          </p>
        </>,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/jobs/runs/:id/files/:name',
      access: 'read',
      operationId: 'consoleDownloadJobRunFile',
      summary: 'A file a run wrote (as GET /api/jobs/runs/{id}/files/{name})',
      params: z.object({ id: idParam.describe('run id'), name: z.string().max(255).describe('file name') }),
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
      const file = await openRunFile(db, outputRoot, params.id, params.name);
      c.header('Content-Type', file.type);
      c.header('Content-Disposition', attachmentDisposition(params.name));
      c.header('Content-Length', String(file.size));
      return c.body(file.body, 200);
    },
  );

  return app;
}

function periodText(locale: 'en' | 'zh-CN', period: string): string {
  const k = T[locale].periodKind;
  if (period === 'day') return k.day;
  if (period === 'month') return k.month;
  const s = /^(\d+)s$/.exec(period);
  return s ? k.seconds(Number(s[1])) : period;
}

function RunTable({ runs, locale }: { runs: readonly JobRun[]; locale: 'en' | 'zh-CN' }) {
  const tt = T[locale];
  return (
    <Table
      locale={locale}
      caption={tt.runsCaption}
      hideCaption
      rows={runs}
      columns={[
        { label: tt.run, cell: (r) => <a href={`/console/jobs/runs/${r.id}`}>{`#${r.id}`}</a> },
        { label: tt.job, cell: (r) => r.job },
        { label: tt.period, cell: (r) => r.period },
        { label: COMMON[locale].status, cell: (r) => <RunStatus run={r} locale={locale} /> },
        { label: tt.finishedAt, cell: (r) => <Time at={r.finishedAt ?? r.startedAt ?? r.queuedAt} /> },
        { label: tt.files, num: true, cell: (r) => String(r.files.length) },
      ]}
    />
  );
}
