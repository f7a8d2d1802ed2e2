import { defineTexts } from '../texts.js';

/**
 * The hold reasons an order may be held for (`orders.hold_reason`: the first problem's code, a
 * credit reason, or a person's hold), in both languages; an unknown code is shown as it is.
 */
export const HOLD_REASONS = defineTexts(
  'hold-reasons',
  {
    manual_hold: 'Held by a person',
    unknown_sku: 'Unknown SKU',
    unknown_customer: 'Unknown customer',
    invalid_quantity: 'Invalid quantity',
    no_lines: 'No lines',
    no_price: 'No price',
    price_variance: 'Price differs from the list',
    promotion_invalid: 'Promotion not valid',
    credit_limit: 'Credit limit',
    salesperson_credit_limit: "Salesperson's credit limit",
    customer_on_hold: 'Customer on hold',
    no_exchange_rate: 'No exchange rate',
    overdue_invoices: 'Overdue invoices',
    contract_ambiguous: 'Contract ambiguous',
    contract_currency: 'Contract in another currency',
    contract_customer: "Another customer's contract",
    contract_exceeded: 'Contract exceeded',
    contract_sku: 'SKU not in the contract',
    contract_unknown: 'Unknown contract',
    invalid_order: 'Order not valid',
    custom: 'Order not valid',
    none: 'No reason recorded',
  },
  {
    manual_hold: '人工挂起',
    unknown_sku: '未知 SKU',
    unknown_customer: '未知客户',
    invalid_quantity: '数量无效',
    no_lines: '没有明细行',
    no_price: '没有价格',
    price_variance: '价格与价目表不符',
    promotion_invalid: '促销无效',
    credit_limit: '超出信用额度',
    salesperson_credit_limit: '超出业务员信用额度',
    customer_on_hold: '客户已冻结',
    no_exchange_rate: '缺少汇率',
    overdue_invoices: '有逾期发票',
    contract_ambiguous: '合同不明确',
    contract_currency: '合同币种不同',
    contract_customer: '其他客户的合同',
    contract_exceeded: '超出合同数量',
    contract_sku: 'SKU 不在合同内',
    contract_unknown: '未知合同',
    invalid_order: '订单无效',
    custom: '订单无效',
    none: '未记录原因',
  },
);

/** A hold reason in the reader's language (the code itself when it is not a known one). */
export function holdReasonText(locale: 'en' | 'zh-CN', reason: string | null): string {
  const names = HOLD_REASONS[locale] as Record<string, string>;
  return reason === null ? names.none! : (names[reason] ?? reason);
}
