import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingDraft } from '../../../src/domain/reconciliation.js';
import {
  finishRun,
  type ReconciliationRun,
  recordFindings,
  startRun,
} from '../../../src/reconciliation/index.js';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, type TestStack } from '../../helpers/stack.js';

/** Reconciliation in the console: runs, a run's findings (filtered, paged), acknowledging one. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string };
let operator: Browser;
let viewer: Browser;
let run: ReconciliationRun;
let missingId: number;
const PASSWORD = 'correct horse battery';

async function user(email: string, role: string, ip: string): Promise<Browser> {
  expect((await stack.api('POST', '/api/users', { email, role, password: PASSWORD })).status).toBe(201);
  return logIn(stack.app, email, PASSWORD, ip);
}

const drift = (i: number): FindingDraft => ({
  kind: 'stock.drift',
  severity: 'warning',
  source: 'shopify:1',
  subject: `SKU-${String(i).padStart(3, '0')}`,
  ours: { available: 10 },
  theirs: { available: 7 },
  message: `the channel shows 7, we publish 10 (SKU-${i})`,
});

beforeAll(async () => {
  stack = await createStack();
  operator = await user('ops@example.com', 'operator', '203.0.113.20');
  viewer = await user('look@example.com', 'viewer', '203.0.113.21');
  run = await startRun(stack.db, {
    period: '2026-11-30',
    from: new Date('2026-11-30T00:00:00Z'),
    to: new Date('2026-12-01T00:00:00Z'),
    triggeredBy: 'job',
  });
  const found = await recordFindings(stack.db, run, [
    {
      kind: 'order.missing_here',
      severity: 'error',
      source: 'shopify:1',
      subject: 'shopify:1:1001',
      ours: null,
      theirs: { total: 2500 },
      message: 'order 1001 is on the channel but not here',
    },
    ...Array.from({ length: 55 }, (_, i) => drift(i)),
  ]);
  await finishRun(stack.db, run.id, { counts: { findings: 56 } });
  missingId = found.get('order.missing_here:shopify:1:1001')!.id;
});

afterAll(async () => {
  await stack?.close();
});

const get = (who: Browser, path: string, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });
const post = (who: Browser, path: string, fields: Record<string, string>) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: form({ ...fields, _csrf: who.csrf }),
  });

describe('reconciliation pages', () => {
  it('lists the runs in English and Chinese', async () => {
    const en = await (await get(viewer, '/console/reconciliation')).text();
    expect(en).toContain('<h1>Reconciliation</h1>');
    expect(en).toContain(`/console/reconciliation/runs/${run.id}`);
    expect(en).toContain('2026-11-30');
    expect(en).toContain('Succeeded');
    expect(en).toContain('findings: 56');
    const zh = await (await get(viewer, '/console/reconciliation', 'zh-CN')).text();
    expect(zh).toContain('<h1>对账</h1>');
    expect(zh).toContain('差异: 56');
    expect(zh).toContain('夜间任务');
    const none = await (await get(viewer, '/console/reconciliation?period=2026-01-01')).text();
    expect(none).not.toContain(`/console/reconciliation/runs/${run.id}`);
  });

  it('shows a run’s findings, 50 a page, filtered by kind and state, with the workbook link', async () => {
    const res = await get(viewer, `/console/reconciliation/runs/${run.id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`/api/reconciliation/runs/${run.id}/workbook`);
    expect(html).toContain('Order missing here');
    const rows = (h: string) => (h.match(/href="\/console\/reconciliation\/findings\/\d+"/g) ?? []).length;
    expect(rows(html)).toBe(50);
    const next = /href="([^"]+)" rel="next"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeTruthy();
    const page2 = await (await get(viewer, next!)).text();
    expect(rows(page2)).toBe(6);
    const missing = await (
      await get(viewer, `/console/reconciliation/runs/${run.id}?kind=order.missing_here`)
    ).text();
    expect(rows(missing)).toBe(1);
    expect(missing).toContain(`/console/reconciliation/findings/${missingId}`);
    const zh = await (
      await get(viewer, `/console/reconciliation/runs/${run.id}?kind=order.missing_here`, 'zh-CN')
    ).text();
    expect(zh).toContain('本系统缺少订单');
    expect((await get(viewer, '/console/reconciliation/runs/999999')).status).toBe(404);
    // The workbook link works with the session.
    const book = await get(viewer, `/api/reconciliation/runs/${run.id}/workbook`);
    expect(book.status).toBe(200);
    expect(book.headers.get('content-type')).toContain('spreadsheetml');
  });

  it('acknowledges a finding with a note, as the API does, with an audit entry', async () => {
    const page = await (await get(operator, `/console/reconciliation/findings/${missingId}`)).text();
    expect(page).toContain(`action="/console/reconciliation/findings/${missingId}/acknowledge"`);
    const res = await post(operator, `/console/reconciliation/findings/${missingId}/acknowledge`, {
      note: 'a test order, deleted on purpose',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/reconciliation/findings/${missingId}`);
    const row = await stack.db('reconciliation_findings').where({ id: missingId }).first();
    expect(row).toMatchObject({
      state: 'acknowledged',
      acknowledged_by: 'ops@example.com',
      acknowledged_note: 'a test order, deleted on purpose',
    });
    const entry = await stack.db('audit_log').where({ operation: 'consoleAcknowledgeFinding' }).first();
    expect(entry).toMatchObject({
      actor: 'ops@example.com',
      entity: 'reconciliation_finding',
      entity_id: String(missingId),
    });
    const acked = await (
      await get(viewer, `/console/reconciliation/runs/${run.id}?state=acknowledged`)
    ).text();
    expect(acked).toContain('a test order, deleted on purpose');
    expect((acked.match(/href="\/console\/reconciliation\/findings\/\d+"/g) ?? []).length).toBe(1);
  });

  it('answers an empty note with the error beside it, and changes nothing', async () => {
    const target = await stack
      .db('reconciliation_findings')
      .where({ kind: 'stock.drift' })
      .orderBy('id')
      .first();
    const res = await post(operator, `/console/reconciliation/findings/${target.id}/acknowledge`, {
      note: '   ',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-note"[^>]*aria-invalid="true"/);
    expect(html).toContain('say why');
    expect((await stack.db('reconciliation_findings').where({ id: target.id }).first()).state).toBe('open');
  });

  it('shows a viewer no acknowledge form, and refuses their post', async () => {
    const target = await stack
      .db('reconciliation_findings')
      .where({ kind: 'stock.drift' })
      .orderBy('id')
      .first();
    const page = await (await get(viewer, `/console/reconciliation/findings/${target.id}`)).text();
    expect(page).toContain('the channel shows 7');
    expect(page).not.toContain('/acknowledge"');
    const res = await post(viewer, `/console/reconciliation/findings/${target.id}/acknowledge`, {
      note: 'mine',
    });
    expect(res.status).toBe(403);
    expect((await stack.db('reconciliation_findings').where({ id: target.id }).first()).state).toBe('open');
  });
});
