/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { minorDigits } from '../domain/credit.js';
import { type FieldErrors, type FormObject, valueAt } from './forms.js';
import { COMMON, type ConsoleLocale } from './texts.js';

/**
 * The console's building blocks. Pages are server-rendered and work without script; every input
 * has a label, every error is tied to its input (`aria-describedby`, `aria-invalid`), tables have
 * header cells, and the page has one `h1`.
 */

/** Where the navigation points; `key` names the entry in COMMON.nav. */
export const NAV = [
  { key: 'dashboard', href: '/console' },
  { key: 'orders', href: '/console/orders' },
  { key: 'newOrder', href: '/console/orders/new' },
  { key: 'stock', href: '/console/stock' },
  { key: 'channels', href: '/console/channels' },
  { key: 'inboundEvents', href: '/console/inbound-events' },
  { key: 'customers', href: '/console/customers' },
  { key: 'priceLists', href: '/console/price-lists' },
  { key: 'contracts', href: '/console/contracts' },
  { key: 'jobs', href: '/console/jobs' },
  { key: 'reconciliation', href: '/console/reconciliation' },
  { key: 'settings', href: '/console/settings' },
] as const;

export type NavKey = (typeof NAV)[number]['key'];

export interface LayoutProps {
  locale: ConsoleLocale;
  title: string;
  /** The navigation entry this page belongs to. */
  nav?: NavKey | undefined;
  user: { actor: string; role: string; locale?: ConsoleLocale | undefined };
  /** The session's CSRF token: every form of the page carries it. */
  csrf: string;
  /** A message carried over from the previous request (after a change). */
  flash?: { kind: 'notice' | 'error'; text: string } | null | undefined;
  /** Extra scripts (`/console/assets/<name>`), besides console.js. */
  scripts?: string[];
  /** The current path and query (for the language form's return). */
  path: string;
  children: Child;
}

export function Layout(p: LayoutProps) {
  const t = COMMON[p.locale];
  const isAdmin = p.user.role === 'admin';
  return (
    <html lang={p.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <meta name="csrf-token" content={p.csrf} />
        <title>{`${p.title} · ${t.product}`}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" defer />
        {(p.scripts ?? []).map((s) => (
          <script src={`/console/assets/${s}`} defer />
        ))}
      </head>
      <body>
        <a class="skip" href="#content">
          {t.skipToContent}
        </a>
        <header class="top">
          <a class="brand" href="/console">
            {t.product}
          </a>
          <span>
            {t.signedInAs(p.user.actor, t.roles[p.user.role as keyof typeof t.roles] ?? p.user.role)}
          </span>
          <form method="post" action="/console/language">
            <CsrfField token={p.csrf} />
            <input type="hidden" name="back" value={p.path} />
            <label for="console-language">{t.language}</label>
            <select id="console-language" name="locale">
              <option value="" selected={!p.user.locale}>
                {t.languageAuto}
              </option>
              {(['zh-CN', 'en'] as const).map((l) => (
                <option value={l} selected={l === p.user.locale}>
                  {t.languageNames[l]}
                </option>
              ))}
            </select>
            <button type="submit">{t.change}</button>
          </form>
          <a href="/account">{t.account}</a>
          <form method="post" action="/logout">
            <CsrfField token={p.csrf} />
            <button type="submit">{t.logOut}</button>
          </form>
        </header>
        <nav class="main" aria-label={t.mainNav}>
          <ul>
            {NAV.map((n) => (
              <li>
                <a href={n.href} aria-current={n.key === p.nav ? 'page' : undefined}>
                  {t.nav[n.key]}
                </a>
              </li>
            ))}
            {isAdmin ? (
              <li>
                <a href="/console/queues">{t.nav.queues}</a>
              </li>
            ) : null}
            <li>
              <a href="/api/docs">{t.nav.apiDocs}</a>
            </li>
          </ul>
        </nav>
        <main id="content" tabindex={-1}>
          {p.flash ? (
            <p class={`flash ${p.flash.kind}`} role={p.flash.kind === 'error' ? 'alert' : 'status'}>
              {p.flash.text}
            </p>
          ) : null}
          {p.children}
        </main>
      </body>
    </html>
  );
}

export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name="_csrf" value={token} />;

/** An id for an input from its field name (`lines.0.sku` → `f-lines-0-sku`). */
export const inputId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

export interface FieldProps {
  /** The field's name as the schema's path (`lines.0.sku`); sent as is, forms.ts reads dotted names. */
  name: string;
  label: string;
  /** The form's values after a failed submit, to fill the field again. */
  values?: FormObject | undefined;
  /** The value when the form is first shown. */
  value?: string | number | null | undefined;
  errors?: FieldErrors | undefined;
  hint?: string | undefined;
  type?: string;
  required?: boolean;
  /** Extra attributes for the input (min, max, step, autocomplete, inputmode, list, ...). */
  attrs?: Record<string, string | number | boolean | undefined>;
  id?: string;
}

const shown = (p: { name: string; values?: FormObject | undefined; value?: unknown }) =>
  p.values ? valueAt(p.values, p.name) : p.value === null || p.value === undefined ? '' : String(p.value);

/** The hint and errors under a field, and the attributes that tie them to the input. */
function described(p: FieldProps, id: string) {
  const errs = p.errors?.[p.name] ?? [];
  const ids = [p.hint ? `${id}-hint` : '', errs.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  const below = (
    <>
      {p.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      {errs.length ? (
        <p class="field-error" id={`${id}-error`}>
          {errs.join(' ')}
        </p>
      ) : null}
    </>
  );
  return {
    attrs: { 'aria-describedby': ids || undefined, 'aria-invalid': errs.length ? 'true' : undefined },
    below,
  };
}

export function Field(p: FieldProps) {
  const id = p.id ?? inputId(p.name);
  const d = described(p, id);
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={shown(p)}
        required={p.required}
        {...d.attrs}
        {...(p.attrs ?? {})}
      />
      {d.below}
    </div>
  );
}

export function TextArea(p: FieldProps) {
  const id = p.id ?? inputId(p.name);
  const d = described(p, id);
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <textarea id={id} name={p.name} required={p.required} {...d.attrs} {...(p.attrs ?? {})}>
        {shown(p)}
      </textarea>
      {d.below}
    </div>
  );
}

export function Select(
  p: FieldProps & { options: readonly { value: string; label: string }[]; blank?: string | undefined },
) {
  const id = p.id ?? inputId(p.name);
  const d = described(p, id);
  const current = shown(p);
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} name={p.name} required={p.required} {...d.attrs} {...(p.attrs ?? {})}>
        {p.blank !== undefined ? <option value="">{p.blank}</option> : null}
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === current}>
            {o.label}
          </option>
        ))}
      </select>
      {d.below}
    </div>
  );
}

/** A checkbox that sends `false` when unticked (a hidden field before it), so edits can turn it off. */
export function Checkbox(p: Omit<FieldProps, 'value'> & { checked?: boolean | undefined }) {
  const id = p.id ?? inputId(p.name);
  const d = described(p, id);
  const on = p.values ? ['on', 'true', '1'].includes(valueAt(p.values, p.name)) : Boolean(p.checked);
  return (
    <div class="field check">
      <input type="hidden" name={p.name} value="false" />
      <input id={id} type="checkbox" name={p.name} value="true" checked={on} {...d.attrs} />
      <label for={id}>{p.label}</label>
      {d.below}
    </div>
  );
}

/** The problems of a failed submit at the top of the form, each a link to its field. */
export function ErrorSummary({
  errors,
  locale,
  labels,
}: {
  errors?: FieldErrors | undefined;
  locale: ConsoleLocale;
  /** Field labels by name, to say which field a problem is in. */
  labels?: Record<string, string>;
}) {
  if (!errors || Object.keys(errors).length === 0) return null;
  const t = COMMON[locale];
  return (
    <div class="error-summary" role="alert" tabindex={-1}>
      <p>{t.errorSummary}</p>
      <ul>
        {Object.entries(errors).map(([name, messages]) => (
          <li>
            {name ? <a href={`#${inputId(name)}`}>{labels?.[name] ?? name}</a> : null}
            {name ? ': ' : ''}
            {messages.join(' ')}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A form that posts an action (release, cancel, run now, ...): the CSRF field, optional fields,
 * and its button. `confirm` asks before sending (with script on).
 */
export function ActionForm({
  action,
  csrf,
  label,
  children,
  confirm,
  variant,
  inline,
}: {
  action: string;
  csrf: string;
  label: string;
  children?: Child;
  confirm?: string;
  variant?: 'secondary' | 'danger';
  inline?: boolean;
}) {
  return (
    <form method="post" action={action} class={inline ? 'inline-form' : undefined} data-confirm={confirm}>
      <CsrfField token={csrf} />
      {children}
      <button type="submit" class={variant}>
        {label}
      </button>
    </form>
  );
}

export interface Column<R> {
  label: string;
  cell: (row: R) => Child;
  num?: boolean;
}

/** A table with a caption (visually hidden when `hideCaption`), header cells, and an empty state. */
export function Table<R>({
  caption,
  columns,
  rows,
  locale,
  hideCaption,
  emptyText,
}: {
  caption: string;
  columns: Column<R>[];
  rows: readonly R[];
  locale: ConsoleLocale;
  hideCaption?: boolean;
  emptyText?: string;
}) {
  if (rows.length === 0) return <p class="muted">{emptyText ?? COMMON[locale].empty}</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class={hideCaption ? 'visually-hidden' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((col) => (
              <th scope="col" class={col.num ? 'num' : undefined}>
                {col.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {columns.map((col) => (
                <td class={col.num ? 'num' : undefined}>{col.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Links to the previous and next page, keeping the rest of the query. */
export function Pager({
  locale,
  path,
  query,
  prev,
  next,
}: {
  locale: ConsoleLocale;
  path: string;
  /** The current query; the cursor keys are replaced. */
  query: Record<string, string | number | undefined | null>;
  /** The query changes that give the previous / next page, or null when there is none. */
  prev?: Record<string, string | number> | null;
  next?: Record<string, string | number> | null;
}) {
  const t = COMMON[locale];
  const href = (change: Record<string, string | number>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...query, ...change })) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    return `${path}${q.size ? `?${q}` : ''}`;
  };
  if (!prev && !next) return null;
  return (
    <nav class="pager" aria-label={t.pagination}>
      <ul>
        {prev ? (
          <li>
            <a href={href(prev)} rel="prev">
              {t.previous}
            </a>
          </li>
        ) : null}
        {next ? (
          <li>
            <a href={href(next)} rel="next">
              {t.next}
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

/** An amount in minor units, in the currency's own digits (`12.50 CNY`). */
export function formatMoney(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined) return '';
  const cur = currency ?? '';
  const digits = cur ? minorDigits(cur) : 2;
  const neg = minor < 0;
  const abs = Math.abs(Math.trunc(minor));
  const s = abs.toString().padStart(digits + 1, '0');
  const whole = digits > 0 ? s.slice(0, -digits) : s;
  const frac = digits > 0 ? `.${s.slice(-digits)}` : '';
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}${frac}${cur ? ` ${cur}` : ''}`;
}

export const Money = ({
  minor,
  currency,
}: {
  minor: number | null | undefined;
  currency: string | null | undefined;
}) => <span class="money">{formatMoney(minor, currency)}</span>;

/** A UTC time as `2026-12-01 08:30 UTC`, machine-readable in `datetime`. */
export function Time({ at }: { at: string | Date | null | undefined }) {
  if (!at) return <span class="muted">–</span>;
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return <span>{String(at)}</span>;
  const iso = d.toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

const STATUS_KIND: Record<string, 'ok' | 'warn' | 'bad' | undefined> = {
  confirmed: 'ok',
  shipped: 'ok',
  delivered: 'ok',
  completed: 'ok',
  partially_shipped: 'ok',
  backordered: 'warn',
  on_hold: 'warn',
  received: undefined,
  rejected: 'bad',
  cancelled: 'bad',
};

/** An order status as a badge, in the page's language. */
export function StatusBadge({ status, locale }: { status: string; locale: ConsoleLocale }) {
  const names = COMMON[locale].orderStatus as Record<string, string>;
  const kind = STATUS_KIND[status];
  return <span class={`badge${kind ? ` ${kind}` : ''}`}>{names[status] ?? status}</span>;
}

/** A small badge: `ok`, `warn` or `bad`. */
export const Badge = ({ kind, children }: { kind?: 'ok' | 'warn' | 'bad' | undefined; children: Child }) => (
  <span class={`badge${kind ? ` ${kind}` : ''}`}>{children}</span>
);

/** Label / value pairs. */
export const Facts = ({ items }: { items: readonly [string, Child][] }) => (
  <dl class="facts">
    {items.map(([k, v]) => (
      <>
        <dt>{k}</dt>
        <dd>{v}</dd>
      </>
    ))}
  </dl>
);
