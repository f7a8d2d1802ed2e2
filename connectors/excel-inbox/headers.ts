import { bilingual } from './bilingual.js';

export type Field =
  | 'orderNo'
  | 'customerCode'
  | 'customerName'
  | 'sku'
  | 'quantity'
  | 'unitPrice'
  | 'currency'
  | 'discount'
  | 'shipping'
  | 'contract'
  | 'promotionCode';

interface FieldSpec {
  field: Field;
  /** How the field is named in messages, in English and in Chinese. */
  label: string;
  labelZh: string;
  required: boolean;
  /** Header texts that mean the field, as written in the README; compared after `headerKey`. */
  aliases: readonly string[];
}

export const FIELDS: readonly FieldSpec[] = [
  {
    field: 'orderNo',
    label: 'order number',
    labelZh: '订单号',
    required: true,
    aliases: ['order', 'order number', 'order no', 'order_no', 'po', 'po number', '订单号', '订单编号'],
  },
  {
    field: 'customerCode',
    label: 'customer code',
    labelZh: '客户编码',
    required: true,
    aliases: ['customer', 'customer code', '客户', '客户编码', '客户代码'],
  },
  {
    field: 'customerName',
    label: 'customer name',
    labelZh: '客户名称',
    required: false,
    aliases: ['customer name', '客户名称'],
  },
  {
    field: 'sku',
    label: 'SKU',
    labelZh: '货号',
    required: true,
    aliases: ['sku', 'item', 'item code', '货号', '商品编码'],
  },
  {
    field: 'quantity',
    label: 'quantity',
    labelZh: '数量',
    required: true,
    aliases: ['qty', 'quantity', '数量'],
  },
  {
    field: 'unitPrice',
    label: 'unit price',
    labelZh: '单价',
    required: false,
    aliases: ['unit price', 'price', '单价'],
  },
  { field: 'currency', label: 'currency', labelZh: '币种', required: false, aliases: ['currency', '币种'] },
  // Order money (README "Order money and tax"): off the whole line, and the order's shipping.
  {
    field: 'discount',
    label: 'discount',
    labelZh: '折扣',
    required: false,
    aliases: ['discount', 'line discount', '折扣', '折扣金额'],
  },
  {
    field: 'shipping',
    label: 'shipping',
    labelZh: '运费',
    required: false,
    aliases: ['shipping', 'freight', '运费'],
  },
  // The sales contract the order draws on (README "Sales contracts").
  {
    field: 'contract',
    label: 'contract',
    labelZh: '合同号',
    required: false,
    aliases: ['contract', 'contract no', 'contract number', '合同号', '合同编号'],
  },
  // A promotion the order names (README "Promotions"), on any of its rows.
  {
    field: 'promotionCode',
    label: 'promotion code',
    labelZh: '促销码',
    required: false,
    aliases: ['promotion code', 'promo code', 'coupon', 'coupon code', '促销码', '优惠码', '促销代码'],
  },
];

/**
 * A header text reduced for matching: case, spaces, underscores, hyphens, dots and `#` do not
 * count, so `Order No.`, `ORDER_NO`, `order-no` and `PO #` all match their alias; full-width forms
 * (`ＳＫＵ`, `订单号：`) are read as their plain ones (NFKC) and a trailing colon is dropped.
 */
export function headerKey(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_.#:-]+/g, '');
}

/** A Chinese character: an alias that has one is named in the Chinese part of a message. */
const HAN = /\p{Script=Han}/u;

const BY_KEY: ReadonlyMap<string, FieldSpec> = new Map(
  FIELDS.flatMap((spec) => spec.aliases.map((alias) => [headerKey(alias), spec] as const)),
);

/** Column index (0-based, as in the row's cell array) of each field found. */
export type ColumnMap = Partial<Record<Field, number>>;

export type HeaderMatch = { ok: true; columns: ColumnMap } | { ok: false; message: string };

/**
 * Maps a header row to fields. Columns it does not know are ignored. Fails, naming what is wrong,
 * when a required field has no column or one field has two.
 */
export function matchHeaders(
  cells: readonly string[],
  options: { optional?: readonly Field[] } = {},
): HeaderMatch {
  const columns: ColumnMap = {};
  const duplicates: string[] = [];
  cells.forEach((text, index) => {
    const spec = BY_KEY.get(headerKey(text));
    if (!spec) return;
    const seen = columns[spec.field];
    if (seen !== undefined) {
      duplicates.push(
        bilingual(
          `"${cells[seen]}" and "${text}" both name the ${spec.label} column`,
          `“${cells[seen]}”和“${text}”都是${spec.labelZh}列，只能有一列`,
        ),
      );
      return;
    }
    columns[spec.field] = index;
  });
  const optional = options.optional ?? [];
  const missing = FIELDS.filter(
    (spec) => spec.required && !optional.includes(spec.field) && columns[spec.field] === undefined,
  );
  const problems: string[] = [];
  if (missing.length > 0) {
    const names = missing.map((spec) => `${spec.label} (${spec.aliases.map((a) => `"${a}"`).join(', ')})`);
    // In Chinese, each missing column with the Chinese headers that name it.
    const namesZh = missing.map(
      (spec) =>
        `${spec.labelZh}（${spec.aliases
          .filter((a) => HAN.test(a))
          .map((a) => `“${a}”`)
          .join('、')}）`,
    );
    const found = cells.filter((c) => c !== '');
    const foundEn = found.length > 0 ? found.map((c) => `"${c}"`).join(', ') : 'no text';
    const foundZh = found.length > 0 ? found.map((c) => `“${c}”`).join('、') : '无文字';
    problems.push(
      bilingual(
        `missing required column${missing.length > 1 ? 's' : ''}: ${names.join('; ')}. ` +
          `The first non-empty row is read as the header; it has ${foundEn}`,
        `缺少必填列：${namesZh.join('；')}。第一个非空行视为表头，表头内容为：${foundZh}`,
      ),
    );
  }
  problems.push(...duplicates);
  if (problems.length > 0) return { ok: false, message: problems.join('. ') };
  return { ok: true, columns };
}
