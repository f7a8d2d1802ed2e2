import { Hono } from 'hono';
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
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';
import { actorOf } from './credit.js';

const runsQuery = z.object({
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
const acknowledgeBody = z.object({ note: text().trim().min(1, 'say why').max(1000) }).strict();
const channelBody = z.object({ healCancellations: z.boolean() }).strict();

/**
 * Reconciliation runs and their findings (README "Reconciliation (对账)"): lists, a run's findings as
 * JSON or as its workbook, acknowledging a finding with a note, and whether a channel's
 * cancellations are healed.
 */
export function reconciliationRoutes(deps: Pick<AppDeps, 'db'>) {
  const { db } = deps;
  const app = new Hono<AppEnv>();

  app.get('/reconciliation/runs', async (c) => {
    const q = parseParam(runsQuery, c.req.query(), 'query');
    const { items, nextId } = await listRuns(db, { period: q.period, limit: q.limit }, readCursor(q.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.get('/reconciliation/runs/:id', async (c) =>
    c.json(await requireRun(db, parseParam(idParam, c.req.param('id'), 'run id'))),
  );

  const workbook = async (runId: number) => {
    const run = await requireRun(db, runId);
    const { items } = await runFindings(db, run);
    return { run, body: await findingsWorkbook(run, items) };
  };

  app.get('/reconciliation/runs/:id/findings', async (c) => {
    const runId = parseParam(idParam, c.req.param('id'), 'run id');
    const q = parseParam(findingsQuery, c.req.query(), 'query');
    const wantsXlsx =
      q.format === 'xlsx' || (q.format === undefined && (c.req.header('accept') ?? '').includes(XLSX_TYPE));
    if (wantsXlsx) {
      const { run, body } = await workbook(runId);
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', attachmentDisposition(findingsFileName(run)));
      return c.body(new Uint8Array(body));
    }
    const run = await requireRun(db, runId);
    // Findings page oldest first: the cursor holds the last id shown.
    const { items, nextId } = await runFindings(
      db,
      run,
      { state: q.state, kind: q.kind, limit: q.limit },
      readCursor(q.cursor),
    );
    return c.json({ run, items, nextCursor: nextCursor(nextId) });
  });

  app.get('/reconciliation/runs/:id/workbook', async (c) => {
    const { run, body } = await workbook(parseParam(idParam, c.req.param('id'), 'run id'));
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Disposition', attachmentDisposition(findingsFileName(run)));
    return c.body(new Uint8Array(body));
  });

  app.post('/reconciliation/findings/:id/acknowledge', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'finding id');
    const { note } = await readJson(c, acknowledgeBody);
    return c.json(await acknowledgeFinding(db, id, actorOf(c), note));
  });

  app.put('/reconciliation/channels/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'channel id');
    const { healCancellations } = await readJson(c, channelBody);
    const n = await db('channels').where({ id }).update({ reconcile_cancel: healCancellations });
    if (n === 0) throw notFound(`channel ${id}`);
    return c.json({ channelId: id, healCancellations });
  });

  return app;
}
