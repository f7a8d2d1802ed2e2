/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { APPROVABLE_HOLD_REASONS } from '../../domain/credit.js';
import { OPEN_STATUSES, type OrderStatus } from '../../domain/order-status.js';
import type { AppEnv } from '../../http/env.js';
import { orderDetail } from '../../orders/order-query.js';
import { orderReturns } from '../../orders/returns.js';
import { SHIPPABLE } from '../../orders/ship.js';
import {
  ActionForm,
  CsrfField,
  ErrorSummary,
  Facts,
  Field,
  Money,
  StatusBadge,
  Table,
  TextArea,
  Time,
} from '../components.js';
import { type ConsoleDeps, render, viewer } from '../context.js';
import type { FieldErrors, FormObject } from '../forms.js';
import { reasonText, T } from './texts.js';

/** The action forms of the detail page; after a failed submit, only that form shows its problems. */
export type OrderForm = 'release' | 'approve' | 'reject' | 'ship' | 'cancel';

export interface DetailOptions {
  status?: ContentfulStatusCode;
  /** The reason a change was refused (409), or a form-wide problem. */
  error?: string | undefined;
  form?: OrderForm;
  errors?: FieldErrors;
  values?: FormObject;
}

type Detail = Awaited<ReturnType<typeof orderDetail>>;

const problemsOf = (v: unknown): { code?: string; message?: string; sku?: string }[] =>
  Array.isArray(v) ? v.filter((p) => p && typeof p === 'object') : [];

/** The order page: its facts, lines, history, shipments, notifications, returns, and its actions. */
export async function orderPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  id: number,
  options: DetailOptions = {},
) {
  const { locale, t, csrf, can } = viewer(c);
  const tt = T[locale];
  const [o, returns] = await Promise.all([orderDetail(cd.deps.db, id), orderReturns(cd.deps.db, id)]);
  const statusName = (s: string | null) => (s ? ((t.orderStatus as Record<string, string>)[s] ?? s) : '–');
  const m = o.money;
  const contact = [o.contact.name, o.contact.email, o.contact.phone].filter(Boolean).join(' · ');
  const holdProblems = problemsOf(o.holdDetails);
  const warnings = problemsOf(o.warnings);
  const errorsFor = (form: OrderForm) => (options.form === form ? options.errors : undefined);
  // The form that failed keeps the field's usual id, so the error summary's link reaches it.
  const reasonId = (form: OrderForm) => (options.form === form ? undefined : `${form}-reason`);
  const valuesFor = (form: OrderForm) => (options.form === form ? options.values : undefined);
  const onHold = o.status === 'on_hold';
  const mayApprove = onHold && can('finance') && APPROVABLE_HOLD_REASONS.includes(o.holdReason ?? '');
  const mayReject = onHold && can('finance');
  const mayRelease = onHold && can('operate');
  const shipLines = o.lines.filter((l) => l.reserved > 0);
  const mayShip = can('operate') && SHIPPABLE.includes(o.status as OrderStatus) && shipLines.length > 0;
  const mayCancel = can('operate') && OPEN_STATUSES.includes(o.status as OrderStatus);
  const anyAction = mayApprove || mayReject || mayRelease || mayShip || mayCancel;
  const base = `/console/orders/${o.id}`;
  const labels: Record<string, string> = {
    carrier: tt.carrier,
    trackingNumber: tt.trackingNumber,
    trackingUrl: tt.trackingUrl,
    reason: options.form === 'cancel' ? tt.cancelReason : tt.decisionReason,
  };
  shipLines.forEach((l, i) => {
    labels[`lines.${i}.quantity`] = tt.shipQuantity(l.sku);
    labels[`lines.${i}.sku`] = tt.shipQuantity(l.sku);
  });

  return render(
    c,
    { title: tt.detailTitle(o.id), nav: 'orders', status: options.status, error: options.error },
    <>
      <p>
        <a href="/console/orders">{tt.backToList}</a>
      </p>
      <h1>{tt.detailTitle(o.id)}</h1>
      <section class="card" aria-label={tt.facts}>
        <Facts
          items={[
            [tt.status, <StatusBadge status={o.status} locale={locale} />],
            ...(o.holdReason ? ([[tt.holdReason, reasonText(tt, o.holdReason)]] as [string, string][]) : []),
            [tt.channel, o.channel],
            [tt.externalId, o.externalId],
            [
              tt.customer,
              o.customer ? [o.customer.code, o.customer.name].filter(Boolean).join(' · ') || '–' : '–',
            ],
            [tt.contact, contact || '–'],
            ...(o.salesperson
              ? ([[tt.salesperson, [o.salesperson.code, o.salesperson.name].filter(Boolean).join(' · ')]] as [
                  string,
                  string,
                ][])
              : []),
            ...(o.contract ? ([[tt.contract, o.contract]] as [string, string][]) : []),
            [tt.placedAt, <Time at={o.placedAt} />],
            [tt.updatedAt, <Time at={o.updatedAt} />],
            [tt.subtotal, <Money minor={m.subtotal} currency={m.currency} />],
            [tt.discount, <Money minor={m.discount} currency={m.currency} />],
            [tt.shipping, <Money minor={m.shipping} currency={m.currency} />],
            [tt.tax, <Money minor={m.tax} currency={m.currency} />],
            [tt.total, <Money minor={o.totalAmount} currency={o.currency} />],
            [tt.pricesIncludeTax, m.pricesIncludeTax ? t.yes : t.no],
          ]}
        />
        {holdProblems.length ? (
          <>
            <h2>{tt.holdProblems}</h2>
            <ul>
              {holdProblems.map((p) => (
                <li>
                  {reasonText(tt, p.code)}
                  {p.message ? `: ${p.message}` : ''}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {warnings.length ? (
          <>
            <h2>{tt.warnings}</h2>
            <ul>
              {warnings.map((p) => (
                <li>
                  {reasonText(tt, p.code)}
                  {p.message ? `: ${p.message}` : ''}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </section>

      {anyAction ? (
        <section class="card" aria-labelledby="order-actions">
          <h2 id="order-actions">{tt.actions}</h2>
          <ErrorSummary errors={options.errors} locale={locale} labels={labels} />
          {mayRelease ? (
            <div>
              <p class="hint">{tt.releaseHint}</p>
              <ActionForm action={`${base}/release`} csrf={csrf} label={tt.release} />
            </div>
          ) : null}
          {mayApprove ? (
            <form method="post" action={`${base}/approve`}>
              <h3>{tt.approveHeading}</h3>
              <CsrfField token={csrf} />
              <TextArea
                name="reason"
                id={reasonId('approve')}
                label={tt.decisionReason}
                required
                errors={errorsFor('approve')}
                values={valuesFor('approve')}
              />
              <button type="submit">{tt.approve}</button>
            </form>
          ) : null}
          {mayReject ? (
            <form method="post" action={`${base}/reject`}>
              <h3>{tt.rejectHeading}</h3>
              <CsrfField token={csrf} />
              <TextArea
                name="reason"
                id={reasonId('reject')}
                label={tt.decisionReason}
                required
                errors={errorsFor('reject')}
                values={valuesFor('reject')}
              />
              <button type="submit" class="danger">
                {tt.reject}
              </button>
            </form>
          ) : null}
          {mayShip ? (
            <form method="post" action={`${base}/ship`}>
              <h3>{tt.shipHeading}</h3>
              <CsrfField token={csrf} />
              <input
                type="hidden"
                name="lastShipment"
                value={String(o.shipments.reduce((n, s) => Math.max(n, s.id), 0))}
              />
              <p class="hint">{tt.shipHint}</p>
              {shipLines.map((l, i) => (
                <>
                  <input type="hidden" name={`lines.${i}.sku`} value={l.sku} />
                  <Field
                    name={`lines.${i}.quantity`}
                    label={tt.shipQuantity(l.sku)}
                    type="number"
                    value={l.reserved}
                    attrs={{ min: 0, max: l.reserved, step: 1, inputmode: 'numeric' }}
                    errors={errorsFor('ship')}
                    values={valuesFor('ship')}
                  />
                </>
              ))}
              <Field
                name="carrier"
                label={tt.carrier}
                errors={errorsFor('ship')}
                values={valuesFor('ship')}
              />
              <Field
                name="trackingNumber"
                label={tt.trackingNumber}
                errors={errorsFor('ship')}
                values={valuesFor('ship')}
              />
              <Field
                name="trackingUrl"
                label={tt.trackingUrl}
                hint={tt.trackingUrlHint}
                errors={errorsFor('ship')}
                values={valuesFor('ship')}
              />
              <button type="submit">{tt.ship}</button>
            </form>
          ) : null}
          {mayCancel ? (
            <form method="post" action={`${base}/cancel`} data-confirm={tt.cancelConfirm}>
              <h3>{tt.cancelHeading}</h3>
              <CsrfField token={csrf} />
              <TextArea
                name="reason"
                id={reasonId('cancel')}
                label={tt.cancelReason}
                errors={errorsFor('cancel')}
                values={valuesFor('cancel')}
              />
              <button type="submit" class="danger">
                {tt.cancelOrder}
              </button>
            </form>
          ) : null}
        </section>
      ) : null}

      <h2>{tt.lines}</h2>
      <Table
        caption={tt.linesCaption}
        hideCaption
        locale={locale}
        rows={o.lines}
        columns={[
          { label: tt.lineNo, num: true, cell: (l) => l.lineNo },
          { label: tt.sku, cell: (l) => l.sku },
          { label: tt.ordered, num: true, cell: (l) => l.ordered },
          { label: tt.reserved, num: true, cell: (l) => l.reserved },
          { label: tt.backordered, num: true, cell: (l) => l.backordered },
          { label: tt.shipped, num: true, cell: (l) => l.shipped },
          { label: tt.cancelled, num: true, cell: (l) => l.cancelled },
          { label: tt.returned, num: true, cell: (l) => l.returned },
          {
            label: tt.unitPrice,
            num: true,
            cell: (l) => <Money minor={l.unitPrice} currency={o.currency} />,
          },
          {
            label: tt.amount,
            num: true,
            cell: (l) => (
              <Money minor={m.lines.find((x) => x.lineNo === l.lineNo)?.amount} currency={m.currency} />
            ),
          },
        ]}
      />

      <h2>{tt.history}</h2>
      <ol class="timeline">
        {o.history.map((h) => (
          <li>
            <Time at={h.at} />{' '}
            <strong>{tt.historyEntry(h.from ? statusName(h.from) : tt.created, statusName(h.to))}</strong>
            {h.reason ? ` — ${h.reason}` : ''} <span class="muted">{tt.by(h.actor)}</span>
          </li>
        ))}
      </ol>

      {o.approvals.length ? (
        <>
          <h2>{tt.approvals}</h2>
          <Table
            caption={tt.approvalsCaption}
            hideCaption
            locale={locale}
            rows={o.approvals}
            columns={[
              { label: t.time, cell: (a) => <Time at={a.at} /> },
              { label: tt.decision, cell: (a) => tt.decisions[a.decision] },
              { label: tt.holdReason, cell: (a) => reasonText(tt, a.holdReason) },
              { label: t.reason, cell: (a) => a.reason },
              { label: tt.actor, cell: (a) => a.actor },
              { label: tt.amount, num: true, cell: (a) => <Money minor={a.amount} currency={a.currency} /> },
            ]}
          />
        </>
      ) : null}

      <h2>{tt.shipments}</h2>
      <Table
        caption={tt.shipmentsCaption}
        hideCaption
        locale={locale}
        rows={o.shipments}
        columns={[
          { label: tt.shipment, cell: (s) => `#${s.id}` },
          { label: t.time, cell: (s) => <Time at={s.at} /> },
          { label: tt.carrier, cell: (s) => s.carrier ?? '–' },
          {
            label: tt.trackingNumber,
            cell: (s) =>
              s.trackingUrl && /^https?:\/\//.test(s.trackingUrl) ? (
                <a href={s.trackingUrl} rel="noopener noreferrer">
                  {s.trackingNumber ?? s.trackingUrl}
                </a>
              ) : (
                (s.trackingNumber ?? '–')
              ),
          },
          { label: tt.shippedLines, cell: (s) => s.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ') },
          {
            label: tt.channelState,
            cell: (s) => (s.channel ? (tt.channelStates[s.channel.state] ?? s.channel.state) : '–'),
          },
          { label: tt.delivery, cell: (s) => (s.delivery ? (s.delivery.status ?? '') : '–') },
        ]}
      />

      <h2>{tt.notifications}</h2>
      <Table
        caption={tt.notificationsCaption}
        hideCaption
        locale={locale}
        rows={o.notifications}
        columns={[
          { label: t.time, cell: (n) => <Time at={n.createdAt} /> },
          { label: tt.event, cell: (n) => tt.events[n.event] ?? n.event },
          { label: tt.medium, cell: (n) => tt.media[n.medium] ?? n.medium },
          { label: tt.recipient, cell: (n) => n.recipient },
          {
            label: tt.state,
            cell: (n) => (
              <>
                {tt.notificationStates[n.state]}
                {n.reason ? <span class="muted">{` ${n.reason}`}</span> : null}
              </>
            ),
          },
          { label: tt.sentAt, cell: (n) => <Time at={n.sentAt} /> },
        ]}
      />

      {returns.length ? (
        <>
          <h2>{tt.returns}</h2>
          <Table
            caption={tt.returnsCaption}
            hideCaption
            locale={locale}
            rows={returns}
            columns={[
              { label: t.time, cell: (r) => <Time at={r.at} /> },
              { label: tt.reference, cell: (r) => r.reference ?? '–' },
              { label: t.reason, cell: (r) => r.reason ?? '–' },
              {
                label: tt.shippedLines,
                cell: (r) => r.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', '),
              },
              { label: tt.actor, cell: (r) => r.actor },
            ]}
          />
        </>
      ) : null}
    </>,
  );
}

export type { Detail };
