import { type Conn, type Db, dbTime, isoTime, lockClause, rawRows, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { codeKey } from '../domain/codes.js';
import { findTie, type PriceLevel, type RuleKey } from '../domain/pricing.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';

/**
 * Price lists, their items and assignments: what people maintain. Every change runs in one
 * transaction that first locks all price list rows (in id order): price maintenance is rare, and
 * serialising it is what lets the tie check see every rule a change could tie with.
 */

export const PRICE_LISTS = 'price_lists';
export const PRICE_LIST_ITEMS = 'price_list_items';
export const PRICE_LIST_ASSIGNMENTS = 'price_list_assignments';

export interface PriceListInput {
  name: string;
  currency: string;
}

/** One item as the API and the sheet give it: a fixed `price`, or `percent` of list `basedOn`. */
export interface PriceItemInput {
  sku: string;
  minQuantity: number;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  price?: number | null | undefined;
  percent?: number | null | undefined;
  basedOn?: string | null | undefined;
}

export interface PriceItemView {
  id: number;
  sku: string;
  minQuantity: number;
  validFrom: string | null;
  validTo: string | null;
  price: number | null;
  percent: number | null;
  basedOn: string | null;
}

export interface AssignmentView {
  id: number;
  level: PriceLevel;
  /** The customer or group code; absent for the default. */
  customer?: string;
  group?: string;
}

export interface PriceListView {
  code: string;
  name: string;
  currency: string;
  assignments: AssignmentView[];
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

interface ListRow {
  id: number;
  code: string;
  name: string;
  currency: string;
}

/** Locks every price list (id order) and returns them: the first statement of each change. */
async function lockLists(tx: Tx): Promise<ListRow[]> {
  const [rows = []] = await rawRows(tx, `SELECT * FROM price_lists ORDER BY id${lockClause(tx)}`);
  return rows.map((r) => ({
    id: Number(r.id),
    code: String(r.code),
    name: String(r.name),
    currency: String(r.currency),
  }));
}

const byCode = (lists: readonly ListRow[], code: string) =>
  lists.find((l) => codeKey(l.code) === codeKey(code));

function requireList(lists: readonly ListRow[], code: string): ListRow {
  const list = byCode(lists, code);
  if (!list) throw notFound(`price list ${code}`);
  return list;
}

const toAssignment = (r: Record<string, unknown>): AssignmentView => {
  const level = String(r.kind) as PriceLevel;
  const base = { id: Number(r.id), level };
  if (level === 'customer') return { ...base, customer: String(r.target) };
  if (level === 'group') return { ...base, group: String(r.target) };
  return base;
};

async function viewOf(db: Conn, row: Record<string, unknown>): Promise<PriceListView> {
  const assignments = await db(PRICE_LIST_ASSIGNMENTS).where({ price_list_id: row.id }).orderBy('id');
  const [count] = (await db(PRICE_LIST_ITEMS).where({ price_list_id: row.id }).count({ n: '*' })) as {
    n: number;
  }[];
  return {
    code: String(row.code),
    name: String(row.name),
    currency: String(row.currency),
    assignments: assignments.map(toAssignment),
    itemCount: Number(count?.n ?? 0),
    createdAt: isoTime(row.created_at as string) as string,
    updatedAt: isoTime(row.updated_at as string) as string,
  };
}

export async function listPriceLists(db: Db): Promise<PriceListView[]> {
  const rows = await db(PRICE_LISTS).orderBy('code');
  return Promise.all(rows.map((r) => viewOf(db, r)));
}

export async function getPriceList(db: Db, code: string): Promise<PriceListView> {
  const row = await db(PRICE_LISTS).where({ code }).first();
  if (!row) throw notFound(`price list ${code}`);
  return viewOf(db, row);
}

/**
 * Creates a price list or renames it (PUT by code: the same request twice changes nothing). Its
 * currency is fixed once it has items: 409 to change it then.
 */
export async function putPriceList(
  db: Db,
  code: string,
  input: PriceListInput,
): Promise<{ list: PriceListView; created: boolean }> {
  try {
    return await writePriceList(db, code, input);
  } catch (err) {
    // The same new code created by another request at the same moment: it is an update now.
    if (!isDuplicateKeyError(err)) throw err;
    return writePriceList(db, code, input);
  }
}

async function writePriceList(
  db: Db,
  code: string,
  input: PriceListInput,
): Promise<{ list: PriceListView; created: boolean }> {
  const created = await withTransaction(db, async (tx) => {
    const lists = await lockLists(tx);
    const now = dbTime();
    const existing = byCode(lists, code);
    if (!existing) {
      await tx(PRICE_LISTS).insert({
        code,
        name: input.name,
        currency: input.currency,
        created_at: now,
        updated_at: now,
      });
      return true;
    }
    if (existing.currency !== input.currency) {
      const [n] = (await tx(PRICE_LIST_ITEMS).where({ price_list_id: existing.id }).count({ n: '*' })) as {
        n: number;
      }[];
      if (Number(n?.n ?? 0) > 0)
        throw conflict(
          'currency_fixed',
          `price list ${existing.code} has items in ${existing.currency}; its currency cannot change`,
          { currency: existing.currency },
        );
    }
    if (existing.name !== input.name || existing.currency !== input.currency)
      await tx(PRICE_LISTS)
        .where({ id: existing.id })
        .update({ name: input.name, currency: input.currency, updated_at: now });
    return false;
  });
  return { list: await getPriceList(db, code), created };
}

/** Deletes a list with its items and assignments; 409 while another list's items are based on it. */
export async function deletePriceList(db: Db, code: string): Promise<void> {
  await withTransaction(db, async (tx) => {
    const list = requireList(await lockLists(tx), code);
    const users = await tx(PRICE_LIST_ITEMS)
      .join(PRICE_LISTS, 'price_lists.id', 'price_list_items.price_list_id')
      .where('price_list_items.based_on_list_id', list.id)
      .whereNot('price_list_items.price_list_id', list.id)
      .distinct('price_lists.code');
    if (users.length > 0)
      throw conflict('price_list_in_use', `items of other price lists are based on ${list.code}`, {
        lists: users.map((u) => String(u.code)),
      });
    const transfer = await tx('transfers').where({ price_list_id: list.id }).first('ref');
    if (transfer)
      throw conflict('price_list_in_use', `intra-group transfer ${transfer.ref} was priced at ${list.code}`, {
        transfer: String(transfer.ref),
      });
    // A company whose transfers were priced at it has no transfer price list any more.
    await tx('companies').where({ transfer_price_list_id: list.id }).update({ transfer_price_list_id: null });
    await tx(PRICE_LIST_ASSIGNMENTS).where({ price_list_id: list.id }).delete();
    await tx(PRICE_LIST_ITEMS).where({ price_list_id: list.id }).delete();
    await tx(PRICE_LISTS).where({ id: list.id }).delete();
  });
}

const toItemView = (r: Record<string, unknown>, lists: ReadonlyMap<number, string>): PriceItemView => ({
  id: Number(r.id),
  sku: String(r.sku_code),
  minQuantity: Number(r.min_quantity),
  validFrom: (r.valid_from as string | null) ?? null,
  validTo: (r.valid_to as string | null) ?? null,
  price: r.price === null ? null : Number(r.price),
  percent: r.percent_bp === null ? null : Number(r.percent_bp) / 100,
  basedOn: r.based_on_list_id === null ? null : (lists.get(Number(r.based_on_list_id)) ?? null),
});

/** A list's items, by SKU, quantity break and validFrom. */
export async function priceListItems(
  db: Conn,
  code: string,
): Promise<{ list: ListRow; items: PriceItemView[] }> {
  const rows = await db(PRICE_LISTS).select('id', 'code', 'name', 'currency');
  const lists = rows.map((r) => ({
    id: Number(r.id),
    code: String(r.code),
    name: String(r.name),
    currency: String(r.currency),
  }));
  const list = requireList(lists, code);
  const items = await db(PRICE_LIST_ITEMS)
    .where({ price_list_id: list.id })
    .orderBy([
      { column: 'sku_code' },
      { column: 'min_quantity' },
      { column: 'valid_from' },
      { column: 'id' },
    ]);
  const codes = new Map(lists.map((l) => [l.id, l.code]));
  return { list, items: items.map((r) => toItemView(r, codes)) };
}

/** An item as stored. */
interface ItemRecord {
  sku_code: string;
  min_quantity: number;
  valid_from: string | null;
  valid_to: string | null;
  price: number | null;
  percent_bp: number | null;
  based_on_list_id: number | null;
}

const itemKey = (sku: string, minQuantity: number, validFrom: string | null) =>
  `${codeKey(sku)}\u0000${minQuantity}\u0000${validFrom ?? ''}`;

/** Checks the items against the lists and the catalogue; returns what to store, or throws naming every problem. */
async function itemRecords(
  tx: Tx,
  list: ListRow,
  lists: readonly ListRow[],
  items: readonly PriceItemInput[],
) {
  const problems: { path: string; message: string }[] = [];
  const records: ItemRecord[] = [];
  const skus = [...new Set(items.map((i) => i.sku))];
  const known = new Set<string>();
  for (let i = 0; i < skus.length; i += 500) {
    const found = await tx('skus')
      .whereIn('code', skus.slice(i, i + 500))
      .select('code');
    for (const f of found) known.add(codeKey(String(f.code)));
  }
  for (const [i, item] of items.entries()) {
    const at = (field: string) => `items.${i}.${field}`;
    if (!known.has(codeKey(item.sku))) problems.push({ path: at('sku'), message: `unknown SKU ${item.sku}` });
    const from = item.validFrom ?? null;
    const to = item.validTo ?? null;
    if (from !== null && to !== null && to < from)
      problems.push({ path: at('validTo'), message: `validTo ${to} is before validFrom ${from}` });
    let basedOn: ListRow | undefined;
    if (item.basedOn) {
      basedOn = byCode(lists, item.basedOn);
      if (!basedOn) problems.push({ path: at('basedOn'), message: `unknown price list ${item.basedOn}` });
      else if (basedOn.id === list.id)
        throw conflict('based_on_cycle', `an item of ${list.code} cannot be based on ${list.code} itself`, {
          lists: [list.code],
        });
      else if (basedOn.currency !== list.currency)
        problems.push({
          path: at('basedOn'),
          message: `price list ${basedOn.code} is in ${basedOn.currency}, ${list.code} in ${list.currency}`,
        });
    }
    records.push({
      sku_code: item.sku,
      min_quantity: item.minQuantity,
      valid_from: from,
      valid_to: to,
      price: item.price ?? null,
      percent_bp: item.percent === null || item.percent === undefined ? null : Math.round(item.percent * 100),
      based_on_list_id: basedOn?.id ?? null,
    });
  }
  if (problems.length > 0)
    throw unprocessable('invalid_items', 'some items are not valid; nothing was changed', problems);
  return records;
}

/**
 * One level of `basedOn`: a list whose items are based on another may not itself be the base of
 * any list, and its base may not be based on anything. Two lists based on each other are a cycle.
 */
async function checkBaseLevels(
  tx: Tx,
  list: ListRow,
  lists: readonly ListRow[],
  records: readonly ItemRecord[],
) {
  const codeOf = new Map(lists.map((l) => [l.id, l.code]));
  const bases = [
    ...new Set(records.flatMap((r) => (r.based_on_list_id === null ? [] : [r.based_on_list_id]))),
  ];
  if (bases.length > 0) {
    const baseOfBases = await tx(PRICE_LIST_ITEMS)
      .whereIn('price_list_id', bases)
      .whereNotNull('based_on_list_id')
      .distinct('price_list_id', 'based_on_list_id');
    const cycle = baseOfBases.find((r) => Number(r.based_on_list_id) === list.id);
    if (cycle)
      throw conflict(
        'based_on_cycle',
        `${codeOf.get(Number(cycle.price_list_id))} is based on ${list.code}: ${list.code} cannot be based on it`,
        { lists: [list.code, codeOf.get(Number(cycle.price_list_id))] },
      );
    if (baseOfBases.length > 0)
      throw conflict(
        'based_on_too_deep',
        `${codeOf.get(Number(baseOfBases[0]!.price_list_id))} is itself based on another list: only one level of basedOn`,
        { lists: [list.code, codeOf.get(Number(baseOfBases[0]!.price_list_id))] },
      );
    const users = await tx(PRICE_LIST_ITEMS)
      .where('based_on_list_id', list.id)
      .whereNot('price_list_id', list.id)
      .distinct('price_list_id');
    if (users.length > 0)
      throw conflict(
        'based_on_too_deep',
        `${codeOf.get(Number(users[0]!.price_list_id))} is based on ${list.code}: ${list.code} cannot be based on another list`,
        { lists: [list.code, codeOf.get(Number(users[0]!.price_list_id))] },
      );
  }
}

/** Where a list applies: its assignments, plus the list itself (two items of one list may never tie). */
async function assignmentsOf(tx: Tx, listIds: readonly number[]) {
  if (listIds.length === 0) return [];
  return (
    await tx(PRICE_LIST_ASSIGNMENTS)
      .whereIn('price_list_id', listIds)
      .select('price_list_id', 'kind', 'target')
  ).map((r) => ({
    listId: Number(r.price_list_id),
    level: String(r.kind) as PriceLevel,
    target: String(r.target),
  }));
}

/**
 * The tie check: the rules of the list as they would be (its items under each of its assignments)
 * with the rules of every other list sharing one of those assignments. 409 naming both rules.
 */
async function checkTies(
  tx: Tx,
  list: ListRow,
  lists: readonly ListRow[],
  items: readonly (ItemRecord & { id: number | null })[],
  assignments: readonly { level: PriceLevel; target: string }[],
) {
  const codeOf = new Map(lists.map((l) => [l.id, l]));
  const rules: RuleKey[] = [];
  const ruleOf = (
    listRow: ListRow,
    item: Pick<ItemRecord, 'sku_code' | 'min_quantity' | 'valid_from'> & { id: number | null },
    a: { level: PriceLevel; target: string },
  ): RuleKey => ({
    itemId: item.id,
    listCode: listRow.code,
    level: a.level,
    target: a.target,
    currency: listRow.currency,
    sku: item.sku_code,
    minQuantity: item.min_quantity,
    validFrom: item.valid_from,
  });
  // Within the list, under a scope of its own.
  for (const item of items)
    rules.push(ruleOf(list, item, { level: 'customer', target: `\u0000list:${list.id}` }));
  const tie = findTie(rules);
  if (tie) throw tieError(tie);
  if (assignments.length === 0) return;
  const shared = (
    await tx(PRICE_LIST_ASSIGNMENTS)
      .whereNot('price_list_id', list.id)
      .select('price_list_id', 'kind', 'target')
  )
    .map((r) => ({
      listId: Number(r.price_list_id),
      level: String(r.kind) as PriceLevel,
      target: String(r.target),
    }))
    .filter((o) => assignments.some((a) => a.level === o.level && codeKey(a.target) === codeKey(o.target)))
    .filter((o) => codeOf.get(o.listId)?.currency === list.currency);
  if (shared.length === 0) return;
  const skus = [...new Set(items.map((i) => i.sku_code))];
  const others: Record<string, unknown>[] = [];
  const otherLists = [...new Set(shared.map((s) => s.listId))];
  for (let i = 0; i < skus.length; i += 500)
    others.push(
      ...(await tx(PRICE_LIST_ITEMS)
        .whereIn('price_list_id', otherLists)
        .whereIn('sku_code', skus.slice(i, i + 500))
        .select('id', 'price_list_id', 'sku_code', 'min_quantity', 'valid_from')),
    );
  const scoped: RuleKey[] = [];
  for (const a of assignments) for (const item of items) scoped.push(ruleOf(list, item, a));
  for (const s of shared)
    for (const o of others)
      if (Number(o.price_list_id) === s.listId)
        scoped.push(
          ruleOf(
            codeOf.get(s.listId)!,
            {
              id: Number(o.id),
              sku_code: String(o.sku_code),
              min_quantity: Number(o.min_quantity),
              valid_from: (o.valid_from as string | null) ?? null,
            },
            s,
          ),
        );
  const sharedTie = findTie(scoped);
  if (sharedTie) throw tieError(sharedTie);
}

function tieError([a, b]: [RuleKey, RuleKey]) {
  const name = (r: RuleKey) =>
    `${r.listCode} ${r.sku} from ${r.minQuantity}${r.validFrom ? ` valid from ${r.validFrom}` : ''}${r.itemId ? ` (item ${r.itemId})` : ''}`;
  const view = (r: RuleKey) => ({
    list: r.listCode,
    itemId: r.itemId,
    sku: r.sku,
    minQuantity: r.minQuantity,
    validFrom: r.validFrom,
  });
  const scope = a.target.startsWith('\u0000')
    ? 'the same list'
    : `${a.level} ${a.target || '(default)'}`.trim();
  return conflict(
    'price_rule_tie',
    `${name(a)} and ${name(b)} would tie for the same order line (${scope}): give one another quantity break or validFrom`,
    { rules: [view(a), view(b)] },
  );
}

/**
 * A page of a list's items, by SKU then id (the console's pages): the items after `after` (the
 * last SKU and id shown), and that pair for the next page (null on the last).
 */
export async function priceListItemPage(
  db: Conn,
  code: string,
  page: { limit: number; after?: { sku: string; id: number } | null | undefined },
): Promise<{ list: ListRow; items: PriceItemView[]; next: { sku: string; id: number } | null }> {
  const rows = await db(PRICE_LISTS).select('id', 'code', 'name', 'currency');
  const lists = rows.map((r) => ({
    id: Number(r.id),
    code: String(r.code),
    name: String(r.name),
    currency: String(r.currency),
  }));
  const list = requireList(lists, code);
  let q = db(PRICE_LIST_ITEMS).where({ price_list_id: list.id });
  const after = page.after;
  if (after)
    q = q.where((w) =>
      w
        .where('sku_code', '>', after.sku)
        .orWhere((x) => x.where('sku_code', after.sku).where('id', '>', after.id)),
    );
  const found = await q.orderBy([{ column: 'sku_code' }, { column: 'id' }]).limit(page.limit + 1);
  const codes = new Map(lists.map((l) => [l.id, l.code]));
  const items = found.slice(0, page.limit).map((r) => toItemView(r, codes));
  const last = items[items.length - 1];
  return { list, items, next: found.length > page.limit && last ? { sku: last.sku, id: last.id } : null };
}

export interface ItemsSaved {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

const sameRecord = (a: ItemRecord, b: Record<string, unknown>) =>
  a.valid_to === ((b.valid_to as string | null) ?? null) &&
  a.price === (b.price === null ? null : Number(b.price)) &&
  a.percent_bp === (b.percent_bp === null ? null : Number(b.percent_bp)) &&
  a.based_on_list_id === (b.based_on_list_id === null ? null : Number(b.based_on_list_id)) &&
  a.sku_code === String(b.sku_code);

/**
 * Sets a list's items to exactly those given (PUT): an item with the SKU, quantity break and
 * validFrom of a stored one updates it (its id, the rule orders name, stays), the others are
 * created, and stored items not given are deleted. All or nothing: invalid items (422), a tie
 * (409 naming both rules) or a basedOn cycle (409) change nothing.
 */
export async function putPriceListItems(
  db: Db,
  code: string,
  items: readonly PriceItemInput[],
): Promise<ItemsSaved> {
  return withTransaction(db, async (tx) => {
    const lists = await lockLists(tx);
    const list = requireList(lists, code);
    const records = await itemRecords(tx, list, lists, items);
    await checkBaseLevels(tx, list, lists, records);
    const stored = await tx(PRICE_LIST_ITEMS).where({ price_list_id: list.id });
    const storedByKey = new Map(
      stored.map((r) => [itemKey(String(r.sku_code), Number(r.min_quantity), r.valid_from ?? null), r]),
    );
    const withIds = records.map((r) => {
      const old = storedByKey.get(itemKey(r.sku_code, r.min_quantity, r.valid_from));
      return { ...r, id: old ? Number(old.id) : null, old };
    });
    await checkTies(tx, list, lists, withIds, await assignmentsOf(tx, [list.id]));

    const now = dbTime();
    const saved: ItemsSaved = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const keep = new Set<number>();
    const inserts: Record<string, unknown>[] = [];
    for (const { old, id, ...record } of withIds) {
      if (old && id !== null) {
        keep.add(id);
        if (sameRecord(record, old)) saved.unchanged++;
        else {
          await tx(PRICE_LIST_ITEMS)
            .where({ id })
            .update({ ...record, updated_at: now });
          saved.updated++;
        }
      } else inserts.push({ ...record, price_list_id: list.id, updated_at: now });
    }
    const gone = stored.map((r) => Number(r.id)).filter((id) => !keep.has(id));
    for (let i = 0; i < gone.length; i += 500)
      await tx(PRICE_LIST_ITEMS)
        .whereIn('id', gone.slice(i, i + 500))
        .delete();
    for (let i = 0; i < inserts.length; i += 200)
      await tx(PRICE_LIST_ITEMS).insert(inserts.slice(i, i + 200));
    saved.created = inserts.length;
    saved.deleted = gone.length;
    if (saved.created + saved.updated + saved.deleted > 0)
      await tx(PRICE_LISTS).where({ id: list.id }).update({ updated_at: now });
    return saved;
  });
}

export type AssignmentInput = { customer: string } | { group: string } | { default: true };

const scopeOf = (input: AssignmentInput): { level: PriceLevel; target: string } =>
  'customer' in input
    ? { level: 'customer', target: input.customer }
    : 'group' in input
      ? { level: 'group', target: input.group }
      : { level: 'default', target: '' };

/**
 * Assigns a list to a customer (by code; 422 if there is none), a customer group, or everyone.
 * 409 when its items would tie with a list already assigned the same way. Assigning twice is one
 * assignment.
 */
export async function assignPriceList(
  db: Db,
  code: string,
  input: AssignmentInput,
): Promise<{ assignment: AssignmentView; created: boolean }> {
  return withTransaction(db, async (tx) => {
    const lists = await lockLists(tx);
    const list = requireList(lists, code);
    const scope = scopeOf(input);
    if (scope.level === 'customer') {
      const customer = await tx('customers').where({ code: scope.target }).first('code');
      if (!customer)
        throw unprocessable('unknown_customer', `no customer with code ${scope.target}`, {
          customer: scope.target,
        });
      scope.target = String(customer.code);
    }
    const existing = await tx(PRICE_LIST_ASSIGNMENTS)
      .where({ price_list_id: list.id, kind: scope.level, target: scope.target })
      .first();
    if (existing) return { assignment: toAssignment(existing), created: false };
    const items = await tx(PRICE_LIST_ITEMS)
      .where({ price_list_id: list.id })
      .select(
        'id',
        'sku_code',
        'min_quantity',
        'valid_from',
        'valid_to',
        'price',
        'percent_bp',
        'based_on_list_id',
      );
    const records = items.map((r) => ({
      id: Number(r.id),
      sku_code: String(r.sku_code),
      min_quantity: Number(r.min_quantity),
      valid_from: (r.valid_from as string | null) ?? null,
      valid_to: null,
      price: null,
      percent_bp: null,
      based_on_list_id: null,
    }));
    await checkTies(tx, list, lists, records, [scope]);
    await tx(PRICE_LIST_ASSIGNMENTS).insert({
      price_list_id: list.id,
      kind: scope.level,
      target: scope.target,
      created_at: dbTime(),
    });
    const row = await tx(PRICE_LIST_ASSIGNMENTS)
      .where({ price_list_id: list.id, kind: scope.level, target: scope.target })
      .first();
    return { assignment: toAssignment(row), created: true };
  });
}

export async function unassignPriceList(db: Db, code: string, assignmentId: number): Promise<void> {
  await withTransaction(db, async (tx) => {
    const list = requireList(await lockLists(tx), code);
    const n = await tx(PRICE_LIST_ASSIGNMENTS).where({ id: assignmentId, price_list_id: list.id }).delete();
    if (n === 0) throw notFound(`assignment ${assignmentId} of price list ${list.code}`);
  });
}

/**
 * Adds or replaces one item of a list (the console's item form): the same rules as
 * `putPriceListItems`, but only the changed row is checked and written, under the same lock, so
 * other items (even ones added meanwhile) stay as they are. An item with the SKU, quantity break
 * and validFrom of a stored one updates it.
 */
export async function putPriceListItem(db: Db, code: string, item: PriceItemInput): Promise<ItemsSaved> {
  return withTransaction(db, async (tx) => {
    const lists = await lockLists(tx);
    const list = requireList(lists, code);
    const [record] = await itemRecords(tx, list, lists, [item]);
    if (!record) throw unprocessable('invalid_items', 'no item given');
    await checkBaseLevels(tx, list, lists, [record]);
    const sameSku = await tx(PRICE_LIST_ITEMS).where({ price_list_id: list.id, sku_code: record.sku_code });
    const key = itemKey(record.sku_code, record.min_quantity, record.valid_from);
    const old = sameSku.find(
      (r) => itemKey(String(r.sku_code), Number(r.min_quantity), r.valid_from ?? null) === key,
    );
    const id = old ? Number(old.id) : null;
    const siblings = sameSku
      .filter((r) => r !== old)
      .map((r) => ({
        id: Number(r.id),
        sku_code: String(r.sku_code),
        min_quantity: Number(r.min_quantity),
        valid_from: (r.valid_from as string | null) ?? null,
        valid_to: (r.valid_to as string | null) ?? null,
        price: r.price === null ? null : Number(r.price),
        percent_bp: r.percent_bp === null ? null : Number(r.percent_bp),
        based_on_list_id: r.based_on_list_id === null ? null : Number(r.based_on_list_id),
      }));
    await checkTies(tx, list, lists, [{ ...record, id }, ...siblings], await assignmentsOf(tx, [list.id]));
    const now = dbTime();
    const saved: ItemsSaved = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    if (old && id !== null) {
      if (sameRecord(record, old)) saved.unchanged = 1;
      else {
        await tx(PRICE_LIST_ITEMS)
          .where({ id })
          .update({ ...record, updated_at: now });
        saved.updated = 1;
      }
    } else {
      await tx(PRICE_LIST_ITEMS).insert({ ...record, price_list_id: list.id, updated_at: now });
      saved.created = 1;
    }
    if (saved.created + saved.updated > 0)
      await tx(PRICE_LISTS).where({ id: list.id }).update({ updated_at: now });
    return saved;
  });
}

/** Removes one item of a list (404 when the list has no such item); the others stay as they are. */
export async function deletePriceListItem(db: Db, code: string, id: number): Promise<void> {
  await withTransaction(db, async (tx) => {
    const list = requireList(await lockLists(tx), code);
    const n = await tx(PRICE_LIST_ITEMS).where({ price_list_id: list.id, id }).delete();
    if (n === 0) throw notFound(`item ${id} of price list ${list.code}`);
    await tx(PRICE_LISTS).where({ id: list.id }).update({ updated_at: dbTime() });
  });
}
