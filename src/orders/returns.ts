import { createHash } from 'node:crypto';
import { creditCancelledOrder } from '../billing/credit-notes.js';
import { type Conn, type Db, dbTime, isoTime, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { byPriority } from '../domain/allocation.js';
import { codeKey } from '../domain/codes.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { addToOutbox } from '../outbox/outbox.js';
import {
  applyStockDeltas,
  createAndLockStock,
  type StockDelta,
  warehousePriorities,
} from '../stock/stock-store.js';
import { fillBackorders } from './backorders.js';
import {
  type LineRow,
  type LockedOrder,
  ORDER_LINES,
  type OrderRow,
  withOrderLocked,
} from './order-store.js';

export interface ReturnRequest {
  /** Units per SKU; `restock` on a line overrides the request's for it (a channel refund may mix). */
  lines: readonly { sku: string; quantity: number; restock?: boolean | undefined }[];
  /** Put the units back on hand (and let backorders take them); false: they are written off. */
  restock: boolean;
  reason?: string | undefined;
  /** Where restocked units go; absent: back where they shipped from. */
  warehouse?: string | undefined;
  /** The caller's own id for this return (an RMA, a channel's refund id): a repeat is the same return. */
  reference?: string | undefined;
  /** `api` or the channel the refund came from. */
  source?: string | undefined;
}

export interface ReturnResult {
  returnId: number;
  order: OrderRow;
  duplicate: boolean;
  lines: { sku: string; quantity: number; warehouse: string | null }[];
  /** Orders whose backorders took the restocked units. */
  filledOrders: number[];
  /** Credit notes issued for returned units that were invoiced. */
  creditNotes: string[];
}

/** Statuses of an order that has shipped something and may take goods back. */
export const RETURNABLE: readonly string[] = ['partially_shipped', 'shipped', 'delivered', 'completed'];

/**
 * Records goods coming back after they shipped: each line's `returned` grows (never beyond what
 * shipped), restocked units go back on hand with ledger rows (`return`) in the warehouse they
 * shipped from (or the one named), and once that has committed, waiting backorders take them like a
 * receipt's. The order keeps its status; its history says what came back. The order is locked
 * first, then its stock rows. A repeat with the same `reference` and the same lines is the same
 * return (`duplicate`); the same reference with other lines is refused.
 */
export async function returnGoods(
  db: Db,
  orderId: number,
  request: ReturnRequest,
  actor: string,
): Promise<ReturnResult> {
  const result = await withOrderLocked(db, orderId, (tx, locked) => returnLocked(tx, locked, request, actor));
  const filledOrders = result.restocked.length > 0 ? await fillBackorders(db, result.restocked, actor) : [];
  const lines = result.duplicate ? await returnLines(db, result.returnId) : result.lines;
  const creditNotes = result.duplicate ? await returnCreditNotes(db, result.returnId) : result.creditNotes;
  return {
    returnId: result.returnId,
    order: result.order,
    duplicate: result.duplicate,
    lines,
    filledOrders,
    creditNotes,
  };
}

/** What `returnLocked` did; `restocked` are the SKUs backorders may take once the caller has committed. */
export interface LockedReturn {
  returnId: number;
  order: OrderRow;
  duplicate: boolean;
  lines: ReturnResult['lines'];
  restocked: number[];
  creditNotes: string[];
}

/**
 * `returnGoods` inside the caller's transaction, on an order the caller has locked
 * (`lockOrderForChange`): the order's stock rows are locked next, the invoice sequence (a credit
 * note) last. Backorders are left to the caller, after commit (`restocked`).
 */
export async function returnLocked(
  tx: Tx,
  locked: LockedOrder,
  request: ReturnRequest,
  actor: string,
  now = dbTime(),
): Promise<LockedReturn> {
  const { order, lines, allocations } = locked;
  const orderId = order.id;
  const hash = requestHash(request);
  if (request.reference !== undefined) {
    const existing = await tx('order_returns')
      .where({ order_id: orderId, reference: request.reference })
      .first('id', 'request_hash');
    if (existing) {
      if (existing.request_hash !== hash)
        throw unprocessable(
          'return_reference_reused',
          `return ${request.reference} of order ${orderId} was recorded with other lines`,
        );
      return {
        returnId: Number(existing.id),
        order,
        duplicate: true,
        lines: [],
        restocked: [],
        creditNotes: [] as string[],
      };
    }
  }
  if (!RETURNABLE.includes(order.status))
    throw conflict('not_returnable', `an order in status ${order.status} has shipped nothing to return`, {
      status: order.status,
    });
  const taken = planReturn(lines, request.lines, request.restock);

  const priorities = await warehousePriorities(tx);
  let into: number | null = null;
  if (taken.some((t) => t.restock) && request.warehouse !== undefined) {
    const w = await tx('warehouses').where({ code: request.warehouse }).first('id');
    if (!w) throw unprocessable('unknown_warehouse', `no warehouse ${request.warehouse}`);
    into = Number(w.id);
  }
  // Units already restocked per (line, warehouse): a warehouse takes back at most what it shipped.
  const before = await tx('order_return_lines')
    .whereIn(
      'order_line_id',
      lines.map((l) => l.id),
    )
    .whereNotNull('warehouse_id')
    .select('order_line_id', 'warehouse_id')
    .sum({ n: 'quantity' })
    .groupBy('order_line_id', 'warehouse_id');
  const backAlready = new Map(
    (before as Record<string, unknown>[]).map((r) => [`${r.order_line_id}:${r.warehouse_id}`, Number(r.n)]),
  );

  const [created] = await tx('order_returns').insert(
    {
      order_id: orderId,
      reference: request.reference ?? null,
      source: request.source ?? 'api',
      restock: taken.some((t) => t.restock),
      reason: request.reason ?? null,
      actor,
      request_hash: hash,
      created_at: now,
    },
    ['id'],
  );
  const returnId = Number(typeof created === 'object' ? created.id : created);
  const batch = new WriteBatch(tx);
  const deltas: StockDelta[] = [];
  const out: ReturnResult['lines'] = [];
  for (const { line, quantity, restock } of taken) {
    let places: { warehouseId: number; quantity: number }[] = [];
    if (restock) {
      if (into !== null) places = [{ warehouseId: into, quantity }];
      else {
        let left = quantity;
        const shippedFrom = byPriority(
          allocations
            .filter((a) => a.lineId === line.id && a.shipped > 0)
            .map((a) => ({
              ...a,
              priority: priorities.get(a.warehouseId)?.priority ?? 0,
              code: priorities.get(a.warehouseId)?.code ?? '',
            })),
        );
        for (const a of shippedFrom) {
          const room = a.shipped - (backAlready.get(`${line.id}:${a.warehouseId}`) ?? 0);
          const take = Math.min(room, left);
          if (take <= 0) continue;
          places.push({ warehouseId: a.warehouseId, quantity: take });
          left -= take;
        }
        // Shipped before allocations were kept per warehouse: the first warehouse it shipped from.
        if (left > 0) {
          const first = shippedFrom[0]?.warehouseId;
          if (first === undefined)
            throw conflict(
              'no_warehouse',
              `line ${line.lineNo}: where ${line.sku} shipped from is unknown; name a warehouse`,
            );
          places.push({ warehouseId: first, quantity: left });
        }
      }
    }
    for (const p of places) {
      deltas.push({
        skuId: line.skuId as number,
        warehouseId: p.warehouseId,
        dOnHand: p.quantity,
        dReserved: 0,
      });
      batch.addSql(
        'INSERT INTO order_return_lines (return_id, order_line_id, quantity, warehouse_id) VALUES (?, ?, ?, ?)',
        [returnId, line.id, p.quantity, p.warehouseId],
      );
      out.push({
        sku: line.sku,
        quantity: p.quantity,
        warehouse: priorities.get(p.warehouseId)?.code ?? null,
      });
    }
    if (places.length === 0) {
      batch.addSql(
        'INSERT INTO order_return_lines (return_id, order_line_id, quantity, warehouse_id) VALUES (?, ?, ?, NULL)',
        [returnId, line.id, quantity],
      );
      out.push({ sku: line.sku, quantity, warehouse: null });
    }
    // Guarded: never more back than shipped, whatever ran before.
    batch.addSql(
      `UPDATE ${ORDER_LINES} SET returned = returned + ? WHERE id = ? AND returned + ? <= shipped`,
      [quantity, line.id, quantity],
      {
        affected: 1,
        error: () => conflict('more_than_shipped', `line ${line.lineNo}: more returned than shipped`),
      },
    );
    line.returned += quantity;
  }
  const restocked = [...new Set(deltas.map((d) => d.skuId))];
  if (deltas.length > 0) {
    // The stock rows after the order (lock order), created when the warehouse never held the SKU.
    const stock = await createAndLockStock(tx, deltas, now);
    applyStockDeltas(batch, stock, deltas, 'return', { type: 'return', id: returnId }, now);
    addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: restocked } }], now);
  }
  const what = out.map((l) => `${l.quantity} × ${l.sku}`).join(', ');
  batch.addSql(
    'INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [
      orderId,
      order.status,
      order.status,
      `returned ${what}${restockNote(taken)}${request.reason ? `: ${request.reason}` : ''}`.slice(0, 255),
      actor,
      now,
    ],
  );
  await batch.flush();
  // Units that came back are no longer billed: an invoiced line gets a credit note against its
  // invoice (the invoice sequence is locked last, after the stock rows above).
  const creditNotes = await creditCancelledOrder(
    tx,
    orderId,
    `return${request.reference ? ` ${request.reference}` : ''}${request.reason ? `: ${request.reason}` : ''}`,
    undefined,
    { shipping: false },
  );
  if (creditNotes.length > 0)
    await tx('order_returns')
      .where({ id: returnId })
      .update({ credit_notes: JSON.stringify(creditNotes.map((n) => n.number)) });
  return {
    returnId,
    order,
    duplicate: false,
    lines: out,
    restocked,
    creditNotes: creditNotes.map((n) => n.number),
  };
}

function restockNote(taken: readonly { restock: boolean }[]): string {
  if (taken.every((t) => t.restock)) return ' (restocked)';
  return taken.some((t) => t.restock) ? ' (partly restocked)' : ' (not restocked)';
}

/** Which order lines give back how many units: a SKU on several lines is taken line by line. */
function planReturn(lines: readonly LineRow[], wanted: ReturnRequest['lines'], restockAll: boolean) {
  const left = new Map(lines.map((l) => [l.id, l.shipped - l.returned]));
  const taken = new Map<string, { line: LineRow; quantity: number; restock: boolean }>();
  for (const w of wanted) {
    const candidates = lines.filter((l) => codeKey(l.sku) === codeKey(w.sku));
    if (candidates.length === 0)
      throw unprocessable('not_on_order', `${w.sku} is not on this order`, { sku: w.sku });
    let need = w.quantity;
    for (const line of candidates) {
      const take = Math.min(left.get(line.id) ?? 0, need);
      if (take <= 0) continue;
      left.set(line.id, (left.get(line.id) ?? 0) - take);
      const restock = w.restock ?? restockAll;
      const key = `${line.id}:${restock}`;
      const t = taken.get(key) ?? { line, quantity: 0, restock };
      t.quantity += take;
      taken.set(key, t);
      need -= take;
      if (need === 0) break;
    }
    if (need > 0) {
      const returnable = candidates.reduce((n, l) => n + l.shipped - l.returned, 0);
      throw conflict(
        'more_than_shipped',
        `${w.sku}: ${w.quantity} to return, but ${returnable} shipped and not yet returned`,
        { sku: w.sku, quantity: w.quantity, returnable },
      );
    }
  }
  return [...taken.values()];
}

function requestHash(r: ReturnRequest): string {
  const lines = [...r.lines]
    .map((l) =>
      l.restock === undefined ? [codeKey(l.sku), l.quantity] : [codeKey(l.sku), l.quantity, l.restock],
    )
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return createHash('sha256')
    .update(JSON.stringify({ lines, restock: r.restock, warehouse: r.warehouse ?? null }))
    .digest('hex');
}

async function returnLines(db: Conn, returnId: number) {
  const rows = await db('order_return_lines as rl')
    .join(`${ORDER_LINES} as ol`, 'ol.id', 'rl.order_line_id')
    .leftJoin('warehouses as w', 'w.id', 'rl.warehouse_id')
    .where('rl.return_id', returnId)
    .orderBy('rl.id')
    .select('ol.sku_code', 'rl.quantity', 'w.code as warehouse');
  return rows.map((r) => ({
    sku: String(r.sku_code),
    quantity: Number(r.quantity),
    warehouse: r.warehouse ?? null,
  }));
}

async function returnCreditNotes(db: Conn, returnId: number): Promise<string[]> {
  const row = await db('order_returns').where({ id: returnId }).first('credit_notes');
  const v = row?.credit_notes;
  return typeof v === 'string' && v !== '' ? (JSON.parse(v) as string[]) : [];
}

/** The returns of an order, oldest first. */
export async function orderReturns(db: Conn, orderId: number) {
  if (!(await db('orders').where({ id: orderId }).first('id'))) throw notFound(`order ${orderId}`);
  const returns = await db('order_returns').where({ order_id: orderId }).orderBy('id');
  return Promise.all(
    returns.map(async (r) => ({
      id: Number(r.id),
      reference: r.reference ?? null,
      source: String(r.source),
      restock: Boolean(Number(r.restock)),
      reason: r.reason ?? null,
      actor: String(r.actor),
      at: isoTime(r.created_at),
      lines: await returnLines(db, Number(r.id)),
      creditNotes:
        typeof r.credit_notes === 'string' && r.credit_notes !== '' ? JSON.parse(r.credit_notes) : [],
    })),
  );
}
