import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantitiesFor } from '../../src/channels/channel-publication.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('companies and intra-group transfers (集团内部调拨) on %s', (_name, sqlite) => {
  let stack: TestStack;

  const stock = async (sku: string) => (await stack.api('GET', `/api/stock/${sku}`)).body;
  const levelIn = async (sku: string, warehouse: string) =>
    (await stock(sku)).warehouses.find((w: any) => w.warehouse === warehouse) ?? { onHand: 0, reserved: 0 };

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(
      stack,
      [
        { code: 'SH-1', priority: 1 },
        { code: 'SH-2', priority: 2 },
        { code: 'HK-1', priority: 3 },
      ],
      ['BOLT', 'NUT', 'GEAR'],
    );
    expect(
      (
        await stack.api('POST', '/api/stock/receipts', {
          warehouse: 'SH-1',
          reference: 'opening',
          lines: [
            { sku: 'BOLT', quantity: 100 },
            { sku: 'NUT', quantity: 50 },
            { sku: 'GEAR', quantity: 10 },
          ],
        })
      ).status,
    ).toBe(201);
    // The receiving company's transfer price list: a quantity break on BOLT, no price for GEAR.
    expect(
      (await stack.api('PUT', '/api/price-lists/IC-HK', { name: 'Intercompany HK', currency: 'CNY' })).status,
    ).toBe(201);
    expect(
      (
        await stack.api('PUT', '/api/price-lists/IC-HK/items', {
          items: [
            { sku: 'BOLT', price: 800 },
            { sku: 'BOLT', price: 700, minQuantity: 50 },
            { sku: 'NUT', price: 30 },
          ],
        })
      ).status,
    ).toBe(200);
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('keeps companies: PUT by code is idempotent, GET lists and shows one, warehouses name their company', async () => {
    const sh = {
      name: 'Shanghai Trading Co.',
      nameZh: '上海贸易有限公司',
      taxId: '91310000X',
      currency: 'CNY',
    };
    const created = await stack.api('PUT', '/api/companies/SH', sh);
    expect(created).toMatchObject({
      status: 201,
      body: { code: 'SH', outcome: 'created', nameZh: '上海贸易有限公司' },
    });
    expect((await stack.api('PUT', '/api/companies/sh', sh)).body).toMatchObject({
      code: 'SH',
      outcome: 'unchanged',
    });
    const hk = await stack.api('PUT', '/api/companies/HK', {
      name: 'Hong Kong Trading Ltd',
      currency: 'CNY',
      transferPriceList: 'IC-HK',
    });
    expect(hk).toMatchObject({ status: 201, body: { transferPriceList: 'IC-HK' } });
    expect(
      (await stack.api('PUT', '/api/companies/XX', { name: 'X', currency: 'CNY', transferPriceList: 'NOPE' }))
        .body.error.code,
    ).toBe('unknown_price_list');
    expect((await stack.api('GET', '/api/companies/XX')).status).toBe(404);

    for (const [code, company, priority] of [
      ['SH-1', 'SH', 1],
      ['SH-2', 'SH', 2],
      ['HK-1', 'HK', 3],
    ] as const) {
      const put = await stack.api('PUT', `/api/warehouses/${code}`, { name: code, priority, company });
      expect(put.status).toBe(200);
    }
    expect(
      (await stack.api('PUT', '/api/warehouses/SH-9', { name: 'x', company: 'NOPE' })).body.error.code,
    ).toBe('unknown_company');
    const warehouses = (await stack.api('GET', '/api/warehouses')).body.items;
    expect(warehouses.map((w: any) => [w.code, w.company, w.kind])).toEqual([
      ['SH-1', 'SH', 'warehouse'],
      ['SH-2', 'SH', 'warehouse'],
      ['HK-1', 'HK', 'warehouse'],
    ]);
    const list = (await stack.api('GET', '/api/companies')).body.items;
    expect(list.map((c: any) => [c.code, c.warehouses])).toEqual([
      ['HK', ['HK-1']],
      ['SH', ['SH-1', 'SH-2']],
    ]);
    // A company that owns a warehouse cannot be deleted; one that owns none can.
    expect((await stack.api('DELETE', '/api/companies/SH')).body.error.code).toBe('company_in_use');
    expect((await stack.api('PUT', '/api/companies/TMP', { name: 'Temp', currency: 'EUR' })).status).toBe(
      201,
    );
    expect((await stack.api('DELETE', '/api/companies/TMP')).status).toBe(204);
  });

  it('moves stock within one company with POST /api/stock/transfers and refuses two companies (409 naming POST /api/transfers)', async () => {
    const within = await stack.api('POST', '/api/stock/transfers', {
      from: 'SH-1',
      to: 'SH-2',
      reference: 'move-1',
      lines: [{ sku: 'NUT', quantity: 5 }],
    });
    expect(within.status).toBe(201);
    const before = await stock('BOLT');
    const across = await stack.api('POST', '/api/stock/transfers', {
      from: 'SH-1',
      to: 'HK-1',
      reference: 'move-2',
      lines: [{ sku: 'BOLT', quantity: 5 }],
    });
    expect(across.status).toBe(409);
    expect(across.body.error.code).toBe('intra_group_transfer');
    expect(across.body.error.message).toContain('POST /api/transfers');
    expect(await stock('BOLT')).toEqual(before);
    // And the intra-group route refuses two warehouses of one company.
    const same = await stack.api('POST', '/api/transfers', {
      ref: 'T-same',
      from: 'SH-1',
      to: 'SH-2',
      lines: [{ sku: 'BOLT', quantity: 1 }],
    });
    expect(same.status).toBe(422);
    expect(same.body.error.code).toBe('same_company');
  });

  it('sends through in transit at the transfer price, receives in part, fills a backorder, and the ledger replays', async () => {
    // An order in HK waits for NUT: HK-1 has none and SH has only what is not reserved... reserve SH's NUTs first.
    const hold = await stack.api(
      'POST',
      '/api/orders',
      orderBody('HOLD-NUT', [{ sku: 'NUT', quantity: 40 }]),
    );
    expect(hold.status).toBe(202);
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${hold.body.id}`)).body.status).toBe('confirmed');

    const body = {
      ref: 'T-1',
      from: 'SH-1',
      to: 'HK-1',
      lines: [
        { sku: 'BOLT', quantity: 60 },
        { sku: 'NUT', quantity: 5 },
      ],
    };
    const sent = await stack.api('POST', '/api/transfers', body);
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      ref: 'T-1',
      from: { warehouse: 'SH-1', company: 'SH' },
      to: { warehouse: 'HK-1', company: 'HK' },
      inTransitLocation: '@transit:HK',
      priceList: 'IC-HK',
      currency: 'CNY',
      status: 'in_transit',
      sale: { seller: 'SH', buyer: 'HK', currency: 'CNY', totalAmount: 60 * 700 + 5 * 30, invoiceId: null },
    });
    // BOLT reaches the 50 quantity break: 700, not 800.
    expect(sent.body.lines).toEqual([
      { sku: 'BOLT', sent: 60, received: 0, inTransit: 60, unitPrice: 700, currency: 'CNY', amount: 42000 },
      { sku: 'NUT', sent: 5, received: 0, inTransit: 5, unitPrice: 30, currency: 'CNY', amount: 150 },
    ]);
    expect(await levelIn('BOLT', 'SH-1')).toMatchObject({ onHand: 40 });
    const bolt = await stock('BOLT');
    expect(bolt.inTransit).toEqual([{ location: '@transit:HK', company: 'HK', onHand: 60 }]);
    // In transit is not stock that sells: not in the totals, not among the warehouses.
    expect(bolt.onHand).toBe(40);
    expect(bolt.warehouses.map((w: any) => w.warehouse)).not.toContain('@transit:HK');
    const sale = await stack.db('intra_group_sales').select();
    expect(sale).toHaveLength(1);
    expect(Number(sale[0].total_amount)).toBe(42150);

    // A repeat is harmless; the same ref with other lines is refused.
    const again = await stack.api('POST', '/api/transfers', body);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(
      (await stack.api('POST', '/api/transfers', { ...body, lines: [{ sku: 'BOLT', quantity: 61 }] })).body
        .error.code,
    ).toBe('duplicate_reference');
    expect((await stock('BOLT')).inTransit[0].onHand).toBe(60);

    // A line without a transfer price, and more than is free, are refused with nothing changed.
    const unpriced = await stack.api('POST', '/api/transfers', {
      ...body,
      ref: 'T-2',
      lines: [{ sku: 'GEAR', quantity: 1 }],
    });
    expect(unpriced).toMatchObject({ status: 422, body: { error: { code: 'no_transfer_price' } } });
    const tooMuch = await stack.api('POST', '/api/transfers', {
      ...body,
      ref: 'T-3',
      lines: [{ sku: 'NUT', quantity: 6 }],
    });
    expect(tooMuch).toMatchObject({ status: 409, body: { error: { code: 'insufficient_stock' } } });
    expect((await stack.api('GET', '/api/transfers/T-3')).status).toBe(404);

    // An HK order for 30 BOLT beyond what sells: SH-1's 40 are taken first, the rest waits.
    const waiting = await stack.api(
      'POST',
      '/api/orders',
      orderBody('WAIT-BOLT', [{ sku: 'BOLT', quantity: 50 }]),
    );
    await stack.settle();
    const waitingOrder = (await stack.api('GET', `/api/orders/${waiting.body.id}`)).body;
    expect(waitingOrder.status).toBe('backordered');
    expect(waitingOrder.lines[0]).toMatchObject({ reserved: 40, backordered: 10 });
    // Nothing was allocated from in transit.
    const transitId = Number((await stack.db('warehouses').where({ code: '@transit:HK' }).first('id')).id);
    expect(await stack.db('order_allocations').where({ warehouse_id: transitId })).toHaveLength(0);

    // Part of it arrives: 25 BOLT. Over-receipt is refused; a repeat of the receipt is harmless.
    const over = await stack.api('POST', '/api/transfers/T-1/receive', {
      lines: [{ sku: 'BOLT', quantity: 61 }],
    });
    expect(over).toMatchObject({ status: 409, body: { error: { code: 'over_receipt' } } });
    const part = { receipt: 'GRN-1', lines: [{ sku: 'BOLT', quantity: 25 }] };
    const received = await stack.api('POST', '/api/transfers/T-1/receive', part);
    expect(received.status).toBe(201);
    expect(received.body.filledOrders).toEqual([waiting.body.id]);
    expect(received.body.lines[0]).toMatchObject({ sku: 'BOLT', sent: 60, received: 25, inTransit: 35 });
    expect(received.body.status).toBe('in_transit');
    const repeat = await stack.api('POST', '/api/transfers/T-1/receive', part);
    expect(repeat).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(
      (
        await stack.api('POST', '/api/transfers/T-1/receive', {
          ...part,
          lines: [{ sku: 'BOLT', quantity: 1 }],
        })
      ).body.error.code,
    ).toBe('duplicate_reference');
    // The same receipt sent as an Idempotency-Key instead.
    const keyed = await stack.api(
      'POST',
      '/api/transfers/T-1/receive',
      { lines: [{ sku: 'NUT', quantity: 2 }] },
      {
        headers: { 'idempotency-key': 'grn-2' },
      },
    );
    expect(keyed.status).toBe(201);
    expect(
      (
        await stack.api(
          'POST',
          '/api/transfers/T-1/receive',
          { lines: [{ sku: 'NUT', quantity: 2 }] },
          {
            headers: { 'idempotency-key': 'grn-2' },
          },
        )
      ).status,
    ).toBe(200);

    expect((await stack.api('GET', `/api/orders/${waiting.body.id}`)).body.status).toBe('confirmed');
    expect(await levelIn('BOLT', 'HK-1')).toMatchObject({ onHand: 25, reserved: 10 });
    const view = (await stack.api('GET', '/api/transfers/T-1')).body;
    expect(view.lines.map((l: any) => [l.sku, l.sent, l.received, l.inTransit, l.unitPrice])).toEqual([
      ['BOLT', 60, 25, 35, 700],
      ['NUT', 5, 2, 3, 30],
    ]);
    expect(view.totals).toEqual({ sent: 65, received: 27, inTransit: 38, amount: 42150 });
    expect(view.receipts.map((r: any) => r.receipt)).toEqual(['GRN-1', 'grn-2']);
    expect((await stock('BOLT')).inTransit[0].onHand).toBe(35);
    expect(await checkInvariants(stack.db)).toEqual([]);

    // The rest arrives (no lines: everything still in transit); then nothing is left, and a repeat moves nothing.
    const rest = await stack.api('POST', '/api/transfers/T-1/receive', { receipt: 'GRN-3' });
    expect(rest.status).toBe(201);
    expect(rest.body).toMatchObject({ status: 'received', totals: { inTransit: 0, received: 65 } });
    const none = await stack.api('POST', '/api/transfers/T-1/receive', {});
    expect(none).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await stock('BOLT')).inTransit[0].onHand).toBe(0);
    expect(await levelIn('BOLT', 'HK-1')).toMatchObject({ onHand: 60 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('never allocates stock in transit to an order nor publishes it to a channel', async () => {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'SH-1',
      reference: 'r-more',
      lines: [{ sku: 'BOLT', quantity: 30 }],
    });
    const sent = await stack.api('POST', '/api/transfers', {
      ref: 'T-4',
      from: 'SH-1',
      to: 'HK-1',
      lines: [{ sku: 'BOLT', quantity: 10 }],
    });
    expect(sent.status).toBe(201);
    const sellable = (await stock('BOLT')).available;
    expect((await stock('BOLT')).inTransit[0].onHand).toBe(10);
    // An order for more than sells now: it takes what sells and waits for the rest, never the 10 in transit.
    const big = await stack.api(
      'POST',
      '/api/orders',
      orderBody('BIG-BOLT', [{ sku: 'BOLT', quantity: sellable + 10 }]),
    );
    await stack.settle();
    const order = (await stack.api('GET', `/api/orders/${big.body.id}`)).body;
    expect(order.lines[0]).toMatchObject({ reserved: sellable, backordered: 10 });
    expect((await stock('BOLT')).inTransit[0].onHand).toBe(10);

    // A channel fed by every warehouse is told what sells, not what is in transit.
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Transit shop',
      settings: {
        shopDomain: 'transit-shop.myshopify.com',
        accessToken: 'shpat_transit_token_0123456789abcdef',
        webhookSecret: 'transit-secret',
        apiBaseUrl: 'https://shopify.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
      },
    });
    expect(shop.status).toBe(201);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'SH-2',
      reference: 'r-pub',
      lines: [{ sku: 'GEAR', quantity: 7 }],
    });
    const gear = await stock('GEAR');
    const told = await quantitiesFor(stack.db, shop.body.id, [
      { sku: 'BOLT', rule: {} },
      { sku: 'GEAR', rule: {} },
    ]);
    expect(told.get('BOLT')).toBe((await stock('BOLT')).available);
    expect(told.get('BOLT')).toBe(0);
    expect(told.get('GEAR')).toBe(gear.available);
    // Nor can a channel be fed by an in-transit location.
    const feed = await stack.api('PUT', `/api/channels/${shop.body.id}`, {
      stock: { warehouses: ['@transit:HK'] },
    });
    expect(feed.status).toBeGreaterThanOrEqual(400);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('the invariants see stock in transit that the transfers do not explain', async () => {
    const transit = await stack.db('warehouses').where({ code: '@transit:HK' }).first('id');
    const bolt = await stack.db('skus').where({ code: 'BOLT' }).first('id');
    const row = { sku_id: bolt.id, warehouse_id: transit.id };
    await stack.db('stock_levels').where(row).increment('on_hand', 1);
    try {
      const problems = await checkInvariants(stack.db);
      expect(problems.some((p) => p.startsWith('in transit sku'))).toBe(true);
      expect(problems.some((p) => p.startsWith('ledger for sku'))).toBe(true);
    } finally {
      await stack.db('stock_levels').where(row).decrement('on_hand', 1);
    }
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('intra-group transfers under concurrency (MariaDB, forced interleavings)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack();
    await seedCatalog(
      stack,
      [
        { code: 'SH-1', priority: 1 },
        { code: 'HK-1', priority: 2 },
      ],
      ['BOLT'],
    );
    await stack.api('PUT', '/api/price-lists/IC', { name: 'Intercompany', currency: 'CNY' });
    await stack.api('PUT', '/api/price-lists/IC/items', { items: [{ sku: 'BOLT', price: 500 }] });
    await stack.api('PUT', '/api/companies/SH', { name: 'SH', currency: 'CNY' });
    await stack.api('PUT', '/api/companies/HK', { name: 'HK', currency: 'CNY', transferPriceList: 'IC' });
    await stack.api('PUT', '/api/warehouses/SH-1', { name: 'SH-1', priority: 1, company: 'SH' });
    await stack.api('PUT', '/api/warehouses/HK-1', { name: 'HK-1', priority: 2, company: 'HK' });
    const r = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'SH-1',
      reference: 'open',
      lines: [{ sku: 'BOLT', quantity: 100 }],
    });
    expect(r.status).toBe(201);
    // The first transfer creates HK's in-transit location.
    expect(
      (
        await stack.api('POST', '/api/transfers', {
          ref: 'T-0',
          from: 'SH-1',
          to: 'HK-1',
          lines: [{ sku: 'BOLT', quantity: 30 }],
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const track = <T>(p: Promise<T>) => {
    const t = { done: false, result: undefined as T | undefined, promise: p };
    t.promise = p.then((v) => {
      t.done = true;
      t.result = v;
      return v;
    });
    return t;
  };

  it('the same transfer sent twice at once, both queued behind the in-transit location: sent once', async () => {
    const blocker = await block(stack.db, "SELECT id FROM warehouses WHERE code = '@transit:HK' FOR UPDATE");
    const body = { ref: 'T-RACE', from: 'SH-1', to: 'HK-1', lines: [{ sku: 'BOLT', quantity: 10 }] };
    const a = track(stack.api('POST', '/api/transfers', body));
    const b = track(stack.api('POST', '/api/transfers', body));
    await waitForLockWaits(stack.db, 2, {
      table: 'warehouses',
      settled: () => (a.done || b.done ? 'a send did not wait' : null),
    });
    await blocker.commit();
    const statuses = [(await a.promise).status, (await b.promise).status].sort();
    expect(statuses).toEqual([200, 201]);
    const view = (await stack.api('GET', '/api/transfers/T-RACE')).body;
    expect(view.totals).toMatchObject({ sent: 10, inTransit: 10 });
    expect(await stack.db('intra_group_sales').count({ n: '*' })).toEqual([{ n: 2 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('two receipts that together ask for more than is in transit, queued behind the transfer: one goes through', async () => {
    const blocker = await block(stack.db, "SELECT id FROM transfers WHERE ref = 'T-0' FOR UPDATE");
    const receive = (receipt: string) =>
      track(
        stack.api('POST', '/api/transfers/T-0/receive', { receipt, lines: [{ sku: 'BOLT', quantity: 20 }] }),
      );
    const a = receive('GRN-A');
    const b = receive('GRN-B');
    await waitForLockWaits(stack.db, 2, {
      table: 'transfers',
      settled: () => (a.done || b.done ? 'a receipt did not wait' : null),
    });
    await blocker.commit();
    const answers = [await a.promise, await b.promise].sort((x, y) => x.status - y.status);
    expect(answers.map((x) => x.status)).toEqual([201, 409]);
    expect(answers[1]!.body.error.code).toBe('over_receipt');
    const view = (await stack.api('GET', '/api/transfers/T-0')).body;
    expect(view.lines[0]).toMatchObject({ sent: 30, received: 20, inTransit: 10 });
    expect(view.receipts).toHaveLength(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
