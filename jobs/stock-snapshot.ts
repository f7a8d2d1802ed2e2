import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { ScheduledJob } from './types.js';

/** Column headers, in both languages of the documents. */
const HEADER = [
  'SKU / 货号',
  'Name / 名称',
  'Warehouse / 仓库',
  'On hand / 在库',
  'Reserved / 已占用',
  'Available / 可用',
];

/** A CSV field: quoted when it holds a separator, a quote or a line break; never read as a formula. */
function field(value: string | number): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Every night (01:00 business time), the stock of every SKU in every warehouse as the run finds it,
 * as a CSV file (UTF-8 with a byte order mark, so that Excel reads the Chinese headers):
 * `stock-<date>.csv`, the date being the business day just ended.
 */
export const stockSnapshot: ScheduledJob = {
  name: 'stock-snapshot',
  schedule: '0 1 * * *',
  period: 'day',
  // Not caught up: stock read later is not the stock of a missed night.
  async run({ db, outputDir, period, progress }) {
    const [row] = (await db('stock_levels').count({ n: '*' })) as Array<{ n: number | string }>;
    const total = Number(row?.n ?? 0);
    const name = `stock-${period}.csv`;
    const out = createWriteStream(path.join(outputDir, name), { flags: 'wx' });
    out.write(`\uFEFF${HEADER.map(field).join(',')}\r\n`);
    let done = 0;
    let lastKey = { sku: 0, warehouse: 0 };
    for (;;) {
      // Pages by the primary key, so that a large catalogue is never read at once.
      const rows = (await db('stock_levels as l')
        .join('skus as s', 's.id', 'l.sku_id')
        .join('warehouses as w', 'w.id', 'l.warehouse_id')
        .where((q) =>
          q
            .where('l.sku_id', '>', lastKey.sku)
            .orWhere((r) =>
              r.where('l.sku_id', lastKey.sku).andWhere('l.warehouse_id', '>', lastKey.warehouse),
            ),
        )
        .orderBy([
          { column: 'l.sku_id', order: 'asc' },
          { column: 'l.warehouse_id', order: 'asc' },
        ])
        .limit(1000)
        .select(
          'l.sku_id',
          'l.warehouse_id',
          's.code as sku',
          's.name',
          'w.code as warehouse',
          'l.on_hand',
          'l.reserved',
        )) as Array<Record<string, string | number>>;
      if (rows.length === 0) break;
      for (const r of rows) {
        const onHand = Number(r.on_hand);
        const reserved = Number(r.reserved);
        const line = [r.sku!, r.name!, r.warehouse!, onHand, reserved, onHand - reserved]
          .map(field)
          .join(',');
        if (!out.write(`${line}\r\n`))
          await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
      const last = rows.at(-1)!;
      lastKey = { sku: Number(last.sku_id), warehouse: Number(last.warehouse_id) };
      done += rows.length;
      progress(done, Math.max(total, done));
    }
    out.end();
    await finished(out);
    progress(done, done);
    return { counts: { rows: done }, files: [name] };
  },
};
