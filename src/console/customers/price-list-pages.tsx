/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { importPriceListSheet } from '../../customers/price-list-sheet.js';
import {
  assignPriceList,
  deletePriceListItem,
  getPriceList,
  listPriceLists,
  type PriceListView,
  priceListItemPage,
  putPriceList,
  putPriceListItem,
  unassignPriceList,
} from '../../customers/price-lists.js';
import { NotFoundError, ValidationError } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { codeParam, idParam } from '../../http/params.js';
import { assignmentBody, itemBody, listBody } from '../../http/routes/price-lists.js';
import { ActionForm, CsrfField, ErrorSummary, Facts, Field, Money, Select, Table } from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, PAGE, render, viewer } from '../context.js';
import {
  detailsToFieldErrors,
  type FieldErrors,
  FORM_UPLOAD,
  type FormObject,
  fieldErrors,
  formValues,
  parseFormValues,
} from '../forms.js';
import { copyValues, PageLinks, parsePriced } from './shared.js';
import { T } from './texts.js';

type Ctx = Context<AppEnv>;
const listParams = z.object({ code: codeParam.describe('price list code') });
const itemParams = z.object({ code: codeParam.describe('price list code'), id: idParam.describe('item id') });
const assignmentParams = z.object({
  code: codeParam.describe('price list code'),
  id: idParam.describe('assignment id'),
});
const itemsQuery = z.object({
  after: z.string().max(64).optional().describe('the last SKU of the page before'),
  afterId: z.coerce.number().int().positive().optional().describe('the last item id of the page before'),
});
const createForm = z.object({ code: codeParam });
const PAGE_SIZE = 50;

interface State {
  status?: 404 | 409 | 422;
  error?: string | undefined;
  /** Which form the errors and values belong to. */
  form?: 'list' | 'item' | 'assign' | 'import';
  errors?: FieldErrors | undefined;
  values?: FormObject | undefined;
  rowErrors?: { row: number; reason: string }[];
}

const url = (code: string) => `/console/price-lists/${encodeURIComponent(code)}`;

export function priceListRoutes(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'price_list', db });
  const audit = { entity: 'price_list' };

  async function listsPage(c: Ctx, state: State = {}) {
    const v = viewer(c);
    const t = T[v.locale];
    const lists = await listPriceLists(db);
    return render(
      c,
      { title: t.priceLists, nav: 'priceLists', status: state.status, error: state.error },
      <>
        <h1>{t.priceLists}</h1>
        <Table
          caption={t.priceListsCaption}
          locale={v.locale}
          rows={lists}
          columns={[
            { label: t.code, cell: (l) => <a href={url(l.code)}>{l.code}</a> },
            { label: t.name, cell: (l) => l.name },
            { label: t.currency, cell: (l) => l.currency },
            { label: t.itemCount, num: true, cell: (l) => l.itemCount },
            {
              label: t.assignments,
              cell: (l) => l.assignments.map((a) => assignmentText(v.locale, a)).join('; ') || t.none,
            },
          ]}
        />
        <p>
          <a href="/console/promotions">{t.promotions}</a>
        </p>
        {v.can('finance') ? (
          <section class="card" aria-labelledby="new-list-h">
            <h2 id="new-list-h">{t.newPriceList}</h2>
            <ErrorSummary
              errors={state.errors}
              locale={v.locale}
              labels={{ code: t.code, name: t.name, currency: t.currency }}
            />
            <form method="post" action="/console/price-lists">
              <CsrfField token={v.csrf} />
              <Field name="code" label={t.code} required values={state.values} errors={state.errors} />
              <Field name="name" label={t.name} required values={state.values} errors={state.errors} />
              <Field
                name="currency"
                label={t.currency}
                required
                values={state.values}
                errors={state.errors}
              />
              <button type="submit">{v.t.create}</button>
            </form>
          </section>
        ) : null}
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/price-lists',
      access: 'read',
      operationId: 'consolePriceLists',
      summary: 'Price lists with their assignments',
      responses: PAGE,
    },
    (c) => listsPage(c),
  );

  route(
    {
      method: 'post',
      path: '/price-lists',
      access: 'finance',
      operationId: 'consoleCreatePriceList',
      summary: 'Create a price list (the body of PUT /api/price-lists/{code})',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      audit,
    },
    async (c) => {
      const t = T[viewer(c).locale];
      const values = await formValues(c);
      const code = parseFormValues(createForm, { code: values.code ?? '' });
      const { code: _code, ...rest } = values;
      const form = parseFormValues(listBody, rest);
      if (!code.ok || !form.ok) {
        const errors = { ...(code.ok ? {} : code.errors), ...(form.ok ? {} : form.errors) };
        return listsPage(c, { status: 422, errors, values });
      }
      const exists = await getPriceList(db, code.data.code).catch((err) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      if (exists)
        return listsPage(c, { status: 409, errors: { code: [t.alreadyExists(code.data.code)] }, values });
      try {
        await putPriceList(db, code.data.code, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return listsPage(c, { status: e.status === 409 ? 409 : 422, error: e.message, values });
      }
      c.set('auditEntityId', code.data.code);
      return doneTo(c, url(code.data.code), t.priceListCreated);
    },
  );

  async function listPage(c: Ctx, code: string, query: z.output<typeof itemsQuery>, state: State = {}) {
    const v = viewer(c);
    const t = T[v.locale];
    const list = await getPriceList(db, code);
    const after = query.after && query.afterId ? { sku: query.after, id: query.afterId } : null;
    const page = await priceListItemPage(db, code, { limit: PAGE_SIZE, after });
    const finance = v.can('finance');
    const base = url(list.code);
    const of = (form: State['form']) =>
      state.form === form ? { values: state.values, errors: state.errors } : {};
    const itemLabels = {
      sku: t.sku,
      minQuantity: t.minQuantity,
      validFrom: t.validFrom,
      validTo: t.validTo,
      price: t.priceMajor(list.currency),
      percent: t.percent,
      basedOn: t.basedOn,
      name: t.name,
      currency: t.currency,
      target: t.target,
      level: t.level,
      file: t.file,
    };
    return render(
      c,
      { title: t.priceList(list.code), nav: 'priceLists', status: state.status, error: state.error },
      <>
        <h1>{`${t.priceList(list.code)} · ${list.name}`}</h1>
        <ErrorSummary errors={state.errors} locale={v.locale} labels={itemLabels} />
        <section class="card" aria-labelledby="facts-h">
          <h2 id="facts-h">{t.facts}</h2>
          <Facts
            items={[
              [t.code, list.code],
              [t.name, list.name],
              [t.currency, list.currency],
              [t.itemCount, list.itemCount],
            ]}
          />
          <p>
            <a href={`/api/price-lists/${encodeURIComponent(list.code)}/export`} download>
              {t.exportSheet}
            </a>
          </p>
          {finance ? (
            <form method="post" action={base}>
              <CsrfField token={v.csrf} />
              <h3>{t.renamePriceList}</h3>
              <Field name="name" label={t.name} value={list.name} required {...of('list')} />
              <Field name="currency" label={t.currency} value={list.currency} required {...of('list')} />
              <button type="submit">{v.t.save}</button>
            </form>
          ) : null}
        </section>
        <section class="card" aria-labelledby="assign-h">
          <h2 id="assign-h">{t.assignments}</h2>
          <Table
            caption={t.assignmentsCaption}
            hideCaption
            locale={v.locale}
            rows={list.assignments}
            columns={[
              { label: t.level, cell: (a) => t.levels[a.level] ?? a.level },
              {
                label: t.target,
                cell: (a) =>
                  a.customer ? (
                    <a href={`/console/customers/${encodeURIComponent(a.customer)}`}>{a.customer}</a>
                  ) : (
                    (a.group ?? t.everyone)
                  ),
              },
              ...(finance
                ? [
                    {
                      label: v.t.actions,
                      cell: (a: PriceListView['assignments'][number]) => (
                        <ActionForm
                          action={`${base}/assignments/${a.id}/delete`}
                          csrf={v.csrf}
                          label={t.unassign}
                          variant="secondary"
                          inline
                        />
                      ),
                    },
                  ]
                : []),
            ]}
          />
          {finance ? (
            <form method="post" action={`${base}/assignments`}>
              <CsrfField token={v.csrf} />
              <Select
                name="level"
                label={t.level}
                value="customer"
                options={['customer', 'group', 'default'].map((l) => ({ value: l, label: t.levels[l] ?? l }))}
                {...of('assign')}
              />
              <Field name="target" label={t.target} hint={t.targetHint} {...of('assign')} />
              <button type="submit">{t.assign}</button>
            </form>
          ) : null}
        </section>
        <section class="card" aria-labelledby="items-h">
          <h2 id="items-h">{t.items}</h2>
          <Table
            caption={t.itemsCaption}
            hideCaption
            locale={v.locale}
            rows={page.items}
            columns={[
              { label: t.sku, cell: (i) => i.sku },
              { label: t.minQuantity, num: true, cell: (i) => i.minQuantity },
              { label: t.validFrom, cell: (i) => i.validFrom ?? t.none },
              { label: t.validTo, cell: (i) => i.validTo ?? t.none },
              {
                label: t.price,
                num: true,
                cell: (i) =>
                  i.price !== null ? (
                    <Money minor={i.price} currency={list.currency} />
                  ) : (
                    `${i.percent}% × ${i.basedOn}`
                  ),
              },
              ...(finance
                ? [
                    {
                      label: v.t.actions,
                      cell: (i: { id: number }) => (
                        <ActionForm
                          action={`${base}/items/${i.id}/delete`}
                          csrf={v.csrf}
                          label={t.removeItem}
                          variant="secondary"
                          inline
                        />
                      ),
                    },
                  ]
                : []),
            ]}
          />
          <PageLinks
            locale={v.locale}
            first={after ? base : null}
            next={
              page.next
                ? `${base}?${new URLSearchParams({ after: page.next.sku, afterId: String(page.next.id) })}`
                : null
            }
          />
        </section>
        {finance ? (
          <section class="card" aria-labelledby="item-h">
            <h2 id="item-h">{t.editItem}</h2>
            <p class="hint">{t.editItemHint}</p>
            <form method="post" action={`${base}/items`}>
              <CsrfField token={v.csrf} />
              <Field name="sku" label={t.sku} required {...of('item')} />
              <Field
                name="minQuantity"
                label={t.minQuantity}
                type="number"
                value={1}
                attrs={{ min: 1, inputmode: 'numeric' }}
                {...of('item')}
              />
              <Field name="validFrom" label={t.validFrom} hint={t.dateHint} {...of('item')} />
              <Field name="validTo" label={t.validTo} hint={t.dateHint} {...of('item')} />
              <Field
                name="price"
                label={t.priceMajor(list.currency)}
                hint={t.priceOrPercentHint}
                attrs={{ inputmode: 'decimal' }}
                {...of('item')}
              />
              <Field name="percent" label={t.percent} attrs={{ inputmode: 'decimal' }} {...of('item')} />
              <Field name="basedOn" label={t.basedOn} {...of('item')} />
              <button type="submit">{t.saveItem}</button>
            </form>
          </section>
        ) : null}
        {finance ? (
          <section class="card" aria-labelledby="import-h">
            <h2 id="import-h">{t.importSheet}</h2>
            <p class="hint">{t.importHint}</p>
            {state.rowErrors?.length ? (
              <Table
                caption={t.rowErrorsCaption}
                locale={v.locale}
                rows={state.rowErrors}
                columns={[
                  { label: t.row, num: true, cell: (r) => r.row },
                  { label: t.reason, cell: (r) => r.reason },
                ]}
              />
            ) : null}
            <form method="post" action={`${base}/import`} enctype="multipart/form-data">
              <CsrfField token={v.csrf} />
              <Field
                name="file"
                label={t.file}
                type="file"
                attrs={{ accept: '.xlsx,.csv' }}
                errors={state.form === 'import' ? state.errors : undefined}
              />
              <button type="submit">{t.import}</button>
            </form>
          </section>
        ) : null}
      </>,
    );
  }

  route(
    {
      method: 'get',
      path: '/price-lists/:code',
      access: 'read',
      operationId: 'consolePriceList',
      summary: 'A price list: its items (paged), assignments, import and export',
      params: listParams,
      query: itemsQuery,
      responses: PAGE,
      errors: [404],
    },
    (c, { params, query }) => listPage(c, params.code, query),
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code',
      access: 'finance',
      operationId: 'consoleSavePriceList',
      summary: "Change a price list's name or currency (the body of PUT /api/price-lists/{code})",
      params: listParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const list = await getPriceList(db, params.code);
      const values = await formValues(c);
      const form = parseFormValues(listBody, values);
      if (!form.ok) return listPage(c, list.code, {}, { status: 422, form: 'list', ...form });
      try {
        await putPriceList(db, list.code, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return listPage(
          c,
          list.code,
          {},
          {
            status: e.status === 409 ? 409 : 422,
            error: e.message,
            form: 'list',
            values,
          },
        );
      }
      return doneTo(c, url(list.code), t.priceListSaved);
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/items',
      access: 'finance',
      operationId: 'consoleSavePriceItem',
      summary:
        'Add or replace one item of a list: checked by the rules of PUT /api/price-lists/{code}/items; the other items stay',
      params: listParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const list = await getPriceList(db, params.code);
      const values = await formValues(c);
      const form = parsePriced(
        itemBody,
        values,
        (v, minor) => {
          const out = copyValues(v);
          out.price = minor(v.price, list.currency, 'price');
          return out;
        },
        [],
        viewer(c).locale,
      );
      if (!form.ok) return listPage(c, list.code, {}, { status: 422, form: 'item', ...form });
      let saved: Awaited<ReturnType<typeof putPriceListItem>>;
      try {
        saved = await putPriceListItem(db, list.code, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        // Problems of the item given are shown beside its fields.
        const errors: FieldErrors = {};
        for (const [k, m] of Object.entries(detailsToFieldErrors(e.details))) {
          const own = /^items\.0\.(.+)$/.exec(k);
          const key = own ? own[1]! : '';
          errors[key] = [...(errors[key] ?? []), ...m];
        }
        return listPage(
          c,
          list.code,
          {},
          {
            status: e.status === 409 ? 409 : 422,
            error: e.message,
            form: 'item',
            errors,
            values,
          },
        );
      }
      return doneTo(c, url(list.code), t.itemSaved(saved.created, saved.updated, saved.unchanged));
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/items/:id/delete',
      access: 'finance',
      operationId: 'consoleDeletePriceItem',
      summary: 'Remove one item of a list: the other items stay',
      params: itemParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const list = await getPriceList(db, params.code);
      try {
        await deletePriceListItem(db, list.code, params.id);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        return listPage(c, list.code, {}, { status: e.status === 409 ? 409 : 422, error: e.message });
      }
      return doneTo(c, url(list.code), t.itemRemoved);
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/import',
      access: 'finance',
      operationId: 'consoleImportPriceList',
      summary:
        "Set a list's items from a sheet (as POST /api/price-lists/{code}/import); bad rows are listed",
      params: listParams,
      upload: { contentTypes: ['multipart/form-data'], description: 'the sheet in `file`, and `_csrf`' },
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const list = await getPriceList(db, params.code);
      const values = await formValues(c);
      const file = Array.isArray(values.file) ? values.file[values.file.length - 1] : values.file;
      if (!(file instanceof File) || file.size === 0)
        return listPage(
          c,
          list.code,
          {},
          {
            status: 422,
            form: 'import',
            errors: { file: [`${t.file}: ${viewer(c).t.required}`] },
          },
        );
      let result: Awaited<ReturnType<typeof importPriceListSheet>>;
      try {
        result = await importPriceListSheet(db, list.code, {
          fileName: file.name || 'prices.xlsx',
          data: Buffer.from(await file.arrayBuffer()),
        });
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        const rows =
          err instanceof ValidationError && e.details && typeof e.details === 'object'
            ? ((e.details as { rows?: { row: number; reason: string }[] }).rows ?? [])
            : [];
        return listPage(
          c,
          list.code,
          {},
          {
            status: e.status === 409 ? 409 : 422,
            error: e.message,
            form: 'import',
            errors: { file: [e.message] },
            rowErrors: rows,
          },
        );
      }
      return doneTo(
        c,
        url(list.code),
        t.imported(result.rows, result.saved.created, result.saved.updated, result.saved.deleted),
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/assignments',
      access: 'finance',
      operationId: 'consoleAssignPriceList',
      summary:
        'Assign a list to a customer, a group or everyone (the body of POST /api/price-lists/{code}/assignments)',
      params: listParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      const list = await getPriceList(db, params.code);
      const values = await formValues(c);
      const level = typeof values.level === 'string' ? values.level : '';
      const target = typeof values.target === 'string' ? values.target : '';
      const body: unknown =
        level === 'default'
          ? { default: true }
          : level === 'group'
            ? { group: target }
            : { customer: target };
      const parsed = assignmentBody.safeParse(body);
      const form = parsed.success
        ? { ok: true as const, data: parsed.data }
        : { ok: false as const, errors: fieldErrors(parsed.error) };
      const toTarget = (errors: FieldErrors): FieldErrors => {
        const out: FieldErrors = {};
        for (const [k, m] of Object.entries(errors)) {
          const key = k === 'customer' || k === 'group' || k === '' ? 'target' : k;
          out[key] = [...(out[key] ?? []), ...m];
        }
        return out;
      };
      if (!form.ok)
        return listPage(
          c,
          list.code,
          {},
          { status: 422, form: 'assign', errors: toTarget(form.errors), values },
        );
      try {
        await assignPriceList(db, list.code, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return listPage(
          c,
          list.code,
          {},
          {
            status: e.status === 409 ? 409 : 422,
            error: e.message,
            form: 'assign',
            errors: { target: [e.message] },
            values,
          },
        );
      }
      return doneTo(c, url(list.code), t.assigned);
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/assignments/:id/delete',
      access: 'finance',
      operationId: 'consoleUnassignPriceList',
      summary: 'Remove an assignment of a list',
      params: assignmentParams,
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      errors: [404],
      audit,
    },
    async (c, { params }) => {
      const t = T[viewer(c).locale];
      await unassignPriceList(db, params.code, params.id);
      return doneTo(c, url(params.code), t.unassigned);
    },
  );
}

function assignmentText(locale: 'en' | 'zh-CN', a: { level: string; customer?: string; group?: string }) {
  const t = T[locale];
  return `${t.levels[a.level] ?? a.level}${a.customer ? ` ${a.customer}` : a.group ? ` ${a.group}` : ''}`;
}
