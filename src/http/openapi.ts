import { createRoute, OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { auditWriterOf } from '../audit/audit-log.js';
import { type Access, allows, type Principal, rolesFor } from '../auth/roles.js';
import type { Conn } from '../db/connection.js';
import { ApiError } from '../errors/api-error.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { zodDetails } from '../errors/zod-details.js';
import type { AppEnv } from './env.js';
import { errorResponse, parseParam, readJson } from './errors.js';

/**
 * Every operation of the daemon is declared once with `route(spec, handler)`: its path, the access
 * it needs, the zod schemas of its parameters, query, body and answers. From that one declaration
 * come the check of the caller's role, the parsing of the request (the same zod schemas, with the
 * project's error shapes: 400 for a bad parameter or malformed JSON, 422 listing every problem in
 * a body), the audit entry of a change, and the operation in the OpenAPI document (through
 * @hono/zod-openapi's registry), so the document cannot drift from what the routes accept.
 */

type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
// biome-ignore lint/suspicious/noExplicitAny: any object schema
type ObjectSchema = z.ZodObject<any>;

export interface ResponseSpec {
  description: string;
  /** The body's schema; none for an empty answer (204) or a file. */
  schema?: z.ZodType;
  /** Default `application/json` when a schema is given. */
  contentType?: string;
  /** Files the same status may answer with instead (a result sheet for `?format=xlsx`). */
  files?: string[];
}

export interface RouteSpec<
  P extends ObjectSchema | undefined,
  Q extends ObjectSchema | undefined,
  B extends z.ZodType | undefined,
  H extends ObjectSchema | undefined = undefined,
> {
  method: HttpMethod;
  /** Hono style, relative to where the routes are mounted: `/orders/:id/cancel`. */
  path: string;
  /** Who may call it (src/auth/roles.ts). */
  access: Access;
  /** Unique over the whole API, camelCase: `cancelOrder`. */
  operationId: string;
  summary: string;
  description?: string;
  /** Default: the registrar's tag. */
  tags?: string[];
  /** Path parameters; each one's `.describe()` names it in errors (`order id is not valid`). */
  params?: P;
  query?: Q;
  /** A JSON body, parsed with `readJson` (400 malformed, 422 with every problem). */
  body?: B;
  /** With `body`: an empty body is taken as `{}` (default: a body is required). */
  bodyOptional?: boolean;
  /** A body that is not JSON (an uploaded sheet): documented here, read by the handler itself. */
  upload?: { contentTypes: string[]; description: string };
  /**
   * Request headers the operation reads: documented, and parsed before the body (400 naming the
   * header, e.g. `Idempotency-Key header is not valid`); the handler gets them in `input.headers`.
   */
  headers?: H;
  /**
   * `false`: params, query and headers are documented but not parsed; the handler reads them itself
   * (the public status page answers every bad link with the same 404 page, after its rate limit).
   */
  parse?: false;
  /** Every success answer by status. */
  responses: Record<number, ResponseSpec>;
  /** Error statuses beyond those every operation of its kind has (401, 403, 400/422 for input, 413 for bodies). */
  errors?: number[];
  /**
   * The audit entry of a change: `entity` (default: the registrar's), and for settings `load`, which
   * reads the entity's state; it is called before and after the change and both are kept (secrets
   * redacted). `request` gives what is kept of the body when secret-named keys are not enough (a
   * connector's secret settings). `false`: no entry (the operation changes nothing a person decided).
   */
  audit?:
    | false
    | {
        entity?: string;
        load?: (input: { params: NoInfer<Out<P>> }) => Promise<unknown>;
        request?: (body: unknown) => unknown;
      };
}

// biome-ignore lint/suspicious/noExplicitAny: a declaration of any operation
type AnyRouteSpec = RouteSpec<any, any, any, any>;

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;

export interface RouteInput<P, Q, B, H = undefined> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  headers: Out<H>;
}

export type RouteHandler<P, Q, B, H = undefined> = (
  c: Context<AppEnv>,
  input: RouteInput<P, Q, B, H>,
) => Response | Promise<Response>;

/** The error body every failure has. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('machine-readable: `validation_failed`, `not_found`, `forbidden`, ...'),
      message: z.string().describe('what is wrong, for a person'),
      details: z.unknown().optional().describe('per-field problems (`[{path, message}]`) and the like'),
    }),
  })
  .meta({ id: 'Error' });

const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter, the query or the JSON syntax is not valid',
  401: 'No credential, or not a valid one',
  403: 'The credential is valid but its role may not do this (or a cross-site form)',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The body is too large',
  415: 'The body is not of a type this operation takes',
  422: 'The body is well-formed but not valid; `details` lists every problem',
  429: 'Too many attempts; `Retry-After` says when to try again',
  502: 'A channel or other service upstream failed',
  503: 'A service the daemon needs is not available',
};

/** Turns `/orders/:id` into `/orders/{id}`. */
export const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

/** Whether answers are checked against their documented schemas (tests set it; see vitest.config.ts). */
const checkResponses = () => process.env.STOCKBRIDGE_CHECK_RESPONSES === '1';

export interface RegistrarOptions {
  /** The group the operations are listed under in the reference. */
  tag: string;
  /** What the audit log calls the things these routes change (`order`, `channel`, ...). */
  entity: string;
  /** Where audit entries are written. */
  /** Only routes that write audit entries need it: a set of public routes may leave it out. */
  db?: Conn;
}

/** A new set of routes that `route(...)` declarations are added to. */
export const newRoutes = () => new OpenAPIHono<AppEnv>();

/** The check every operation runs first: the caller's role must allow the operation's access. */
export function requireAccess(access: Access): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (access === 'public') return next();
    const principal = c.get('principal');
    if (!principal) return errorResponse(c, 401, 'unauthorized', 'missing credentials');
    if (!allows(principal.role, access)) {
      return errorResponse(
        c,
        403,
        'forbidden',
        `this needs the role ${rolesFor(access).join(' or ')}; the credential used has the role ${principal.role}`,
        { required: rolesFor(access), role: principal.role },
      );
    }
    await next();
  };
}

/**
 * `X-Actor`: a person acting with the bootstrap token (which names nobody) may name themselves
 * (letters, digits, `. _ @ -`); they are recorded as `admin:<name>`. Users and tokens are named already.
 */
export const actorHeaders = z.object({
  'x-actor': z
    .string()
    .min(1)
    .max(58)
    .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only')
    .optional()
    .describe('with the bootstrap token: who is acting, recorded as `admin:<name>`'),
});

/** Longest actor the history, approvals and other actor columns keep (64 characters). */
export const MAX_ACTOR_LENGTH = 64;

/**
 * The caller as named in history, approvals and the audit log (`admin` for the bootstrap token).
 * A name longer than the actor columns hold (a long e-mail address) is cut to 64 characters.
 * An X-Actor header that is not valid is ignored here (`admin`); routes that document the header
 * (`headers: actorHeaders`) have it checked by the wrapper, which answers 400.
 */
export function actorOf(c: Context<AppEnv>): string {
  const principal = c.get('principal');
  if (principal && principal.kind !== 'bootstrap') return principal.actor.slice(0, MAX_ACTOR_LENGTH);
  const name = actorHeaders.shape['x-actor'].safeParse(c.req.header('x-actor'));
  return name.success && name.data ? `admin:${name.data}` : 'admin';
}

/** `idempotency-key` → `Idempotency-Key header`: how errors name a header. */
const headerLabel = (name: string) =>
  `${name.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase())} header`;

/**
 * Returns `route(spec, handler)`, which declares one operation on `app` (see the file comment).
 */
export function routeRegistrar(app: OpenAPIHono<AppEnv>, options: RegistrarOptions) {
  return function route<
    P extends ObjectSchema | undefined = undefined,
    Q extends ObjectSchema | undefined = undefined,
    B extends z.ZodType | undefined = undefined,
    H extends ObjectSchema | undefined = undefined,
  >(spec: RouteSpec<P, Q, B, H>, handler: RouteHandler<P, Q, B, H>): void {
    const audited = !(spec.audit === false || spec.method === 'get' || spec.access === 'public');
    if (audited && !options.db)
      throw new Error(`${spec.operationId}: a change needs a database for its audit entry`);
    app.openAPIRegistry.registerPath(describeRoute(spec, options.tag));
    const parse = spec.parse !== false;
    const paramEntries =
      parse && spec.params ? Object.entries(spec.params.shape as Record<string, z.ZodType>) : [];
    const headerEntries =
      parse && spec.headers ? Object.entries(spec.headers.shape as Record<string, z.ZodType>) : [];
    const load = spec.audit ? spec.audit.load : undefined;
    /** The state `load` reads; a thing that does not exist (yet, or any more) is `null`. */
    const loadState = (params: Record<string, unknown>) =>
      (load as (input: { params: Record<string, unknown> }) => Promise<unknown>)({ params }).catch(
        (err: unknown) => {
          if (err instanceof NotFoundError) return null;
          throw err;
        },
      );

    const run: MiddlewareHandler<AppEnv> = async (c) => {
      const params: Record<string, unknown> = {};
      for (const [name, schema] of paramEntries) {
        params[name] = parseParam(schema, c.req.param(name), schema.description ?? name);
      }
      const query = parse && spec.query ? parseParam(spec.query, c.req.query(), 'query') : {};
      const headers: Record<string, unknown> = {};
      for (const [name, schema] of headerEntries) {
        headers[name] = parseParam(schema, c.req.header(name), headerLabel(name));
      }
      let body: unknown = {};
      if (spec.body) {
        if (spec.bodyOptional && (await c.req.text()).trim() === '') {
          const empty = spec.body.safeParse({});
          if (!empty.success)
            throw new ApiError(
              422,
              'validation_failed',
              'request body is not valid',
              zodDetails(empty.error),
            );
          body = empty.data;
        } else {
          body = await readJson(c, spec.body);
        }
      }
      const audit =
        spec.audit === false || spec.method === 'get' || spec.access === 'public' ? null : (spec.audit ?? {});
      const before = audit && load ? await loadState(params) : undefined;
      const input = { params, query, body, headers } as unknown as RouteInput<P, Q, B, H>;
      const res = await handler(c, input);
      if (checkResponses()) await checkResponse(spec, res);
      if (audit && res.status < 400) {
        // The change is made: whatever goes wrong with its entry is logged, the answer stays the handler's.
        try {
          const principal = c.get('principal') as Principal;
          await auditWriterOf(options.db!).write({
            principal,
            actor: principal.kind === 'bootstrap' ? actorOf(c) : undefined,
            method: spec.method.toUpperCase(),
            route: openApiPath(c.req.routePath),
            operation: spec.operationId,
            entity: audit.entity ?? options.entity,
            entityId: await entityIdOf(params, res, c.get('auditEntityId')),
            status: res.status,
            request: spec.body ? (audit.request ? audit.request(body) : body) : undefined,
            before,
            after: load ? await loadState(params) : undefined,
            requestId: c.get('requestId'),
          });
        } catch (err) {
          c.get('log')?.error(
            { err: (err as Error).message, operation: spec.operationId },
            'audit entry not written',
          );
        }
      }
      return res;
    };
    app.on(spec.method.toUpperCase(), spec.path, requireAccess(spec.access), run);
  };
}

/**
 * The changed thing's id: the one the handler named (`c.set('auditEntityId', ...)`), else the path
 * parameters, else the `id` (or `code`, `number`) in the answer.
 */
async function entityIdOf(
  params: Record<string, unknown>,
  res: Response,
  named: string | number | null | undefined,
): Promise<string | null> {
  if (named !== undefined) return named === null ? null : String(named);
  const values = Object.values(params);
  if (values.length > 0) return values.map(String).join('/');
  if (!(res.headers.get('content-type') ?? '').includes('json')) return null;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as Record<string, unknown> | null;
  const id = body?.id ?? body?.code ?? body?.number;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/**
 * In tests: an answer whose status is not documented, or whose JSON does not match the documented
 * schema, is an error, so the document is checked by every test that calls the API.
 */
async function checkResponse(spec: AnyRouteSpec, res: Response) {
  const documented = spec.responses[res.status];
  if (!documented) {
    throw new Error(`${spec.operationId}: answered ${res.status}, which is not documented`);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!documented.schema || !type.includes('json')) return;
  const value = await res.clone().json();
  const result = documented.schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${spec.operationId}: the ${res.status} answer does not match its documented schema: ${JSON.stringify(
        result.error.issues.slice(0, 5),
      )}`,
    );
  }
}

function describeRoute(spec: AnyRouteSpec, tag: string): RouteConfig {
  const errors = new Set<number>(spec.errors ?? []);
  if (spec.access !== 'public') {
    errors.add(401);
    errors.add(403);
  }
  if (spec.params || spec.query || spec.headers) errors.add(400);
  if (spec.body) {
    errors.add(400);
    errors.add(422);
  }
  if (spec.body || spec.upload) errors.add(413);

  type Content = Record<string, { schema: unknown }>;
  const file = { schema: { type: 'string', format: 'binary' } };
  const responses: RouteConfig['responses'] = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    const content: Content = {};
    if (r.schema) content[r.contentType ?? 'application/json'] = { schema: r.schema };
    else if (r.contentType) content[r.contentType] = file;
    for (const type of r.files ?? []) content[type] = file;
    responses[status] = (
      Object.keys(content).length > 0
        ? { description: r.description, content }
        : { description: r.description }
    ) as RouteConfig['responses'][string];
  }
  for (const status of [...errors].sort()) {
    const error = { schema: errorBodySchema };
    const documented = responses[String(status)] as { content?: Content } | undefined;
    // A status that is also a file (a result sheet of a rejected upload) may still be the error JSON.
    if (documented?.content && !documented.content['application/json'])
      documented.content['application/json'] = error;
    responses[String(status)] ??= {
      description: ERROR_TEXT[status] ?? 'Error',
      content: { 'application/json': error },
    };
  }

  const request: RouteConfig['request'] = {};
  if (spec.params) request.params = spec.params;
  if (spec.query) request.query = spec.query;
  if (spec.headers) request.headers = spec.headers;
  if (spec.body) {
    request.body = {
      required: !spec.bodyOptional,
      content: { 'application/json': { schema: spec.body } },
    };
  } else if (spec.upload) {
    request.body = {
      required: true,
      description: spec.upload.description,
      content: Object.fromEntries(
        spec.upload.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
      ),
    };
  }

  return createRoute({
    method: spec.method,
    path: openApiPath(spec.path),
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags ?? [tag],
    security: spec.access === 'public' ? [] : [{ bearer: [] }, { session: [] }],
    'x-stockbridge-access': spec.access,
    'x-stockbridge-roles': spec.access === 'public' ? [] : [...rolesFor(spec.access)],
    request,
    responses,
  } as RouteConfig);
}

/** The OpenAPI 3.1 document of an app whose routes were declared with `route(...)`. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, version: string) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'stockbridge',
      version,
      description:
        'Order and inventory sync daemon. Money is in integer minor units with a currency code; times are UTC ISO 8601.',
    },
  });
}

/** Declares how callers authenticate; once per app, before the document is made. */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token, or STOCKBRIDGE_ADMIN_TOKEN',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'stockbridge_session',
    description: 'The console login; changes also need the X-CSRF-Token header',
  });
}

/** The version the document states: the API's, kept with the package's (package.json). */
export const API_VERSION = '0.1.0';
