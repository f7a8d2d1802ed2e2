import { type Conn, type Db, dbTime, isoTime, lockClause, rawRows, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import type { Promotion, PromotionKind, PromotionTarget } from '../domain/promotions.js';
import { conflict, notFound } from '../errors/domain-errors.js';

/**
 * Promotions as people maintain them (`/api/promotions`), their uses, and what an order took.
 * The decisions are in `src/domain/promotions.ts`; processing takes the uses in
 * `src/customers/promotion-rule.ts`.
 */

export const PROMOTIONS = 'promotions';
export const PROMOTION_USES = 'promotion_uses';
export const ORDER_LINE_PROMOTIONS = 'order_line_promotions';

/** A promotion as the API gives it (`percent` in percent, e.g. 12.5). */
export interface PromotionInput {
  name: string;
  active: boolean;
  kind: PromotionKind;
  appliesTo: PromotionTarget;
  percent?: number | null | undefined;
  amount?: number | null | undefined;
  buy?: number | null | undefined;
  get?: number | null | undefined;
  currency?: string | null | undefined;
  minOrderAmount?: number | null | undefined;
  minOrderQuantity?: number | null | undefined;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  customers: string[];
  groups: string[];
  channels: string[];
  skus: string[];
  requiresCode: boolean;
  usageLimit?: number | null | undefined;
  customerLimit?: number | null | undefined;
}

export interface PromotionView {
  code: string;
  name: string;
  active: boolean;
  kind: PromotionKind;
  appliesTo: PromotionTarget;
  percent: number | null;
  amount: number | null;
  buy: number | null;
  get: number | null;
  currency: string | null;
  minOrderAmount: number | null;
  minOrderQuantity: number | null;
  validFrom: string | null;
  validTo: string | null;
  customers: string[];
  groups: string[];
  channels: string[];
  skus: string[];
  requiresCode: boolean;
  usageLimit: number | null;
  customerLimit: number | null;
  /** Orders that hold a use now (taken less given back). */
  used: number;
  createdAt: string;
  updatedAt: string;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const list = (v: unknown): string[] => (typeof v === 'string' && v !== '' ? (JSON.parse(v) as string[]) : []);

/** A `promotions` row as the decisions take it. */
export function toPromotion(r: Record<string, unknown>): Promotion {
  return {
    id: Number(r.id),
    code: String(r.code),
    active: Boolean(Number(r.active)),
    kind: String(r.kind) as PromotionKind,
    appliesTo: String(r.applies_to) as PromotionTarget,
    percentBp: num(r.percent_bp),
    amount: num(r.amount),
    buyQuantity: num(r.buy_quantity),
    getQuantity: num(r.get_quantity),
    currency: (r.currency as string | null) ?? null,
    minOrderAmount: num(r.min_order_amount),
    minOrderQuantity: num(r.min_order_quantity),
    validFrom: (r.valid_from as string | null) ?? null,
    validTo: (r.valid_to as string | null) ?? null,
    customers: list(r.customers),
    groups: list(r.customer_groups),
    channels: list(r.channels),
    skus: list(r.skus),
    requiresCode: Boolean(Number(r.requires_code)),
    usageLimit: num(r.usage_limit),
    customerLimit: num(r.customer_limit),
  };
}

/** A promotion with a limit keeps its `used` counter (and processing locks it). */
export const isLimited = (p: { usageLimit: number | null; customerLimit: number | null }) =>
  p.usageLimit !== null || p.customerLimit !== null;

function viewOf(r: Record<string, unknown>, used: number): PromotionView {
  const p = toPromotion(r);
  return {
    code: p.code,
    name: String(r.name),
    active: p.active,
    kind: p.kind,
    appliesTo: p.appliesTo,
    percent: p.percentBp === null ? null : p.percentBp / 100,
    amount: p.amount,
    buy: p.buyQuantity,
    get: p.getQuantity,
    currency: p.currency,
    minOrderAmount: p.minOrderAmount,
    minOrderQuantity: p.minOrderQuantity,
    validFrom: p.validFrom,
    validTo: p.validTo,
    customers: [...p.customers],
    groups: [...p.groups],
    channels: [...p.channels],
    skus: [...p.skus],
    requiresCode: p.requiresCode,
    usageLimit: p.usageLimit,
    customerLimit: p.customerLimit,
    used,
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

async function usesOf(db: Conn, ids: readonly number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = (await db(PROMOTION_USES)
    .whereIn('promotion_id', ids)
    .groupBy('promotion_id')
    .select('promotion_id')
    .sum({ n: 'delta' })) as { promotion_id: number; n: number | null }[];
  return new Map(rows.map((r) => [Number(r.promotion_id), Number(r.n ?? 0)]));
}

export async function listPromotions(db: Db): Promise<PromotionView[]> {
  const rows = await db(PROMOTIONS).orderBy('code');
  const uses = await usesOf(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => viewOf(r, uses.get(Number(r.id)) ?? 0));
}

export async function getPromotion(db: Conn, code: string): Promise<PromotionView> {
  const row = await db(PROMOTIONS).where({ code }).first();
  if (!row) throw notFound(`promotion ${code}`);
  return viewOf(row, (await usesOf(db, [Number(row.id)])).get(Number(row.id)) ?? 0);
}

function columnsOf(input: PromotionInput) {
  return {
    name: input.name,
    active: input.active ? 1 : 0,
    kind: input.kind,
    applies_to: input.kind === 'buy_x_get_y' ? 'line' : input.appliesTo,
    percent_bp: input.percent == null ? null : Math.round(input.percent * 100),
    amount: input.amount ?? null,
    buy_quantity: input.buy ?? null,
    get_quantity: input.get ?? null,
    currency: input.currency ?? null,
    min_order_amount: input.minOrderAmount ?? null,
    min_order_quantity: input.minOrderQuantity ?? null,
    valid_from: input.validFrom ?? null,
    valid_to: input.validTo ?? null,
    customers: JSON.stringify(input.customers),
    customer_groups: JSON.stringify(input.groups),
    channels: JSON.stringify(input.channels),
    skus: JSON.stringify(input.skus),
    requires_code: input.requiresCode ? 1 : 0,
    usage_limit: input.usageLimit ?? null,
    customer_limit: input.customerLimit ?? null,
  };
}

/**
 * Creates or replaces a promotion (PUT by code: the same request twice changes nothing). The row is
 * locked first, so a change waits for the orders being processed with its counter. A limit can be
 * given to a promotion only before it is used (its counter starts with its first limited use):
 * 409 `promotion_in_use` otherwise — end it (`active: false`) and create another.
 */
export async function putPromotion(
  db: Db,
  code: string,
  input: PromotionInput,
): Promise<{ promotion: PromotionView; created: boolean }> {
  try {
    return await writePromotion(db, code, input);
  } catch (err) {
    // The same new code created by another request at the same moment: it is an update now.
    if (!isDuplicateKeyError(err)) throw err;
    return writePromotion(db, code, input);
  }
}

async function writePromotion(db: Db, code: string, input: PromotionInput) {
  const created = await withTransaction(db, async (tx) => {
    const now = dbTime();
    const [found = []] = await rawRows(tx, `SELECT * FROM promotions WHERE code = ?${lockClause(tx)}`, [
      code,
    ]);
    const columns = columnsOf(input);
    const existing = found[0];
    if (!existing) {
      await tx(PROMOTIONS).insert({ code, ...columns, used: 0, created_at: now, updated_at: now });
      return true;
    }
    const before = toPromotion(existing);
    const changed = Object.entries(columns).some(([k, v]) => {
      const old = existing[k];
      return (old === null || old === undefined ? null : String(old)) !== (v === null ? null : String(v));
    });
    if (!changed) return false;
    const limitedNow = isLimited({ usageLimit: columns.usage_limit, customerLimit: columns.customer_limit });
    if (limitedNow && !isLimited(before)) {
      const used = (await usesOf(tx, [before.id])).get(before.id) ?? 0;
      const taken = await tx(PROMOTION_USES).where({ promotion_id: before.id }).first('id');
      if (taken)
        throw conflict(
          'promotion_in_use',
          `promotion ${before.code} has been used (${used} now) without a limit; a limit can only be given before its first use — end it and create another`,
          { used },
        );
    }
    const usedNow = Number(existing.used);
    if (isLimited(before) && columns.usage_limit !== null && columns.usage_limit < usedNow)
      throw conflict(
        'limit_below_uses',
        `promotion ${before.code} is used ${usedNow} times; its limit cannot be less`,
        { used: usedNow },
      );
    await tx(PROMOTIONS)
      .where({ id: before.id })
      .update({ ...columns, updated_at: now });
    return false;
  });
  return { promotion: await getPromotion(db, code), created };
}

/** Deletes a promotion no order has used; 409 `promotion_in_use` once one has (end it instead). */
export async function deletePromotion(db: Db, code: string): Promise<void> {
  await withTransaction(db, async (tx) => {
    const [found = []] = await rawRows(tx, `SELECT id FROM promotions WHERE code = ?${lockClause(tx)}`, [
      code,
    ]);
    const row = found[0];
    if (!row) throw notFound(`promotion ${code}`);
    const used = await tx(PROMOTION_USES).where({ promotion_id: row.id }).first('id');
    if (used)
      throw conflict(
        'promotion_in_use',
        `promotion ${code} has been used by orders; end it with active: false`,
      );
    await tx(PROMOTIONS).where({ id: row.id }).delete();
  });
}

/**
 * Locks, in one sorted pass, every promotion counter a change to a reserved order's lines may
 * touch: those of the limited promotions it took (given back first), and those the promotion
 * rule's `load` locks for it afterwards (limited, active, in force on the order's business date
 * `date`, without a code or with one the order names). Taking both sets in id order here keeps
 * the lock order among promotion counters when the give-back and the new take meet other orders.
 */
export async function lockPromotionCountersOf(tx: Tx, orderId: number, date: string): Promise<void> {
  await rawRows(
    tx,
    'SELECT id FROM promotions WHERE (usage_limit IS NOT NULL OR customer_limit IS NOT NULL) AND (' +
      'id IN (SELECT promotion_id FROM promotion_uses WHERE order_id = ?) OR (active = 1 ' +
      'AND (valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?) ' +
      'AND (requires_code = 0 OR code IN (SELECT code FROM order_promotion_codes WHERE order_id = ?)))' +
      `) ORDER BY id${lockClause(tx)}`,
    [orderId, date, date, orderId],
  );
}

/**
 * Gives back the promotion uses of an order being cancelled, inside the canceller's transaction
 * (the order is locked): locks the counters of its limited promotions in id order (promotion
 * counters come before stock rows in the lock order), takes its uses off them, and appends the
 * give-back to the uses ledger. An order that took no promotion costs one read.
 */
export async function returnPromotionUses(tx: Tx, orderId: number, now = dbTime()): Promise<void> {
  const [held = []] = await rawRows(
    tx,
    'SELECT promotion_id, customer_id, SUM(delta) AS n FROM promotion_uses WHERE order_id = ? ' +
      'GROUP BY promotion_id, customer_id HAVING SUM(delta) > 0 ORDER BY promotion_id',
    [orderId],
  );
  if (held.length === 0) return;
  const ids = [...new Set(held.map((r) => Number(r.promotion_id)))];
  const [locked = []] = await rawRows(
    tx,
    `SELECT id, usage_limit, customer_limit FROM promotions WHERE id IN (${ids.map(() => '?').join(', ')}) ` +
      `AND (usage_limit IS NOT NULL OR customer_limit IS NOT NULL) ORDER BY id${lockClause(tx)}`,
    ids,
  );
  const limited = new Set(locked.map((r) => Number(r.id)));
  const batch = new WriteBatch(tx);
  for (const r of held) {
    const id = Number(r.promotion_id);
    const n = Number(r.n);
    if (limited.has(id)) batch.addSql('UPDATE promotions SET used = used - ? WHERE id = ?', [n, id]);
    batch.addSql(
      'INSERT INTO promotion_uses (promotion_id, order_id, customer_id, delta, created_at) VALUES (?, ?, ?, ?, ?)',
      [id, orderId, r.customer_id ?? null, -n, now],
    );
  }
  await batch.flush();
}

/** The promotions an order took, per line (`lineId`) and on the order (`lineId` null), for the order view. */
export async function orderPromotions(
  db: Conn,
  orderId: number,
): Promise<{ lineId: number | null; code: string; name: string; discount: number }[]> {
  const rows = await db(`${ORDER_LINE_PROMOTIONS} as olp`)
    .join(`${PROMOTIONS} as p`, 'p.id', 'olp.promotion_id')
    .where('olp.order_id', orderId)
    .orderBy('olp.id')
    .select('olp.order_line_id', 'p.code', 'p.name', 'olp.discount_amount');
  return rows.map((r) => ({
    lineId: num(r.order_line_id),
    code: String(r.code),
    name: String(r.name),
    discount: Number(r.discount_amount),
  }));
}
