import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTexts, COMMON } from '../../../src/console/texts.js';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, type TestStack } from '../../helpers/stack.js';

/** The console's frame: the login guard, CSRF, the language, error pages, assets. */
let stack: TestStack;
let operator: { cookie: string; csrf: string; id: number };

beforeAll(async () => {
  stack = await createStack();
  const made = await stack.api('POST', '/api/users', {
    email: 'ops@example.com',
    role: 'operator',
    password: 'correct horse battery',
  });
  expect(made.status).toBe(201);
  operator = { ...(await logIn(stack.app, 'ops@example.com', 'correct horse battery')), id: made.body.id };
});

afterAll(async () => {
  await stack?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => stack.app.request(path, { headers });

describe('the console frame', () => {
  it('sends a visitor without a session to the login, and back after it', async () => {
    const res = await get('/console/orders?status=on_hold');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(
      `/login?next=${encodeURIComponent('/console/orders?status=on_hold')}`,
    );
    const post = await stack.app.request('/console/language', {
      method: 'POST',
      headers: { 'content-type': FORM_TYPE },
      body: form({ locale: 'en' }),
    });
    expect(post.status).toBe(401);
    expect(post.headers.get('content-type')).toContain('text/html');
  });

  it('serves its style sheet and script without a session', async () => {
    const css = await get('/console/assets/console.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await css.text()).toContain('.field-error');
    const js = await get('/console/assets/console.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await get('/console/assets/nope.js')).status).toBe(404);
  });

  it('answers an unknown page with an error page in the browser’s language until the user picks one', async () => {
    const res = await get('/console/no-such-page', {
      cookie: operator.cookie,
      'accept-language': 'en-GB,en;q=0.8',
    });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('<h1>Error 404</h1>');
    const zh = await get('/console/no-such-page', { cookie: operator.cookie, 'accept-language': 'zh-TW' });
    expect(await zh.text()).toContain('<h1>错误 404</h1>');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('refuses a change without the session’s CSRF token, and changes nothing', async () => {
    const res = await stack.app.request('/console/language', {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': FORM_TYPE },
      body: form({ locale: 'en', _csrf: 'wrong' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('CSRF');
    const row = await stack.db('users').where('id', operator.id).first();
    expect(row.locale).toBe('');
  });

  it('keeps the language a user picks, and writes it in the audit log', async () => {
    const res = await stack.app.request('/console/language', {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': FORM_TYPE },
      body: form({ locale: 'en', back: '/console/stock', _csrf: operator.csrf }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/stock');
    expect((await stack.db('users').where('id', operator.id).first()).locale).toBe('en');
    // The page follows the user's language, whatever the browser says.
    const page = await get('/console/nowhere', { cookie: operator.cookie, 'accept-language': 'zh-CN' });
    expect(await page.text()).toContain('lang="en"');
    const audit = await stack.db('audit_log').where('operation', 'consoleSetLanguage').first();
    expect(audit.actor).toBe('ops@example.com');
    // A return address off this site is not followed.
    const off = await stack.app.request('/console/language', {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': FORM_TYPE },
      body: form({ locale: 'zh-CN', back: '//evil.example/', _csrf: operator.csrf }),
    });
    expect(off.headers.get('location')).toBe('/console');
    const bad = await stack.app.request('/console/language', {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': FORM_TYPE },
      body: form({ locale: 'fr', _csrf: operator.csrf }),
    });
    expect(bad.status).toBe(422);
    // Empty: back to the browser's language.
    await stack.app.request('/console/language', {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': FORM_TYPE },
      body: form({ locale: '', _csrf: operator.csrf }),
    });
    expect((await stack.db('users').where('id', operator.id).first()).locale).toBe('');
    const again = await get('/console/nowhere', { cookie: operator.cookie, 'accept-language': 'en' });
    expect(await again.text()).toContain('lang="en"');
  });

  it('has every text in both languages', () => {
    expect(COMMON.en.nav.orders).toBe('Orders');
    const blank: string[] = [];
    const walk = (name: string, en: unknown, zh: unknown, path: string) => {
      if (typeof en === 'string') {
        if (!en.trim() || typeof zh !== 'string' || !zh.trim()) blank.push(`${name}:${path}`);
      } else if (typeof en === 'function') {
        if (typeof zh !== 'function') blank.push(`${name}:${path}`);
      } else if (en && typeof en === 'object') {
        for (const k of Object.keys(en)) walk(name, (en as never)[k], (zh as never)?.[k], `${path}.${k}`);
        for (const k of Object.keys((zh as object) ?? {}))
          if (!(k in (en as object))) blank.push(`${name}:${path}.${k} (zh only)`);
      }
    };
    for (const { name, texts } of allTexts()) walk(name, texts.en, texts['zh-CN'], '');
    expect(blank).toEqual([]);
  });
});
