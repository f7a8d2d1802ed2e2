import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OrderInput } from '../../src/domain/order-input.js';
import { amendLocked } from '../../src/orders/amend.js';
import { apiOrderDelivery, recordOrder } from '../../src/orders/intake.js';
import { withOrderLocked } from '../../src/orders/order-store.js';
import { processOrders } from '../../src/orders/processing.js';
import { block, track, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { ADMIN_TOKEN, createStack, jsonOrText, seedCatalog, type TestStack } from '../helpers/stack.js';

/*
 * Sales contracts (blanket orders): contracts maintained through the API, orders drawing them down
 * (API field, Excel column, the channel's only-active default) at the contract price, holds when a
 * draw would pass what is left with the overrun, give-back on cancel, and concurrent draws that
 * never overdraw — in the worker's groups and across separate transactions.
 */

const SKUS = ['BOLT', 'NUT', 'GEAR', 'WASHER'];

const contractBody = (
  customer: string,
  lines: { sku: string; quantity: number; price: number; overrunPercent?: number }[],
  extra: Record<string, unknown> = {},
) => ({ customer, currency: 'EUR', validFrom: '2026-01-01', validTo: '2027-12-31', lines, ...extra });

async function setup(sqlite: boolean) {
  const stack = await createStack({ sqlite });
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], SKUS);
  const receipt = await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: SKUS.map((sku) => ({ sku, quantity: 10_000 })),
  });
  expect(receipt.status).toBeLessThan(300);
  for (const code of ['ACME', 'BETA', 'SOLO', 'RACE', 'GRP'])
    expect((await stack.api('PUT', `/api/customers/${code}`, { name: `${code} Trading` })).status).toBe(201);
  return stack;
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('sales contracts on %s', (_name, sqlite) => {
  let stack: TestStack;
  let seq = 0;

  const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;
  const contract = async (number: string) => (await stack.api('GET', `/api/contracts/${number}`)).body;
  const post = async (body: Record<string, unknown>) => {
    const res = await stack.api('POST', '/api/orders', {
      currency: 'EUR',
      externalId: `C-${++seq}`,
      ...body,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.id as number;
  };
  const upload = async (name: string, data: string) => {
    const form = new FormData();
    form.set('file', new File([data], name));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    return { status: res.status, body: await jsonOrText(res) };
  };
  const excelOrder = async (externalId: string) => {
    const row = await stack.db('orders').where({ channel: 'excel', external_id: externalId }).first('id');
    expect(row, externalId).toBeTruthy();
    return order(Number(row.id));
  };

  beforeAll(async () => {
    stack = await setup(sqlite);
    stack.startWorker(4);
  });

  afterAll(async () => {
    await stack?.close();
  });

  beforeEach(async () => {
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('keeps contracts idempotently and refuses bad ones, changing nothing', async () => {
    const body = contractBody('ACME', [
      { sku: 'BOLT', quantity: 100, price: 850 },
      { sku: 'NUT', quantity: 500, price: 12, overrunPercent: 5 },
    ]);
    const created = await stack.api('PUT', '/api/contracts/HT-2026-001', { ...body, name: 'Bolts 2026' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      number: 'HT-2026-001',
      customer: 'ACME',
      currency: 'EUR',
      status: 'active',
      lines: [
        {
          lineNo: 1,
          sku: 'BOLT',
          price: 850,
          contracted: 100,
          allowance: 0,
          drawn: 0,
          shipped: 0,
          remaining: 100,
        },
        { lineNo: 2, sku: 'NUT', overrunPercent: 5, contracted: 500, allowance: 25, available: 525 },
      ],
    });
    const again = await stack.api('PUT', '/api/contracts/ht-2026-001', { ...body, name: 'Bolts 2026' });
    expect(again.status).toBe(200);
    expect(again.body.updatedAt).toBe(created.body.updatedAt);

    const refused = [
      await stack.api(
        'PUT',
        '/api/contracts/BAD-1',
        contractBody('NOBODY', [{ sku: 'BOLT', quantity: 1, price: 1 }]),
      ),
      await stack.api(
        'PUT',
        '/api/contracts/BAD-1',
        contractBody('ACME', [{ sku: 'BOLT', quantity: 1, price: 1 }], {
          validFrom: '2027-01-01',
          validTo: '2026-01-01',
        }),
      ),
      await stack.api(
        'PUT',
        '/api/contracts/BAD-1',
        contractBody('ACME', [{ sku: 'NOSUCH', quantity: 1, price: 1 }]),
      ),
      await stack.api(
        'PUT',
        '/api/contracts/BAD-1',
        contractBody('ACME', [
          { sku: 'BOLT', quantity: 1, price: 1 },
          { sku: 'bolt', quantity: 1, price: 1 },
        ]),
      ),
      await stack.api(
        'PUT',
        '/api/contracts/BAD-1',
        contractBody('ACME', [{ sku: 'BOLT', quantity: 0, price: 1 }]),
      ),
    ];
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
      [422, 'unknown_customer'],
      [422, 'invalid_validity'],
      [422, 'unknown_sku'],
      [422, 'duplicate_sku'],
      [422, 'validation_failed'],
    ]);
    expect((await stack.api('GET', '/api/contracts/BAD-1')).status).toBe(404);
    const list = await stack.api('GET', '/api/contracts?customer=acme');
    expect(list.body.items.map((c: any) => c.number)).toEqual(['HT-2026-001']);
    expect((await stack.api('GET', '/api/contracts?customer=BETA')).body.items).toEqual([]);
  });

  it('draws a contract down with an API order at the contract price, and ships against it', async () => {
    const id = await post({
      customer: { code: 'ACME' },
      contract: 'HT-2026-001',
      lines: [
        { sku: 'BOLT', quantity: 30, unitPrice: 1000 },
        // No price of its own and no price list: the contract prices it.
        { sku: 'NUT', quantity: 100 },
      ],
    });
    await stack.settle();
    const o = await order(id);
    expect(o).toMatchObject({
      status: 'confirmed',
      contract: 'HT-2026-001',
      totalAmount: 30 * 850 + 100 * 12,
    });
    expect(o.lines).toMatchObject([
      { sku: 'BOLT', unitPrice: 850, orderUnitPrice: 1000, contract: { number: 'HT-2026-001', lineNo: 1 } },
      { sku: 'NUT', unitPrice: 12, contract: { number: 'HT-2026-001', lineNo: 2 } },
    ]);
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      lines: [{ sku: 'BOLT', quantity: 10 }],
    });
    expect(shipped.status).toBe(201);
    expect((await contract('HT-2026-001')).lines).toMatchObject([
      { sku: 'BOLT', contracted: 100, drawn: 30, shipped: 10, remaining: 70 },
      { sku: 'NUT', contracted: 500, drawn: 100, shipped: 0, remaining: 400 },
    ]);
    const draws = await stack.api('GET', '/api/contracts/HT-2026-001/draws');
    expect(draws.body.items).toMatchObject([
      { lineNo: 1, sku: 'BOLT', order: id, orderLine: 1, quantity: 30, unitPrice: 850, reason: 'order' },
      { lineNo: 2, sku: 'NUT', order: id, orderLine: 2, quantity: 100, unitPrice: 12, reason: 'order' },
    ]);
  });

  it('holds an order that names an unknown, foreign or expired contract, or a SKU not on it', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/OLD-2025',
          contractBody('ACME', [{ sku: 'BOLT', quantity: 10, price: 1 }], {
            validFrom: '2025-01-01',
            validTo: '2025-12-31',
          }),
        )
      ).status,
    ).toBe(201);
    const line = [{ sku: 'BOLT', quantity: 1, unitPrice: 1000 }];
    const ids = [
      await post({ customer: { code: 'ACME' }, contract: 'NO-SUCH', lines: line }),
      await post({ customer: { code: 'BETA' }, contract: 'HT-2026-001', lines: line }),
      await post({ customer: { code: 'ACME' }, contract: 'OLD-2025', lines: line }),
      await post({
        customer: { code: 'ACME' },
        contract: 'HT-2026-001',
        lines: [...line, { sku: 'GEAR', quantity: 1 }],
      }),
    ];
    await stack.settle();
    const held = await Promise.all(ids.map(order));
    expect(held.map((o) => [o.status, o.holdReason])).toEqual([
      ['on_hold', 'contract_unknown'],
      ['on_hold', 'contract_customer'],
      ['on_hold', 'contract_expired'],
      ['on_hold', 'contract_sku'],
    ]);
    expect(held[3].holdDetails).toEqual([
      expect.objectContaining({ code: 'contract_sku', lineNo: 2, sku: 'GEAR', contract: 'HT-2026-001' }),
    ]);
    // Held orders took nothing.
    expect((await contract('HT-2026-001')).lines[0]).toMatchObject({ drawn: 30 });
  });

  it('allows the overrun and no more, holding contract_exceeded with the figures; a raised contract releases it', async () => {
    const put = (quantity: number) =>
      stack.api(
        'PUT',
        '/api/contracts/OVR-1',
        contractBody('BETA', [{ sku: 'GEAR', quantity, price: 4000, overrunPercent: 10 }]),
      );
    expect((await put(20)).status).toBe(201);
    const full = await post({
      customer: { code: 'BETA' },
      contract: 'OVR-1',
      lines: [{ sku: 'GEAR', quantity: 22, unitPrice: 5000 }],
    });
    await stack.settle();
    expect(await order(full)).toMatchObject({ status: 'confirmed', totalAmount: 22 * 4000 });
    const over = await post({
      customer: { code: 'BETA' },
      contract: 'OVR-1',
      lines: [{ sku: 'GEAR', quantity: 1, unitPrice: 5000 }],
    });
    await stack.settle();
    const held = await order(over);
    expect(held).toMatchObject({ status: 'on_hold', holdReason: 'contract_exceeded' });
    expect(held.holdDetails).toEqual([
      expect.objectContaining({
        code: 'contract_exceeded',
        contract: 'OVR-1',
        sku: 'GEAR',
        contracted: 20,
        allowance: 2,
        limit: 22,
        drawn: 22,
        available: 0,
        requested: 1,
      }),
    ]);
    expect((await contract('OVR-1')).lines[0]).toMatchObject({ drawn: 22, remaining: 0, available: 0 });
    // Less than is drawn cannot be contracted; more can, and the held order goes through on release.
    expect((await put(10)).body.error.code).toBe('contract_below_drawn');
    expect((await put(30)).status).toBe(200);
    expect((await stack.api('POST', `/api/orders/${over}/release`)).status).toBe(200);
    await stack.settle();
    expect(await order(over)).toMatchObject({ status: 'confirmed', totalAmount: 4000 });
    expect((await contract('OVR-1')).lines[0]).toMatchObject({ contracted: 30, drawn: 23, remaining: 7 });
  });

  it('reads the contract from an Excel column (合同号)', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/XL-7',
          contractBody('BETA', [{ sku: 'WASHER', quantity: 1000, price: 5 }]),
        )
      ).status,
    ).toBe(201);
    const csv =
      '订单号,客户编码,货号,数量,合同号\nPO-1,BETA,WASHER,200,XL-7\nPO-2,BETA,WASHER,1,\nPO-2,BETA,NUT,1,XL-7\n';
    const up = await upload('orders.csv', csv);
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    await stack.settle();
    const drawn = await excelOrder('BETA:PO-1');
    expect(drawn).toMatchObject({ status: 'confirmed', contract: 'XL-7', totalAmount: 200 * 5 });
    expect(drawn.lines[0]).toMatchObject({ unitPrice: 5, contract: { number: 'XL-7', lineNo: 1 } });
    // The contract on one row counts for the order; NUT is not on it.
    expect(await excelOrder('BETA:PO-2')).toMatchObject({ status: 'on_hold', holdReason: 'contract_sku' });
    expect((await contract('XL-7')).lines[0]).toMatchObject({ drawn: 200, remaining: 800 });
  });

  it("draws on the customer's only active contract when the channel says so", async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/SOLO-1',
          contractBody('SOLO', [{ sku: 'BOLT', quantity: 50, price: 700 }]),
        )
      ).status,
    ).toBe(201);
    expect((await stack.api('GET', '/api/channels/api/contract-default')).body).toEqual({
      channel: 'api',
      contractDefault: 'none',
    });
    const before = await post({
      customer: { code: 'SOLO' },
      lines: [{ sku: 'BOLT', quantity: 5, unitPrice: 1000 }],
    });
    await stack.settle();
    expect(await order(before)).toMatchObject({ status: 'confirmed', contract: null, totalAmount: 5000 });

    const set = await stack.api('PUT', '/api/channels/api/contract-default', {
      contractDefault: 'only_active',
    });
    expect(set.body).toEqual({ channel: 'api', contractDefault: 'only_active' });
    expect(
      (await stack.api('PUT', '/api/channels/api/contract-default', { contractDefault: 'maybe' })).status,
    ).toBe(422);
    expect(
      (await stack.api('PUT', '/api/channels/999/contract-default', { contractDefault: 'none' })).status,
    ).toBe(404);
    try {
      const implicit = await post({
        customer: { code: 'SOLO' },
        lines: [
          { sku: 'BOLT', quantity: 5, unitPrice: 1000 },
          { sku: 'NUT', quantity: 1, unitPrice: 20 },
        ],
      });
      await stack.settle();
      const o = await order(implicit);
      expect(o).toMatchObject({ status: 'confirmed', contract: 'SOLO-1', totalAmount: 5 * 700 + 20 });
      expect(o.lines.map((l: any) => l.contract)).toEqual([{ number: 'SOLO-1', lineNo: 1 }, null]);
      // A second active contract makes it ambiguous: the order must name one.
      expect(
        (
          await stack.api(
            'PUT',
            '/api/contracts/SOLO-2',
            contractBody('SOLO', [{ sku: 'NUT', quantity: 50, price: 10 }]),
          )
        ).status,
      ).toBe(201);
      const ambiguous = await post({
        customer: { code: 'SOLO' },
        lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 1000 }],
      });
      await stack.settle();
      expect(await order(ambiguous)).toMatchObject({ status: 'on_hold', holdReason: 'contract_ambiguous' });
    } finally {
      await stack.api('PUT', '/api/channels/api/contract-default', { contractDefault: 'none' });
    }
    expect((await contract('SOLO-1')).lines[0]).toMatchObject({ drawn: 5 });
  });

  it('gives the quantity back when an order is cancelled, keeping what shipped', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/CXL-1',
          contractBody('BETA', [{ sku: 'NUT', quantity: 100, price: 9 }]),
        )
      ).status,
    ).toBe(201);
    const whole = await post({
      customer: { code: 'BETA' },
      contract: 'CXL-1',
      lines: [{ sku: 'NUT', quantity: 40 }],
    });
    const part = await post({
      customer: { code: 'BETA' },
      contract: 'CXL-1',
      lines: [{ sku: 'NUT', quantity: 30 }],
    });
    await stack.settle();
    expect((await contract('CXL-1')).lines[0]).toMatchObject({ drawn: 70, remaining: 30 });
    expect(
      (await stack.api('POST', `/api/orders/${whole}/cancel`, { reason: 'customer changed plans' })).status,
    ).toBe(200);
    expect(
      (await stack.api('POST', `/api/orders/${part}/shipments`, { lines: [{ sku: 'NUT', quantity: 10 }] }))
        .status,
    ).toBe(201);
    expect((await stack.api('POST', `/api/orders/${part}/cancel`)).status).toBe(200);
    expect((await contract('CXL-1')).lines[0]).toMatchObject({ drawn: 10, shipped: 10, remaining: 90 });
    const ledger = (await stack.api('GET', '/api/contracts/CXL-1/draws')).body.items;
    const rows = ledger.map((d: any) => [d.order, d.quantity, d.reason]);
    expect(rows).toHaveLength(4);
    // The two draws in whichever order the worker processed the orders; then the give-backs in turn.
    expect(rows.slice(0, 2)).toEqual(
      expect.arrayContaining([
        [whole, 40, 'order'],
        [part, 30, 'order'],
      ]),
    );
    expect(rows.slice(2)).toEqual([
      [whole, -40, 'order_cancelled'],
      [part, -20, 'order_cancelled'],
    ]);
  });

  it("gives back what replaced lines drew when a reserved order's lines change, and draws for the new lines", async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/AMD-1',
          contractBody('BETA', [
            { sku: 'BOLT', quantity: 100, price: 600 },
            { sku: 'WASHER', quantity: 100, price: 4 },
          ]),
        )
      ).status,
    ).toBe(201);
    const id = await post({
      customer: { code: 'BETA' },
      contract: 'AMD-1',
      lines: [
        { sku: 'BOLT', quantity: 10 },
        { sku: 'WASHER', quantity: 50 },
      ],
    });
    await stack.settle();
    expect(await order(id)).toMatchObject({ status: 'confirmed' });
    // The channel's new version drops the washers (a cancelled line) and keeps 10 bolts at its price.
    const result = await withOrderLocked(stack.db, id, (tx, locked) =>
      amendLocked(tx, locked, {
        lines: [{ sku: 'BOLT', quantity: 10, unitPrice: 1000 }],
        problems: [],
        actor: 'test',
      }),
    );
    expect(result.outcome).toBe('updated');
    // The new lines draw again, at the contract's price (not the 1000 the version carried).
    expect((await contract('AMD-1')).lines).toMatchObject([
      { sku: 'BOLT', drawn: 10 },
      { sku: 'WASHER', drawn: 0 },
    ]);
    const amended = await order(id);
    expect(amended).toMatchObject({ status: 'confirmed', totalAmount: 6000 });
    expect(amended.lines).toMatchObject([{ sku: 'BOLT', unitPrice: 600, reserved: 10 }]);
    const ledger = (await stack.api('GET', '/api/contracts/AMD-1/draws')).body.items;
    expect(ledger.map((d: any) => [d.sku, d.quantity, d.reason])).toEqual([
      ['BOLT', 10, 'order'],
      ['WASHER', 50, 'order'],
      ['BOLT', -10, 'lines_replaced'],
      ['WASHER', -50, 'lines_replaced'],
      ['BOLT', 10, 'lines_amended'],
    ]);
    expect(await checkInvariants(stack.db)).toEqual([]);

    // New lines drawing past what is left are refused: the order keeps its lines, draws and stock.
    const refused = await withOrderLocked(stack.db, id, (tx, locked) =>
      amendLocked(tx, locked, {
        lines: [
          { sku: 'BOLT', quantity: 10, unitPrice: 600 },
          { sku: 'WASHER', quantity: 150 },
        ],
        problems: [],
        actor: 'test',
      }),
    );
    expect(refused.outcome).toBe('not_applied');
    expect(refused.note).toMatch(/contract_exceeded/);
    expect(await order(id)).toMatchObject({
      status: 'confirmed',
      totalAmount: 6000,
      lines: [{ reserved: 10 }],
    });
    expect((await contract('AMD-1')).lines).toMatchObject([
      { sku: 'BOLT', drawn: 10 },
      { sku: 'WASHER', drawn: 0 },
    ]);
    expect((await stack.api('GET', '/api/contracts/AMD-1/draws')).body.items).toHaveLength(5);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('never overdraws under concurrent orders through the worker', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/RACE-1',
          contractBody('RACE', [{ sku: 'BOLT', quantity: 10, price: 100 }]),
        )
      ).status,
    ).toBe(201);
    const ids = await Promise.all(
      Array.from({ length: 20 }, () =>
        post({ customer: { code: 'RACE' }, contract: 'RACE-1', lines: [{ sku: 'BOLT', quantity: 1 }] }),
      ),
    );
    await stack.settle();
    const orders = await Promise.all(ids.map(order));
    expect(orders.filter((o) => o.status === 'confirmed')).toHaveLength(10);
    expect(orders.filter((o) => o.holdReason === 'contract_exceeded')).toHaveLength(10);
    expect((await contract('RACE-1')).lines[0]).toMatchObject({ drawn: 10, remaining: 0 });
  });

  it('draws in turn within one worker group: the later order sees what the earlier took', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/GRP-1',
          contractBody('GRP', [{ sku: 'GEAR', quantity: 10, price: 100 }]),
        )
      ).status,
    ).toBe(201);
    const body = (n: number): OrderInput => ({
      externalId: `GRP-${n}`,
      currency: 'EUR',
      customer: { code: 'GRP' },
      contract: 'GRP-1',
      lines: [{ sku: 'GEAR', quantity: 6 }],
    });
    const ids: number[] = [];
    for (const n of [1, 2, 3])
      ids.push((await recordOrder(stack.db, apiOrderDelivery(body(n), JSON.stringify(body(n))))).orderId);
    await processOrders(stack.db, ids);
    const orders = await Promise.all(ids.map(order));
    expect(orders.map((o) => o.status)).toEqual(['confirmed', 'on_hold', 'on_hold']);
    expect(orders[1].holdDetails[0]).toMatchObject({
      code: 'contract_exceeded',
      drawn: 6,
      available: 4,
      requested: 6,
    });
    expect((await contract('GRP-1')).lines[0]).toMatchObject({ drawn: 6 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('sales contracts: draws in separate transactions queue on the contract lines (MariaDB, forced)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await setup(false);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('two orders waiting on a locked contract take no more than it has', async () => {
    expect(
      (
        await stack.api(
          'PUT',
          '/api/contracts/LOCK-1',
          contractBody('RACE', [{ sku: 'NUT', quantity: 10, price: 50 }]),
        )
      ).status,
    ).toBe(201);
    const body = (n: number): OrderInput => ({
      externalId: `LOCK-${n}`,
      currency: 'EUR',
      customer: { code: 'RACE' },
      contract: 'LOCK-1',
      lines: [{ sku: 'NUT', quantity: 6 }],
    });
    const ids: number[] = [];
    for (const n of [1, 2])
      ids.push((await recordOrder(stack.db, apiOrderDelivery(body(n), JSON.stringify(body(n))))).orderId);
    const line = await stack.db('contract_lines').where({ sku_code: 'NUT' }).first('id', 'contract_id');
    // The blocker holds the contract and its line; both orders start, each in its own transaction,
    // and queue up behind it.
    const blocker = await block(
      stack.db,
      'SELECT c.id FROM contracts c JOIN contract_lines cl ON cl.contract_id = c.id WHERE cl.id = ? FOR UPDATE',
      [line.id],
    );
    const first = track(processOrders(stack.db, [ids[0]!]));
    const second = track(processOrders(stack.db, [ids[1]!]));
    try {
      await waitForLockWaits(stack.db, 2, {
        settled: () => (first.done || second.done ? 'a writer finished while the contract was locked' : null),
      });
    } finally {
      await blocker.commit();
    }
    await Promise.all([first.promise, second.promise]);
    const statuses = await stack
      .db('orders')
      .whereIn('id', ids)
      .orderBy('id')
      .select('status', 'hold_reason');
    expect(statuses.map((s) => s.status).sort()).toEqual(['confirmed', 'on_hold']);
    expect(statuses.find((s) => s.status === 'on_hold')?.hold_reason).toBe('contract_exceeded');
    const after = await stack.db('contract_lines').where({ id: line.id }).first('drawn');
    expect(Number(after.drawn)).toBe(6);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
