/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { ROLES } from '../../auth/roles.js';
import { createUser, getUser, LOCALES, listUsers, requireUser, type User } from '../../auth/user-store.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { encodeCursor, readCursor } from '../../http/pagination.js';
import { idParam } from '../../http/params.js';
import { newUserBody, userChangeBody } from '../../http/routes/auth-schemas.js';
import { changeUser } from '../../http/routes/users.js';
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
import { COMMON, type ConsoleLocale } from '../texts.js';
import { SETTINGS_TEXTS as T } from './texts.js';

const PAGE_SIZE = 50;
const userParams = z.object({ id: idParam.describe('user id') });

interface FormState {
  status?: 409 | 422;
  error?: string | undefined;
  errors?: FieldErrors;
  values?: FormObject;
}

const roleOptions = (locale: ConsoleLocale) =>
  ROLES.map((r) => ({ value: r, label: COMMON[locale].roles[r] }));
const localeOptions = (locale: ConsoleLocale) =>
  LOCALES.map((l) => ({ value: l, label: COMMON[locale].languageNames[l] }));

/** Settings → users (admin): the list, a new user, a user's name, role, language, disabled flag and password. */
export function userSettingsPages(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'user', db });

  const listPage = async (c: Context<AppEnv>, cursor: string | undefined, form: FormState = {}) => {
    const { locale, t, csrf } = viewer(c);
    const tt = T[locale];
    const beforeId = readCursor(cursor);
    const { items, nextId } = await listUsers(db, { beforeId, limit: PAGE_SIZE });
    const labels = {
      email: tt.email,
      name: tt.name,
      role: tt.role,
      password: tt.password,
      locale: tt.locale,
    };
    return render(
      c,
      { title: tt.users, nav: 'settings', status: form.status ?? 200, error: form.error },
      <>
        <h1>{tt.users}</h1>
        <p>
          <a href="/console/settings">{tt.title}</a>
        </p>
        <section class="card" aria-labelledby="u-list">
          <h2 id="u-list">{tt.users}</h2>
          <Table
            locale={locale}
            caption={tt.usersCaption}
            hideCaption
            rows={items}
            columns={[
              {
                label: tt.email,
                cell: (u: User) => <a href={`/console/settings/users/${u.id}`}>{u.email}</a>,
              },
              { label: tt.name, cell: (u) => u.name },
              { label: tt.role, cell: (u) => t.roles[u.role] },
              { label: tt.locale, cell: (u) => (u.locale ? t.languageNames[u.locale] : tt.localeAuto) },
              {
                label: t.status,
                cell: (u) =>
                  u.disabled ? <Badge kind="bad">{tt.disabled}</Badge> : <Badge kind="ok">{tt.active}</Badge>,
              },
              { label: tt.createdAt, cell: (u) => <Time at={u.createdAt} /> },
            ]}
          />
          <Pager
            locale={locale}
            path="/console/settings/users"
            query={{}}
            prev={beforeId !== null ? { cursor: '' } : null}
            next={nextId !== null ? { cursor: encodeCursor(nextId) } : null}
          />
        </section>
        <section class="card" aria-labelledby="u-new">
          <h2 id="u-new">{tt.newUser}</h2>
          <ErrorSummary errors={form.errors} locale={locale} labels={labels} />
          <ActionForm action="/console/settings/users" csrf={csrf} label={tt.createUser}>
            <Field
              name="email"
              label={tt.email}
              type="email"
              required
              values={form.values}
              errors={form.errors}
              attrs={{ autocomplete: 'off' }}
            />
            <Field
              name="name"
              label={`${tt.name} (${t.optional})`}
              values={form.values}
              errors={form.errors}
            />
            <Select
              name="role"
              label={tt.role}
              options={roleOptions(locale)}
              value="viewer"
              values={form.values}
              errors={form.errors}
            />
            <Select
              name="locale"
              label={tt.locale}
              blank={tt.localeAuto}
              options={localeOptions(locale)}
              values={form.values}
              errors={form.errors}
            />
            <Field
              name="password"
              label={tt.password}
              type="password"
              hint={tt.passwordHint}
              required
              errors={form.errors}
              attrs={{ autocomplete: 'new-password' }}
            />
          </ActionForm>
        </section>
      </>,
    );
  };

  const userPage = async (
    c: Context<AppEnv>,
    id: number,
    form: FormState & { which?: 'change' | 'password' } = {},
  ) => {
    const { locale, t, csrf } = viewer(c);
    const tt = T[locale];
    const user = await requireUser(db, id);
    const change = form.which === 'change' ? form : {};
    const reset = form.which === 'password' ? form : {};
    const labels = {
      name: tt.name,
      role: tt.role,
      locale: tt.locale,
      disabled: tt.disabledField,
      password: tt.newPassword,
    };
    return render(
      c,
      { title: tt.editUser(user.email), nav: 'settings', status: form.status ?? 200, error: form.error },
      <>
        <h1>{tt.editUser(user.email)}</h1>
        <p>
          <a href="/console/settings/users">{tt.users}</a>
        </p>
        <section class="card" aria-labelledby="u-edit">
          <h2 id="u-edit">{tt.saveUser}</h2>
          <ErrorSummary errors={change.errors} locale={locale} labels={labels} />
          <ActionForm action={`/console/settings/users/${user.id}`} csrf={csrf} label={tt.saveUser}>
            <Field
              name="name"
              label={tt.name}
              value={user.name}
              values={change.values}
              errors={change.errors}
            />
            <Select
              name="role"
              label={tt.role}
              options={roleOptions(locale)}
              value={user.role}
              values={change.values}
              errors={change.errors}
            />
            <Select
              name="locale"
              label={tt.locale}
              blank={tt.localeAuto}
              options={localeOptions(locale)}
              value={user.locale ?? ''}
              values={change.values}
              errors={change.errors}
            />
            <Checkbox
              name="disabled"
              label={tt.disabledField}
              checked={user.disabled}
              values={change.values}
              errors={change.errors}
            />
          </ActionForm>
        </section>
        <section class="card" aria-labelledby="u-password">
          <h2 id="u-password">{tt.resetPassword}</h2>
          <ErrorSummary errors={reset.errors} locale={locale} labels={labels} />
          <ActionForm
            action={`/console/settings/users/${user.id}/password`}
            csrf={csrf}
            label={tt.resetPassword}
          >
            <Field
              name="password"
              label={tt.newPassword}
              type="password"
              hint={`${tt.passwordHint} ${tt.resetHint}`}
              required
              errors={reset.errors}
              attrs={{ autocomplete: 'new-password' }}
            />
          </ActionForm>
        </section>
        <p>
          <a href="/console/settings/users">{t.back}</a>
        </p>
      </>,
    );
  };

  route(
    {
      method: 'get',
      path: '/settings/users',
      access: 'admin',
      operationId: 'consoleUsers',
      summary: 'Users, and the form for a new one',
      query: z.object({ cursor: z.string().max(200).optional() }),
      responses: PAGE,
    },
    (c, { query }) => listPage(c, query.cursor),
  );

  route(
    {
      method: 'post',
      path: '/settings/users',
      access: 'admin',
      operationId: 'consoleCreateUser',
      summary: 'Create a user (as POST /api/users)',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
    },
    async (c) => {
      const form = await readForm(c, newUserBody);
      const values = { ...form.values, password: '' };
      if (!form.ok) return listPage(c, undefined, { status: 422, errors: form.errors, values });
      try {
        const user = await createUser(db, form.data);
        c.set('auditEntityId', user.id);
        return doneTo(c, `/console/settings/users/${user.id}`, T[viewer(c).locale].userCreated(user.email));
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        const status = e.status === 409 ? 409 : 422;
        return listPage(c, undefined, {
          status,
          error: e.message,
          errors: status === 409 ? { email: [e.message] } : fieldOf(e.details, 'password', e.message),
          values,
        });
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/settings/users/:id',
      access: 'admin',
      operationId: 'consoleUser',
      summary: 'A user: change their name, role, language or disabled flag; reset their password',
      params: userParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => userPage(c, params.id),
  );

  const loadUser = async ({ params }: { params: Record<string, unknown> }) =>
    getUser(db, params.id as number);
  const changed = (which: 'change' | 'password') => async (c: Context<AppEnv>, id: number) => {
    const form = await readForm(c, userChangeBody);
    if (!form.ok) {
      // The form of a reset names only the password: a missing one is that field's problem.
      const errors = which === 'password' && form.errors[''] ? { password: form.errors[''] } : form.errors;
      return userPage(c, id, { which, status: 422, errors, values: { ...form.values, password: '' } });
    }
    try {
      await changeUser(db, cd.auth, c.get('principal'), id, form.data);
    } catch (err) {
      const e = errorOf(err);
      if (!e) throw err;
      if (e.status === 404) throw err;
      return userPage(c, id, {
        which,
        status: e.status === 409 ? 409 : 422,
        error: e.message,
        errors: e.status === 409 ? {} : fieldOf(e.details, 'password', e.message),
        values: { ...form.values, password: '' },
      });
    }
    const tt = T[viewer(c).locale];
    return doneTo(c, `/console/settings/users/${id}`, which === 'password' ? tt.passwordReset : tt.userSaved);
  };

  route(
    {
      method: 'post',
      path: '/settings/users/:id',
      access: 'admin',
      operationId: 'consoleUpdateUser',
      summary: "Change a user's name, role, language or disabled flag (as PATCH /api/users/{id})",
      params: userParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such user', contentType: HTML } },
      audit: { load: loadUser },
    },
    (c, { params }) => changed('change')(c, params.id),
  );

  route(
    {
      method: 'post',
      path: '/settings/users/:id/password',
      access: 'admin',
      operationId: 'consoleResetUserPassword',
      summary: "Reset a user's password; their sessions end (as PATCH /api/users/{id} with a password)",
      params: userParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such user', contentType: HTML } },
      audit: { load: loadUser },
    },
    (c, { params }) => changed('password')(c, params.id),
  );
}

/** A refused value's message beside its field (a 422 of the user store names the password). */
function fieldOf(details: unknown, field: string, message: string): FieldErrors {
  if (Array.isArray(details) && details.length) {
    const out: FieldErrors = {};
    for (const d of details as { path?: string; message?: string }[]) {
      const key = d.path && d.path !== '(body)' ? d.path : field;
      out[key] = [...(out[key] ?? []), d.message ?? message];
    }
    return out;
  }
  return { [field]: [message] };
}
