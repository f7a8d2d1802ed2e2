import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../../jobs/types.js';
import { createApp } from '../../../src/http/app.js';
import { claimRun, requestRun } from '../../../src/scheduling/job-runs.js';
import { runAttempt } from '../../../src/scheduling/run-job.js';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { ADMIN_TOKEN, createStack, silentLog, type TestStack } from '../../helpers/stack.js';

/** Jobs and files in the console: the scheduled jobs, runs, a run's files, "Run now". */
const TZ = 'Asia/Shanghai';
/** 2026-12-01 10:00 in Shanghai: a nightly tick now covers 2026-11-30. */
const NOW = new Date('2026-12-01T02:00:00Z');

const nightly: ScheduledJob = {
  name: 'nightly-report',
  schedule: '0 1 * * *',
  period: 'day',
  async run({ period, outputDir }) {
    await writeFile(path.join(outputDir, `report-${period}.csv`), 'sku,qty\nTEE,3\n');
    return { counts: { lines: 1 }, files: [`report-${period}.csv`] };
  },
};

let stack: TestStack;
let app: ReturnType<typeof createApp>;
let bare: ReturnType<typeof createApp>;
let outputRoot: string;
type Browser = { cookie: string; csrf: string };
let finance: Browser;
let viewer: Browser;
let runId: number;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  stack = await createStack();
  outputRoot = mkdtempSync(path.join(tmpdir(), 'sb-console-jobs-'));
  const base = {
    db: stack.db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders: async () => {},
    checkRedis: async () => {},
  };
  app = createApp({
    ...base,
    scheduledJobs: {
      jobs: [nightly],
      timeZone: TZ,
      outputRoot,
      queue: stack.queues.maintenance,
      now: () => NOW,
    },
  });
  bare = createApp({ ...base, outputDir: outputRoot });
  for (const [email, role] of [
    ['money@example.com', 'finance'],
    ['look@example.com', 'viewer'],
  ]) {
    expect((await stack.api('POST', '/api/users', { email, role, password: PASSWORD })).status).toBe(201);
  }
  finance = await logIn(app, 'money@example.com', PASSWORD, '203.0.113.30');
  viewer = await logIn(app, 'look@example.com', PASSWORD, '203.0.113.31');
  // A run of 2026-11-29 that wrote a file, through the runner.
  const asked = await requestRun(stack.db, nightly.name, '2026-11-29', { force: false, triggeredBy: 'cli' });
  const claimed = (await claimRun(stack.db, asked, null))!;
  await runAttempt(nightly, claimed, {
    db: stack.db,
    log: silentLog,
    timeZone: TZ,
    outputRoot,
    jobId: 'console-test',
    final: () => true,
  });
  runId = asked.id;
});

afterAll(async () => {
  await stack?.close();
});

const get = (who: Browser, p: string, lang = 'en', on = app) =>
  on.request(p, { headers: { cookie: who.cookie, 'accept-language': lang } });
const post = (who: Browser, p: string, fields: Record<string, string>) =>
  app.request(p, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: form({ ...fields, _csrf: who.csrf }),
  });

describe('jobs and files', () => {
  it('lists the scheduled jobs and their runs in English and Chinese', async () => {
    const res = await get(viewer, '/console/jobs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Jobs and files</h1>');
    expect(html).toContain('/console/jobs/nightly-report');
    expect(html).toContain(`/console/jobs/runs/${runId}`);
    expect(html).toContain('Succeeded');
    const zh = await (await get(viewer, '/console/jobs', 'zh-CN')).text();
    expect(zh).toContain('<h1>任务与文件</h1>');
    expect(zh).toContain('成功');
    const failedOnly = await (await get(viewer, '/console/jobs?status=failed')).text();
    expect(failedOnly.slice(failedOnly.indexOf('id="j-runs"'))).not.toContain(`/console/jobs/runs/${runId}"`);
  });

  it('shows a run with its files to download', async () => {
    const page = await (await get(viewer, `/console/jobs/runs/${runId}`)).text();
    expect(page).toContain('report-2026-11-29.csv');
    expect(page).toContain('lines: 1');
    const link = `/console/jobs/runs/${runId}/files/report-2026-11-29.csv`;
    expect(page).toContain(link);
    const file = await get(viewer, link);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toContain('text/csv');
    expect(await file.text()).toBe('sku,qty\nTEE,3\n');
    expect((await get(viewer, `/console/jobs/runs/${runId}/files/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await get(viewer, '/console/jobs/runs/999999')).status).toBe(404);
    // Without the scheduler in this process: said so, and the recorded runs and files still there.
    const here = await (await get(viewer, '/console/jobs', 'en', bare)).text();
    expect(here).toContain('The scheduler is not configured in this process');
    expect(here).toContain(`/console/jobs/runs/${runId}`);
    expect((await get(viewer, link, 'en', bare)).status).toBe(200);
  });

  it('runs a job now as the API does: the run queued, an audit entry', async () => {
    const page = await (await get(finance, '/console/jobs/nightly-report')).text();
    expect(page).toContain('action="/console/jobs/nightly-report/run"');
    const res = await post(finance, '/console/jobs/nightly-report/run', { period: '', force: 'false' });
    expect(res.status).toBe(303);
    const row = await stack.db('job_runs').where({ job: 'nightly-report', period: '2026-11-30' }).first();
    expect(row).toMatchObject({ status: 'queued', triggered_by: 'api' });
    expect(res.headers.get('location')).toBe(`/console/jobs/runs/${row.id}`);
    const queued = await stack.queues.maintenance.getJob('nightly-report-2026-11-30');
    expect(queued?.data).toMatchObject({ period: '2026-11-30', run: 1 });
    const entry = await stack.db('audit_log').where({ operation: 'consoleRunJob' }).first();
    expect(entry).toMatchObject({ actor: 'money@example.com', entity: 'job_run', entity_id: String(row.id) });
    // Again while queued: 409, the reason on the page.
    const again = await post(finance, '/console/jobs/nightly-report/run', { period: '2026-11-30' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already queued');
    // A succeeded period needs force; with it, a rerun.
    const done = await post(finance, '/console/jobs/nightly-report/run', {
      period: '2026-11-29',
      force: 'false',
    });
    expect(done.status).toBe(409);
    const forced = await post(finance, '/console/jobs/nightly-report/run', {
      period: '2026-11-29',
      force: 'true',
    });
    expect(forced.status).toBe(303);
    expect((await stack.db('job_runs').where({ id: runId }).first()).run).toBe(2);
  });

  it('answers a bad period beside its field, and queues nothing', async () => {
    const before = await stack.db('job_runs').count({ n: '*' });
    const res = await post(finance, '/console/jobs/nightly-report/run', { period: '2026-13-45' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-period"[^>]*aria-invalid="true"/);
    expect(html).toContain('id="f-period-error"');
    const future = await post(finance, '/console/jobs/nightly-report/run', { period: '2026-12-05' });
    expect(future.status).toBe(422);
    expect(await stack.db('job_runs').count({ n: '*' })).toEqual(before);
    expect((await post(finance, '/console/jobs/no-such-job/run', {})).status).toBe(404);
  });

  it('shows a viewer no "Run now", and refuses their post', async () => {
    const page = await (await get(viewer, '/console/jobs/nightly-report')).text();
    expect(page).toContain('<h1>Job nightly-report</h1>');
    expect(page).not.toContain('/run"');
    const before = await stack.db('job_runs').count({ n: '*' });
    const res = await post(viewer, '/console/jobs/nightly-report/run', { period: '2026-11-28' });
    expect(res.status).toBe(403);
    expect(await stack.db('job_runs').count({ n: '*' })).toEqual(before);
  });
});
