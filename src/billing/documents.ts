import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatMinor } from '../../connectors/excel-inbox/money.js';
import { minorDigits } from '../../connectors/shared/money.js';
import type { InvoiceLineView, InvoiceView } from './invoice-query.js';
import type { PostedInvoice } from './posting.js';
import { type CellValue, type RowFont, type SheetRow, xlsxOf } from './xlsx-writer.js';

/**
 * The invoice document: one Excel file per invoice or credit note, in the customer's language
 * (zh-CN or en): the selling company's header, the customer, the lines with their tax
 * classification codes, tax and totals. Rendered by the small one-sheet writer of ./xlsx-writer.ts
 * (a general workbook writer cost 6–48 ms a file, too slow for a night of 100,000 invoices).
 */

export type Language = 'zh-CN' | 'en';

/** Every label of the document, in both languages. */
export const DOCUMENT_LABELS = {
  invoice: { en: 'Invoice', 'zh-CN': '发票' },
  credit_note: { en: 'Credit note', 'zh-CN': '红字发票（贷项通知单）' },
  taxId: { en: 'Tax ID', 'zh-CN': '纳税人识别号' },
  address: { en: 'Address', 'zh-CN': '地址' },
  phone: { en: 'Phone', 'zh-CN': '电话' },
  email: { en: 'E-mail', 'zh-CN': '电子邮件' },
  bankAccount: { en: 'Bank account', 'zh-CN': '开户行及账号' },
  number: { en: 'Number', 'zh-CN': '发票号码' },
  platformNumber: { en: 'E-invoice number', 'zh-CN': '数电票号码' },
  issueDate: { en: 'Issue date', 'zh-CN': '开票日期' },
  dueDate: { en: 'Due date', 'zh-CN': '到期日' },
  currency: { en: 'Currency', 'zh-CN': '币种' },
  order: { en: 'Order', 'zh-CN': '订单' },
  period: { en: 'Period', 'zh-CN': '账期月份' },
  creditsInvoice: { en: 'Credits invoice', 'zh-CN': '对应蓝字发票' },
  reason: { en: 'Reason', 'zh-CN': '原因' },
  seller: { en: 'Seller', 'zh-CN': '销售方' },
  buyer: { en: 'Bill to', 'zh-CN': '购买方' },
  name: { en: 'Name', 'zh-CN': '名称' },
  lineNo: { en: 'No.', 'zh-CN': '序号' },
  sku: { en: 'SKU', 'zh-CN': '货号' },
  description: { en: 'Description', 'zh-CN': '货物或应税劳务名称' },
  taxCode: { en: 'Tax classification code', 'zh-CN': '税收分类编码' },
  quantity: { en: 'Quantity', 'zh-CN': '数量' },
  unitPrice: { en: 'Unit price', 'zh-CN': '单价' },
  discount: { en: 'Discount', 'zh-CN': '折扣' },
  amount: { en: 'Amount', 'zh-CN': '金额' },
  tax: { en: 'Tax', 'zh-CN': '税额' },
  subtotal: { en: 'Subtotal', 'zh-CN': '小计' },
  orderDiscount: { en: 'Order discount', 'zh-CN': '整单折扣' },
  shipping: { en: 'Shipping', 'zh-CN': '运费' },
  total: { en: 'Total', 'zh-CN': '价税合计' },
  pricesIncludeTax: { en: 'Prices include tax', 'zh-CN': '价格含税' },
} as const satisfies Record<string, Record<Language, string>>;

export type LabelKey = keyof typeof DOCUMENT_LABELS;
export const label = (key: LabelKey, language: Language) => DOCUMENT_LABELS[key][language];

/** Major units as a number for the cell (the cell's format shows the currency's decimals). */
const major = (minor: number, currency: string) => Number(formatMinor(minor, currency));

function addressText(a: unknown): string | null {
  if (!a || typeof a !== 'object') return typeof a === 'string' ? a : null;
  const o = a as Record<string, string | undefined>;
  return (
    [o.name, o.line1, o.line2, o.postalCode, o.city, o.region, o.country].filter(Boolean).join(', ') || null
  );
}

/** What the document prints: an invoice view, or a posting's invoice before it is read back. */
export type DocumentSource = Pick<
  InvoiceView,
  | 'number'
  | 'type'
  | 'customer'
  | 'company'
  | 'language'
  | 'orderId'
  | 'period'
  | 'creditsInvoice'
  | 'reason'
  | 'currency'
  | 'pricesIncludeTax'
  | 'issueDate'
  | 'dueDate'
  | 'subtotal'
  | 'discount'
  | 'shipping'
  | 'tax'
  | 'total'
> & {
  lines: readonly Pick<
    InvoiceLineView,
    | 'lineNo'
    | 'sku'
    | 'description'
    | 'taxCode'
    | 'taxClass'
    | 'quantity'
    | 'unitPrice'
    | 'discount'
    | 'amount'
    | 'tax'
  >[];
  einvoice: Pick<InvoiceView['einvoice'], 'platformNumber'>;
};

/**
 * The document of an invoice just posted, from its draft: the same figures the rows were written
 * from, so a run need not read 100,000 invoices back to print them. Credit notes (which print the
 * number of the invoice they credit) are read back instead: null.
 */
export function documentOfPosted(p: PostedInvoice): DocumentSource | null {
  const d = p.draft;
  if (d.type !== 'invoice') return null;
  return {
    number: p.number,
    type: d.type,
    customer: {
      code: d.billTo.code,
      name: d.billTo.name,
      taxId: d.billTo.taxId,
      billingAddress: d.billTo.billingAddress ?? null,
    },
    company: d.seller,
    language: d.billTo.language,
    orderId: d.orderId,
    period: d.period,
    creditsInvoice: null,
    reason: d.reason,
    currency: d.currency,
    pricesIncludeTax: d.pricesIncludeTax,
    issueDate: d.issueDate,
    dueDate: d.dueDate,
    subtotal: d.totals.subtotal,
    discount: d.totals.discount,
    shipping: d.totals.shipping,
    tax: d.totals.tax,
    total: d.totals.total,
    lines: d.lines.map((l, i) => ({ ...l, lineNo: i + 1 })),
    einvoice: { platformNumber: null },
  };
}

/** The document's rows, top to bottom (a blank row between the blocks). */
export function documentRows(inv: DocumentSource): SheetRow[] {
  const lang = inv.language;
  const L = (k: LabelKey) => label(k, lang);
  const rows: SheetRow[] = [];
  const add = (cells: CellValue[], font: RowFont = 0) => {
    rows.push({ cells, font });
  };
  const company = inv.company;
  add([lang === 'zh-CN' ? (company.nameZh ?? company.name) : company.name], 2);
  if (company.taxId) add([L('taxId'), company.taxId]);
  if (company.address) add([L('address'), company.address]);
  if (company.phone) add([L('phone'), company.phone]);
  if (company.email) add([L('email'), company.email]);
  if (company.bankAccount) add([L('bankAccount'), company.bankAccount]);
  add([]);
  add([L(inv.type)], 3);
  add([L('number'), inv.number]);
  if (inv.einvoice.platformNumber) add([L('platformNumber'), inv.einvoice.platformNumber]);
  add([L('issueDate'), inv.issueDate]);
  if (inv.type === 'invoice') add([L('dueDate'), inv.dueDate]);
  add([L('currency'), inv.currency]);
  if (inv.orderId !== null) add([L('order'), inv.orderId]);
  if (inv.period) add([L('period'), inv.period]);
  if (inv.creditsInvoice) add([L('creditsInvoice'), inv.creditsInvoice]);
  if (inv.reason) add([L('reason'), inv.reason]);
  if (inv.pricesIncludeTax) add([L('pricesIncludeTax'), '✓']);
  add([]);
  add([L('buyer')], 1);
  add([L('name'), inv.customer.name ?? inv.customer.code ?? '']);
  if (inv.customer.taxId) add([L('taxId'), inv.customer.taxId]);
  const address = addressText(inv.customer.billingAddress);
  if (address) add([L('address'), address]);
  add([]);
  add(
    (
      [
        'lineNo',
        'sku',
        'description',
        'taxCode',
        'quantity',
        'unitPrice',
        'discount',
        'amount',
        'tax',
      ] as const
    ).map(L),
    1,
  );
  for (const l of inv.lines) {
    rows.push({
      cells: [
        l.lineNo,
        l.sku,
        l.description,
        l.taxCode ?? l.taxClass ?? '',
        l.quantity,
        major(l.unitPrice, inv.currency),
        major(l.discount, inv.currency),
        major(l.amount, inv.currency),
        major(l.tax, inv.currency),
      ],
      money: MONEY_COLUMNS,
    });
  }
  add([]);
  const total = (key: LabelKey, minor: number, font: RowFont = 0) => {
    rows.push({
      cells: [null, null, null, null, null, null, null, L(key), major(minor, inv.currency)],
      font,
      money: TOTAL_COLUMNS,
    });
  };
  total('subtotal', inv.subtotal);
  if (inv.discount) total('orderDiscount', -inv.discount);
  if (inv.shipping) total('shipping', inv.shipping);
  total('tax', inv.tax);
  total('total', inv.total, 1);
  return rows;
}

const WIDTHS = [8, 18, 32, 22, 10, 14, 12, 14, 12];
const MONEY_COLUMNS = [6, 7, 8, 9];
const TOTAL_COLUMNS = [9];

/** The document as a Buffer: the same bytes for the download and the run's file. */
export function invoiceWorkbook(inv: DocumentSource): Buffer {
  return xlsxOf({
    name: inv.number,
    widths: WIDTHS,
    rows: documentRows(inv),
    moneyDigits: minorDigits(inv.currency),
  });
}

/** The file name of an invoice's document. */
/** A document's file name is its number and this. */
export const DOCUMENT_SUFFIX = '.xlsx';
export const documentFileName = (number: string) => `${number}${DOCUMENT_SUFFIX}`;

/**
 * Writes the document into `dir` as `<number>.xlsx` and returns its path. An existing file is
 * left as it is (an issued invoice never changes, so it is the same document). Written to a
 * temporary name and renamed, so a file that exists is whole.
 */
export async function writeInvoiceFile(dir: string, inv: DocumentSource, madeDir = false): Promise<string> {
  const file = path.join(dir, documentFileName(inv.number));
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return file;
  if (!madeDir) await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, invoiceWorkbook(inv));
  await rename(tmp, file);
  return file;
}

/**
 * Writes many documents into `dir`, a few files in flight at a time (the file system's calls
 * overlap; rendering is synchronous and cheap). Returns each invoice's file, in the order given.
 */
export async function writeInvoiceFiles(
  dir: string,
  invoices: readonly DocumentSource[],
  inFlight = 8,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const out: string[] = new Array(invoices.length);
  let next = 0;
  const worker = async () => {
    while (next < invoices.length) {
      const i = next++;
      out[i] = await writeInvoiceFile(dir, invoices[i]!, true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, invoices.length) }, worker));
  return out;
}
