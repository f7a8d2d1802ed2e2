/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../http/env.js';
import { actorOf, newRoutes, routeRegistrar } from '../../http/openapi.js';
import { encodeCursor, readCursor } from '../../http/pagination.js';
import { idParam } from '../../http/params.js';
import { acknowledgeBody, runsQuery } from '../../http/routes/reconciliation.js';
import {
  acknowledgeFinding,
  FINDING_STATES,
  FINDINGS,
  type Finding,
  getFinding,
  listRuns,
  type ReconciliationRun,
  requireRun,
  runFindings,
} from '../../reconciliation/index.js';
import {
  ActionForm,
  Badge,
  ErrorSummary,
  Facts,
  Field,
  Pager,
  Select,
  Table,
  TextArea,
  Time,
} from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, type FormObject, readForm } from '../forms.js';
import { RECON_TEXTS as T } from '../reconciliation/texts.js';
import type { ConsoleLocale } from '../texts.js';

const PAGE_SIZE = 50;
const runParams = z.object({ id: idParam.describe('run id') });
const findingParams = z.object({ id: idParam.describe('finding id') });
const blankAsUnset = (v: unknown) => (v === '' ? undefined : v);
const findingsQuery = z.object({
  state: z.preprocess(blankAsUnset, z.enum(FINDING_STATES as [string, ...string[]]).optional()),
  kind: z.preprocess(blankAsUnset, z.string().max(48).optional()),
  cursor: z.string().max(200).optional(),
});
const runsPageQuery = runsQuery.extend({
  period: z.preprocess(blankAsUnset, runsQuery.shape.period),
});

const RUN_KIND: Record<string, 'ok' | 'bad' | undefined> = { succeeded: 'ok', failed: 'bad' };
const STATE_KIND: Record<string, 'ok' | 'warn' | 'bad' | undefined> = {
  open: 'warn',
  healed: 'ok',
  resolved: 'ok',
  acknowledged: undefined,
};
const SEVERITY_KIND: Record<string, 'warn' | 'bad' | undefined> = { error: 'bad', warning: 'warn' };

const kindText = (locale: ConsoleLocale, kind: string) => T[locale].kinds[kind] ?? kind;
const counts = (locale: ConsoleLocale, c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${(T[locale].countNames as Record<string, string>)[k] ?? k}: ${v}`)
    .join(', ');

interface FormState {
  status?: 409 | 422 | 404;
  error?: string;
  errors?: FieldErrors;
  values?: FormObject;
}

/** Reconciliation: the runs, a run's findings (filtered, paged), acknowledging a finding with a note. */
export function reconciliationPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'reconciliation_finding', db: cd.deps.db });
  const db = cd.deps.db;

  route(
    {
      method: 'get',
      path: '/reconciliation',
      access: 'read',
      operationId: 'consoleReconciliation',
      summary: 'Reconciliation runs, newest first',
      query: runsPageQuery,
      responses: PAGE,
    },
    async (c, { query: q }) => {
      const { locale, t } = viewer(c);
      const tt = T[locale];
      const before = readCursor(q.cursor);
      const { items, nextId } = await listRuns(
        db,
        { period: q.period, limit: Math.min(q.limit, PAGE_SIZE) },
        before,
      );
      return render(
        c,
        { title: tt.title, nav: 'reconciliation' },
        <>
          <h1>{tt.title}</h1>
          <section class="card" aria-labelledby="r-runs">
            <h2 id="r-runs">{tt.runs}</h2>
            <form method="get" action="/console/reconciliation" class="filters">
              <Field
                name="period"
                label={tt.periodFilter}
                value={q.period ?? ''}
                attrs={{ autocomplete: 'off' }}
              />
              <div>
                <button type="submit">{t.filter}</button>
              </div>
            </form>
            <Table
              locale={locale}
              caption={tt.runsCaption}
              hideCaption
              rows={items}
              columns={[
                {
                  label: tt.run,
                  cell: (r) => <a href={`/console/reconciliation/runs/${r.id}`}>{`#${r.id}`}</a>,
                },
                { label: tt.period, cell: (r) => r.period },
                { label: t.status, cell: (r) => <RunBadge run={r} locale={locale} /> },
                { label: tt.triggeredBy, cell: (r) => tt.trigger[r.triggeredBy] ?? r.triggeredBy },
                { label: tt.finishedAt, cell: (r) => <Time at={r.finishedAt ?? r.startedAt} /> },
                { label: tt.counts, cell: (r) => counts(locale, r.counts) },
              ]}
            />
            <Pager
              locale={locale}
              path="/console/reconciliation"
              query={{ period: q.period }}
              prev={before !== null ? { cursor: '' } : null}
              next={nextId !== null ? { cursor: encodeCursor(nextId) } : null}
            />
          </section>
        </>,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/reconciliation/runs/:id',
      access: 'read',
      operationId: 'consoleReconciliationRun',
      summary: 'A reconciliation run and its findings (by kind and state, paged)',
      params: runParams,
      query: findingsQuery,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params, query: q }) => {
      const { locale, t } = viewer(c);
      const tt = T[locale];
      const run = await requireRun(db, params.id);
      const after = readCursor(q.cursor);
      const [{ items, nextId }, kindRows] = await Promise.all([
        runFindings(db, run, { state: q.state, kind: q.kind, limit: PAGE_SIZE }, after),
        db(FINDINGS)
          .where({ period: run.period })
          .where('run_id', '<=', run.id)
          .distinct('kind')
          .orderBy('kind'),
      ]);
      const kinds = (kindRows as { kind: string }[]).map((r) => r.kind);
      const title = tt.runTitle(run.period, run.id);
      const path = `/console/reconciliation/runs/${run.id}`;
      return render(
        c,
        { title, nav: 'reconciliation' },
        <>
          <h1>{title}</h1>
          <section class="card">
            <Facts
              items={[
                [tt.period, run.period],
                [t.status, <RunBadge run={run} locale={locale} />],
                [
                  tt.window,
                  <>
                    <Time at={run.windowFrom} /> – <Time at={run.windowTo} />
                  </>,
                ],
                [tt.triggeredBy, tt.trigger[run.triggeredBy] ?? run.triggeredBy],
                [tt.startedAt, <Time at={run.startedAt} />],
                [tt.finishedAt, <Time at={run.finishedAt} />],
                [tt.counts, counts(locale, run.counts) || t.none],
              ]}
            />
            {run.error ? <pre>{run.error}</pre> : null}
            <p>
              <a href={`/api/reconciliation/runs/${run.id}/workbook`} download>
                {tt.workbook}
              </a>
            </p>
          </section>
          <section class="card" aria-labelledby="r-findings">
            <h2 id="r-findings">{tt.findings}</h2>
            <form method="get" action={path} class="filters">
              <Select
                name="kind"
                label={tt.kind}
                value={q.kind ?? ''}
                blank={tt.anyKind}
                options={kinds.map((k) => ({ value: k, label: kindText(locale, k) }))}
              />
              <Select
                name="state"
                label={tt.state}
                value={q.state ?? ''}
                blank={tt.anyState}
                options={FINDING_STATES.map((s) => ({ value: s, label: tt.states[s] ?? s }))}
              />
              <div>
                <button type="submit">{t.filter}</button>
              </div>
            </form>
            <Table
              locale={locale}
              caption={tt.findingsCaption}
              hideCaption
              rows={items}
              columns={[
                {
                  label: tt.finding,
                  cell: (f) => <a href={`/console/reconciliation/findings/${f.id}`}>{`#${f.id}`}</a>,
                },
                { label: tt.kind, cell: (f) => kindText(locale, f.kind) },
                { label: tt.severity, cell: (f) => <SeverityBadge finding={f} locale={locale} /> },
                { label: tt.subject, cell: (f) => f.subject },
                { label: tt.message, cell: (f) => f.message },
                { label: tt.state, cell: (f) => <StateBadge finding={f} locale={locale} /> },
                {
                  label: tt.acknowledged,
                  cell: (f) => (f.acknowledged ? `${f.acknowledged.note} (${f.acknowledged.by})` : ''),
                },
              ]}
            />
            <Pager
              locale={locale}
              path={path}
              query={{ kind: q.kind, state: q.state }}
              prev={after !== null ? { cursor: '' } : null}
              next={nextId !== null ? { cursor: encodeCursor(nextId) } : null}
            />
          </section>
          <p>
            <a href="/console/reconciliation">{t.back}</a>
          </p>
        </>,
      );
    },
  );

  const findingPage = async (c: Context<AppEnv>, id: number, form: FormState = {}) => {
    const { locale, t, csrf, can } = viewer(c);
    const tt = T[locale];
    const f = await getFinding(db, id);
    const title = tt.findingTitle(f.id);
    const json = (v: unknown) => (v === null ? t.none : <pre>{JSON.stringify(v, null, 2)}</pre>);
    return render(
      c,
      { title, nav: 'reconciliation', status: form.status ?? 200, error: form.error },
      <>
        <h1>{title}</h1>
        <section class="card">
          <Facts
            items={
              [
                [tt.kind, kindText(locale, f.kind)],
                [tt.severity, <SeverityBadge finding={f} locale={locale} />],
                [tt.state, <StateBadge finding={f} locale={locale} />],
                [tt.period, f.period],
                [tt.source, f.source === 'internal' ? tt.internal : f.source],
                [tt.subject, f.subject],
                [tt.message, f.message],
                [tt.ours, json(f.ours)],
                [tt.theirs, json(f.theirs)],
                ...(f.heal ? ([[tt.heal, f.heal]] as [string, string][]) : []),
                ...(f.healedAt ? ([[tt.healedAt, <Time at={f.healedAt} />]] as [string, unknown][]) : []),
                [
                  tt.acknowledged,
                  f.acknowledged ? (
                    <>
                      {f.acknowledged.note} ({tt.acknowledgedBy(f.acknowledged.by)},{' '}
                      <Time at={f.acknowledged.at} />)
                    </>
                  ) : (
                    tt.notAcknowledged
                  ),
                ],
                [tt.run, <a href={`/console/reconciliation/runs/${f.lastRunId}`}>{`#${f.lastRunId}`}</a>],
              ] as [string, never][]
            }
          />
        </section>
        {can('operate_finance') ? (
          <section class="card" aria-labelledby="f-ack">
            <h2 id="f-ack">{f.acknowledged ? tt.acknowledgeAgain : tt.acknowledge}</h2>
            <ErrorSummary errors={form.errors} locale={locale} labels={{ note: tt.note }} />
            <ActionForm
              action={`/console/reconciliation/findings/${f.id}/acknowledge`}
              csrf={csrf}
              label={f.acknowledged ? tt.acknowledgeAgain : tt.acknowledge}
            >
              <TextArea
                name="note"
                label={tt.note}
                values={form.values}
                value={f.acknowledged?.note}
                errors={form.errors}
                required
                attrs={{ maxlength: 1000 }}
              />
            </ActionForm>
          </section>
        ) : null}
        <p>
          <a href={`/console/reconciliation/runs/${f.lastRunId}`}>{t.back}</a>
        </p>
      </>,
    );
  };

  route(
    {
      method: 'get',
      path: '/reconciliation/findings/:id',
      access: 'read',
      operationId: 'consoleReconciliationFinding',
      summary: 'A finding: its figures, state and note; acknowledge it',
      params: findingParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => findingPage(c, params.id),
  );

  route(
    {
      method: 'post',
      path: '/reconciliation/findings/:id/acknowledge',
      access: 'operate_finance',
      operationId: 'consoleAcknowledgeFinding',
      summary: 'Acknowledge a finding with a note (as POST /api/reconciliation/findings/{id}/acknowledge)',
      params: findingParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such finding', contentType: HTML } },
    },
    async (c, { params }) => {
      const form = await readForm(c, acknowledgeBody);
      if (!form.ok)
        return findingPage(c, params.id, { status: 422, errors: form.errors, values: form.values });
      try {
        await acknowledgeFinding(db, params.id, actorOf(c), form.data.note);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        return findingPage(c, params.id, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          values: form.values,
        });
      }
      return doneTo(
        c,
        `/console/reconciliation/findings/${params.id}`,
        T[viewer(c).locale].acknowledgedDone(params.id),
      );
    },
  );

  return app;
}

const RunBadge = ({ run, locale }: { run: ReconciliationRun; locale: ConsoleLocale }) => (
  <Badge kind={RUN_KIND[run.status]}>{T[locale].runStatus[run.status] ?? run.status}</Badge>
);
const StateBadge = ({ finding, locale }: { finding: Finding; locale: ConsoleLocale }) => (
  <Badge kind={STATE_KIND[finding.state]}>{T[locale].states[finding.state] ?? finding.state}</Badge>
);
const SeverityBadge = ({ finding, locale }: { finding: Finding; locale: ConsoleLocale }) => (
  <Badge kind={SEVERITY_KIND[finding.severity]}>
    {T[locale].severities[finding.severity] ?? finding.severity}
  </Badge>
);
