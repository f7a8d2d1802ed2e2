import { bilingual } from '../../connectors/excel-inbox/bilingual.js';
import { parseOrderFile } from '../../connectors/excel-inbox/parse.js';
import { writeResultWorkbook } from '../../connectors/excel-inbox/result-workbook.js';
import { toOrderInput } from '../../connectors/excel-inbox/to-order-input.js';
import type {
  OrderFileInput,
  OrderOutcome,
  ParsedOrder,
  ParsedOrderFile,
} from '../../connectors/excel-inbox/types.js';
import type { Conn } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';

/**
 * Orders from spreadsheets, whether dropped into the inbox folder or uploaded to
 * `POST /api/orders/import`, share one channel: the same customer order number arriving both ways
 * is one order.
 */
export const EXCEL_CHANNEL = 'excel';

/** The reason of an order found stored with the same lines: accepted, and not stored twice. */
export const ALREADY_IMPORTED = bilingual('already imported earlier', '此前已导入，未重复保存');

export interface ImportSummary {
  fileName: string;
  error?: string;
  rows: number;
  ordersAccepted: number;
  ordersRejected: number;
  /** Accepted orders that were already there from an earlier import of the same order. */
  ordersAlreadyImported: number;
  /**
   * Orders (counted in `ordersRejected`) whose customer and order number were imported earlier with
   * other lines or currency: nothing was changed, and the result says so instead of "already imported".
   */
  ordersConflicting: number;
}

export interface FileImport {
  parsed: ParsedOrderFile;
  outcomes: Map<string, OrderOutcome>;
  summary: ImportSummary;
}

export interface ImportOptions {
  /** Currency of rows that name none. Default: the parser's (EUR). */
  defaultCurrency?: string;
  /** Where the result workbook is written; none when absent. */
  resultPath?: string;
  /** The sender's customer code (an e-mailed sheet): see `ParseOrderFileOptions.senderCustomer`. */
  senderCustomer?: string;
  /**
   * Who the orders' history names (at most 64 characters). When given, it also identifies this
   * import across runs: an order found stored whose first history row names the same actor was
   * stored by an earlier run of this import and is reported accepted, not "already imported".
   * Default: `file:<file name>`.
   */
  actor?: string;
}

/** Who stored the order: the actor of its first history row. */
async function firstActor(db: Conn, orderId: number): Promise<string | null> {
  const row = await db('order_events')
    .where({ order_id: orderId })
    .whereNull('from_status')
    .orderBy('id')
    .first('actor');
  return row ? String(row.actor) : null;
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
  options: ImportOptions = {},
): Promise<FileImport> {
  const parsed = await parseOrderFile(input, {
    ...(options.defaultCurrency ? { defaultCurrency: options.defaultCurrency } : {}),
    ...(options.senderCustomer ? { senderCustomer: options.senderCustomer } : {}),
  });
  const actor = (options.actor ?? `file:${parsed.fileName}`).slice(0, 64);
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
    const unknown = [...new Set(order.lines.map((l) => l.sku).filter((sku) => !known.has(codeKey(sku))))];
    if (unknown.length)
      outcomes.set(order.externalId, {
        accepted: false,
        reason: bilingual(`unknown SKU ${unknown.join(', ')}`, `货号 ${unknown.join('、')} 不存在`),
      });
    return unknown.length === 0;
  });
  let already = 0;
  let conflicting = 0;
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
          actor,
        });
        const conflict = result.created ? null : await conflictWithStored(db, result.orderId, order);
        // Stored by this very import on an earlier run (its process died before it could answer):
        // the customer hears "accepted", as the first run would have said.
        const own =
          !result.created && !conflict && options.actor && (await firstActor(db, result.orderId)) === actor;
        if (conflict) {
          conflicting++;
          outcomes.set(order.externalId, { accepted: false, reason: conflict, orderId: result.orderId });
          return;
        }
        const fresh = result.created || own;
        if (!fresh) already++;
        outcomes.set(order.externalId, {
          accepted: true,
          orderId: result.orderId,
          ...(fresh ? {} : { reason: ALREADY_IMPORTED }),
        });
      } catch (err) {
        outcomes.set(order.externalId, {
          accepted: false,
          reason: bilingual(
            `could not be stored: ${(err as Error).message}`,
            `保存失败：${(err as Error).message}`,
          ),
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
      ordersConflicting: conflicting,
    },
  };
}

/** The codes (as `codeKey`s: any letter case finds a SKU) of those SKUs that exist. */
async function knownSkus(db: Conn, codes: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(codes)];
  const known = new Set<string>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db('skus')
      .whereIn('code', unique.slice(i, i + 500))
      .pluck('code');
    for (const code of rows) known.add(codeKey(String(code)));
  }
  return known;
}

/**
 * Why an order found already stored (same customer and order number) is not the one in the file,
 * or null when it is: same currency and the same lines (SKU, quantity, unit price), in any order.
 * A file taken while it was still being copied stored a truncated order; the complete file must
 * say so rather than report it "already imported".
 */
async function conflictWithStored(db: Conn, orderId: number, order: ParsedOrder): Promise<string | null> {
  const stored = await db('orders').where({ id: orderId }).first('currency');
  const lines = await db('order_lines')
    .where({ order_id: orderId })
    .select('sku_code', 'ordered', 'unit_price');
  const key = (sku: string, quantity: number, price: number) => `${sku}\u0000${quantity}\u0000${price}`;
  const storedKeys = lines
    .map((l) => key(String(l.sku_code), Number(l.ordered), Number(l.unit_price)))
    .sort();
  const fileKeys = order.lines.map((l) => key(l.sku, l.quantity, l.unitPrice)).sort();
  const same =
    stored?.currency === order.currency &&
    storedKeys.length === fileKeys.length &&
    storedKeys.every((k, i) => k === fileKeys[i]);
  if (same) return null;
  return bilingual(
    `conflict: order ${order.orderNo} of customer ${order.customerCode} was imported earlier ` +
      `(stockbridge order ${orderId}) with other lines or currency; nothing was changed. ` +
      'Send a change as a new order number, or ask us to amend the order',
    `冲突：客户 ${order.customerCode} 的订单 ${order.orderNo} 此前已导入（系统订单号 ${orderId}），` +
      '但订单行或币种不同；未做任何更改。如需修改，请使用新的订单号，或联系我们修改订单',
  );
}
