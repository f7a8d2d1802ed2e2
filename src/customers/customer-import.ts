import { headerKey } from '../../connectors/excel-inbox/headers.js';
import { parseMajorAmount } from '../../connectors/excel-inbox/money.js';
import { readSheetRows, type SheetRecord } from '../../connectors/excel-inbox/parse.js';
import type { ResultColumn as Column } from '../../connectors/excel-inbox/result-sheets.js';
import type { OrderFileInput } from '../../connectors/excel-inbox/types.js';
import type { Db } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import { type CustomerBody, customerBodySchema } from '../domain/customer.js';
import { DomainError } from '../errors/domain-errors.js';
import type { CatalogueImport, CatalogueRowResult } from '../stock/catalogue-import.js';
import { REASON, ROW, STATUS } from '../stock/catalogue-result-workbook.js';
import { type ColumnSpec, type SheetKind, sheetCells } from '../stock/catalogue-sheet.js';
import { type CustomerView, customerDetail, upsertCustomer } from './customer-store.js';

/**
 * The customer sheet (.xlsx or .csv, read by the same guarded reader as the order and SKU sheets):
 * one customer per row, by code. A row sets the fields of the columns the sheet has and keeps the
 * others as stored (a sheet of codes and payment terms changes only payment terms); the contact
 * columns set the customer's first contact. The same sheet again is `unchanged` row by row. A bad
 * row is `rejected` with its reason (English / Chinese); the other rows are stored all the same.
 */

export const CUSTOMER_COLUMNS = [
  {
    field: 'code',
    label: 'code / 客户编码',
    required: true,
    aliases: ['code', 'customer code', 'customer', '客户编码', '客户代码', '编码'],
  },
  {
    field: 'name',
    label: 'name / 客户名称',
    required: true,
    aliases: ['name', 'customer name', '客户名称', '名称'],
  },
  {
    field: 'group',
    label: 'group / 客户组',
    required: false,
    aliases: ['group', 'customer group', '客户组', '客户分组'],
  },
  {
    field: 'salesperson',
    label: 'salesperson / 业务员',
    required: false,
    aliases: ['salesperson', 'sales rep', '业务员', '销售员'],
  },
  { field: 'currency', label: 'currency / 币种', required: false, aliases: ['currency', '币种', '货币'] },
  { field: 'language', label: 'language / 语言', required: false, aliases: ['language', '语言'] },
  {
    field: 'timeZone',
    label: 'time zone / 时区',
    required: false,
    aliases: ['time zone', 'timezone', '时区'],
  },
  {
    field: 'taxId',
    label: 'tax id / 税号',
    required: false,
    aliases: ['tax id', 'vat id', '税号', '纳税人识别号'],
  },
  {
    field: 'contactName',
    label: 'contact / 联系人',
    required: false,
    aliases: ['contact', 'contact name', '联系人'],
  },
  {
    field: 'email',
    label: 'e-mail / 邮箱',
    required: false,
    aliases: ['email', 'e-mail', '邮箱', '电子邮件'],
  },
  { field: 'phone', label: 'phone / 电话', required: false, aliases: ['phone', 'telephone', '电话', '手机'] },
  {
    field: 'paymentTermsDays',
    label: 'payment terms (days) / 账期（天）',
    required: false,
    aliases: ['payment terms', 'payment terms days', 'terms', '账期', '账期天数'],
  },
  {
    field: 'creditLimit',
    label: 'credit limit / 信用额度',
    required: false,
    aliases: ['credit limit', '信用额度'],
  },
  {
    field: 'company',
    label: 'company / 所属公司',
    required: false,
    aliases: ['company', 'legal entity', '所属公司', '公司'],
  },
  { field: 'tags', label: 'tags / 标签', required: false, aliases: ['tags', '标签'] },
] as const satisfies readonly ColumnSpec<string>[];

type Field = (typeof CUSTOMER_COLUMNS)[number]['field'];

export interface CustomerImportRow extends CatalogueRowResult {
  code: string;
  name: string;
}

export const CUSTOMER_RESULT_COLUMNS: readonly Column<CustomerImportRow>[] = [
  ROW,
  { header: 'Code / 客户编码', width: 18, value: (r) => r.code },
  { header: 'Name / 客户名称', width: 30, value: (r) => r.name },
  STATUS,
  REASON,
];

const CODE = /^[A-Za-z0-9._-]{1,64}$/;

interface SheetRow {
  row: number;
  cells: Record<Field, string>;
  problems: string[];
  present: ReadonlySet<Field>;
}

async function readCustomerSheet(rows: AsyncIterable<SheetRecord>, kind: SheetKind): Promise<SheetRow[]> {
  let header: string[] | undefined;
  const recorded = (async function* () {
    for await (const r of rows) {
      if (!header && r.cells.some((c) => c !== '')) header = r.cells;
      yield r;
    }
  })();
  const sheet = await sheetCells(recorded, CUSTOMER_COLUMNS, kind, ['paymentTermsDays', 'creditLimit']);
  const present = new Set(columnsIn(header ?? []));
  const seen = new Map<string, number>();
  return sheet.map(({ row, cells, problems }) => {
    if (!CODE.test(cells.code))
      problems.push(
        `code "${cells.code}" may hold only letters, digits and . _ - (at most 64) / 客户编码只能包含字母、数字和 . _ -`,
      );
    else if (seen.has(codeKey(cells.code)))
      problems.push(
        `code ${cells.code} is also on row ${seen.get(codeKey(cells.code))} / 客户编码与第 ${seen.get(codeKey(cells.code))} 行重复`,
      );
    else seen.set(codeKey(cells.code), row);
    return { row, cells, problems, present };
  });
}

/** The fields a header row names (the same matching as `sheetCells`). */
function columnsIn(header: readonly string[]): Field[] {
  const names = new Set(header.map(headerKey));
  return CUSTOMER_COLUMNS.filter((c) => c.aliases.some((a) => names.has(headerKey(a)))).map((c) => c.field);
}

/** The record a row asks for: the stored one (if any) with the row's columns laid over it. */
function bodyOf(r: SheetRow, stored: CustomerView | null): { body?: CustomerBody; problems: string[] } {
  const problems: string[] = [];
  const c = r.cells;
  const has = (f: Field) => r.present.has(f);
  const text = (f: Field) => (c[f] === '' ? null : c[f]);
  const base: Record<string, unknown> = {};
  if (stored) {
    const { code: _code, createdAt: _created, updatedAt: _updated, ...record } = stored;
    Object.assign(base, record);
  }
  base.name = c.name;
  if (has('group')) base.group = text('group') ?? 'default';
  if (has('salesperson')) base.salesperson = text('salesperson');
  if (has('currency')) base.currency = text('currency')?.toUpperCase() ?? null;
  if (has('language')) base.language = text('language');
  if (has('timeZone')) base.timeZone = text('timeZone');
  if (has('taxId')) base.taxId = text('taxId');
  if (has('company')) base.company = text('company');
  if (has('tags'))
    base.tags = c.tags
      .split(/[,;，；]/)
      .map((t) => t.trim())
      .filter((t) => t !== '');
  if (has('paymentTermsDays')) {
    const t = text('paymentTermsDays');
    if (t !== null && !/^\d+$/.test(t))
      problems.push(`payment terms "${t}" is not a whole number of days / 账期须为整数天`);
    else base.paymentTermsDays = t === null ? null : Number(t);
  }
  if (has('creditLimit')) {
    const t = text('creditLimit');
    const currency = (base.currency as string | null | undefined) ?? null;
    if (t === null) base.creditLimit = null;
    else if (!currency) problems.push('a credit limit needs the currency column / 信用额度需要币种');
    else {
      const amount = parseMajorAmount(t, currency);
      if (amount.ok) base.creditLimit = { amount: amount.value, currency };
      else problems.push(`credit limit: ${amount.message} / 信用额度无效`);
    }
  }
  if (has('contactName') || has('email') || has('phone')) {
    const first = {
      ...(text('contactName') ? { name: c.contactName } : {}),
      ...(text('email') ? { email: c.email } : {}),
      ...(text('phone') ? { phone: c.phone } : {}),
    };
    const others = ((base.contacts as CustomerBody['contacts'] | undefined) ?? []).slice(1);
    base.contacts = Object.keys(first).length > 0 ? [first, ...others] : others;
  }
  const parsed = customerBodySchema.safeParse(base);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.') || 'row'}: ${issue.message} / 内容无效`);
  return problems.length > 0 || !parsed.success ? { problems } : { body: parsed.data, problems };
}

async function storeRow(db: Db, r: SheetRow): Promise<CustomerImportRow> {
  const base = { row: r.row, code: r.cells.code, name: r.cells.name };
  if (r.problems.length > 0) return { ...base, status: 'rejected', reason: r.problems.join('; ') };
  const stored = await customerDetail(db, r.cells.code).catch((err) => {
    if (err instanceof DomainError && err.code === 'not_found') return null;
    throw err;
  });
  const { body, problems } = bodyOf(r, stored);
  if (!body) return { ...base, status: 'rejected', reason: problems.join('; ') };
  try {
    const { outcome } = await upsertCustomer(db, r.cells.code, body);
    return { ...base, status: outcome };
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const reason =
      err.code === 'unknown_salesperson' ? `${err.message} / 业务员不存在，请先创建` : err.message;
    return { ...base, status: 'rejected', reason };
  }
}

export async function importCustomerSheet(
  db: Db,
  input: OrderFileInput,
): Promise<CatalogueImport<CustomerImportRow>> {
  const read = await readSheetRows(input, (rows, kind) => readCustomerSheet(rows, kind));
  if ('error' in read) return { fileName: input.fileName, error: read.error, rows: [] };
  const rows: CustomerImportRow[] = [];
  for (const r of read.value) rows.push(await storeRow(db, r));
  return { fileName: input.fileName, rows };
}
