/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { z } from 'zod';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import type { AppEnv } from '../../http/env.js';
import { orderListFilter } from '../../http/routes/orders.js';
import { listOrders } from '../../orders/order-query.js';
import { Field, Money, Select, StatusBadge, Table, Time } from '../components.js';
import { type ConsoleDeps, render, viewer } from '../context.js';
import { type FieldErrors, fieldName } from '../forms.js';
import { reasonText, T } from './texts.js';

/** Rows on a page of the order list. */
export const PAGE_SIZE = 50;

/** The console's order search: the API list's own filters, paged by `beforeId`. */
export const consoleOrderQuery = orderListFilter.extend({
  beforeId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});

const FILTER_KEYS = [
  'channel',
  'externalId',
  'customer',
  'salesperson',
  'status',
  'placedFrom',
  'placedTo',
] as const;

/** The order list page: the filters (errors beside them), a page of orders, the next page's link. */
export async function orderListPage(c: Context<AppEnv>, cd: ConsoleDeps) {
  const { locale, t } = viewer(c);
  const tt = T[locale];
  // The search form sends every field; an empty one is no filter.
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.req.query())) {
    const s = v.trim();
    if (s !== '') raw[k] = s;
  }
  const parsed = consoleOrderQuery.safeParse(raw);
  let errors: FieldErrors | undefined;
  let result: Awaited<ReturnType<typeof listOrders>> = { items: [], nextId: null };
  const query = parsed.success ? parsed.data : null;
  if (parsed.success) {
    result = await listOrders(cd.deps.db, { ...parsed.data, limit: PAGE_SIZE }, parsed.data.beforeId ?? null);
  } else {
    errors = {};
    for (const issue of parsed.error.issues) {
      const key = fieldName(issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
      errors[key] = [...(errors[key] ?? []), issue.message];
    }
  }
  const kept: Record<string, string> = {};
  for (const k of FILTER_KEYS) if (raw[k]) kept[k] = raw[k];
  const link = (extra: Record<string, string | number>) => {
    const q = new URLSearchParams({
      ...kept,
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
    });
    return `/console/orders${q.size ? `?${q}` : ''}`;
  };
  const statusOptions = ORDER_STATUSES.map((s) => ({
    value: s,
    label: (t.orderStatus as Record<string, string>)[s] ?? s,
  }));
  return render(
    c,
    { title: tt.listTitle, nav: 'orders', status: errors ? 422 : 200 },
    <>
      <h1>{tt.listTitle}</h1>
      <section class="card" aria-labelledby="order-search">
        <h2 id="order-search">{tt.searchHeading}</h2>
        <form method="get" action="/console/orders" class="filters">
          <Field name="channel" label={tt.channel} values={raw} errors={errors} />
          <Field name="externalId" label={tt.externalId} values={raw} errors={errors} />
          <Field name="customer" label={tt.customerCode} values={raw} errors={errors} />
          <Select
            name="status"
            label={tt.status}
            values={raw}
            errors={errors}
            blank={tt.anyStatus}
            options={statusOptions}
          />
          <Field
            name="placedFrom"
            label={tt.placedFrom}
            type="date"
            values={raw}
            errors={errors}
            hint={tt.dateHint}
          />
          <Field
            name="placedTo"
            label={tt.placedTo}
            type="date"
            values={raw}
            errors={errors}
            hint={tt.dateHint}
          />
          <div>
            <button type="submit">{t.search}</button>
            <a class="button secondary" href="/console/orders">
              {t.clear}
            </a>
          </div>
        </form>
      </section>
      <Table
        caption={tt.listCaption}
        locale={locale}
        emptyText={tt.noOrders}
        rows={result.items}
        columns={[
          { label: tt.order, cell: (o) => <a href={`/console/orders/${o.id}`}>{`#${o.id}`}</a> },
          { label: tt.placedAt, cell: (o) => <Time at={o.placedAt} /> },
          { label: tt.channel, cell: (o) => o.channel },
          { label: tt.externalId, cell: (o) => o.externalId },
          { label: tt.customer, cell: (o) => o.customer ?? '' },
          {
            label: tt.status,
            cell: (o) => (
              <>
                <StatusBadge status={o.status} locale={locale} />
                {o.holdReason ? <span class="muted">{` ${reasonText(tt, o.holdReason)}`}</span> : null}
              </>
            ),
          },
          { label: tt.total, num: true, cell: (o) => <Money minor={o.totalAmount} currency={o.currency} /> },
        ]}
      />
      {query?.beforeId || result.nextId ? (
        <nav class="pager" aria-label={t.pagination}>
          <ul>
            {query?.beforeId ? (
              <li>
                <a href={link({})}>{tt.firstPage}</a>
              </li>
            ) : null}
            {result.nextId ? (
              <li>
                <a href={link({ beforeId: result.nextId })} rel="next">
                  {t.next}
                </a>
              </li>
            ) : null}
          </ul>
        </nav>
      ) : null}
    </>,
  );
}
