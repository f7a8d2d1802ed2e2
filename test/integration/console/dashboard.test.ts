import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordChannelError } from '../../../src/channels/channel-store.js';
import { QUEUE_DEPTH_WAIT } from '../../../src/console/dashboard/figures.js';
import { createApp } from '../../../src/http/app.js';
import { finishRun, recordFindings, startRun } from '../../../src/reconciliation/index.js';
import { requestRun } from '../../../src/scheduling/job-runs.js';
import { evaluateLowStock } from '../../../src/stock/low-stock.js';
import { logIn } from '../../helpers/auth.js';
import {
  ADMIN_TOKEN,
  createStack,
  orderBody,
  seedCatalog,
  silentLog,
  type TestStack,
} from '../../helpers/stack.js';

/** The console's dashboard: every figure from the database (and Redis), each a link to its page. */
let stack: TestStack;
let withQueues: ReturnType<typeof createApp>;
type Browser = { cookie: string; csrf: string };
let admin: Browser;
let viewer: Browser;
let channelId: number;
let nightlyRunId: number;
let reconRunId: number;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  stack = await createStack();
  for (const [email, role] of [
    ['boss@example.com', 'admin'],
    ['look@example.com', 'viewer'],
  ]) {
    expect((await stack.api('POST', '/api/users', { email, role, password: PASSWORD })).status).toBe(201);
  }
  admin = await logIn(stack.app, 'boss@example.com', PASSWORD, '203.0.113.40');
  viewer = await logIn(stack.app, 'look@example.com', PASSWORD, '203.0.113.41');
  withQueues = createApp({
    db: stack.db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders: async () => {},
    checkRedis: async () => {},
    secretKey: stack.secretKey,
    queues: [stack.queues.orders, stack.queues.maintenance],
  });

  // Orders: two confirmed, two held for an unknown SKU, one held by a person.
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE', 'LOW']);
  expect(
    (
      await stack.api('PUT', '/api/skus/LOW', {
        name: 'Low',
        unitPrice: 100,
        currency: 'EUR',
        reorderPoint: 5,
      })
    ).status,
  ).toBe(200);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: [
      { sku: 'TEE', quantity: 50 },
      { sku: 'LOW', quantity: 2 },
    ],
  });
  const low = await stack.db('skus').where({ code: 'LOW' }).first('id');
  await stack.db.transaction((tx) => evaluateLowStock(tx, [Number(low.id)]));
  for (const [id, sku] of [
    ['D-1', 'TEE'],
    ['D-2', 'TEE'],
    ['D-3', 'NOPE'],
    ['D-4', 'NOPE'],
    ['D-5', 'TEE'],
  ]) {
    expect(
      (await stack.api('POST', '/api/orders', orderBody(id!, [{ sku: sku!, quantity: 1 }]))).status,
    ).toBe(202);
  }
  const d5 = await stack.db('orders').where({ external_id: 'D-5' }).first('id');
  expect(
    (
      await stack.api('POST', `/api/orders/${d5.id}/status`, {
        status: 'on_hold',
        reason: 'customer asked to wait',
      })
    ).status,
  ).toBeLessThan(300);
  stack.startWorker(4);
  await stack.settle();

  // A failing channel.
  const made = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Broken shop',
    settings: {
      shopDomain: 'broken-shop.myshopify.com',
      accessToken: 'shpat_broken_0123456789',
      webhookSecret: 'broken-secret',
      apiBaseUrl: 'http://127.0.0.1:9/admin/api/2024-10',
      locationId: '1',
      pullIntervalSeconds: 3600,
      pullOverlapSeconds: 600,
      pullStartAt: '2026-11-19T00:00:00Z',
    },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  await recordChannelError(stack.db, channelId, 'the access token was refused (401)', { failing: true });

  // Reconciliation: one run with two open findings and one acknowledged.
  const run = await startRun(stack.db, {
    period: '2026-11-30',
    from: new Date('2026-11-30T00:00:00Z'),
    to: new Date('2026-12-01T00:00:00Z'),
    triggeredBy: 'job',
  });
  const found = await recordFindings(
    stack.db,
    run,
    ['A', 'B', 'C'].map((s) => ({
      kind: 'stock.drift' as const,
      severity: 'warning' as const,
      source: 'internal',
      subject: s,
      ours: null,
      theirs: null,
      message: `drift ${s}`,
    })),
  );
  await finishRun(stack.db, run.id, { counts: { findings: 3 } });
  reconRunId = run.id;
  await stack
    .db('reconciliation_findings')
    .where({ id: found.get('stock.drift:C')!.id })
    .update({ state: 'acknowledged' });

  // The nightly jobs: a run of the standing reconciliation job.
  nightlyRunId = (
    await requestRun(stack.db, 'reconciliation', '2026-11-30', { force: false, triggeredBy: 'cli' })
  ).id;
});

afterAll(async () => {
  await stack?.close();
});

const get = (who: Browser, on = stack.app, lang = 'en') =>
  on.request('/console', { headers: { cookie: who.cookie, 'accept-language': lang } });

/** The text of the `section` whose heading has this id. */
const section = (html: string, id: string) => {
  const at = html.indexOf(`aria-labelledby="${id}"`);
  expect(at).toBeGreaterThan(-1);
  return html.slice(at, html.indexOf('</section>', at));
};

describe('the dashboard', () => {
  it('shows every figure, each linking to its page', async () => {
    const res = await get(viewer);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Dashboard</h1>');
    // Waiting orders by state.
    const waiting = section(html, 'd-waiting');
    expect(waiting).toMatch(
      /Confirmed<\/td><td class="num"><a href="\/console\/orders\?status=confirmed">2<\/a>/,
    );
    expect(waiting).toMatch(
      /On hold<\/td><td class="num"><a href="\/console\/orders\?status=on_hold">3<\/a>/,
    );
    expect(waiting).toMatch(
      /Received<\/td><td class="num"><a href="\/console\/orders\?status=received">0<\/a>/,
    );
    // Held orders by reason, most first, in words.
    const held = section(html, 'd-held');
    expect(held).toMatch(
      /Unknown SKU<\/td><td class="num"><a href="\/console\/orders\?status=on_hold">2<\/a>/,
    );
    expect(held).toContain('Held by a person');
    expect(held.indexOf('Unknown SKU')).toBeLessThan(held.indexOf('Held by a person'));
    // Failing channels, with their reason.
    const failing = section(html, 'd-failing');
    expect(failing).toContain(`/console/channels/${channelId}`);
    expect(failing).toContain('the access token was refused (401)');
    expect(failing).not.toContain('shpat_broken');
    // Open findings, low stock.
    expect(section(html, 'd-findings')).toContain('<a href="/console/reconciliation">2</a>');
    expect(section(html, 'd-low')).toContain('<a href="/console/stock/low">1</a>');
    // The last nightly run and the last reconciliation.
    const nightly = section(html, 'd-nightly');
    expect(nightly).toContain(`/console/jobs/runs/${nightlyRunId}`);
    expect(nightly).toContain('Queued');
    expect(nightly).toContain(`/console/reconciliation/runs/${reconRunId}`);
    // Orders per hour today: the hour they came in has them (counted from the rows, so that an
    // hour or a UTC day turning while the test runs changes nothing).
    const stored = (await stack.db('orders').select('created_at')).map((r) => String(r.created_at));
    const today = new Date().toISOString().slice(0, 10);
    const hour = stored[0]!.slice(11, 13);
    const inHour = stored.filter((t) => t.slice(0, 10) === today && t.slice(11, 13) === hour).length;
    const hours = section(html, 'd-hours');
    expect(hours).toContain(`${stored.filter((t) => t.slice(0, 10) === today).length} in all`);
    if (inHour > 0) {
      expect(hours).toMatch(
        new RegExp(`${hour}:00</td><td class="num"><a href="/console/orders">${inHour}</a>`),
      );
    }
    if (inHour === 5) expect(hours).toContain('class="fill w100"');
    // The figures' age, and each bar in words.
    expect(hours).toMatch(/As of \d\d:\d\d UTC\./);
    expect(hours).toContain('% of the busiest hour</span>');
    // No queues given to this app.
    expect(section(html, 'd-queues')).toContain('Queue depths are not available here.');
    expect(html).not.toMatch(/style="/);
  });

  it('speaks Chinese', async () => {
    const html = await (await get(viewer, stack.app, 'zh-CN')).text();
    expect(html).toContain('<h1>概览</h1>');
    expect(section(html, 'd-held')).toContain('未知 SKU');
    expect(section(html, 'd-waiting')).toContain('已挂起');
    expect(section(html, 'd-nightly')).toContain('排队中');
  });

  it('shows the queues’ depths when it has them, linked to the queue board for an admin only', async () => {
    // The page waits 150 ms for Redis; a busy test machine may need longer.
    QUEUE_DEPTH_WAIT.ms = 10_000;
    await stack.queues.maintenance.add('reconciliation', { period: '2026-11-29', run: 1 }, { delay: 60_000 });
    const html = await (await get(admin, withQueues)).text();
    const queues = section(html, 'd-queues');
    expect(queues).toContain('<a href="/console/queues">maintenance</a>');
    expect(queues).toMatch(
      /maintenance<\/a><\/td><td class="num">\d+<\/td><td class="num">\d+<\/td><td class="num">1<\/td>/,
    );
    const theirs = section(await (await get(viewer, withQueues)).text(), 'd-queues');
    expect(theirs).toContain('<td>maintenance</td>');
    expect(theirs).not.toContain('/console/queues');
  });

  it('sends a visitor without a session to the login', async () => {
    const res = await stack.app.request('/console');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/login');
  });
});
