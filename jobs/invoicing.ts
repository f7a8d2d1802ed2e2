import path from 'node:path';
import { issueDueInvoices } from '../src/billing/invoicing-run.js';
import type { ScheduledJob } from './types.js';

/**
 * Every night (00:30 business time; the run covers the day just ended), the invoices that are due
 * (README "Invoices"): one per shipment for customers invoiced on shipment, one per confirmed order
 * for those invoiced on order, and on a month's last day one per periodic customer for that month's
 * shipments. Each shipment or order is invoiced once however often the run goes (a unique key on
 * what an invoice covers); the documents go to the run's folder. Missed nights are caught up, oldest
 * first, up to a week back.
 */
export const invoicing: ScheduledJob = {
  name: 'invoicing',
  schedule: '30 0 * * *',
  period: 'day',
  catchUp: 7,
  async run({ db, log, period, outputDir, progress, timeZone }) {
    const result = await issueDueInvoices(db, { period, timeZone, outputDir, log, progress });
    // The run records its files by name inside its folder.
    return { counts: result.counts, files: result.files.map((f) => path.relative(outputDir, f)) };
  },
};
