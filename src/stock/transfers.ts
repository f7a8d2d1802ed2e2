import { createHash, randomUUID } from 'node:crypto';
import { currentBusinessTimeZone } from '../customers/price-book.js';
import { type Conn, type Db, dbTime, dialectOf, forUpdate, isoTime, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { codeKey } from '../domain/codes.js';
import { LIMITS } from '../domain/order-input.js';
import { businessDate, type PriceItem, priceBook, resolvePrice } from '../domain/pricing.js';
import { planTransferReceipt } from '../domain/transfers.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { fillBackorders } from '../orders/backorders.js';
import { addToOutbox } from '../outbox/outbox.js';
import { resolveCodes } from './stock-service.js';
import {
  applyStockDeltas,
  createAndLockStock,
  forgetWarehousePriorities,
  IN_TRANSIT,
} from './stock-store.js';

/*
 * Transfers between the group's companies (集团内部调拨): an intra-group sale. Sending moves the
 * stock out of the sending warehouse into the receiving company's in-transit location (a warehouse
 * row of kind `in_transit`, ledger rows like any warehouse, never allocated to orders nor published
 * to channels) at the transfer price, and records the sending company's side in `intra_group_sales`
 * for invoicing. Receiving (in parts if need be) moves it on into the receiving warehouse and fills
 * backorders like any receipt.
 *
 * Locks: sending creates-or-finds the in-transit location (one statement), inserts the transfer (its
 * unique ref makes a repeat harmless), then creates-and-locks the stock rows in (sku, warehouse)
 * order. Receiving locks the transfer row first, then its lines, then the stock rows.
 */

export const TRANSFERS = 'transfers';

export interface TransferInput {
  ref: string;
  from: string;
  to: string;
  /** Code of the price list the transfer is priced at; omitted: the receiving company's transfer price list. */
  priceList?: string | undefined;
  lines: { sku: string; quantity: number }[];
}

export interface TransferLineView {
  sku: string;
  sent: number;
  received: number;
  inTransit: number;
  unitPrice: number;
  currency: string;
  amount: number;
}

export interface TransferView {
  ref: string;
  from: { warehouse: string; company: string };
  to: { warehouse: string; company: string };
  /** The receiving company's in-transit location the stock waits in. */
  inTransitLocation: string;
  priceList: string;
  currency: string;
  /** `in_transit` while anything is on its way, then `received`. */
  status: 'in_transit' | 'received';
  lines: TransferLineView[];
  totals: { sent: number; received: number; inTransit: number; amount: number };
  receipts: { receipt: string; lines: { sku: string; quantity: number }[]; at: string | null }[];
  /** The sending company's side: a sale to the receiving company, invoiced like any sale. */
  sale: { seller: string; buyer: string; currency: string; totalAmount: number; invoiceId: number | null };
  createdAt: string | null;
}

export interface TransferResult {
  transfer: TransferView;
  /** True when this ref (or this receipt) had already been recorded with the same content: nothing changed. */
  duplicate: boolean;
  /** Orders whose backorders the received stock filled. */
  filledOrders: number[];
}

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Lines in one spelling and order, quantities of the same SKU added up. */
function mergedLines(lines: readonly { sku: string; quantity: number }[]) {
  const bySku = new Map<string, { sku: string; quantity: number }>();
  for (const l of lines) {
    const k = codeKey(l.sku);
    const m = bySku.get(k) ?? { sku: l.sku, quantity: 0 };
    m.quantity += l.quantity;
    bySku.set(k, m);
  }
  return [...bySku.values()].sort((a, b) => (codeKey(a.sku) < codeKey(b.sku) ? -1 : 1));
}

interface WarehouseRow {
  id: number;
  code: string;
  kind: string;
  companyId: number | null;
  company: string | null;
}

async function warehouseRow(db: Conn, code: string): Promise<WarehouseRow | null> {
  const r = await db('warehouses as w')
    .leftJoin('companies as co', 'co.id', 'w.company_id')
    .where('w.code', code)
    .first('w.id', 'w.code', 'w.kind', 'w.company_id', 'co.code as company');
  if (!r) return null;
  return {
    id: Number(r.id),
    code: String(r.code),
    kind: String(r.kind),
    companyId: r.company_id === null ? null : Number(r.company_id),
    company: r.company ?? null,
  };
}

/** The in-transit location of a company: created on its first transfer, found afterwards (one statement). */
export async function inTransitLocation(
  tx: Tx,
  company: { id: number; code: string },
  now: string,
): Promise<{ id: number; code: string }> {
  const wanted = `@transit:${company.code}`;
  const code = wanted.length <= LIMITS.codeLength ? wanted : `@transit#${company.id}`;
  const upsert =
    dialectOf(tx) === 'mysql' ? 'ON DUPLICATE KEY UPDATE code = code' : 'ON CONFLICT (code) DO NOTHING';
  // Never allocated: a priority after every warehouse, for views that sort by it.
  await tx.raw(
    `INSERT INTO warehouses (code, name, priority, company_id, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ${upsert}`,
    [
      code,
      `In transit to ${company.code} / 在途 ${company.code}`,
      1_000_000_000,
      company.id,
      IN_TRANSIT,
      now,
      now,
    ],
  );
  const row = await tx('warehouses').where({ code }).first('id', 'code', 'kind', 'company_id');
  if (!row || row.kind !== IN_TRANSIT || Number(row.company_id) !== company.id)
    throw conflict(
      'in_transit_location',
      `warehouse ${code} exists but is not ${company.code}'s in-transit location`,
    );
  forgetWarehousePriorities();
  return { id: Number(row.id), code: String(row.code) };
}

/** The transfer price of each line: `resolvePrice` over one price list (quantity breaks, validity, percentages). */
async function transferPrices(
  tx: Tx,
  list: { id: number; code: string; currency: string },
  lines: readonly { sku: string; quantity: number }[],
  date: string,
) {
  const skus = lines.map((l) => l.sku);
  const own = await tx('price_list_items').where('price_list_id', list.id).whereIn('sku_code', skus);
  const baseIds = [
    ...new Set(own.filter((i) => i.based_on_list_id !== null).map((i) => Number(i.based_on_list_id))),
  ];
  const base = baseIds.length
    ? await tx('price_list_items').whereIn('price_list_id', baseIds).whereIn('sku_code', skus)
    : [];
  const items: PriceItem[] = [...own, ...base].map((r) => ({
    id: Number(r.id),
    listId: Number(r.price_list_id),
    sku: String(r.sku_code),
    minQuantity: Number(r.min_quantity),
    validFrom: r.valid_from ?? null,
    validTo: r.valid_to ?? null,
    price: r.price === null ? null : Number(r.price),
    percentBp: r.percent_bp === null ? null : Number(r.percent_bp),
    basedOnListId: r.based_on_list_id === null ? null : Number(r.based_on_list_id),
  }));
  const book = priceBook([list], [{ listId: list.id, level: 'default', target: '' }], items);
  return lines.map((l) =>
    resolvePrice(book, { customer: null, currency: list.currency, sku: l.sku, quantity: l.quantity, date }),
  );
}

/**
 * Sends stock from a warehouse of one company to a warehouse of another: out of `from` (never
 * below what is reserved there: 409) into the receiving company's in-transit location, priced per
 * line from the transfer price list, with the sending company's sale recorded. The same ref with
 * the same content again is harmless (200, nothing changed); with other content 409.
 */
export async function sendTransfer(db: Db, input: TransferInput): Promise<TransferResult> {
  const lines = mergedLines(input.lines);
  const hash = hashOf({
    v: 1,
    from: codeKey(input.from),
    to: codeKey(input.to),
    priceList: input.priceList === undefined ? null : codeKey(input.priceList),
    lines: lines.map((l) => [codeKey(l.sku), l.quantity]),
  });
  const repeat = async () => {
    const stored = await db(TRANSFERS).where({ ref: input.ref }).first('payload_hash');
    if (!stored) return null;
    if (stored.payload_hash !== hash)
      throw conflict(
        'duplicate_reference',
        `transfer ${input.ref} was already recorded with different content`,
        {
          ref: input.ref,
        },
      );
    return { transfer: await getTransfer(db, input.ref), duplicate: true, filledOrders: [] };
  };
  try {
    const sent = await withTransaction(db, (tx) => sendLocked(tx, input, lines, hash));
    if (sent === null) return (await repeat())!;
  } catch (err) {
    // Another request recorded the same ref between our look-up and our insert.
    if (!isDuplicateKeyError(err)) throw err;
    const earlier = await repeat();
    if (!earlier) throw err;
    return earlier;
  }
  return { transfer: await getTransfer(db, input.ref), duplicate: false, filledOrders: [] };
}

async function sendLocked(
  tx: Tx,
  input: TransferInput,
  lines: { sku: string; quantity: number }[],
  hash: string,
): Promise<number | null> {
  const now = dbTime();
  // A repeat finds its transfer before it checks anything else (null: recorded already).
  if (await tx(TRANSFERS).where({ ref: input.ref }).first('id')) return null;
  const [from, to] = await Promise.all([warehouseRow(tx, input.from), warehouseRow(tx, input.to)]);
  const problems: string[] = [];
  if (!from) problems.push(`unknown warehouse ${input.from}`);
  if (!to) problems.push(`unknown warehouse ${input.to}`);
  if (problems.length) throw unprocessable('unknown_reference', problems.join('; '), { problems });
  if (from!.kind === IN_TRANSIT || to!.kind === IN_TRANSIT)
    throw unprocessable(
      'in_transit_location',
      'a transfer goes from one warehouse to another, not to or from an in-transit location',
    );
  if (from!.companyId === null || to!.companyId === null)
    throw unprocessable(
      'no_company',
      `an intra-group transfer needs warehouses that belong to companies (${[from!, to!]
        .filter((w) => w.companyId === null)
        .map((w) => w.code)
        .join(', ')} belongs to none); set one with PUT /api/warehouses/{code} {"company": …}`,
      { from: input.from, to: input.to },
    );
  if (from!.companyId === to!.companyId)
    throw unprocessable(
      'same_company',
      `${from!.code} and ${to!.code} both belong to company ${from!.company}: use POST /api/stock/transfers`,
      { company: from!.company, route: 'POST /api/stock/transfers' },
    );
  const { skuIds } = await resolveCodes(
    tx,
    input.from,
    lines.map((l) => l.sku),
  );

  // The transfer price list: the one named, else the receiving company's.
  const buyer = await tx('companies')
    .where({ id: to!.companyId })
    .first('id', 'code', 'transfer_price_list_id');
  const listRow = input.priceList
    ? await tx('price_lists').where({ code: input.priceList }).first('id', 'code', 'currency')
    : buyer.transfer_price_list_id === null
      ? null
      : await tx('price_lists').where({ id: buyer.transfer_price_list_id }).first('id', 'code', 'currency');
  if (!listRow)
    throw unprocessable(
      input.priceList ? 'unknown_price_list' : 'no_transfer_price_list',
      input.priceList
        ? `unknown price list ${input.priceList}`
        : `company ${buyer.code} has no transfer price list: name one with "priceList" or set the company's "transferPriceList"`,
      { priceList: input.priceList ?? null, company: buyer.code },
    );
  const list = { id: Number(listRow.id), code: String(listRow.code), currency: String(listRow.currency) };
  const prices = await transferPrices(tx, list, lines, businessDate(new Date(), currentBusinessTimeZone()));
  const unpriced = lines.filter((_, i) => prices[i] === null).map((l) => l.sku);
  if (unpriced.length)
    throw unprocessable(
      'no_transfer_price',
      `price list ${list.code} has no ${list.currency} price for ${unpriced.join(', ')}`,
      { priceList: list.code, skus: unpriced },
    );

  const transit = await inTransitLocation(tx, { id: Number(buyer.id), code: String(buyer.code) }, now);
  const [transferId] = await tx(TRANSFERS).insert({
    ref: input.ref,
    from_warehouse_id: from!.id,
    to_warehouse_id: to!.id,
    transit_warehouse_id: transit.id,
    seller_company_id: from!.companyId,
    buyer_company_id: to!.companyId,
    price_list_id: list.id,
    currency: list.currency,
    payload_hash: hash,
    created_at: now,
    updated_at: now,
  });
  const id = Number(transferId);
  const priced = lines.map((l, i) => ({ ...l, skuId: skuIds.get(l.sku)!, price: prices[i]! }));
  await tx('transfer_lines').insert(
    priced.map((l, i) => ({
      transfer_id: id,
      line_no: i + 1,
      sku_id: l.skuId,
      sku_code: l.sku,
      sent: l.quantity,
      received: 0,
      unit_price: l.price.price,
      currency: list.currency,
      price_item_id: l.price.itemId,
    })),
  );
  await tx('intra_group_sales').insert({
    transfer_id: id,
    seller_company_id: from!.companyId,
    buyer_company_id: to!.companyId,
    currency: list.currency,
    total_amount: priced.reduce((n, l) => n + l.price.price * l.quantity, 0),
    invoice_id: null,
    created_at: now,
  });

  const pool = await createAndLockStock(
    tx,
    priced.flatMap((l) => [
      { skuId: l.skuId, warehouseId: from!.id },
      { skuId: l.skuId, warehouseId: transit.id },
    ]),
    now,
  );
  const refused: unknown[] = [];
  for (const l of priced) {
    const row = pool.get(l.skuId)?.find((w) => w.warehouseId === from!.id);
    const free = (row?.onHand ?? 0) - (row?.reserved ?? 0);
    if (free < l.quantity)
      refused.push({
        sku: l.sku,
        onHand: row?.onHand ?? 0,
        reserved: row?.reserved ?? 0,
        quantity: l.quantity,
      });
    const inTransit = pool.get(l.skuId)?.find((w) => w.warehouseId === transit.id)?.onHand ?? 0;
    if (inTransit + l.quantity > LIMITS.maxOnHand)
      refused.push({
        sku: l.sku,
        inTransit,
        quantity: l.quantity,
        message: `in transit cannot exceed ${LIMITS.maxOnHand}`,
      });
  }
  if (refused.length)
    throw conflict('insufficient_stock', `${from!.code} does not have that much free (not reserved) stock`, {
      lines: refused,
    });
  const batch = new WriteBatch(tx);
  applyStockDeltas(
    batch,
    pool,
    priced.flatMap((l) => [
      { skuId: l.skuId, warehouseId: from!.id, dOnHand: -l.quantity, dReserved: 0 },
      { skuId: l.skuId, warehouseId: transit.id, dOnHand: l.quantity, dReserved: 0 },
    ]),
    'transfer',
    { type: 'intra_group_transfer', id },
    now,
  );
  addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: priced.map((l) => l.skuId) } }], now);
  await batch.flush();
  return id;
}

export interface ReceiveInput {
  /** The receipt's own reference (or the request's Idempotency-Key): the same one again is harmless. */
  receipt?: string | undefined;
  /** What arrived; omitted: everything still in transit. */
  lines?: { sku: string; quantity: number }[] | undefined;
}

/**
 * Receives (part of) a transfer: from the in-transit location into the receiving warehouse, then
 * fills waiting backorders of those SKUs like any receipt. More than is in transit is 409. The same
 * receipt reference again is harmless (200, nothing changed); with other lines 409.
 */
export async function receiveTransfer(db: Db, ref: string, input: ReceiveInput): Promise<TransferResult> {
  const receipt = input.receipt ?? `auto:${randomUUID()}`;
  const requested = input.lines ? mergedLines(input.lines) : null;
  const hash = hashOf({ v: 1, lines: requested?.map((l) => [codeKey(l.sku), l.quantity]) ?? null });
  const outcome = await withTransaction(db, async (tx) => {
    const now = dbTime();
    // Lock order: the transfer, its lines, then the stock rows.
    const transfer = await forUpdate(tx(TRANSFERS).where({ ref }), tx).first();
    if (!transfer) throw notFound(`transfer ${ref}`);
    const id = Number(transfer.id);
    const earlier = await tx('transfer_receipts')
      .where({ transfer_id: id, receipt_ref: receipt })
      .first('payload_hash');
    if (earlier) {
      if (earlier.payload_hash !== hash)
        throw conflict(
          'duplicate_reference',
          `receipt ${receipt} of transfer ${ref} was already recorded with different lines`,
          {
            ref,
            receipt,
          },
        );
      return { duplicate: true, skuIds: [] as number[] };
    }
    const lines = await forUpdate(tx('transfer_lines').where({ transfer_id: id }).orderBy('line_no'), tx);
    const { take, unknown, over } = planTransferReceipt(
      lines.map((l) => ({
        skuId: Number(l.sku_id),
        sku: String(l.sku_code),
        sent: Number(l.sent),
        received: Number(l.received),
      })),
      requested,
    );
    if (unknown.length)
      throw unprocessable('unknown_line', `transfer ${ref} has no line for ${unknown.join(', ')}`, {
        skus: unknown,
      });
    if (over.length)
      throw conflict('over_receipt', `more than is in transit on transfer ${ref}`, { ref, lines: over });
    if (take.length === 0) return { duplicate: true, skuIds: [] as number[] };
    const [receiptId] = await tx('transfer_receipts').insert({
      transfer_id: id,
      receipt_ref: receipt,
      payload_hash: hash,
      lines: JSON.stringify(take.map((t) => ({ sku: t.sku, quantity: t.quantity }))),
      created_at: now,
    });
    const transit = Number(transfer.transit_warehouse_id);
    const to = Number(transfer.to_warehouse_id);
    const pool = await createAndLockStock(
      tx,
      take.flatMap((t) => [
        { skuId: t.skuId, warehouseId: transit },
        { skuId: t.skuId, warehouseId: to },
      ]),
      now,
    );
    const tooMuch = take.filter(
      (t) =>
        (pool.get(t.skuId)?.find((w) => w.warehouseId === to)?.onHand ?? 0) + t.quantity > LIMITS.maxOnHand,
    );
    if (tooMuch.length)
      throw conflict('stock_limit', `on hand in one warehouse cannot exceed ${LIMITS.maxOnHand}`, {
        skus: tooMuch.map((t) => t.sku),
      });
    const batch = new WriteBatch(tx);
    for (const t of take)
      batch.addSql('UPDATE transfer_lines SET received = received + ? WHERE transfer_id = ? AND sku_id = ?', [
        t.quantity,
        id,
        t.skuId,
      ]);
    batch.addSql(`UPDATE ${TRANSFERS} SET updated_at = ? WHERE id = ?`, [now, id]);
    applyStockDeltas(
      batch,
      pool,
      take.flatMap((t) => [
        { skuId: t.skuId, warehouseId: transit, dOnHand: -t.quantity, dReserved: 0 },
        { skuId: t.skuId, warehouseId: to, dOnHand: t.quantity, dReserved: 0 },
      ]),
      'transfer',
      { type: 'transfer_receipt', id: Number(receiptId) },
      now,
    );
    addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: take.map((t) => t.skuId) } }], now);
    await batch.flush();
    return { duplicate: false, skuIds: take.map((t) => t.skuId) };
  });
  // The stock is committed; waiting backorders take it now, each batch locking its orders first.
  const filledOrders = outcome.skuIds.length
    ? await fillBackorders(db, outcome.skuIds, `transfer:${ref}`)
    : [];
  return { transfer: await getTransfer(db, ref), duplicate: outcome.duplicate, filledOrders };
}

/** A transfer: per line sent, received, in transit and price; its receipts; the sale it records. */
export async function getTransfer(db: Conn, ref: string): Promise<TransferView> {
  const t = await db(`${TRANSFERS} as t`)
    .join('warehouses as wf', 'wf.id', 't.from_warehouse_id')
    .join('warehouses as wt', 'wt.id', 't.to_warehouse_id')
    .join('warehouses as wi', 'wi.id', 't.transit_warehouse_id')
    .join('companies as cs', 'cs.id', 't.seller_company_id')
    .join('companies as cb', 'cb.id', 't.buyer_company_id')
    .join('price_lists as pl', 'pl.id', 't.price_list_id')
    .join('intra_group_sales as s', 's.transfer_id', 't.id')
    .where('t.ref', ref)
    .first(
      't.*',
      'wf.code as from_code',
      'wt.code as to_code',
      'wi.code as transit_code',
      'cs.code as seller',
      'cb.code as buyer',
      'pl.code as price_list',
      's.total_amount',
      's.invoice_id',
    );
  if (!t) throw notFound(`transfer ${ref}`);
  const [lineRows, receiptRows] = await Promise.all([
    db('transfer_lines').where({ transfer_id: t.id }).orderBy('line_no'),
    db('transfer_receipts').where({ transfer_id: t.id }).orderBy('id'),
  ]);
  const lines = lineRows.map((l) => ({
    sku: String(l.sku_code),
    sent: Number(l.sent),
    received: Number(l.received),
    inTransit: Number(l.sent) - Number(l.received),
    unitPrice: Number(l.unit_price),
    currency: String(l.currency),
    amount: Number(l.unit_price) * Number(l.sent),
  }));
  const sum = (k: 'sent' | 'received' | 'inTransit' | 'amount') => lines.reduce((n, l) => n + l[k], 0);
  return {
    ref: String(t.ref),
    from: { warehouse: String(t.from_code), company: String(t.seller) },
    to: { warehouse: String(t.to_code), company: String(t.buyer) },
    inTransitLocation: String(t.transit_code),
    priceList: String(t.price_list),
    currency: String(t.currency),
    status: sum('inTransit') > 0 ? 'in_transit' : 'received',
    lines,
    totals: {
      sent: sum('sent'),
      received: sum('received'),
      inTransit: sum('inTransit'),
      amount: sum('amount'),
    },
    receipts: receiptRows.map((r) => ({
      receipt: String(r.receipt_ref),
      lines: JSON.parse(String(r.lines)) as { sku: string; quantity: number }[],
      at: isoTime(r.created_at),
    })),
    sale: {
      seller: String(t.seller),
      buyer: String(t.buyer),
      currency: String(t.currency),
      totalAmount: Number(t.total_amount),
      invoiceId: t.invoice_id === null ? null : Number(t.invoice_id),
    },
    createdAt: isoTime(t.created_at),
  };
}
