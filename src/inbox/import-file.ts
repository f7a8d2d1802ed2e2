import { parseOrderFile } from '../../connectors/excel-inbox/parse.js';
import { writeResultWorkbook } from '../../connectors/excel-inbox/result-workbook.js';
import { toOrderInput } from '../../connectors/excel-inbox/to-order-input.js';
import type { OrderFileInput, OrderOutcome, ParsedOrderFile } from '../../connectors/excel-inbox/types.js';
import type { Conn } from '../db/connection.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';

/**
 * Orders from spreadsheets, whether dropped into the inbox folder or uploaded to
 * `POST /api/orders/import`, share one channel: the same customer order number arriving both ways
 * is one order.
 */
export const EXCEL_CHANNEL = 'excel';

export interface ImportSummary {
  fileName: string;
  error?: string;
  rows: number;
  ordersAccepted: number;
  ordersRejected: number;
  /** Accepted orders that were already there from an earlier import of the same order. */
  ordersAlreadyImported: number;
}

export interface FileImport {
  parsed: ParsedOrderFile;
  outcomes: Map<string, OrderOutcome>;
  summary: ImportSummary;
}

/**
 * Parses one order file and takes every valid order through durable intake (orders of a file are
 * grouped into a few transactions by the IntakeBatcher). An order with an invalid row is rejected
 * whole and never half-imported; importing the same file again stores nothing new. When
 * `resultPath` is given, the result workbook (each row accepted or rejected, with the reason) is
 * written there.
 */
export async function importOrderFile(
  db: Conn,
  intake: IntakeBatcher,
  input: OrderFileInput,
  options: { defaultCurrency?: string; resultPath?: string } = {},
): Promise<FileImport> {
  const parsed = await parseOrderFile(
    input,
    options.defaultCurrency ? { defaultCurrency: options.defaultCurrency } : {},
  );
  const outcomes = new Map<string, OrderOutcome>();
  for (const rejected of parsed.rejectedOrders)
    outcomes.set(rejected.externalId, { accepted: false, reason: rejected.reason });
  // A customer sending a sheet wants to hear about an unknown item now, in the result workbook, not
  // find the order on hold later: such orders are rejected whole before intake.
  const known = await knownSkus(
    db,
    parsed.orders.flatMap((o) => o.lines.map((l) => l.sku)),
  );
  const importable = parsed.orders.filter((order) => {
    const unknown = [...new Set(order.lines.map((l) => l.sku).filter((sku) => !known.has(sku)))];
    if (unknown.length)
      outcomes.set(order.externalId, { accepted: false, reason: `unknown SKU ${unknown.join(', ')}` });
    return unknown.length === 0;
  });
  let already = 0;
  await Promise.all(
    importable.map(async (order) => {
      try {
        const result = await intake.submit({
          channel: EXCEL_CHANNEL,
          deliveryId: `order:${order.externalId}`,
          topic: 'orders/import',
          rawPayload: JSON.stringify({
            fileName: parsed.fileName,
            rows: order.rows,
            order: toOrderInput(order),
          }),
          order: toOrderInput(order),
          actor: `file:${parsed.fileName}`.slice(0, 64),
        });
        if (!result.created) already++;
        outcomes.set(order.externalId, {
          accepted: true,
          orderId: result.orderId,
          ...(result.created ? {} : { reason: 'already imported earlier' }),
        });
      } catch (err) {
        outcomes.set(order.externalId, {
          accepted: false,
          reason: `could not be stored: ${(err as Error).message}`,
        });
      }
    }),
  );
  if (options.resultPath) await writeResultWorkbook(parsed, outcomes, options.resultPath);
  const accepted = [...outcomes.values()].filter((o) => o.accepted).length;
  return {
    parsed,
    outcomes,
    summary: {
      fileName: parsed.fileName,
      ...(parsed.error ? { error: parsed.error } : {}),
      rows: parsed.rows.length,
      ordersAccepted: accepted,
      ordersRejected: outcomes.size - accepted,
      ordersAlreadyImported: already,
    },
  };
}

async function knownSkus(db: Conn, codes: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(codes)];
  const known = new Set<string>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db('skus')
      .whereIn('code', unique.slice(i, i + 500))
      .pluck('code');
    for (const code of rows) known.add(String(code));
  }
  return known;
}
