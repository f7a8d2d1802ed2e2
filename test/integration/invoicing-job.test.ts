import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_JOBS } from '../../jobs/index.js';
import { checkInvariants } from '../helpers/invariants.js';
import { jobContext } from '../helpers/job-context.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

/** The nightly `invoicing` job, as the scheduler and `stockbridge run invoicing` run it. */
describe('the invoicing job', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack();
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['INK']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [{ sku: 'INK', quantity: 10 }],
    });
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is registered, and issues each shipment of the day once however often it runs', async () => {
    const job = SCHEDULED_JOBS.find((j) => j.name === 'invoicing');
    expect(job).toMatchObject({ period: 'day' });
    expect(
      (await stack.api('PUT', '/api/customers/INKCO', { name: 'Ink Co', currency: 'EUR' })).status,
    ).toBeLessThan(300);
    const created = await stack.api(
      'POST',
      '/api/orders',
      orderBody('INK-1', [{ sku: 'INK', quantity: 3 }], { customer: { code: 'INKCO' } }),
    );
    await stack.settle();
    expect((await stack.api('POST', `/api/orders/${created.body.id}/shipments`, {})).status).toBe(201);

    const period = new Date().toISOString().slice(0, 10);
    const ctx = jobContext(stack.db, { period });
    const first = await job!.run(ctx);
    expect(first.counts).toMatchObject({ invoices: 1, shipments: 1 });
    expect(first.files).toHaveLength(1);
    expect(existsSync(path.join(ctx.outputDir, first.files![0]!))).toBe(true);
    // Again (a second daemon, a rerun): nothing more.
    const again = await job!.run(jobContext(stack.db, { period }));
    expect(again.counts).toMatchObject({ invoices: 0, shipments: 0 });
    const invoices = (await stack.api('GET', '/api/invoices?customer=INKCO')).body.items;
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ total: 3000 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
