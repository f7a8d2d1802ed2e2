/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { z } from 'zod';
import { formatMinor, parseMajorAmount } from '../../../connectors/excel-inbox/money.js';
import {
  type FieldErrors,
  type FormObject,
  type FormResult,
  type FormValue,
  formValues,
  parseFormValues,
} from '../forms.js';
import { COMMON, type ConsoleLocale } from '../texts.js';

/**
 * Prices and limits are typed in major units (`12.50`) and converted here, from the digits alone,
 * to the integer minor units the API's schemas take (the same reading as the price sheet's). A
 * value that is not an amount of the currency is refused beside its field.
 */
/**
 * ISO 4217's code for "no currency": used to read or show an amount while the form's currency
 * field is empty or not a code yet (the schema then refuses the currency beside its own field).
 */
const NO_CURRENCY = 'XXX';

export type Minor = (text: FormValue | undefined, currency: string, name: string) => unknown;

/** Reads a form whose `shape` converts major-unit amounts with `minor`, then parses it with the API's schema. */
export async function readPricedForm<S extends z.ZodType>(
  c: Context,
  schema: S,
  shape: (values: FormObject, minor: Minor) => unknown,
  locale?: ConsoleLocale,
): Promise<FormResult<z.output<S>>> {
  const values = await formValues(c);
  return parsePriced(schema, values, shape, [], locale);
}

export function parsePriced<S extends z.ZodType>(
  schema: S,
  values: FormObject,
  shape: (values: FormObject, minor: Minor) => unknown,
  /** Lists of the form whose blank rows the schema does not see (their problems are named by the form's row). */
  rowLists: readonly string[] = [],
  /** The reader's language, for the amount's problems (both languages when not given). */
  locale?: ConsoleLocale,
): FormResult<z.output<S>> {
  const problems: FieldErrors = {};
  const minor: Minor = (text, currency, name) => {
    if (Array.isArray(text)) text = text[text.length - 1];
    if (typeof text !== 'string') return text;
    const trimmed = text.trim();
    if (trimmed === '') return '';
    const parsed = parseMajorAmount(trimmed, /^[A-Z]{3}$/.test(currency) ? currency : NO_CURRENCY, {
      en: 'amount',
      zh: '金额',
    });
    if (parsed.ok) return parsed.value;
    const said = locale === 'en' ? parsed.en : locale === 'zh-CN' ? parsed.zh : undefined;
    problems[name] = [said ?? parsed.message];
    return trimmed;
  };
  const result = parseFormValues(schema, values, (v) => shape(v, minor));
  let errors = result.ok ? {} : result.errors;
  for (const list of rowLists) errors = formRowErrors(errors, values, list);
  if (result.ok && Object.keys(problems).length === 0) return result;
  return { ok: false, errors: { ...errors, ...problems }, values };
}

/** Minor units as the text a major-unit field shows (`1250` EUR → `12.50`). */
export const majorText = (minor: number | null | undefined, currency: string | null | undefined) =>
  minor === null || minor === undefined ? '' : formatMinor(minor, currency || NO_CURRENCY);

/** A copy of a form's values (top level and one level down), for `shape` to change. */
export const copyValues = (values: FormObject): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof File) ? { ...v } : v;
  }
  return out;
};

/** Whether every text of a (nested) form value is empty. */
export const allBlank = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && v.trim() === '') ||
  (Array.isArray(v) && v.every(allBlank)) ||
  (typeof v === 'object' && !(v instanceof File) && Object.values(v as object).every(allBlank));

/** Yes / No in the page's language. */
export const yesNo = (locale: ConsoleLocale, v: boolean) => (v ? COMMON[locale].yes : COMMON[locale].no);

/** Field labels by name, for the error summary. */
export type Labels = Record<string, string>;

/** Links to the first page (when not on it) and the next one (when there is one); nothing on a lone page. */
export function PageLinks({
  locale,
  first,
  next,
}: {
  locale: ConsoleLocale;
  first?: string | null | undefined;
  next?: string | null | undefined;
}) {
  const t = COMMON[locale];
  if (!first && !next) return null;
  return (
    <nav class="pager" aria-label={t.pagination}>
      <ul>
        {first ? (
          <li>
            <a href={first}>{t.first}</a>
          </li>
        ) : null}
        {next ? (
          <li>
            <a href={next} rel="next">
              {t.next}
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

/**
 * Rows left blank are dropped before the schema sees a list, so its problems name a row by its place
 * among the rows given: this names them by the row of the form again (`lines.1.sku` → `lines.3.sku`).
 */
export function formRowErrors(errors: FieldErrors, values: FormObject, list: string): FieldErrors {
  const rows = values[list];
  if (!rows || typeof rows !== 'object' || rows instanceof File) return errors;
  const kept = Object.entries(rows as Record<string, unknown>)
    .sort(([a], [b]) => Number(a) - Number(b))
    .filter(([, v]) => !allBlank(v))
    .map(([k]) => k);
  const out: FieldErrors = {};
  for (const [name, messages] of Object.entries(errors)) {
    const m = new RegExp(`^${list}\\.(\\d+)(\\..*)?$`).exec(name);
    const key = m && kept[Number(m[1])] !== undefined ? `${list}.${kept[Number(m[1])]}${m[2] ?? ''}` : name;
    out[key] = [...(out[key] ?? []), ...messages];
  }
  return out;
}
