import type { InvoiceLineDraft } from './invoice.js';

/**
 * Allowances (销售折让), pure: money a channel paid back beyond the value of the units a refund
 * took back (a goodwill refund, a price adjustment, a shipping refund). It is credited against the
 * invoice without quantities: lines of amount and tax only, one per tax rate of the invoice, so
 * that the red invoice (or the discount line of a blue one) carries each rate's tax code.
 */

/** The SKU column of an allowance line (it has no SKU: no unit goes anywhere). */
export const ALLOWANCE_SKU = 'ALLOWANCE';

/** What a refund paid back beyond the channel's value of its refunded units; never below zero. */
export function allowanceOf(money: { amount: number; linesAmount: number }): number {
  return Math.max(0, money.amount - money.linesAmount);
}

/** An invoice line as the split weighs it: its amount (after its discount) and tax, by tax group. */
export interface TaxedAmount {
  taxClass: string | null;
  taxCode: string | null;
  amount: number;
  tax: number;
}

/** One tax rate's part of an allowance: `gross` = `net` + `tax`. */
export interface AllowancePart {
  taxClass: string | null;
  taxCode: string | null;
  net: number;
  tax: number;
  gross: number;
}

/**
 * Splits `gross` (what was paid back, tax included) over the invoice's tax rates (a rate is a tax
 * class and its classification code) in proportion to the invoice's net per rate, each part
 * carrying its rate's tax: the parts' gross amounts are the shares of the rates' gross amounts
 * (which is the same proportion as the net, as each rate's tax is its net times the rate), in whole
 * minor units, the remainder going to the rate with the largest net so that they add up to `gross`
 * exactly; each part's tax is its gross times the rate's tax over its gross, rounded half away from
 * zero. Rates with no positive net take nothing; an invoice without one gives one untaxed part.
 */
export function splitAllowance(
  gross: number,
  lines: readonly TaxedAmount[],
  pricesIncludeTax: boolean,
): AllowancePart[] {
  const groups = new Map<
    string,
    { taxClass: string | null; taxCode: string | null; net: bigint; tax: bigint }
  >();
  for (const l of lines) {
    const key = `${l.taxClass ?? ''}\u0000${l.taxCode ?? ''}`;
    const g = groups.get(key) ?? { taxClass: l.taxClass, taxCode: l.taxCode, net: 0n, tax: 0n };
    g.net += BigInt(pricesIncludeTax ? l.amount - l.tax : l.amount);
    g.tax += BigInt(l.tax);
    groups.set(key, g);
  }
  const rated = [...groups.values()].filter((g) => g.net > 0n && g.tax >= 0n);
  if (rated.length === 0 || gross <= 0)
    return gross > 0 ? [{ taxClass: null, taxCode: null, net: gross, tax: 0, gross }] : [];
  const whole = rated.reduce((s, g) => s + g.net + g.tax, 0n);
  const total = BigInt(gross);
  const shares = rated.map((g) => (total * (g.net + g.tax)) / whole);
  const rest = total - shares.reduce((s, x) => s + x, 0n);
  let largest = 0;
  rated.forEach((g, i) => {
    if (g.net > rated[largest]!.net) largest = i;
  });
  shares[largest]! += rest;
  const out: AllowancePart[] = [];
  rated.forEach((g, i) => {
    const part = shares[i]!;
    if (part === 0n) return;
    const groupGross = g.net + g.tax;
    const tax = roundHalfAway(part * g.tax, groupGross);
    out.push({
      taxClass: g.taxClass,
      taxCode: g.taxCode,
      net: Number(part - tax),
      tax: Number(tax),
      gross: Number(part),
    });
  });
  return out;
}

function roundHalfAway(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (2n * d);
  return negative ? -q : q;
}

/** The texts of an allowance line, in the document's language. */
export function allowanceDescription(language: 'zh-CN' | 'en', reference: string): string {
  return (
    language === 'zh-CN'
      ? `销售折让（渠道退款 ${reference}）`
      : `Sales allowance (channel refund ${reference})`
  ).slice(0, 255);
}

/**
 * Document lines for allowance parts: no quantity, no unit price, the amount (net, or gross when
 * prices include tax) and its tax. `sign` 1 for a credit note (whose amounts are positive and taken
 * off its invoice), −1 for a discount line on an invoice.
 */
export function allowanceLines(
  parts: readonly AllowancePart[],
  pricesIncludeTax: boolean,
  sign: 1 | -1,
  refs: { orderId: number | null; description: string },
): InvoiceLineDraft[] {
  return parts.map((p) => {
    const amount = sign * (pricesIncludeTax ? p.gross : p.net);
    return {
      orderId: refs.orderId,
      orderLineId: null,
      shipmentId: null,
      creditsLineId: null,
      sku: ALLOWANCE_SKU,
      description: refs.description,
      quantity: 0,
      unitPrice: 0,
      // amount = quantity × unit price − discount, as on every line.
      discount: -amount,
      tax: sign * p.tax,
      taxClass: p.taxClass,
      taxCode: p.taxCode,
      amount,
    };
  });
}
