import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconciliation } from '../../jobs/reconciliation.js';
import { channelKey } from '../../src/channels/channel-store.js';
import { FINDING_COLUMNS } from '../../src/reconciliation/workbook.js';
import { type FakeOrder, type FakeShop, startFakeShop } from '../helpers/fake-shop.js';
import { checkInvariants } from '../helpers/invariants.js';
import { jobContext } from '../helpers/job-context.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

const PERIOD = '2026-11-20';
const periodCtx = () => ({
  period: PERIOD,
  periodStart: new Date('2026-11-20T00:00:00Z'),
  periodEnd: new Date('2026-11-21T00:00:00Z'),
  channels: stack.channels.ctx,
});

let stack: TestStack;
let shop: FakeShop;
let channelId: number;
let key: string;

const order = (id: string, over: Partial<FakeOrder> = {}): FakeOrder => ({
  id,
  name: `#${id.slice(-4)}`,
  createdAt: '2026-11-20T09:00:00Z',
  updatedAt: '2026-11-20T09:00:00Z',
  cancelledAt: null,
  currency: 'EUR',
  lines: [{ sku: 'TEE', inventoryItemId: '901', quantity: 2, price: '10.00' }],
  shipping: '5.00',
  tax: '0.00',
  ...over,
});

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(((await stack.db(table).where(where).count({ n: '*' })) as { n: number }[])[0]!.n);

beforeAll(async () => {
  stack = await createStack();
  shop = await startFakeShop();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE', 'MUG']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: [
      { sku: 'TEE', quantity: 50 },
      { sku: 'MUG', quantity: 20 },
    ],
  });
  const created = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Reconciled shop',
    settings: {
      shopDomain: 'recon-shop.myshopify.com',
      accessToken: 'shpat_recon_0123456789',
      webhookSecret: 'recon-secret',
      apiBaseUrl: shop.apiBaseUrl,
      locationId: '1',
      pullIntervalSeconds: 3600,
      pullOverlapSeconds: 600,
      pullStartAt: '2026-11-19T00:00:00Z',
    },
  });
  expect(created.status).toBe(201);
  channelId = created.body.id;
  key = channelKey({ type: 'shopify', id: channelId });
  for (const [sku, item] of [
    ['TEE', '901'],
    ['MUG', '902'],
  ] as const)
    expect(
      (await stack.api('PUT', `/api/channels/${channelId}/skus/${sku}`, { inventoryItemId: item })).status,
    ).toBe(200);
  stack.startWorker(2);
});

afterAll(async () => {
  await stack?.close();
  await shop?.close();
});

describe('nightly reconciliation against a fake Shopify shop', () => {
  it('finds and heals a missed order, a cancellation and stock drift; reports an amount it cannot heal; a rerun changes nothing', async () => {
    // What we took in through a pull: A (in step), C (cancelled later on the shop), D (its total
    // changes on the shop later).
    shop.orders.set('1001', order('1001'));
    shop.orders.set(
      '1003',
      order('1003', { lines: [{ sku: 'MUG', inventoryItemId: '902', quantity: 1, price: '8.00' }] }),
    );
    shop.orders.set('1004', order('1004'));
    const pulled = await stack.channels.pull(channelId);
    expect(pulled.errors).toEqual([]);
    await stack.settle();
    const pushed = await stack.channels.push(channelId);
    expect(pushed.rejected).toEqual([]);
    expect(shop.inventory.get('901')).toBe(50 - 4);

    // What we missed: B placed, C cancelled, D's total corrected on the shop; TEE's stock edited by hand.
    shop.orders.set(
      '1002',
      order('1002', { createdAt: '2026-11-20T12:00:00Z', updatedAt: '2026-11-20T12:00:00Z' }),
    );
    shop.orders.set('1003', {
      ...shop.orders.get('1003')!,
      cancelledAt: '2026-11-20T15:00:00Z',
      updatedAt: '2026-11-20T15:00:00Z',
    });
    shop.orders.set('1004', {
      ...shop.orders.get('1004')!,
      total: '99.00',
      updatedAt: '2026-11-20T16:00:00Z',
    });
    shop.inventory.set('901', 7);
    const outboxBefore = await count('outbox', { topic: 'reconciliation.finding' });

    const first = await reconciliation.run(jobContext(stack.db, periodCtx()));
    expect(first.files).toHaveLength(1);
    const runs = (await stack.api('GET', '/api/reconciliation/runs')).body.items;
    expect(runs).toHaveLength(1);
    const run1 = runs[0];
    expect(run1).toMatchObject({ period: PERIOD, status: 'succeeded', triggeredBy: 'job' });
    const listed = await stack.api('GET', `/api/reconciliation/runs/${run1.id}/findings`);
    expect(listed.status).toBe(200);
    const byKind = (kind: string) => listed.body.items.filter((f: { kind: string }) => f.kind === kind);
    expect(listed.body.items.map((f: { key: string }) => f.key).sort()).toEqual(
      [
        `order.missing_here:${key}:1002`,
        `order.cancelled_there:${key}:1003`,
        `order.amount_differs:${key}:1004`,
        `stock.drift:${key}:TEE`,
      ].sort(),
    );
    expect(byKind('order.missing_here')[0]).toMatchObject({
      state: 'healed',
      healedRunId: run1.id,
      severity: 'error',
    });
    expect(byKind('order.cancelled_there')[0]).toMatchObject({ state: 'healed', healedRunId: run1.id });
    expect(byKind('stock.drift')[0]).toMatchObject({
      state: 'healed',
      healedRunId: run1.id,
      ours: { published: 46, expected: 46 },
      theirs: { shown: 7 },
    });
    const amount = byKind('order.amount_differs')[0];
    expect(amount).toMatchObject({ state: 'open', healedRunId: null, theirs: { total: 9900 } });
    expect(amount.ours.total).not.toBe(9900);

    // The heals: B taken in, C cancelled, TEE marked for a push that goes whatever was published.
    const b = await stack.db('orders').where({ channel: key, external_id: '1002' }).first('id', 'status');
    expect(b).toBeTruthy();
    const c = await stack.db('orders').where({ channel: key, external_id: '1003' }).first('status');
    expect(c.status).toBe('cancelled');
    const tee = await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'TEE' }).first();
    expect(Boolean(Number(tee.push_pending))).toBe(true);
    // Only the finding left open goes to the outbox.
    const outboxed = await stack.db('outbox').where({ topic: 'reconciliation.finding' }).select('payload');
    expect(outboxed.length - outboxBefore).toBe(1);
    expect(JSON.parse(outboxed[outboxed.length - 1].payload)).toMatchObject({
      findingId: amount.id,
      kind: 'order.amount_differs',
    });

    // The heals' stock changes reach the channel (the relay marks them, the push sends them):
    // the drift goes out with the push, and the channel then shows the formula's figure.
    await stack.settle();
    while ((await stack.relay.publishOutbox()) > 0) {}
    await stack.channels.push(channelId);
    expect(shop.inventory.get('901')).toBe(50 - 4 - 2);

    // The same period again: the same findings, no second heal, nothing more to the outbox.
    const events = await count('inbound_events');
    await reconciliation.run(jobContext(stack.db, periodCtx()));
    const run2 = (await stack.api('GET', '/api/reconciliation/runs')).body.items[0];
    expect(run2.id).not.toBe(run1.id);
    const again = (await stack.api('GET', `/api/reconciliation/runs/${run2.id}/findings`)).body.items;
    expect(
      again.map((f: { id: number; key: string; state: string; healedRunId: number | null }) => [
        f.id,
        f.key,
        f.state,
        f.healedRunId,
      ]),
    ).toEqual(
      listed.body.items.map((f: { id: number; key: string; state: string; healedRunId: number | null }) => [
        f.id,
        f.key,
        f.state,
        f.healedRunId,
      ]),
    );
    expect(await count('inbound_events')).toBe(events);
    expect(await count('orders', { channel: key, external_id: '1002' })).toBe(1);
    expect(await count('outbox', { topic: 'reconciliation.finding' })).toBe(outboxed.length);

    // Acknowledged with a note by the caller (the bootstrap token's actor is `admin`).
    const ack = await stack.api('POST', `/api/reconciliation/findings/${amount.id}/acknowledge`, {
      note: 'shop refunded shipping by hand',
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({
      state: 'acknowledged',
      acknowledged: { by: 'admin', note: 'shop refunded shipping by hand' },
    });
    expect(
      (await stack.api('POST', `/api/reconciliation/findings/${amount.id}/acknowledge`, {})).status,
    ).toBe(422);
    expect(
      (await stack.api('POST', '/api/reconciliation/findings/999999/acknowledge', { note: 'x' })).status,
    ).toBe(404);

    await stack.settle();
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('reports a cancellation there without healing it when the channel says so', async () => {
    expect(
      (await stack.api('PUT', `/api/reconciliation/channels/${channelId}`, { healCancellations: false }))
        .status,
    ).toBe(200);
    shop.orders.set(
      '1005',
      order('1005', { createdAt: '2026-11-20T18:00:00Z', updatedAt: '2026-11-20T18:00:00Z' }),
    );
    await stack.channels.pull(channelId);
    await stack.settle();
    shop.orders.set('1005', {
      ...shop.orders.get('1005')!,
      cancelledAt: '2026-11-20T19:00:00Z',
      updatedAt: '2026-11-20T19:00:00Z',
    });
    await reconciliation.run(jobContext(stack.db, periodCtx()));
    const run = (await stack.api('GET', '/api/reconciliation/runs')).body.items[0];
    const found = (
      await stack.api('GET', `/api/reconciliation/runs/${run.id}/findings?kind=order.cancelled_there`)
    ).body.items.find((f: { subject: string }) => f.subject === `${key}:1005`);
    expect(found).toMatchObject({ state: 'open', healedRunId: null });
    const here = await stack.db('orders').where({ channel: key, external_id: '1005' }).first('status');
    expect(here.status).not.toBe('cancelled');
    expect(
      (await stack.api('PUT', '/api/reconciliation/channels/999999', { healCancellations: true })).status,
    ).toBe(404);
  });

  it('serves a run’s findings as a workbook that agrees with the API', async () => {
    const run = (await stack.api('GET', '/api/reconciliation/runs')).body.items[0];
    const api = (await stack.api('GET', `/api/reconciliation/runs/${run.id}/findings`)).body.items;
    const res = await stack.app.request(`/api/reconciliation/runs/${run.id}/findings?format=xlsx`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`reconciliation-${PERIOD}-run${run.id}.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const sheet = wb.worksheets[0]!;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(FINDING_COLUMNS.map((c) => c.header));
    expect(sheet.getRow(1).getCell(2).value).toBe('Kind / 类型');
    const rows: unknown[][] = [];
    sheet.eachRow((row, n) => {
      if (n > 1) rows.push((row.values as unknown[]).slice(1));
    });
    expect(rows).toHaveLength(api.length);
    for (const [i, f] of api.entries()) {
      expect(rows[i]![0]).toBe(f.id);
      expect(rows[i]![4]).toBe(f.subject);
      expect(String(rows[i]![8])).toContain(f.state);
      expect(rows[i]![5] || '').toBe(f.ours ? JSON.stringify(f.ours) : '');
    }
    expect((await stack.api('GET', '/api/reconciliation/runs/999999/findings')).status).toBe(404);
    expect((await stack.api('GET', '/api/reconciliation/runs/abc/findings')).status).toBe(400);
  });

  it('runs from the command line for a period, with the channels opened by the secret key', async () => {
    const outputRoot = mkdtempSync(path.join(tmpdir(), 'sb-recon-out-'));
    const res = await runCommand(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'run', 'reconciliation', '--period', '2026-11-21'],
      {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: plainEnv({
          DATABASE_URL: stack.database.url,
          STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-recon-data-')),
          STOCKBRIDGE_OUTPUT_DIR: outputRoot,
          STOCKBRIDGE_TIME_ZONE: 'UTC',
          STOCKBRIDGE_SECRET_KEY: stack.secretKey.toString('hex'),
          LOG_LEVEL: 'warn',
        }),
      },
    );
    expect(res.code, res.out).toBe(0);
    const printed = JSON.parse(
      res.out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"id"')) as string,
    );
    expect(printed).toMatchObject({ job: 'reconciliation', period: '2026-11-21', status: 'succeeded' });
    const run = (await stack.api('GET', '/api/reconciliation/runs?period=2026-11-21')).body.items[0];
    expect(run).toMatchObject({ triggeredBy: 'job', status: 'succeeded', counts: { channels: 1 } });
    expect(printed.files).toEqual([`reconciliation-2026-11-21-run${run.id}.xlsx`]);
    expect(existsSync(path.join(printed.folder, printed.files[0]))).toBe(true);
  });

  it('reconciles a WooCommerce site too: summaries page by page, a missing order read in full and taken in', async () => {
    const site = 'https://woo-recon.test';
    const created = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Reconciled site',
      settings: {
        siteUrl: site,
        consumerKey: 'ck_recon',
        consumerSecret: 'cs_recon',
        webhookSecret: 'woo-secret',
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
      },
    });
    expect(created.status).toBe(201);
    const wooKey = channelKey({ type: 'woocommerce', id: created.body.id });
    const full = JSON.parse(
      readFileSync(path.join(import.meta.dirname, '../fixtures/woocommerce/order-727.json'), 'utf8'),
    );
    const summary = Object.fromEntries(
      [
        'id',
        'number',
        'status',
        'currency',
        'date_created_gmt',
        'date_modified_gmt',
        'total',
        'total_tax',
        'shipping_total',
      ].map((k) => [k, full[k]]),
    );
    const listed = nock(site)
      .get('/wp-json/wc/v3/orders')
      .query((q) => q._fields !== undefined && q.page === '1')
      .reply(200, [summary], { 'x-wp-totalpages': '1', 'x-wp-total': '1' });
    const fetched = nock(site)
      .get('/wp-json/wc/v3/orders')
      .query((q) => q.include === '727')
      .reply(200, [full]);
    try {
      await reconciliation.run(
        jobContext(stack.db, {
          period: '2017-03-22',
          periodStart: new Date('2017-03-22T00:00:00Z'),
          periodEnd: new Date('2017-03-23T00:00:00Z'),
          channels: stack.channels.ctx,
        }),
      );
    } finally {
      nock.cleanAll();
    }
    expect(listed.isDone() && fetched.isDone()).toBe(true);
    const run = (await stack.api('GET', '/api/reconciliation/runs?period=2017-03-22')).body.items[0];
    const found = (
      await stack.api('GET', `/api/reconciliation/runs/${run.id}/findings?kind=order.missing_here`)
    ).body.items;
    expect(found).toEqual([
      expect.objectContaining({
        subject: `${wooKey}:727`,
        state: 'healed',
        healedRunId: run.id,
        theirs: expect.objectContaining({ total: 2935, tax: 135, shipping: 1000 }),
      }),
    ]);
    expect(await count('orders', { channel: wooKey, external_id: '727' })).toBe(1);
    await stack.api('DELETE', `/api/channels/${created.body.id}`);
  });
});

describe('internal reconciliation on SQLite', () => {
  it('reports a ledger that does not replay and a reservation no order holds, once per period, to the outbox once', async () => {
    const lite = await createStack({ sqlite: true });
    try {
      await seedCatalog(lite, [{ code: 'main', priority: 1 }], ['TEE']);
      await lite.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'opening',
        lines: [{ sku: 'TEE', quantity: 5 }],
      });
      // Stock changed behind the ledger's back (a hand edit in the database).
      await lite.db('stock_levels').update({ on_hand: 9, reserved: 1 });
      const ctx = () =>
        jobContext(lite.db, {
          period: PERIOD,
          periodStart: new Date('2026-11-20T00:00:00Z'),
          periodEnd: new Date('2026-11-21T00:00:00Z'),
        });
      await reconciliation.run(ctx());
      await reconciliation.run(ctx());
      const runs = (await lite.api('GET', `/api/reconciliation/runs?period=${PERIOD}`)).body.items;
      expect(runs).toHaveLength(2);
      const found = (await lite.api('GET', `/api/reconciliation/runs/${runs[0].id}/findings`)).body.items;
      expect(
        found.map((f: { kind: string; state: string; source: string }) => [f.kind, f.state, f.source]),
      ).toEqual([
        ['ledger.mismatch', 'open', 'internal'],
        ['reservation.mismatch', 'open', 'internal'],
      ]);
      expect(found[0]).toMatchObject({
        ours: { onHand: 9, reserved: 1 },
        theirs: { onHand: 5, reserved: 0 },
      });
      expect(
        found.every(
          (f: { runId: number; lastRunId: number }) => f.runId === runs[1].id && f.lastRunId === runs[0].id,
        ),
      ).toBe(true);
      expect(await lite.db('outbox').where({ topic: 'reconciliation.finding' }).count({ n: '*' })).toEqual([
        { n: 2 },
      ]);
    } finally {
      await lite.close();
    }
  });
});
