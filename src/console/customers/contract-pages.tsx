/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { contractDraws, contractPage, getContract, putContract } from '../../customers/contracts.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { nextCursor, readCursor } from '../../http/pagination.js';
import { codeParam } from '../../http/params.js';
import { contractBody } from '../../http/routes/contracts.js';
import { Badge, CsrfField, ErrorSummary, Facts, Field, Money, Table, Time } from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, PAGE, render, viewer } from '../context.js';
import {
  detailsToFieldErrors,
  type FieldErrors,
  FORM_UPLOAD,
  type FormObject,
  formValues,
} from '../forms.js';
import type { ConsoleLocale } from '../texts.js';
import { copyValues, majorText, PageLinks, parsePriced } from './shared.js';
import { T } from './texts.js';

type Ctx = Context<AppEnv>;
type ContractView = Awaited<ReturnType<typeof getContract>>;

const contractParams = z.object({ number: codeParam.describe('contract number') });
const listQuery = z.object({
  customer: z.string().trim().max(64).optional().describe('customer code'),
  cursor: z.string().max(200).optional(),
});
const SPARE_LINES = 3;

interface State {
  status?: 409 | 422;
  error?: string | undefined;
  errors?: FieldErrors | undefined;
  values?: FormObject | undefined;
}

const url = (number: string) => `/console/contracts/${encodeURIComponent(number)}`;

const STATUS_KIND: Record<string, 'ok' | 'warn' | 'bad'> = {
  active: 'ok',
  not_yet_valid: 'warn',
  expired: 'bad',
};

/** The form as the API's body: prices typed in the contract's currency's major units. */
function parseContractForm(values: FormObject, locale: ConsoleLocale) {
  const result = parsePriced(
    contractBody,
    values,
    (v, minor) => {
      const out = copyValues(v);
      delete out.number;
      const currency = typeof v.currency === 'string' ? v.currency.trim() : '';
      const lines = out.lines as Record<string, Record<string, unknown>> | undefined;
      if (lines && typeof lines === 'object')
        for (const [i, line] of Object.entries(lines)) {
          if (line && typeof line === 'object')
            lines[i] = { ...line, price: minor(line.price as string, currency, `lines.${i}.price`) };
        }
      return out;
    },
    ['lines'],
    locale,
  );
  return result;
}

/** What the API says wrong with the contract, beside the fields it is about. */
function domainErrors(code: string, message: string, details: unknown): FieldErrors {
  if (code === 'unknown_customer') return { customer: [message] };
  if (code === 'invalid_validity') return { validTo: [message] };
  if (code === 'unknown_sku' || code === 'duplicate_sku') return { lines: [message] };
  return detailsToFieldErrors(details);
}

export function contractRoutes(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'contract', db });

  route(
    {
      method: 'get',
      path: '/contracts',
      access: 'read',
      operationId: 'consoleContracts',
      summary: 'Sales contracts, newest first; by customer; paged',
      query: listQuery,
      responses: PAGE,
    },
    async (c, { query }) => {
      const v = viewer(c);
      const t = T[v.locale];
      const { items, nextId } = await contractPage(
        db,
        { customer: query.customer || undefined, limit: 50 },
        readCursor(query.cursor),
      );
      const next = nextCursor(nextId);
      const link = (cursor?: string) => {
        const q = new URLSearchParams();
        if (query.customer) q.set('customer', query.customer);
        if (cursor) q.set('cursor', cursor);
        return `/console/contracts${q.size ? `?${q}` : ''}`;
      };
      return render(
        c,
        { title: t.contracts, nav: 'contracts' },
        <>
          <h1>{t.contracts}</h1>
          {v.can('finance') ? (
            <p>
              <a class="button" href="/console/contracts/new">
                {t.newContract}
              </a>
            </p>
          ) : null}
          <form method="get" action="/console/contracts" class="filters card">
            <Field name="customer" label={t.customerFilter} value={query.customer} />
            <div>
              <button type="submit">{v.t.filter}</button>
            </div>
          </form>
          <Table
            caption={t.contractsCaption}
            locale={v.locale}
            rows={items}
            columns={[
              { label: t.number, cell: (r) => <a href={url(r.number)}>{r.number}</a> },
              {
                label: t.customerLabel,
                cell: (r) => (
                  <a href={`/console/customers/${encodeURIComponent(r.customer)}`}>{r.customer}</a>
                ),
              },
              { label: t.name, cell: (r) => r.name ?? t.none },
              { label: t.validity, cell: (r) => `${r.validFrom} – ${r.validTo}` },
              {
                label: t.status,
                cell: (r) => (
                  <Badge kind={STATUS_KIND[r.status]}>{t.contractStatus[r.status] ?? r.status}</Badge>
                ),
              },
              { label: t.lines, num: true, cell: (r) => r.lines.length },
            ]}
          />
          <PageLinks locale={v.locale} first={query.cursor ? link() : null} next={next ? link(next) : null} />
        </>,
      );
    },
  );

  function formPage(c: Ctx, contract: ContractView | null, state: State = {}) {
    const v = viewer(c);
    const t = T[v.locale];
    const title = contract ? t.editContract(contract.number) : t.newContract;
    const common = { values: state.values, errors: state.errors };
    const lines = contract?.lines ?? [];
    const given = state.values?.lines;
    const givenRows = given && typeof given === 'object' ? Object.keys(given).length : 0;
    const rows = Math.max(lines.length + SPARE_LINES, givenRows);
    const labels: Record<string, string> = {
      number: t.number,
      customer: t.customerLabel,
      name: t.name,
      currency: t.currency,
      validFrom: t.validFrom,
      validTo: t.validTo,
      lines: t.lines,
    };
    for (let i = 0; i < rows; i++) {
      labels[`lines.${i}.sku`] = `${t.line(i + 1)}: ${t.sku}`;
      labels[`lines.${i}.quantity`] = `${t.line(i + 1)}: ${t.quantity}`;
      labels[`lines.${i}.price`] = `${t.line(i + 1)}: ${t.price}`;
      labels[`lines.${i}.overrunPercent`] = `${t.line(i + 1)}: ${t.overrunPercent}`;
    }
    return render(
      c,
      { title, nav: 'contracts', status: state.status, error: state.error },
      <>
        <h1>{title}</h1>
        <ErrorSummary errors={state.errors} locale={v.locale} labels={labels} />
        <form method="post" action={contract ? url(contract.number) : '/console/contracts'} class="card">
          <CsrfField token={v.csrf} />
          {contract ? null : <Field name="number" label={t.number} required {...common} />}
          <Field name="customer" label={t.customerLabel} value={contract?.customer} required {...common} />
          <Field name="name" label={t.name} value={contract?.name} {...common} />
          <Field name="currency" label={t.currency} value={contract?.currency} required {...common} />
          <Field
            name="validFrom"
            label={t.validFrom}
            value={contract?.validFrom}
            hint="YYYY-MM-DD"
            required
            {...common}
          />
          <Field
            name="validTo"
            label={t.validTo}
            value={contract?.validTo}
            hint="YYYY-MM-DD"
            required
            {...common}
          />
          <fieldset>
            <legend>{t.lines}</legend>
            <p class="hint">{t.linesHint}</p>
            {Array.from({ length: rows }, (_, i) => {
              const l = lines[i];
              return (
                <fieldset>
                  <legend>{t.line(i + 1)}</legend>
                  <Field name={`lines.${i}.sku`} label={t.sku} value={l?.sku} {...common} />
                  <Field
                    name={`lines.${i}.quantity`}
                    label={t.quantity}
                    type="number"
                    value={l?.contracted}
                    attrs={{ min: 1, inputmode: 'numeric' }}
                    {...common}
                  />
                  <Field
                    name={`lines.${i}.price`}
                    label={t.priceMajor(contract?.currency ?? t.currency)}
                    value={majorText(l?.price, contract?.currency)}
                    attrs={{ inputmode: 'decimal' }}
                    {...common}
                  />
                  <Field
                    name={`lines.${i}.overrunPercent`}
                    label={t.overrunPercent}
                    value={l?.overrunPercent}
                    attrs={{ inputmode: 'decimal' }}
                    {...common}
                  />
                </fieldset>
              );
            })}
          </fieldset>
          <button type="submit">{v.t.save}</button>
          <a class="button secondary" href={contract ? url(contract.number) : '/console/contracts'}>
            {v.t.cancel}
          </a>
        </form>
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/contracts/new',
      access: 'finance',
      operationId: 'consoleNewContract',
      summary: 'The form for a new sales contract',
      responses: PAGE,
    },
    (c) => formPage(c, null),
  );

  async function save(c: Ctx, existing: ContractView | null) {
    const t = T[viewer(c).locale];
    const values = await formValues(c);
    const form = parseContractForm(values, viewer(c).locale);
    const number = existing
      ? { success: true as const, data: existing.number }
      : codeParam.safeParse(typeof values.number === 'string' ? values.number.trim() : values.number);
    if (!number.success || !form.ok) {
      const errors: FieldErrors = { ...(form.ok ? {} : form.errors) };
      if (!number.success) errors.number = number.error.issues.map((i) => i.message);
      return formPage(c, existing, { status: 422, errors, values });
    }
    if (!existing) {
      const found = await getContract(db, number.data).catch((err) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      if (found)
        return formPage(c, null, { status: 409, errors: { number: [t.alreadyExists(number.data)] }, values });
    }
    let created: boolean;
    try {
      created = (await putContract(db, number.data, form.data)).created;
    } catch (err) {
      const e = errorOf(err);
      if (!e) throw err;
      return formPage(c, existing, {
        status: e.status === 409 ? 409 : 422,
        error: e.message,
        errors: domainErrors(e.code, e.message, e.details),
        values,
      });
    }
    c.set('auditEntityId', number.data);
    return doneTo(c, url(number.data), created ? t.contractCreated : t.contractSaved);
  }

  route(
    {
      method: 'post',
      path: '/contracts',
      access: 'finance',
      operationId: 'consoleCreateContract',
      summary: 'Create a sales contract (the body of PUT /api/contracts/{number})',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      audit: { entity: 'contract' },
    },
    (c) => save(c, null),
  );

  const drawsQuery = z.object({
    before: z.coerce
      .number()
      .int()
      .positive()
      .optional()
      .describe('draws before this draw id (the next page)'),
  });

  route(
    {
      method: 'get',
      path: '/contracts/:number',
      access: 'read',
      operationId: 'consoleContract',
      summary: 'A sales contract: lines with contracted, drawn, shipped and remaining quantities; its draws',
      params: contractParams,
      query: drawsQuery,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params, query }) => {
      const v = viewer(c);
      const t = T[v.locale];
      const contract = await getContract(db, params.number);
      const draws = await contractDraws(db, params.number, { limit: 50, beforeId: query.before ?? null });
      const drawsLink = (before?: number) =>
        `${url(contract.number)}${before ? `?before=${before}` : ''}#draws-h`;
      return render(
        c,
        { title: t.contract(contract.number), nav: 'contracts' },
        <>
          <h1>{t.contract(contract.number)}</h1>
          {v.can('finance') ? (
            <p>
              <a class="button" href={`${url(contract.number)}/edit`}>
                {v.t.edit}
              </a>
            </p>
          ) : null}
          <section class="card" aria-labelledby="facts-h">
            <h2 id="facts-h">{t.facts}</h2>
            <Facts
              items={[
                [t.number, contract.number],
                [
                  t.customerLabel,
                  <a href={`/console/customers/${encodeURIComponent(contract.customer)}`}>
                    {contract.customer}
                  </a>,
                ],
                [t.name, contract.name ?? t.none],
                [t.currency, contract.currency],
                [t.validity, `${contract.validFrom} – ${contract.validTo}`],
                [
                  t.status,
                  <Badge kind={STATUS_KIND[contract.status]}>
                    {t.contractStatus[contract.status] ?? contract.status}
                  </Badge>,
                ],
              ]}
            />
          </section>
          <section class="card" aria-labelledby="lines-h">
            <h2 id="lines-h">{t.lines}</h2>
            <Table
              caption={t.linesCaption}
              hideCaption
              locale={v.locale}
              rows={contract.lines}
              columns={[
                { label: t.lineNo, num: true, cell: (l) => l.lineNo },
                { label: t.sku, cell: (l) => l.sku },
                {
                  label: t.price,
                  num: true,
                  cell: (l) => <Money minor={l.price} currency={contract.currency} />,
                },
                { label: t.contracted, num: true, cell: (l) => l.contracted },
                { label: t.overrunPercent, num: true, cell: (l) => l.overrunPercent },
                { label: t.allowance, num: true, cell: (l) => l.allowance },
                { label: t.drawn, num: true, cell: (l) => l.drawn },
                { label: t.shipped, num: true, cell: (l) => l.shipped },
                { label: t.remaining, num: true, cell: (l) => l.remaining },
                { label: t.available, num: true, cell: (l) => l.available },
              ]}
            />
          </section>
          <section class="card" aria-labelledby="draws-h">
            <h2 id="draws-h">{t.draws}</h2>
            <Table
              caption={t.drawsCaption}
              hideCaption
              locale={v.locale}
              rows={draws.items}
              columns={[
                { label: t.at, cell: (d) => <Time at={d.at} /> },
                { label: t.lineNo, num: true, cell: (d) => d.lineNo },
                { label: t.sku, cell: (d) => d.sku },
                { label: t.order, cell: (d) => <a href={`/console/orders/${d.order}`}>{`#${d.order}`}</a> },
                { label: t.quantity, num: true, cell: (d) => d.quantity },
                {
                  label: t.unitPrice,
                  num: true,
                  cell: (d) =>
                    d.unitPrice === null ? (
                      t.none
                    ) : (
                      <Money minor={d.unitPrice} currency={contract.currency} />
                    ),
                },
                { label: t.reason, cell: (d) => d.reason },
                { label: t.actor, cell: (d) => d.actor },
              ]}
            />
            <PageLinks
              locale={v.locale}
              first={query.before ? drawsLink() : null}
              next={draws.nextId ? drawsLink(draws.nextId) : null}
            />
          </section>
        </>,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/contracts/:number/edit',
      access: 'finance',
      operationId: 'consoleEditContract',
      summary: 'The form to change a sales contract',
      params: contractParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => formPage(c, await getContract(db, params.number)),
  );

  route(
    {
      method: 'post',
      path: '/contracts/:number',
      access: 'finance',
      operationId: 'consoleSaveContract',
      summary: 'Replace a sales contract (the body of PUT /api/contracts/{number})',
      params: contractParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit: {
        entity: 'contract',
        load: ({ params }) =>
          getContract(db, params.number).catch((err) => {
            if (err instanceof NotFoundError) return null;
            throw err;
          }),
      },
    },
    async (c, { params }) => save(c, await getContract(db, params.number)),
  );
}
