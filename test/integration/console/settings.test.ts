import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, type TestStack } from '../../helpers/stack.js';

/** Settings in the console: users, API tokens, notification rules. */
let stack: TestStack;
type Browser = { cookie: string; csrf: string; id: number };
let admin: Browser;
let viewer: Browser;
const PASSWORD = 'correct horse battery';

async function user(email: string, role: string, ip: string): Promise<Browser> {
  const made = await stack.api('POST', '/api/users', { email, role, password: PASSWORD });
  expect(made.status).toBe(201);
  return { ...(await logIn(stack.app, email, PASSWORD, ip)), id: made.body.id };
}

beforeAll(async () => {
  stack = await createStack();
  admin = await user('boss@example.com', 'admin', '203.0.113.10');
  viewer = await user('look@example.com', 'viewer', '203.0.113.11');
});

afterAll(async () => {
  await stack?.close();
});

const get = (who: Browser, path: string, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });
const post = (who: Browser, path: string, fields: Record<string, string>, lang = 'en') =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': lang },
    body: form({ ...fields, _csrf: who.csrf }),
  });
const audits = (operation: string) => stack.db('audit_log').where({ operation }).orderBy('id');

describe('settings: users', () => {
  it('lists users in English and Chinese, for an admin only', async () => {
    const en = await get(admin, '/console/settings/users');
    expect(en.status).toBe(200);
    const html = await en.text();
    expect(html).toContain('look@example.com');
    expect(html).toContain('<h1>Users</h1>');
    expect(html).toContain('Viewer');
    const zh = await (await get(admin, '/console/settings/users', 'zh-CN')).text();
    expect(zh).toContain('<h1>用户</h1>');
    expect(zh).toContain('只读');
    const overview = await (await get(admin, '/console/settings')).text();
    expect(overview).toContain('/console/settings/notifications');
    // A viewer: no users page, no user forms; their settings are their tokens.
    const denied = await get(viewer, '/console/settings/users');
    expect(denied.status).toBe(403);
    const mine = await (await get(viewer, '/console/settings')).text();
    expect(mine).not.toContain('/console/settings/users');
    expect(mine).toContain('/console/settings/tokens');
    const refused = await post(viewer, '/console/settings/users', {
      email: 'sneak@example.com',
      role: 'admin',
      password: PASSWORD,
    });
    expect(refused.status).toBe(403);
    expect(await stack.db('users').where({ email: 'sneak@example.com' }).first()).toBeUndefined();
  });

  it('creates a user as the API does, with an audit entry', async () => {
    const res = await post(admin, '/console/settings/users', {
      email: 'New.Person@example.com',
      name: 'New Person',
      role: 'finance',
      locale: 'zh-CN',
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const row = await stack.db('users').where({ email: 'new.person@example.com' }).first();
    expect(row).toMatchObject({ name: 'New Person', role: 'finance', locale: 'zh-CN' });
    expect(res.headers.get('location')).toBe(`/console/settings/users/${row.id}`);
    const [entry] = await audits('consoleCreateUser');
    expect(entry).toMatchObject({ actor: 'boss@example.com', entity: 'user', entity_id: String(row.id) });
    // The password is not in the audit entry.
    expect(JSON.stringify(entry)).not.toContain(PASSWORD);
    // It logs in.
    await logIn(stack.app, 'new.person@example.com', PASSWORD, '203.0.113.12');
  });

  it('answers a bad user form with each error beside its field, and changes nothing', async () => {
    const before = await stack.db('users').count({ n: '*' });
    const res = await post(admin, '/console/settings/users', {
      email: 'not-an-address',
      role: 'chief',
      password: '',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-email"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="f-role"[^>]*aria-invalid="true"/);
    expect(html).toContain('id="f-email-error"');
    expect(html).toContain('error-summary');
    expect(await stack.db('users').count({ n: '*' })).toEqual(before);
    // A short password: the store's own check, beside the password.
    const weak = await post(admin, '/console/settings/users', {
      email: 'weak@example.com',
      role: 'viewer',
      password: 'short',
    });
    expect(weak.status).toBe(422);
    expect(await weak.text()).toMatch(/id="f-password"[^>]*aria-invalid="true"/);
    // A taken address: 409, beside the e-mail.
    const taken = await post(admin, '/console/settings/users', {
      email: 'look@example.com',
      role: 'viewer',
      password: PASSWORD,
    });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toMatch(/id="f-email"[^>]*aria-invalid="true"/);
  });

  it('changes a user’s role, language and disabled flag, and resets a password', async () => {
    const target = await stack.db('users').where({ email: 'new.person@example.com' }).first();
    const page = await (await get(admin, `/console/settings/users/${target.id}`)).text();
    expect(page).toContain('Reset the password');
    const res = await post(admin, `/console/settings/users/${target.id}`, {
      name: 'Renamed',
      role: 'operator',
      locale: '',
      disabled: 'false',
    });
    expect(res.status).toBe(303);
    const row = await stack.db('users').where({ id: target.id }).first();
    expect(row).toMatchObject({ name: 'Renamed', role: 'operator', locale: '' });
    const [entry] = await audits('consoleUpdateUser');
    expect(JSON.parse(entry.before).role).toBe('finance');
    expect(JSON.parse(entry.after).role).toBe('operator');
    // Reset: the old password no longer works, the new one does.
    const reset = await post(admin, `/console/settings/users/${target.id}/password`, {
      password: 'a brand new secret',
    });
    expect(reset.status).toBe(303);
    await expect(logIn(stack.app, 'new.person@example.com', PASSWORD, '203.0.113.13')).rejects.toThrow();
    await logIn(stack.app, 'new.person@example.com', 'a brand new secret', '203.0.113.14');
    // An empty reset is that field's error.
    const empty = await post(admin, `/console/settings/users/${target.id}/password`, { password: '' });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toMatch(/id="f-password"[^>]*aria-invalid="true"/);
    // An admin cannot disable themselves: 409, nothing changed.
    const own = await post(admin, `/console/settings/users/${admin.id}`, { disabled: 'true' });
    expect(own.status).toBe(409);
    expect(Boolean((await stack.db('users').where({ id: admin.id }).first()).disabled)).toBe(false);
  });
});

describe('settings: API tokens', () => {
  it('makes a token from the session, shows it once, and it works', async () => {
    const res = await post(viewer, '/console/settings/tokens', { name: 'my script', role: 'viewer' });
    // A 303 (a reload makes no second token); the page it leads to shows the token once, handed over
    // in a short-lived HttpOnly cookie for that page only, never in the URL.
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/settings/tokens');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/sb_new_token=[^;]+;/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\/console\/settings\/tokens/);
    expect(setCookie).toMatch(/Max-Age=60/);
    const handed = /sb_new_token=[^;]+/.exec(setCookie)![0];
    const shown = await stack.app.request('/console/settings/tokens', {
      headers: { cookie: `${viewer.cookie}; ${handed}`, 'accept-language': 'en' },
    });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('set-cookie')).toMatch(/sb_new_token=;.*Max-Age=0/i);
    const html = await shown.text();
    const token = /id="new-token"[^>]*value="(sbt_[^"]+)"/.exec(html)?.[1];
    expect(token).toBeTruthy();
    expect(await stack.db('api_tokens').where({ name: 'my script' }).count({ n: '*' })).toEqual([{ n: 1 }]);
    const row = await stack.db('api_tokens').where({ name: 'my script' }).first();
    expect(row).toMatchObject({ role: 'viewer', user_id: viewer.id });
    const works = await stack.app.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
    expect(works.status).toBe(200);
    // Never again: the list shows its prefix only.
    const list = await (await get(viewer, '/console/settings/tokens')).text();
    expect(list).toContain('my script');
    expect(list).not.toContain(token!);
    expect(list).toContain(row.prefix);
    const [entry] = await audits('consoleCreateToken');
    expect(entry.entity_id).toBe(String(row.id));
    expect(JSON.stringify(entry)).not.toContain(token!);
    const zh = await (await get(viewer, '/console/settings/tokens', 'zh-CN')).text();
    expect(zh).toContain('我的 API 令牌');
  });

  it('refuses a token without a name beside the field, and a role above the maker’s', async () => {
    const before = await stack.db('api_tokens').count({ n: '*' });
    const res = await post(viewer, '/console/settings/tokens', { name: '', role: 'viewer' });
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/id="f-name"[^>]*aria-invalid="true"/);
    const above = await post(viewer, '/console/settings/tokens', { name: 'admin please', role: 'admin' });
    expect(above.status).toBe(403);
    expect(await stack.db('api_tokens').count({ n: '*' })).toEqual(before);
  });

  it('revokes a token: the viewer their own, not another’s', async () => {
    const mine = await stack.db('api_tokens').where({ name: 'my script' }).first();
    const adminToken = await post(admin, '/console/settings/tokens', { name: 'admin script', role: 'admin' });
    expect(adminToken.status).toBe(303);
    const theirs = await stack.db('api_tokens').where({ name: 'admin script' }).first();
    const refused = await post(viewer, `/console/settings/tokens/${theirs.id}/revoke`, {});
    expect(refused.status).toBe(403);
    expect((await stack.db('api_tokens').where({ id: theirs.id }).first()).revoked_at).toBeNull();
    const res = await post(viewer, `/console/settings/tokens/${mine.id}/revoke`, {});
    expect(res.status).toBe(303);
    expect((await stack.db('api_tokens').where({ id: mine.id }).first()).revoked_at).not.toBeNull();
    expect((await audits('consoleRevokeToken')).length).toBe(1);
    // The admin sees every token, with a revoke button for the live ones.
    const list = await (await get(admin, '/console/settings/tokens')).text();
    expect(list).toContain('my script');
    expect(list).toContain(`/console/settings/tokens/${theirs.id}/revoke`);
    expect(list).toContain('Revoke “admin script”');
    expect(list).not.toContain(`/console/settings/tokens/${mine.id}/revoke`);
  });
});

describe('settings: notification rules', () => {
  it('lists the rules in both languages, for an admin only', async () => {
    const en = await (await get(admin, '/console/settings/notifications')).text();
    expect(en).toContain('<h1>Notification rules</h1>');
    const zh = await (await get(admin, '/console/settings/notifications', 'zh-CN')).text();
    expect(zh).toContain('<h1>通知规则</h1>');
    expect((await get(viewer, '/console/settings/notifications')).status).toBe(403);
    const refused = await post(viewer, '/console/settings/notifications', {
      event: 'order.held',
      'recipients.0.type': 'contact',
    });
    expect(refused.status).toBe(403);
  });

  it('creates, edits and deletes a rule as the API does', async () => {
    const res = await post(admin, '/console/settings/notifications', {
      name: 'Held orders to the desk',
      event: 'order.held',
      'filters.channel': '',
      'filters.customerGroup': '',
      'filters.holdReason': 'unknown_sku',
      'recipients.0.type': 'email',
      'recipients.0.medium': '',
      'recipients.0.address': 'desk@example.com',
      'recipients.0.role': '',
      'recipients.0.number': '',
      'recipients.0.endpointId': '',
      'recipients.0.language': 'zh-CN',
      'recipients.1.type': '',
      'recipients.1.medium': '',
      'recipients.1.address': '',
      'recipients.1.role': '',
      'recipients.1.number': '',
      'recipients.1.endpointId': '',
      'recipients.1.language': '',
      enabled: 'true',
    });
    expect(res.status).toBe(303);
    const id = Number(/\/notifications\/(\d+)$/.exec(res.headers.get('location')!)![1]);
    const api = await stack.api('GET', `/api/notification-rules/${id}`);
    expect(api.body).toMatchObject({
      name: 'Held orders to the desk',
      event: 'order.held',
      filters: { holdReason: 'unknown_sku' },
      recipients: [{ type: 'email', address: 'desk@example.com', language: 'zh-CN' }],
      enabled: true,
    });
    expect((await audits('consoleCreateNotificationRule'))[0].entity_id).toBe(String(id));
    const page = await (await get(admin, `/console/settings/notifications/${id}`)).text();
    expect(page).toContain('value="desk@example.com"');
    const edit = await post(admin, `/console/settings/notifications/${id}`, {
      event: 'order.held',
      'recipients.0.type': 'role',
      'recipients.0.role': 'operations',
      enabled: 'false',
    });
    expect(edit.status).toBe(303);
    const after = await stack.api('GET', `/api/notification-rules/${id}`);
    expect(after.body).toMatchObject({ recipients: [{ type: 'role', role: 'operations' }], enabled: false });
    const [entry] = await audits('consoleUpdateNotificationRule');
    expect(JSON.parse(entry.before).enabled).toBe(true);
    expect(JSON.parse(entry.after).enabled).toBe(false);
    const del = await post(admin, `/console/settings/notifications/${id}/delete`, {});
    expect(del.status).toBe(303);
    expect((await stack.api('GET', `/api/notification-rules/${id}`)).status).toBe(404);
    expect((await audits('consoleDeleteNotificationRule')).length).toBe(1);
  });

  it('answers a bad rule with the error beside the recipient’s field, and stores nothing', async () => {
    const before = await stack.db('notification_rules').count({ n: '*' });
    const res = await post(admin, '/console/settings/notifications', {
      event: 'order.shipped',
      'recipients.0.type': 'email',
      'recipients.0.address': 'not an address',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-recipients-0-address"[^>]*aria-invalid="true"/);
    const none = await post(admin, '/console/settings/notifications', { event: 'order.shipped' });
    expect(none.status).toBe(422);
    expect(await none.text()).toContain('name at least one recipient');
    expect(await stack.db('notification_rules').count({ n: '*' })).toEqual(before);
  });
});
