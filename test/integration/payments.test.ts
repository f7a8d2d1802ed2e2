import iconv from 'iconv-lite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/billing/payment-import.js';
import { processOrder } from '../../src/orders/processing.js';
import { block, track, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

/*
 * Payments (issue 14) through the HTTP app on MariaDB: receipts, on account, the bank statement
 * import, exposure of unpaid invoices, channel-paid orders settled when invoiced, overdue holds,
 * and two receipts racing for one invoice. Orders are processed with `processOrder` directly (no
 * worker), invoices issued with `POST /api/invoices {order}`. Every order line is 1000 EUR a unit.
 */

const TODAY = new Date().toISOString().slice(0, 10);

function suite(name: string, options: { sqlite?: boolean }) {
  describe(`payments on ${name}`, () => {
    let stack: TestStack;
    let seq = 0;

    const customer = async (code: string, body: Record<string, unknown> = {}) => {
      const res = await stack.api('PUT', `/api/customers/${code}`, { name: code, currency: 'EUR', ...body });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    };
    const order = async (code: string, quantity = 1) => {
      const res = await stack.api('POST', '/api/orders', {
        externalId: `pay-${++seq}`,
        currency: 'EUR',
        lines: [{ sku: 'PAY-1', quantity, unitPrice: 1000 }],
        customer: { code },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const id = res.body.id as number;
      await processOrder(stack.db, id);
      return id;
    };
    /** An invoice of a new confirmed order of `quantity` units, with the due date given. */
    const invoice = async (code: string, quantity: number, dueDate?: string) => {
      const id = await order(code, quantity);
      const res = await stack.api('POST', '/api/invoices', { order: id });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      if (dueDate) await stack.db('invoices').where({ id: res.body.id }).update({ due_date: dueDate });
      return { number: res.body.number as string, total: res.body.total as number, orderId: id };
    };
    const pay = (body: Record<string, unknown>) =>
      stack.api('POST', '/api/payments', {
        currency: 'EUR',
        receivedOn: TODAY,
        method: 'bank_transfer',
        ...body,
      });
    const inv = async (number: string) => (await stack.api('GET', `/api/invoices/${number}`)).body;
    const credit = async (code: string) => (await stack.api('GET', `/api/customers/${code}/credit`)).body;

    beforeAll(async () => {
      stack = await createStack({ poolMax: 30, ...options });
      await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['PAY-1']);
      const r = await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'opening',
        lines: [{ sku: 'PAY-1', quantity: 100_000 }],
      });
      expect(r.status).toBeLessThan(300);
    });
    afterAll(async () => {
      await stack?.close();
    });
    beforeEach(async () => {
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('applies a receipt to the oldest open invoices first (due date, issue date, id); the rest stays on account', async () => {
      await customer('OLD');
      const c = await invoice('OLD', 3, '2026-03-01');
      const a = await invoice('OLD', 2, '2026-01-01');
      const b = await invoice('OLD', 1, '2026-02-01');
      expect(a.total).toBe(2000);
      const res = await pay({ customer: 'OLD', amount: 2000 + 1000 + 500, reference: 'BANK-1' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        customer: 'OLD',
        amount: 3500,
        applied: 3500,
        unapplied: 0,
        source: 'api',
        allocations: [
          { invoice: a.number, amount: 2000 },
          { invoice: b.number, amount: 1000 },
          { invoice: c.number, amount: 500 },
        ],
      });
      expect(await inv(a.number)).toMatchObject({ paid: 2000, credited: 0, open: 0, status: 'paid' });
      expect(await inv(c.number)).toMatchObject({ paid: 500, open: 2500, status: 'overdue' });

      // More than is open: the remainder stays on account.
      const more = await pay({ customer: 'OLD', amount: 4000, reference: 'BANK-2' });
      expect(more.body).toMatchObject({
        applied: 2500,
        unapplied: 1500,
        allocations: [{ invoice: c.number, amount: 2500 }],
      });

      // A later invoice takes it when applied.
      const d = await invoice('OLD', 1);
      expect((await inv(d.number)).status).toBe('open');
      const applied = await stack.api('POST', `/api/payments/${more.body.id}/apply`);
      expect(applied.status, JSON.stringify(applied.body)).toBe(200);
      expect(applied.body.appliedNow).toEqual([{ invoice: d.number, amount: 1000 }]);
      expect(applied.body.payment).toMatchObject({ unapplied: 500, applied: 3500 });
      expect(await inv(d.number)).toMatchObject({ paid: 1000, open: 0, status: 'paid' });
      // Nothing open any more: applying again applies nothing.
      expect((await stack.api('POST', `/api/payments/${more.body.id}/apply`)).body.appliedNow).toEqual([]);

      const one = await stack.api('GET', `/api/payments/${more.body.id}`);
      expect(one.body.allocations.map((x: { invoice: string }) => x.invoice)).toEqual([c.number, d.number]);
      const list = await stack.api('GET', '/api/payments?customer=old&limit=1');
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0].id).toBe(more.body.id);
      const next = await stack.api(
        'GET',
        `/api/payments?customer=OLD&limit=1&cursor=${list.body.nextCursor}`,
      );
      expect(next.body.items[0].id).toBe(res.body.id);
      expect(next.body.nextCursor).toBeNull();
      expect(
        (await stack.api('GET', `/api/payments?customer=OLD&from=2000-01-01&to=2000-12-31`)).body.items,
      ).toEqual([]);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('applies to named invoices only, in the order named; a bad one refuses the whole receipt (422)', async () => {
      await customer('NAMED');
      await customer('OTHER');
      const a = await invoice('NAMED', 1, '2026-01-01');
      const b = await invoice('NAMED', 2, '2026-02-01');
      const foreign = await invoice('OTHER', 1);
      const res = await pay({
        customer: 'NAMED',
        amount: 2500,
        reference: 'N-1',
        invoices: [b.number, a.number],
      });
      expect(res.status).toBe(201);
      expect(res.body.allocations).toEqual([
        expect.objectContaining({ invoice: b.number, amount: 2000 }),
        expect.objectContaining({ invoice: a.number, amount: 500 }),
      ]);

      const bad = await pay({
        customer: 'NAMED',
        amount: 100,
        reference: 'N-2',
        invoices: [a.number, foreign.number, b.number, 'INV-2026-999999'],
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details.invoices).toEqual([
        { invoice: foreign.number, reason: 'other_customer' },
        { invoice: b.number, reason: 'not_open' },
        { invoice: 'INV-2026-999999', reason: 'not_found' },
      ]);
      const usd = await pay({
        customer: 'NAMED',
        amount: 100,
        currency: 'USD',
        reference: 'N-3',
        invoices: [a.number],
      });
      expect(usd.status).toBe(422);
      expect(usd.body.error.details.invoices).toEqual([{ invoice: a.number, reason: 'other_currency' }]);
      expect(await stack.db('payments').whereIn('reference', ['N-2', 'N-3']).count({ n: '*' })).toEqual([
        { n: 0 },
      ]);
      expect((await pay({ customer: 'NOBODY', amount: 100, reference: 'N-4' })).status).toBe(422);
      expect((await pay({ customer: 'NAMED', amount: 0, reference: 'N-5' })).status).toBe(422);
      expect((await pay({ customer: 'NAMED', amount: 10, reference: 'N-6', method: 'channel' })).status).toBe(
        422,
      );
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('is idempotent on (customer, reference): the same figures answer the payment, others are 409', async () => {
      await customer('IDEM');
      const a = await invoice('IDEM', 1);
      const body = { customer: 'IDEM', amount: 600, reference: 'WIRE-77', note: 'first half' };
      const first = await pay(body);
      expect(first.status).toBe(201);
      const again = await pay({ ...body, customer: 'idem' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const other = await pay({ ...body, amount: 700 });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('payment_reference_reused');
      expect((await inv(a.number)).paid).toBe(600);
      // Another customer may use the same reference.
      await customer('IDEM2');
      expect((await pay({ ...body, customer: 'IDEM2' })).status).toBe(201);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('imports a bank statement in UTF-8 (English headers) and GB18030 (Chinese headers); a repeated file records nothing', async () => {
      await customer('CSV1');
      await customer('CSV2');
      const a = await invoice('CSV1', 1, '2026-01-10');
      const b = await invoice('CSV2', 2, '2026-01-11');
      const utf8 = [
        'Date,Amount,Currency,Reference,Customer,Method,Note',
        '2026-11-30,10.00,EUR,STMT-1,CSV1,bank_transfer,invoice paid',
        '2026/11/30,5.00,EUR,STMT-2,NOBODY,,unknown customer',
        '2026-11-30,abc,EUR,STMT-3,CSV2,,bad amount',
        '2026-11-30,12.34.5,EUR,STMT-4,CSV2,,bad amount too',
        '',
      ].join('\r\n');
      const post = (data: string | Buffer, name: string) =>
        stack.app.request(`/api/payments/import?fileName=${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'text/csv' },
          body: data,
        });
      const r1 = await post(utf8, 'statement.csv');
      const j1 = (await r1.json()) as ImportResult;
      expect(r1.status, JSON.stringify(j1)).toBe(201);
      expect(j1).toMatchObject({
        repeatedFile: false,
        rows: { total: 4, recorded: 1, repeated: 0, refused: 3 },
      });
      expect(j1.refused.map((x: { row: number; code: string }) => [x.row, x.code])).toEqual([
        [3, 'unknown_customer'],
        [4, 'invalid_amount'],
        [5, 'invalid_amount'],
      ]);
      expect(await inv(a.number)).toMatchObject({ paid: 1000, status: 'paid' });
      const recorded = (await stack.api('GET', `/api/payments/${j1.payments[0]}`)).body;
      expect(recorded).toMatchObject({
        source: 'bank_csv',
        importId: j1.importId,
        reference: 'STMT-1',
        note: 'invoice paid',
      });

      // The same file again: the first import's result, nothing new.
      const r2 = await post(utf8, 'statement-again.csv');
      const j2 = (await r2.json()) as ImportResult;
      expect(r2.status).toBe(200);
      expect(j2).toEqual({ ...j1, repeatedFile: true, fileName: 'statement.csv' });
      expect(await stack.db('payments').where({ source: 'bank_csv' }).count({ n: '*' })).toEqual([{ n: 1 }]);

      // GB18030, Chinese headers and methods, a repeated reference from the first file.
      const gb = iconv.encode(
        [
          '日期,金额,币种,流水号,客户编码,方式,摘要',
          '20261201,15.00,EUR,建行-0001,CSV2,银行转账,货款',
          '2026-12-01,10.00,EUR,STMT-1,CSV1,bank_transfer,invoice paid',
          '2026-12-01,-3.00,EUR,建行-0002,CSV2,现金,退款',
          '2026-13-01,3.00,EUR,建行-0003,CSV2,现金,坏日期',
        ].join('\r\n'),
        'gb18030',
      );
      const r3 = await post(gb, '对账单.csv');
      const j3 = (await r3.json()) as ImportResult;
      expect(r3.status, JSON.stringify(j3)).toBe(201);
      expect(j3.rows).toEqual({ total: 4, recorded: 1, repeated: 0, refused: 3 });
      // STMT-1 in this file has another date: the same reference with other figures is refused.
      expect(j3.refused.map((x: { row: number; code: string }) => [x.row, x.code])).toEqual([
        [3, 'payment_reference_reused'],
        [4, 'invalid_amount'],
        [5, 'invalid_date'],
      ]);
      const p = (await stack.api('GET', `/api/payments/${j3.payments[0]}`)).body;
      expect(p).toMatchObject({
        reference: '建行-0001',
        note: '货款',
        method: 'bank_transfer',
        amount: 1500,
      });
      expect(await inv(b.number)).toMatchObject({ paid: 1500, open: 500, status: 'overdue' });

      // Not a statement at all, and too large.
      const noHeader = await post('foo,bar\n1,2\n', 'x.csv');
      expect(noHeader.status).toBe(422);
      const big = await post(Buffer.alloc(6 * 1024 * 1024, 0x41), 'big.csv');
      expect(big.status).toBe(413);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('counts unpaid invoices in the exposure until they are paid (and credit notes take them off)', async () => {
      await customer('EXPO', { creditLimit: { amount: 100_000, currency: 'EUR' } });
      const id = await order('EXPO', 3);
      expect((await credit('EXPO')).exposure).toMatchObject({
        openOrders: 3000,
        invoicedUnpaid: 0,
        total: 3000,
      });
      const shipment = await stack.api('POST', `/api/orders/${id}/shipments`, {});
      expect(shipment.status, JSON.stringify(shipment.body)).toBe(201);
      const res = await stack.api('POST', '/api/invoices', { shipment: shipment.body.shipmentId });
      expect(res.status).toBe(201);
      expect((await credit('EXPO')).exposure).toMatchObject({
        openOrders: 0,
        invoicedUnpaid: 3000,
        total: 3000,
      });
      const p = await pay({ customer: 'EXPO', amount: 1000, reference: 'E-1' });
      expect(p.status).toBe(201);
      expect((await credit('EXPO')).exposure).toMatchObject({ openOrders: 0, invoicedUnpaid: 2000 });
      // A credit note of one unit takes its amount off the unpaid side.
      const note = await stack.api('POST', `/api/invoices/${res.body.number}/credit-notes`, {
        lines: [{ sku: 'PAY-1', quantity: 1 }],
        reason: 'damaged',
      });
      expect(note.status, JSON.stringify(note.body)).toBe(201);
      expect((await credit('EXPO')).exposure.invoicedUnpaid).toBe(1000);
      expect(await inv(res.body.number)).toMatchObject({
        paid: 1000,
        credited: 1000,
        open: 1000,
        status: 'partly_paid',
      });
      const e2 = await pay({ customer: 'EXPO', amount: 5000, reference: 'E-2' });
      expect(e2.body).toMatchObject({ applied: 1000, unapplied: 4000 });
      expect((await credit('EXPO')).exposure).toMatchObject({ openOrders: 0, invoicedUnpaid: 0, total: 0 });
      // A credit note after payment: what is now paid beyond the total goes back on account.
      const late = await stack.api('POST', `/api/invoices/${res.body.number}/credit-notes`, {
        lines: [{ sku: 'PAY-1', quantity: 1 }],
        reason: 'returned after payment',
      });
      expect(late.status, JSON.stringify(late.body)).toBe(201);
      expect(await inv(res.body.number)).toMatchObject({
        paid: 1000,
        credited: 2000,
        open: 0,
        status: 'paid',
      });
      const back = (await stack.api('GET', `/api/payments/${e2.body.id}`)).body;
      expect(back).toMatchObject({ applied: 0, unapplied: 5000 });
      expect(back.allocations.map((a: { amount: number }) => a.amount)).toEqual([1000, -1000]);
      expect((await credit('EXPO')).exposure).toMatchObject({ openOrders: 0, invoicedUnpaid: 0, total: 0 });
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('settles an order paid on its channel when it is invoiced, once, with the payment on the channel', async () => {
      await customer('SHOP', { creditLimit: { amount: 100_000, currency: 'EUR' } });
      const res = await stack.api('POST', '/api/orders', {
        externalId: 'web-9001',
        currency: 'EUR',
        lines: [{ sku: 'PAY-1', quantity: 2, unitPrice: 1000 }],
        customer: { code: 'SHOP' },
      });
      expect(res.status).toBe(202);
      const id = res.body.id as number;
      // The API takes no such flag: channels set it (financial_status paid, displayFinancialStatus
      // PAID, date_paid: see connectors' normalize tests).
      await stack.db('orders').where({ id }).update({ paid_on_channel: true });
      await processOrder(stack.db, id);
      // Paid on the channel: no exposure at all (no counter is even made).
      expect((await credit('SHOP')).exposure?.total ?? 0).toBe(0);
      const issued = await stack.api('POST', '/api/invoices', { order: id });
      expect(issued.status).toBe(201);
      expect(await inv(issued.body.number)).toMatchObject({ paid: 2000, open: 0, status: 'paid' });
      const payments = await stack.api('GET', '/api/payments?customer=SHOP');
      expect(payments.body.items).toEqual([
        expect.objectContaining({
          reference: 'api:web-9001',
          source: 'channel',
          method: 'channel',
          channel: 'api',
          orderId: id,
          amount: 2000,
          unapplied: 0,
          allocations: [expect.objectContaining({ invoice: issued.body.number, amount: 2000 })],
        }),
      ]);
      expect((await credit('SHOP')).exposure?.total ?? 0).toBe(0);
      // Invoiced again (a second invoice of the same order is refused), the payment stays one.
      expect((await stack.api('POST', '/api/invoices', { order: id })).status).toBe(409);
      expect(await stack.db('payments').where({ order_id: id }).count({ n: '*' })).toEqual([{ n: 1 }]);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('an order paid on the channel and invoiced per shipment: its payment covers each invoice as it comes', async () => {
      await customer('SHOP2');
      const res = await stack.api('POST', '/api/orders', {
        externalId: 'web-9002',
        currency: 'EUR',
        lines: [{ sku: 'PAY-1', quantity: 3, unitPrice: 1000 }],
        customer: { code: 'SHOP2' },
      });
      const id = res.body.id as number;
      await stack.db('orders').where({ id }).update({ paid_on_channel: true });
      await processOrder(stack.db, id);
      const invoiceShipped = async (quantity: number) => {
        const shipment = await stack.api('POST', `/api/orders/${id}/shipments`, {
          lines: [{ sku: 'PAY-1', quantity }],
        });
        expect(shipment.status, JSON.stringify(shipment.body)).toBe(201);
        const issued = await stack.api('POST', '/api/invoices', { shipment: shipment.body.shipmentId });
        expect(issued.status).toBe(201);
        return issued.body.number as string;
      };
      const first = await invoiceShipped(1);
      expect(await inv(first)).toMatchObject({ total: 1000, paid: 1000, status: 'paid' });
      const [payment] = (await stack.api('GET', '/api/payments?customer=SHOP2')).body.items;
      expect(payment).toMatchObject({
        reference: 'api:web-9002',
        amount: 3000,
        applied: 1000,
        unapplied: 2000,
      });
      const second = await invoiceShipped(2);
      expect(await inv(second)).toMatchObject({ total: 2000, paid: 2000, status: 'paid' });
      const after = (await stack.api('GET', `/api/payments/${payment.id}`)).body;
      expect(after).toMatchObject({ applied: 3000, unapplied: 0 });
      expect(after.allocations.map((a: { invoice: string }) => a.invoice)).toEqual([first, second]);
      expect(await stack.db('payments').where({ order_id: id }).count({ n: '*' })).toEqual([{ n: 1 }]);
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('holds new orders of an overdueHold customer with an invoice past due (overdue_invoices); approval and payment let them through', async () => {
      await customer('LATE', { overdueHold: true, paymentTermsDays: 30 });
      expect((await stack.api('GET', '/api/customers/LATE')).body.overdueHold).toBe(true);
      const old = await invoice('LATE', 2, '2026-01-15');
      const held = await order('LATE');
      const view = (await stack.api('GET', `/api/orders/${held}`)).body;
      expect(view).toMatchObject({ status: 'on_hold', holdReason: 'overdue_invoices' });
      expect(view.holdDetails).toEqual([
        expect.objectContaining({
          code: 'overdue_invoices',
          figures: {
            customer: 'LATE',
            invoices: [{ number: old.number, dueDate: '2026-01-15', open: 2000, currency: 'EUR' }],
          },
        }),
      ]);
      // Release checks again: still overdue, held again.
      expect((await stack.api('POST', `/api/orders/${held}/release`)).status).toBe(200);
      await processOrder(stack.db, held);
      expect((await stack.api('GET', `/api/orders/${held}`)).body.status).toBe('on_hold');
      // An approval lets it through.
      const approved = await stack.api('POST', `/api/orders/${held}/approve`, { reason: 'promised to pay' });
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      await processOrder(stack.db, held);
      expect((await stack.api('GET', `/api/orders/${held}`)).body.status).toBe('confirmed');

      // Partly paid is still overdue; paid in full, new orders pass.
      await pay({ customer: 'LATE', amount: 1500, reference: 'L-1' });
      expect((await stack.api('GET', `/api/orders/${await order('LATE')}`)).body.holdReason).toBe(
        'overdue_invoices',
      );
      await pay({ customer: 'LATE', amount: 500, reference: 'L-2' });
      expect((await stack.api('GET', `/api/orders/${await order('LATE')}`)).body.status).toBe('confirmed');
      // A customer without the setting is not held for the same.
      await customer('LATE2');
      await invoice('LATE2', 1, '2026-01-15');
      expect((await stack.api('GET', `/api/orders/${await order('LATE2')}`)).body.status).toBe('confirmed');
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    // SQLite serialises writers: there is no row lock to queue behind.
    if (!options.sqlite)
      it('two receipts racing for the same invoice never over-apply it (forced interleaving)', async () => {
        await customer('RACE');
        const a = await invoice('RACE', 3);
        const [row] = await stack.db('customers').where({ code: 'RACE' }).select('id');
        // A blocker holds the customer row; both receipts queue behind it, then go at once.
        const blocker = await block(stack.db, 'SELECT id FROM customers WHERE id = ? FOR UPDATE', [row.id]);
        const one = track(pay({ customer: 'RACE', amount: 3000, reference: 'R-1' }));
        const two = track(pay({ customer: 'RACE', amount: 3000, reference: 'R-2' }));
        await waitForLockWaits(stack.db, 2, {
          table: 'customers',
          settled: () => (one.done || two.done ? 'a receipt finished while the customer was locked' : null),
        });
        await blocker.commit();
        const results = [await one.promise, await two.promise];
        expect(results.map((r) => r.status)).toEqual([201, 201]);
        const applied = results.map((r) => r.body.applied).sort();
        expect(applied).toEqual([0, 3000]);
        expect(results.map((r) => r.body.unapplied).sort()).toEqual([0, 3000]);
        expect(await inv(a.number)).toMatchObject({ paid: 3000, open: 0, status: 'paid' });
        expect(await checkInvariants(stack.db)).toEqual([]);
      });
  });
}

suite('MariaDB', {});
suite('embedded SQLite', { sqlite: true });
