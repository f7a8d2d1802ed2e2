import { Hono } from 'hono';
import { z } from 'zod';
import type { Conn } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { conflict } from '../../errors/domain-errors.js';
import {
  createMailInbox,
  getMailInbox,
  listMailInboxes,
  mailInboxView,
  updateMailInbox,
} from '../../inbox/mail-inbox-store.js';
import { listMailMessages, releaseHeldMessage } from '../../inbox/mail-messages.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
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

/**
 * Mail inboxes (orders by e-mail): `/api/mail-inboxes` to configure the IMAP mailboxes the worker
 * reads. The password is write-only: answers say `passwordSet` and nothing more.
 */
export function mailInboxRoutes(db: Conn, secretKey: Buffer) {
  const app = new Hono<AppEnv>();
  const inboxId = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(idParam, c.req.param('id'), 'mail inbox id');

  app.post('/mail-inboxes', async (c) => {
    const body = await readJson(c, createMailInboxBody);
    const inbox = await createMailInbox(db, secretKey, body);
    return c.json(await mailInboxView(db, inbox), 201);
  });

  app.get('/mail-inboxes', async (c) => {
    const list = await listMailInboxes(db, secretKey);
    return c.json({ items: await Promise.all(list.map((i) => mailInboxView(db, i))) });
  });

  app.get('/mail-inboxes/:id', async (c) =>
    c.json(await mailInboxView(db, await getMailInbox(db, secretKey, inboxId(c)))),
  );

  app.patch('/mail-inboxes/:id', async (c) => {
    const id = inboxId(c);
    const body = await readJson(c, updateMailInboxBody);
    return c.json(await mailInboxView(db, await updateMailInbox(db, secretKey, id, body)));
  });

  // As with channels: an inbox is disabled, not forgotten; the messages it took stay on record.
  app.delete('/mail-inboxes/:id', async (c) =>
    c.json(await mailInboxView(db, await updateMailInbox(db, secretKey, inboxId(c), { enabled: false }))),
  );

  app.get('/mail-inboxes/:id/messages', async (c) => {
    const id = inboxId(c);
    const q = parseParam(messagesQuery, c.req.query(), 'query');
    await getMailInbox(db, secretKey, id);
    return c.json({ items: await listMailMessages(db, id, q.state) });
  });

  // A held message (unknown sender) taken again by the next poll, once its sender is a contact.
  app.post('/mail-inboxes/:id/messages/:messageId/retry', async (c) => {
    const id = inboxId(c);
    const messageId = parseParam(idParam, c.req.param('messageId'), 'message id');
    await getMailInbox(db, secretKey, id);
    if (!(await releaseHeldMessage(db, id, messageId)))
      throw conflict('not_held', `message ${messageId} of mail inbox ${id} is not held`);
    return c.json({ id: messageId, state: 'processing' });
  });

  return app;
}
