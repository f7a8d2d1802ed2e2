import { type Conn, type Db, dbTime, forUpdate, isoTime, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import type { CustomerBody, SalespersonBody } from '../domain/customer.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { emailKey } from './order-customer.js';

/**
 * Trade customers and salespeople: the records people keep (channel customers, group `retail`,
 * are created by intake and have no code). Writes lock the row they change first; a `PUT` of what
 * is already stored writes nothing and says `unchanged`.
 */

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface CustomerView extends CustomerBody {
  code: string;
  createdAt: string | null;
  updatedAt: string | null;
}

type Row = Record<string, unknown>;

const json = <T>(value: unknown, fallback: T): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : fallback;
const orNull = <T>(value: T | null | undefined): T | null => (value === undefined ? null : value);
const truthy = (value: unknown) => value === true || Number(value) === 1;

/** A body with what the database makes of it already applied (e-mails in lower case), its keys in one order. */
function canonical(b: CustomerBody): CustomerBody {
  return {
    name: b.name,
    group: b.group,
    salesperson: b.salesperson,
    currency: b.currency,
    language: b.language,
    timeZone: b.timeZone,
    taxId: b.taxId,
    billingAddress: b.billingAddress,
    shippingAddress: b.shippingAddress,
    contacts: b.contacts.map((c) => ({
      ...(c.name ? { name: c.name } : {}),
      ...(c.email ? { email: emailKey(c.email) } : {}),
      ...(c.phone ? { phone: c.phone } : {}),
    })),
    paymentTermsDays: b.paymentTermsDays,
    creditLimit: b.creditLimit,
    onHold: b.onHold,
    onHoldReason: b.onHoldReason,
    company: b.company,
    tags: b.tags,
    invoicePolicy: b.invoicePolicy,
    overdueHold: b.overdueHold,
  };
}

function bodyOf(r: Row, contacts: readonly Row[], salesperson: string | null): CustomerBody {
  return canonical({
    name: String(r.name ?? ''),
    group: String(r.customer_group),
    salesperson,
    currency: orNull(r.currency as string | null),
    language: orNull(r.language as CustomerBody['language']),
    timeZone: orNull(r.time_zone as string | null),
    taxId: orNull(r.tax_id as string | null),
    billingAddress: json(r.billing_address, null),
    shippingAddress: json(r.shipping_address, null),
    contacts: contacts.map((c) => ({
      ...(c.name ? { name: String(c.name) } : {}),
      ...(c.email ? { email: String(c.email) } : {}),
      ...(c.phone ? { phone: String(c.phone) } : {}),
    })),
    paymentTermsDays: r.payment_terms_days === null ? null : Number(r.payment_terms_days),
    creditLimit:
      r.credit_limit === null
        ? null
        : { amount: Number(r.credit_limit), currency: String(r.credit_currency) },
    onHold: truthy(r.on_hold),
    onHoldReason: orNull(r.on_hold_reason as string | null),
    company: orNull(r.company as string | null),
    tags: json(r.tags, []),
    invoicePolicy: (r.invoice_policy as CustomerBody['invoicePolicy'] | undefined) ?? 'on_shipment',
    overdueHold: truthy(r.overdue_hold),
  });
}

function customerColumns(b: CustomerBody, salespersonId: number | null, now: string) {
  return {
    name: b.name,
    customer_group: b.group,
    salesperson_id: salespersonId,
    currency: b.currency,
    language: b.language,
    time_zone: b.timeZone,
    tax_id: b.taxId,
    billing_address: b.billingAddress ? JSON.stringify(b.billingAddress) : null,
    shipping_address: b.shippingAddress ? JSON.stringify(b.shippingAddress) : null,
    payment_terms_days: b.paymentTermsDays,
    credit_limit: b.creditLimit?.amount ?? null,
    credit_currency: b.creditLimit?.currency ?? null,
    on_hold: b.onHold,
    on_hold_reason: b.onHoldReason,
    company: b.company,
    tags: b.tags.length ? JSON.stringify(b.tags) : null,
    invoice_policy: b.invoicePolicy,
    overdue_hold: b.overdueHold,
    updated_at: now,
  };
}

async function contactsOf(db: Conn, customerIds: readonly number[]): Promise<Map<number, Row[]>> {
  const out = new Map<number, Row[]>();
  if (customerIds.length === 0) return out;
  const rows = await db('customer_contacts')
    .whereIn('customer_id', customerIds)
    .orderBy(['customer_id', 'position']);
  for (const r of rows) {
    const list = out.get(Number(r.customer_id)) ?? [];
    list.push(r);
    out.set(Number(r.customer_id), list);
  }
  return out;
}

const customerSelect = (db: Conn) =>
  db('customers as c')
    .leftJoin('salespeople as s', 's.id', 'c.salesperson_id')
    .whereNotNull('c.code')
    .select('c.*', 's.code as salesperson_code');

async function views(db: Conn, rows: readonly Row[]): Promise<CustomerView[]> {
  const contacts = await contactsOf(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => ({
    code: String(r.code),
    ...bodyOf(r, contacts.get(Number(r.id)) ?? [], orNull(r.salesperson_code as string | null)),
    createdAt: isoTime(r.created_at as string),
    updatedAt: isoTime(r.updated_at as string),
  }));
}

export async function customerDetail(db: Conn, code: string): Promise<CustomerView> {
  const row = await customerSelect(db).where('c.code', code).first();
  if (!row) throw notFound(`customer ${code}`);
  return (await views(db, [row]))[0]!;
}

/** `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `!` taken literally. */
const containsPattern = (text: string) => `%${text.toLowerCase().replace(/[!%_]/g, (ch) => `!${ch}`)}%`;

/**
 * Trade customers newest first, by id; `q` finds part of the code, the name or a contact's e-mail
 * in any case; `salesperson` and `group` filter by code.
 */
export async function listCustomers(
  db: Conn,
  filter: {
    q?: string | undefined;
    group?: string | undefined;
    salesperson?: string | undefined;
    limit: number;
  },
  beforeId: number | null,
) {
  let q = customerSelect(db);
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    q = q.where((w) =>
      w
        .whereRaw("LOWER(c.code) LIKE ? ESCAPE '!'", [pattern])
        .orWhereRaw("LOWER(c.name) LIKE ? ESCAPE '!'", [pattern])
        .orWhereExists(
          db('customer_contacts as cc')
            .whereRaw('cc.customer_id = c.id')
            .whereRaw("cc.email LIKE ? ESCAPE '!'", [pattern]),
        ),
    );
  }
  if (filter.group) q = q.where('c.customer_group', filter.group);
  if (filter.salesperson) q = q.where('s.code', filter.salesperson);
  if (beforeId !== null) q = q.where('c.id', '<', beforeId);
  const rows = await q.orderBy('c.id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    items: await views(db, page),
    nextId: rows.length > filter.limit && last ? Number(last.id) : null,
  };
}

async function salespersonId(tx: Tx, code: string | null): Promise<number | null> {
  if (code === null) return null;
  const row = await tx('salespeople').where({ code }).first('id');
  if (!row)
    throw unprocessable('unknown_salesperson', `unknown salesperson ${code}: create it first`, { code });
  return Number(row.id);
}

/** Retries once when another writer created the same code between our locking read and our insert. */
async function createOrFind<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await withTransaction(db, work);
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    return withTransaction(db, work);
  }
}

/** Creates or replaces the trade customer with this code; the same body again changes nothing. */
export async function upsertCustomer(
  db: Db,
  code: string,
  input: CustomerBody,
): Promise<{ outcome: UpsertOutcome; customer: CustomerView }> {
  const body = canonical(input);
  const outcome = await createOrFind(db, async (tx) => {
    const existing = await forUpdate(customerSelect(tx).where('c.code', code), tx).first();
    const spId = await salespersonId(tx, body.salesperson);
    const now = dbTime();
    if (existing) {
      const id = Number(existing.id);
      const stored = bodyOf(
        existing,
        (await contactsOf(tx, [id])).get(id) ?? [],
        existing.salesperson_code ?? null,
      );
      if (JSON.stringify(stored) === JSON.stringify(body)) return 'unchanged' as const;
      await tx('customers')
        .where({ id })
        .update(customerColumns(body, spId, now));
      await writeContacts(tx, id, body);
      return 'updated' as const;
    }
    const [id] = await tx('customers').insert({ code, ...customerColumns(body, spId, now), created_at: now });
    await writeContacts(tx, Number(id), body);
    return 'created' as const;
  });
  return { outcome, customer: await customerDetail(db, code) };
}

async function writeContacts(tx: Tx, customerId: number, body: CustomerBody): Promise<void> {
  await tx('customer_contacts').where({ customer_id: customerId }).delete();
  if (body.contacts.length === 0) return;
  await tx('customer_contacts').insert(
    body.contacts.map((c, i) => ({
      customer_id: customerId,
      position: i + 1,
      name: c.name ?? null,
      email: c.email ?? null,
      phone: c.phone ?? null,
    })),
  );
}

/**
 * Deletes a trade customer that has no orders (its contacts and channel mappings go with it). One
 * with orders is refused (409): its orders and their history keep naming it; put it on hold instead.
 */
export async function deleteCustomer(db: Db, code: string): Promise<void> {
  await withTransaction(db, async (tx) => {
    const row = await forUpdate(tx('customers').where({ code }), tx).first('id');
    if (!row) throw notFound(`customer ${code}`);
    const orders = await tx('orders').where({ customer_id: row.id }).count({ n: '*' });
    const n = Number(orders[0]?.n ?? 0);
    if (n > 0)
      throw conflict(
        'customer_has_orders',
        `customer ${code} has ${n} order(s) and cannot be deleted; put it on hold instead`,
        { orders: n },
      );
    await tx('customer_contacts').where({ customer_id: row.id }).delete();
    await tx('channel_customer_map').where({ customer_id: row.id }).delete();
    await tx('customers').where({ id: row.id }).delete();
  });
}

// Salespeople ---------------------------------------------------------------------------------

export interface SalespersonView extends SalespersonBody {
  code: string;
}

const salespersonView = (r: Row): SalespersonView => ({
  code: String(r.code),
  name: String(r.name),
  email: orNull(r.email as string | null),
  creditLimit:
    r.credit_limit === null ? null : { amount: Number(r.credit_limit), currency: String(r.credit_currency) },
  active: truthy(r.active),
});

export async function salespersonDetail(db: Conn, code: string): Promise<SalespersonView> {
  const row = await db('salespeople').where({ code }).first();
  if (!row) throw notFound(`salesperson ${code}`);
  return salespersonView(row);
}

export async function listSalespeople(db: Conn, filter: { limit: number }, beforeId: number | null) {
  let q = db('salespeople');
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(salespersonView),
    nextId: rows.length > filter.limit && last ? Number(last.id) : null,
  };
}

export async function upsertSalesperson(
  db: Db,
  code: string,
  input: SalespersonBody,
): Promise<{ outcome: UpsertOutcome; salesperson: SalespersonView }> {
  const body: SalespersonBody = {
    name: input.name,
    email: input.email === null ? null : emailKey(input.email),
    creditLimit: input.creditLimit,
    active: input.active,
  };
  const columns = (now: string) => ({
    name: body.name,
    email: body.email,
    credit_limit: body.creditLimit?.amount ?? null,
    credit_currency: body.creditLimit?.currency ?? null,
    active: body.active,
    updated_at: now,
  });
  const outcome = await createOrFind(db, async (tx) => {
    const existing = await forUpdate(tx('salespeople').where({ code }), tx).first();
    const now = dbTime();
    if (existing) {
      const { code: _code, ...stored } = salespersonView(existing);
      if (JSON.stringify(stored) === JSON.stringify(body)) return 'unchanged' as const;
      await tx('salespeople').where({ id: existing.id }).update(columns(now));
      return 'updated' as const;
    }
    await tx('salespeople').insert({ code, ...columns(now), created_at: now });
    return 'created' as const;
  });
  return { outcome, salesperson: await salespersonDetail(db, code) };
}

/** Deletes a salesperson no customer names (409 otherwise: reassign them, or set `active: false`). */
export async function deleteSalesperson(db: Db, code: string): Promise<void> {
  await withTransaction(db, async (tx) => {
    const row = await forUpdate(tx('salespeople').where({ code }), tx).first('id');
    if (!row) throw notFound(`salesperson ${code}`);
    const [count] = await tx('customers').where({ salesperson_id: row.id }).count({ n: '*' });
    const n = Number(count?.n ?? 0);
    if (n > 0)
      throw conflict(
        'salesperson_has_customers',
        `salesperson ${code} has ${n} customer(s); assign them to someone else or set active to false`,
        { customers: n },
      );
    await tx('salespeople').where({ id: row.id }).delete();
  });
}
