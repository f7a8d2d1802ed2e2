import { z } from 'zod';
import { customerIdByCode } from '../../billing/statements.js';
import type { Db } from '../../db/connection.js';
import { LIMITS, languageSchema } from '../../domain/order-input.js';
import { NotFoundError, unprocessable } from '../../errors/domain-errors.js';
import { documentDelivery, setDocumentDelivery } from '../../notify/documents.js';
import { ALL_EVENTS, NOTIFICATION_EVENTS, type NotificationEvent } from '../../notify/events.js';
import {
  createRule,
  deleteRule,
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
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';

export interface NotificationRoutesDeps {
  db: Db;
  /** Template overrides (`STOCKBRIDGE_TEMPLATES_DIR`); null: built-ins only. */
  templatesDir?: string | null;
  statusLink?: StatusLink;
}

/** Where a preview shows the customer's status page link: not a working link. */
export const PREVIEW_STATUS_LINK = 'https://status-link.invalid/status/preview';

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

export const deliveryBody = z
  .object({
    email: z.boolean(),
    billingEmail: z.email('must be an e-mail address').max(LIMITS.emailLength).nullable().optional(),
  })
  .strict();

const time = z.string().describe('UTC, ISO 8601');
const languageAnswer = z.enum(['zh-CN', 'en']);
const mediumSchema = z.enum(['email', 'sms', 'webhook']);

/** Who a rule tells, as stored (defaults filled in). */
const recipientAnswer = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('contact'), medium: z.enum(['email', 'sms']) }),
    z.object({ type: z.literal('email'), address: z.string(), language: languageAnswer }),
    z.object({ type: z.literal('role'), role: z.string() }),
    z.object({ type: z.literal('phone'), number: z.string(), language: languageAnswer }),
    z.object({ type: z.literal('webhook'), endpointId: z.number().int() }),
  ])
  .meta({ id: 'NotificationRecipient' });

const notificationRule = z
  .object({
    id: z.number().int(),
    name: z.string().optional(),
    event: z.enum(NOTIFICATION_EVENTS),
    filters: z.object({
      channel: z.string().optional(),
      customerGroup: z.string().optional(),
      holdReason: z.string().optional(),
    }),
    recipients: z.array(recipientAnswer),
    enabled: z.boolean(),
    defaultKey: z.string().nullable().describe('the default rule it was made as (null: made by a person)'),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'NotificationRule' });

const roleAddress = z.object({ address: z.string(), language: languageAnswer }).meta({ id: 'RoleAddress' });

/** A notification as the API shows it (its data and lease stay inside). */
export const notificationAnswer = z
  .object({
    id: z.number().int(),
    event: z.string(),
    medium: mediumSchema,
    recipient: z.string(),
    orderId: z.number().int().nullable(),
    ruleId: z.number().int().nullable(),
    language: languageAnswer,
    state: z.enum(['pending', 'sent', 'failed', 'suppressed']),
    reason: z.string().nullable(),
    attempts: z.number().int(),
    nextAttemptAt: time.nullable().describe('pending: when it is tried next'),
    messageId: z.string(),
    subject: z.string().nullable(),
    providerAnswer: z.string().nullable(),
    sentAt: time.nullable(),
    createdAt: time,
  })
  .meta({ id: 'Notification' });

const previewAnswer = z
  .object({
    event: z.string(),
    language: languageAnswer,
    medium: mediumSchema,
    subject: z.string(),
    text: z.string(),
    html: z.string().nullable().describe('e-mail only'),
  })
  .meta({ id: 'NotificationPreview' });

const suppressionAnswer = z
  .object({
    medium: mediumSchema,
    recipient: z.string(),
    reason: z.string(),
    notificationId: z.number().int().nullable(),
    at: time,
  })
  .meta({ id: 'NotificationSuppression' });

const documentDeliveryAnswer = z
  .object({
    customer: z.string().describe('customer code'),
    email: z.boolean().describe('invoices, credit notes and statements are e-mailed'),
    since: time.nullable(),
    billingEmail: z.string().nullable(),
    sendsTo: z.string().nullable().describe('the billing e-mail, else the e-mail'),
  })
  .meta({ id: 'DocumentDelivery' });

const ruleParams = z.object({ id: idParam.describe('rule id') });
const roleParams = z.object({
  role: z
    .string()
    .regex(/^[a-z0-9_.-]{1,64}$/, 'lower-case letters, digits and _ . - only')
    .describe('role'),
});
const customerParams = z.object({ code: codeParam.describe('customer code') });

/** Notification rules, staff roles, the notifications themselves, previews and document delivery. */
export function notificationRoutes(deps: NotificationRoutesDeps) {
  const { db } = deps;
  const templates = new Templates(deps.templatesDir ?? null);
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Notifications', entity: 'notification_rule', db });
  const loadRule = async ({ params }: { params: Record<string, unknown> }) => {
    try {
      return await getRule(db, params.id as number);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };

  route(
    {
      method: 'get',
      path: '/notification-rules',
      access: 'read',
      operationId: 'listNotificationRules',
      summary:
        'Every notification rule (the defaults of a fresh install included: the daemon adds them when it starts)',
      responses: {
        200: { description: 'The rules', schema: z.object({ items: z.array(notificationRule) }) },
      },
    },
    async (c) => c.json({ items: await listRules(db) }),
  );

  route(
    {
      method: 'post',
      path: '/notification-rules',
      access: 'admin',
      operationId: 'createNotificationRule',
      summary: 'Add a notification rule',
      body: ruleBody,
      responses: { 201: { description: 'The rule', schema: notificationRule } },
    },
    async (c, { body }) => c.json(await createRule(db, body), 201),
  );

  route(
    {
      method: 'get',
      path: '/notification-rules/:id',
      access: 'read',
      operationId: 'getNotificationRule',
      summary: 'One notification rule',
      params: ruleParams,
      responses: { 200: { description: 'The rule', schema: notificationRule } },
      errors: [404],
    },
    async (c, { params }) => c.json(await getRule(db, params.id)),
  );

  route(
    {
      method: 'put',
      path: '/notification-rules/:id',
      access: 'admin',
      operationId: 'updateNotificationRule',
      summary: 'Replace a notification rule',
      params: ruleParams,
      body: ruleBody,
      responses: { 200: { description: 'The rule now', schema: notificationRule } },
      errors: [404],
      audit: { load: loadRule },
    },
    async (c, { params, body }) => c.json(await updateRule(db, params.id, body)),
  );

  route(
    {
      method: 'delete',
      path: '/notification-rules/:id',
      access: 'admin',
      operationId: 'deleteNotificationRule',
      summary: 'Delete a notification rule (a default one stays deleted)',
      params: ruleParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404],
      audit: { load: loadRule },
    },
    async (c, { params }) => {
      await deleteRule(db, params.id);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/notification-roles',
      access: 'read',
      operationId: 'listNotificationRoles',
      summary: 'The staff roles rules can name, with their addresses',
      responses: {
        200: {
          description: 'Addresses by role',
          schema: z.object({ roles: z.record(z.string(), z.array(roleAddress)) }),
        },
      },
    },
    async (c) => c.json({ roles: await listRoles(db) }),
  );

  route(
    {
      method: 'put',
      path: '/notification-roles/:role',
      access: 'admin',
      operationId: 'setNotificationRole',
      summary: "Replace a staff role's addresses",
      params: roleParams,
      body: roleBody,
      responses: {
        200: {
          description: 'The role now',
          schema: z.object({ role: z.string(), addresses: z.array(roleAddress) }),
        },
      },
      audit: {
        entity: 'notification_role',
        load: async ({ params }) => ({ addresses: (await listRoles(db))[params.role as string] ?? [] }),
      },
    },
    async (c, { params, body }) =>
      c.json({ role: params.role, addresses: await putRole(db, params.role, body.addresses) }),
  );

  route(
    {
      method: 'get',
      path: '/notifications',
      access: 'read',
      operationId: 'listNotifications',
      summary: 'The notifications, newest first',
      query: listQuery,
      responses: {
        200: {
          description: 'A page of notifications',
          schema: z.object({ items: z.array(notificationAnswer), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query: q }) => {
      const { items, nextId } = await listNotifications(
        db,
        { orderId: q.order, state: q.state, event: q.event, limit: q.limit },
        readCursor(q.cursor),
      );
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'post',
      path: '/notifications/preview',
      access: 'read',
      operationId: 'previewNotification',
      summary: 'Render the message of an event, as it would be sent (nothing is sent)',
      body: previewBody,
      responses: { 200: { description: 'The message', schema: previewAnswer } },
      errors: [404],
      audit: false,
    },
    async (c, { body }) => {
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
        // The real link is a credential (and asking for it may write the order's nonce): a preview
        // shows a fixed placeholder where the link goes.
        deps.statusLink ? async () => PREVIEW_STATUS_LINK : undefined,
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
    },
  );

  route(
    {
      method: 'get',
      path: '/notification-suppressions',
      access: 'read',
      operationId: 'listNotificationSuppressions',
      summary: 'Addresses that failed for good: nothing is sent to them (newest first, at most 1000)',
      responses: {
        200: { description: 'The suppressions', schema: z.object({ items: z.array(suppressionAnswer) }) },
      },
    },
    async (c) => c.json({ items: await listSuppressions(db) }),
  );

  route(
    {
      method: 'delete',
      path: '/notification-suppressions/:medium/:recipient',
      access: 'operate',
      operationId: 'liftNotificationSuppression',
      summary: 'Send to an address again',
      params: z.object({
        medium: mediumSchema.describe('medium'),
        recipient: z.string().min(1).max(255).describe('recipient'),
      }),
      responses: { 204: { description: 'Lifted' } },
      errors: [422],
      audit: { entity: 'notification_suppression' },
    },
    async (c, { params: { medium, recipient } }) => {
      const n = await unsuppress(db, medium, medium === 'email' ? recipient.toLowerCase() : recipient);
      if (n === 0) throw unprocessable('not_suppressed', `${recipient} is not suppressed`);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/customers/:code/document-delivery',
      access: 'read',
      operationId: 'getDocumentDelivery',
      summary: "Whether a customer's invoices, credit notes and statements are e-mailed, and where",
      params: customerParams,
      responses: { 200: { description: 'The delivery', schema: documentDeliveryAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await documentDelivery(db, await customerIdByCode(db, params.code))),
  );

  route(
    {
      method: 'put',
      path: '/customers/:code/document-delivery',
      access: 'finance',
      operationId: 'setDocumentDelivery',
      summary: "Set whether a customer's documents are e-mailed, and the billing address",
      params: customerParams,
      body: deliveryBody,
      responses: { 200: { description: 'The delivery now', schema: documentDeliveryAnswer } },
      errors: [404],
      audit: {
        entity: 'customer',
        load: async ({ params }) => {
          const id = await customerIdByCode(db, params.code as string).catch((err) => {
            if (err instanceof NotFoundError) return null;
            throw err;
          });
          return id === null ? null : documentDelivery(db, id);
        },
      },
    },
    async (c, { params, body }) =>
      c.json(await setDocumentDelivery(db, await customerIdByCode(db, params.code), body)),
  );

  return app;
}
