/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { ROLES, roleCovers } from '../../auth/roles.js';
import { type ApiToken, listTokens } from '../../auth/token-store.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { encodeCursor, readCursor } from '../../http/pagination.js';
import { idParam } from '../../http/params.js';
import { newTokenBody } from '../../http/routes/auth-schemas.js';
import { makeToken, revokeTokenAs } from '../../http/routes/tokens.js';
import {
  ActionForm,
  Badge,
  Checkbox,
  ErrorSummary,
  Field,
  Pager,
  Select,
  Table,
  Time,
} from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, type FormObject, readForm } from '../forms.js';
import { SETTINGS_TEXTS as T } from './texts.js';

const PAGE_SIZE = 50;

/**
 * A token just made is handed to the page after the 303 in this cookie: HttpOnly, only sent to the
 * tokens page, gone after 60 s and deleted when shown, so it is shown once and a reload makes no
 * second token. Never in a URL or a log.
 */
const MADE_COOKIE = 'sb_new_token';
const MADE_PATH = '/console/settings/tokens';

function takeMade(c: Context<AppEnv>): { name: string; token: string } | undefined {
  const raw = getCookie(c, MADE_COOKIE);
  if (raw === undefined) return undefined;
  deleteCookie(c, MADE_COOKIE, { path: MADE_PATH });
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return typeof v?.name === 'string' && typeof v?.token === 'string'
      ? { name: v.name, token: v.token }
      : undefined;
  } catch {
    return undefined;
  }
}

interface FormState {
  status?: 201 | 409 | 422;
  error?: string | undefined;
  errors?: FieldErrors;
  values?: FormObject;
  /** A token just made: its secret, shown this once. */
  made?: { name: string; token: string };
}

/**
 * Settings → API tokens (any role): your tokens (every token for an admin), a new one (its secret
 * shown once, on the answer to the form, never again), revoking.
 */
export function tokenSettingsPages(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'token', db });

  const tokensPage = async (c: Context<AppEnv>, cursor: string | undefined, form: FormState = {}) => {
    const { locale, t, csrf, principal } = viewer(c);
    const tt = T[locale];
    const p = principal!;
    const admin = p.role === 'admin';
    const beforeId = readCursor(cursor);
    const { items, nextId } = await listTokens(db, {
      userId: admin ? undefined : (p.userId ?? -1),
      beforeId,
      limit: PAGE_SIZE,
    });
    const title = admin ? tt.tokens : tt.myTokens;
    const labels = { name: tt.tokenName, role: tt.tokenRole, service: tt.service };
    const mayRevoke = (k: ApiToken) =>
      k.revokedAt === null && (admin || (p.userId !== null && k.userId === p.userId));
    return render(
      c,
      { title, nav: 'settings', status: form.status ?? 200, error: form.error },
      <>
        <h1>{title}</h1>
        <p>
          <a href="/console/settings">{tt.title}</a>
        </p>
        {form.made ? (
          <section class="card" aria-labelledby="t-made">
            <h2 id="t-made">{form.made.name}</h2>
            <p role="status">{tt.tokenMade}</p>
            <div class="field">
              <label for="new-token">{tt.tokenValue}</label>
              <input id="new-token" type="text" readonly value={form.made.token} autocomplete="off" />
            </div>
            <button type="button" class="secondary" data-copy="new-token" data-copied={tt.copied}>
              {tt.copy}
            </button>
          </section>
        ) : null}
        <section class="card" aria-labelledby="t-list">
          <h2 id="t-list">{title}</h2>
          <Table
            locale={locale}
            caption={tt.tokensCaption}
            hideCaption
            rows={items}
            columns={[
              { label: tt.tokenName, cell: (k: ApiToken) => k.name },
              { label: tt.tokenRole, cell: (k) => t.roles[k.role] },
              { label: tt.tokenPrefix, cell: (k) => <code>{`${k.prefix}…`}</code> },
              {
                label: tt.tokenOwner,
                cell: (k) =>
                  k.userId === null ? tt.serviceToken : k.userId === p.userId ? tt.you : k.createdBy,
              },
              { label: tt.lastUsed, cell: (k) => <Time at={k.lastUsedAt} /> },
              {
                label: t.status,
                cell: (k) =>
                  k.revokedAt ? (
                    <Badge kind="bad">
                      {tt.revoked} <Time at={k.revokedAt} />
                    </Badge>
                  ) : (
                    <Badge kind="ok">{tt.active}</Badge>
                  ),
              },
              {
                label: t.actions,
                cell: (k) =>
                  mayRevoke(k) ? (
                    <ActionForm
                      action={`/console/settings/tokens/${k.id}/revoke`}
                      csrf={csrf}
                      label={tt.revokeNamed(k.name)}
                      variant="danger"
                      confirm={tt.revokeConfirm}
                      inline
                    />
                  ) : null,
              },
            ]}
          />
          <Pager
            locale={locale}
            path="/console/settings/tokens"
            query={{}}
            prev={beforeId !== null ? { cursor: '' } : null}
            next={nextId !== null ? { cursor: encodeCursor(nextId) } : null}
          />
        </section>
        {p.kind === 'session' ? (
          <section class="card" aria-labelledby="t-new">
            <h2 id="t-new">{tt.newToken}</h2>
            <ErrorSummary errors={form.errors} locale={locale} labels={labels} />
            <ActionForm action="/console/settings/tokens" csrf={csrf} label={tt.createToken}>
              <Field name="name" label={tt.tokenName} required values={form.values} errors={form.errors} />
              <Select
                name="role"
                label={tt.tokenRole}
                options={ROLES.filter((r) => roleCovers(p.role, r)).map((r) => ({
                  value: r,
                  label: t.roles[r],
                }))}
                value={p.role}
                values={form.values}
                errors={form.errors}
              />
              {admin ? (
                <Checkbox name="service" label={tt.service} values={form.values} errors={form.errors} />
              ) : null}
            </ActionForm>
          </section>
        ) : null}
      </>,
    );
  };

  route(
    {
      method: 'get',
      path: '/settings/tokens',
      access: 'read',
      operationId: 'consoleTokens',
      summary: 'API tokens: yours, or every one for an admin; a new one',
      query: z.object({ cursor: z.string().max(200).optional() }),
      responses: PAGE,
    },
    (c, { query }) => {
      const made = takeMade(c);
      return tokensPage(c, query.cursor, made ? { made } : {});
    },
  );

  route(
    {
      method: 'post',
      path: '/settings/tokens',
      access: 'read',
      operationId: 'consoleCreateToken',
      summary: 'Make an API token (as POST /api/tokens); the tokens page it leads to shows it this once',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
    },
    async (c) => {
      const form = await readForm(c, newTokenBody);
      if (!form.ok)
        return tokensPage(c, undefined, { status: 422, errors: form.errors, values: form.values });
      try {
        const made = await makeToken(db, c.get('principal')!, form.data);
        c.set('auditEntityId', made.id);
        setCookie(
          c,
          MADE_COOKIE,
          Buffer.from(JSON.stringify({ name: made.name, token: made.token })).toString('base64url'),
          {
            path: MADE_PATH,
            httpOnly: true,
            sameSite: 'Strict',
            secure: new URL(c.req.url).protocol === 'https:',
            maxAge: 60,
          },
        );
        return c.redirect(MADE_PATH, 303);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return tokensPage(c, undefined, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          values: form.values,
        });
      }
    },
  );

  route(
    {
      method: 'post',
      path: '/settings/tokens/:id/revoke',
      access: 'read',
      operationId: 'consoleRevokeToken',
      summary: 'Revoke a token: your own, or any for an admin (as DELETE /api/tokens/{id})',
      params: z.object({ id: idParam.describe('token id') }),
      upload: FORM_UPLOAD,
      responses: { 303: FORM_ANSWERS[303]!, 404: { description: 'No such token', contentType: HTML } },
    },
    async (c, { params }) => {
      await revokeTokenAs(db, cd.auth, c.get('principal')!, params.id);
      return doneTo(c, '/console/settings/tokens', T[viewer(c).locale].tokenRevoked);
    },
  );
}
