import { z } from 'zod';
import { listAudit } from '../../audit/audit-query.js';
import type { Db } from '../../db/connection.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';

const auditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string().describe('`admin` (bootstrap token), a user’s e-mail, or `token:<name>`'),
    actorKind: z.string().describe('bootstrap, token or session'),
    actorRole: z.string(),
    userId: z.number().int().nullable(),
    tokenId: z.number().int().nullable(),
    method: z.string(),
    route: z.string(),
    operation: z.string(),
    entity: z.string(),
    entityId: z.string().nullable(),
    status: z.number().int(),
    request: z.unknown().describe('the request body, secrets redacted'),
    before: z.unknown().describe('settings before the change, secrets redacted'),
    after: z.unknown().describe('settings after the change, secrets redacted'),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

/** `GET /api/audit`: who changed what and when (admin). */
export function auditRoutes({ db }: { db: Db }) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Audit', entity: 'audit', db });
  route(
    {
      method: 'get',
      path: '/audit',
      access: 'admin',
      operationId: 'listAudit',
      summary: 'The audit log, newest first',
      query: z.object({
        entity: z.string().max(64).optional().describe('user, token, session, channel, order, ...'),
        actor: z.string().max(255).optional(),
        entityId: z.string().max(191).optional(),
        ...pageQuery,
      }),
      responses: {
        200: {
          description: 'A page of entries',
          schema: z.object({ items: z.array(auditEntry), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const { items, nextId } = await listAudit(db, {
        entity: query.entity,
        actor: query.actor,
        entityId: query.entityId,
        beforeId: readCursor(query.cursor),
        limit: query.limit,
      });
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );
  return app;
}
