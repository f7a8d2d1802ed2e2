/** @jsxImportSource hono/jsx */

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { customerIdByCode } from '../../billing/statements.js';
import { customerCredit, salespersonCredit } from '../../customers/credit-view.js';
import { recentCustomerOrders, salespersonCustomers } from '../../customers/customer-orders.js';
import {
  type CustomerView,
  customerDetail,
  deleteCustomer,
  listCustomers,
  salespersonDetail,
  upsertCustomer,
} from '../../customers/customer-store.js';
import { customerBodySchema } from '../../domain/customer.js';
import { INVOICE_POLICIES } from '../../domain/invoice.js';
import { LANGUAGES } from '../../domain/order-input.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { nextCursor, readCursor } from '../../http/pagination.js';
import { codeParam } from '../../http/params.js';
import { customerListQuery } from '../../http/routes/customers.js';
import { deliveryBody } from '../../http/routes/notifications.js';
import { documentDelivery, setDocumentDelivery } from '../../notify/documents.js';
import {
  ActionForm,
  Badge,
  Checkbox,
  CsrfField,
  ErrorSummary,
  Facts,
  Field,
  Money,
  Select,
  StatusBadge,
  Table,
  Time,
} from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, PAGE, render, viewer } from '../context.js';
import {
  detailsToFieldErrors,
  type FieldErrors,
  FORM_UPLOAD,
  type FormObject,
  formValues,
  readForm,
  valueAt,
} from '../forms.js';
import type { ConsoleLocale } from '../texts.js';
import { allBlank, copyValues, majorText, PageLinks, parsePriced, yesNo } from './shared.js';
import { T } from './texts.js';

const customerParams = z.object({ code: codeParam.describe('customer code') });
const salespersonParams = z.object({ code: codeParam.describe('salesperson code') });
const orNull = <T,>(p: Promise<T>): Promise<T | null> =>
  p.catch((err) => {
    if (err instanceof NotFoundError) return null;
    throw err;
  });

type Ctx = Context<AppEnv>;

interface FormState {
  status?: 409 | 422 | 404;
  error?: string | undefined;
  errors?: FieldErrors | undefined;
  values?: FormObject | undefined;
}

/** Held orders shown on a customer or salesperson page; the rest are in the order list. */
const HELD_SHOWN = 50;

/** Where a customer stands on credit, and its held orders (the customer and salesperson pages). */
function CreditSection({
  credit,
  locale,
  showChecked,
  allHeld,
}: {
  credit: Awaited<ReturnType<typeof customerCredit>> | Awaited<ReturnType<typeof salespersonCredit>>;
  locale: 'en' | 'zh-CN';
  showChecked?: boolean;
  /** The order list of all held orders, linked when there are more than the page shows. */
  allHeld: string;
}) {
  const t = T[locale];
  const held = credit.heldOrders.slice(0, HELD_SHOWN);
  const checked = 'checked' in credit ? credit.checked : true;
  return (
    <section class="card" aria-labelledby="credit-h">
      <h2 id="credit-h">{t.credit}</h2>
      {showChecked && !checked ? <p class="muted">{t.creditUnchecked}</p> : null}
      <Facts
        items={[
          [
            t.creditLimit,
            credit.creditLimit ? (
              <Money minor={credit.creditLimit.amount} currency={credit.creditLimit.currency} />
            ) : (
              t.noLimit
            ),
          ],
          [
            t.openOrders,
            credit.exposure ? (
              <Money minor={credit.exposure.openOrders} currency={credit.exposure.currency} />
            ) : (
              t.noExposure
            ),
          ],
          [
            t.invoicedUnpaid,
            credit.exposure ? (
              <Money minor={credit.exposure.invoicedUnpaid} currency={credit.exposure.currency} />
            ) : (
              t.noExposure
            ),
          ],
          [
            t.exposureTotal,
            credit.exposure ? (
              <Money minor={credit.exposure.total} currency={credit.exposure.currency} />
            ) : (
              t.noExposure
            ),
          ],
          [
            t.headroom,
            credit.available ? (
              <span>
                <Money minor={credit.available.amount} currency={credit.available.currency} />
                {credit.available.amount < 0 ? (
                  <>
                    {' '}
                    <Badge kind="bad">{t.holdReasons.credit_limit}</Badge>
                  </>
                ) : null}
              </span>
            ) : credit.creditLimit ? (
              t.noRate
            ) : (
              t.noLimit
            ),
          ],
        ]}
      />
      <h3>{t.heldOrders}</h3>
      <Table
        caption={t.heldCaption}
        hideCaption
        locale={locale}
        rows={held}
        columns={[
          { label: t.order, cell: (o) => <a href={`/console/orders/${o.id}`}>{`#${o.id}`}</a> },
          { label: t.channel, cell: (o) => o.channel },
          { label: t.externalId, cell: (o) => o.externalId },
          ...(!('checked' in credit)
            ? [{ label: t.customerLabel, cell: (o: { customer: string | null }) => o.customer ?? '' }]
            : []),
          { label: t.holdReason, cell: (o) => t.holdReasons[o.holdReason] ?? o.holdReason },
          { label: t.total, num: true, cell: (o) => <Money minor={o.totalAmount} currency={o.currency} /> },
          { label: t.heldAt, cell: (o) => <Time at={o.heldAt} /> },
        ]}
      />
      {credit.heldOrders.length > HELD_SHOWN ? (
        <p>
          <a href={allHeld}>{t.moreHeld(HELD_SHOWN)}</a>
        </p>
      ) : null}
    </section>
  );
}

/** The fields of a customer (create and edit), named as the API's body. */
function CustomerFields({
  locale,
  customer,
  values,
  errors,
}: {
  locale: 'en' | 'zh-CN';
  customer?: CustomerView | undefined;
  values?: FormObject | undefined;
  errors?: FieldErrors | undefined;
}) {
  const t = T[locale];
  const common = { values, errors };
  const contacts = customer?.contacts ?? [];
  const rows = Math.max(contacts.length + 2, 3);
  const address = (kind: 'billingAddress' | 'shippingAddress') => (
    <fieldset>
      <legend>{t[kind]}</legend>
      {(['name', 'line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const).map((k) => (
        <Field name={`${kind}.${k}`} label={t.address[k]} value={customer?.[kind]?.[k]} {...common} />
      ))}
    </fieldset>
  );
  return (
    <>
      <Field name="name" label={t.name} value={customer?.name} required {...common} />
      <Field name="group" label={t.group} value={customer?.group ?? 'default'} {...common} />
      <Field name="salesperson" label={t.salesperson} value={customer?.salesperson} {...common} />
      <Field name="company" label={t.company} value={customer?.company} {...common} />
      <Field name="currency" label={t.currency} value={customer?.currency} {...common} />
      <Select
        name="language"
        label={t.language}
        value={customer?.language ?? ''}
        blank={t.none}
        options={LANGUAGES.map((l) => ({ value: l, label: t.languages[l] ?? l }))}
        {...common}
      />
      <Field name="timeZone" label={t.timeZone} value={customer?.timeZone} {...common} />
      <Field name="taxId" label={t.taxId} value={customer?.taxId} {...common} />
      <Field name="tags" label={t.tags} hint={t.tagsHint} value={customer?.tags.join(', ')} {...common} />
      <Field
        name="paymentTermsDays"
        label={t.paymentTerms}
        type="number"
        value={customer?.paymentTermsDays}
        attrs={{ min: 0, max: 3650, inputmode: 'numeric' }}
        {...common}
      />
      <Field
        name="creditLimit.amount"
        label={t.creditLimitAmount}
        hint={t.creditLimitHint}
        value={majorText(customer?.creditLimit?.amount, customer?.creditLimit?.currency)}
        attrs={{ inputmode: 'decimal' }}
        {...common}
      />
      <Field
        name="creditLimit.currency"
        label={t.creditLimitCurrency}
        value={customer?.creditLimit?.currency ?? customer?.currency}
        {...common}
      />
      <Select
        name="invoicePolicy"
        label={t.invoicePolicy}
        value={customer?.invoicePolicy ?? 'on_shipment'}
        options={INVOICE_POLICIES.map((p) => ({ value: p, label: t.invoicePolicies[p] ?? p }))}
        {...common}
      />
      <Checkbox name="overdueHold" label={t.overdueHold} checked={customer?.overdueHold} {...common} />
      <Checkbox name="onHold" label={t.onHold} checked={customer?.onHold} {...common} />
      <Field name="onHoldReason" label={t.onHoldReason} value={customer?.onHoldReason} {...common} />
      <fieldset>
        <legend>{t.contacts}</legend>
        {Array.from({ length: rows }, (_, i) => (
          <fieldset>
            <legend>{t.contact(i + 1)}</legend>
            <Field name={`contacts.${i}.name`} label={t.contactName} value={contacts[i]?.name} {...common} />
            <Field
              name={`contacts.${i}.email`}
              label={t.email}
              type="email"
              value={contacts[i]?.email}
              {...common}
            />
            <Field name={`contacts.${i}.phone`} label={t.phone} value={contacts[i]?.phone} {...common} />
          </fieldset>
        ))}
        {/* Errors of a contact as a whole ("needs a name, an e-mail or a phone") */}
        {Object.entries(errors ?? {})
          .filter(([k]) => /^contacts\.\d+$/.test(k))
          .map(([k, m]) => (
            <p class="field-error">{`${t.contact(Number(k.split('.')[1]) + 1)}: ${m.join(' ')}`}</p>
          ))}
      </fieldset>
      {address('billingAddress')}
      {address('shippingAddress')}
    </>
  );
}

/** The form as the API's body: amounts in minor units, empty addresses and limits as null. */
function parseCustomerForm(values: FormObject, locale: ConsoleLocale) {
  const result = parsePriced(
    customerBodySchema,
    values,
    (v, minor) => {
      const out = copyValues(v);
      delete out.code;
      const limit = out.creditLimit as Record<string, unknown> | undefined;
      if (!limit || allBlank(limit.amount)) out.creditLimit = null;
      else
        out.creditLimit = {
          amount: minor(limit.amount as string, String(limit.currency ?? ''), 'creditLimit.amount'),
          currency: limit.currency,
        };
      for (const k of ['billingAddress', 'shippingAddress']) if (allBlank(out[k])) out[k] = null;
      // Taken off hold: the reason the form showed goes too (the API keeps one only while on hold).
      if (!['on', 'true', '1'].includes(valueAt(v, 'onHold').toLowerCase())) out.onHoldReason = null;
      return out;
    },
    ['contacts'],
    locale,
  );
  return result;
}

const labelsOf = (locale: 'en' | 'zh-CN'): Record<string, string> => {
  const t = T[locale];
  return {
    code: t.code,
    name: t.name,
    group: t.group,
    salesperson: t.salesperson,
    currency: t.currency,
    language: t.language,
    timeZone: t.timeZone,
    taxId: t.taxId,
    tags: t.tags,
    paymentTermsDays: t.paymentTerms,
    'creditLimit.amount': t.creditLimitAmount,
    'creditLimit.currency': t.creditLimitCurrency,
    onHoldReason: t.onHoldReason,
    invoicePolicy: t.invoicePolicy,
    ...Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        [`contacts.${i}`, t.contact(i + 1)],
        [`contacts.${i}.name`, `${t.contact(i + 1)}: ${t.contactName}`],
        [`contacts.${i}.email`, `${t.contact(i + 1)}: ${t.email}`],
        [`contacts.${i}.phone`, `${t.contact(i + 1)}: ${t.phone}`],
      ]).flat(),
    ),
    ...Object.fromEntries(
      (['billingAddress', 'shippingAddress'] as const).flatMap((kind) =>
        (['name', 'line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const).map((k) => [
          `${kind}.${k}`,
          `${t[kind]}: ${t.address[k]}`,
        ]),
      ),
    ),
  };
};

/** A domain error's fields: unknown salesperson, and `[{path, message}]` details. */
function domainFieldErrors(code: string, message: string, details: unknown): FieldErrors {
  if (code === 'unknown_salesperson') return { salesperson: [message] };
  return detailsToFieldErrors(details);
}

/** The salesperson page's customers: 50 at a time, below `beforeId` (newest first). */
const salespersonPageQuery = z.object({
  beforeId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});

export function customerRoutes(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'customer', db });
  const customerState = {
    entity: 'customer',
    load: ({ params }: { params: Record<string, unknown> }) =>
      orNull(customerDetail(db, params.code as string)),
  };

  async function listPage(c: Ctx, query: z.output<typeof customerListQuery>) {
    const v = viewer(c);
    const t = T[v.locale];
    const limit = Math.min(query.limit, 50);
    const { items, nextId } = await listCustomers(db, { ...query, limit }, readCursor(query.cursor));
    const next = nextCursor(nextId);
    const keep = (extra: Record<string, string>) => {
      const q = new URLSearchParams();
      if (query.q) q.set('q', query.q);
      if (query.group) q.set('group', query.group);
      if (query.salesperson) q.set('salesperson', query.salesperson);
      for (const [k, val] of Object.entries(extra)) q.set(k, val);
      return `/console/customers${q.size ? `?${q}` : ''}`;
    };
    return render(
      c,
      { title: t.customers, nav: 'customers' },
      <>
        <h1>{t.customers}</h1>
        {v.can('finance') ? (
          <p>
            <a class="button" href="/console/customers/new">
              {t.newCustomer}
            </a>
          </p>
        ) : null}
        <form method="get" action="/console/customers" class="filters card">
          <Field name="q" label={v.t.search} hint={t.searchHint} value={query.q} type="search" />
          <Field name="group" label={t.group} value={query.group} />
          <Field name="salesperson" label={t.salesperson} value={query.salesperson} />
          <div>
            <button type="submit">{v.t.search}</button>
          </div>
        </form>
        <Table
          caption={t.listCaption}
          locale={v.locale}
          rows={items}
          columns={[
            {
              label: t.code,
              cell: (r) => <a href={`/console/customers/${encodeURIComponent(r.code)}`}>{r.code}</a>,
            },
            { label: t.name, cell: (r) => r.name },
            { label: t.group, cell: (r) => r.group },
            {
              label: t.salesperson,
              cell: (r) =>
                r.salesperson ? (
                  <a href={`/console/salespeople/${encodeURIComponent(r.salesperson)}`}>{r.salesperson}</a>
                ) : (
                  t.none
                ),
            },
            {
              label: t.creditLimit,
              num: true,
              cell: (r) =>
                r.creditLimit ? (
                  <Money minor={r.creditLimit.amount} currency={r.creditLimit.currency} />
                ) : (
                  t.none
                ),
            },
            { label: t.onHold, cell: (r) => (r.onHold ? <Badge kind="warn">{t.onHold}</Badge> : v.t.no) },
          ]}
        />
        <PageLinks
          locale={v.locale}
          first={query.cursor ? keep({}) : null}
          next={next ? keep({ cursor: next }) : null}
        />
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/customers',
      access: 'read',
      operationId: 'consoleCustomers',
      summary: 'Trade customers: search by code, name or contact e-mail; paged',
      query: customerListQuery,
      responses: PAGE,
    },
    (c, { query }) => listPage(c, query),
  );

  function formPage(c: Ctx, customer: CustomerView | null, code: string | null, state: FormState = {}) {
    const v = viewer(c);
    const t = T[v.locale];
    const title = customer ? t.editCustomer(customer.code) : t.newCustomer;
    const action = customer
      ? `/console/customers/${encodeURIComponent(customer.code)}`
      : '/console/customers';
    return render(
      c,
      { title, nav: 'customers', status: state.status, error: state.error },
      <>
        <h1>{title}</h1>
        <ErrorSummary errors={state.errors} locale={v.locale} labels={labelsOf(v.locale)} />
        <form method="post" action={action} class="card">
          <CsrfField token={v.csrf} />
          {customer ? null : (
            <Field
              name="code"
              label={t.code}
              value={code}
              required
              values={state.values}
              errors={state.errors}
            />
          )}
          <CustomerFields
            locale={v.locale}
            customer={customer ?? undefined}
            values={state.values}
            errors={state.errors}
          />
          <button type="submit">{v.t.save}</button>
          <a
            class="button secondary"
            href={customer ? `/console/customers/${encodeURIComponent(customer.code)}` : '/console/customers'}
          >
            {v.t.cancel}
          </a>
        </form>
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/customers/new',
      access: 'finance',
      operationId: 'consoleNewCustomer',
      summary: 'The form for a new trade customer',
      responses: PAGE,
    },
    (c) => formPage(c, null, null),
  );

  route(
    {
      method: 'post',
      path: '/customers',
      access: 'finance',
      operationId: 'consoleCreateCustomer',
      summary: 'Create a trade customer (the body of PUT /api/customers/{code})',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      audit: { entity: 'customer' },
    },
    async (c) => {
      const t = T[viewer(c).locale];
      const values = await formValues(c);
      const code = codeParam.safeParse(typeof values.code === 'string' ? values.code.trim() : values.code);
      const form = parseCustomerForm(values, viewer(c).locale);
      if (!code.success || !form.ok) {
        const errors = { ...(form.ok ? {} : form.errors) };
        if (!code.success) errors.code = code.error.issues.map((i) => i.message);
        return formPage(c, null, null, { status: 422, errors, values });
      }
      if (await orNull(customerDetail(db, code.data)))
        return formPage(c, null, null, {
          status: 409,
          errors: { code: [t.alreadyExists(code.data)] },
          values,
        });
      try {
        await upsertCustomer(db, code.data, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return formPage(c, null, null, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          errors: domainFieldErrors(e.code, e.message, e.details),
          values,
        });
      }
      c.set('auditEntityId', code.data);
      return doneTo(c, `/console/customers/${encodeURIComponent(code.data)}`, t.created);
    },
  );

  async function customerPage(c: Ctx, code: string, state: FormState = {}) {
    const v = viewer(c);
    const t = T[v.locale];
    const customer = await customerDetail(db, code);
    const [credit, orders, delivery] = await Promise.all([
      customerCredit(db, code),
      recentCustomerOrders(db, code, { limit: 10 }, null),
      customerIdByCode(db, code).then((id) => documentDelivery(db, id)),
    ]);
    const finance = v.can('finance');
    const path = `/console/customers/${encodeURIComponent(customer.code)}`;
    return render(
      c,
      { title: t.customer(customer.code), nav: 'customers', status: state.status, error: state.error },
      <>
        <h1>{`${t.customer(customer.code)} · ${customer.name}`}</h1>
        <ErrorSummary errors={state.errors} locale={v.locale} labels={{ billingEmail: t.billingEmail }} />
        {finance ? (
          <p>
            <a class="button" href={`${path}/edit`}>
              {v.t.edit}
            </a>
          </p>
        ) : null}
        <section class="card" aria-labelledby="facts-h">
          <h2 id="facts-h">{t.facts}</h2>
          <Facts
            items={[
              [t.code, customer.code],
              [t.name, customer.name],
              [t.company, customer.company ?? t.none],
              [t.group, customer.group],
              [
                t.salesperson,
                customer.salesperson ? (
                  <a href={`/console/salespeople/${encodeURIComponent(customer.salesperson)}`}>
                    {customer.salesperson}
                  </a>
                ) : (
                  t.none
                ),
              ],
              [t.currency, customer.currency ?? t.none],
              [
                t.language,
                customer.language ? (t.languages[customer.language] ?? customer.language) : t.none,
              ],
              [t.taxId, customer.taxId ?? t.none],
              [t.paymentTerms, customer.paymentTermsDays ?? t.none],
              [
                t.creditLimit,
                customer.creditLimit ? (
                  <Money minor={customer.creditLimit.amount} currency={customer.creditLimit.currency} />
                ) : (
                  t.noLimit
                ),
              ],
              [t.invoicePolicy, t.invoicePolicies[customer.invoicePolicy] ?? customer.invoicePolicy],
              [t.overdueHold, yesNo(v.locale, customer.overdueHold)],
              [
                t.onHold,
                customer.onHold ? (
                  <Badge kind="warn">{`${t.onHold}${customer.onHoldReason ? `: ${customer.onHoldReason}` : ''}`}</Badge>
                ) : (
                  v.t.no
                ),
              ],
              [t.tags, customer.tags.length ? customer.tags.join(', ') : t.none],
            ]}
          />
          <h3>{t.contacts}</h3>
          <Table
            caption={t.contacts}
            hideCaption
            locale={v.locale}
            rows={customer.contacts}
            columns={[
              { label: t.contactName, cell: (r) => r.name ?? '' },
              { label: t.email, cell: (r) => r.email ?? '' },
              { label: t.phone, cell: (r) => r.phone ?? '' },
            ]}
          />
        </section>
        <CreditSection
          credit={credit}
          locale={v.locale}
          showChecked
          allHeld={`/console/orders?${new URLSearchParams({ customer: customer.code, status: 'on_hold' })}`}
        />
        <section class="card" aria-labelledby="orders-h">
          <h2 id="orders-h">{t.recentOrders}</h2>
          <Table
            caption={t.recentCaption}
            hideCaption
            locale={v.locale}
            rows={orders.items}
            columns={[
              { label: t.order, cell: (o) => <a href={`/console/orders/${o.id}`}>{`#${o.id}`}</a> },
              { label: t.channel, cell: (o) => o.channel },
              { label: t.externalId, cell: (o) => o.externalId },
              { label: v.t.status, cell: (o) => <StatusBadge status={o.status} locale={v.locale} /> },
              { label: t.placedAt, cell: (o) => <Time at={o.placedAt} /> },
              {
                label: t.ordered,
                num: true,
                cell: (o) => <Money minor={o.orderedValue} currency={o.currency} />,
              },
              {
                label: t.shipped,
                num: true,
                cell: (o) => <Money minor={o.shippedValue} currency={o.currency} />,
              },
              { label: t.open, num: true, cell: (o) => <Money minor={o.openValue} currency={o.currency} /> },
            ]}
          />
          <p>
            <a href={`/console/orders?${new URLSearchParams({ customer: customer.code })}`}>{t.allOrders}</a>
          </p>
        </section>
        <section class="card" aria-labelledby="documents-h">
          <h2 id="documents-h">{t.documents}</h2>
          <Facts
            items={[
              [t.documents, delivery.email ? t.documentsEmailed : t.documentsNotEmailed],
              [t.since, <Time at={delivery.since} />],
              [t.billingEmail, delivery.billingEmail ?? t.none],
              [t.sendsTo, delivery.sendsTo ?? t.none],
            ]}
          />
          {finance ? (
            <form method="post" action={`${path}/document-delivery`}>
              <CsrfField token={v.csrf} />
              <Checkbox
                name="email"
                label={t.emailDocuments}
                checked={delivery.email}
                values={state.values}
                errors={state.errors}
              />
              <Field
                name="billingEmail"
                label={t.billingEmail}
                type="email"
                value={delivery.billingEmail}
                values={state.values}
                errors={state.errors}
              />
              <button type="submit">{v.t.save}</button>
            </form>
          ) : null}
        </section>
        {finance ? (
          <section class="card" aria-labelledby="delete-h">
            <h2 id="delete-h">{t.deleteCustomer}</h2>
            <ActionForm
              action={`${path}/delete`}
              csrf={v.csrf}
              label={t.deleteCustomer}
              confirm={t.confirmDelete(customer.code)}
              variant="danger"
            />
          </section>
        ) : null}
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/customers/:code',
      access: 'read',
      operationId: 'consoleCustomer',
      summary: 'A trade customer: contacts, credit, held and recent orders, document delivery',
      params: customerParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => customerPage(c, params.code),
  );

  route(
    {
      method: 'get',
      path: '/customers/:code/edit',
      access: 'finance',
      operationId: 'consoleEditCustomer',
      summary: 'The form to change a trade customer',
      params: customerParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => formPage(c, await customerDetail(db, params.code), params.code),
  );

  route(
    {
      method: 'post',
      path: '/customers/:code',
      access: 'finance',
      operationId: 'consoleSaveCustomer',
      summary: 'Replace a trade customer (the body of PUT /api/customers/{code})',
      params: customerParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit: customerState,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const customer = await customerDetail(db, params.code);
      const values = await formValues(c);
      const form = parseCustomerForm(values, viewer(c).locale);
      if (!form.ok) return formPage(c, customer, params.code, { status: 422, errors: form.errors, values });
      let outcome: string;
      try {
        outcome = (await upsertCustomer(db, customer.code, form.data)).outcome;
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return formPage(c, customer, params.code, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          errors: domainFieldErrors(e.code, e.message, e.details),
          values,
        });
      }
      return doneTo(
        c,
        `/console/customers/${encodeURIComponent(customer.code)}`,
        outcome === 'unchanged' ? t.unchanged : t.saved,
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/customers/:code/delete',
      access: 'finance',
      operationId: 'consoleDeleteCustomer',
      summary: 'Delete a trade customer that has no orders',
      params: customerParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit: customerState,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      try {
        await deleteCustomer(db, params.code);
      } catch (err) {
        const e = errorOf(err);
        if (!e || e.status === 404) throw err;
        return customerPage(c, params.code, { status: 409, error: e.message });
      }
      return doneTo(c, '/console/customers', t.deleted);
    },
  );

  route(
    {
      method: 'post',
      path: '/customers/:code/document-delivery',
      access: 'finance',
      operationId: 'consoleSetDocumentDelivery',
      summary:
        "Set whether a customer's documents are e-mailed (the body of PUT /api/customers/{code}/document-delivery)",
      params: customerParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit: {
        entity: 'customer',
        load: async ({ params }) => {
          const id = await orNull(customerIdByCode(db, params.code));
          return id === null ? null : documentDelivery(db, id);
        },
      },
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const id = await customerIdByCode(db, params.code);
      const form = await readForm(c, deliveryBody);
      if (!form.ok)
        return customerPage(c, params.code, { status: 422, errors: form.errors, values: form.values });
      await setDocumentDelivery(db, id, form.data);
      return doneTo(c, `/console/customers/${encodeURIComponent(params.code)}`, t.deliverySaved);
    },
  );

  route(
    {
      method: 'get',
      path: '/salespeople/:code',
      access: 'read',
      operationId: 'consoleSalesperson',
      summary: 'A salesperson: credit limit, exposure, held orders of their customers, their customers',
      params: salespersonParams,
      query: salespersonPageQuery,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params, query }) => {
      const v = viewer(c);
      const t = T[v.locale];
      const person = await salespersonDetail(db, params.code);
      const [credit, customers] = await Promise.all([
        salespersonCredit(db, params.code),
        salespersonCustomers(db, params.code, { limit: 50 }, query.beforeId ?? null, false),
      ]);
      const here = `/console/salespeople/${encodeURIComponent(person.code)}`;
      return render(
        c,
        { title: t.salespersonTitle(person.code), nav: 'customers' },
        <>
          <h1>{`${t.salespersonTitle(person.code)} · ${person.name}`}</h1>
          <section class="card" aria-labelledby="sp-h">
            <h2 id="sp-h">{t.facts}</h2>
            <Facts
              items={[
                [t.code, person.code],
                [t.name, person.name],
                [t.email, person.email ?? t.none],
                [t.active, yesNo(v.locale, person.active)],
              ]}
            />
          </section>
          <CreditSection
            credit={credit}
            locale={v.locale}
            allHeld={`/console/orders?${new URLSearchParams({ salesperson: person.code, status: 'on_hold' })}`}
          />
          <section class="card" aria-labelledby="spc-h">
            <h2 id="spc-h">{t.salespersonCustomers}</h2>
            <Table
              caption={t.salespersonCustomersCaption}
              hideCaption
              locale={v.locale}
              rows={customers.items}
              columns={[
                {
                  label: t.code,
                  cell: (r) => <a href={`/console/customers/${encodeURIComponent(r.code)}`}>{r.code}</a>,
                },
                { label: t.name, cell: (r) => r.name ?? '' },
                {
                  label: t.open,
                  num: true,
                  cell: (r) =>
                    r.totals.map((x) => (
                      <div>
                        <Money minor={x.open} currency={x.currency} />
                      </div>
                    )),
                },
              ]}
            />
            <PageLinks
              locale={v.locale}
              first={query.beforeId ? here : null}
              next={customers.nextId ? `${here}?beforeId=${customers.nextId}` : null}
            />
          </section>
        </>,
      );
    },
  );
}
