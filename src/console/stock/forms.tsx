/** @jsxImportSource hono/jsx */
import { randomUUID } from 'node:crypto';
import { codeKey } from '../../domain/codes.js';
import { ErrorSummary, Field, Select } from '../components.js';
import type { FieldErrors, FormObject } from '../forms.js';
import type { ConsoleLocale } from '../texts.js';
import { REFUSAL_FIELDS, REFUSALS, T } from './texts.js';

/**
 * The stock documents' forms (receipt, adjustment, transfer between warehouses): the fields of the
 * API's bodies, every line a row of fields, every problem beside its field.
 */

export type DocumentKind = 'receipt' | 'adjustment' | 'transfer';

export const DOCUMENT_PATH: Record<DocumentKind, string> = {
  receipt: '/console/stock/new/receipt',
  adjustment: '/console/stock/new/adjustment',
  transfer: '/console/stock/new/transfer',
};

/** A form's own key (`console:<uuid>`, one per page shown), sent as a hidden field. */
const FORM_KEY = /^console:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const keyOf = (values: FormObject | undefined) => {
  const v = values?.formKey;
  return typeof v === 'string' && FORM_KEY.test(v) ? v : null;
};

/**
 * A hidden `formKey` (`console:<uuid>`, made when the page is shown; kept when the form comes back
 * with errors): a form whose reference is optional sends it as the reference when the field is left
 * blank, so posting the same form twice (a double click, a reload) is a duplicate the service
 * answers harmlessly instead of a second document.
 */
export function FormKey({ values }: { values?: FormObject | undefined }) {
  return <input type="hidden" name="formKey" value={keyOf(values) ?? `console:${randomUUID()}`} />;
}

/** A form's values with a blank `field` set to the form's key (see `FormKey`). */
export function keyedBy(field: string) {
  return (values: FormObject): FormObject => {
    const own = values[field];
    const key = keyOf(values);
    if (key && (own === undefined || (typeof own === 'string' && own.trim() === '')))
      return { ...values, [field]: key };
    return values;
  };
}

/** How many rows of lines a form shows: at least five, one spare after those sent. */
export function lineCount(values: FormObject | undefined): number {
  const lines = values?.lines;
  let sent = 0;
  if (lines && typeof lines === 'object' && !(lines instanceof File)) {
    const keys = Array.isArray(lines) ? lines.map((_, i) => i) : Object.keys(lines).map(Number);
    for (const k of keys) if (Number.isInteger(k) && k >= 0 && k < 5000) sent = Math.max(sent, k + 1);
  }
  return Math.max(5, sent + 1);
}

export interface DocumentFormProps {
  kind: DocumentKind;
  locale: ConsoleLocale;
  csrf: string;
  warehouses: readonly { code: string; name: string }[];
  values?: FormObject | undefined;
  errors?: FieldErrors | undefined;
  /** A SKU to put on the first line (the form opened from a SKU's page). */
  sku?: string | undefined;
  /** A warehouse to choose first. */
  warehouse?: string | undefined;
}

/** The labels of a document form's fields by name (for the error summary). */
function labelsOf(kind: DocumentKind, locale: ConsoleLocale, rows: number): Record<string, string> {
  const t = T[locale];
  const out: Record<string, string> = {
    warehouse: t.warehouse,
    from: t.from,
    to: t.to,
    reference: kind === 'adjustment' ? t.referenceOptional : t.reference,
    reason: t.adjustReason,
    lines: t.linesHeading,
  };
  for (let i = 0; i < rows; i++) {
    out[`lines.${i}.sku`] = t.lineSku(i + 1);
    out[`lines.${i}.quantity`] = t.lineQuantity(i + 1);
    out[`lines.${i}.delta`] = t.lineDelta(i + 1);
  }
  return out;
}

export function DocumentForm(p: DocumentFormProps) {
  const t = T[p.locale];
  const rows = lineCount(p.values);
  const options = p.warehouses.map((w) => ({ value: w.code, label: `${w.code} · ${w.name}` }));
  const amount = p.kind === 'adjustment' ? 'delta' : 'quantity';
  const linesErrors = p.errors?.lines ?? [];
  return (
    <>
      <ErrorSummary errors={p.errors} locale={p.locale} labels={labelsOf(p.kind, p.locale, rows)} />
      <form method="post" action={DOCUMENT_PATH[p.kind]} class="card stock-document" novalidate>
        <input type="hidden" name="_csrf" value={p.csrf} />
        {p.kind === 'adjustment' ? <FormKey values={p.values} /> : null}
        {p.kind === 'transfer' ? (
          <>
            <Select
              name="from"
              label={t.from}
              options={options}
              blank={t.chooseWarehouse}
              values={p.values}
              value={p.warehouse}
              errors={p.errors}
              required
            />
            <Select
              name="to"
              label={t.to}
              options={options}
              blank={t.chooseWarehouse}
              values={p.values}
              errors={p.errors}
              required
            />
          </>
        ) : (
          <Select
            name="warehouse"
            label={t.warehouse}
            options={options}
            blank={t.chooseWarehouse}
            values={p.values}
            value={p.warehouse}
            errors={p.errors}
            required
          />
        )}
        {p.kind === 'adjustment' ? (
          <Field
            name="reason"
            label={t.adjustReason}
            hint={t.adjustReasonHint}
            values={p.values}
            errors={p.errors}
            required
            attrs={{ maxlength: 255 }}
          />
        ) : null}
        <Field
          name="reference"
          label={p.kind === 'adjustment' ? t.referenceOptional : t.reference}
          hint={t.referenceHint}
          values={p.values}
          errors={p.errors}
          required={p.kind !== 'adjustment'}
          attrs={{ maxlength: 191, autocomplete: 'off' }}
        />
        <fieldset
          id="f-lines"
          class="lines"
          aria-describedby={linesErrors.length ? 'f-lines-error' : 'f-lines-hint'}
        >
          <legend>{t.linesHeading}</legend>
          <p class="hint" id="f-lines-hint">
            {t.linesHint}
          </p>
          {linesErrors.length ? (
            <p class="field-error" id="f-lines-error">
              {linesErrors.join(' ')}
            </p>
          ) : null}
          <LineRows
            locale={p.locale}
            rows={rows}
            amount={amount}
            values={p.values}
            errors={p.errors}
            sku={p.sku}
          />
          <datalist id="sku-options" />
        </fieldset>
        <button type="submit">{t.record}</button>
      </form>
    </>
  );
}

/** The rows of a form's lines: a SKU field (with matching codes offered) and its quantity or change. */
export function LineRows(p: {
  locale: ConsoleLocale;
  rows: number;
  amount: 'quantity' | 'delta';
  values?: FormObject | undefined;
  errors?: FieldErrors | undefined;
  sku?: string | undefined;
}) {
  const t = T[p.locale];
  return (
    <>
      {Array.from({ length: p.rows }, (_, i) => (
        <div class="line">
          <Field
            name={`lines.${i}.sku`}
            label={t.lineSku(i + 1)}
            values={p.values}
            value={i === 0 ? p.sku : undefined}
            errors={p.errors}
            attrs={{ list: 'sku-options', autocomplete: 'off', maxlength: 64, 'data-sku-search': true }}
          />
          <Field
            name={`lines.${i}.${p.amount}`}
            label={p.amount === 'delta' ? t.lineDelta(i + 1) : t.lineQuantity(i + 1)}
            hint={p.amount === 'delta' && i === 0 ? t.deltaHint : undefined}
            values={p.values}
            errors={p.errors}
            attrs={{ inputmode: 'numeric', autocomplete: 'off' }}
          />
        </div>
      ))}
    </>
  );
}

interface LineRefusal {
  sku?: unknown;
  onHand?: unknown;
  reserved?: unknown;
  delta?: unknown;
  quantity?: unknown;
  message?: unknown;
}

/**
 * A refusal of the stock service as problems beside the fields they concern: the lines it names
 * (by SKU), the warehouse or reference. `lines` are the lines as parsed from the form.
 */
export function refusalErrors(
  kind: DocumentKind | 'group' | 'receive',
  locale: ConsoleLocale,
  code: string,
  details: unknown,
  input: { warehouse?: string; from?: string; to?: string; lines?: readonly { sku: string }[] | undefined },
): FieldErrors {
  const r = REFUSALS[locale];
  const f = REFUSAL_FIELDS[locale];
  const en = locale === 'en';
  const out: FieldErrors = {};
  const add = (field: string, message: string) => {
    out[field] = [...(out[field] ?? []), message];
  };
  const amount = kind === 'adjustment' ? 'delta' : 'quantity';
  const lines = input.lines ?? [];
  const linesOf = (sku: string) => {
    const exact = lines.flatMap((l, i) => (l.sku === sku ? [i] : []));
    return exact.length ? exact : lines.flatMap((l, i) => (codeKey(l.sku) === codeKey(sku) ? [i] : []));
  };
  const d = (details ?? {}) as { lines?: LineRefusal[]; problems?: unknown[]; skus?: unknown[] };
  if (code === 'over_receipt') {
    for (const line of d.lines ?? [])
      for (const i of linesOf(String(line.sku))) add(`lines.${i}.quantity`, f.over_receipt);
  } else if (code === 'unknown_line' || code === 'no_transfer_price') {
    for (const sku of d.skus ?? []) for (const i of linesOf(String(sku))) add(`lines.${i}.sku`, f[code]);
  } else if (code === 'unknown_price_list' || code === 'no_transfer_price_list') {
    add('priceList', f[code]);
  } else if (code === 'same_company') {
    add('to', f.same_company);
  } else if (code === 'no_company') {
    add('', r.no_company);
  } else if (code === 'insufficient_stock' || code === 'stock_limit') {
    for (const line of d.lines ?? []) {
      const onHand = Number(line.onHand ?? 0);
      const reserved = Number(line.reserved ?? 0);
      let message: string;
      if (code === 'stock_limit') message = f.stock_limit;
      else if (typeof line.message === 'string')
        message = en ? line.message : line.message.includes('reserved') ? r.belowReserved : r.belowZero;
      else message = r.notFree(onHand, reserved);
      for (const i of linesOf(String(line.sku))) add(`lines.${i}.${amount}`, message);
    }
  } else if (code === 'unknown_reference') {
    // The service names its problems in words only (`unknown SKU X`): read them, nothing else to go by.
    for (const p of d.problems ?? []) {
      const text = String(p);
      const sku = /^unknown SKU (.*)$/.exec(text)?.[1];
      const warehouse = /^unknown warehouse (.*)$/.exec(text)?.[1];
      if (sku !== undefined) for (const i of linesOf(sku)) add(`lines.${i}.sku`, f.unknownSku(sku));
      if (warehouse !== undefined) {
        const field =
          kind !== 'transfer'
            ? 'warehouse'
            : warehouse === input.from
              ? 'from'
              : warehouse === input.to
                ? 'to'
                : '';
        add(field, f.unknownWarehouse(warehouse));
      }
    }
  } else if (code === 'duplicate_reference') {
    const field = kind === 'group' ? 'ref' : kind === 'receive' ? 'receipt' : 'reference';
    add(field, f.duplicate_reference);
  } else if (code === 'same_warehouse' || code === 'intra_group_transfer') {
    add('to', f[code]);
  } else if (code === 'in_transit_location') {
    add('from', r.in_transit_location);
  }
  return out;
}

/** The top message of a refusal: the API's own in English, its translation in Chinese. */
export function refusalMessage(locale: ConsoleLocale, code: string, message: string): string {
  if (locale === 'en') return message;
  const known = (REFUSALS[locale] as unknown as Record<string, unknown>)[code];
  return typeof known === 'string' ? known : message;
}
