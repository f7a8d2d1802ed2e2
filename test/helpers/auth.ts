import type { Role } from '../../src/auth/roles.js';
import type { TestStack } from './stack.js';
import { jsonOrText } from './stack.js';

type App = TestStack['app'];

/** `name=value` of a cookie an answer sets, or null. */
export function setCookieOf(res: Response, name: string): string | null {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line ? (line.split(';')[0] ?? null) : null;
}

export const fullSetCookie = (res: Response, name: string) =>
  res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? null;

export const csrfFieldOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Opens the login page: its pre-session CSRF cookie and the form's token. */
export async function openLogin(app: App, headers: Record<string, string> = {}) {
  const res = await app.request('/login', { headers });
  const html = await res.text();
  return { res, html, cookie: setCookieOf(res, 'stockbridge_login_csrf')!, csrf: csrfFieldOf(html)! };
}

/** Posts the login form (after opening the page); `ip` keeps the per-address limit of tests apart. */
export async function postLogin(
  app: App,
  email: string,
  password: string,
  { ip = '203.0.113.1', next }: { ip?: string; next?: string } = {},
) {
  const page = await openLogin(app);
  const fields: Record<string, string> = { _csrf: page.csrf, email, password };
  if (next !== undefined) fields.next = next;
  return app.request('/login', {
    method: 'POST',
    headers: { cookie: page.cookie, 'content-type': FORM_TYPE, 'x-forwarded-for': ip },
    body: form(fields),
  });
}

/** A logged-in browser: its session cookie and the session's CSRF token (from /api/me). */
export async function logIn(app: App, email: string, password: string, ip?: string) {
  const res = await postLogin(app, email, password, ip ? { ip } : {});
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = setCookieOf(res, 'stockbridge_session')!;
  const me = await app.request('/api/me', { headers: { cookie } });
  const body = (await me.json()) as { csrfToken: string };
  return { cookie, csrf: body.csrfToken };
}

/** Makes a user (through the API, as the bootstrap admin) and an API token of theirs. */
export async function userWithToken(
  stack: TestStack,
  email: string,
  role: Role,
  password = 'correct horse battery',
) {
  const user = await stack.api('POST', '/api/users', { email, role, password });
  if (user.status !== 201) throw new Error(`user: ${JSON.stringify(user.body)}`);
  const { cookie, csrf } = await logIn(stack.app, email, password, `198.51.100.${(user.body.id % 200) + 1}`);
  const res = await stack.app.request('/api/tokens', {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${role} token`, role }),
  });
  const token = await jsonOrText(res);
  if (res.status !== 201) throw new Error(`token: ${JSON.stringify(token)}`);
  return {
    userId: user.body.id as number,
    token: token.token as string,
    tokenId: token.id as number,
    cookie,
    csrf,
  };
}
