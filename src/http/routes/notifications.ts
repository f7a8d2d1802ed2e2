import { Hono } from 'hono';
import { z } from 'zod';
import { customerIdByCode } from '../../billing/statements.js';
import type { Db } from '../../db/connection.js';
import { LIMITS, languageSchema } from '../../domain/order-input.js';
import { unprocessable } from '../../errors/domain-errors.js';
import { documentDelivery, setDocumentDelivery } from '../../notify/documents.js';
import { ALL_EVENTS, type NotificationEvent } from '../../notify/events.js';
import {
  createRule,
  deleteRule,
  ensureDefaultRules,
  getRule,
  listRoles,
  listRules,
  putRole,
  roleBody,
  ruleBody,
  updateRule,
} from '../../notify/rules.js';
import { listNotifications, listSuppressions, unsuppress } from '../../notify/store.js';
import { type StatusLink, templateData } from '../../notify/template-data.js';
import { Templates } from '../../notify/templates.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';

export interface NotificationRoutesDeps {
  db: Db;
  /** Template overrides (`STOCKBRIDGE_TEMPLATES_DIR`); null: built-ins only. */
  templatesDir?: string | null;
  statusLink?: StatusLink;
}

const listQuery = z.object({
  order: idParam.optional(),
  state: z.enum(['pending', 'sent', 'failed', 'suppressed']).optional(),
  event: z.string().max(48).optional(),
  ...pageQuery,
});

const previewBody = z
  .object({
    event: z.enum(ALL_EVENTS as unknown as [NotificationEvent, ...NotificationEvent[]]),
    orderId: z.number().int().positive().optional(),
    language: languageSchema.default('en'),
    medium: z.enum(['email', 'sms', 'webhook']).default('email'),
    /** What a non-order event carries (a job's name and error, a finding, a document's number …). */
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const deliveryBody = z
  .object({
    email: z.boolean(),
    billingEmail: z.email('must be an e-mail address').max(LIMITS.emailLength).nullable().optional(),
  })
  .strict();

/** Notification rules, staff roles, the notifications themselves, previews and document delivery. */
export function notificationRoutes(deps: NotificationRoutesDeps) {
  const { db } = deps;
  const templates = new Templates(deps.templatesDir ?? null);
  const app = new Hono<AppEnv>();
  const ruleId = (c: { req: { param(n: string): string | undefined } }) =>
    parseParam(idParam, c.req.param('id'), 'rule id');
  let defaults = false;
  const withDefaults = async () => {
    if (!defaults) await ensureDefaultRules(db);
    defaults = true;
  };

  app.get('/notification-rules', async (c) => {
    await withDefaults();
    return c.json({ items: await listRules(db) });
  });
  app.post('/notification-rules', async (c) => {
    const body = await readJson(c, ruleBody);
    return c.json(await createRule(db, body), 201);
  });
  app.get('/notification-rules/:id', async (c) => c.json(await getRule(db, ruleId(c))));
  app.put('/notification-rules/:id', async (c) => {
    const id = ruleId(c);
    const body = await readJson(c, ruleBody);
    return c.json(await updateRule(db, id, body));
  });
  app.delete('/notification-rules/:id', async (c) => {
    await deleteRule(db, ruleId(c));
    return c.body(null, 204);
  });

  app.get('/notification-roles', async (c) => c.json({ roles: await listRoles(db) }));
  app.put('/notification-roles/:role', async (c) => {
    const role = parseParam(
      z.string().regex(/^[a-z0-9_.-]{1,64}$/, 'lower-case letters, digits and _ . - only'),
      c.req.param('role'),
      'role',
    );
    const body = await readJson(c, roleBody);
    return c.json({ role, addresses: await putRole(db, role, body.addresses) });
  });

  app.get('/notifications', async (c) => {
    const q = parseParam(listQuery, c.req.query(), 'query');
    const { items, nextId } = await listNotifications(
      db,
      { orderId: q.order, state: q.state, event: q.event, limit: q.limit },
      readCursor(q.cursor),
    );
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.post('/notifications/preview', async (c) => {
    const body = await readJson(c, previewBody);
    if (body.event.startsWith('order.') && body.orderId === undefined)
      throw unprocessable('order_required', `a preview of ${body.event} needs an orderId`);
    let customerId: number | null = null;
    if (body.orderId !== undefined) {
      const o = await db('orders').where({ id: body.orderId }).first('customer_id');
      customerId = o?.customer_id ? Number(o.customer_id) : null;
    }
    const data = await templateData(
      db,
      {
        event: body.event,
        orderId: body.orderId ?? null,
        customerId,
        language: body.language,
        toContact: true,
        data: body.data ?? {},
      },
      deps.statusLink,
    );
    const message = templates.render(body.event, body.language, data);
    return c.json({
      event: body.event,
      language: body.language,
      medium: body.medium,
      subject: message.subject,
      text: message.text,
      html: body.medium === 'email' ? message.html : null,
    });
  });

  app.get('/notification-suppressions', async (c) => c.json({ items: await listSuppressions(db) }));
  app.delete('/notification-suppressions/:medium/:recipient', async (c) => {
    const medium = parseParam(z.enum(['email', 'sms', 'webhook']), c.req.param('medium'), 'medium');
    const recipient = parseParam(z.string().min(1).max(255), c.req.param('recipient'), 'recipient');
    const n = await unsuppress(db, medium, medium === 'email' ? recipient.toLowerCase() : recipient);
    if (n === 0) throw unprocessable('not_suppressed', `${recipient} is not suppressed`);
    return c.body(null, 204);
  });

  app.get('/customers/:code/document-delivery', async (c) => {
    const id = await customerIdByCode(db, parseParam(codeParam, c.req.param('code'), 'customer code'));
    return c.json(await documentDelivery(db, id));
  });
  app.put('/customers/:code/document-delivery', async (c) => {
    const id = await customerIdByCode(db, parseParam(codeParam, c.req.param('code'), 'customer code'));
    const body = await readJson(c, deliveryBody);
    return c.json(await setDocumentDelivery(db, id, body));
  });
  return app;
}
