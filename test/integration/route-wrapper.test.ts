import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AuditEntry, AuditWriter } from '../../src/audit/audit-log.js';
import type { Principal } from '../../src/auth/roles.js';
import { NotFoundError } from '../../src/errors/domain-errors.js';
import { handleError } from '../../src/http/errors.js';
import { actorHeaders, actorOf, newRoutes, routeRegistrar } from '../../src/http/openapi.js';
import { idempotencyKeyParam, idParam } from '../../src/http/params.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog } from '../helpers/stack.js';

/**
 * Issue 18 review: the route wrapper's audit entry never costs the caller the handler's answer, an
 * optional body that is empty is validated like any body, headers are parsed before the body, and
 * X-Actor is only refused where a route documents it.
 */

let t: TestDatabase;
const bootstrap: Principal = {
  kind: 'bootstrap',
  role: 'admin',
  userId: null,
  tokenId: null,
  actor: 'admin',
};
/** How often the state loader of `/things/:id/settings` has been called, and whether it should fail. */
const loader = { calls: 0, failAfter: false, missingBefore: false };

function testApp() {
  const app = newRoutes();
  app.use('*', async (c, next) => {
    c.set('principal', bootstrap);
    c.set('requestId', 'req-test');
    c.set('log', silentLog);
    await next();
  });
  app.onError(handleError);
  const route = routeRegistrar(app, { tag: 'Things', entity: 'thing', db: t.db });
  const ok = { 200: { description: 'ok', schema: z.object({ ok: z.boolean(), actor: z.string() }) } };

  route(
    {
      method: 'put',
      path: '/things/:id/settings',
      access: 'admin',
      operationId: 'putThingSettings',
      summary: 'test',
      params: z.object({ id: idParam.describe('thing id') }),
      body: z.object({ colour: z.string() }),
      responses: ok,
      errors: [404],
      audit: {
        load: async ({ params }) => {
          loader.calls++;
          if (loader.calls === 1 && loader.missingBefore)
            throw new NotFoundError(`loader: thing ${params.id}`);
          if (loader.calls === 2 && loader.failAfter) throw new Error('database went away');
          return { id: params.id, colour: 'red' };
        },
      },
    },
    async (c, { params }) => {
      if (params.id === 404) throw new NotFoundError(`handler: thing ${params.id}`);
      return c.json({ ok: true, actor: actorOf(c) });
    },
  );

  route(
    {
      method: 'post',
      path: '/things/:id/note',
      access: 'admin',
      operationId: 'noteThing',
      summary: 'test',
      params: z.object({ id: idParam.describe('thing id') }),
      body: z.object({ text: z.string().min(1) }),
      bodyOptional: true,
      responses: ok,
    },
    async (c) => c.json({ ok: true, actor: actorOf(c) }),
  );

  route(
    {
      method: 'post',
      path: '/things/:id/approve',
      access: 'admin',
      operationId: 'approveThing',
      summary: 'test',
      params: z.object({ id: idParam.describe('thing id') }),
      headers: actorHeaders,
      responses: ok,
    },
    async (c) => c.json({ ok: true, actor: actorOf(c) }),
  );

  route(
    {
      method: 'post',
      path: '/things',
      access: 'admin',
      operationId: 'createThing',
      summary: 'test',
      headers: z.object({ 'idempotency-key': idempotencyKeyParam.describe('a repeat') }),
      body: z.object({ name: z.string().min(1) }),
      responses: { 201: { description: 'made', schema: z.object({ key: z.string().nullable() }) } },
      audit: { request: () => undefined },
    },
    async (c, { headers }) => {
      c.set('auditEntityId', 'T-77');
      return c.json({ key: headers['idempotency-key'] ?? null }, 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/pages/:token',
      access: 'public',
      operationId: 'getThingPage',
      summary: 'test',
      params: z.object({ token: z.string().max(8).describe('page token') }),
      query: z.object({ lang: z.enum(['en']).optional() }),
      parse: false,
      responses: { 200: { description: 'raw', schema: z.object({ token: z.string() }) } },
    },
    async (c) => c.json({ token: c.req.param('token') ?? '' }),
  );
  return app;
}

let app: ReturnType<typeof testApp>;
const json = { 'content-type': 'application/json' };
type ErrorBody = { error: { code: string; message: string; details: { path: string }[] } };
const errorOf = async (res: Response) => (await res.json()) as ErrorBody;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 4 });
  app = testApp();
});

afterAll(async () => {
  await t?.drop();
});

const auditOf = (operation: string) => t.db('audit_log').where({ operation }).orderBy('id', 'desc');

describe('the audit entry', () => {
  it('a state loader failing after the change: logged, and the answer is still the handler’s', async () => {
    Object.assign(loader, { calls: 0, failAfter: true, missingBefore: false });
    const res = await app.request('/things/5/settings', {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ colour: 'blue' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, actor: 'admin' });
  });

  it('a thing the loader does not find before the change: null, and the handler gives its own answer', async () => {
    Object.assign(loader, { calls: 0, failAfter: false, missingBefore: true });
    const missing = await app.request('/things/404/settings', {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ colour: 'blue' }),
    });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).error.message).toBe('handler: thing 404 not found');

    Object.assign(loader, { calls: 0, failAfter: false, missingBefore: true });
    const made = await app.request('/things/6/settings', {
      method: 'PUT',
      headers: { ...json, 'x-actor': 'jane' },
      body: JSON.stringify({ colour: 'blue' }),
    });
    expect(made.status).toBe(200);
    const [row] = await auditOf('putThingSettings').where({ entity_id: '6' });
    expect(JSON.parse(row.before)).toBeNull();
    expect(JSON.parse(row.after)).toEqual({ id: 6, colour: 'red' });
    // The person named with the bootstrap token, as history and approvals name them.
    expect(row.actor).toBe('admin:jane');
    expect(row.actor_kind).toBe('bootstrap');
  });

  it('a handler names the id itself: kept, without reading the answer; no request body when told', async () => {
    const res = await app.request('/things', {
      method: 'POST',
      headers: { ...json, 'idempotency-key': 'k-1' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ key: 'k-1' });
    const [row] = await auditOf('createThing');
    expect(row.entity_id).toBe('T-77');
    expect(row.request).toBeNull();
  });
});

describe('input', () => {
  it('an empty optional body the schema refuses is 422 validation_failed, not 500', async () => {
    const res = await app.request('/things/5/note', { method: 'POST' });
    expect(res.status).toBe(422);
    const body = await errorOf(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details[0]?.path).toBe('text');
  });

  it('headers are parsed before the body: a bad Idempotency-Key is 400 even with a bad body', async () => {
    const res = await app.request('/things', {
      method: 'POST',
      headers: { ...json, 'idempotency-key': 'k'.repeat(500) },
      body: JSON.stringify({ name: '' }),
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error.message).toBe('Idempotency-Key header is not valid');
  });

  it('an invalid X-Actor is ignored where the route does not document it, and 400 where it does', async () => {
    const lenient = await app.request('/things/5/note', {
      method: 'POST',
      headers: { ...json, 'x-actor': 'not valid!' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(lenient.status).toBe(200);
    expect(await lenient.json()).toEqual({ ok: true, actor: 'admin' });

    const strict = await app.request('/things/5/approve', {
      method: 'POST',
      headers: { 'x-actor': 'not valid!' },
    });
    expect(strict.status).toBe(400);
    expect((await errorOf(strict)).error.message).toBe('X-Actor header is not valid');

    const named = await app.request('/things/5/approve', { method: 'POST', headers: { 'x-actor': 'jane' } });
    expect(await named.json()).toEqual({ ok: true, actor: 'admin:jane' });
  });

  it('parse: false leaves params and query to the handler (documented only)', async () => {
    const res = await app.request('/pages/much-too-long%00token?lang=xx&utm_source[]=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: 'much-too-long\u0000token' });
  });
});

describe('AuditWriter', () => {
  const entry = (method: string, entityId: string): AuditEntry => ({
    principal: bootstrap,
    method,
    route: '/api/things',
    operation: 'writerTest',
    entity: 'thing',
    entityId,
    status: 200,
  });

  it('one bad row in a batch: the others are still written, only its caller fails', async () => {
    const writer = new AuditWriter(t.db);
    // The first goes alone; the next three wait and are written together.
    const results = await Promise.allSettled([
      writer.write(entry('POST', 'w-0')),
      writer.write(entry('POST', 'w-1')),
      writer.write(entry('X'.repeat(300), 'w-bad')),
      writer.write(entry('POST', 'w-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const ids = (await auditOf('writerTest')).map((r) => r.entity_id).sort();
    expect(ids).toEqual(['w-0', 'w-1', 'w-2']);
  });
});
