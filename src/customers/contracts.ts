import {
  type Conn,
  type Db,
  dbTime,
  forUpdate,
  isoTime,
  lockClause,
  rawRows,
  type Tx,
} from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { codeKey } from '../domain/codes.js';
import {
  type ContractDefault,
  type ContractInfo,
  type ContractLineState,
  drawLimit,
  lineFigures,
  validityOn,
} from '../domain/contracts.js';
import { businessDate } from '../domain/pricing.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { currentBusinessTimeZone } from './price-book.js';

/**
 * Sales contracts (blanket orders): maintained here (`PUT /api/contracts/{number}`), shown with
 * what orders drew and shipped, and given back when orders or lines are cancelled. Orders draw on
 * them in the worker's grouped transaction (`contract-rule.ts`); the decisions are in
 * src/domain/contracts.ts.
 */

export const CONTRACTS = 'contracts';
export const CONTRACT_LINES = 'contract_lines';
export const CONTRACT_DRAWS = 'contract_draws';
export const CHANNEL_CONTRACT_SETTINGS = 'channel_contract_settings';

export interface ContractInput {
  customer: string;
  name?: string | undefined;
  currency: string;
  validFrom: string;
  validTo: string;
  lines: { sku: string; quantity: number; price: number; overrunPercent?: number | undefined }[];
}

export const toContract = (r: Record<string, unknown>): ContractInfo => ({
  id: Number(r.id),
  number: String(r.number),
  customerId: Number(r.customer_id),
  currency: String(r.currency),
  validFrom: String(r.valid_from),
  validTo: String(r.valid_to),
});

export const toContractLine = (r: Record<string, unknown>): ContractLineState => ({
  id: Number(r.id),
  contractId: Number(r.contract_id),
  lineNo: Number(r.line_no),
  sku: String(r.sku_code),
  quantity: Number(r.quantity),
  price: Number(r.price),
  overrunBp: Number(r.overrun_bp),
  drawn: Number(r.drawn),
});

const today = () => businessDate(new Date(), currentBusinessTimeZone());

/** Creates or replaces a contract; the same body again changes nothing. */
export async function putContract(
  db: Db,
  number: string,
  input: ContractInput,
): Promise<{ contract: Awaited<ReturnType<typeof getContract>>; created: boolean }> {
  if (input.validFrom > input.validTo)
    throw unprocessable('invalid_validity', `validFrom ${input.validFrom} is after validTo ${input.validTo}`);
  const seen = new Set<string>();
  for (const l of input.lines) {
    if (seen.has(codeKey(l.sku)))
      throw unprocessable('duplicate_sku', `SKU ${l.sku} is on the contract twice; give it one line`, {
        sku: l.sku,
      });
    seen.add(codeKey(l.sku));
  }
  let created: boolean;
  try {
    created = await writeContract(db, number, input);
  } catch (err) {
    // The same new number created by another request at the same moment: it is an update now.
    if (!isDuplicateKeyError(err)) throw err;
    created = await writeContract(db, number, input);
  }
  return { contract: await getContract(db, number), created };
}

async function writeContract(db: Db, number: string, input: ContractInput): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const [customer, skus] = await Promise.all([
      tx('customers').where({ code: input.customer }).first('id'),
      tx('skus')
        .whereIn(
          'code',
          input.lines.map((l) => l.sku),
        )
        .select('code'),
    ]);
    if (!customer)
      throw unprocessable('unknown_customer', `customer ${input.customer} does not exist`, {
        customer: input.customer,
      });
    const known = new Set(skus.map((s) => codeKey(String(s.code))));
    const unknown = input.lines.filter((l) => !known.has(codeKey(l.sku))).map((l) => l.sku);
    if (unknown.length > 0)
      throw unprocessable('unknown_sku', `unknown SKU ${unknown.join(', ')}`, { skus: unknown });
    const customerId = Number(customer.id);

    // Lock first, then read: the contract, then its lines in id order (the contract lines' place
    // in the lock order).
    const row = await forUpdate(tx(CONTRACTS).where({ number }).first(), tx);
    if (!row) {
      const [id] = await tx(CONTRACTS).insert({
        number,
        customer_id: customerId,
        name: input.name ?? null,
        currency: input.currency,
        valid_from: input.validFrom,
        valid_to: input.validTo,
        created_at: now,
        updated_at: now,
      });
      const contractId = Number(
        id ??
          (await tx(CONTRACTS)
            .where({ number })
            .first('id')
            .then((r) => r.id)),
      );
      await tx(CONTRACT_LINES).insert(
        input.lines.map((l, i) => ({
          contract_id: contractId,
          line_no: i + 1,
          sku_code: l.sku,
          quantity: l.quantity,
          price: l.price,
          overrun_bp: Math.round((l.overrunPercent ?? 0) * 100),
          drawn: 0,
          updated_at: now,
        })),
      );
      return true;
    }
    const contract = toContract(row);
    const [lineRows = []] = await rawRows(
      tx,
      `SELECT * FROM contract_lines WHERE contract_id = ? ORDER BY id${lockClause(tx)}`,
      [contract.id],
    );
    const lines = lineRows.map(toContractLine);
    const drawnLineIds = new Set(
      (
        await tx(CONTRACT_DRAWS)
          .whereIn(
            'contract_line_id',
            lines.map((l) => l.id),
          )
          .distinct('contract_line_id')
      ).map((r) => Number(r.contract_line_id)),
    );
    if (drawnLineIds.size > 0 && (contract.customerId !== customerId || contract.currency !== input.currency))
      throw conflict(
        'contract_in_use',
        `orders have drawn on contract ${contract.number}: its customer and currency cannot change`,
      );
    const wanted = new Map(input.lines.map((l, i) => [codeKey(l.sku), { ...l, lineNo: i + 1 }]));
    for (const l of lines) {
      const next = wanted.get(codeKey(l.sku));
      if (!next) {
        if (drawnLineIds.has(l.id))
          throw conflict(
            'contract_line_in_use',
            `orders have drawn on ${l.sku} of contract ${contract.number}: its line cannot be removed`,
            { sku: l.sku },
          );
        continue;
      }
      const limit = drawLimit({
        quantity: next.quantity,
        overrunBp: Math.round((next.overrunPercent ?? 0) * 100),
      });
      if (limit < l.drawn)
        throw conflict(
          'contract_below_drawn',
          `${l.drawn} × ${l.sku} are drawn on contract ${contract.number}: the contracted quantity with its overrun cannot be less (${limit})`,
          { sku: l.sku, drawn: l.drawn, limit },
        );
    }
    let changed =
      contract.customerId !== customerId ||
      contract.currency !== input.currency ||
      contract.validFrom !== input.validFrom ||
      contract.validTo !== input.validTo ||
      (row.name ?? null) !== (input.name ?? null);
    const have = new Map(lines.map((l) => [codeKey(l.sku), l]));
    for (const l of lines)
      if (!wanted.has(codeKey(l.sku))) {
        await tx(CONTRACT_LINES).where({ id: l.id }).delete();
        changed = true;
      }
    for (const next of wanted.values()) {
      const overrunBp = Math.round((next.overrunPercent ?? 0) * 100);
      const old = have.get(codeKey(next.sku));
      if (!old) {
        await tx(CONTRACT_LINES).insert({
          contract_id: contract.id,
          line_no: next.lineNo,
          sku_code: next.sku,
          quantity: next.quantity,
          price: next.price,
          overrun_bp: overrunBp,
          drawn: 0,
          updated_at: now,
        });
        changed = true;
      } else if (
        old.lineNo !== next.lineNo ||
        old.quantity !== next.quantity ||
        old.price !== next.price ||
        old.overrunBp !== overrunBp
      ) {
        await tx(CONTRACT_LINES).where({ id: old.id }).update({
          line_no: next.lineNo,
          quantity: next.quantity,
          price: next.price,
          overrun_bp: overrunBp,
          updated_at: now,
        });
        changed = true;
      }
    }
    if (changed)
      await tx(CONTRACTS)
        .where({ id: contract.id })
        .update({
          customer_id: customerId,
          name: input.name ?? null,
          currency: input.currency,
          valid_from: input.validFrom,
          valid_to: input.validTo,
          updated_at: now,
        });
    return false;
  });
}

/** Contracts with their lines' figures: contracted, allowance, drawn, shipped, remaining, available. */
async function contractViews(db: Conn, rows: Record<string, unknown>[]) {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const lineRows = await db(CONTRACT_LINES).whereIn('contract_id', ids).orderBy(['contract_id', 'line_no']);
  const shippedRows = lineRows.length
    ? await db('order_lines')
        .whereIn(
          'contract_line_id',
          lineRows.map((l) => l.id),
        )
        .groupBy('contract_line_id')
        .select('contract_line_id')
        .sum({ shipped: 'shipped' })
    : [];
  const shipped = new Map(
    (shippedRows as Record<string, unknown>[]).map((r) => [
      Number(r.contract_line_id),
      Number(r.shipped ?? 0),
    ]),
  );
  const date = today();
  return rows.map((r) => {
    const c = toContract(r);
    const lines = lineRows.filter((l) => Number(l.contract_id) === c.id).map(toContractLine);
    return {
      number: c.number,
      customer: r.customer_code as string,
      name: (r.name as string | null) ?? null,
      currency: c.currency,
      validFrom: c.validFrom,
      validTo: c.validTo,
      status: validityOn(c, date),
      lines: lines.map((l) => ({
        lineNo: l.lineNo,
        sku: l.sku,
        price: l.price,
        overrunPercent: l.overrunBp / 100,
        ...lineFigures(l, shipped.get(l.id) ?? 0),
      })),
      createdAt: isoTime(r.created_at as string),
      updatedAt: isoTime(r.updated_at as string),
    };
  });
}

const withCustomer = (db: Conn) =>
  db(`${CONTRACTS} as c`)
    .join('customers as cu', 'cu.id', 'c.customer_id')
    .select('c.*', 'cu.code as customer_code');

export async function getContract(db: Conn, number: string) {
  const row = await withCustomer(db).where('c.number', number).first();
  if (!row) throw notFound(`contract ${number}`);
  return (await contractViews(db, [row]))[0]!;
}

export async function listContracts(db: Conn, filter: { customer?: string | undefined }) {
  let q = withCustomer(db);
  if (filter.customer) q = q.where('cu.code', filter.customer);
  return contractViews(db, await q.orderBy('c.id'));
}

/** A page of contracts, newest first by id (the console's list); `nextId` is the id the next page starts below. */
export async function contractPage(
  db: Conn,
  filter: { customer?: string | undefined; limit: number },
  beforeId: number | null,
) {
  let q = withCustomer(db);
  if (filter.customer) q = q.where('cu.code', filter.customer);
  if (beforeId !== null) q = q.where('c.id', '<', beforeId);
  const rows = await q.orderBy('c.id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    items: await contractViews(db, page),
    nextId: rows.length > filter.limit && last ? Number(last.id) : null,
  };
}

/**
 * A contract's draws ledger, oldest first; with `page`, a page of it newest first (`limit` rows
 * before the draw id `beforeId`) and the id the next page starts before (`nextId`, null at the end).
 */
export async function contractDraws(
  db: Conn,
  number: string,
  page?: { limit: number; beforeId: number | null },
) {
  const contract = await db(CONTRACTS).where({ number }).first('id', 'number');
  if (!contract) throw notFound(`contract ${number}`);
  let q = db(`${CONTRACT_DRAWS} as d`)
    .join(`${CONTRACT_LINES} as cl`, 'cl.id', 'd.contract_line_id')
    .leftJoin('order_lines as ol', 'ol.id', 'd.order_line_id')
    .where('cl.contract_id', contract.id)
    .select('d.*', 'cl.line_no', 'cl.sku_code', 'ol.line_no as order_line_no');
  if (page) {
    if (page.beforeId !== null) q = q.where('d.id', '<', page.beforeId);
    q = q.orderBy('d.id', 'desc').limit(page.limit + 1);
  } else q = q.orderBy('d.id');
  const all = await q;
  const rows = page ? all.slice(0, page.limit) : all;
  const last = rows[rows.length - 1];
  return {
    nextId: page && all.length > page.limit && last ? Number(last.id) : null,
    number: String(contract.number),
    items: rows.map((r) => ({
      id: Number(r.id),
      lineNo: Number(r.line_no),
      sku: String(r.sku_code),
      order: Number(r.order_id),
      orderLine: r.order_line_no === null || r.order_line_no === undefined ? null : Number(r.order_line_no),
      quantity: Number(r.quantity),
      unitPrice: r.unit_price === null ? null : Number(r.unit_price),
      reason: String(r.reason),
      actor: String(r.actor),
      at: isoTime(r.created_at as string),
    })),
  };
}

/** `api`, `excel`, or a channel's id -> the channel as its orders name it (`shopify:3`). */
async function orderChannelOf(db: Conn, channel: string): Promise<string> {
  if (channel === 'api' || channel === 'excel') return channel;
  if (!/^\d+$/.test(channel)) throw notFound(`channel ${channel}`);
  const row = await db('channels')
    .where({ id: Number(channel) })
    .first('id', 'type');
  if (!row) throw notFound(`channel ${channel}`);
  return `${row.type}:${row.id}`;
}

export async function channelContractDefault(db: Conn, channel: string) {
  const name = await orderChannelOf(db, channel);
  const row = await db(CHANNEL_CONTRACT_SETTINGS).where({ channel: name }).first('contract_default');
  return { channel: name, contractDefault: (row?.contract_default as ContractDefault | undefined) ?? 'none' };
}

/** Sets what the channel's orders that name no contract draw on (`only_active` or `none`). */
export async function setChannelContractDefault(db: Db, channel: string, value: ContractDefault) {
  const name = await orderChannelOf(db, channel);
  await db(CHANNEL_CONTRACT_SETTINGS)
    .insert({ channel: name, contract_default: value, updated_at: dbTime() })
    .onConflict('channel')
    .merge(['contract_default', 'updated_at']);
  return { channel: name, contractDefault: value };
}

/**
 * Gives back what an order drew beyond what it keeps, as negative draws (a cancelled order keeps
 * what it shipped; an order whose lines are replaced keeps nothing on its old lines): in the
 * caller's transaction, which holds the order locked; contract lines are updated in id order,
 * before any stock row is locked (the lock order). `keep` is per order line id; lines not in it
 * keep nothing. An order that drew nothing costs one read.
 */
export async function returnContractDraws(
  tx: Tx,
  orderId: number,
  keep: readonly { id: number; keep: number }[],
  reason: string,
  actor: string,
  now = dbTime(),
): Promise<void> {
  const [rows = []] = await rawRows(
    tx,
    'SELECT contract_line_id, order_line_id, SUM(quantity) AS n FROM contract_draws WHERE order_id = ? ' +
      'GROUP BY contract_line_id, order_line_id ORDER BY contract_line_id, order_line_id',
    [orderId],
  );
  if (rows.length === 0) return;
  const kept = new Map(keep.map((k) => [k.id, k.keep]));
  const batch = new WriteBatch(tx);
  for (const r of rows) {
    const lineId = r.order_line_id === null ? null : Number(r.order_line_id);
    const back = Number(r.n) - Math.max(0, (lineId === null ? undefined : kept.get(lineId)) ?? 0);
    if (back <= 0) continue;
    batch.addSql(
      'UPDATE contract_lines SET drawn = drawn - ?, updated_at = ? WHERE id = ? AND drawn >= ?',
      [back, now, Number(r.contract_line_id), back],
      {
        affected: 1,
        error: () =>
          new Error(`contract line ${r.contract_line_id} has less drawn than order ${orderId} gives back`),
      },
    );
    batch.addSql(
      'INSERT INTO contract_draws (contract_line_id, order_id, order_line_id, quantity, unit_price, reason, actor, created_at) ' +
        'VALUES (?, ?, ?, ?, NULL, ?, ?, ?)',
      [Number(r.contract_line_id), orderId, lineId, -back, reason, actor.slice(0, 64), now],
    );
  }
  await batch.flush();
}

/** What the order view shows of an order's contract: the contract it draws on and each line's contract line. */
export async function orderContractView(db: Conn, orderId: number) {
  const [order, lines] = await Promise.all([
    db('orders as o')
      .leftJoin(`${CONTRACTS} as c`, 'c.id', 'o.contract_id')
      .where('o.id', orderId)
      .first('o.contract_number', 'c.number'),
    db('order_lines as ol')
      .join(`${CONTRACT_LINES} as cl`, 'cl.id', 'ol.contract_line_id')
      .join(`${CONTRACTS} as c`, 'c.id', 'cl.contract_id')
      .where('ol.order_id', orderId)
      .select('ol.id', 'c.number', 'cl.line_no', 'cl.sku_code'),
  ]);
  return {
    contract:
      (order?.number as string | null | undefined) ??
      (order?.contract_number as string | null | undefined) ??
      null,
    lines: new Map(lines.map((l) => [Number(l.id), { number: String(l.number), lineNo: Number(l.line_no) }])),
  };
}
