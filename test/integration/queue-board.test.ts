import { type Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { workerConnection } from '../../src/queue/redis.js';
import { logIn } from '../helpers/auth.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { ADMIN_TOKEN, createStack, jsonOrText, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;
let app: ReturnType<typeof createApp>;
let worker: Worker;
const conn = workerConnection(TEST_REDIS_URL);
/** Job names the test worker fails while they are in here. */
const failing = new Set<string>();

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN_BASIC = basic('admin', ADMIN_TOKEN);

async function board(
  method: string,
  path: string,
  authorization?: string,
  extra: Record<string, string> = {},
) {
  const res = await app.request(`/console/queues${path}`, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...extra },
  });
  return {
    status: res.status,
    headers: res.headers,
    contentType: res.headers.get('content-type') ?? '',
    body: await jsonOrText(res),
  };
}

/** A job on the maintenance queue that the test worker fails once. */
async function failedJob(name: string): Promise<Job> {
  failing.add(name);
  const job = await stack.queues.maintenance.add(name, {}, { attempts: 1, removeOnFail: false });
  await waitFor(async () => (await job.getState()) === 'failed', { message: `${name} to fail` });
  return job;
}

beforeAll(async () => {
  stack = await createStack();
  const { queues } = stack;
  app = createApp({
    db: stack.db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders: (ids) => queues.enqueueOrders(ids),
    checkRedis: async () => {},
    queues: [queues.orders, queues.events, queues.channels, queues.maintenance],
  });
  worker = new Worker(
    stack.queues.maintenance.name,
    async (job) => {
      if (failing.has(job.name)) throw new Error(`${job.name} fails as planned`);
      return 'done';
    },
    { connection: conn, prefix: stack.prefix },
  );
});

afterAll(async () => {
  await worker?.close();
  conn.disconnect();
  await stack?.close();
});

describe('the queue dashboard at /console/queues', () => {
  it('opens for the admin with Basic auth (token as password) or the bearer token, its assets served locally', async () => {
    const page = await board('GET', '', ADMIN_BASIC);
    expect(page.status).toBe(200);
    expect(page.contentType).toContain('text/html');
    expect(page.body).toContain('stockbridge queues');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // Every script, style and font the page loads comes from the daemon itself.
    expect(page.body).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const assets = [...String(page.body).matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const res = await app.request(asset.startsWith('/') ? asset : `/console/queues/${asset}`, {
        headers: { authorization: ADMIN_BASIC },
      });
      expect(res.status, asset).toBe(200);
    }
    // With a trailing slash, the browser is sent to the page.
    const slash = await board('GET', '/', ADMIN_BASIC);
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/console/queues');
    const api = await board('GET', '/api/queues', `Bearer ${ADMIN_TOKEN}`);
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(
      ['channels', 'events', 'maintenance', 'orders'].sort(),
    );
  });

  it('refuses anyone else with 401 and a JSON body, asking the browser for a login', async () => {
    for (const authorization of [
      undefined,
      basic('admin', 'wrong-password'),
      basic(ADMIN_TOKEN, ''),
      'Bearer wrong-token',
      `Token ${ADMIN_TOKEN}`,
    ]) {
      for (const path of ['', '/', '/api/queues', '/static/css/main.css']) {
        const r = await board('GET', path, authorization);
        expect(r.status, `${authorization} ${path}`).toBe(401);
        expect(r.body.error.code).toBe('unauthorized');
        expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      }
    }
  });

  it('lists a failed job, retries it through the dashboard API, and the worker then completes it', async () => {
    const job = await failedJob('metrics-board-retry');
    const list = await board('GET', '/api/queues?activeQueue=maintenance&status=failed&page=1', ADMIN_BASIC);
    expect(list.status).toBe(200);
    const maintenance = list.body.queues.find((q: { name: string }) => q.name === 'maintenance');
    expect(maintenance.counts.failed).toBe(1);
    expect(maintenance.jobs.map((j: { id: string }) => j.id)).toContain(job.id);

    // Refused without the admin: the job stays failed.
    expect((await board('PUT', `/api/queues/maintenance/${job.id}/retry`)).status).toBe(401);
    expect(await job.getState()).toBe('failed');

    // A page on another site cannot make the admin's browser, which remembers the login, retry it.
    const foreigners: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example', host: 'localhost' },
      { origin: 'null', host: 'localhost' },
    ];
    for (const foreign of foreigners) {
      const r = await board('PUT', `/api/queues/maintenance/${job.id}/retry`, ADMIN_BASIC, foreign);
      expect(r.status, JSON.stringify(foreign)).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect(await job.getState()).toBe('failed');

    failing.delete('metrics-board-retry');
    // The dashboard's own page (same origin) does.
    const retry = await board('PUT', `/api/queues/maintenance/${job.id}/retry`, ADMIN_BASIC, {
      'sec-fetch-site': 'same-origin',
      origin: 'http://localhost',
    });
    expect(retry.status).toBe(204);
    await waitFor(async () => (await job.getState()) === 'completed', {
      message: 'the retried job to complete',
    });
    // The retry is in the audit log, the refused attempts are not.
    const entries = await stack
      .db('audit_log')
      .where({ entity: 'job', route: `/console/queues/api/queues/maintenance/${job.id}/retry` });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ method: 'PUT', status: 204, actor: 'admin', actor_kind: 'bootstrap' });
  });

  it('removes a failed job through the dashboard API', async () => {
    const job = await failedJob('metrics-board-remove');
    const removed = await board('PUT', `/api/queues/maintenance/${job.id}/clean`, `Bearer ${ADMIN_TOKEN}`);
    expect(removed.status).toBe(204);
    expect(await stack.queues.maintenance.getJob(job.id!)).toBeUndefined();
    const entries = await stack
      .db('audit_log')
      .where({ entity: 'job', route: `/console/queues/api/queues/maintenance/${job.id}/clean` });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      method: 'PUT',
      status: 204,
      actor_kind: 'bootstrap',
      actor_role: 'admin',
    });
  });

  it('opens for admin users (their session or an admin token), and refuses other roles (403) or their tokens (401)', async () => {
    const api = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
      const res = await app.request(path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await jsonOrText(res) };
    };
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const password = 'correct horse battery';
    for (const [email, role] of [
      ['board.admin@example.com', 'admin'],
      ['board.viewer@example.com', 'viewer'],
    ] as const) {
      expect((await api('POST', '/api/users', { email, role, password }, admin)).status).toBe(201);
    }
    const adminSession = await logIn(app, 'board.admin@example.com', password, '198.51.100.71');
    const viewerSession = await logIn(app, 'board.viewer@example.com', password, '198.51.100.72');

    const page = await board('GET', '', undefined, { cookie: adminSession.cookie });
    expect(page.status).toBe(200);
    expect(page.contentType).toContain('text/html');
    const refused = await board('GET', '', undefined, { cookie: viewerSession.cookie });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');

    const tokenOf = async (session: { cookie: string; csrf: string }, role: string) =>
      (
        await api(
          'POST',
          '/api/tokens',
          { name: `${role} board`, role },
          { cookie: session.cookie, 'x-csrf-token': session.csrf },
        )
      ).body.token as string;
    const adminToken = await tokenOf(adminSession, 'admin');
    const viewerToken = await tokenOf(viewerSession, 'viewer');
    expect((await board('GET', '/api/queues', `Bearer ${adminToken}`)).status).toBe(200);
    expect((await board('GET', '', basic('someone', adminToken))).status).toBe(200);
    expect((await board('GET', '/api/queues', `Bearer ${viewerToken}`)).status).toBe(401);
    expect((await board('GET', '', basic('someone', viewerToken))).status).toBe(401);
  });
});
