import { bookingDate, recordManyCreditPayments } from '../customers/credit.js';
import { type Conn, type Db, dbTime, isoTime, lockClause, rawRows, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import {
  allocate,
  type OpenInvoice,
  oldestFirst,
  type PaymentInput,
  type PaymentSource,
  paymentRequestHash,
} from '../domain/payments.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';

/**
 * Customer receipts (README "Payments"): recorded idempotently on (customer, reference), applied
 * to the customer's open invoices in the receipt's currency, the rest kept on account.
 *
 * Lock order (ARCHITECTURE.md): the customer row first — every payment of a customer queues there,
 * so two receipts never apply to the same invoice at once — then the payment row (when applying
 * one already on account), then its invoices in one locking read, and only then the credit
 * counters (`recordCreditPayment`), so a posting that waits on those counters never waits on a
 * payment that waits on it.
 */

type Row = Record<string, unknown>;
const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');

export interface AllocationView {
  invoice: string;
  amount: number;
  appliedOn: string;
  actor: string;
  createdAt: string;
}

export interface PaymentView {
  id: number;
  customer: string | null;
  reference: string;
  amount: number;
  currency: string;
  receivedOn: string;
  method: string;
  source: string;
  channel: string | null;
  orderId: number | null;
  importId: number | null;
  /** Applied to invoices. */
  applied: number;
  /** On account: amount − applied − paidOut. */
  unapplied: number;
  /** A channel receipt: what its channel paid back to the buyer (its payouts). */
  paidOut: number;
  /** A payout (negative amount): the receipt whose money the channel paid back. */
  payoutOf: number | null;
  note: string | null;
  actor: string;
  createdAt: string;
  allocations: AllocationView[];
}

export interface RecordOptions {
  source: PaymentSource;
  actor: string;
  importId?: number | null;
  channel?: string | null;
  orderId?: number | null;
}

export interface Recorded {
  payment: PaymentView;
  /** False when the same receipt was recorded before (the answer is the existing payment). */
  created: boolean;
}

/** Locks the customer row by its code; 422 when there is none (a receipt never creates a customer). */
async function lockCustomer(tx: Tx, code: string): Promise<{ id: number; code: string }> {
  const [rows = []] = await rawRows(tx, `SELECT id, code FROM customers WHERE code = ?${lockClause(tx)}`, [
    code,
  ]);
  const r = rows[0];
  if (!r) throw unprocessable('unknown_customer', `no customer with the code ${code}`, { customer: code });
  return { id: Number(r.id), code: String(r.code) };
}

/** What has been credited against each invoice (sum of its credit notes' totals). */
async function creditedOf(tx: Conn, ids: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (ids.length === 0) return out;
  const [rows = []] = await rawRows(
    tx,
    'SELECT credits_invoice_id AS id, SUM(total) AS credited FROM invoices ' +
      `WHERE credits_invoice_id IN (${marks(ids)}) AND type = 'credit_note' GROUP BY credits_invoice_id`,
    ids,
  );
  for (const r of rows) out.set(Number(r.id), Number(r.credited ?? 0));
  return out;
}

interface LockedInvoice extends OpenInvoice {
  customerId: number | null;
  currency: string;
  type: string;
}

const invoiceOf = (r: Row, credited: Map<number, number>): LockedInvoice => ({
  id: Number(r.id),
  number: String(r.number),
  customerId: r.customer_id === null ? null : Number(r.customer_id),
  currency: String(r.currency),
  type: String(r.type),
  dueDate: String(r.due_date),
  issueDate: String(r.issue_date),
  open: Number(r.total) - Number(r.paid) - (credited.get(Number(r.id)) ?? 0),
});

const INVOICE_FIELDS = 'id, number, customer_id, currency, type, due_date, issue_date, total, paid';
/** Open invoices read per page when money goes to the oldest first. */
const PAGE = 50;

/**
 * The invoices money goes to, locked (the customer is locked already): the named ones, in the
 * order named — each must be an open invoice of this customer in this currency, or nothing is
 * stored (422 listing every bad one) — else the customer's open invoices in the currency, oldest
 * first.
 */
async function lockTargets(
  tx: Tx,
  customerId: number,
  currency: string,
  named: readonly string[] | undefined,
  want: number,
): Promise<LockedInvoice[]> {
  const lock = lockClause(tx);
  if (named && named.length > 0) {
    const [rows = []] = await rawRows(
      tx,
      `SELECT ${INVOICE_FIELDS} FROM invoices WHERE number IN (${marks(named)}) ORDER BY id${lock}`,
      named,
    );
    const credited = await creditedOf(
      tx,
      rows.map((r) => Number(r.id)),
    );
    const byNumber = new Map(rows.map((r) => [String(r.number), invoiceOf(r, credited)]));
    const problems: { invoice: string; reason: string }[] = [];
    const out: LockedInvoice[] = [];
    for (const number of named) {
      const inv = byNumber.get(number);
      if (!inv) problems.push({ invoice: number, reason: 'not_found' });
      else if (inv.type !== 'invoice') problems.push({ invoice: number, reason: 'not_an_invoice' });
      else if (inv.customerId !== customerId) problems.push({ invoice: number, reason: 'other_customer' });
      else if (inv.currency !== currency) problems.push({ invoice: number, reason: 'other_currency' });
      else if (inv.open <= 0) problems.push({ invoice: number, reason: 'not_open' });
      else out.push(inv);
    }
    if (problems.length > 0)
      throw unprocessable(
        'invoices_not_payable',
        `these invoices cannot take this payment: ${problems.map((p) => `${p.invoice} (${p.reason})`).join(', ')}`,
        { invoices: problems },
      );
    return out;
  }
  // Oldest first, a page at a time, until the amount is covered: a customer with many open
  // invoices has only those the receipt pays locked and read. The pages are stable: the customer
  // is locked, so no other payment changes what is open meanwhile.
  const out: LockedInvoice[] = [];
  let covered = 0;
  for (let page = 0; ; page++) {
    const [rows = []] = await rawRows(
      tx,
      `SELECT ${INVOICE_FIELDS} FROM invoices WHERE customer_id = ? AND currency = ? AND type = 'invoice' ` +
        `AND paid < total ORDER BY due_date, issue_date, id LIMIT ${PAGE} OFFSET ${page * PAGE}${lock}`,
      [customerId, currency],
    );
    const credited = await creditedOf(
      tx,
      rows.map((r) => Number(r.id)),
    );
    for (const inv of rows.map((r) => invoiceOf(r, credited)))
      if (inv.open > 0) {
        out.push(inv);
        covered += inv.open;
      }
    if (rows.length < PAGE || covered >= want) return oldestFirst(out);
  }
}

/**
 * Writes allocations of a payment to locked invoices: the allocation rows, `invoices.paid`, the
 * payment's `unapplied`, and the credit counters' unpaid invoices.
 */
async function writeAllocations(
  tx: Tx,
  payment: { id: number; currency: string },
  allocations: readonly { invoiceId: number; amount: number }[],
  appliedOn: string,
  actor: string,
  now: string,
): Promise<void> {
  if (allocations.length === 0) return;
  const total = allocations.reduce((s, a) => s + a.amount, 0);
  await tx('payment_allocations').insert(
    allocations.map((a) => ({
      payment_id: payment.id,
      invoice_id: a.invoiceId,
      amount: a.amount,
      applied_on: appliedOn,
      actor: actor.slice(0, 64),
      created_at: now,
    })),
  );
  const batch = new WriteBatch(tx);
  for (const a of allocations)
    batch.addSql('UPDATE invoices SET paid = paid + ? WHERE id = ?', [a.amount, a.invoiceId]);
  batch.addSql('UPDATE payments SET unapplied = unapplied - ? WHERE id = ?', [total, payment.id]);
  await batch.flush();
  await recordManyCreditPayments(
    tx,
    allocations.map((a) => ({ invoiceId: a.invoiceId, amount: a.amount, currency: payment.currency, actor })),
    now,
  );
}

/**
 * Records a receipt in the caller's transaction (the caller locks nothing before: the customer row
 * is this function's first lock). A repeat of the customer's reference with the same figures
 * answers the existing payment; with other figures it is refused (409).
 */
export async function recordPaymentLocked(
  tx: Tx,
  input: PaymentInput,
  options: RecordOptions,
): Promise<Recorded> {
  const now = dbTime();
  const customer = await lockCustomer(tx, input.customer);
  const hash = paymentRequestHash(input);
  const existing = await tx('payments')
    .where({ customer_id: customer.id, reference: input.reference })
    .first('id', 'request_hash');
  if (existing) {
    if (existing.request_hash !== hash)
      throw conflict(
        'payment_reference_reused',
        `customer ${customer.code} has a payment with the reference ${input.reference} and other figures`,
        { customer: customer.code, reference: input.reference, payment: Number(existing.id) },
      );
    return { payment: (await loadPayments(tx, [Number(existing.id)]))[0]!, created: false };
  }
  const targets = await lockTargets(tx, customer.id, input.currency, input.invoices, input.amount);
  const { allocations } = allocate(input.amount, targets);
  let id: number;
  try {
    const [inserted] = await tx('payments').insert({
      customer_id: customer.id,
      reference: input.reference,
      amount: input.amount,
      currency: input.currency,
      received_on: input.receivedOn,
      method: input.method,
      source: options.source,
      import_id: options.importId ?? null,
      channel: options.channel ?? null,
      order_id: options.orderId ?? null,
      unapplied: input.amount,
      note: input.note ?? null,
      actor: options.actor.slice(0, 64),
      request_hash: hash,
      created_at: now,
    });
    id = Number(inserted);
  } catch (err) {
    // Not reached while the customer row is locked first; kept as the backstop of the unique key.
    if (isDuplicateKeyError(err))
      throw conflict('payment_reference_reused', `payment ${input.reference} was recorded meanwhile`);
    throw err;
  }
  await writeAllocations(
    tx,
    { id, currency: input.currency },
    allocations,
    input.receivedOn,
    options.actor,
    now,
  );
  return { payment: (await loadPayments(tx, [id]))[0]!, created: true };
}

/** `recordPaymentLocked` in a transaction of its own. */
export function recordPayment(db: Db, input: PaymentInput, options: RecordOptions): Promise<Recorded> {
  return withTransaction(db, (tx) => recordPaymentLocked(tx, input, options));
}

/**
 * Applies what a payment has on account to open invoices of its customer in its currency: the
 * named ones in the order named, else the oldest first. A payment with nothing on account, or a
 * customer with nothing open, applies nothing (the answer says so in `appliedNow`).
 */
export async function applyPayment(
  db: Db,
  paymentId: number,
  named: readonly string[] | undefined,
  actor: string,
): Promise<{ payment: PaymentView; appliedNow: { invoice: string; amount: number }[] }> {
  const found = await db('payments as p')
    .join('customers as c', 'c.id', 'p.customer_id')
    .where('p.id', paymentId)
    .first('c.code');
  if (!found) throw notFound(`payment ${paymentId}`);
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const customer = await lockCustomer(tx, String(found.code));
    const [rows = []] = await rawRows(
      tx,
      `SELECT id, customer_id, currency, unapplied FROM payments WHERE id = ?${lockClause(tx)}`,
      [paymentId],
    );
    const p = rows[0]!;
    if (Number(p.customer_id) !== customer.id)
      throw conflict('payment_moved', 'the payment changed customer');
    const unapplied = Number(p.unapplied);
    const currency = String(p.currency);
    let allocations: { invoiceId: number; amount: number }[] = [];
    let targets: LockedInvoice[] = [];
    if (unapplied > 0 || (named && named.length > 0)) {
      targets = await lockTargets(tx, customer.id, currency, named, unapplied);
      allocations = allocate(unapplied, targets).allocations;
    }
    await writeAllocations(tx, { id: paymentId, currency }, allocations, bookingDate(now), actor, now);
    const numberOf = new Map(targets.map((t) => [t.id, t.number]));
    return {
      payment: (await loadPayments(tx, [paymentId]))[0]!,
      appliedNow: allocations.map((a) => ({ invoice: numberOf.get(a.invoiceId)!, amount: a.amount })),
    };
  });
}

/** Payments by id, with their allocations, in the order of `ids`. */
export async function loadPayments(conn: Conn, ids: readonly number[]): Promise<PaymentView[]> {
  if (ids.length === 0) return [];
  const out: PaymentView[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [heads = [], allocs = [], payouts = []] = await rawRows(
      conn,
      `SELECT p.*, c.code AS customer_code FROM payments p JOIN customers c ON c.id = p.customer_id WHERE p.id IN (${marks(chunk)}); ` +
        'SELECT a.payment_id, a.amount, a.applied_on, a.actor, a.created_at, i.number FROM payment_allocations a ' +
        `JOIN invoices i ON i.id = a.invoice_id WHERE a.payment_id IN (${marks(chunk)}) ORDER BY a.id; ` +
        `SELECT payout_of, SUM(amount) AS amount FROM payments WHERE payout_of IN (${marks(chunk)}) GROUP BY payout_of`,
      [...chunk, ...chunk, ...chunk],
    );
    const paidOutOf = new Map(payouts.map((p) => [Number(p.payout_of), -Number(p.amount ?? 0)]));
    const allocsOf = new Map<number, AllocationView[]>();
    for (const a of allocs) {
      const list = allocsOf.get(Number(a.payment_id)) ?? [];
      list.push({
        invoice: String(a.number),
        amount: Number(a.amount),
        appliedOn: String(a.applied_on),
        actor: String(a.actor),
        createdAt: isoTime(a.created_at as string) as string,
      });
      allocsOf.set(Number(a.payment_id), list);
    }
    const byId = new Map(heads.map((h) => [Number(h.id), h]));
    for (const id of chunk) {
      const h = byId.get(id);
      if (!h) continue;
      const amount = Number(h.amount);
      const unapplied = Number(h.unapplied);
      const payoutOf = h.payout_of === null || h.payout_of === undefined ? null : Number(h.payout_of);
      const paidOut = paidOutOf.get(id) ?? 0;
      out.push({
        id,
        customer: (h.customer_code as string | null) ?? null,
        reference: String(h.reference),
        amount,
        currency: String(h.currency),
        receivedOn: String(h.received_on),
        method: String(h.method),
        source: String(h.source),
        channel: (h.channel as string | null) ?? null,
        orderId: h.order_id === null ? null : Number(h.order_id),
        importId: h.import_id === null ? null : Number(h.import_id),
        applied: payoutOf === null ? amount - unapplied - paidOut : 0,
        unapplied,
        paidOut,
        payoutOf,
        note: (h.note as string | null) ?? null,
        actor: String(h.actor),
        createdAt: isoTime(h.created_at as string) as string,
        allocations: allocsOf.get(id) ?? [],
      });
    }
  }
  return out;
}

/** One payment by id; 404 when there is none. */
export async function paymentById(conn: Conn, id: number): Promise<PaymentView> {
  const [view] = await loadPayments(conn, [id]);
  if (!view) throw notFound(`payment ${id}`);
  return view;
}

export interface PaymentFilter {
  customer?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
}

/** Payments newest first by id, by customer code and the dates they were received. */
export async function listPayments(conn: Conn, filter: PaymentFilter, beforeId: number | null) {
  let q = conn('payments as p').select('p.id');
  if (filter.customer) q = q.join('customers as c', 'c.id', 'p.customer_id').where('c.code', filter.customer);
  if (filter.from) q = q.where('p.received_on', '>=', filter.from);
  if (filter.to) q = q.where('p.received_on', '<=', filter.to);
  if (beforeId !== null) q = q.where('p.id', '<', beforeId);
  const rows = await q.orderBy('p.id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit).map((r) => Number(r.id));
  return {
    items: await loadPayments(conn, page),
    nextId: rows.length > filter.limit ? (page.at(-1) ?? null) : null,
  };
}
