import { z } from 'zod';
import type { Authenticator } from '../../auth/authenticator.js';
import type { LoginLimiter } from '../../auth/login-limiter.js';
import { verifyPassword } from '../../auth/passwords.js';
import type { Principal } from '../../auth/roles.js';
import { deleteUserSessions, endOtherSessions } from '../../auth/session-store.js';
import {
  createUser,
  getUser,
  listUsers,
  passwordHashOf,
  requireUser,
  updateUser,
} from '../../auth/user-store.js';
import type { Db } from '../../db/connection.js';
import { ApiError } from '../../errors/api-error.js';
import { conflict, unprocessable } from '../../errors/domain-errors.js';
import { clientAddress } from '../client-address.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import {
  newUserBody,
  passwordChangeBody,
  roleSchema,
  sessionsEnded,
  userChangeBody,
  userSchema,
} from './auth-schemas.js';

const meSchema = z
  .object({
    kind: z.enum(['bootstrap', 'token', 'session']),
    role: roleSchema,
    actor: z.string().describe('how the audit log names the caller'),
    tokenId: z.number().int().nullable(),
    user: userSchema.nullable().describe('null for the bootstrap admin token and service tokens'),
    csrfToken: z.string().nullable().describe("a session's CSRF token, for its changes (X-CSRF-Token)"),
  })
  .meta({ id: 'Me' });

const userParams = z.object({ id: idParam.describe('user id') });

/** Users (admin) and the caller's own account (any role): README "Users, roles, tokens and audit". */
export function userRoutes({ db, auth, limiter }: { db: Db; auth: Authenticator; limiter?: LoginLimiter }) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Users', entity: 'user', db });
  const loadUser = async ({ params }: { params: Record<string, unknown> }) =>
    getUser(db, params.id as number);

  route(
    {
      method: 'get',
      path: '/users',
      access: 'admin',
      operationId: 'listUsers',
      summary: 'Users, newest first',
      query: z.object(pageQuery),
      responses: {
        200: {
          description: 'A page of users',
          schema: z.object({ items: z.array(userSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const { items, nextId } = await listUsers(db, {
        beforeId: readCursor(query.cursor),
        limit: query.limit,
      });
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'post',
      path: '/users',
      access: 'admin',
      operationId: 'createUser',
      summary: 'Create a user with a password and a role',
      body: newUserBody,
      responses: { 201: { description: 'Created', schema: userSchema } },
      errors: [409],
    },
    async (c, { body }) => c.json(await createUser(db, body), 201),
  );

  route(
    {
      method: 'get',
      path: '/users/:id',
      access: 'admin',
      operationId: 'getUser',
      summary: 'One user',
      params: userParams,
      responses: { 200: { description: 'The user', schema: userSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await requireUser(db, params.id)),
  );

  route(
    {
      method: 'patch',
      path: '/users/:id',
      access: 'admin',
      operationId: 'updateUser',
      summary: "Change a user's name, role, language, disabled flag, or reset their password",
      description:
        'Disabling a user or resetting their password ends their sessions; a disabled user’s API tokens stop working. An admin cannot disable themselves or give up their own admin role.',
      params: userParams,
      body: userChangeBody,
      responses: { 200: { description: 'The user now', schema: userSchema } },
      errors: [404, 409],
      audit: { load: loadUser },
    },
    async (c, { params, body }) => c.json(await changeUser(db, auth, c.get('principal'), params.id, body)),
  );

  route(
    {
      method: 'post',
      path: '/users/:id/logout-everywhere',
      access: 'admin',
      operationId: 'logoutUserEverywhere',
      summary: 'End every session of a user (their API tokens stay; revoke those separately)',
      params: userParams,
      responses: { 200: { description: 'Sessions ended', schema: sessionsEnded } },
      errors: [404],
      audit: { entity: 'session' },
    },
    async (c, { params }) => {
      await requireUser(db, params.id);
      return c.json({ sessionsEnded: await deleteUserSessions(db, params.id) });
    },
  );

  route(
    {
      method: 'get',
      path: '/me',
      access: 'read',
      operationId: 'getMe',
      summary: 'Who the caller is: role, user, and a session’s CSRF token',
      responses: { 200: { description: 'The caller', schema: meSchema } },
    },
    async (c) => {
      const p = c.get('principal')!;
      return c.json({
        kind: p.kind,
        role: p.role,
        actor: p.actor,
        tokenId: p.tokenId,
        user: p.userId === null ? null : await getUser(db, p.userId),
        csrfToken: c.get('session')?.csrfToken ?? null,
      });
    },
  );

  route(
    {
      method: 'post',
      path: '/me/password',
      access: 'read',
      operationId: 'changeMyPassword',
      summary: 'Change your own password (your other sessions end)',
      body: passwordChangeBody,
      description:
        'From a session only (an API token is refused, 403). Wrong current passwords count against the login limit of your e-mail address and client address (429 with Retry-After beyond it).',
      responses: { 204: { description: 'Changed' } },
      errors: [409, 429],
      audit: { entity: 'user' },
    },
    async (c, { body }) => {
      const p = c.get('principal')!;
      if (p.kind === 'token') {
        throw new ApiError(403, 'forbidden', 'an API token cannot change a password; log in');
      }
      const userId = ownUser(p.userId);
      const user = await requireUser(db, userId);
      const address = clientAddress(c);
      const wait = limiter ? await limiter.attempt(address, user.email) : 0;
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        throw new ApiError(429, 'rate_limited', `too many wrong passwords; try again in ${wait} s`);
      }
      const stored = await passwordHashOf(db, userId);
      if (!stored || !(await verifyPassword(stored, body.currentPassword))) {
        throw unprocessable('wrong_password', 'the current password is not right');
      }
      await limiter?.succeeded(address, user.email);
      await updateUser(db, userId, { password: body.newPassword });
      await endOtherSessions(db, userId, c.get('session')?.id ?? null);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'post',
      path: '/me/logout-everywhere',
      access: 'read',
      operationId: 'logoutMeEverywhere',
      summary: 'End every session of yours, this one too',
      responses: { 200: { description: 'Sessions ended', schema: sessionsEnded } },
      errors: [409],
      audit: { entity: 'session' },
    },
    async (c) => c.json({ sessionsEnded: await deleteUserSessions(db, ownUser(c.get('principal')?.userId)) }),
  );

  return app;
}

/** The caller's user id; the bootstrap admin token and service tokens have none (409). */
function ownUser(userId: number | null | undefined): number {
  if (userId === null || userId === undefined) {
    throw conflict(
      'no_user',
      'this credential belongs to no user (the bootstrap admin token or a service token)',
    );
  }
  return userId;
}

/**
 * Changes a user as an admin (the API's `PATCH /users/{id}`, the console's settings): an admin may
 * not disable themselves or give up their own admin role (409); disabling or a new password ends
 * the user's sessions.
 */
export async function changeUser(
  db: Db,
  auth: Authenticator,
  principal: Principal | undefined,
  id: number,
  body: z.output<typeof userChangeBody>,
) {
  if (principal?.userId === id && (body.disabled === true || (body.role && body.role !== 'admin'))) {
    throw conflict('own_account', 'an admin cannot disable themselves or take away their own admin role');
  }
  const user = await updateUser(db, id, body);
  if (body.disabled === true || body.password !== undefined) await deleteUserSessions(db, id);
  auth.clearCache();
  return user;
}
