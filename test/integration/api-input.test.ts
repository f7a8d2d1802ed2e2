import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as codesAndIds from '../../src/db/migrations/20261201200000_codes_and_ids.js';
import { LIMITS } from '../../src/domain/order-input.js';
import { createApp } from '../../src/http/app.js';
import { apiOrderDelivery, recordOrder } from '../../src/orders/intake.js';
import { createSqliteDatabase, createTestDatabase } from '../helpers/db.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import {
  ADMIN_TOKEN,
  createStack,
  jsonOrText,
  orderBody,
  seedCatalog,
  type TestStack,
} from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

/**
 * What the admin API takes as input, the same on MariaDB and on SQLite: how codes and outside ids
 * compare, Idempotency-Keys, the documented limits, NUL characters, and errors without customer data.
 */
describe.each([
  ['MariaDB', false],
  ['SQLite', true],
] as const)('API input on %s', (_name, sqlite) => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    stack.startWorker(2);
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['A1', 'B2']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'seed',
      lines: [
        { sku: 'A1', quantity: 100 },
        { sku: 'B2', quantity: 100 },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const count = async (table: string) =>
    Number(((await stack.db(table).count({ n: '*' })) as { n: number }[])[0]!.n);
  const counts = async () =>
    Object.fromEntries(
      await Promise.all(
        ['orders', 'order_lines', 'inbound_events', 'customers', 'stock_documents', 'stock_movements'].map(
          async (t) => [t, await count(t)],
        ),
      ),
    );

  describe('codes and ids', () => {
    it('keeps external ids that differ in letter case or accents apart: two orders each', async () => {
      const ids: number[] = [];
      for (const externalId of ['ab-77', 'AB-77', 'CAFÉ-1', 'CAFE-1']) {
        const r = await stack.api('POST', '/api/orders', orderBody(externalId, [{ sku: 'A1', quantity: 1 }]));
        expect(r.status, externalId).toBe(202);
        expect(r.body.duplicate).toBe(false);
        ids.push(r.body.id);
      }
      expect(new Set(ids).size).toBe(4);
      const stored = await stack.db('orders').whereIn('id', ids).orderBy('id').pluck('external_id');
      expect(stored).toEqual(['ab-77', 'AB-77', 'CAFÉ-1', 'CAFE-1']);
      // The exact id again is a duplicate of its own order only.
      const again = await stack.api('POST', '/api/orders', orderBody('AB-77', [{ sku: 'A1', quantity: 1 }]));
      expect(again).toMatchObject({ status: 200, body: { id: ids[1], duplicate: true } });
      await stack.settle();
    });

    it('keeps Idempotency-Keys that differ in letter case apart', async () => {
      const a = await stack.api(
        'POST',
        '/api/orders',
        orderBody('key-case-1', [{ sku: 'A1', quantity: 1 }]),
        {
          headers: { 'idempotency-key': 'Key-Case' },
        },
      );
      const b = await stack.api(
        'POST',
        '/api/orders',
        orderBody('key-case-2', [{ sku: 'A1', quantity: 1 }]),
        {
          headers: { 'idempotency-key': 'key-case' },
        },
      );
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.body.id).not.toBe(b.body.id);
      await stack.settle();
    });

    it('finds our codes whatever their letter case, and keeps the spelling they were created with', async () => {
      const put = await stack.api('PUT', '/api/skus/a1', {
        name: 'Renamed',
        unitPrice: 1200,
        currency: 'EUR',
      });
      expect(put.status).toBe(200);
      expect(put.body.code).toBe('A1');
      expect(await stack.db('skus').pluck('code')).toEqual(expect.arrayContaining(['A1', 'B2']));
      expect(await count('skus')).toBe(2);
      expect((await stack.api('GET', '/api/skus/a1')).body).toMatchObject({ code: 'A1', name: 'Renamed' });
      expect((await stack.api('PUT', '/api/warehouses/MAIN', { name: 'Main', priority: 1 })).body.code).toBe(
        'main',
      );

      const receipt = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'MAIN',
        reference: 'case-1',
        lines: [{ sku: 'a1', quantity: 5 }],
      });
      expect(receipt.status).toBe(201);
      const stock = await stack.api('GET', '/api/stock/a1');
      expect(stock.body.sku).toBe('A1');

      // An order line naming `a1` reserves SKU A1.
      const order = await stack.api(
        'POST',
        '/api/orders',
        orderBody('case-order', [{ sku: 'a1', quantity: 2 }]),
      );
      await stack.settle();
      expect((await stack.api('GET', `/api/orders/${order.body.id}`)).body.status).toBe('confirmed');
    });

    it('finds a customer by its code in another letter case, and keeps CAFÉ and CAFE apart', async () => {
      const post = (externalId: string, code: string, name: string) =>
        stack.api(
          'POST',
          '/api/orders',
          orderBody(externalId, [{ sku: 'B2', quantity: 1 }], { customer: { code, name } }),
        );
      // Customer codes are kept as created; a second spelling of the same code finds the customer.
      expect(
        (await stack.api('PUT', `/api/customers/${encodeURIComponent('CAFÉ')}`, { name: 'with accent' }))
          .status,
      ).toBe(400);
      expect((await stack.api('PUT', '/api/customers/Cafe', { name: 'without accent' })).status).toBe(201);
      expect((await stack.api('PUT', '/api/customers/CAFE', { name: 'without accent' })).body.outcome).toBe(
        'unchanged',
      );
      await stack
        .db('customers')
        .insert({ code: 'CAFÉ', name: 'with accent', created_at: '2026-01-01', updated_at: '2026-01-01' });
      await post('cust-1', 'CAFÉ', 'with accent');
      await post('cust-2', 'cafÉ', 'same customer');
      await post('cust-3', 'CAFE', 'without accent');
      const rows = await stack.db('customers').whereNotNull('code').orderBy('id').select('code');
      expect(rows.map((r) => r.code)).toEqual(['Cafe', 'CAFÉ']);
      const orders = await stack
        .db('orders')
        .whereIn('external_id', ['cust-1', 'cust-2', 'cust-3'])
        .orderBy('id');
      expect(orders[0].customer_id).toBe(orders[1].customer_id);
      expect(orders[2].customer_id).not.toBe(orders[0].customer_id);
      await stack.settle();
    });
  });

  describe('Idempotency-Key', () => {
    it('answers the first order for the same body, 422 for another body, and stores nothing new', async () => {
      const body = orderBody('idem-1', [{ sku: 'B2', quantity: 1 }], { customer: { code: 'C-IDEM' } });
      const first = await stack.api('POST', '/api/orders', body, { headers: { 'idempotency-key': 'k-1' } });
      expect(first.status).toBe(202);
      expect(first.body.duplicate).toBe(false);

      // The same order, keys in another order and padded: the same request.
      const reordered = {
        lines: body.lines,
        customer: { code: ' C-IDEM ' },
        currency: 'EUR',
        externalId: 'idem-1',
      };
      const same = await stack.api('POST', '/api/orders', reordered, {
        headers: { 'idempotency-key': 'k-1' },
      });
      expect(same).toEqual({
        status: 200,
        body: { id: first.body.id, status: expect.any(String), duplicate: true },
      });

      await stack.settle(); // the worker's reservations are done before counting
      const before = await counts();
      for (const other of [
        orderBody('idem-1', [{ sku: 'B2', quantity: 2 }], { customer: { code: 'C-IDEM' } }),
        orderBody('idem-2', [{ sku: 'B2', quantity: 1 }]),
      ]) {
        const r = await stack.api('POST', '/api/orders', other, { headers: { 'idempotency-key': 'k-1' } });
        expect(r.status).toBe(422);
        expect(r.body.error.code).toBe('idempotency_key_reused');
      }
      expect(await counts()).toEqual(before);
      expect(await stack.db('orders').where({ external_id: 'idem-2' }).first()).toBeUndefined();
      await stack.settle();
    });

    it('answers 409 while the first request with the key is still being stored, then 422', async () => {
      const first = orderBody('flight-1', [{ sku: 'B2', quantity: 1 }]);
      const other = orderBody('flight-2', [{ sku: 'B2', quantity: 1 }]);
      const headers = { 'idempotency-key': 'k-flight' };
      // Hold the first request in flight: on MariaDB behind an uncommitted order with its external
      // id (rolled back below), on SQLite behind a transaction that holds the only connection.
      const blocker = sqlite
        ? await block(stack.db, 'SELECT 1')
        : await block(
            stack.db,
            'INSERT INTO orders (channel, external_id, status, currency, total_amount, placed_at, created_at, updated_at) ' +
              "VALUES ('api', 'flight-1', 'received', 'EUR', 0, '2026-01-01', '2026-01-01', '2026-01-01')",
          );
      const pending = stack.api('POST', '/api/orders', first, { headers });
      if (sqlite) {
        const pool = (stack.db.client as { pool: { numPendingAcquires(): number } }).pool;
        await waitFor(() => pool.numPendingAcquires() > 0, {
          message: 'the first request waiting for the database',
        });
      } else {
        await waitForLockWaits(stack.db, 1, { table: 'orders' });
      }
      const clash = await stack.api('POST', '/api/orders', other, { headers });
      expect(clash.status).toBe(409);
      expect(clash.body.error.code).toBe('idempotency_key_in_flight');
      await blocker.rollback();
      const stored = await pending;
      expect(stored.status).toBe(202);
      const after = await stack.api('POST', '/api/orders', other, { headers });
      expect(after.status).toBe(422);
      expect(await stack.db('orders').where({ external_id: 'flight-2' }).first()).toBeUndefined();
      await stack.settle();
    });

    it('refuses a key longer than the limit instead of cutting it short', async () => {
      const long = 'k'.repeat(LIMITS.idempotencyKeyLength);
      const ok = await stack.api(
        'POST',
        '/api/orders',
        orderBody('key-len-1', [{ sku: 'B2', quantity: 1 }]),
        {
          headers: { 'idempotency-key': long },
        },
      );
      expect(ok.status).toBe(202);
      expect(
        await stack
          .db('inbound_events')
          .where({ delivery_id: `key:${long}` })
          .first(),
      ).toBeDefined();
      const tooLong = await stack.api(
        'POST',
        '/api/orders',
        orderBody('key-len-2', [{ sku: 'B2', quantity: 1 }]),
        {
          headers: { 'idempotency-key': `${long}k` },
        },
      );
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.code).toBe('invalid_parameter');
      expect(await stack.db('orders').where({ external_id: 'key-len-2' }).first()).toBeUndefined();
      await stack.settle();
    });
  });

  describe('lengths and ranges', () => {
    it('takes an external id of the longest length the schema allows, and refuses one more', async () => {
      const longest = 'e'.repeat(LIMITS.externalIdLength);
      for (const [i, externalId] of [longest.slice(0, 186), longest].entries()) {
        const r = await stack.api('POST', '/api/orders', orderBody(externalId, [{ sku: 'B2', quantity: 1 }]));
        expect(r.status, `length ${externalId.length}`).toBe(202);
        const withKey = await stack.api(
          'POST',
          '/api/orders',
          orderBody(`${externalId.slice(1)}${i}`, [{ sku: 'B2', quantity: 1 }]),
          { headers: { 'idempotency-key': `len-${i}` } },
        );
        expect(withKey.status).toBe(202);
      }
      expect(await stack.db('orders').where({ external_id: longest }).first()).toBeDefined();
      await stack.settle(); // the worker's reservations are done before counting
      const before = await counts();
      const tooLong = await stack.api(
        'POST',
        '/api/orders',
        orderBody(`${longest}e`, [{ sku: 'B2', quantity: 1 }]),
      );
      expect(tooLong.status).toBe(422);
      expect(tooLong.body.error.details).toEqual([expect.objectContaining({ path: 'externalId' })]);
      expect(await counts()).toEqual(before);
      await stack.settle();
    });

    it('stores a total of 2^53 - 1 exactly and refuses any larger total with 422', async () => {
      const max = Number.MAX_SAFE_INTEGER;
      const ok = await stack.api('POST', '/api/orders', {
        externalId: 'total-max',
        currency: 'EUR',
        lines: [{ sku: 'B2', quantity: 1, unitPrice: max }],
      });
      expect(ok.status).toBe(202);
      expect(String((await stack.db('orders').where({ id: ok.body.id }).first()).total_amount)).toBe(
        String(max),
      );
      expect((await stack.api('GET', `/api/orders/${ok.body.id}`)).body.totalAmount).toBe(max);

      await stack.settle(); // the worker's reservations are done before counting
      const before = await counts();
      for (const lines of [
        [{ sku: 'B2', quantity: LIMITS.quantityPerLine, unitPrice: max - 1 }],
        [
          { sku: 'B2', quantity: 1, unitPrice: max },
          { sku: 'A1', quantity: 1, unitPrice: 2 },
        ],
      ]) {
        const r = await stack.api('POST', '/api/orders', { externalId: 'total-big', currency: 'EUR', lines });
        expect(r.status).toBe(422);
        expect(r.body.error.details).toEqual([expect.objectContaining({ path: 'lines' })]);
      }
      expect(await counts()).toEqual(before);
      await stack.settle();
    });

    it('refuses receipts and transfers that would take on hand past 2^31 - 1 with 409, changing nothing', async () => {
      await seedCatalog(stack, [{ code: 'big', priority: 5 }], ['HUGE']);
      const lines = (n: number) => Array.from({ length: n }, () => ({ sku: 'HUGE', quantity: 100_000_000 }));
      await stack.settle(); // the worker's reservations are done before counting
      const before = await counts();
      const tooMuch = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'big',
        reference: 'huge-1',
        lines: lines(22),
      });
      expect(tooMuch.status).toBe(409);
      expect(tooMuch.body.error.code).toBe('stock_limit');
      expect(await counts()).toEqual(before);

      expect(
        (
          await stack.api('POST', '/api/stock/receipts', {
            warehouse: 'big',
            reference: 'huge-2',
            lines: lines(21),
          })
        ).status,
      ).toBe(201);
      const more = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'big',
        reference: 'huge-3',
        lines: [{ sku: 'HUGE', quantity: 100_000_000 }],
      });
      expect(more.status).toBe(409);
      const adjust = await stack.api('POST', '/api/stock/adjustments', {
        warehouse: 'big',
        reason: 'count',
        lines: [{ sku: 'HUGE', delta: 100_000_000 }],
      });
      expect(adjust.status).toBe(409);
      await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'huge-main',
        lines: [{ sku: 'HUGE', quantity: 100_000_000 }],
      });
      const transfer = await stack.api('POST', '/api/stock/transfers', {
        from: 'main',
        to: 'big',
        reference: 'huge-t',
        lines: [{ sku: 'HUGE', quantity: 100_000_000 }],
      });
      expect(transfer.status).toBe(409);
      expect(transfer.body.error.code).toBe('stock_limit');
      const stock = await stack.api('GET', '/api/stock/HUGE');
      expect(stock.body.warehouses).toEqual(
        expect.arrayContaining([
          { warehouse: 'big', onHand: 2_100_000_000, reserved: 0, available: 2_100_000_000 },
          { warehouse: 'main', onHand: 100_000_000, reserved: 0, available: 100_000_000 },
        ]),
      );
    });

    it('takes a receipt retried with the same lines in another order as the same receipt', async () => {
      const first = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'R-order',
        lines: [
          { sku: 'A1', quantity: 3 },
          { sku: 'B2', quantity: 4 },
        ],
      });
      expect(first.status).toBe(201);
      const movements = await count('stock_movements');
      const retried = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'MAIN',
        reference: 'R-order',
        lines: [
          { sku: 'b2', quantity: 4 },
          { sku: 'A1', quantity: 3 },
        ],
      });
      expect(retried).toEqual({
        status: 200,
        body: { documentId: first.body.documentId, duplicate: true, filledOrders: [] },
      });
      const changed = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'R-order',
        lines: [
          { sku: 'B2', quantity: 3 },
          { sku: 'A1', quantity: 4 },
        ],
      });
      expect(changed.status).toBe(409);
      expect(await count('stock_movements')).toBe(movements);
    });

    it('refuses order ids in paths that are not plain digits', async () => {
      for (const id of ['1e3', '0x10', '-1', '1.5']) {
        const r = await stack.api('GET', `/api/orders/${id}`);
        expect(r.status, id).toBe(400);
        expect(r.body.error.code).toBe('invalid_parameter');
      }
    });
  });

  describe('NUL characters', () => {
    it('refuses them in every string of a body (422) or a query (400), naming the field, storing nothing', async () => {
      await stack.settle(); // the worker's reservations are done before counting
      const before = await counts();
      const order = await stack.api('POST', '/api/orders', {
        externalId: 'nul\u0000id',
        currency: 'EUR',
        customer: { code: 'C\u00001', name: 'Jane\u0000' },
        lines: [{ sku: 'B2\u0000', quantity: 1, unitPrice: 1 }],
      });
      expect(order.status).toBe(422);
      expect(order.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
        'customer.code',
        'customer.name',
        'externalId',
        'lines.0.sku',
      ]);
      const cases: [string, string, unknown][] = [
        [
          'POST',
          '/api/stock/receipts',
          { warehouse: 'main', reference: 'r\u0000', lines: [{ sku: 'B2', quantity: 1 }] },
        ],
        [
          'POST',
          '/api/stock/adjustments',
          { warehouse: 'main', reason: 'x\u0000', lines: [{ sku: 'B2', delta: 1 }] },
        ],
        ['PUT', '/api/skus/NULSKU', { name: 'n\u0000', unitPrice: 1, currency: 'EUR' }],
        ['PUT', '/api/warehouses/nulwh', { name: 'n\u0000', priority: 1 }],
        ['POST', '/api/orders/1/cancel', { reason: 'r\u0000' }],
        ['POST', '/api/orders/1/shipments', { carrier: 'c\u0000' }],
        ['POST', '/api/orders', { ...orderBody('nul-extra', [{ sku: 'B2', quantity: 1 }]), 'x\u0000': 1 }],
      ];
      for (const [method, path, body] of cases) {
        const r = await stack.api(method, path, body);
        expect(r.status, path).toBe(422);
        expect(r.body.error.code).toBe('validation_failed');
        expect(JSON.stringify(r.body.error.details)).toContain('NUL');
      }
      const query = await stack.api('GET', '/api/orders?externalId=a%00b');
      expect(query.status).toBe(400);
      expect(await counts()).toEqual(before);
      expect(await stack.db('skus').where({ code: 'NULSKU' }).first()).toBeUndefined();
    });
  });

  describe('errors without customer data', () => {
    it('keeps bound values out of a failing insert error, the log and the answer', async () => {
      const lines: string[] = [];
      const log = pino(
        { level: 'info' },
        new Writable({
          write(chunk, _enc, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      );
      const app = createApp({
        db: stack.db,
        log,
        adminToken: ADMIN_TOKEN,
        enqueueOrders: async () => {},
        checkRedis: async () => {},
      });
      await stack.db.raw(
        sqlite
          ? "CREATE TRIGGER refuse_orders BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
          : "CREATE TRIGGER refuse_orders BEFORE INSERT ON orders FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'",
      );
      try {
        const secret = { code: 'CUST-SECRET-9', name: 'Jane Secretname', email: 'jane.secret@example.com' };
        const body = orderBody('secret-order-77', [{ sku: 'B2', quantity: 1 }], { customer: secret });
        const res = await app.request('/api/orders', {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(500);
        const answer = JSON.stringify(await jsonOrText(res));

        let thrown: Error | undefined;
        await recordOrder(stack.db, apiOrderDelivery(body as never, JSON.stringify(body))).catch(
          (err: Error) => {
            thrown = err;
          },
        );
        expect(thrown?.message).toContain('refused by the test');
        const logged = lines.join('\n');
        expect(logged).toContain('refused by the test');
        for (const text of [thrown!.message, thrown!.stack ?? '', logged, answer]) {
          for (const value of [secret.email, secret.name, secret.code, 'secret-order-77'])
            expect(text).not.toContain(value);
        }
      } finally {
        await stack.db.raw('DROP TRIGGER refuse_orders');
      }
      expect(await stack.db('orders').where({ external_id: 'secret-order-77' }).first()).toBeUndefined();
    });
  });

  describe('the codes-and-ids migration', () => {
    it('keeps existing data, and stops naming the codes that would become one instead of merging them', async () => {
      const database = sqlite ? await createSqliteDatabase() : await createTestDatabase({ poolMax: 2 });
      const { db } = database;
      try {
        const now = '2026-01-01 00:00:00.000';
        const row = { created_at: now, updated_at: now };
        await db('warehouses').insert({ code: 'Main', name: 'main', ...row });
        await db('skus').insert([
          { code: 'A1', name: 'a', unit_price: 1, currency: 'EUR', ...row },
          { code: 'CAFÉ', name: 'accent', unit_price: 1, currency: 'EUR', ...row },
        ]);
        await db('stock_levels').insert({
          sku_id: 1,
          warehouse_id: 1,
          on_hand: 7,
          reserved: 0,
          updated_at: now,
        });
        await db('customers').insert({ code: 'C1', name: 'Jane', ...row });
        await db('orders').insert({
          channel: 'api',
          external_id: 'ab-77',
          customer_id: 1,
          status: 'received',
          currency: 'EUR',
          total_amount: 5,
          placed_at: now,
          ...row,
        });
        await db('order_lines').insert({
          order_id: 1,
          line_no: 1,
          sku_code: 'a1',
          ordered: 1,
          unit_price: 5,
        });
        const tables = ['warehouses', 'skus', 'stock_levels', 'customers', 'orders', 'order_lines'];
        const snapshot = async () =>
          Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await db(t).select()])));
        const before = await snapshot();

        await codesAndIds.down(db);
        // A database whose codes compared exactly before (SQLite; MySQL with a binary default).
        if (!sqlite)
          await db.raw(
            'ALTER TABLE skus MODIFY code VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL',
          );
        await db('skus').insert({ code: 'a1', name: 'clash', unit_price: 1, currency: 'EUR', ...row });
        await expect(codesAndIds.up(db)).rejects.toThrow(/skus\.code: (A1 \/ a1|a1 \/ A1)/);
        expect(await db('skus').count({ n: '*' })).toEqual([{ n: 3 }]);

        await db('skus').where({ name: 'clash' }).delete();
        await codesAndIds.up(db);
        expect(await snapshot()).toEqual(before);
        // The rule holds after it: codes by any letter case, accents and outside ids apart.
        expect((await db('skus').where({ code: 'a1' }).first()).name).toBe('a');
        await db('skus').insert({ code: 'CAFE', name: 'plain', unit_price: 1, currency: 'EUR', ...row });
        expect((await db('skus').where({ code: 'CAFE' }).first()).name).toBe('plain');
        expect((await db('skus').where({ code: 'cafÉ' }).first()).name).toBe('accent');
        await expect(
          db('skus').insert({ code: 'cafÉ', name: 'x', unit_price: 1, currency: 'EUR', ...row }),
        ).rejects.toThrow();
        await db('orders').insert({ ...before.orders[0], id: 2, external_id: 'AB-77' });
        const joined = await db('order_lines as ol')
          .join('skus as s', 's.code', 'ol.sku_code')
          .select('s.id');
        expect(joined).toEqual([{ id: 1 }]);
      } finally {
        await database.drop();
      }
    });
  });
});

describe('column widths', () => {
  it('every column an API limit applies to holds that many characters (MariaDB)', async () => {
    const stack = await createStack();
    try {
      const widths: [string, string, number][] = [
        ['orders', 'external_id', LIMITS.externalIdLength],
        ['inbound_events', 'external_id', LIMITS.externalIdLength],
        ['inbound_events', 'delivery_id', 'order:'.length + LIMITS.externalIdLength],
        ['inbound_events', 'delivery_id', 'key:'.length + LIMITS.idempotencyKeyLength],
        ['order_lines', 'sku_code', LIMITS.lineSkuLength],
        ['skus', 'code', LIMITS.codeLength],
        ['warehouses', 'code', LIMITS.codeLength],
        ['customers', 'code', LIMITS.codeLength],
        ['customers', 'name', LIMITS.nameLength],
        ['customers', 'email', LIMITS.emailLength],
        ['skus', 'name', LIMITS.nameLength],
        ['stock_documents', 'reference', LIMITS.referenceLength],
        ['stock_documents', 'reason', LIMITS.nameLength],
      ];
      for (const [table, column, limit] of widths) {
        const [[row]] = (await stack.db.raw(
          'SELECT CHARACTER_MAXIMUM_LENGTH AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
          [table, column],
        )) as [{ n: number }[]];
        expect(Number(row!.n), `${table}.${column}`).toBeGreaterThanOrEqual(limit);
      }
    } finally {
      await stack.close();
    }
  });
});
