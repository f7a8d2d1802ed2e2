import { z } from 'zod';
import type { Conn } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { conflict, NotFoundError } from '../../errors/domain-errors.js';
import {
  createMailInbox,
  getMailInbox,
  listMailInboxes,
  mailInboxView,
  updateMailInbox,
} from '../../inbox/mail-inbox-store.js';
import { listMailMessages, releaseHeldMessage } from '../../inbox/mail-messages.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { idParam } from '../params.js';

/** A mailbox folder name as IMAP lists it (`INBOX`, `Orders/Processed`). */
const folderName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[^\r\n*%]+$/, 'no line breaks, * or %');

const host = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address');

const inboxFields = {
  name: z.string().trim().min(1).max(255),
  enabled: z.boolean(),
  host,
  port: z.number().int().min(1).max(65_535),
  tls: z.enum(['tls', 'starttls', 'none']),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024),
  folder: folderName,
  processedFolder: folderName,
  defaultCurrency: currencySchema.nullable(),
};

export const createMailInboxBody = z
  .object({
    ...inboxFields,
    enabled: inboxFields.enabled.default(true),
    port: inboxFields.port.optional(),
    tls: inboxFields.tls.default('tls'),
    folder: folderName.default('INBOX'),
    processedFolder: folderName.default('Processed'),
    defaultCurrency: inboxFields.defaultCurrency.optional(),
  })
  .strict();

export const updateMailInboxBody = z
  .object(inboxFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');

const messagesQuery = z.object({
  state: z.enum(['processing', 'reply_pending', 'replied', 'done', 'held']).optional(),
});

const time = z.string().describe('UTC, ISO 8601');

/** An inbox as answered: the password is write-only, only whether one is set is said. */
const mailInboxAnswer = z
  .object({
    id: z.number().int(),
    name: z.string(),
    enabled: z.boolean(),
    host: z.string(),
    port: z.number().int(),
    tls: z.enum(['tls', 'starttls', 'none']),
    username: z.string(),
    passwordSet: z.boolean().describe('the password itself is never answered'),
    folder: z.string(),
    processedFolder: z.string(),
    defaultCurrency: z.string().nullable(),
    status: z.object({
      lastPollAt: time.nullable(),
      lastError: z.object({ message: z.string(), at: time.nullable() }).nullable(),
      messages: z.record(z.string(), z.number().int()).describe('messages by state'),
    }),
    createdAt: time,
    updatedAt: time,
  })
  .strict()
  .meta({ id: 'MailInbox' });

const mailMessage = z
  .object({
    id: z.number().int(),
    uidValidity: z.number().int(),
    uid: z.number().int(),
    messageId: z.string().nullable(),
    from: z.string().nullable(),
    subject: z.string().nullable(),
    state: z.string().describe('`processing`, `reply_pending`, `replied`, `done` or `held`'),
    outcome: z.string().nullable(),
    customerId: z.number().int().nullable(),
    inboundEventId: z.number().int().nullable(),
    replyMessageId: z.string().nullable(),
    summary: z.unknown().describe('what was read from the attachments (null: nothing yet)'),
    attempts: z.number().int(),
    error: z.string().nullable(),
    receivedAt: time,
    repliedAt: time.nullable(),
    movedAt: time.nullable(),
  })
  .meta({ id: 'MailMessage' });

const inboxParams = z.object({ id: idParam.describe('mail inbox id') });

/**
 * Mail inboxes (orders by e-mail): `/api/mail-inboxes` to configure the IMAP mailboxes the worker
 * reads. The password is write-only: answers say `passwordSet` and nothing more.
 */
export function mailInboxRoutes(db: Conn, secretKey: Buffer) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Mail inboxes', entity: 'mail_inbox', db });
  /** The inbox as answered (no password), for the audit log's before and after; null when there is none. */
  const loadInbox = async ({ params }: { params: Record<string, unknown> }) => {
    try {
      return await mailInboxView(db, await getMailInbox(db, secretKey, params.id as number));
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };

  route(
    {
      method: 'post',
      path: '/mail-inboxes',
      access: 'admin',
      operationId: 'createMailInbox',
      summary: 'Add an IMAP mailbox to read orders from',
      body: createMailInboxBody,
      responses: { 201: { description: 'The inbox', schema: mailInboxAnswer } },
    },
    async (c, { body }) => {
      const inbox = await createMailInbox(db, secretKey, body);
      return c.json(await mailInboxView(db, inbox), 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/mail-inboxes',
      access: 'read',
      operationId: 'listMailInboxes',
      summary: 'Every mail inbox',
      responses: {
        200: { description: 'The inboxes', schema: z.object({ items: z.array(mailInboxAnswer) }) },
      },
    },
    async (c) => {
      const list = await listMailInboxes(db, secretKey);
      return c.json({ items: await Promise.all(list.map((i) => mailInboxView(db, i))) });
    },
  );

  route(
    {
      method: 'get',
      path: '/mail-inboxes/:id',
      access: 'read',
      operationId: 'getMailInbox',
      summary: 'One mail inbox',
      params: inboxParams,
      responses: { 200: { description: 'The inbox', schema: mailInboxAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await mailInboxView(db, await getMailInbox(db, secretKey, params.id))),
  );

  route(
    {
      method: 'patch',
      path: '/mail-inboxes/:id',
      access: 'admin',
      operationId: 'updateMailInbox',
      summary: "Change a mail inbox's settings or password",
      params: inboxParams,
      body: updateMailInboxBody,
      responses: { 200: { description: 'The inbox now', schema: mailInboxAnswer } },
      errors: [404],
      audit: { load: loadInbox },
    },
    async (c, { params, body }) =>
      c.json(await mailInboxView(db, await updateMailInbox(db, secretKey, params.id, body))),
  );

  // As with channels: an inbox is disabled, not forgotten; the messages it took stay on record.
  route(
    {
      method: 'delete',
      path: '/mail-inboxes/:id',
      access: 'admin',
      operationId: 'disableMailInbox',
      summary: 'Disable a mail inbox (the messages it took stay on record)',
      params: inboxParams,
      responses: { 200: { description: 'The inbox, disabled', schema: mailInboxAnswer } },
      errors: [404],
      audit: { load: loadInbox },
    },
    async (c, { params }) =>
      c.json(await mailInboxView(db, await updateMailInbox(db, secretKey, params.id, { enabled: false }))),
  );

  route(
    {
      method: 'get',
      path: '/mail-inboxes/:id/messages',
      access: 'read',
      operationId: 'listMailMessages',
      summary: 'The messages an inbox took, newest first (at most 200)',
      params: inboxParams,
      query: messagesQuery,
      responses: { 200: { description: 'The messages', schema: z.object({ items: z.array(mailMessage) }) } },
      errors: [404],
    },
    async (c, { params, query }) => {
      await getMailInbox(db, secretKey, params.id);
      return c.json({ items: await listMailMessages(db, params.id, query.state) });
    },
  );

  // A held message (unknown sender) taken again by the next poll, once its sender is a contact.
  route(
    {
      method: 'post',
      path: '/mail-inboxes/:id/messages/:messageId/retry',
      access: 'operate',
      operationId: 'retryMailMessage',
      summary: 'Take a held message again at the next poll (once its sender is a contact)',
      params: z.object({ id: idParam.describe('mail inbox id'), messageId: idParam.describe('message id') }),
      responses: {
        200: {
          description: 'Released',
          schema: z.object({ id: z.number().int(), state: z.literal('processing') }),
        },
      },
      errors: [404, 409],
      audit: { entity: 'mail_message' },
    },
    async (c, { params }) => {
      const { id, messageId } = params;
      await getMailInbox(db, secretKey, id);
      if (!(await releaseHeldMessage(db, id, messageId)))
        throw conflict('not_held', `message ${messageId} of mail inbox ${id} is not held`);
      return c.json({ id: messageId, state: 'processing' as const });
    },
  );

  return app;
}
