/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { z } from 'zod';
import { orderInputSchema } from '../../domain/order-input.js';
import type { AppEnv } from '../../http/env.js';
import { actorOf, newRoutes, routeRegistrar } from '../../http/openapi.js';
import { idParam } from '../../http/params.js';
import { decisionBody } from '../../http/routes/credit.js';
import { cancelBody, shipmentBody } from '../../http/routes/orders.js';
import { approveAndProcess, rejectOrder } from '../../orders/approvals.js';
import { cancelOrderByStaff, releaseOrder, shipOrder } from '../../orders/index.js';
import { apiOrderDelivery } from '../../orders/intake.js';
import { quoteOrder } from '../../orders/quote.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, viewer } from '../context.js';
import {
  detailsToFieldErrors,
  FORM_UPLOAD,
  type FormObject,
  formValues,
  parseFormValues,
  valueAt,
} from '../forms.js';
import { type OrderForm, orderPage } from '../orders/detail.js';
import { consoleOrderQuery, orderListPage } from '../orders/list.js';
import { FORM_KEY, newOrderPage, phoneOrderBody } from '../orders/new-order.js';
import { T } from '../orders/texts.js';

const orderIdParams = z.object({ id: idParam.describe('order id') });

const LIST_ANSWERS = {
  ...PAGE,
  422: { description: 'A filter is not valid: the page again, the problem beside it', contentType: HTML },
};

/**
 * The ship form: a row per reserved line, prefilled; rows left empty or 0 are not shipped. Problems
 * of the rows kept are keyed back to the row the page showed.
 */
function shipForm(values: FormObject) {
  const raw = values.lines;
  const rows =
    raw && typeof raw === 'object' && !(raw instanceof File)
      ? Array.isArray(raw)
        ? raw.map((v, i) => [String(i), v] as const)
        : Object.entries(raw).sort(([a], [b]) => Number(a) - Number(b))
      : [];
  const kept = rows.filter(([, r]) => {
    const q = r && typeof r === 'object' && !(r instanceof File) && !Array.isArray(r) ? r.quantity : '';
    return typeof q === 'string' && q.trim() !== '' && q.trim() !== '0';
  });
  const result = parseFormValues(shipmentBody, values, (v) => ({
    ...v,
    lines: kept.map(([, r]) => r),
  }));
  if (result.ok) return result;
  const errors: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(result.errors)) {
    const m = /^lines\.(\d+)\.(.*)$/.exec(key);
    const shown = m ? `lines.${kept[Number(m[1])]?.[0] ?? m[1]}.${m[2]}` : key;
    errors[shown] = messages;
  }
  return { ...result, errors };
}

/** The console's orders pages (issue 19): the list, an order with its actions, the phone order. */
export function orderPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'order', db: cd.deps.db });
  const { db, enqueueOrders } = cd.deps;

  route(
    {
      method: 'get',
      path: '/orders',
      access: 'read',
      operationId: 'consoleOrders',
      summary: 'Orders: search by channel, external id, customer, status and day placed; newest first',
      query: consoleOrderQuery,
      parse: false,
      responses: LIST_ANSWERS,
    },
    (c) => orderListPage(c, cd),
  );

  // The phone order page (before `/orders/:id`, which takes digits only).
  route(
    {
      method: 'get',
      path: '/orders/new',
      access: 'operate',
      operationId: 'consoleNewOrder',
      summary: 'A new order taken by phone, with a live quote',
      responses: PAGE,
    },
    (c) => newOrderPage(c),
  );

  route(
    {
      method: 'post',
      path: '/orders/new/quote',
      access: 'operate_finance',
      operationId: 'consoleQuoteOrder',
      summary: 'The phone order form checked without script: the quote on the page',
      upload: FORM_UPLOAD,
      responses: {
        200: { description: 'The form again, with the quote', contentType: HTML },
        422: FORM_ANSWERS[422]!,
      },
      audit: false,
    },
    async (c) => {
      const values = await formValues(c);
      const form = parseFormValues(orderInputSchema, values, phoneOrderBody);
      if (!form.ok) return newOrderPage(c, { status: 422, errors: form.errors, values: form.values });
      try {
        return newOrderPage(c, { values: form.values, quote: await quoteOrder(db, form.data) });
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return newOrderPage(c, {
          status: 422,
          error: e.message,
          errors: detailsToFieldErrors(e.details),
          values: form.values,
        });
      }
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/new',
      access: 'operate',
      operationId: 'consolePlaceOrder',
      summary: 'Place a phone order (as POST /api/orders; the form key is its Idempotency-Key)',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
      audit: { entity: 'order' },
    },
    async (c) => {
      const { locale } = viewer(c);
      const values = await formValues(c);
      const key = valueAt(values, 'formKey');
      const form = parseFormValues(orderInputSchema, values, phoneOrderBody);
      if (!FORM_KEY.test(key)) {
        // Without its key a repeat could not be told from a new order: the form is shown again, with a new key.
        return newOrderPage(c, {
          status: 422,
          error: T[locale].noFormKey,
          values: { ...form.values, formKey: '' },
          errors: form.ok ? undefined : form.errors,
        });
      }
      if (!form.ok) return newOrderPage(c, { status: 422, errors: form.errors, values: form.values });
      try {
        const result = await cd.intake.submit(
          apiOrderDelivery(form.data, JSON.stringify(form.data), key, actorOf(c)),
        );
        c.set('auditEntityId', result.orderId);
        return doneTo(
          c,
          `/console/orders/${result.orderId}`,
          result.created ? T[locale].placed(result.orderId) : T[locale].alreadyPlaced(result.orderId),
        );
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return newOrderPage(c, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          errors: detailsToFieldErrors(e.details),
          values: form.values,
        });
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/orders/:id',
      access: 'read',
      operationId: 'consoleOrder',
      summary: 'An order: facts, lines, history, shipments, notifications, returns; its actions',
      params: orderIdParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => orderPage(c, cd, params.id),
  );

  /** Runs an action's change; a refused one shows the order again with the reason. */
  const act = async (
    c: Context<AppEnv>,
    id: number,
    form: OrderForm,
    values: FormObject,
    change: () => Promise<string>,
  ) => {
    let notice: string;
    try {
      notice = await change();
    } catch (err) {
      const e = errorOf(err);
      if (!e) throw err;
      if (e.status === 404) throw err;
      return orderPage(c, cd, id, {
        status: e.status === 409 ? 409 : 422,
        error: `${T[viewer(c).locale].notDone} ${e.message}`,
        form,
        errors: detailsToFieldErrors(e.details),
        values,
      });
    }
    return doneTo(c, `/console/orders/${id}`, notice);
  };

  const actionSpec = (path: string, operationId: string, summary: string, access: 'operate' | 'finance') => ({
    method: 'post' as const,
    path: `/orders/:id/${path}`,
    access,
    operationId,
    summary,
    params: orderIdParams,
    upload: FORM_UPLOAD,
    responses: FORM_ANSWERS,
    errors: [404],
    audit: { entity: 'order' },
  });

  route(
    actionSpec('release', 'consoleReleaseOrder', 'Release a held order: it is processed again', 'operate'),
    async (c, { params }) => {
      const values = await formValues(c);
      return act(c, params.id, 'release', values, async () => {
        await releaseOrder(db, params.id, actorOf(c), enqueueOrders);
        return T[viewer(c).locale].released;
      });
    },
  );

  for (const [path, operationId, summary, form] of [
    ['approve', 'consoleApproveOrder', 'Approve an order held for credit (with a reason)', 'approve'],
    ['reject', 'consoleRejectOrder', 'Reject a held order (with a reason)', 'reject'],
  ] as const) {
    route(actionSpec(path, operationId, summary, 'finance'), async (c, { params }) => {
      const values = await formValues(c);
      const parsed = parseFormValues(decisionBody, values);
      if (!parsed.ok)
        return orderPage(c, cd, params.id, { status: 422, form, errors: parsed.errors, values });
      return act(c, params.id, form, values, async () => {
        const t = T[viewer(c).locale];
        if (form === 'approve') {
          await approveAndProcess(db, params.id, parsed.data.reason, actorOf(c), enqueueOrders);
          return t.approved;
        }
        await rejectOrder(db, params.id, parsed.data.reason, actorOf(c));
        return t.rejected;
      });
    });
  }

  route(
    actionSpec(
      'ship',
      'consoleShipOrder',
      'Record a shipment: lines and quantities, carrier, tracking',
      'operate',
    ),
    async (c, { params }) => {
      const values = await formValues(c);
      const parsed = shipForm(values);
      if (!parsed.ok)
        return orderPage(c, cd, params.id, { status: 422, form: 'ship', errors: parsed.errors, values });
      // The newest shipment the form was shown with: the same form posted twice ships once.
      const seen = /^\d{1,15}$/.exec(valueAt(values, 'lastShipment').trim());
      if (!seen)
        return orderPage(c, cd, params.id, {
          status: 422,
          form: 'ship',
          error: T[viewer(c).locale].noFormKey,
          values,
        });
      return act(c, params.id, 'ship', values, async () => {
        const result = await shipOrder(db, params.id, parsed.data, actorOf(c), {
          lastShipmentId: Number(seen[0]),
        });
        return T[viewer(c).locale].shippedNotice(result.shipmentId);
      });
    },
  );

  route(
    actionSpec('cancel', 'consoleCancelOrder', 'Cancel an order (with a reason)', 'operate'),
    async (c, { params }) => {
      const values = await formValues(c);
      const parsed = parseFormValues(cancelBody, values);
      if (!parsed.ok)
        return orderPage(c, cd, params.id, { status: 422, form: 'cancel', errors: parsed.errors, values });
      return act(c, params.id, 'cancel', values, async () => {
        await cancelOrderByStaff(db, params.id, parsed.data.reason, actorOf(c));
        return T[viewer(c).locale].cancelledNotice;
      });
    },
  );

  return app;
}
