import { z } from 'zod';
import type { Authenticator } from '../../auth/authenticator.js';
import { type Principal, roleCovers } from '../../auth/roles.js';
import { createToken, getToken, listTokens, revokeToken } from '../../auth/token-store.js';
import type { Db } from '../../db/connection.js';
import { ApiError } from '../../errors/api-error.js';
import { notFound, unprocessable } from '../../errors/domain-errors.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import { apiTokenSchema, createdTokenSchema, newTokenBody } from './auth-schemas.js';

/** API tokens: anyone makes and revokes their own; admins see and revoke all and make service tokens. */
export function tokenRoutes({ db, auth }: { db: Db; auth: Authenticator }) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Tokens', entity: 'token', db });

  route(
    {
      method: 'post',
      path: '/tokens',
      access: 'read',
      operationId: 'createToken',
      summary: 'Make an API token (the token is in this answer only)',
      description:
        'A token gets at most the role of the one who makes it. Service tokens (no user) are made by admins only. Tokens are made from a session or with the bootstrap token, never with another API token (403).',
      body: newTokenBody,
      responses: { 201: { description: 'Made; keep the token now', schema: createdTokenSchema } },
    },
    async (c, { body }) => {
      const made = await makeToken(db, c.get('principal')!, body);
      c.header('Cache-Control', 'no-store');
      return c.json(made, 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/tokens',
      access: 'read',
      operationId: 'listTokens',
      summary: 'API tokens, newest first: yours, or every one for an admin (never the secret)',
      query: z.object(pageQuery),
      responses: {
        200: {
          description: 'A page of tokens',
          schema: z.object({ items: z.array(apiTokenSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const p = c.get('principal')!;
      const { items, nextId } = await listTokens(db, {
        userId: p.role === 'admin' ? undefined : (p.userId ?? -1),
        beforeId: readCursor(query.cursor),
        limit: query.limit,
      });
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'delete',
      path: '/tokens/:id',
      access: 'read',
      operationId: 'revokeToken',
      summary: 'Revoke a token (your own; an admin any)',
      description: 'Other api processes may accept it for a few more seconds (their token cache).',
      params: z.object({ id: idParam.describe('token id') }),
      responses: { 200: { description: 'The token, revoked', schema: apiTokenSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await revokeTokenAs(db, auth, c.get('principal')!, params.id)),
  );

  return app;
}

/**
 * Makes a token for the caller (the API's `POST /tokens`, the console's settings): from a session or
 * the bootstrap token only, a service token by an admin only, at most the caller's role.
 */
export async function makeToken(db: Db, p: Principal, body: z.output<typeof newTokenBody>) {
  // A leaked token must not mint a sibling that outlives its revocation: tokens are made from a
  // session (a logged-in user) or with the bootstrap token only.
  if (p.kind === 'token') {
    throw new ApiError(
      403,
      'forbidden',
      'an API token cannot make tokens; log in, or use the bootstrap token',
    );
  }
  const service = body.service ?? p.userId === null;
  if (service && p.role !== 'admin') {
    throw new ApiError(403, 'forbidden', 'only an admin may make a service token');
  }
  if (!service && p.userId === null) {
    throw unprocessable(
      'no_user',
      'this credential belongs to no user; make a service token (service: true)',
    );
  }
  if (!roleCovers(p.role, body.role)) {
    throw new ApiError(403, 'forbidden', `a token may not have a role above yours (${p.role})`, {
      role: p.role,
      wanted: body.role,
    });
  }
  const { token, record } = await createToken(db, {
    name: body.name,
    role: body.role,
    userId: service ? null : p.userId,
    createdBy: p.actor,
    creatorUserId: p.userId,
  });
  return { ...record, token };
}

/** Revokes a token: the caller's own, or any for an admin (the API's `DELETE /tokens/{id}`). */
export async function revokeTokenAs(db: Db, auth: Authenticator, p: Principal, id: number) {
  const token = await getToken(db, id);
  if (!token) throw notFound(`token ${id}`);
  if (p.role !== 'admin' && (p.userId === null || token.userId !== p.userId)) {
    throw new ApiError(403, 'forbidden', 'you may revoke your own tokens only');
  }
  const revoked = await revokeToken(db, id);
  auth.clearCache();
  return revoked;
}
