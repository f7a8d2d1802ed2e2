/** @jsxImportSource hono/jsx */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../http/env.js';
import type { Quote } from '../../orders/quote.js';
import { CsrfField, ErrorSummary, Field } from '../components.js';
import { render, viewer } from '../context.js';
import { type FieldErrors, type FormObject, type FormValue, valueAt } from '../forms.js';
import { QuoteView, quoteTexts } from './quote-view.js';
import { T } from './texts.js';
import './order-quote-script.js';

/** Rows of order lines the form shows at first (script adds more; without script, "Check" adds one). */
const BLANK_ROWS = 3;

/** A form key: one per rendered form, the order's Idempotency-Key (a double submit is one order). */
export const FORM_KEY = /^[A-Za-z0-9-]{8,64}$/;

/**
 * The form's values as the order body the API takes: its line rows without the blank ones (kept in
 * `values` too, so problems keyed `lines.N.x` sit beside the row shown as N), and an external id
 * made from the form key when no reference was typed (`phone-<key>`).
 */
export function phoneOrderBody(values: FormObject): Record<string, FormValue> {
  const raw = values.lines;
  const rows = (
    Array.isArray(raw)
      ? raw
      : raw && typeof raw === 'object' && !(raw instanceof File)
        ? Object.entries(raw)
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([, v]) => v)
        : []
  ).filter((r) => {
    if (!r || typeof r !== 'object' || r instanceof File || Array.isArray(r)) return false;
    return Object.values(r).some((v) => typeof v === 'string' && v.trim() !== '');
  });
  values.lines = rows;
  const key = valueAt(values, 'formKey');
  const reference = valueAt(values, 'externalId').trim();
  const { formKey: _key, ...rest } = values;
  return { ...rest, externalId: reference || `phone-${key}` };
}

export interface NewOrderOptions {
  status?: ContentfulStatusCode;
  error?: string | undefined;
  errors?: FieldErrors | undefined;
  values?: FormObject | undefined;
  quote?: Quote | undefined;
}

/** The phone order page: customer, currency, lines; the quote panel; "Check" and "Place order". */
export function newOrderPage(c: Context<AppEnv>, options: NewOrderOptions = {}) {
  const { locale, csrf, can } = viewer(c);
  const tt = T[locale];
  const canPlace = can('operate');
  const values = options.values;
  const key = values && FORM_KEY.test(valueAt(values, 'formKey')) ? valueAt(values, 'formKey') : randomUUID();
  const shownRows = values && Array.isArray(values.lines) ? values.lines.length : 0;
  const rows = Math.max(BLANK_ROWS, shownRows + 1);
  const f = { values, errors: options.errors };
  const labels: Record<string, string> = {
    externalId: tt.orderReference,
    currency: tt.currency,
    'customer.code': tt.customerCode,
    'customer.name': tt.contactName,
    'customer.email': tt.contactEmail,
    'customer.phone': tt.contactPhone,
    lines: tt.linesHeading,
  };
  for (let i = 0; i < rows; i++) {
    labels[`lines.${i}.sku`] = tt.lineSku(i + 1);
    labels[`lines.${i}.quantity`] = tt.lineQuantity(i + 1);
  }
  return render(
    c,
    {
      title: tt.newTitle,
      nav: 'newOrder',
      status: options.status,
      error: options.error,
      scripts: ['order-quote.js'],
    },
    <>
      <h1>{tt.newTitle}</h1>
      <p>{tt.newIntro}</p>
      <ErrorSummary errors={options.errors} locale={locale} labels={labels} />
      <form
        method="post"
        action={canPlace ? '/console/orders/new' : '/console/orders/new/quote'}
        id="phone-order"
        class="card"
      >
        <CsrfField token={csrf} />
        <input type="hidden" name="formKey" value={key} />
        <h2>{tt.customerHeading}</h2>
        <Field name="customer.code" label={tt.customerCode} {...f} attrs={{ autocomplete: 'off' }} />
        <Field name="customer.name" label={tt.contactName} {...f} />
        <Field name="customer.email" label={tt.contactEmail} type="email" {...f} />
        <Field name="customer.phone" label={tt.contactPhone} type="tel" {...f} />
        <Field name="currency" label={tt.currency} hint={tt.currencyHint} required value="CNY" {...f} />
        <Field name="externalId" label={tt.orderReference} hint={tt.orderReferenceHint} {...f} />
        <h2>{tt.linesHeading}</h2>
        <div
          id="order-lines"
          data-sku-label={tt.lineSku('{n}' as unknown as number)}
          data-quantity-label={tt.lineQuantity('{n}' as unknown as number)}
        >
          {Array.from({ length: rows }, (_, i) => (
            <div class="order-line">
              <Field
                name={`lines.${i}.sku`}
                label={tt.lineSku(i + 1)}
                {...f}
                attrs={{ autocomplete: 'off' }}
              />
              <Field
                name={`lines.${i}.quantity`}
                label={tt.lineQuantity(i + 1)}
                type="number"
                {...f}
                attrs={{ min: 1, step: 1, inputmode: 'numeric' }}
              />
            </div>
          ))}
        </div>
        <button type="button" id="add-line" class="secondary" hidden>
          {tt.addLine}
        </button>
        <div>
          <button type="submit" formaction="/console/orders/new/quote" class="secondary">
            {tt.check}
          </button>
          {canPlace ? <button type="submit">{tt.placeOrder}</button> : null}
        </div>
      </form>
      <section
        id="order-quote"
        class="card"
        aria-live="polite"
        data-texts={JSON.stringify(quoteTexts(locale))}
      >
        <h2>{tt.quoteHeading}</h2>
        {options.quote ? <QuoteView quote={options.quote} locale={locale} /> : <p>{tt.quoteEmpty}</p>}
      </section>
    </>,
  );
}
