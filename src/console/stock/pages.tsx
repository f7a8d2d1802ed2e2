/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { skuPublications } from '../../channels/channel-publication.js';
import type { AppEnv } from '../../http/env.js';
import { nextCursor, nextPairCursor, readCursor, readPairCursor } from '../../http/pagination.js';
import { listStockLevels, listWarehouses, skuDetail } from '../../stock/catalogue-query.js';
import { listMovements } from '../../stock/ledger.js';
import { listAlerts, listLowStock } from '../../stock/low-stock.js';
import { getStock } from '../../stock/stock-service.js';
import { Badge, ErrorSummary, Facts, Field, Select, Table, Time } from '../components.js';
import { type ConsoleDeps, render, viewer } from '../context.js';
import type { FieldErrors, FormObject } from '../forms.js';
import { COMMON } from '../texts.js';
import { DocumentForm, type DocumentKind } from './forms.js';
import { T } from './texts.js';

const viewerTexts = (locale: 'en' | 'zh-CN') => COMMON[locale];

/** Rows per page of every stock list. */
export const PAGE_SIZE = 50;

const skuHref = (sku: string) => `/console/stock/${encodeURIComponent(sku)}`;
const blankToUndefined = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/** A signed change (`+3`, `-2`, `0`). */
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** The warehouses stock can be recorded in (in-transit locations move only by their transfers). */
export async function sellingWarehouses(cd: ConsoleDeps) {
  return (await listWarehouses(cd.deps.db)).filter((w) => w.kind !== 'in_transit');
}

/**
 * Keyset pages know the next page, not the previous one: a link to the first page (when not on it)
 * and one to the next.
 */
function Paging(p: {
  locale: 'en' | 'zh-CN';
  path: string;
  query: Record<string, string | undefined>;
  first: boolean;
  next: { cursor: string } | null;
  /** Where on the page the list is (`#ledger`). */
  hash?: string;
}) {
  const t = viewerTexts(p.locale);
  const href = (cursor?: string) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...p.query, cursor })) if (v) q.set(k, v);
    return `${p.path}${q.size ? `?${q}` : ''}${p.hash ?? ''}`;
  };
  if (!p.first && !p.next) return null;
  return (
    <nav class="pager" aria-label={t.pagination}>
      <ul>
        {p.first ? (
          <li>
            <a href={href()}>{t.first}</a>
          </li>
        ) : null}
        {p.next ? (
          <li>
            <a href={href(p.next.cursor)} rel="next">
              {t.next}
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

function StockLinks({
  locale,
  canOperate,
  sku,
}: {
  locale: 'en' | 'zh-CN';
  canOperate: boolean;
  sku?: string;
}) {
  const t = T[locale];
  const q = sku ? `?sku=${encodeURIComponent(sku)}` : '';
  return (
    <p class="toolbar">
      {canOperate ? (
        <>
          <a class="button" href={`/console/stock/new/receipt${q}`}>
            {t.receive}
          </a>
          <a class="button" href={`/console/stock/new/adjustment${q}`}>
            {t.adjust}
          </a>
          <a class="button" href={`/console/stock/new/transfer${q}`}>
            {t.transfer}
          </a>
          <a class="button" href="/console/stock/new/group-transfer">
            {t.groupSend}
          </a>
        </>
      ) : null}
      <a class="button secondary" href="/console/stock/low">
        {t.lowNow}
      </a>
      <a class="button secondary" href="/console/stock/alerts/low">
        {t.lowStock}
      </a>
    </p>
  );
}

/** Stock per SKU and warehouse: searched by part of the SKU's code or name and by warehouse, 50 a page. */
export async function levelsPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  query: { q?: string | undefined; warehouse?: string | undefined; cursor?: string | undefined },
) {
  const { locale, can } = viewer(c);
  const t = T[locale];
  const q = blankToUndefined(query.q?.trim());
  const warehouse = blankToUndefined(query.warehouse);
  const [warehouses, page] = await Promise.all([
    listWarehouses(cd.deps.db),
    listStockLevels(cd.deps.db, { q, warehouse, limit: PAGE_SIZE }, readPairCursor(query.cursor)),
  ]);
  const names = await skuNames(
    cd,
    page.items.map((i) => i.sku),
  );
  return render(
    c,
    { title: t.levelsTitle, nav: 'stock' },
    <>
      <h1>{t.levelsTitle}</h1>
      <StockLinks locale={locale} canOperate={can('operate')} />
      <form method="get" action="/console/stock" class="filters card">
        <Field
          name="q"
          label={t.searchLabel}
          hint={t.searchHint}
          value={q}
          attrs={{ maxlength: 255, type: 'search' }}
        />
        <Select
          name="warehouse"
          label={t.warehouse}
          blank={t.anyWarehouse}
          value={warehouse}
          options={warehouses.map((w) => ({ value: w.code, label: `${w.code} · ${w.name}` }))}
        />
        <div>
          <button type="submit">{viewer(c).t.search}</button>
        </div>
      </form>
      <form method="get" action="/console/stock/find/group-transfer" class="filters">
        <Field
          name="ref"
          id="find-transfer"
          label={t.openTransfer}
          attrs={{ maxlength: 191, type: 'search' }}
        />
        <div>
          <button type="submit" class="secondary">
            {viewer(c).t.search}
          </button>
        </div>
      </form>
      <Table
        caption={t.levelsCaption}
        locale={locale}
        emptyText={t.noLevels}
        rows={page.items}
        columns={[
          { label: t.sku, cell: (r) => <a href={skuHref(r.sku)}>{r.sku}</a> },
          { label: t.name, cell: (r) => names.get(r.sku) ?? '' },
          { label: t.warehouse, cell: (r) => r.warehouse },
          { label: t.onHand, num: true, cell: (r) => r.onHand },
          { label: t.reserved, num: true, cell: (r) => r.reserved },
          { label: t.available, num: true, cell: (r) => r.available },
          {
            label: t.reorderPoint,
            num: true,
            cell: (r) =>
              r.reorderPoint === null ? (
                <span class="muted">{t.noReorderPoint}</span>
              ) : r.available <= r.reorderPoint ? (
                <>
                  {r.reorderPoint} <Badge kind="warn">{t.belowReorder}</Badge>
                </>
              ) : (
                r.reorderPoint
              ),
          },
        ]}
      />
      <Paging
        locale={locale}
        path="/console/stock"
        query={{ q, warehouse }}
        first={Boolean(query.cursor)}
        next={page.next ? { cursor: nextPairCursor(page.next)! } : null}
      />
    </>,
  );
}

/** The names of these SKU codes (one indexed lookup for a page of rows). */
async function skuNames(cd: ConsoleDeps, codes: readonly string[]): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const rows = await cd.deps
    .db('skus')
    .whereIn('code', [...new Set(codes)])
    .select('code', 'name');
  const byCode = new Map(rows.map((r) => [String(r.code), String(r.name)]));
  return new Map(codes.map((code) => [code, byCode.get(code) ?? '']));
}

export interface SkuPageState {
  status?: 200 | 404 | 409 | 422;
  error?: string | undefined;
  /** The reorder-point form that failed: its warehouse, problems and values. */
  reorder?: { warehouse: string; errors: FieldErrors; values: FormObject } | undefined;
}

/** A SKU: its stock per warehouse (with reorder points), its ledger, what each channel was told. */
export async function skuPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  sku: string,
  query: { warehouse?: string | undefined; cursor?: string | undefined },
  state: SkuPageState = {},
) {
  const { locale, can, csrf } = viewer(c);
  const t = T[locale];
  const db = cd.deps.db;
  const detail = await skuDetail(db, sku);
  const code = detail.code;
  const ledgerWarehouse = blankToUndefined(query.warehouse);
  const [stock, levels, warehouses, ledger, channels] = await Promise.all([
    getStock(db, code),
    listStockLevels(db, { sku: code, limit: 500 }, null),
    sellingWarehouses(cd),
    listMovements(db, {
      sku: code,
      warehouse: ledgerWarehouse,
      limit: PAGE_SIZE,
      beforeId: readCursor(query.cursor),
    }),
    skuPublications(db, code),
  ]);
  const figures = new Map(stock.warehouses.map((w) => [w.warehouse, w]));
  const reorderOf = new Map(levels.items.map((l) => [l.warehouse, l.reorderPoint]));
  const rows = warehouses.map((w) => ({
    warehouse: w.code,
    onHand: figures.get(w.code)?.onHand ?? 0,
    reserved: figures.get(w.code)?.reserved ?? 0,
    available: figures.get(w.code)?.available ?? 0,
    reorderPoint: reorderOf.get(w.code) ?? null,
  }));
  const operate = can('operate');
  const rp = state.reorder;
  return render(
    c,
    { title: t.skuTitle(code), nav: 'stock', status: state.status ?? 200, error: state.error, scripts: [] },
    <>
      <h1>{t.skuTitle(code)}</h1>
      <StockLinks locale={locale} canOperate={operate} sku={code} />
      {rp ? (
        <ErrorSummary
          errors={rp.errors}
          locale={locale}
          labels={{ reorderPoint: t.reorderPointOf(rp.warehouse) }}
        />
      ) : null}
      <section class="card" aria-labelledby="sku-summary">
        <h2 id="sku-summary">{t.skuSummary}</h2>
        <Facts
          items={[
            [t.name, detail.name],
            [t.onHand, stock.onHand],
            [t.reserved, stock.reserved],
            [t.available, stock.available],
            [t.skuReorderPoint, detail.reorderPoint ?? t.noReorderPoint],
          ]}
        />
      </section>
      <h2>{t.levelsHeading}</h2>
      <Table
        caption={t.levelsOfSku(code)}
        hideCaption
        locale={locale}
        rows={rows}
        columns={[
          { label: t.warehouse, cell: (r) => r.warehouse },
          { label: t.onHand, num: true, cell: (r) => r.onHand },
          { label: t.reserved, num: true, cell: (r) => r.reserved },
          { label: t.available, num: true, cell: (r) => r.available },
          {
            label: t.reorderPoint,
            cell: (r) =>
              operate ? (
                <form
                  method="post"
                  action={`${skuHref(code)}/warehouses/${encodeURIComponent(r.warehouse)}/reorder-point`}
                  class="reorder-form"
                >
                  <input type="hidden" name="_csrf" value={csrf} />
                  <Field
                    id={`rp-${r.warehouse}`}
                    name="reorderPoint"
                    label={t.reorderPointOf(r.warehouse)}
                    hint={rp?.warehouse === r.warehouse ? t.reorderHint : undefined}
                    value={r.reorderPoint}
                    values={rp?.warehouse === r.warehouse ? rp.values : undefined}
                    errors={rp?.warehouse === r.warehouse ? rp.errors : undefined}
                    attrs={{ inputmode: 'numeric', autocomplete: 'off' }}
                  />
                  <button type="submit" class="secondary">
                    {t.setReorderPoint}
                  </button>
                </form>
              ) : r.reorderPoint === null ? (
                <span class="muted">{t.noReorderPoint}</span>
              ) : (
                <>
                  {r.reorderPoint}
                  {r.available <= r.reorderPoint ? (
                    <>
                      {' '}
                      <Badge kind="warn">{t.belowReorder}</Badge>
                    </>
                  ) : null}
                </>
              ),
          },
        ]}
      />
      {stock.inTransit.length ? (
        <>
          <h2>{t.inTransitHeading}</h2>
          <Table
            caption={t.inTransitCaption(code)}
            hideCaption
            locale={locale}
            rows={stock.inTransit}
            columns={[
              { label: t.location, cell: (r) => r.location },
              { label: t.company, cell: (r) => r.company ?? '' },
              { label: t.onHand, num: true, cell: (r) => r.onHand },
            ]}
          />
        </>
      ) : null}
      <h2>{t.channelsHeading}</h2>
      <Table
        caption={t.channelsCaption(code)}
        hideCaption
        locale={locale}
        emptyText={t.noChannels}
        rows={channels}
        columns={[
          {
            label: t.channel,
            cell: (r) => <a href={`/console/channels/${r.channelId}`}>{`${r.name} (${r.channel})`}</a>,
          },
          {
            label: t.published,
            num: true,
            cell: (r) => (r.published === null ? <span class="muted">{t.neverPublished}</span> : r.published),
          },
          { label: t.publishedAt, cell: (r) => <Time at={r.publishedAt} /> },
          {
            label: t.push,
            cell: (r) =>
              r.pending ? <Badge kind="warn">{t.pending}</Badge> : <Badge kind="ok">{t.upToDate}</Badge>,
          },
          {
            label: t.lastError,
            cell: (r) =>
              r.lastError ? (
                <>
                  {r.lastError.message} <Time at={r.lastError.at} />
                </>
              ) : (
                ''
              ),
          },
        ]}
      />
      <h2 id="ledger">{t.ledgerHeading}</h2>
      <form method="get" action={`${skuHref(code)}#ledger`} class="filters">
        <Select
          name="warehouse"
          id="ledger-warehouse"
          label={t.warehouse}
          blank={t.anyWarehouse}
          value={ledgerWarehouse}
          options={levels.items.map((l) => ({ value: l.warehouse, label: l.warehouse }))}
        />
        <div>
          <button type="submit" class="secondary">
            {t.ledgerFilter}
          </button>
        </div>
      </form>
      <Table
        caption={t.ledgerCaption(code)}
        hideCaption
        locale={locale}
        emptyText={t.noMovements}
        rows={ledger.items}
        columns={[
          { label: viewer(c).t.time, cell: (r) => <Time at={r.at} /> },
          { label: t.warehouse, cell: (r) => r.warehouse },
          { label: t.dOnHand, num: true, cell: (r) => signed(r.dOnHand) },
          { label: t.dReserved, num: true, cell: (r) => signed(r.dReserved) },
          { label: viewer(c).t.reason, cell: (r) => t.reasons[r.reason] ?? r.reason },
          { label: t.reference, cell: (r) => <Reference locale={locale} row={r} /> },
        ]}
      />
      <Paging
        locale={locale}
        path={skuHref(code)}
        hash="#ledger"
        query={{ warehouse: ledgerWarehouse }}
        first={Boolean(query.cursor)}
        next={ledger.nextId !== null ? { cursor: nextCursor(ledger.nextId)! } : null}
      />
    </>,
  );
}

function Reference({
  locale,
  row,
}: {
  locale: 'en' | 'zh-CN';
  row: { refType: string; refId: string; reference: string | null };
}) {
  const kind = T[locale].refTypes[row.refType] ?? row.refType;
  if (row.refType === 'order')
    return <a href={`/console/orders/${encodeURIComponent(row.refId)}`}>{`${kind} ${row.refId}`}</a>;
  return <>{`${kind} ${row.reference ?? row.refId}`}</>;
}

/** A stock document's form page (receipt, adjustment, transfer between warehouses). */
export async function documentPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  kind: DocumentKind,
  state: {
    status?: 200 | 409 | 422;
    error?: string | undefined;
    errors?: FieldErrors | undefined;
    values?: FormObject | undefined;
    sku?: string | undefined;
    warehouse?: string | undefined;
  } = {},
) {
  const { locale, csrf } = viewer(c);
  const t = T[locale];
  const title =
    kind === 'receipt' ? t.receiptTitle : kind === 'adjustment' ? t.adjustmentTitle : t.transferTitle;
  const intro =
    kind === 'receipt' ? t.receiptIntro : kind === 'adjustment' ? t.adjustmentIntro : t.transferIntro;
  const warehouses = await sellingWarehouses(cd);
  return render(
    c,
    { title, nav: 'stock', status: state.status ?? 200, error: state.error, scripts: ['stock.js'] },
    <>
      <h1>{title}</h1>
      <p>{intro}</p>
      <DocumentForm
        kind={kind}
        locale={locale}
        csrf={csrf}
        warehouses={warehouses}
        values={state.values}
        errors={state.errors}
        sku={state.sku}
        warehouse={state.warehouse}
      />
    </>,
  );
}

/** Low-stock alerts (`GET /api/alerts`), newest first, each linking to its SKU. */
export async function alertsPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  query: { sku?: string | undefined; cursor?: string | undefined },
) {
  const { locale } = viewer(c);
  const t = T[locale];
  const sku = blankToUndefined(query.sku?.trim());
  const page = await listAlerts(cd.deps.db, { sku, limit: PAGE_SIZE, beforeId: readCursor(query.cursor) });
  return render(
    c,
    { title: t.alertsTitle, nav: 'stock' },
    <>
      <h1>{t.alertsTitle}</h1>
      <p>{t.alertsIntro}</p>
      <form method="get" action="/console/stock/alerts/low" class="filters card">
        <Field name="sku" label={t.alertSku} value={sku} attrs={{ maxlength: 64, type: 'search' }} />
        <div>
          <button type="submit">{viewer(c).t.filter}</button>
        </div>
      </form>
      <Table
        caption={t.alertsCaption}
        hideCaption
        locale={locale}
        emptyText={t.noAlerts}
        rows={page.items}
        columns={[
          { label: t.raisedAt, cell: (r) => <Time at={r.at} /> },
          { label: t.sku, cell: (r) => <a href={skuHref(String(r.sku))}>{String(r.sku)}</a> },
          { label: t.warehouse, cell: (r) => r.warehouse ?? t.wholeSku },
          { label: t.availableThen, num: true, cell: (r) => r.available },
          { label: t.reorderPoint, num: true, cell: (r) => r.reorderPoint },
        ]}
      />
      <Paging
        locale={locale}
        path="/console/stock/alerts/low"
        query={{ sku }}
        first={Boolean(query.cursor)}
        next={page.nextId !== null ? { cursor: nextCursor(page.nextId)! } : null}
      />
    </>,
  );
}

/** The (SKU, warehouse) pairs below their reorder point now, 50 a page, by SKU. */
export async function lowStockPage(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  query: { cursor?: string | undefined },
) {
  const { locale, can } = viewer(c);
  const t = T[locale];
  const page = await listLowStock(cd.deps.db, { limit: PAGE_SIZE, after: readPairCursor(query.cursor) });
  return render(
    c,
    { title: t.lowTitle, nav: 'stock' },
    <>
      <h1>{t.lowTitle}</h1>
      <StockLinks locale={locale} canOperate={can('operate')} />
      <p>{t.lowIntro}</p>
      <Table
        caption={t.lowCaption}
        hideCaption
        locale={locale}
        emptyText={t.noLow}
        rows={page.items}
        columns={[
          { label: t.sku, cell: (r) => <a href={skuHref(r.sku)}>{r.sku}</a> },
          { label: t.warehouse, cell: (r) => r.warehouse ?? t.wholeSku },
          { label: t.availableNow, num: true, cell: (r) => r.available },
          { label: t.reorderPoint, num: true, cell: (r) => r.reorderPoint },
        ]}
      />
      <Paging
        locale={locale}
        path="/console/stock/low"
        query={{}}
        first={Boolean(query.cursor)}
        next={page.next ? { cursor: nextPairCursor(page.next)! } : null}
      />
    </>,
  );
}
