import { z } from 'zod';
import { text } from '../../domain/order-input.js';
import { notFound } from '../../errors/domain-errors.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import {
  acknowledgeFinding,
  FINDING_STATES,
  findingsFileName,
  findingsWorkbook,
  listRuns,
  requireRun,
  runFindings,
} from '../../reconciliation/index.js';
import type { AppDeps } from '../env.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';

export const runsQuery = z.object({
  period: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
    .optional(),
  ...pageQuery,
});
const findingsQuery = z.object({
  state: z.enum(FINDING_STATES as [string, ...string[]]).optional(),
  kind: z.string().max(48).optional(),
  format: z.enum(['json', 'xlsx']).optional(),
  ...pageQuery,
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const acknowledgeBody = z.object({ note: text().trim().min(1, 'say why').max(1000) }).strict();
const channelBody = z.object({ healCancellations: z.boolean() }).strict();

const isoTime = z.string().describe('UTC, ISO 8601');
const runSchema = z
  .object({
    id: z.number().int(),
    period: z.string().describe('the business day, YYYY-MM-DD'),
    windowFrom: isoTime,
    windowTo: isoTime,
    triggeredBy: z.string().describe('job | cli | api'),
    status: z.enum(['running', 'succeeded', 'failed']),
    counts: z.record(z.string(), z.number()),
    error: z.string().nullable(),
    startedAt: isoTime,
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: 'ReconciliationRun' });
const findingSchema = z
  .object({
    id: z.number().int(),
    period: z.string(),
    key: z.string(),
    kind: z.string(),
    severity: z.string(),
    source: z.string().describe('`internal`, or the channel checked'),
    subject: z.string(),
    ours: z.record(z.string(), z.unknown()).nullable().describe('our figures, as the check read them'),
    theirs: z.record(z.string(), z.unknown()).nullable().describe('the channel’s figures'),
    message: z.string(),
    state: z.enum(FINDING_STATES as [string, ...string[]]),
    runId: z.number().int(),
    lastRunId: z.number().int(),
    healedRunId: z.number().int().nullable(),
    heal: z.string().nullable(),
    healedAt: isoTime.nullable(),
    acknowledged: z.object({ by: z.string(), note: z.string(), at: isoTime.nullable() }).nullable(),
    createdAt: isoTime,
  })
  .meta({ id: 'ReconciliationFinding' });
const runParams = z.object({ id: idParam.describe('run id') });

/**
 * Reconciliation runs and their findings (README "Reconciliation (对账)"): lists, a run's findings as
 * JSON or as its workbook, acknowledging a finding with a note, and whether a channel's
 * cancellations are healed.
 */
export function reconciliationRoutes(deps: Pick<AppDeps, 'db'>) {
  const { db } = deps;
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Reconciliation', entity: 'reconciliation_finding', db });

  route(
    {
      method: 'get',
      path: '/reconciliation/runs',
      access: 'read',
      operationId: 'listReconciliationRuns',
      summary: 'Reconciliation runs, newest first',
      query: runsQuery,
      responses: {
        200: {
          description: 'A page',
          schema: z.object({ items: z.array(runSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query: q }) => {
      const { items, nextId } = await listRuns(
        db,
        { period: q.period, limit: q.limit },
        readCursor(q.cursor),
      );
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/reconciliation/runs/:id',
      access: 'read',
      operationId: 'getReconciliationRun',
      summary: 'One run',
      params: runParams,
      responses: { 200: { description: 'The run', schema: runSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await requireRun(db, params.id)),
  );

  const workbook = async (runId: number) => {
    const run = await requireRun(db, runId);
    const { items } = await runFindings(db, run);
    return { run, body: await findingsWorkbook(run, items) };
  };

  route(
    {
      method: 'get',
      path: '/reconciliation/runs/:id/findings',
      access: 'read',
      operationId: 'listReconciliationFindings',
      summary: 'A run’s findings, oldest first',
      description: 'Those of its period found by it or an earlier run of the period.',
      params: runParams,
      query: findingsQuery,
      responses: {
        200: {
          description:
            'A page of findings, or the run’s workbook with `?format=xlsx` (or `Accept` naming the xlsx type)',
          schema: z.object({
            run: runSchema,
            items: z.array(findingSchema),
            nextCursor: z.string().nullable(),
          }),
          files: [XLSX_TYPE],
        },
      },
      errors: [404],
    },
    async (c, { params, query: q }) => {
      const wantsXlsx =
        q.format === 'xlsx' || (q.format === undefined && (c.req.header('accept') ?? '').includes(XLSX_TYPE));
      if (wantsXlsx) {
        const { run, body } = await workbook(params.id);
        c.header('Content-Type', XLSX_TYPE);
        c.header('Content-Disposition', attachmentDisposition(findingsFileName(run)));
        return c.body(new Uint8Array(body));
      }
      const run = await requireRun(db, params.id);
      // Findings page oldest first: the cursor holds the last id shown.
      const { items, nextId } = await runFindings(
        db,
        run,
        { state: q.state, kind: q.kind, limit: q.limit },
        readCursor(q.cursor),
      );
      return c.json({ run, items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/reconciliation/runs/:id/workbook',
      access: 'read',
      operationId: 'downloadReconciliationWorkbook',
      summary: 'A run’s findings as a workbook',
      params: runParams,
      responses: { 200: { description: 'The workbook', contentType: XLSX_TYPE } },
      errors: [404],
    },
    async (c, { params }) => {
      const { run, body } = await workbook(params.id);
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', attachmentDisposition(findingsFileName(run)));
      return c.body(new Uint8Array(body));
    },
  );

  route(
    {
      method: 'post',
      path: '/reconciliation/findings/:id/acknowledge',
      access: 'operate_finance',
      operationId: 'acknowledgeReconciliationFinding',
      summary: 'Say why a finding stays as it is',
      description:
        'A healed finding keeps its state and gets the note; acknowledging again replaces the note.',
      params: z.object({ id: idParam.describe('finding id') }),
      body: acknowledgeBody,
      responses: { 200: { description: 'The finding now', schema: findingSchema } },
      errors: [404],
    },
    async (c, { params, body }) => c.json(await acknowledgeFinding(db, params.id, actorOf(c), body.note)),
  );

  route(
    {
      method: 'put',
      path: '/reconciliation/channels/:id',
      access: 'finance',
      operationId: 'setChannelReconciliation',
      summary: 'Whether reconciliation heals a channel’s cancellations',
      params: z.object({ id: idParam.describe('channel id') }),
      body: channelBody,
      responses: {
        200: {
          description: 'Set',
          schema: z.object({ channelId: z.number().int(), healCancellations: z.boolean() }),
        },
      },
      errors: [404],
      audit: {
        entity: 'channel',
        load: async ({ params }) => {
          const row = await db('channels')
            .where({ id: params.id as number })
            .first('reconcile_cancel');
          return row ? { healCancellations: Boolean(Number(row.reconcile_cancel)) } : null;
        },
      },
    },
    async (c, { params, body }) => {
      const { id } = params;
      const { healCancellations } = body;
      const n = await db('channels').where({ id }).update({ reconcile_cancel: healCancellations });
      if (n === 0) throw notFound(`channel ${id}`);
      return c.json({ channelId: id, healCancellations });
    },
  );

  return app;
}
