/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../http/env.js';
import { newRoutes, routeRegistrar } from '../../http/openapi.js';
import { groupTransferBody, receiveBody, transferParams } from '../../http/routes/transfers.js';
import { getTransfer, receiveTransfer, sendTransfer, type TransferResult } from '../../stock/transfers.js';
import { Badge, ErrorSummary, Facts, Field, formatMoney, Select, Table, Time } from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, type FormObject, isBlank, readForm } from '../forms.js';
import { COMMON } from '../texts.js';
import { FormKey, keyedBy, LineRows, lineCount, refusalErrors, refusalMessage } from './forms.js';
import { sellingWarehouses } from './pages.js';
import { T } from './texts.js';

/**
 * Intra-group transfers (集团内部调拨) in the console: the send form (`POST /api/transfers`), a
 * transfer's page with its lines, receipts and sale, and its receive form
 * (`POST /api/transfers/:ref/receive`), through the same schemas and service functions.
 */

const transferHref = (ref: string) => `/console/stock/group-transfers/${encodeURIComponent(ref)}`;

const findQuery = z.object({ ref: z.string().max(191).optional().describe('transfer reference') });

interface FormState {
  status?: 200 | 409 | 422;
  error?: string | undefined;
  errors?: FieldErrors | undefined;
  values?: FormObject | undefined;
}

async function sendPage(c: Context<AppEnv>, cd: ConsoleDeps, state: FormState = {}) {
  const { locale, csrf } = viewer(c);
  const t = T[locale];
  const warehouses = (await sellingWarehouses(cd)).filter((w) => w.company !== null);
  const options = warehouses.map((w) => ({ value: w.code, label: `${w.code} · ${w.name} (${w.company})` }));
  const rows = lineCount(state.values);
  return render(
    c,
    {
      title: t.groupTitle,
      nav: 'stock',
      status: state.status ?? 200,
      error: state.error,
      scripts: ['stock.js'],
    },
    <>
      <h1>{t.groupTitle}</h1>
      <p>{t.groupIntro}</p>
      <ErrorSummary
        errors={state.errors}
        locale={locale}
        labels={{ ref: t.groupRef, from: t.from, to: t.to, priceList: t.priceList, lines: t.linesHeading }}
      />
      <form method="post" action="/console/stock/new/group-transfer" class="card stock-document" novalidate>
        <input type="hidden" name="_csrf" value={csrf} />
        <Field
          name="ref"
          label={t.groupRef}
          hint={t.groupRefHint}
          values={state.values}
          errors={state.errors}
          required
          attrs={{ maxlength: 191, autocomplete: 'off' }}
        />
        <Select
          name="from"
          label={t.from}
          options={options}
          blank={t.chooseWarehouse}
          values={state.values}
          errors={state.errors}
          required
        />
        <Select
          name="to"
          label={t.to}
          options={options}
          blank={t.chooseWarehouse}
          values={state.values}
          errors={state.errors}
          required
        />
        <Field
          name="priceList"
          label={t.priceList}
          hint={t.priceListHint}
          values={state.values}
          errors={state.errors}
          attrs={{ maxlength: 64, autocomplete: 'off' }}
        />
        <LinesFieldset locale={locale} rows={rows} state={state} />
        <button type="submit">{t.record}</button>
      </form>
    </>,
  );
}

function LinesFieldset({
  locale,
  rows,
  state,
  hint,
}: {
  locale: 'en' | 'zh-CN';
  rows: number;
  state: FormState;
  hint?: string;
}) {
  const t = T[locale];
  const errs = state.errors?.lines ?? [];
  return (
    <fieldset id="f-lines" class="lines" aria-describedby={errs.length ? 'f-lines-error' : 'f-lines-hint'}>
      <legend>{t.linesHeading}</legend>
      <p class="hint" id="f-lines-hint">
        {hint ?? t.linesHint}
      </p>
      {errs.length ? (
        <p class="field-error" id="f-lines-error">
          {errs.join(' ')}
        </p>
      ) : null}
      <LineRows locale={locale} rows={rows} amount="quantity" values={state.values} errors={state.errors} />
      <datalist id="sku-options" />
    </fieldset>
  );
}

async function transferPage(c: Context<AppEnv>, cd: ConsoleDeps, ref: string, state: FormState = {}) {
  const { locale, csrf, can } = viewer(c);
  const t = T[locale];
  const common = COMMON[locale];
  const tr = await getTransfer(cd.deps.db, ref);
  const money = (minor: number) => formatMoney(minor, tr.currency);
  const canReceive = can('operate') && tr.status === 'in_transit';
  return render(
    c,
    {
      title: t.transferTitle2(tr.ref),
      nav: 'stock',
      status: state.status ?? 200,
      error: state.error,
      scripts: canReceive ? ['stock.js'] : [],
    },
    <>
      <h1>{t.transferTitle2(tr.ref)}</h1>
      <section class="card">
        <Facts
          items={[
            [
              common.status,
              <Badge kind={tr.status === 'received' ? 'ok' : 'warn'}>
                {t.transferStatus[tr.status] ?? tr.status}
              </Badge>,
            ],
            [t.fromCompany, `${tr.from.warehouse} (${tr.from.company})`],
            [t.toCompany, `${tr.to.warehouse} (${tr.to.company})`],
            [t.inTransitLocation, tr.inTransitLocation],
            [t.priceList, tr.priceList],
            [t.sentAt, <Time at={tr.createdAt} />],
            [t.seller, tr.sale.seller],
            [t.buyer, tr.sale.buyer],
            [t.amount, money(tr.sale.totalAmount)],
            [t.invoice, tr.sale.invoiceId === null ? t.notInvoiced : String(tr.sale.invoiceId)],
          ]}
        />
      </section>
      <h2>{t.linesHeading}</h2>
      <Table
        caption={t.transferLines(tr.ref)}
        hideCaption
        locale={locale}
        rows={tr.lines}
        columns={[
          { label: t.sku, cell: (l) => <a href={`/console/stock/${encodeURIComponent(l.sku)}`}>{l.sku}</a> },
          { label: t.sentQty, num: true, cell: (l) => l.sent },
          { label: t.receivedQty, num: true, cell: (l) => l.received },
          { label: t.inTransitQty, num: true, cell: (l) => l.inTransit },
          { label: t.unitPrice, num: true, cell: (l) => money(l.unitPrice) },
          { label: t.amount, num: true, cell: (l) => money(l.amount) },
        ]}
      />
      <h2>{t.receiptsHeading}</h2>
      <Table
        caption={t.receiptsCaption(tr.ref)}
        hideCaption
        locale={locale}
        emptyText={t.noReceipts}
        rows={tr.receipts}
        columns={[
          { label: t.receiptRef, cell: (r) => r.receipt },
          { label: t.receiptLines, cell: (r) => r.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ') },
          { label: common.time, cell: (r) => <Time at={r.at} /> },
        ]}
      />
      {canReceive ? (
        <>
          <h2>{t.receiveHeading}</h2>
          <ErrorSummary
            errors={state.errors}
            locale={locale}
            labels={{ receipt: t.receiptField, lines: t.linesHeading }}
          />
          <form
            method="post"
            action={`${transferHref(tr.ref)}/receive`}
            class="card stock-document"
            novalidate
          >
            <input type="hidden" name="_csrf" value={csrf} />
            <FormKey values={state.values} />
            <Field
              name="receipt"
              label={t.receiptField}
              hint={t.receiptHint}
              values={state.values}
              errors={state.errors}
              attrs={{ maxlength: 191, autocomplete: 'off' }}
            />
            <LinesFieldset
              locale={locale}
              rows={lineCount(state.values)}
              state={state}
              hint={t.receiveIntro}
            />
            <button type="submit">{t.receiveButton}</button>
          </form>
        </>
      ) : null}
    </>,
  );
}

/** The receive form with every line left blank: no `lines`, so everything in transit is received. */
const withoutBlankLines = (values: FormObject) => {
  if (!isBlank(values.lines)) return values;
  const { lines: _unused, ...rest } = values;
  return rest;
};

const noticeOf = (locale: 'en' | 'zh-CN', result: TransferResult, sent: boolean) => {
  const t = T[locale];
  const ref = result.transfer.ref;
  const main = sent
    ? result.duplicate
      ? t.sentAgain(ref)
      : t.sent(ref)
    : result.duplicate
      ? t.receivedAgain(ref)
      : t.received(ref);
  return `${main}${result.filledOrders.length ? t.filled(result.filledOrders.length) : ''}`;
};

export function groupTransferPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'transfer', db: cd.deps.db });

  route(
    {
      method: 'get',
      path: '/stock/new/group-transfer',
      access: 'operate',
      operationId: 'consoleSendTransferForm',
      summary: 'The form: send stock to another company of the group',
      responses: PAGE,
    },
    (c) => sendPage(c, cd),
  );

  route(
    {
      method: 'post',
      path: '/stock/new/group-transfer',
      access: 'operate',
      operationId: 'consoleSendTransfer',
      summary: 'Send stock to another company of the group',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      audit: { entity: 'transfer' },
    },
    async (c) => {
      const { locale } = viewer(c);
      const form = await readForm(c, groupTransferBody);
      if (!form.ok) return sendPage(c, cd, { status: 422, errors: form.errors, values: form.values });
      let result: TransferResult;
      try {
        result = await sendTransfer(cd.deps.db, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return sendPage(c, cd, {
          status: e.status === 409 ? 409 : 422,
          error: `${T[locale].refused} ${refusalMessage(locale, e.code, e.message)}`,
          errors: refusalErrors('group', locale, e.code, e.details, form.data),
          values: form.values,
        });
      }
      c.set('auditEntityId', result.transfer.ref);
      return doneTo(c, transferHref(result.transfer.ref), noticeOf(locale, result, true));
    },
  );

  route(
    {
      method: 'get',
      path: '/stock/find/group-transfer',
      access: 'read',
      operationId: 'consoleFindTransfer',
      summary: 'Opens the intra-group transfer of a reference',
      query: findQuery,
      responses: PAGE,
    },
    (c, { query }) => {
      const ref = query.ref?.trim();
      return c.redirect(ref ? transferHref(ref) : '/console/stock', 303);
    },
  );

  route(
    {
      method: 'get',
      path: '/stock/group-transfers/:ref',
      access: 'read',
      operationId: 'consoleTransfer',
      summary: 'An intra-group transfer: lines sent, received and in transit, receipts, sale; receive it',
      params: transferParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => transferPage(c, cd, params.ref),
  );

  route(
    {
      method: 'post',
      path: '/stock/group-transfers/:ref/receive',
      access: 'operate',
      operationId: 'consoleReceiveTransfer',
      summary: 'Receive an intra-group transfer (lines left blank: everything still in transit)',
      params: transferParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such transfer', contentType: HTML } },
      audit: { entity: 'transfer' },
    },
    async (c, { params }) => {
      const { locale } = viewer(c);
      const form = await readForm(c, receiveBody, (v) => keyedBy('receipt')(withoutBlankLines(v)));
      if (!form.ok)
        return transferPage(c, cd, params.ref, { status: 422, errors: form.errors, values: form.values });
      let result: TransferResult;
      try {
        result = await receiveTransfer(cd.deps.db, params.ref, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        return transferPage(c, cd, params.ref, {
          status: e.status === 409 ? 409 : 422,
          error: `${T[locale].refused} ${refusalMessage(locale, e.code, e.message)}`,
          errors: refusalErrors('receive', locale, e.code, e.details, { lines: form.data.lines }),
          values: form.values,
        });
      }
      return doneTo(c, transferHref(result.transfer.ref), noticeOf(locale, result, false));
    },
  );

  return app;
}
