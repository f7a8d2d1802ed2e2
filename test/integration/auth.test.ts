import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTime } from '../../src/db/connection.js';
import {
  csrfFieldOf,
  FORM_TYPE,
  form,
  fullSetCookie,
  logIn,
  openLogin,
  postLogin,
  setCookieOf,
  userWithToken,
} from '../helpers/auth.js';
import { createStack, jsonOrText, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => {
  await stack?.close();
});

const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
  const res = await stack.app.request(path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await jsonOrText(res), res };
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function newUser(email: string, role = 'operator', extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/api/users', { email, role, password: PASSWORD, ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: number; email: string; role: string };
}

describe('login', () => {
  it('logs in with the right password: HttpOnly, SameSite=Lax cookie, to a local next only', async () => {
    const user = await newUser('Login.Ok@Example.com', 'finance');
    expect(user.email).toBe('login.ok@example.com');
    const res = await postLogin(stack.app, 'login.ok@example.com', PASSWORD, { next: '/account?x=1' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?x=1');
    const cookie = fullSetCookie(res, 'stockbridge_session')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    // The stack's public URL is https, so the cookie is Secure even on a plain-http request.
    expect(cookie).toMatch(/Secure/);

    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/.//evil.example',
      '/a/..//evil.example',
      '/%2e//evil.example',
    ]) {
      const r = await postLogin(stack.app, 'login.ok@example.com', PASSWORD, { next });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe('/account');
    }

    const me = await call('GET', '/api/me', { cookie: setCookieOf(res, 'stockbridge_session')! });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'session', role: 'finance', actor: 'login.ok@example.com' });
    expect(me.body.user.id).toBe(user.id);
    expect(me.body.csrfToken).toEqual(expect.any(String));
  });

  it('refuses a wrong password or an unknown address with the form again (401), and audits it', async () => {
    await newUser('login.bad@example.com');
    const wrong = await postLogin(stack.app, 'login.bad@example.com', 'not the password', {
      ip: '203.0.113.7',
    });
    expect(wrong.status).toBe(401);
    expect(setCookieOf(wrong, 'stockbridge_session')).toBeNull();
    const html = await wrong.text();
    expect(html).toContain('role="alert"');
    const unknown = await postLogin(stack.app, 'nobody@example.com', 'whatever-1234', { ip: '203.0.113.7' });
    expect(unknown.status).toBe(401);

    const audit = await stack.api('GET', '/api/audit?entity=session&actor=login.bad@example.com');
    expect(audit.body.items.map((e: { operation: string }) => e.operation)).toContain('loginFailed');
    const anonymous = await stack.api('GET', '/api/audit?entity=session&actor=unknown%20address');
    expect(anonymous.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(anonymous.body)).not.toContain('nobody@example.com');
  });

  it('shows the pages in zh-CN or en, with labelled fields', async () => {
    const en = await openLogin(stack.app, { 'accept-language': 'en-GB,en;q=0.9' });
    expect(en.html).toContain('<html lang="en"');
    expect(en.html).toContain('<label for="email">E-mail address</label>');
    expect(en.html).toContain('<label for="password">Password</label>');
    const zh = await openLogin(stack.app, { 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(zh.html).toContain('<html lang="zh-CN"');
    expect(zh.html).toContain('<label for="email">电子邮件地址</label>');
    expect(en.res.headers.get('cache-control')).toBe('no-store');
    expect(en.res.headers.get('x-frame-options')).toBe('DENY');
    // Those headers are the pages' own, not every path's.
    expect((await stack.app.request('/healthz')).headers.get('x-frame-options')).toBeNull();
    const login = fullSetCookie(en.res, 'stockbridge_login_csrf')!;
    expect(login).toMatch(/HttpOnly/i);
    expect(login).toMatch(/SameSite=Lax/i);

    await newUser('english@example.com', 'viewer', { locale: 'en' });
    const { cookie } = await logIn(stack.app, 'english@example.com', PASSWORD);
    // The user's language wins over the browser's.
    const account = await stack.app.request('/account', { headers: { cookie, 'accept-language': 'zh-CN' } });
    expect(account.status).toBe(200);
    const html = await account.text();
    expect(html).toContain('<h1>Your account</h1>');
    expect(html).toContain('<label for="new-password">New password</label>');
    expect(html).toContain('Log out on all devices');

    const anonymous = await stack.app.request('/account');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2Faccount');
  });

  it('refuses every form without its CSRF token, and a session API change without X-CSRF-Token', async () => {
    await newUser('csrf@example.com', 'admin');
    // The login form: without the field, with a field that is not the cookie's, without the cookie.
    const page = await openLogin(stack.app);
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      stack.app.request('/login', {
        method: 'POST',
        headers: { 'content-type': FORM_TYPE, ...headers },
        body: form(fields),
      });
    const creds = { email: 'csrf@example.com', password: PASSWORD };
    expect((await post({ cookie: page.cookie }, creds)).status).toBe(403);
    expect((await post({ cookie: page.cookie }, { ...creds, _csrf: 'forged' })).status).toBe(403);
    expect((await post({}, { ...creds, _csrf: page.csrf })).status).toBe(403);
    expect((await post({ cookie: page.cookie }, { ...creds, _csrf: page.csrf })).status).toBe(303);

    const { cookie, csrf } = await logIn(stack.app, 'csrf@example.com', PASSWORD);
    for (const path of ['/logout', '/account/password', '/account/logout-everywhere']) {
      const missing = await stack.app.request(path, {
        method: 'POST',
        headers: { cookie, 'content-type': FORM_TYPE },
        body: form({ currentPassword: PASSWORD, newPassword: 'another password 1' }),
      });
      expect(missing.status, path).toBe(403);
      expect(((await missing.json()) as any).error.code).toBe('csrf_failed');
      const wrong = await stack.app.request(path, {
        method: 'POST',
        headers: { cookie, 'content-type': FORM_TYPE },
        body: form({ _csrf: `${csrf}x` }),
      });
      expect(wrong.status, path).toBe(403);
    }
    // Still logged in: nothing above was done.
    expect((await call('GET', '/api/me', { cookie })).status).toBe(200);

    const before = await stack.db('users').count({ n: '*' });
    const refused = await call(
      'POST',
      '/api/users',
      { cookie },
      { email: 'x@example.com', role: 'viewer', password: PASSWORD },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('csrf_failed');
    expect(await stack.db('users').count({ n: '*' })).toEqual(before);
    const byForm = await stack.app.request('/api/tokens', {
      method: 'POST',
      headers: { cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: 'nope', name: 'x', role: 'viewer' }),
    });
    expect(byForm.status).toBe(403);
    // A multipart body (an upload) is not read for `_csrf`, even the right one: it needs the header.
    const multipart = new FormData();
    multipart.set('_csrf', csrf);
    multipart.set('file', new Blob(['x'.repeat(1000)]), 'sheet.xlsx');
    const upload = await stack.app.request('/api/tokens', {
      method: 'POST',
      headers: { cookie },
      body: multipart,
    });
    expect(upload.status).toBe(403);
    expect(((await upload.json()) as any).error.code).toBe('csrf_failed');
    const ok = await call(
      'POST',
      '/api/users',
      { cookie, 'x-csrf-token': csrf },
      { email: 'made-by-session@example.com', role: 'viewer', password: PASSWORD },
    );
    expect(ok.status).toBe(201);
    // Reads need no CSRF token.
    expect((await call('GET', '/api/users', { cookie })).status).toBe(200);
  });

  it('limits failed logins per e-mail (429 + Retry-After), a right password refused too while blocked', async () => {
    await newUser('limited@example.com');
    for (let i = 0; i < 10; i++) {
      const r = await postLogin(stack.app, 'limited@example.com', `wrong password ${i}`, {
        ip: `192.0.2.${i + 1}`,
      });
      expect(r.status).toBe(401);
    }
    const blocked = await postLogin(stack.app, 'limited@example.com', PASSWORD, { ip: '192.0.2.99' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(setCookieOf(blocked, 'stockbridge_session')).toBeNull();
    // Counted in Redis (shared by api processes), under the stack's prefix.
    const redis = (await stack.queues.orders.client) as unknown as { keys(p: string): Promise<string[]> };
    const keys = await redis.keys(`${stack.prefix}:login-failures:email:*`);
    expect(keys.length).toBeGreaterThan(0);
    // Another address is not blocked for another user.
    await newUser('unlimited@example.com');
    expect((await postLogin(stack.app, 'unlimited@example.com', PASSWORD, { ip: '192.0.2.1' })).status).toBe(
      303,
    );
  });

  it('counts a login before its password is checked: parallel wrong logins verify at most the limit', async () => {
    await newUser('parallel@example.com');
    const pages = await Promise.all(Array.from({ length: 25 }, () => openLogin(stack.app)));
    const answers = await Promise.all(
      pages.map((page, i) =>
        stack.app.request('/login', {
          method: 'POST',
          headers: {
            cookie: page.cookie,
            'content-type': FORM_TYPE,
            'x-forwarded-for': `192.0.2.${100 + i}`,
          },
          body: form({ _csrf: page.csrf, email: 'parallel@example.com', password: `wrong password ${i}` }),
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    // The per-e-mail limit is 10: the others are refused without a password check.
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    const audit = await stack.api('GET', '/api/audit?entity=session&actor=parallel@example.com&limit=100');
    expect(audit.body.items.filter((e: { operation: string }) => e.operation === 'loginFailed')).toHaveLength(
      10,
    );
  });

  it('a successful login does not use up the limit', async () => {
    await newUser('often@example.com');
    for (let i = 0; i < 12; i++) {
      expect((await postLogin(stack.app, 'often@example.com', PASSWORD, { ip: '192.0.2.77' })).status).toBe(
        303,
      );
    }
  });

  it('limits failed logins per client address', async () => {
    for (let i = 0; i < 30; i++) {
      await postLogin(stack.app, `spray${i}@example.com`, 'wrong password', { ip: '198.18.0.5' });
    }
    await newUser('sprayed@example.com');
    const r = await postLogin(stack.app, 'sprayed@example.com', PASSWORD, { ip: '198.18.0.5' });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('sessions', () => {
  it('logs out (the session dies) and logs out everywhere (another session dies)', async () => {
    await newUser('sessions@example.com');
    const a = await logIn(stack.app, 'sessions@example.com', PASSWORD);
    const b = await logIn(stack.app, 'sessions@example.com', PASSWORD);
    const c = await logIn(stack.app, 'sessions@example.com', PASSWORD);

    const out = await stack.app.request('/logout', {
      method: 'POST',
      headers: { cookie: a.cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: a.csrf }),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect(fullSetCookie(out, 'stockbridge_session')).toMatch(/Max-Age=0/i);
    expect((await call('GET', '/api/me', { cookie: a.cookie })).status).toBe(401);
    expect((await call('GET', '/api/me', { cookie: b.cookie })).status).toBe(200);

    const everywhere = await stack.app.request('/account/logout-everywhere', {
      method: 'POST',
      headers: { cookie: b.cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: b.csrf }),
    });
    expect(everywhere.status).toBe(303);
    expect((await call('GET', '/api/me', { cookie: b.cookie })).status).toBe(401);
    expect((await call('GET', '/api/me', { cookie: c.cookie })).status).toBe(401);
    expect((await stack.app.request('/account', { headers: { cookie: c.cookie } })).status).toBe(303);
  });

  it('logs a user out everywhere through the API (own, and an admin for a user)', async () => {
    const user = await newUser('api-out@example.com');
    const a = await logIn(stack.app, 'api-out@example.com', PASSWORD);
    const b = await logIn(stack.app, 'api-out@example.com', PASSWORD);
    const own = await call('POST', '/api/me/logout-everywhere', { cookie: a.cookie, 'x-csrf-token': a.csrf });
    expect(own.status).toBe(200);
    expect(own.body.sessionsEnded).toBe(2);
    expect((await call('GET', '/api/me', { cookie: b.cookie })).status).toBe(401);

    const c = await logIn(stack.app, 'api-out@example.com', PASSWORD);
    const byAdmin = await stack.api('POST', `/api/users/${user.id}/logout-everywhere`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toEqual({ sessionsEnded: 1 });
    expect((await call('GET', '/api/me', { cookie: c.cookie })).status).toBe(401);
    expect((await stack.api('POST', '/api/users/999999/logout-everywhere')).status).toBe(404);
  });

  it('a tampered cookie names no one', async () => {
    await newUser('tamper@example.com');
    const { cookie } = await logIn(stack.app, 'tamper@example.com', PASSWORD);
    const [name, value] = cookie.split('=') as [string, string];
    const [secret] = value.split('.');
    expect((await call('GET', '/api/me', { cookie: `${name}=${secret}.AAAA` })).status).toBe(401);
    expect((await call('GET', '/api/me', { cookie: `${name}=${secret}` })).status).toBe(401);
    // The database keeps the session id hashed only.
    const rows = await stack.db('user_sessions').select('id_hash');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('changes the password on the account page: the other sessions end, the old password stops working', async () => {
    await newUser('changer@example.com');
    const a = await logIn(stack.app, 'changer@example.com', PASSWORD);
    const b = await logIn(stack.app, 'changer@example.com', PASSWORD);
    const wrong = await stack.app.request('/account/password', {
      method: 'POST',
      headers: { cookie: a.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
      body: form({ _csrf: a.csrf, currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }),
    });
    expect(wrong.status).toBe(422);
    // No language of their own yet: the browser's.
    expect(await wrong.text()).toContain('The current password is not right.');
    // Once the user has one, it wins over the browser's.
    expect(
      (
        await stack.api(
          'PATCH',
          `/api/users/${(await stack.db('users').where('email', 'changer@example.com').first()).id}`,
          { locale: 'zh-CN' },
        )
      ).status,
    ).toBe(200);
    const again = await stack.app.request('/account/password', {
      method: 'POST',
      headers: { cookie: a.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
      body: form({ _csrf: a.csrf, currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }),
    });
    expect(await again.text()).toContain('当前密码不正确。');
    const changed = await stack.app.request('/account/password', {
      method: 'POST',
      headers: { cookie: a.cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: a.csrf, currentPassword: PASSWORD, newPassword: 'a brand new passphrase' }),
    });
    expect(changed.status).toBe(303);
    expect(changed.headers.get('location')).toBe('/account?changed=1');
    expect((await call('GET', '/api/me', { cookie: a.cookie })).status).toBe(200);
    expect((await call('GET', '/api/me', { cookie: b.cookie })).status).toBe(401);
    expect((await postLogin(stack.app, 'changer@example.com', PASSWORD, { ip: '203.0.113.50' })).status).toBe(
      401,
    );
    expect((await postLogin(stack.app, 'changer@example.com', 'a brand new passphrase')).status).toBe(303);

    // And through the API.
    const api = await call(
      'POST',
      '/api/me/password',
      { cookie: a.cookie, 'x-csrf-token': a.csrf },
      { currentPassword: 'a brand new passphrase', newPassword: 'yet another passphrase' },
    );
    expect(api.status).toBe(204);
    const bad = await call(
      'POST',
      '/api/me/password',
      { cookie: a.cookie, 'x-csrf-token': a.csrf },
      { currentPassword: 'wrong', newPassword: 'yet another passphrase 2' },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('wrong_password');
    expect(
      (await stack.api('POST', '/api/me/password', { currentPassword: 'x', newPassword: 'y' })).status,
    ).toBe(409);
  });

  it("a disabled user's sessions and tokens stop working, and they cannot log in", async () => {
    const { userId, token, cookie } = await userWithToken(stack, 'disabled@example.com', 'operator');
    expect((await call('GET', '/api/me', bearer(token))).status).toBe(200);
    const off = await stack.api('PATCH', `/api/users/${userId}`, { disabled: true });
    expect(off.status).toBe(200);
    expect(off.body.disabled).toBe(true);
    expect((await call('GET', '/api/me', bearer(token))).status).toBe(401);
    expect((await call('GET', '/api/me', { cookie })).status).toBe(401);
    expect(
      (await postLogin(stack.app, 'disabled@example.com', PASSWORD, { ip: '203.0.113.60' })).status,
    ).toBe(401);
    // Enabled again: the token works again (it was not revoked), the ended session does not.
    await stack.api('PATCH', `/api/users/${userId}`, { disabled: false });
    expect((await call('GET', '/api/me', bearer(token))).status).toBe(200);
    expect((await call('GET', '/api/me', { cookie })).status).toBe(401);
  });
});

describe('current password checks', () => {
  it('a wrong current password counts against the login limit; a token cannot change a password', async () => {
    const u = await userWithToken(stack, 'guessed@example.com', 'viewer');
    const session = { cookie: u.cookie, 'x-csrf-token': u.csrf };
    expect(
      (
        await call('POST', '/api/me/password', bearer(u.token), {
          currentPassword: PASSWORD,
          newPassword: 'another long password',
        })
      ).status,
    ).toBe(403);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (
          await call('POST', '/api/me/password', session, {
            currentPassword: `wrong guess ${i}`,
            newPassword: 'another long password',
          })
        ).status,
      );
    }
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(422));
    expect(statuses.slice(-2)).toEqual([429, 429]);
    const blocked = await call('POST', '/api/me/password', session, {
      currentPassword: PASSWORD,
      newPassword: 'another long password',
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.res.headers.get('retry-after'))).toBeGreaterThan(0);
    // The form on the account page is counted the same way (the same e-mail).
    const page = await stack.app.request('/account/password', {
      method: 'POST',
      headers: { cookie: u.cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: u.csrf, currentPassword: PASSWORD, newPassword: 'another long password' }),
    });
    expect(page.status).toBe(429);
    // The password did not change.
    expect((await postLogin(stack.app, 'guessed@example.com', PASSWORD, { ip: '192.0.2.201' })).status).toBe(
      429,
    );
  });
});

describe('users', () => {
  it('creates, lists, reads and changes users (admin), with clear errors', async () => {
    const u = await newUser('managed@example.com', 'viewer', { name: 'Managed One', locale: 'en' });
    expect(u).toMatchObject({ name: 'Managed One', role: 'viewer', locale: 'en', disabled: false });
    expect(JSON.stringify(u)).not.toContain('password');
    const dup = await stack.api('POST', '/api/users', {
      email: 'MANAGED@example.com',
      role: 'viewer',
      password: PASSWORD,
    });
    expect(dup.status).toBe(409);
    const weak = await stack.api('POST', '/api/users', {
      email: 'weak@example.com',
      role: 'viewer',
      password: 'short',
    });
    expect(weak.status).toBe(422);
    const bad = await stack.api('POST', '/api/users', {
      email: 'not-an-email',
      role: 'boss',
      password: PASSWORD,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['email', 'role']),
    );

    const list = await stack.api('GET', '/api/users?limit=1');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const page2 = await stack.api('GET', `/api/users?limit=1&cursor=${list.body.nextCursor}`);
    expect(page2.body.items[0].id).toBeLessThan(list.body.items[0].id);

    expect((await stack.api('GET', `/api/users/${u.id}`)).body.email).toBe('managed@example.com');
    expect((await stack.api('GET', '/api/users/999999')).status).toBe(404);
    const changed = await stack.api('PATCH', `/api/users/${u.id}`, { role: 'finance', name: 'Renamed' });
    expect(changed.body).toMatchObject({ role: 'finance', name: 'Renamed' });
    expect((await stack.api('PATCH', `/api/users/${u.id}`, {})).status).toBe(422);
    const reset = await stack.api('PATCH', `/api/users/${u.id}`, { password: 'a reset passphrase' });
    expect(reset.status).toBe(200);
    expect((await postLogin(stack.app, 'managed@example.com', 'a reset passphrase')).status).toBe(303);
    const hash = await stack.db('users').where({ id: u.id }).first('password_hash');
    expect(hash.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('an admin cannot lock themselves out', async () => {
    const { userId, cookie, csrf } = await userWithToken(stack, 'self-admin@example.com', 'admin');
    const r = await call(
      'PATCH',
      `/api/users/${userId}`,
      { cookie, 'x-csrf-token': csrf },
      { disabled: true },
    );
    expect(r.status).toBe(409);
    const d = await call(
      'PATCH',
      `/api/users/${userId}`,
      { cookie, 'x-csrf-token': csrf },
      { role: 'viewer' },
    );
    expect(d.status).toBe(409);
  });
});

describe('tokens', () => {
  it('shows a token once, stores only its hash, notes its last use, and a revoked token is 401', async () => {
    const { token, tokenId } = await userWithToken(stack, 'tokens@example.com', 'operator');
    expect(token).toMatch(/^sbt_/);
    const rows = await stack.db('api_tokens').where({ id: tokenId });
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(rows[0].prefix).toBe(token.slice(0, 12));
    expect(rows[0].last_used_at).toBeNull();

    const me = await call('GET', '/api/me', bearer(token));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'token', role: 'operator', actor: 'tokens@example.com', tokenId });
    const used = await stack.db('api_tokens').where({ id: tokenId }).first('last_used_at');
    expect(used.last_used_at).not.toBeNull();

    const list = await call('GET', '/api/tokens', bearer(token));
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: number }) => t.id)).toEqual([tokenId]);
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(list.body.items[0]).toMatchObject({
      prefix: token.slice(0, 12),
      role: 'operator',
      revokedAt: null,
    });
    expect(list.body.items[0].lastUsedAt).toEqual(expect.any(String));
    const all = await stack.api('GET', '/api/tokens');
    expect(JSON.stringify(all.body)).not.toContain(token);
    expect(all.body.items.length).toBeGreaterThanOrEqual(1);

    const revoked = await call('DELETE', `/api/tokens/${tokenId}`, bearer(token));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await call('GET', '/api/me', bearer(token));
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    expect((await stack.api('DELETE', '/api/tokens/999999')).status).toBe(404);
  });

  it('a user cannot mint a role above their own; service tokens are for admins', async () => {
    const op = await userWithToken(stack, 'minter@example.com', 'operator');
    const session = { cookie: op.cookie, 'x-csrf-token': op.csrf };
    for (const role of ['admin', 'finance']) {
      const r = await call('POST', '/api/tokens', session, { name: 'up', role });
      expect(r.status, role).toBe(403);
    }
    expect((await call('POST', '/api/tokens', session, { name: 'down', role: 'viewer' })).status).toBe(201);
    const service = await call('POST', '/api/tokens', session, {
      name: 's',
      role: 'viewer',
      service: true,
    });
    expect(service.status).toBe(403);

    const made = await stack.api('POST', '/api/tokens', { name: 'erp', role: 'finance' });
    expect(made.status).toBe(201);
    expect(made.body.userId).toBeNull();
    const me = await call('GET', '/api/me', bearer(made.body.token));
    expect(me.body).toMatchObject({ kind: 'token', role: 'finance', actor: 'token:erp', user: null });
    // Someone else's token: not theirs to revoke.
    expect((await call('DELETE', `/api/tokens/${made.body.id}`, bearer(op.token))).status).toBe(403);
  });

  it('an API token cannot make tokens (a leaked one cannot mint a sibling), an admin token neither', async () => {
    const admin = await userWithToken(stack, 'token-minter@example.com', 'admin');
    for (const body of [
      { name: 'sibling', role: 'viewer' },
      { name: 'svc', role: 'viewer', service: true },
    ]) {
      const r = await call('POST', '/api/tokens', bearer(admin.token), body);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    const svc = await stack.api('POST', '/api/tokens', { name: 'svc-root', role: 'operator' });
    expect(svc.status).toBe(201);
    expect(
      (await call('POST', '/api/tokens', bearer(svc.body.token), { name: 'x', role: 'viewer' })).status,
    ).toBe(403);
  });

  it("a service token dies with its admin's admin role or account; the bootstrap token's live on", async () => {
    const made = async (email: string) => {
      const admin = await userWithToken(stack, email, 'admin');
      const svc = await call(
        'POST',
        '/api/tokens',
        { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        { name: `svc of ${email}`, role: 'operator', service: true },
      );
      expect(svc.status).toBe(201);
      expect((await call('GET', '/api/me', bearer(svc.body.token))).status).toBe(200);
      return { admin, token: svc.body.token as string };
    };
    const demoted = await made('demoted-admin@example.com');
    const disabled = await made('disabled-admin@example.com');
    const root = await stack.api('POST', '/api/tokens', { name: 'svc of root', role: 'operator' });
    expect(
      (await stack.api('PATCH', `/api/users/${demoted.admin.userId}`, { role: 'operator' })).status,
    ).toBe(200);
    expect((await stack.api('PATCH', `/api/users/${disabled.admin.userId}`, { disabled: true })).status).toBe(
      200,
    );
    expect((await call('GET', '/api/me', bearer(demoted.token))).status).toBe(401);
    expect((await call('GET', '/api/me', bearer(disabled.token))).status).toBe(401);
    expect((await call('GET', '/api/me', bearer(root.body.token))).status).toBe(200);
    // Made admin again: the token works again (it was never revoked).
    expect((await stack.api('PATCH', `/api/users/${demoted.admin.userId}`, { role: 'admin' })).status).toBe(
      200,
    );
    expect((await call('GET', '/api/me', bearer(demoted.token))).status).toBe(200);
  });

  it('refuses by role: viewer on a change, operator on finance', async () => {
    const viewer = await userWithToken(stack, 'role-viewer@example.com', 'viewer');
    const operator = await userWithToken(stack, 'role-operator@example.com', 'operator');
    const v = await call('PUT', '/api/tax-rates/cn/std', bearer(viewer.token), { rateBasisPoints: 1300 });
    expect(v.status).toBe(403);
    expect(v.body.error.code).toBe('forbidden');
    expect((await call('GET', '/api/tax-rates', bearer(viewer.token))).status).toBe(200);
    const o = await call('PUT', '/api/tax-rates/cn/std', bearer(operator.token), { rateBasisPoints: 1300 });
    expect(o.status).toBe(403);
    expect((await call('GET', '/api/users', bearer(operator.token))).status).toBe(403);
    expect((await call('GET', '/api/audit', bearer(operator.token))).status).toBe(403);
    expect(await stack.db('tax_rates').count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('audit', () => {
  it('records each kind of change, with before/after for settings and secrets redacted', async () => {
    const now = dbTime();
    const [channelId] = await stack.db('channels').insert({
      type: 'shopify',
      name: 'Audited shop',
      enabled: false,
      settings: '{}',
      secrets: '',
      created_at: now,
      updated_at: now,
    });
    const tax = await stack.api('PUT', `/api/channels/${channelId}/tax`, {
      taxZone: 'cn',
      pricesIncludeTax: true,
    });
    expect(tax.status).toBe(200);

    const secretPassword = 'a very secret passphrase 42';
    const created = await stack.api('POST', '/api/users', {
      email: 'audited@example.com',
      role: 'operator',
      password: secretPassword,
    });
    await stack.api('PATCH', `/api/users/${created.body.id}`, {
      role: 'viewer',
      password: `${secretPassword}!`,
    });
    await stack.api('POST', `/api/users/${created.body.id}/logout-everywhere`);
    const token = await stack.api('POST', '/api/tokens', { name: 'audited', role: 'viewer' });
    await stack.api('DELETE', `/api/tokens/${token.body.id}`);
    // The account's own changes: a failed and a good login, the password (form and API), log out
    // everywhere (API and form), log out.
    expect(
      (await postLogin(stack.app, 'audited@example.com', 'wrong password', { ip: '203.0.113.90' })).status,
    ).toBe(401);
    const s1 = await logIn(stack.app, 'audited@example.com', `${secretPassword}!`);
    const formPost = (path: string, fields: Record<string, string>) =>
      stack.app.request(path, {
        method: 'POST',
        headers: { cookie: s1.cookie, 'content-type': FORM_TYPE },
        body: form({ _csrf: s1.csrf, ...fields }),
      });
    expect(
      (
        await formPost('/account/password', {
          currentPassword: `${secretPassword}!`,
          newPassword: `${secretPassword}?`,
        })
      ).status,
    ).toBe(303);
    const viaApi = await call(
      'POST',
      '/api/me/password',
      { cookie: s1.cookie, 'x-csrf-token': s1.csrf },
      { currentPassword: `${secretPassword}?`, newPassword: `${secretPassword}#` },
    );
    expect(viaApi.status).toBe(204);
    expect((await formPost('/logout', {})).status).toBe(303);
    const s2 = await logIn(stack.app, 'audited@example.com', `${secretPassword}#`);
    expect(
      (await call('POST', '/api/me/logout-everywhere', { cookie: s2.cookie, 'x-csrf-token': s2.csrf }))
        .status,
    ).toBe(200);
    const s3 = await logIn(stack.app, 'audited@example.com', `${secretPassword}#`);
    const everywhere = await stack.app.request('/account/logout-everywhere', {
      method: 'POST',
      headers: { cookie: s3.cookie, 'content-type': FORM_TYPE },
      body: form({ _csrf: s3.csrf }),
    });
    expect(everywhere.status).toBe(303);

    const all = await stack.api('GET', '/api/audit?limit=500');
    expect(all.status).toBe(200);
    const ops = new Set(all.body.items.map((e: { operation: string }) => e.operation));
    for (const op of [
      'setChannelTax',
      'createUser',
      'updateUser',
      'logoutUserEverywhere',
      'createToken',
      'revokeToken',
      'login',
      'loginFailed',
      'logout',
      'logoutEverywhereForm',
      'changePasswordForm',
      'changeMyPassword',
      'logoutMeEverywhere',
    ]) {
      expect(ops, op).toContain(op);
    }
    const text = JSON.stringify(all.body);
    expect(text).not.toContain(secretPassword);
    expect(text).not.toContain(token.body.token);

    const taxEntry = all.body.items.find(
      (e: { operation: string; entityId: string }) =>
        e.operation === 'setChannelTax' && e.entityId === String(channelId),
    );
    expect(taxEntry).toMatchObject({
      actor: 'admin',
      actorKind: 'bootstrap',
      entity: 'channel',
      entityId: String(channelId),
      method: 'PUT',
      route: '/api/channels/{id}/tax',
      before: { taxZone: null },
      after: { taxZone: 'cn', pricesIncludeTax: true },
      request: { taxZone: 'cn', pricesIncludeTax: true },
    });
    const userEntry = all.body.items.find(
      (e: { operation: string; entityId: string }) =>
        e.operation === 'createUser' && e.entityId === String(created.body.id),
    );
    expect(userEntry.request).toMatchObject({ email: 'audited@example.com', password: '[redacted]' });
    const update = all.body.items.find(
      (e: { operation: string; entityId: string }) =>
        e.operation === 'updateUser' && e.entityId === String(created.body.id),
    );
    expect(update.before).toMatchObject({ role: 'operator' });
    expect(update.after).toMatchObject({ role: 'viewer' });
    expect(update.request.password).toBe('[redacted]');
  });

  it('filters by entity, actor and entity id, newest first, paged', async () => {
    const op = await userWithToken(stack, 'audit-actor@example.com', 'admin');
    const a1 = await call(
      'POST',
      '/api/tokens',
      { cookie: op.cookie, 'x-csrf-token': op.csrf },
      { name: 'a1', role: 'viewer' },
    );
    expect(a1.status).toBe(201);
    expect((await call('DELETE', `/api/tokens/${a1.body.id}`, bearer(op.token))).status).toBe(200);

    const byActor = await stack.api('GET', '/api/audit?actor=audit-actor@example.com&entity=token');
    expect(byActor.status).toBe(200);
    // The token made at sign-up and a1 (by session), and a1 revoked with the token.
    expect(byActor.body.items).toHaveLength(3);
    expect(
      byActor.body.items.every(
        (e: { actor: string; entity: string }) =>
          e.actor === 'audit-actor@example.com' && e.entity === 'token',
      ),
    ).toBe(true);
    const ids = byActor.body.items.map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(byActor.body.items[0]).toMatchObject({
      actorKind: 'token',
      tokenId: op.tokenId,
      method: 'DELETE',
    });
    expect(byActor.body.items[2].actorKind).toBe('session');

    const page = await stack.api('GET', '/api/audit?actor=audit-actor@example.com&entity=token&limit=2');
    expect(page.body.items).toHaveLength(2);
    const rest = await stack.api(
      `GET`,
      `/api/audit?actor=audit-actor@example.com&entity=token&limit=2&cursor=${page.body.nextCursor}`,
    );
    expect(rest.body.items.map((e: { id: number }) => e.id)).toEqual([ids[2]]);
    expect(rest.body.nextCursor).toBeNull();

    const byEntityId = await stack.api('GET', `/api/audit?entity=session&entityId=${op.userId}`);
    expect(byEntityId.body.items.map((e: { operation: string }) => e.operation)).toContain('login');
    expect((await stack.api('GET', '/api/audit?cursor=garbage')).status).toBe(400);
    expect((await stack.api('GET', '/api/audit?entity=nothing-like-this')).body.items).toEqual([]);
  });
});

describe('login page form token', () => {
  it('the CSRF field on every form', async () => {
    await newUser('forms@example.com');
    const { cookie, csrf } = await logIn(stack.app, 'forms@example.com', PASSWORD);
    const html = await (await stack.app.request('/account', { headers: { cookie } })).text();
    const forms = html.match(/<form[\s\S]*?<\/form>/g) ?? [];
    expect(forms.length).toBe(3);
    for (const f of forms) expect(csrfFieldOf(f)).toBe(csrf);
  });
});
