import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../jobs/types.js';
import { createApp } from '../../src/http/app.js';
import { producerConnection, workerConnection } from '../../src/queue/redis.js';
import {
  missedPeriods,
  requeueStranded,
  type Scheduler,
  scheduleRun,
  startMaintenanceWorker,
  startScheduler,
} from '../../src/scheduler.js';
import { claimRun, ensureRun, findRun, requestRun } from '../../src/scheduling/job-runs.js';
import { runAttempt } from '../../src/scheduling/run-job.js';
import { createSqliteDatabase, TEST_REDIS_URL } from '../helpers/db.js';
import { ADMIN_TOKEN, createStack, jsonOrText, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const SH = 'Asia/Shanghai';
/** 2026-12-01 02:00 in Shanghai: the nightly runs of 2026-11-29 and 2026-11-30 (01:00 each) were missed. */
const AFTER_TWO_NIGHTS = new Date('2026-11-30T18:00:00Z');

/** Every run of a test job, in the order they happened: `job period jobId`. */
const ran: string[] = [];
let flakyAttempts = 0;

/** Every two seconds, a two-second period. */
const tick: ScheduledJob = {
  name: 'tick',
  schedule: '*/2 * * * * *',
  period: { seconds: 2 },
  async run({ period, jobId }) {
    ran.push(`tick ${period} ${jobId}`);
    return { counts: { beats: 1 } };
  },
};

/** A nightly job at 01:00 (business time) covering the day before, looking back two nights. */
const nightly: ScheduledJob = {
  name: 'nightly',
  schedule: '0 1 * * *',
  period: 'day',
  catchUp: 2,
  retry: { attempts: 2, backoffMs: 50 },
  async run({ period, outputDir, progress, periodStart }) {
    ran.push(`nightly ${period}`);
    const name = `report-${period}.txt`;
    await writeFile(
      path.join(outputDir, name),
      `${period} from ${periodStart.toISOString()} run ${ran.length}\n`,
    );
    progress(1, 1);
    return { counts: { lines: 1 }, files: [name] };
  },
};

/** A job that always fails: three attempts, 100 ms apart at first. */
const flaky: ScheduledJob = {
  name: 'flaky',
  schedule: '0 3 * * *',
  period: 'day',
  retry: { attempts: 3, backoffMs: 100 },
  async run() {
    flakyAttempts++;
    throw new Error('the ledger is not ready');
  },
};

const JOBS = [tick, nightly, flaky];

let stack: TestStack;
let outputRoot: string;
let app: ReturnType<typeof createApp>;
const workers: Worker[] = [];
const connections: Redis[] = [];
const queues: Queue[] = [];
const schedulers: Scheduler[] = [];
let mainWorker: Worker;

async function api(method: string, url: string, body?: unknown) {
  const res = await app.request(url, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await jsonOrText(res), headers: res.headers };
}

/**
 * A queue object of its own (as a separate daemon would have), counting the jobs it adds. With
 * `before`, each add first waits for it (to hold a scheduler between its row and its queue add).
 */
function maintenanceQueue(adds: string[], before?: () => Promise<void>): Queue {
  const conn = producerConnection(TEST_REDIS_URL);
  connections.push(conn);
  const queue = new Queue('maintenance', { connection: conn, prefix: stack.prefix });
  const add = queue.add.bind(queue);
  queue.add = (async (name, data, opts) => {
    await before?.();
    adds.push(String(opts?.jobId));
    return add(name, data, opts);
  }) as typeof queue.add;
  queues.push(queue);
  return queue;
}

function startWorker(jobs: readonly ScheduledJob[] = JOBS, timeZone = SH): Worker {
  const conn = workerConnection(TEST_REDIS_URL);
  connections.push(conn);
  const w = startMaintenanceWorker({
    connection: conn,
    prefix: stack.prefix,
    db: stack.db,
    log: silentLog,
    jobs,
    timeZone,
    outputRoot,
  });
  workers.push(w);
  return w;
}

const runsOf = async (job: string) =>
  (await stack.db('job_runs').where({ job }).orderBy('period')) as Array<Record<string, unknown>>;

beforeAll(async () => {
  stack = await createStack();
  outputRoot = mkdtempSync(path.join(tmpdir(), 'sb-outputs-'));
  app = createApp({
    db: stack.db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders: async () => {},
    checkRedis: async () => {},
    scheduledJobs: {
      jobs: JOBS,
      timeZone: SH,
      outputRoot,
      queue: stack.queues.maintenance,
      now: () => AFTER_TWO_NIGHTS,
    },
  });
});

afterAll(async () => {
  for (const s of schedulers) s.stop();
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  for (const c of connections) c.disconnect();
  await stack?.close();
});

describe('three schedulers side by side', () => {
  it('start exactly one run in each period, recorded once in job_runs', async () => {
    const adds: string[] = [];
    // Workers of two daemons.
    const twoWorkers = [startWorker(), startWorker()];
    for (let i = 0; i < 3; i++)
      schedulers.push(
        startScheduler({
          queue: maintenanceQueue(adds),
          db: stack.db,
          log: silentLog,
          jobs: [tick],
          timeZone: SH,
        }),
      );
    const succeeded = async () =>
      (await runsOf('tick')).filter((r) => r.status === 'succeeded').map((r) => String(r.period));
    await waitFor(async () => (await succeeded()).length >= 3, {
      timeoutMs: 60_000,
      message: async () => `three periods run (runs: ${JSON.stringify(await runsOf('tick'))})`,
    });
    for (const s of schedulers.splice(0)) s.stop();
    // Whatever was queued has run.
    await waitFor(async () => (await runsOf('tick')).every((r) => r.status === 'succeeded'), {
      timeoutMs: 30_000,
      message: async () => `every queued period run (${JSON.stringify(await runsOf('tick'))})`,
    });

    const rows = await runsOf('tick');
    const periods = rows.map((r) => String(r.period));
    expect(periods.length).toBeGreaterThanOrEqual(3);
    // One run per period: one row, one attempt, one execution, under the job id `tick-<period>`.
    expect(rows.every((r) => Number(r.attempts) === 1 && Number(r.run) === 1)).toBe(true);
    const tickRuns = ran.filter((r) => r.startsWith('tick '));
    expect(tickRuns.sort()).toEqual(periods.map((p) => `tick ${p} tick-${p}`).sort());
    // Every period was asked for, and no job id holds a colon.
    expect(new Set(adds)).toEqual(new Set(periods.map((p) => `tick-${p}`)));
    expect(adds.every((id) => !id.includes(':'))).toBe(true);
    expect(JSON.parse(String(rows[0]!.counts))).toEqual({ beats: 1 });
    for (const w of twoWorkers) {
      await w.close();
      workers.splice(workers.indexOf(w), 1);
    }
  });
});

describe('catching up', () => {
  it('runs the two missed nights at start, oldest first, each once, however many schedulers start', async () => {
    // A job that never ran here does not fill in the nights before it existed.
    expect(await missedPeriods(stack.db, nightly, SH, AFTER_TWO_NIGHTS)).toEqual([]);
    // 2026-11-28 ran before the daemons went down.
    const { run } = await ensureRun(stack.db, 'nightly', '2026-11-28', 'schedule');
    await stack.db('job_runs').where({ id: run.id }).update({ status: 'succeeded' });
    // At 00:30 on 2026-12-01 the night of 2026-11-30 is not due yet (its tick is at 01:00).
    expect(await missedPeriods(stack.db, nightly, SH, new Date('2026-11-30T16:30:00Z'))).toEqual([
      '2026-11-29',
    ]);
    expect(await missedPeriods(stack.db, nightly, SH, AFTER_TWO_NIGHTS)).toEqual([
      '2026-11-29',
      '2026-11-30',
    ]);

    // One worker from here on: it takes the runs in the order they were queued.
    mainWorker = startWorker();
    const adds: string[] = [];
    const options = (queue: Queue) => ({
      queue,
      db: stack.db,
      log: silentLog,
      jobs: [nightly],
      timeZone: SH,
      now: () => AFTER_TWO_NIGHTS,
    });
    // The first scheduler has made the row of 2026-11-29 but not yet queued it when two more
    // start and catch up: they must not queue 2026-11-30 ahead of it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const first = startScheduler(
      options(
        maintenanceQueue(adds, async () => {
          holding = true;
          await held;
        }),
      ),
    );
    schedulers.push(first);
    await waitFor(() => holding, { timeoutMs: 10_000, message: 'the first scheduler at its first add' });
    expect((await runsOf('nightly')).map((r) => [r.period, r.status])).toEqual([
      ['2026-11-28', 'succeeded'],
      ['2026-11-29', 'queued'],
    ]);
    // A run made but still queued counts as missed: the next scheduler asks for it again.
    expect(await missedPeriods(stack.db, nightly, SH, AFTER_TWO_NIGHTS)).toEqual([
      '2026-11-29',
      '2026-11-30',
    ]);
    const others = [
      startScheduler(options(maintenanceQueue(adds))),
      startScheduler(options(maintenanceQueue(adds))),
    ];
    schedulers.push(...others);
    await Promise.all(others.map((s) => s.caughtUp));
    release();
    await first.caughtUp;
    await waitFor(
      async () => (await runsOf('nightly')).filter((r) => r.status === 'succeeded').length === 3,
      {
        timeoutMs: 30_000,
        message: async () => `both nights run (${JSON.stringify(await runsOf('nightly'))})`,
      },
    );
    expect(ran.filter((r) => r.startsWith('nightly '))).toEqual(['nightly 2026-11-29', 'nightly 2026-11-30']);
    const rows = await runsOf('nightly');
    expect(rows.map((r) => [r.period, r.status, r.triggered_by, Number(r.attempts)])).toEqual([
      ['2026-11-28', 'succeeded', 'schedule', 0],
      ['2026-11-29', 'succeeded', 'catch-up', 1],
      ['2026-11-30', 'succeeded', 'catch-up', 1],
    ]);
    // Each night's file is in its own folder, and the period is the Shanghai day.
    const file = path.join(outputRoot, 'nightly', '2026-11-29', 'report-2026-11-29.txt');
    expect(readFileSync(file, 'utf8')).toContain('2026-11-29 from 2026-11-28T16:00:00.000Z');
    expect(JSON.parse(String(rows[1]!.files))).toEqual(['report-2026-11-29.txt']);

    // A scheduler started again finds nothing missed.
    expect(await missedPeriods(stack.db, nightly, SH, AFTER_TWO_NIGHTS)).toEqual([]);
    for (const s of schedulers.splice(0)) s.stop();
  });
});

describe('a failing job', () => {
  it('is retried with backoff, then stays failed and visible in GET /api/jobs/runs; no tick reruns it', async () => {
    const asked = await api('POST', '/api/jobs/flaky/run', { period: '2026-11-29' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body).toMatchObject({
      job: 'flaky',
      period: '2026-11-29',
      status: 'queued',
      triggeredBy: 'api',
    });
    await waitFor(async () => (await findRun(stack.db, 'flaky', '2026-11-29'))?.status === 'failed', {
      timeoutMs: 30_000,
      message: async () =>
        `the run to fail (${JSON.stringify(await findRun(stack.db, 'flaky', '2026-11-29'))})`,
    });
    expect(flakyAttempts).toBe(3);
    const failed = await api('GET', '/api/jobs/runs?status=failed');
    expect(failed.status).toBe(200);
    expect(failed.body.items).toHaveLength(1);
    expect(failed.body.items[0]).toMatchObject({
      job: 'flaky',
      period: '2026-11-29',
      status: 'failed',
      attempts: 3,
      error: 'the ledger is not ready',
    });
    expect(failed.body.items[0].finishedAt).not.toBeNull();

    // A scheduler's tick or catch-up for that period leaves it alone.
    const queue = maintenanceQueue([]);
    await scheduleRun(stack.db, queue, flaky, '2026-11-29', 'schedule');
    expect(await findRun(stack.db, 'flaky', '2026-11-29')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(flakyAttempts).toBe(3);

    const byJob = await api('GET', '/api/jobs/runs?job=flaky&limit=1');
    expect(byJob.body.items.map((r: { job: string }) => r.job)).toEqual(['flaky']);
    expect((await api('GET', '/api/jobs/runs?status=lost')).status).toBe(400);
    const unfiltered = await api('GET', '/api/jobs/runs?job=&status=&limit=2');
    expect(unfiltered.status).toBe(200);
    expect(unfiltered.body.items).toHaveLength(2);
    const next = await api('GET', `/api/jobs/runs?limit=2&cursor=${unfiltered.body.nextCursor}`);
    expect(next.body.items[0].id).toBeLessThan(unfiltered.body.items[1].id);
  });
});

describe('rerunning and files', () => {
  it('refuses a succeeded period without force; with force runs it again into a new folder', async () => {
    const again = await api('POST', '/api/jobs/nightly/run', { period: '2026-11-29' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('job_run_succeeded');

    const first = (await findRun(stack.db, 'nightly', '2026-11-29'))!;
    const firstFile = path.join(outputRoot, first.outputDir!, 'report-2026-11-29.txt');
    const before = readFileSync(firstFile, 'utf8');
    // The worker holds off while the rerun is asked for, so that it is seen queued.
    await mainWorker.pause();
    const forced = await api('POST', '/api/jobs/nightly/run', { period: '2026-11-29', force: true });
    expect(forced.status, JSON.stringify(forced.body)).toBe(202);
    expect(forced.body).toMatchObject({ id: first.id, run: 2, status: 'queued' });
    // While it is queued (or running), asking again is 409, force or not.
    const meanwhile = await api('POST', '/api/jobs/nightly/run', { period: '2026-11-29', force: true });
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error.code).toBe('job_run_in_progress');
    mainWorker.resume();
    await waitFor(async () => (await findRun(stack.db, 'nightly', '2026-11-29'))?.status === 'succeeded', {
      timeoutMs: 30_000,
    });
    const rerun = (await findRun(stack.db, 'nightly', '2026-11-29'))!;
    expect(rerun.outputDir).toMatch(/^nightly\/2026-11-29\.run\d+$/);
    expect(rerun.outputDir).not.toBe(first.outputDir);
    expect(rerun.history[0]).toMatchObject({ run: 1, status: 'succeeded', outputDir: 'nightly/2026-11-29' });
    // The first run's file is as it was; the rerun's is another file.
    expect(readFileSync(firstFile, 'utf8')).toBe(before);
    const rerunFile = readFileSync(path.join(outputRoot, rerun.outputDir!, 'report-2026-11-29.txt'), 'utf8');
    expect(rerunFile).not.toBe(before);

    // The file through the API, and nothing else.
    const download = await app.request(`/api/jobs/runs/${rerun.id}/files/report-2026-11-29.txt`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain(
      'attachment; filename="report-2026-11-29.txt"',
    );
    expect(await download.text()).toBe(rerunFile);
    writeFileSync(path.join(outputRoot, 'secret.txt'), 'not for download');
    for (const name of [
      '..%2F..%2Fsecret.txt',
      '..%2Fsecret.txt',
      '%2e%2e',
      'report-2026-11-30.txt',
      'report-2026-11-29.txt%00',
      '..%5C..%5Csecret.txt',
    ]) {
      const r = await api('GET', `/api/jobs/runs/${rerun.id}/files/${name}`);
      expect([400, 404], name).toContain(r.status);
      expect(JSON.stringify(r.body)).not.toContain('not for download');
    }
    expect((await api('GET', '/api/jobs/runs/999999/files/report-2026-11-29.txt')).status).toBe(404);
    expect((await api('GET', '/api/jobs/runs/abc/files/x.txt')).status).toBe(400);
    const unauth = await app.request(`/api/jobs/runs/${rerun.id}/files/report-2026-11-29.txt`);
    expect(unauth.status).toBe(401);
  });

  it('refuses unknown jobs and bad periods, and lists each job with its last and next run', async () => {
    expect((await api('POST', '/api/jobs/nope/run', {})).status).toBe(404);
    const bad = await api('POST', '/api/jobs/nightly/run', { period: '2026-02-30' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('invalid_period');
    const future = await api('POST', '/api/jobs/nightly/run', { period: '2026-12-01' });
    expect(future.status).toBe(422);
    expect(future.body.error.code).toBe('period_not_over');
    expect((await api('POST', '/api/jobs/nightly/run', { period: '2026-11-30', extra: 1 })).status).toBe(422);

    const list = await api('GET', '/api/jobs');
    expect(list.status).toBe(200);
    const byName = new Map(list.body.items.map((j: { name: string }) => [j.name, j]));
    expect(byName.get('nightly')).toMatchObject({
      schedule: '0 1 * * *',
      timeZone: SH,
      period: 'day',
      catchUp: 2,
      lastRun: { period: '2026-11-29', run: 2, status: 'succeeded' },
      // 01:00 in Shanghai after 02:00 on 2026-12-01 is the next night.
      nextRunAt: '2026-12-01T17:00:00.000Z',
    });
    expect(byName.get('tick')).toMatchObject({ period: '2s', lastRun: { status: 'succeeded' } });
    // Without a period: the latest one (the Shanghai day that ended at the clock's midnight).
    const latest = await api('POST', '/api/jobs/nightly/run', {});
    expect(latest.status).toBe(409);
    expect(latest.body.error.details).toMatchObject({ id: expect.any(Number) });
  });
});

describe('a run stored but not queued', () => {
  it('(Redis down when it was asked for) is put on the queue again and runs', async () => {
    const { run } = await ensureRun(stack.db, 'nightly', '2026-11-20', 'api');
    // Nothing is queued for it yet: a minute later the requeue finds it.
    expect(
      await requeueStranded(stack.db, stack.queues.maintenance, new Map([['nightly', nightly]]), 60_000),
    ).toBe(0);
    await stack.db('job_runs').where({ id: run.id }).update({ updated_at: '2026-11-20 00:00:00.000' });
    expect(
      await requeueStranded(stack.db, stack.queues.maintenance, new Map([['nightly', nightly]]), 60_000),
    ).toBe(1);
    await waitFor(async () => (await findRun(stack.db, 'nightly', '2026-11-20'))?.status === 'succeeded', {
      timeoutMs: 30_000,
    });
    expect(ran.filter((r) => r === 'nightly 2026-11-20')).toHaveLength(1);
  });
});

describe('on the embedded SQLite', () => {
  it('keeps one row per period, refuses a succeeded one without force, and reruns into a new folder', async () => {
    const sqlite = await createSqliteDatabase();
    try {
      const db = sqlite.db;
      const first = await ensureRun(db, 'nightly', '2026-11-25', 'cli');
      expect(first.created).toBe(true);
      expect((await ensureRun(db, 'nightly', '2026-11-25', 'schedule')).created).toBe(false);
      const options = { db, log: silentLog, timeZone: SH, outputRoot, jobId: 'sqlite', final: () => true };
      const claimed = (await claimRun(db, first.run, null))!;
      expect(claimed).toMatchObject({ status: 'running', attempts: 1 });
      expect(await claimRun(db, first.run, null)).toBeNull();
      await runAttempt(nightly, claimed, options);
      await expect(
        requestRun(db, 'nightly', '2026-11-25', { force: false, triggeredBy: 'cli' }),
      ).rejects.toMatchObject({
        code: 'job_run_succeeded',
      });
      const again = await requestRun(db, 'nightly', '2026-11-25', { force: true, triggeredBy: 'cli' });
      await runAttempt(nightly, (await claimRun(db, again, null))!, options);
      const done = (await findRun(db, 'nightly', '2026-11-25'))!;
      expect(done).toMatchObject({
        status: 'succeeded',
        run: 2,
        attempts: 2,
        outputDir: 'nightly/2026-11-25.run2',
      });
      expect(done.history).toMatchObject([{ run: 1, outputDir: 'nightly/2026-11-25' }]);
    } finally {
      await sqlite.drop();
    }
  });
});
