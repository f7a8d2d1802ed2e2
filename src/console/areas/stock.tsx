/** @jsxImportSource hono/jsx */

import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../http/env.js';
import { newRoutes, routeRegistrar } from '../../http/openapi.js';
import { codeParam } from '../../http/params.js';
import {
  adjustmentBody,
  receiptBody,
  reorderPointBody,
  skuParams,
  transferBody,
} from '../../http/routes/stock.js';
import {
  recordAdjustment,
  recordReceipt,
  recordTransfer,
  type StockDocumentResult,
  setWarehouseReorderPoint,
} from '../../stock/stock-service.js';
import { addScript, addStyles } from '../assets.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, viewer } from '../context.js';
import { FORM_UPLOAD, type FormObject, readForm } from '../forms.js';
import { type DocumentKind, keyedBy, refusalErrors, refusalMessage } from '../stock/forms.js';
import { groupTransferPages } from '../stock/group-transfers.js';
import { alertsPage, documentPage, levelsPage, lowStockPage, skuPage } from '../stock/pages.js';
import { T } from '../stock/texts.js';

/** A filter left empty in a GET form (`warehouse=`) is no filter. */
const blankOr = <S extends z.ZodType>(schema: S) => z.union([z.literal(''), schema]).optional();

const levelsQuery = z.object({
  q: z.string().max(255).optional().describe('part of the SKU code or name'),
  warehouse: blankOr(codeParam).describe('warehouse code'),
  cursor: z.string().max(200).optional(),
});

const skuPageQuery = z.object({
  warehouse: blankOr(codeParam).describe("the ledger's warehouse"),
  cursor: z.string().max(200).optional().describe('ledger page'),
});

const alertsQuery = z.object({
  sku: z.string().max(64).optional().describe('SKU code'),
  cursor: z.string().max(200).optional(),
});

const documentQuery = z.object({
  sku: blankOr(codeParam).describe('a SKU to put on the first line'),
  warehouse: blankOr(codeParam).describe('a warehouse to choose'),
});

const reorderParams = z.object({
  sku: codeParam.describe('SKU code'),
  warehouse: codeParam.describe('warehouse code'),
});

const DOCUMENTS: Record<
  DocumentKind,
  {
    schema: typeof receiptBody | typeof adjustmentBody | typeof transferBody;
    operationId: string;
    summary: string;
  }
> = {
  receipt: {
    schema: receiptBody,
    operationId: 'consoleStockReceipt',
    summary: 'Record goods received into a warehouse',
  },
  adjustment: {
    schema: adjustmentBody,
    operationId: 'consoleStockAdjustment',
    summary: 'Correct on-hand quantities (a count, damage, loss)',
  },
  transfer: {
    schema: transferBody,
    operationId: 'consoleStockTransfer',
    summary: 'Move stock between two warehouses of one company',
  },
};

/** The stock service's function for each document (the ones the API's stock routes call). */
function recordDocument(cd: ConsoleDeps, kind: DocumentKind, data: unknown): Promise<StockDocumentResult> {
  const db = cd.deps.db;
  if (kind === 'receipt') return recordReceipt(db, data as z.output<typeof receiptBody>);
  if (kind === 'adjustment') return recordAdjustment(db, data as z.output<typeof adjustmentBody>);
  return recordTransfer(db, data as z.output<typeof transferBody>);
}

/** Where a recorded document is seen: its SKU's ledger (one SKU), else the warehouse's stock. */
function afterDocument(
  kind: DocumentKind,
  data: { lines: { sku: string }[]; warehouse?: string; from?: string },
) {
  const skus = [...new Set(data.lines.map((l) => l.sku))];
  if (skus.length === 1) return `/console/stock/${encodeURIComponent(skus[0]!)}#ledger`;
  const warehouse = kind === 'transfer' ? data.from : data.warehouse;
  return `/console/stock${warehouse ? `?warehouse=${encodeURIComponent(warehouse)}` : ''}`;
}

addStyles(`
.stock-document .line{display:flex;flex-wrap:wrap;gap:0 1rem}
.stock-document .line>.field{flex:1 1 14rem}
.stock-document fieldset{border:1px solid #d8dbe0;border-radius:.375rem;margin:1rem 0;padding:.5rem 1rem}
.stock-document legend{font-weight:600;padding:0 .25rem}
.reorder-form{display:flex;flex-wrap:wrap;gap:0 .5rem;align-items:flex-end}
.reorder-form .field{flex:0 1 9rem}
.reorder-form label{font-weight:400;font-size:.85rem;margin-top:0}
`);

/**
 * The SKU fields of the stock forms offer matching codes as one types (a datalist filled from
 * `GET /api/skus?q=`), never a select of the whole catalogue.
 */
addScript(
  'stock.js',
  `(() => {
  const list = document.getElementById('sku-options');
  if (!list) return;
  let timer = null;
  let last = '';
  document.addEventListener('input', (e) => {
    const field = e.target;
    if (!field.matches || !field.matches('[data-sku-search]')) return;
    const q = field.value.trim();
    if (q.length < 1 || q === last) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      last = q;
      fetch('/api/skus?limit=20&q=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : { items: [] }))
        .then((body) => {
          list.replaceChildren(...(body.items || []).map((s) => {
            const o = document.createElement('option');
            o.value = s.code;
            o.label = s.name;
            return o;
          }));
        })
        .catch(() => {});
    }, 250);
  });
})();`,
);

/** The console's stock pages (issue 19). */
export function stockPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'stock', db: cd.deps.db });

  route(
    {
      method: 'get',
      path: '/stock',
      access: 'read',
      operationId: 'consoleStock',
      summary: 'Stock per SKU and warehouse, searched by SKU code or name and by warehouse',
      query: levelsQuery,
      responses: PAGE,
    },
    (c, { query }) => levelsPage(c, cd, query),
  );

  route(
    {
      method: 'get',
      path: '/stock/low',
      access: 'read',
      operationId: 'consoleLowStock',
      summary: 'SKUs (and warehouses) below their reorder point now, a page at a time',
      query: z.object({ cursor: z.string().max(200).optional() }),
      responses: PAGE,
    },
    (c, { query }) => lowStockPage(c, cd, query),
  );

  route(
    {
      method: 'get',
      path: '/stock/alerts/low',
      access: 'read',
      operationId: 'consoleLowStockAlerts',
      summary: 'Low-stock alerts, newest first, each linking to its SKU',
      query: alertsQuery,
      responses: PAGE,
    },
    (c, { query }) => alertsPage(c, cd, query),
  );

  for (const kind of ['receipt', 'adjustment', 'transfer'] as const) {
    const doc = DOCUMENTS[kind];
    route(
      {
        method: 'get',
        path: `/stock/new/${kind}`,
        access: 'operate',
        operationId: `${doc.operationId}Form`,
        summary: `The form: ${doc.summary.toLowerCase()}`,
        query: documentQuery,
        responses: PAGE,
      },
      (c, { query }) =>
        documentPage(c, cd, kind, { sku: query.sku || undefined, warehouse: query.warehouse || undefined }),
    );

    route(
      {
        method: 'post',
        path: `/stock/new/${kind}`,
        access: 'operate',
        operationId: doc.operationId,
        summary: doc.summary,
        upload: FORM_UPLOAD,
        responses: FORM_ANSWERS,
        audit: { entity: 'stock' },
      },
      async (c) => {
        const form = await readForm(c, doc.schema, kind === 'adjustment' ? keyedBy('reference') : undefined);
        if (!form.ok)
          return documentPage(c, cd, kind, { status: 422, errors: form.errors, values: form.values });
        return recordAndAnswer(c, cd, kind, form.data, form.values);
      },
    );
  }

  route(
    {
      method: 'get',
      path: '/stock/:sku',
      access: 'read',
      operationId: 'consoleSkuStock',
      summary: 'A SKU: its stock per warehouse, its ledger (paged, newest first), what each channel was told',
      params: skuParams,
      query: skuPageQuery,
      responses: PAGE,
      errors: [404],
    },
    (c, { params, query }) => skuPage(c, cd, params.sku, query),
  );

  route(
    {
      method: 'post',
      path: '/stock/:sku/warehouses/:warehouse/reorder-point',
      access: 'operate',
      operationId: 'consoleSetWarehouseReorderPoint',
      summary: "Set (or clear, left empty) a SKU's reorder point in one warehouse",
      params: reorderParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such SKU', contentType: HTML } },
      audit: { entity: 'stock' },
    },
    async (c, { params }) => {
      const form = await readForm(c, reorderPointBody);
      const { locale } = viewer(c);
      if (!form.ok)
        return skuPage(
          c,
          cd,
          params.sku,
          {},
          { status: 422, reorder: { warehouse: params.warehouse, errors: form.errors, values: form.values } },
        );
      try {
        await setWarehouseReorderPoint(cd.deps.db, params.sku, params.warehouse, form.data.reorderPoint);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        return skuPage(
          c,
          cd,
          params.sku,
          {},
          {
            status: e.status === 409 ? 409 : 422,
            error: refusalMessage(locale, e.code, e.message),
            reorder: {
              warehouse: params.warehouse,
              errors: { reorderPoint: [e.message] },
              values: form.values,
            },
          },
        );
      }
      return doneTo(
        c,
        `/console/stock/${encodeURIComponent(params.sku)}`,
        T[locale].reorderSet(params.sku, params.warehouse),
      );
    },
  );

  app.route('/', groupTransferPages(cd));
  return app;
}

/** Records a parsed document through the stock service; a refusal shows the form again, each problem beside its field. */
async function recordAndAnswer(
  c: Context<AppEnv>,
  cd: ConsoleDeps,
  kind: DocumentKind,
  data: z.output<typeof receiptBody> | z.output<typeof adjustmentBody> | z.output<typeof transferBody>,
  values: FormObject,
) {
  const { locale } = viewer(c);
  const t = T[locale];
  let result: StockDocumentResult;
  try {
    result = await recordDocument(cd, kind, data);
  } catch (err) {
    const e = errorOf(err);
    if (!e) throw err;
    return documentPage(c, cd, kind, {
      status: e.status === 409 ? 409 : 422,
      error: `${t.refused} ${refusalMessage(locale, e.code, e.message)}`,
      errors: refusalErrors(kind, locale, e.code, e.details, data),
      values,
    });
  }
  c.set('auditEntityId', result.documentId);
  const reference = 'reference' in data && data.reference ? data.reference : String(result.documentId);
  const notice = result.duplicate
    ? t.duplicate(reference)
    : `${kind === 'adjustment' ? t.adjusted : t.recorded(reference)}${
        result.filledOrders.length ? t.filled(result.filledOrders.length) : ''
      }`;
  return doneTo(c, afterDocument(kind, data), notice);
}
