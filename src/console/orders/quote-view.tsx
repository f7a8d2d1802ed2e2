/** @jsxImportSource hono/jsx */
import type { Quote } from '../../orders/quote.js';
import { Badge, formatMoney, StatusBadge } from '../components.js';
import { COMMON, type ConsoleLocale } from '../texts.js';
import { reasonText, T } from './texts.js';

/**
 * The quote panel of the phone order page. The server renders it after "Check" (no script); with
 * script on, order-quote.js renders the same structure from `POST /api/orders/quote`'s answer, with
 * the texts this module hands it (`quoteTexts`).
 */

type MoneyV = { amount: number; currency: string } | null | undefined;
interface CreditPart {
  limit?: MoneyV;
  exposure?: MoneyV;
  available?: MoneyV;
}
interface CreditInfoView {
  checked?: boolean;
  customer?: CreditPart;
  salesperson?: CreditPart & { code?: string };
}
interface PromotionsInfoView {
  applied?: { code: string; lineNo: number | null; discount: number }[];
}

const money = (m: MoneyV) => (m ? formatMoney(m.amount, m.currency) : '–');

/** The texts order-quote.js needs, in the reader's language (given to it as the panel's data). */
export function quoteTexts(locale: ConsoleLocale) {
  const tt = T[locale];
  const t = COMMON[locale];
  return {
    heading: tt.quoteHeading,
    empty: tt.quoteEmpty,
    loading: tt.quoteLoading,
    failed: tt.quoteFailed,
    status: tt.quoteStatus,
    total: tt.quoteTotal,
    customerUnknown: tt.quoteCustomerUnknown,
    held: tt.quoteHeld,
    noHold: tt.quoteNoHold,
    lines: tt.quoteLines,
    sku: tt.sku,
    quantity: tt.ordered,
    available: tt.quoteAvailable,
    byWarehouse: tt.quoteByWarehouse,
    reserve: tt.quoteReserve,
    backorder: tt.quoteBackorder,
    price: tt.quotePrice,
    rule: tt.quoteRule,
    noRule: tt.quoteNoRule,
    levels: tt.priceLevels,
    unknownSku: tt.quoteUnknownSku,
    promotions: tt.quotePromotions,
    noPromotions: tt.quoteNoPromotions,
    credit: tt.quoteCredit,
    creditLimit: tt.quoteCreditLimit,
    creditExposure: tt.quoteCreditExposure,
    creditAvailable: tt.quoteCreditAvailable,
    creditUnchecked: tt.quoteCreditUnchecked,
    salesperson: tt.salesperson,
    customer: tt.customer,
    existing: tt.quoteExisting('{id}' as unknown as number),
    wholeOrder: tt.wholeOrder,
    lineNo: tt.lineNo,
    statuses: t.orderStatus,
    reasons: tt.holdReasons,
  };
}

function CreditFacts({ label, part, locale }: { label: string; part: CreditPart; locale: ConsoleLocale }) {
  const tt = T[locale];
  return (
    <p>
      {`${label}: ${tt.quoteCreditLimit} ${money(part.limit)} · ${tt.quoteCreditExposure} ${money(part.exposure)} · ${tt.quoteCreditAvailable} ${money(part.available)}`}
    </p>
  );
}

/** The quote, as the page shows it after "Check". */
export function QuoteView({ quote, locale }: { quote: Quote; locale: ConsoleLocale }) {
  const tt = T[locale];
  const credit = quote.rules.credit as CreditInfoView | undefined;
  const promotions = (quote.rules.promotions as PromotionsInfoView | undefined)?.applied ?? [];
  return (
    <>
      <p>
        {`${tt.quoteStatus}: `}
        <StatusBadge status={quote.status} locale={locale} />
        {quote.holdReason ? ` ${reasonText(tt, quote.holdReason)}` : ''}
        {` · ${tt.quoteTotal}: ${formatMoney(quote.totalAmount, quote.currency)}`}
      </p>
      {quote.customer.known ? null : <p>{tt.quoteCustomerUnknown}</p>}
      {quote.existingOrder ? (
        <p>
          <a href={`/console/orders/${quote.existingOrder.id}`}>{tt.quoteExisting(quote.existingOrder.id)}</a>
        </p>
      ) : null}
      <h3>{tt.quoteHeld}</h3>
      {quote.problems.length ? (
        <ul>
          {quote.problems.map((p) => (
            <li>
              <Badge kind="warn">{reasonText(tt, p.code)}</Badge> {p.message}
            </li>
          ))}
        </ul>
      ) : (
        <p>{tt.quoteNoHold}</p>
      )}
      <h3>{tt.quoteLines}</h3>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{tt.quoteLines}</caption>
          <thead>
            <tr>
              <th scope="col">{tt.sku}</th>
              <th scope="col" class="num">
                {tt.ordered}
              </th>
              <th scope="col" class="num">
                {tt.quotePrice}
              </th>
              <th scope="col">{tt.quoteRule}</th>
              <th scope="col" class="num">
                {tt.quoteAvailable}
              </th>
              <th scope="col">{tt.quoteByWarehouse}</th>
              <th scope="col" class="num">
                {tt.quoteReserve}
              </th>
              <th scope="col" class="num">
                {tt.quoteBackorder}
              </th>
            </tr>
          </thead>
          <tbody>
            {quote.lines.map((l) => (
              <tr>
                <td>
                  {l.sku}
                  {l.known ? '' : ` (${tt.quoteUnknownSku})`}
                </td>
                <td class="num">{l.quantity}</td>
                <td class="num">{formatMoney(l.price.unitPrice, quote.currency)}</td>
                <td>
                  {l.price.rule
                    ? `${l.price.rule.priceList} (${(tt.priceLevels as Record<string, string>)[l.price.rule.level] ?? l.price.rule.level})`
                    : tt.quoteNoRule}
                </td>
                <td class="num">{l.stock.available}</td>
                <td>{l.stock.warehouses.map((w) => `${w.warehouse}: ${w.available}`).join(', ') || '–'}</td>
                <td class="num">{l.reservation.reserved}</td>
                <td class="num">{l.reservation.backordered}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{tt.quotePromotions}</h3>
      {promotions.length ? (
        <ul>
          {promotions.map((p) => (
            <li>
              {`${p.code}: −${formatMoney(p.discount, quote.currency)} (${p.lineNo === null ? tt.wholeOrder : `${tt.lineNo} ${p.lineNo}`})`}
            </li>
          ))}
        </ul>
      ) : (
        <p>{tt.quoteNoPromotions}</p>
      )}
      <h3>{tt.quoteCredit}</h3>
      {credit?.customer ? <CreditFacts label={tt.customer} part={credit.customer} locale={locale} /> : null}
      {credit?.salesperson ? (
        <CreditFacts
          label={`${tt.salesperson} ${credit.salesperson.code ?? ''}`}
          part={credit.salesperson}
          locale={locale}
        />
      ) : null}
      {!credit?.customer && !credit?.salesperson ? <p>{tt.quoteCreditUnchecked}</p> : null}
    </>
  );
}
