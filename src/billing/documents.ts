import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { formatMinor } from '../../connectors/excel-inbox/money.js';
import { minorDigits } from '../../connectors/shared/money.js';
import type { InvoiceView } from './invoice-query.js';

/**
 * The invoice document: one Excel file per invoice or credit note, in the customer's language
 * (zh-CN or en): the selling company's header, the customer, the lines with their tax
 * classification codes, tax and totals. Written with exceljs's streaming writer (no workbook is
 * held in memory), to a temporary name and then renamed, so a file that exists is whole.
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
const moneyFormat = (currency: string) => {
  const d = minorDigits(currency);
  return d === 0 ? '#,##0' : `#,##0.${'0'.repeat(d)}`;
};

function addressText(a: unknown): string | null {
  if (!a || typeof a !== 'object') return typeof a === 'string' ? a : null;
  const o = a as Record<string, string | undefined>;
  return (
    [o.name, o.line1, o.line2, o.postalCode, o.city, o.region, o.country].filter(Boolean).join(', ') || null
  );
}

/** Writes the document into a streaming workbook. */
async function writeDocument(workbook: ExcelJS.stream.xlsx.WorkbookWriter, inv: InvoiceView): Promise<void> {
  const lang = inv.language;
  const L = (k: LabelKey) => label(k, lang);
  const sheet = workbook.addWorksheet(inv.number.slice(0, 31));
  sheet.columns = [
    { width: 8 },
    { width: 18 },
    { width: 32 },
    { width: 22 },
    { width: 10 },
    { width: 14 },
    { width: 12 },
    { width: 14 },
    { width: 12 },
  ];
  const fmt = moneyFormat(inv.currency);
  const add = (values: unknown[], bold = false) => {
    const row = sheet.addRow(values);
    if (bold) row.font = { bold: true };
    row.commit();
  };
  const company = inv.company;
  const companyName = lang === 'zh-CN' ? (company.nameZh ?? company.name) : company.name;
  const title = sheet.addRow([companyName]);
  title.font = { bold: true, size: 14 };
  title.commit();
  if (company.taxId) add([L('taxId'), company.taxId]);
  if (company.address) add([L('address'), company.address]);
  if (company.phone) add([L('phone'), company.phone]);
  if (company.email) add([L('email'), company.email]);
  if (company.bankAccount) add([L('bankAccount'), company.bankAccount]);
  add([]);
  const heading = sheet.addRow([L(inv.type)]);
  heading.font = { bold: true, size: 16 };
  heading.commit();
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
  add([L('buyer')], true);
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
    true,
  );
  for (const l of inv.lines) {
    const row = sheet.addRow([
      l.lineNo,
      l.sku,
      l.description,
      l.taxCode ?? l.taxClass ?? '',
      l.quantity,
      major(l.unitPrice, inv.currency),
      major(l.discount, inv.currency),
      major(l.amount, inv.currency),
      major(l.tax, inv.currency),
    ]);
    for (const c of [6, 7, 8, 9]) row.getCell(c).numFmt = fmt;
    row.commit();
  }
  add([]);
  const total = (key: LabelKey, minor: number, bold = false) => {
    const row = sheet.addRow([null, null, null, null, null, null, null, L(key), major(minor, inv.currency)]);
    row.getCell(9).numFmt = fmt;
    if (bold) row.font = { bold: true };
    row.commit();
  };
  total('subtotal', inv.subtotal);
  if (inv.discount) total('orderDiscount', -inv.discount);
  if (inv.shipping) total('shipping', inv.shipping);
  total('tax', inv.tax);
  total('total', inv.total, true);
  sheet.commit();
  await workbook.commit();
}

/** The document as a Buffer (for a download). */
export async function invoiceWorkbook(inv: InvoiceView): Promise<Buffer> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true });
  await writeDocument(workbook, inv);
  await done;
  return Buffer.concat(chunks);
}

/** The file name of an invoice's document. */
export const documentFileName = (number: string) => `${number}.xlsx`;

/**
 * Writes the document into `dir` as `<number>.xlsx` and returns its path. An existing file is
 * left as it is (an issued invoice never changes, so it is the same document).
 */
export async function writeInvoiceFile(dir: string, inv: InvoiceView): Promise<string> {
  const file = path.join(dir, documentFileName(inv.number));
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return file;
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const stream = new PassThrough();
  const out = pipeline(stream, createWriteStream(tmp));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true });
  await writeDocument(workbook, inv);
  await out;
  await rename(tmp, file);
  return file;
}
