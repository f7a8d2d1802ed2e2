import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelService } from '../../src/channels/channel-service.js';
import { channelKey } from '../../src/channels/channel-store.js';
import { startChannelWorker, startPullScheduler } from '../../src/queue/channel-worker.js';
import { workerConnection } from '../../src/queue/redis.js';
import { Relay } from '../../src/queue/relay.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

interceptChannelHttp({ strict: true });

const SECRET = 'shopify-app-client-secret-e2e';
const TOKEN = 'shpat_e2e_token_0123456789abcdef';
const API_HOST = 'https://shopify.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';

interface Line {
  sku: string | null;
  variantId: string;
  productId?: string;
  quantity: number;
  price?: string;
}

/**
 * A Shopify webhook body (REST-shaped), written as text so that the ids beyond 2^53 stay exact,
 * the way Shopify sends them.
 */
function restOrder(id: string, o: { updatedAt: string; cancelledAt?: string; lines: Line[] }): string {
  return shopifyOrderBody(id, o.lines, {
    updatedAt: o.updatedAt,
    createdAt: '2026-11-20T10:00:00+01:00',
    ...(o.cancelledAt ? { cancelledAt: o.cancelledAt } : {}),
  });
}

/** The same order as the GraphQL node our pull asks for. */
function graphqlNode(id: string, o: { updatedAt: string; cancelledAt?: string; lines: Line[] }) {
  return {
    id: `gid://shopify/Order/${id}`,
    name: `#${id.slice(-4)}`,
    createdAt: '2026-11-20T09:00:00Z',
    updatedAt: o.updatedAt,
    cancelledAt: o.cancelledAt ?? null,
    currencyCode: 'EUR',
    email: 'buyer@example.com',
    customer: null,
    lineItems: {
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: o.lines.map((l, i) => ({
        id: `gid://shopify/LineItem/${id}${i}`,
        sku: l.sku,
        title: `Item ${i}`,
        quantity: l.quantity,
        variant: {
          id: `gid://shopify/ProductVariant/${l.variantId}`,
          inventoryItem: { id: `gid://shopify/InventoryItem/${l.variantId}` },
        },
        product: { id: `gid://shopify/Product/${l.productId ?? '7700000000000000001'}` },
        originalUnitPriceSet: { shopMoney: { amount: l.price ?? '19.90', currencyCode: 'EUR' } },
      })),
    },
  };
}

function ordersPage(nodes: unknown[], hasNextPage = false, endCursor: string | null = null) {
  return {
    data: { orders: { pageInfo: { hasNextPage, endCursor }, nodes } },
    extensions: {
      cost: {
        requestedQueryCost: 100,
        actualQueryCost: 10,
        throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
      },
    },
  };
}

const TEE_S = { sku: 'TEE-S', variantId: '4400000000000000011' };
const TEE_M = { sku: 'TEE-M', variantId: '4400000000000000012' };
const MUG = { sku: 'MUG', variantId: '4400000000000000013' };

let stack: TestStack;
let channelId: number;
let key: string;
let eventSeq = 0;

async function webhook(
  topic: string,
  body: string,
  options: { eventId?: string; signature?: string | null; channel?: number } = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-shop-domain': 'e2e-shop.myshopify.com',
    'x-shopify-event-id': options.eventId ?? `evt-${++eventSeq}`,
    'x-shopify-webhook-id': `wh-${eventSeq}`,
  };
  const signature =
    options.signature === undefined
      ? createHmac('sha256', SECRET).update(body).digest('base64')
      : options.signature;
  if (signature !== null) headers['x-shopify-hmac-sha256'] = signature;
  const res = await stack.app.request(`/webhooks/${options.channel ?? channelId}`, {
    method: 'POST',
    headers,
    body,
  });
  // Acknowledged at store time; what applying it did is read once the event worker has.
  return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
}

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(((await stack.db(table).where(where).count({ n: '*' })) as { n: number }[])[0]!.n);

async function orderByExternal(externalId: string) {
  const row = await stack.db('orders').where({ channel: key, external_id: externalId }).first('id');
  expect(row, `order ${externalId}`).toBeTruthy();
  return (await stack.api('GET', `/api/orders/${row.id}`)).body;
}

async function available(sku: string): Promise<{ onHand: number; reserved: number; available: number }> {
  return (await stack.api('GET', `/api/stock/${sku}`)).body;
}

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S', 'TEE-M', 'MUG']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: [
      { sku: 'TEE-S', quantity: 20 },
      { sku: 'TEE-M', quantity: 10 },
      { sku: 'MUG', quantity: 5 },
    ],
  });
  const created = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'E2E shop',
    settings: {
      shopDomain: 'e2e-shop.myshopify.com',
      accessToken: TOKEN,
      webhookSecret: SECRET,
      apiBaseUrl: `${API_HOST}/admin/api/2026-10`,
      pullIntervalSeconds: 3600,
      pullOverlapSeconds: 600,
      pullStartAt: '2026-11-01T00:00:00Z',
    },
  });
  expect(created.status).toBe(201);
  channelId = created.body.id;
  key = channelKey({ type: 'shopify', id: channelId });
  stack.startWorker(4);
});

afterAll(async () => {
  await stack.close();
});

describe('Shopify channel end to end (HTTP app, MariaDB, Redis, worker)', () => {
  it('stores each webhook order once and reserves it once, through duplicates, forgeries and a pull', async () => {
    const a = '5700000000000000001';
    const aBody = restOrder(a, {
      updatedAt: '2026-11-20T10:00:00+01:00',
      lines: [{ ...TEE_S, quantity: 2 }],
    });

    const first = await webhook('orders/create', aBody, { eventId: 'evt-a-create' });
    expect(first).toMatchObject({ status: 200, body: { status: 'created' } });
    // Shopify re-delivers the same event: nothing new.
    const again = await webhook('orders/create', aBody, { eventId: 'evt-a-create' });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', orderId: first.body.orderId } });
    // orders/updated fired for something else (same version of the order): nothing changes.
    const sameVersion = await webhook('orders/updated', aBody);
    expect(sameVersion.body.status).toBe('unchanged');
    // Stored before its payload was read, the event learns its order's id once applied.
    const listed = await stack.api('GET', `/api/inbound-events?channel=${key}&orderId=${first.body.orderId}`);
    expect(listed.body.items.map((e: { externalId: string }) => e.externalId)).toEqual(
      [a, a, a].slice(0, listed.body.items.length),
    );
    expect(listed.body.items.length).toBeGreaterThanOrEqual(2);

    const events = await count('inbound_events');
    const forged = await webhook('orders/create', aBody.replace('"quantity":2', '"quantity":9'), {
      signature: createHmac('sha256', SECRET).update(aBody).digest('base64'),
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('invalid_webhook');
    const wrongSecret = await webhook('orders/create', aBody, {
      signature: createHmac('sha256', 'not-the-secret').update(aBody).digest('base64'),
    });
    expect(wrongSecret.status).toBe(401);
    const unsigned = await webhook('orders/create', aBody, { signature: null });
    expect(unsigned.status).toBe(401);
    const unknownChannel = await webhook('orders/create', aBody, { channel: 999_999 });
    expect(unknownChannel.status).toBe(404);
    expect(await count('inbound_events')).toBe(events);

    // The same new order delivered five times at once, under different event ids.
    const b = '5700000000000000002';
    const bBody = restOrder(b, {
      updatedAt: '2026-11-20T11:00:00Z',
      lines: [
        { ...TEE_S, quantity: 1 },
        { ...MUG, quantity: 1 },
      ],
    });
    const burst = await Promise.all(
      Array.from({ length: 5 }, (_, i) => webhook('orders/create', bBody, { eventId: `evt-b-${i}` })),
    );
    expect(burst.every((r) => r.status === 200)).toBe(true);
    expect(burst.filter((r) => r.body.status === 'created')).toHaveLength(1);
    expect(new Set(burst.map((r) => r.body.orderId)).size).toBe(1);

    // A pull: A again (already held), and C, which no webhook ever delivered.
    const c = '5700000000000000003';
    let filter = '';
    nock(API_HOST)
      .post(GRAPHQL, (body) => {
        filter = body.variables.query;
        return true;
      })
      .matchHeader('x-shopify-access-token', TOKEN)
      .reply(
        200,
        ordersPage([
          graphqlNode(a, { updatedAt: '2026-11-20T09:00:00Z', lines: [{ ...TEE_S, quantity: 2 }] }),
          graphqlNode(c, { updatedAt: '2026-11-20T12:30:00Z', lines: [{ ...TEE_M, quantity: 4 }] }),
        ]),
      );
    const sync = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(sync.status).toBe(200);
    expect(filter).toBe("updated_at:>='2026-11-01T00:00:00Z'");
    expect(sync.body).toMatchObject({ pages: 1, orders: 2, outcomes: { unchanged: 1, created: 1 } });
    expect(sync.body.cursorAfter).toBe('2026-11-20T12:30:00.000Z');

    await stack.settle();
    const orders = await stack.db('orders').where({ channel: key }).orderBy('id');
    expect(orders.map((o) => o.external_id)).toEqual([a, b, c]);
    expect(orders.map((o) => o.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    // Reserved once each: one reservation per order in the ledger, for exactly what was ordered.
    const reservations = await stack
      .db('stock_movements')
      .where({ reason: 'reservation', ref_type: 'order' })
      .select('ref_id')
      .sum({ units: 'd_reserved' })
      .groupBy('ref_id');
    const units = new Map(
      (reservations as { ref_id: string; units: number }[]).map((r) => [Number(r.ref_id), Number(r.units)]),
    );
    expect(orders.map((o) => units.get(Number(o.id)))).toEqual([2, 2, 4]);
    expect((await available('TEE-S')).reserved).toBe(3);

    // The channel's ids were learned from the orders, for stock pushes later.
    const mappings = (await stack.api('GET', `/api/channels/${channelId}/skus`)).body.items;
    expect(mappings).toEqual(
      expect.arrayContaining([
        // Learned from the webhook (variant), completed by the pull (inventory item).
        expect.objectContaining({
          sku: 'TEE-S',
          variantId: TEE_S.variantId,
          inventoryItemId: TEE_S.variantId,
          source: 'auto',
        }),
        expect.objectContaining({
          sku: 'TEE-M',
          variantId: TEE_M.variantId,
          inventoryItemId: TEE_M.variantId,
        }),
      ]),
    );
    const view = (await stack.api('GET', `/api/channels/${channelId}`)).body;
    expect(view.status).toMatchObject({
      orders: { received: 3, onHold: 0 },
      cursor: '2026-11-20T12:30:00.000Z',
    });
    expect(view.status.lastPullAt).not.toBeNull();
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a cancellation before the creation yields one cancelled order, and no late payload resurrects it', async () => {
    const d = '5700000000000000004';
    const cancelled = await webhook(
      'orders/cancelled',
      restOrder(d, {
        updatedAt: '2026-11-21T10:05:00Z',
        cancelledAt: '2026-11-21T10:05:00Z',
        lines: [{ ...TEE_S, quantity: 1 }],
      }),
    );
    expect(cancelled.body.status).toBe('cancelled');
    const late = await webhook(
      'orders/create',
      restOrder(d, { updatedAt: '2026-11-21T10:00:00Z', lines: [{ ...TEE_S, quantity: 1 }] }),
    );
    expect(late.body.status).toBe('stale');
    const order = await orderByExternal(d);
    expect(order.status).toBe('cancelled');
    expect(order.lines[0]).toMatchObject({ ordered: 1, reserved: 0, cancelled: 1 });

    // An update arriving before its creation creates the order; the older creation is then stale.
    const e = '5700000000000000005';
    const updated = await webhook(
      'orders/updated',
      restOrder(e, { updatedAt: '2026-11-21T11:00:00Z', lines: [{ ...TEE_S, quantity: 3 }] }),
    );
    expect(updated.body.status).toBe('created');
    const create = await webhook(
      'orders/create',
      restOrder(e, { updatedAt: '2026-11-21T10:59:00Z', lines: [{ ...TEE_S, quantity: 1 }] }),
    );
    expect(create.body.status).toBe('stale');
    await stack.settle();
    const eOrder = await orderByExternal(e);
    expect(eOrder.status).toBe('confirmed');
    expect(eOrder.lines.map((l: { ordered: number }) => l.ordered)).toEqual([3]);
    expect(await count('orders', { channel: key, external_id: e })).toBe(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('an update changes the lines of a reserved order, and a cancellation releases its stock', async () => {
    const f = '5700000000000000006';
    await webhook(
      'orders/create',
      restOrder(f, { updatedAt: '2026-11-22T09:00:00Z', lines: [{ ...TEE_M, quantity: 3 }] }),
    );
    await stack.settle();
    const before = await available('TEE-M');
    const mugBefore = await available('MUG');

    const upd = await webhook(
      'orders/updated',
      restOrder(f, {
        updatedAt: '2026-11-22T09:10:00Z',
        lines: [
          { ...TEE_M, quantity: 1 },
          { ...MUG, quantity: 2 },
        ],
      }),
    );
    expect(upd.body.status).toBe('updated');
    const order = await orderByExternal(f);
    expect(order.status).toBe('confirmed');
    expect(order.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([
      ['TEE-M', 1, 1],
      ['MUG', 2, 2],
    ]);
    expect((await available('TEE-M')).reserved).toBe(before.reserved - 2);
    expect((await available('MUG')).reserved).toBe(mugBefore.reserved + 2);

    const cancel = await webhook(
      'orders/cancelled',
      restOrder(f, {
        updatedAt: '2026-11-22T09:20:00Z',
        cancelledAt: '2026-11-22T09:20:00Z',
        lines: [
          { ...TEE_M, quantity: 1 },
          { ...MUG, quantity: 2 },
        ],
      }),
    );
    expect(cancel.body.status).toBe('cancelled');
    expect((await available('TEE-M')).reserved).toBe(before.reserved - 3);
    expect((await available('MUG')).reserved).toBe(mugBefore.reserved);
    // A re-delivery of the older update cannot bring it back.
    const stale = await webhook(
      'orders/updated',
      restOrder(f, { updatedAt: '2026-11-22T09:10:00Z', lines: [{ ...TEE_M, quantity: 1 }] }),
    );
    expect(stale.body.status).toBe('stale');
    expect((await orderByExternal(f)).status).toBe('cancelled');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a deletion carrying only the order id cancels an open order, and is ignored for one we never had', async () => {
    const k = '5700000000000000009';
    const created = await webhook(
      'orders/create',
      restOrder(k, { updatedAt: '2026-11-22T12:00:00Z', lines: [{ ...TEE_S, quantity: 2 }] }),
    );
    await stack.settle();
    const reserved = (await available('TEE-S')).reserved;
    const deleted = await webhook('orders/delete', `{"id":${k}}`);
    expect(deleted.body).toMatchObject({ status: 'cancelled', orderId: created.body.orderId });
    expect((await available('TEE-S')).reserved).toBe(reserved - 2);
    const event = await stack.api('GET', `/api/inbound-events/${deleted.body.eventId}`);
    expect(event.body).toMatchObject({ kind: 'order.delete', externalId: k, orderId: created.body.orderId });
    // Replayed, it finds the order already cancelled.
    expect((await stack.api('POST', `/api/inbound-events/${deleted.body.eventId}/replay`)).body.outcome).toBe(
      'unchanged',
    );
    const never = await webhook('orders/delete', '{"id":5700000000000000999}');
    expect(never.body).toMatchObject({ status: 'ignored', orderId: null });
    expect(await count('orders', { channel: key, external_id: '5700000000000000999' })).toBe(0);
  });

  it('holds an order with an unmapped item, and a mapping plus replay confirms it without a duplicate', async () => {
    const g = '5700000000000000007';
    const odd = { sku: 'SHOP-ONLY-CODE', variantId: '4400000000000000099' };
    const res = await webhook(
      'orders/create',
      restOrder(g, {
        updatedAt: '2026-11-23T08:00:00Z',
        lines: [
          { ...odd, quantity: 1 },
          { ...TEE_S, quantity: 1 },
        ],
      }),
    );
    expect(res.body.status).toBe('created');
    // A good order right behind it is not blocked.
    const h = '5700000000000000008';
    await webhook(
      'orders/create',
      restOrder(h, { updatedAt: '2026-11-23T08:01:00Z', lines: [{ ...TEE_S, quantity: 1 }] }),
    );
    await stack.settle();
    const held = await orderByExternal(g);
    expect(held.status).toBe('on_hold');
    expect(held.holdReason).toBe('unmapped_sku');
    expect((await orderByExternal(h)).status).toBe('confirmed');
    expect((await stack.api('GET', `/api/channels/${channelId}`)).body.status.orders.onHold).toBe(1);

    const unknownSku = await stack.api('PUT', `/api/channels/${channelId}/skus/NOPE`, { variantId: '1' });
    expect(unknownSku.status).toBe(404);
    const clash = await stack.api('PUT', `/api/channels/${channelId}/skus/MUG`, {
      variantId: TEE_S.variantId,
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ code: 'mapping_conflict', details: { sku: 'TEE-S' } });
    const mapped = await stack.api('PUT', `/api/channels/${channelId}/skus/MUG`, {
      variantId: `gid://shopify/ProductVariant/${odd.variantId}`,
    });
    expect(mapped.status).toBe(200);
    expect(mapped.body).toMatchObject({ sku: 'MUG', variantId: odd.variantId, source: 'manual' });

    const replay = await stack.api('POST', `/api/channels/${channelId}/replay-held`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ orders: 1, outcomes: { updated: 1 }, errors: [] });
    await stack.settle();
    const fixed = await orderByExternal(g);
    expect(fixed.status).toBe('confirmed');
    expect(fixed.lines.map((l: any) => [l.sku, l.reserved])).toEqual([
      ['MUG', 1],
      ['TEE-S', 1],
    ]);
    expect(fixed.history.map((e: any) => e.to)).toEqual(['received', 'on_hold', 'received', 'confirmed']);

    // Replaying the event once more changes nothing and makes nothing new.
    const event = await stack
      .db('inbound_events')
      .where({ order_id: fixed.id })
      .orderBy('id', 'desc')
      .first('id');
    const again = await stack.api('POST', `/api/inbound-events/${event.id}/replay`);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('unchanged');
    expect(await count('orders', { channel: key, external_id: g })).toBe(1);
    const listed = await stack.api('GET', `/api/inbound-events?orderId=${fixed.id}`);
    expect(listed.body.items.length).toBeGreaterThan(0);
    expect((await stack.api('POST', '/api/inbound-events/99999999/replay')).status).toBe(404);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('moves the cursor only past stored pages, and never runs two pulls of one channel at once', async () => {
    const before = (await stack.api('GET', `/api/channels/${channelId}`)).body.status.cursor as string;
    const n1 = '5700000000000000010';
    nock(API_HOST)
      .post(GRAPHQL)
      .reply(
        200,
        ordersPage(
          [graphqlNode(n1, { updatedAt: '2026-11-24T10:00:00Z', lines: [{ ...TEE_S, quantity: 1 }] })],
          true,
          'page-2',
        ),
      )
      .post(GRAPHQL)
      .times(4)
      .reply(503, 'unavailable');
    const failed = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('channel_error');
    const view = (await stack.api('GET', `/api/channels/${channelId}`)).body;
    // Page 1 is stored and the cursor moved to it; page 2 was not, so the cursor goes no further.
    expect(view.status.cursor).toBe('2026-11-24T10:00:00.000Z');
    expect(view.status.cursor > before).toBe(true);
    expect(view.status.lastError.message).toMatch(/pull/);
    expect(await count('orders', { channel: key, external_id: n1 })).toBe(1);

    // The next pull starts at the cursor minus the overlap window (600 s).
    // A second sync asked for while the first is talking to Shopify is refused. Shopify holds its
    // answer until the second has been answered, however long either takes.
    let filter = '';
    let calling!: () => void;
    const firstCalling = new Promise<void>((resolve) => (calling = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    nock(API_HOST)
      .post(GRAPHQL, (body) => {
        filter = body.variables.query;
        return true;
      })
      .reply(async () => {
        calling();
        await held;
        return [200, ordersPage([])];
      });
    const first = stack.api('POST', `/api/channels/${channelId}/sync`);
    let second: Awaited<typeof first>;
    try {
      await Promise.race([
        firstCalling,
        first.then((r) => {
          throw new Error(
            `the first sync ended before calling Shopify: ${r.status} ${JSON.stringify(r.body)}`,
          );
        }),
      ]);
      second = await stack.api('POST', `/api/channels/${channelId}/sync`);
    } finally {
      release();
    }
    expect((await first).status).toBe(200);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('pull_in_progress');
    expect(filter).toBe("updated_at:>='2026-11-24T09:50:00Z'");
  });

  it('an order whose event cannot even be stored holds the cursor; the rest of the pull goes on', async () => {
    const before = (await stack.api('GET', `/api/channels/${channelId}`)).body.status.cursor as string;
    const bad = '5700000000000000666';
    // A real database failure for this one order's event, whatever the reason might be in life.
    await stack.db.raw(
      `CREATE TRIGGER refuse_one BEFORE INSERT ON inbound_events FOR EACH ROW
       IF NEW.delivery_id LIKE 'pull:${bad}:%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk full'; END IF`,
    );
    const later = (m: number) => new Date(Date.parse(before) + m * 60_000).toISOString();
    const good1 = '5700000000000000601';
    const good2 = '5700000000000000602';
    try {
      nock(API_HOST)
        .post(GRAPHQL)
        .reply(
          200,
          ordersPage(
            [
              graphqlNode(good1, { updatedAt: later(1), lines: [{ ...TEE_S, quantity: 1 }] }),
              graphqlNode(bad, { updatedAt: later(2), lines: [{ ...TEE_S, quantity: 1 }] }),
            ],
            true,
            'p2',
          ),
        )
        .post(GRAPHQL)
        .reply(
          200,
          ordersPage([graphqlNode(good2, { updatedAt: later(3), lines: [{ ...TEE_S, quantity: 1 }] })]),
        );
      const sync = await stack.api('POST', `/api/channels/${channelId}/sync`);
      expect(sync.status).toBe(200);
      expect(sync.body).toMatchObject({ pages: 2, orders: 3, outcomes: { created: 2 }, cursorAfter: before });
      expect(sync.body.errors).toEqual([{ externalId: bad, error: expect.stringContaining('disk full') }]);
      expect((await stack.api('GET', `/api/channels/${channelId}`)).body.status.cursor).toBe(before);
    } finally {
      await stack.db.raw('DROP TRIGGER refuse_one');
    }
    // The next pull reads the same stretch again: the missing order arrives, the others are known.
    nock(API_HOST)
      .post(GRAPHQL)
      .reply(
        200,
        ordersPage([
          graphqlNode(good1, { updatedAt: later(1), lines: [{ ...TEE_S, quantity: 1 }] }),
          graphqlNode(bad, { updatedAt: later(2), lines: [{ ...TEE_S, quantity: 1 }] }),
          graphqlNode(good2, { updatedAt: later(3), lines: [{ ...TEE_S, quantity: 1 }] }),
        ]),
      );
    const again = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(again.body).toMatchObject({
      outcomes: { duplicate: 2, created: 1 },
      errors: [],
      cursorAfter: later(3),
    });
    await stack.settle();
  });

  it('a channel that stops sending webhooks still has every order after its scheduled pull', async () => {
    const quiet = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Quiet shop',
      settings: {
        shopDomain: 'quiet-shop.myshopify.com',
        accessToken: TOKEN,
        webhookSecret: SECRET,
        apiBaseUrl: 'https://quiet.shopify.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    const only = '5700000000000000020';
    nock('https://quiet.shopify.test')
      .post(GRAPHQL, (body) => body.variables.query === "updated_at:>='2026-11-01T00:00:00Z'")
      .reply(
        200,
        ordersPage([
          graphqlNode(only, { updatedAt: '2026-11-24T12:00:00Z', lines: [{ ...MUG, quantity: 1 }] }),
        ]),
      );
    // Only the new channel is due: the first one's next pull is an hour away.
    expect(await stack.channels.duePulls()).toEqual([quiet.body.id]);
    const conn = workerConnection(TEST_REDIS_URL);
    const worker = startChannelWorker(conn, stack.prefix, stack.channels, silentLog);
    const scheduler = startPullScheduler(stack.channels, stack.queues, silentLog, 100);
    try {
      await waitFor(async () => (await count('orders', { channel: `shopify:${quiet.body.id}` })) > 0, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the scheduled pull to store the order',
      });
    } finally {
      scheduler.stop();
      await worker.close();
      conn.disconnect();
    }
    await stack.settle();
    const row = await stack
      .db('orders')
      .where({ channel: `shopify:${quiet.body.id}` })
      .first();
    expect(row).toMatchObject({ external_id: only, status: 'confirmed' });
    expect(await stack.channels.duePulls()).toEqual([]);
  });

  it('applies events stored before a crash: on re-delivery, or by the event relay after a grace time, never giving up', async () => {
    const storedOnly = async (externalId: string, eventId: string, agoMs: number) => {
      const body = restOrder(externalId, {
        updatedAt: '2026-11-24T14:00:00Z',
        lines: [{ ...TEE_S, quantity: 1 }],
      });
      // What a process that died right after storing the delivery (or Redis losing its job) leaves behind.
      await stack.db('inbound_events').insert({
        channel: key,
        delivery_id: eventId,
        topic: 'orders/create',
        kind: 'order.upsert',
        payload: body,
        received_at: new Date(Date.now() - agoMs).toISOString().replace('T', ' ').replace('Z', ''),
      });
      return body;
    };
    const redelivered = await storedOnly('5700000000000000040', 'evt-crash-1', 1000);
    const res = await webhook('orders/create', redelivered, { eventId: 'evt-crash-1' });
    expect(res.body).toMatchObject({ accepted: true, status: 'created' });
    expect((await webhook('orders/create', redelivered, { eventId: 'evt-crash-1' })).body.status).toBe(
      'duplicate',
    );

    await storedOnly('5700000000000000041', 'evt-crash-2', 60_000);
    await storedOnly('5700000000000000042', 'evt-crash-3', 1000);
    const relay = new Relay({
      db: stack.db,
      log: silentLog,
      enqueueOrders: (ids) => stack.queues.enqueueOrders(ids),
      enqueueEvents: (ids) => stack.queues.enqueueEvents(ids),
      graceMs: 30_000,
    });
    // Only the one past the grace time is queued; the fresh one may still be in someone's hands.
    expect(await relay.requeueEvents()).toBe(1);
    await waitFor(
      async () => (await count('orders', { channel: key, external_id: '5700000000000000041' })) === 1,
      {
        message: 'the relayed event to be applied',
      },
    );
    expect(await count('orders', { channel: key, external_id: '5700000000000000042' })).toBe(0);
    expect(await relay.requeueEvents()).toBe(0);

    // One that fails every time (an order id too long for us to store) is tried again and again,
    // each time after a longer wait, and listed among the failed events meanwhile.
    await storedOnly('9'.repeat(200), 'evt-crash-4', 60_000);
    const stuck = async () =>
      stack
        .db('inbound_events')
        .where({ delivery_id: 'evt-crash-4' })
        .first('id', 'attempts', 'error', 'retry_at');
    expect(await relay.requeueEvents()).toBe(1);
    await waitFor(async () => (await stuck()).attempts >= 1, { message: 'a failed attempt' });
    // Its BullMQ attempts run out; then it waits for its retry time, which the relay respects.
    await waitFor(
      async () =>
        Object.values(await stack.queues.events.getJobCounts('waiting', 'active', 'delayed')).every(
          (n) => n === 0,
        ),
      {
        timeoutMs: 60_000,
        message: 'the job to give up for now',
      },
    );
    const before = await stuck();
    expect(before.attempts).toBeGreaterThanOrEqual(1);
    expect(before.error).toBeTruthy();
    expect(Date.parse(`${String(before.retry_at).replace(' ', 'T')}Z`)).toBeGreaterThan(Date.now());
    expect(await relay.requeueEvents()).toBe(0);
    const failed = await stack.api('GET', `/api/inbound-events?channel=${key}&status=failed`);
    const listed = failed.body.items.find((e: { id: number }) => e.id === Number(before.id));
    expect(listed).toMatchObject({ attempts: before.attempts, processedAt: null });
    expect(listed.retryAt).toBeTruthy();
    // Its retry time comes: the relay queues it again (it is never given up on).
    await stack.db('inbound_events').where({ id: before.id }).update({ retry_at: '2026-01-01 00:00:00.000' });
    expect(await relay.requeueEvents()).toBe(1);
    await waitFor(async () => (await stuck()).attempts > before.attempts, { message: 'another attempt' });
    // Put it out of the way of the later tests.
    await stack.db('inbound_events').where({ id: before.id }).update({ note: 'failed', retry_at: null });
    await stack.settle();
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('with Redis unreachable a webhook is still stored and answered 200; the relay queues it later', async () => {
    const offline = new ChannelService({
      db: stack.db,
      log: silentLog,
      secretKey: stack.secretKey,
      publicUrl: 'https://stockbridge.example.com',
      enqueueOrders: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
      enqueueEvents: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
    });
    const id = '5700000000000000050';
    const body = restOrder(id, { updatedAt: '2026-11-24T15:00:00Z', lines: [{ ...TEE_S, quantity: 1 }] });
    const res = await offline.receiveWebhook(channelId, Buffer.from(body), {
      'x-shopify-topic': 'orders/create',
      'x-shopify-event-id': 'evt-offline',
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    });
    expect(res).toMatchObject({ status: 200, body: { status: 'accepted' } });
    const event = await stack.db('inbound_events').where({ delivery_id: 'evt-offline' }).first();
    expect(event).toMatchObject({ processed_at: null, order_id: null });
    const counts = await stack.queues.events.getJobCounts('waiting', 'active', 'delayed');
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    // Redis is back: the relay (grace 0 in tests) queues the event, the worker applies it. The relay
    // runs on every tick until the order is there (a queued event is leased for a while, so a tick
    // that finds it leased leaves it): on a busy machine the first queueing may not be the one that
    // lands.
    await waitFor(
      async () => {
        if ((await count('orders', { channel: key, external_id: id })) === 1) return true;
        await stack.relay.requeueEvents();
        return false;
      },
      { message: 'the relayed webhook order', timeoutMs: 60_000 },
    );
    await stack.settle();
    const row = await stack.db('orders').where({ channel: key, external_id: id }).first('status');
    expect(row.status).toBe('confirmed');
  });

  it('a 401 from the channel marks it failing and stops scheduled pulls until its token is replaced', async () => {
    nock(API_HOST).post(GRAPHQL).reply(401, { errors: '[API] Invalid API key or access token' });
    const sync = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(sync.status).toBe(502);
    expect(sync.body.error.code).toBe('channel_auth_failed');
    expect(JSON.stringify(sync.body)).not.toContain(TOKEN);
    const view = (await stack.api('GET', `/api/channels/${channelId}`)).body;
    expect(view.status.failing).toMatchObject({ reason: expect.stringMatching(/401|refused|auth/i) });
    await stack.db('channels').where({ id: channelId }).update({ next_pull_at: null });
    expect(await stack.channels.duePulls()).not.toContain(channelId);

    const patched = await stack.api('PATCH', `/api/channels/${channelId}`, {
      settings: { accessToken: 'shpat_new_token_after_rotation', webhookSecret: '********' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.status.failing).toBeNull();
    expect(patched.body.settings).toMatchObject({ accessToken: '********', webhookSecret: '********' });
    expect(await stack.channels.duePulls()).toContain(channelId);
    // The masked webhook secret kept its value: deliveries signed with it still pass.
    const ok = await webhook(
      'orders/create',
      restOrder('5700000000000000030', {
        updatedAt: '2026-11-24T13:00:00Z',
        lines: [{ ...TEE_S, quantity: 1 }],
      }),
    );
    expect(ok.status).toBe(200);
    await stack.settle();
  });
});
