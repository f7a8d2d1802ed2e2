import type { Worker } from 'bullmq';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorDefinition, PullPage } from '../../connectors/contract.js';
import { getConnector, listConnectorTypes } from '../../connectors/registry.js';
import { findChannel } from '../../src/channels/channel-store.js';
import { connectorContext } from '../../src/channels/connector-runtime.js';
import { PullLeaseLostError, pullChannel } from '../../src/channels/pull.js';
import { dbTime } from '../../src/db/connection.js';
import { startChannelWorker } from '../../src/queue/channel-worker.js';
import { workerConnection } from '../../src/queue/redis.js';
import { load } from '../fixtures/woocommerce/helpers.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { track } from '../helpers/interleave.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

interceptChannelHttp({ strict: true });

const SITE = 'https://woo-pulls.test';
const ORDERS = '/wp-json/wc/v3/orders';

/** The documented order 727 as order `id`, last modified at `modifiedGmt` (UTC, no zone, as WooCommerce writes it). */
function wooOrder(id: number, modifiedGmt: string, extra: Record<string, unknown> = {}) {
  return {
    ...load('order-727.json'),
    id,
    number: String(id),
    date_created_gmt: '2026-11-20T08:00:00',
    date_modified_gmt: modifiedGmt,
    ...extra,
  };
}

const onePage = (total: number) => ({ 'X-WP-Total': String(total), 'X-WP-TotalPages': '1' });

/** Epoch ms of a time as the database returns it (MySQL `YYYY-MM-DD HH:MM:SS.mmm`, UTC). */
const dbMs = (value: unknown) => Date.parse(`${String(value).replace(' ', 'T')}Z`);

/** A request the channel holds until `release()`; `calling` resolves once it arrived. */
function heldReply(body: unknown) {
  let arrived!: () => void;
  const calling = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const reply = async (): Promise<[number, unknown, Record<string, string>]> => {
    arrived();
    await held;
    return [200, body, onePage(Array.isArray(body) ? body.length : 0)];
  };
  return { calling, release, reply };
}

describe.each([
  { name: 'MariaDB', sqlite: false },
  { name: 'SQLite', sqlite: true },
])('channel pulls ($name, Redis)', ({ sqlite }) => {
  let stack: TestStack;
  let seq = 0;

  async function wooChannel(settings: Record<string, unknown> = {}): Promise<number> {
    const created = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: `Woo ${++seq}`,
      settings: {
        siteUrl: SITE,
        consumerKey: 'ck_pulls_0123456789abcdef0123456789abcdef',
        consumerSecret: 'cs_pulls_fedcba9876543210fedcba9876543210',
        webhookSecret: 'woo-pulls-webhook-secret',
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
        pullStartAt: '2026-11-20T00:00:00Z',
        ...settings,
      },
    });
    expect(created.status).toBe(201);
    return created.body.id as number;
  }

  const view = async (id: number) => (await stack.api('GET', `/api/channels/${id}`)).body;
  const channelRow = (id: number) => stack.db('channels').where({ id }).first();

  async function loadChannel(id: number) {
    const channel = await findChannel(stack.db, stack.secretKey, id);
    if (!channel) throw new Error(`channel ${id} not found`);
    return channel;
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['PUSH-1']);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('pulls a WooCommerce channel allowed less than one request a second', async () => {
    const id = await wooChannel({ requestsPerSecond: 0.5 });
    nock(SITE)
      .get(ORDERS)
      .query(true)
      .reply(200, [wooOrder(9001, '2026-11-20T10:00:00')], onePage(1));
    const sync = await stack.api('POST', `/api/channels/${id}/sync`);
    expect(sync.status, JSON.stringify(sync.body)).toBe(200);
    expect(sync.body).toMatchObject({ pages: 1, orders: 1, cursorAfter: '2026-11-20T10:00:00.000Z' });
  });

  it('a failed pull leaves lastPullAt where the last good pull put it', async () => {
    const id = await wooChannel();
    nock(SITE).get(ORDERS).query(true).reply(200, [], onePage(0));
    expect((await stack.api('POST', `/api/channels/${id}/sync`)).status).toBe(200);
    const good = (await view(id)).status;
    expect(good.lastPullAt).not.toBeNull();

    nock(SITE).get(ORDERS).query(true).times(4).reply(503, 'down for maintenance');
    const failed = await stack.api('POST', `/api/channels/${id}/sync`);
    expect(failed.status).toBe(502);
    const after = (await view(id)).status;
    expect(after.lastError.message).toMatch(/pull/);
    expect(after.lastPullAt).toBe(good.lastPullAt);
  });

  it('stores a pulled order it cannot read as a failed event, moves on, and the replay API takes it', async () => {
    const id = await wooChannel();
    nock(SITE)
      .get(ORDERS)
      .query(true)
      .reply(
        200,
        [
          wooOrder(9101, '2026-11-21T10:00:00', { currency: 'dollars' }),
          wooOrder(9102, '2026-11-21T10:05:00'),
        ],
        onePage(2),
      );
    const sync = await stack.api('POST', `/api/channels/${id}/sync`);
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({
      orders: 2,
      outcomes: { failed: 1, created: 1 },
      cursorAfter: '2026-11-21T10:05:00.000Z',
    });
    expect(sync.body.errors).toEqual([
      { externalId: '9101', error: expect.stringContaining('not readable') },
    ]);

    const failed = await stack.api('GET', `/api/inbound-events?channel=woocommerce:${id}&status=failed`);
    expect(failed.body.items).toHaveLength(1);
    const event = failed.body.items[0];
    expect(event).toMatchObject({ externalId: '9101', topic: 'pull', note: 'failed', orderId: null });
    expect(event.error).toMatch(/currenc/i);
    const stored = await stack.api('GET', `/api/inbound-events/${event.id}`);
    expect(JSON.parse(stored.body.payload)).toMatchObject({ id: 9101, currency: 'dollars' });

    // Replayed as it is stored: read again with today's connector (still not a currency).
    const replay = await stack.api('POST', `/api/inbound-events/${event.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ eventId: event.id, outcome: 'failed' });

    // The next pull reads the same body again (overlap): it is the same event, not a second one.
    nock(SITE)
      .get(ORDERS)
      .query(true)
      .reply(200, [wooOrder(9101, '2026-11-21T10:00:00', { currency: 'dollars' })], onePage(1));
    expect((await stack.api('POST', `/api/channels/${id}/sync`)).status).toBe(200);
    const again = await stack.api('GET', `/api/inbound-events?channel=woocommerce:${id}&status=failed`);
    expect(again.body.items.map((e: { id: number }) => e.id)).toEqual([event.id]);
  });

  describe('jobs wait as long as the channel asks', () => {
    let worker: Worker;
    beforeAll(() => {
      worker = startChannelWorker(
        workerConnection(TEST_REDIS_URL),
        stack.prefix,
        stack.channels,
        silentLog,
        1,
      );
    });
    afterAll(async () => {
      await worker.close();
    });

    /** When BullMQ will run a delayed job (epoch ms), read from its delayed set in Redis. */
    async function runsAt(jobId: string): Promise<number | null> {
      const client = await stack.queues.channels.client;
      const score = await client.zscore(`${stack.prefix}:channels:delayed`, jobId);
      // BullMQ scores a delayed job timestamp * 0x1000 + a counter.
      return score === null ? null : Math.floor(Number(score) / 0x1000);
    }

    it('a pull refused with Retry-After runs again no sooner than asked, without spending an attempt', async () => {
      const id = await wooChannel();
      nock(SITE).get(ORDERS).query(true).reply(429, 'slow down', { 'Retry-After': '120' });
      const before = Date.now();
      await stack.queues.enqueuePull(id);
      const jobId = `pull-${id}`;
      const at = await waitFor(() => runsAt(jobId), { timeoutMs: 20_000, message: 'the pull job delayed' });
      expect(at).toBeGreaterThanOrEqual(before + 120_000);
      const job = await stack.queues.channels.getJob(jobId);
      expect(await job?.getState()).toBe('delayed');
      expect(job?.attemptsMade).toBe(0);
      expect(job?.data).toMatchObject({ channelId: id, rateLimitDelays: 1 });
      // While it waits, the scheduler's next add is the same job: no second pull is queued.
      await stack.queues.enqueuePull(id);
      expect(await runsAt(jobId)).toBe(at);
      await job?.remove();
    });

    it('a Shopify pull throttled for longer than we wait in process runs again once the cost bucket holds the query', async () => {
      const created = await stack.api('POST', '/api/channels', {
        type: 'shopify',
        name: `Shopify ${++seq}`,
        settings: {
          shopDomain: 'pulls-shop.myshopify.com',
          accessToken: 'shpat_pulls_0123456789abcdef',
          webhookSecret: 'shopify-pulls-secret',
          apiBaseUrl: 'https://shopify-pulls.test/admin/api/2026-10',
          pullStartAt: '2026-11-20T00:00:00Z',
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      nock('https://shopify-pulls.test')
        .post('/admin/api/2026-10/graphql.json')
        .reply(200, {
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
          extensions: {
            cost: {
              requestedQueryCost: 962,
              actualQueryCost: null,
              throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 2, restoreRate: 10 },
            },
          },
        });
      const before = Date.now();
      await stack.queues.enqueuePull(id);
      const jobId = `pull-${id}`;
      const at = await waitFor(() => runsAt(jobId), { timeoutMs: 20_000, message: 'the pull job delayed' });
      // (962 - 2) points at 10 a second.
      expect(at).toBeGreaterThanOrEqual(before + 96_000);
      const job = await stack.queues.channels.getJob(jobId);
      expect(job?.attemptsMade).toBe(0);
      await job?.remove();
    });

    it('a sync refused with Retry-After says how long the channel asked us to wait', async () => {
      const id = await wooChannel();
      nock(SITE).get(ORDERS).query(true).reply(429, 'slow down', { 'Retry-After': '120' });
      const sync = await stack.api('POST', `/api/channels/${id}/sync`);
      expect(sync.status).toBe(502);
      expect(sync.body.error).toMatchObject({
        code: 'channel_rate_limited',
        details: { retryAfterMs: 120_000 },
      });
    });

    it('a push refused with Retry-After runs again no sooner than asked', async () => {
      const id = await wooChannel();
      expect((await stack.api('PUT', `/api/channels/${id}/skus/PUSH-1`, { productId: '5001' })).status).toBe(
        200,
      );
      nock(SITE).post('/wp-json/wc/v3/products/batch').reply(429, 'slow down', { 'Retry-After': '300' });
      const before = Date.now();
      await stack.channels.resync(id);
      const job = await waitFor(
        async () => {
          const delayed = await stack.queues.channels.getJobs(['delayed']);
          return delayed.find(
            (j) => j.name === 'push' && j.data.channelId === id && j.data.rateLimitDelays === 1,
          );
        },
        { timeoutMs: 20_000, message: 'the push job put off for the rate limit' },
      );
      expect(await runsAt(job.id as string)).toBeGreaterThanOrEqual(before + 300_000);
      expect(job.attemptsMade).toBe(0);
      await job.remove();
    });
  });

  describe('the pull lease', () => {
    it('is renewed while the pull waits for the channel', async () => {
      const id = await wooChannel();
      const channel = await loadChannel(id);
      const held = heldReply([]);
      nock(SITE).get(ORDERS).query(true).reply(held.reply);
      const ctx = connectorContext(stack.channels.ctx, channel);
      const pull = track(
        pullChannel(stack.db, channel, getConnector('woocommerce'), ctx, async () => {}, { leaseMs: 900 }),
      );
      try {
        await held.calling;
        const taken = dbMs((await channelRow(id)).pull_lease_until);
        // Still waiting for the channel, the lease moves on.
        await waitFor(async () => dbMs((await channelRow(id)).pull_lease_until) > taken, {
          timeoutMs: 20_000,
          message: 'the lease renewed during the wait',
        });
        expect(pull.done).toBe(false);
      } finally {
        held.release();
      }
      await pull.promise;
    });

    it('a pull that outlived its lease and lost it to another stores nothing and stops', async () => {
      const id = await wooChannel();
      const channel = await loadChannel(id);
      const held = heldReply([wooOrder(9301, '2026-11-22T10:00:00')]);
      nock(SITE)
        .get(ORDERS)
        .query(true)
        .reply(held.reply)
        .get(ORDERS)
        .query(true)
        .reply(200, [wooOrder(9302, '2026-11-22T11:00:00')], onePage(1));
      const ctx = connectorContext(stack.channels.ctx, channel);
      const first = track(pullChannel(stack.db, channel, getConnector('woocommerce'), ctx, async () => {}));
      let second: { status: number; body: any };
      try {
        await held.calling;
        // The first pull's process stalls past its lease (forced: the lease runs out now) ...
        await stack
          .db('channels')
          .where({ id })
          .update({ pull_lease_until: dbTime(new Date(Date.now() - 1000)) });
        // ... and another pull takes the lease and runs to the end meanwhile.
        second = await stack.api('POST', `/api/channels/${id}/sync`);
      } finally {
        held.release();
      }
      expect(second.status, JSON.stringify(second.body)).toBe(200);
      await expect(first.promise).rejects.toBeInstanceOf(PullLeaseLostError);
      const key = `woocommerce:${id}`;
      expect(
        await stack.db('orders').where({ channel: key, external_id: '9301' }).first('id'),
      ).toBeUndefined();
      expect(
        await stack.db('inbound_events').where({ channel: key, external_id: '9301' }).first('id'),
      ).toBeUndefined();
      expect((await view(id)).status.cursor).toBe('2026-11-22T11:00:00.000Z');
    });
  });

  describe('the pull schedule comes from the connector', () => {
    it('every pulling connector declares one', () => {
      for (const type of listConnectorTypes()) {
        const { manifest } = getConnector(type);
        if (manifest.capabilities.includes('orderPull'))
          expect(manifest.pullSchedule, type).toBeTypeOf('function');
      }
    });

    it('the core pulls at the interval and with the overlap the connector declares for its own settings', async () => {
      const id = await wooChannel();
      await stack.db('channels').where({ id }).update({ pull_cursor: '2026-11-23T10:00:00.000Z' });
      const handed: (string | null)[] = [];
      const woo = getConnector('woocommerce');
      // A connector whose settings name their schedule in their own words.
      const custom: ConnectorDefinition<unknown> = {
        ...woo,
        manifest: {
          ...woo.manifest,
          pullSchedule: (s) => {
            const settings = s as { everyMinutes: number; reachBackMinutes: number };
            return {
              intervalSeconds: settings.everyMinutes * 60,
              overlapSeconds: settings.reachBackMinutes * 60,
            };
          },
        },
        async *pullOrders(_ctx, cursor): AsyncIterable<PullPage> {
          handed.push(cursor);
          yield { orders: [], nextCursor: null };
        },
      };
      const channel = await loadChannel(id);
      channel.settings = { ...channel.settings, everyMinutes: 90, reachBackMinutes: 2 };
      await pullChannel(
        stack.db,
        channel,
        custom,
        connectorContext(stack.channels.ctx, channel),
        async () => {},
      );
      expect(handed).toEqual(['2026-11-23T09:58:00.000Z']);
      const row = await channelRow(id);
      expect(dbMs(row.next_pull_at) - dbMs(row.last_pull_at)).toBe(90 * 60_000);
    });
  });
});
