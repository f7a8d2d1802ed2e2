import { bilingual } from './bilingual.js';
import { type Parsed, parseMajorAmount, refused } from './money.js';

/** The limits of `orderInputSchema` and `customerInputSchema`, checked here to name the row. */
export const MAX_QUANTITY = 1_000_000;
const MAX_SKU = 191;
const MAX_CUSTOMER = 64;
const MAX_CUSTOMER_NAME = 255;
const MAX_CONTRACT = 64;
/** `${customer}:${orderNo}` must fit the 191 characters of an external id. */
const MAX_ORDER_NO = 191 - MAX_CUSTOMER - 1;

/** A data row's cells as text (trimmed; empty when the column is absent or the cell blank). */
export interface RawRow {
  row: number;
  orderNo: string;
  customerCode: string;
  sku: string;
  quantity: string;
  unitPrice: string;
  currency: string;
  /** The customer's name, when the file has a column for it. */
  customerName?: string;
  /** Discount off the whole line, in major units; empty when none. */
  discount?: string;
  /** The order's shipping, in major units; empty when this row does not say. */
  shipping?: string;
  /** The sales contract number the order draws on; empty when this row does not say. */
  contract?: string;
  /** A promotion code the order names; empty when this row names none. */
  promotionCode?: string;
  /** Fields whose cell holds a date (a cell formatted as a date): never read as a number. */
  dateFields?: readonly ('quantity' | 'unitPrice')[];
  /** Problems found while reading the row, before its cells are looked at (e.g. a wrong cell count). */
  readProblems?: readonly string[];
}

/** A row with its values parsed and every problem of its own (none means the row is valid alone). */
export interface CheckedRow {
  row: number;
  orderNo: string;
  customerCode: string;
  /** Empty when the file gives none. */
  customerName: string;
  sku: string;
  quantity: number | null;
  unitPrice: number | null;
  currency: string;
  currencyValid: boolean;
  rawQuantity: string;
  rawUnitPrice: string;
  /** Minor units off the whole line (0 when none); null when the cell is not an amount. */
  discount: number | null;
  /** The order's shipping in minor units, when this row says it; null when the cell is not an amount. */
  shipping?: number | null;
  /** The sales contract number; empty when the row gives none. */
  contract: string;
  /** A promotion code the order names (empty: none on this row). */
  promotionCode: string;
  problems: string[];
}

/** A whole number of at least 1; `3.0` is 3, `2.5`, `abc`, `0`, `-1` and `1,000` are not quantities. */
export function parseQuantity(text: string): Parsed<number> {
  if (text === '') return refused('quantity is missing', '缺少数量');
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return refused(`quantity "${text}" is not a number`, `数量“${text}”不是数字`);
  if (m[3] !== undefined && !/^0+$/.test(m[3])) {
    return refused(`quantity ${text} is not a whole number`, `数量 ${text} 不是整数`);
  }
  const digits = (m[2] as string).replace(/^0+(?=\d)/, '');
  if (m[1] === '-' || /^0+$/.test(digits))
    return refused(`quantity ${text} must be at least 1`, `数量 ${text} 不能小于 1`);
  if (digits.length > 7 || Number(digits) > MAX_QUANTITY) {
    return refused(`quantity ${text} is more than ${MAX_QUANTITY}`, `数量 ${text} 超过上限 ${MAX_QUANTITY}`);
  }
  return { ok: true, value: Number(digits) };
}

const CURRENCY = /^[A-Z]{3}$/;

const DATE_FIELD_LABELS = {
  quantity: { en: 'quantity', zh: '数量' },
  unitPrice: { en: 'unit price', zh: '单价' },
} as const;

function dateMessage(field: 'quantity' | 'unitPrice', text: string): string {
  const day = text.slice(0, 10);
  const label = DATE_FIELD_LABELS[field];
  return bilingual(
    `${label.en} is a date (${day}): format the cell as a number`,
    `${label.zh}是日期（${day}）：请把单元格设为数字格式`,
  );
}

/** Checks one row on its own: presence and form of every field. Knowing whether a SKU exists is not its job. */
export function checkRow(raw: RawRow, defaultCurrency: string): CheckedRow {
  const problems: string[] = [...(raw.readProblems ?? [])];

  if (raw.orderNo === '') problems.push(bilingual('order number is missing', '缺少订单号'));
  else if (raw.orderNo.length > MAX_ORDER_NO) {
    problems.push(
      bilingual(
        `order number is longer than ${MAX_ORDER_NO} characters`,
        `订单号超过 ${MAX_ORDER_NO} 个字符`,
      ),
    );
  }

  if (raw.customerCode === '') problems.push(bilingual('customer code is missing', '缺少客户编码'));
  else if (raw.customerCode.length > MAX_CUSTOMER) {
    problems.push(
      bilingual(
        `customer code is longer than ${MAX_CUSTOMER} characters`,
        `客户编码超过 ${MAX_CUSTOMER} 个字符`,
      ),
    );
  } else if (raw.customerCode.includes(':')) {
    // The external id joins customer and order number with ':'; a colon in the customer code would
    // let two different orders share one id (`A:1` + `2` and `A` + `1:2`).
    problems.push(
      bilingual(
        `customer code "${raw.customerCode}" must not contain ':'`,
        `客户编码“${raw.customerCode}”不能包含冒号“:”`,
      ),
    );
  }

  const customerName = raw.customerName ?? '';
  if (customerName.length > MAX_CUSTOMER_NAME) {
    problems.push(
      bilingual(
        `customer name is longer than ${MAX_CUSTOMER_NAME} characters`,
        `客户名称超过 ${MAX_CUSTOMER_NAME} 个字符`,
      ),
    );
  }

  if (raw.sku === '') problems.push(bilingual('SKU is missing', '缺少货号'));
  else if (raw.sku.length > MAX_SKU)
    problems.push(bilingual(`SKU is longer than ${MAX_SKU} characters`, `货号超过 ${MAX_SKU} 个字符`));

  let currency = defaultCurrency;
  let currencyValid = true;
  if (raw.currency !== '') {
    currency = raw.currency.toUpperCase();
    if (!CURRENCY.test(currency)) {
      currency = raw.currency;
      currencyValid = false;
      problems.push(
        bilingual(
          `currency "${raw.currency}" is not an ISO 4217 code such as EUR`,
          `币种“${raw.currency}”不是 ISO 4217 代码（如 EUR、CNY）`,
        ),
      );
    }
  }

  // A date is stored as a day count (2026-01-15 is 46037): read as a number it would order 46,037.
  const isDate = (field: 'quantity' | 'unitPrice') => raw.dateFields?.includes(field) ?? false;
  const quantity: Parsed<number> = isDate('quantity')
    ? { ok: false, message: dateMessage('quantity', raw.quantity) }
    : parseQuantity(raw.quantity);
  if (!quantity.ok) problems.push(quantity.message);

  let unitPrice: number | null = 0;
  if (isDate('unitPrice')) {
    unitPrice = null;
    problems.push(dateMessage('unitPrice', raw.unitPrice));
  } else if (raw.unitPrice !== '') {
    // With an invalid currency the row is rejected anyway; its price is still checked for form.
    const price = parseMajorAmount(raw.unitPrice, currencyValid ? currency : defaultCurrency);
    unitPrice = price.ok ? price.value : null;
    if (!price.ok) problems.push(price.message);
  }

  const amountOf = (
    text: string | undefined,
    label: { en: string; zh: string },
  ): number | null | undefined => {
    if (!text) return undefined;
    const amount = parseMajorAmount(text, currencyValid ? currency : defaultCurrency, label);
    if (!amount.ok) problems.push(amount.message);
    return amount.ok ? amount.value : null;
  };
  const discount = amountOf(raw.discount, { en: 'discount', zh: '折扣' }) ?? 0;
  if (
    discount !== null &&
    discount > 0 &&
    quantity.ok &&
    unitPrice !== null &&
    discount > quantity.value * unitPrice
  )
    problems.push(
      bilingual(
        `discount ${raw.discount} is more than the line's quantity × unit price`,
        `折扣 ${raw.discount} 超过该行数量 × 单价`,
      ),
    );
  const shipping = amountOf(raw.shipping, { en: 'shipping', zh: '运费' });
  const contract = raw.contract ?? '';
  if (contract.length > MAX_CONTRACT)
    problems.push(
      bilingual(
        `contract number is longer than ${MAX_CONTRACT} characters`,
        `合同号超过 ${MAX_CONTRACT} 个字符`,
      ),
    );
  const promotionCode = raw.promotionCode ?? '';
  if (promotionCode.length > MAX_CUSTOMER)
    problems.push(
      bilingual(
        `promotion code is longer than ${MAX_CUSTOMER} characters`,
        `促销码超过 ${MAX_CUSTOMER} 个字符`,
      ),
    );

  return {
    row: raw.row,
    orderNo: raw.orderNo,
    customerCode: raw.customerCode,
    customerName,
    sku: raw.sku,
    quantity: quantity.ok ? quantity.value : null,
    unitPrice,
    currency,
    currencyValid,
    rawQuantity: raw.quantity,
    rawUnitPrice: raw.unitPrice,
    discount,
    ...(shipping === undefined ? {} : { shipping }),
    contract,
    promotionCode,
    problems,
  };
}
