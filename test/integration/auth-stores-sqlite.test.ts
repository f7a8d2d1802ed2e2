import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import {
  createSession,
  deleteUserSessions,
  endOtherSessions,
  findSession,
  SESSION_IDLE_MS,
} from '../../src/auth/session-store.js';
import { createToken, listTokens, revokeToken, tokenHash } from '../../src/auth/token-store.js';
import { createUser, findUserByEmail, listUsers, updateUser } from '../../src/auth/user-store.js';
import { ConflictError, ValidationError } from '../../src/errors/domain-errors.js';
import { createSqliteDatabase, type TestDatabase } from '../helpers/db.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';

/** The user, token and session stores on the embedded SQLite database (`npm start`'s default). */
let database: TestDatabase;

beforeAll(async () => {
  database = await createSqliteDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('auth stores on SQLite', () => {
  it('users: unique case-insensitive e-mail, argon2id hash, changes', async () => {
    const { db } = database;
    const user = await createUser(db, {
      email: 'Ann@Example.com',
      role: 'finance',
      password: 'a long passphrase',
    });
    expect(user).toMatchObject({
      email: 'ann@example.com',
      name: 'ann@example.com',
      locale: null,
      disabled: false,
    });
    expect(user.createdAt).toMatch(/Z$/);
    await expect(
      createUser(db, { email: 'ANN@example.com', role: 'viewer', password: 'a long passphrase' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      createUser(db, { email: 'b@example.com', role: 'viewer', password: 'short' }),
    ).rejects.toBeInstanceOf(ValidationError);
    const row = await findUserByEmail(db, 'ANN@EXAMPLE.COM');
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    const changed = await updateUser(db, user.id, { role: 'viewer', disabled: true, locale: 'en' });
    expect(changed).toMatchObject({ role: 'viewer', disabled: true, locale: 'en' });
    expect((await listUsers(db, { beforeId: null, limit: 10 })).items).toHaveLength(1);
  });

  it('tokens: hash only, revocation, a disabled user’s token names no one, cache cleared on revoke', async () => {
    const { db } = database;
    const user = await createUser(db, {
      email: 'tok@example.com',
      role: 'operator',
      password: 'a long passphrase',
    });
    const { token, record } = await createToken(db, {
      name: 'ci',
      role: 'operator',
      userId: user.id,
      createdBy: 'admin',
    });
    const stored = await db('api_tokens').where({ id: record.id }).first();
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored.token_hash).toBe(tokenHash(token));

    let clock = Date.parse('2026-12-01T10:00:00Z');
    const auth = new Authenticator({
      db,
      adminToken: 'bootstrap-token-123',
      signingKey: 'k',
      now: () => clock,
    });
    expect((await auth.bearer('bootstrap-token-123'))?.kind).toBe('bootstrap');
    expect(await auth.bearer('sbt_unknown')).toBeNull();
    const p = await auth.bearer(token);
    expect(p).toMatchObject({
      kind: 'token',
      role: 'operator',
      userId: user.id,
      tokenId: record.id,
      actor: 'tok@example.com',
    });
    expect((await listTokens(db, { userId: user.id, beforeId: null, limit: 10 })).items[0]?.lastUsedAt).toBe(
      '2026-12-01T10:00:00.000Z',
    );

    // Revoked in "another process": this one believes its cache until it expires.
    await revokeToken(db, record.id);
    expect(await auth.bearer(token)).not.toBeNull();
    clock += 6000;
    expect(await auth.bearer(token)).toBeNull();

    const second = await createToken(db, {
      name: 'ci2',
      role: 'viewer',
      userId: user.id,
      createdBy: 'admin',
    });
    expect(await auth.bearer(second.token)).not.toBeNull();
    await updateUser(db, user.id, { disabled: true });
    auth.clearCache();
    expect(await auth.bearer(second.token)).toBeNull();

    // A service token; a user's token whose user was lowered acts with the user's role.
    const svc = await createToken(db, { name: 'erp', role: 'finance', userId: null, createdBy: 'admin' });
    expect(await auth.bearer(svc.token)).toMatchObject({ actor: 'token:erp', role: 'finance', userId: null });
    const boss = await createUser(db, {
      email: 'boss@example.com',
      role: 'admin',
      password: 'a long passphrase',
    });
    const bossToken = await createToken(db, { name: 'b', role: 'admin', userId: boss.id, createdBy: 'boss' });
    await updateUser(db, boss.id, { role: 'operator' });
    expect((await auth.bearer(bossToken.token))?.role).toBe('operator');
  });

  it('sessions: signed cookie, idle expiry, logout everywhere', async () => {
    const { db } = database;
    const user = await createUser(db, {
      email: 'ses@example.com',
      role: 'viewer',
      password: 'a long passphrase',
    });
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const auth = new Authenticator({
      db,
      adminToken: 'bootstrap-token-123',
      signingKey: 'k',
      now: () => clock,
    });
    const a = await createSession(db, user.id, new Date(clock));
    const b = await createSession(db, user.id, new Date(clock));
    const cookie = auth.cookieValue(a.secret);
    expect(auth.unsign(cookie)).toBe(a.secret);
    expect(auth.unsign(`${a.secret}.forged`)).toBeNull();
    const found = await auth.session(cookie);
    expect(found?.principal).toMatchObject({
      kind: 'session',
      role: 'viewer',
      userId: user.id,
      actor: 'ses@example.com',
    });
    expect(found?.session.csrfToken).toBe(a.csrfToken);

    clock += SESSION_IDLE_MS + 1000;
    expect(await auth.session(cookie)).toBeNull();
    clock = Date.parse('2026-12-01T10:00:00Z');
    expect(await findSession(db, b.secret, new Date(clock))).not.toBeNull();
    expect(await endOtherSessions(db, user.id, found!.session.id)).toBe(1);
    expect(await findSession(db, b.secret, new Date(clock))).toBeNull();
    expect(await deleteUserSessions(db, user.id)).toBe(1);
    expect(await auth.session(cookie)).toBeNull();
  });
});

describe('stockbridge user:add', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const cli = (args: string[], env: Record<string, string>) =>
    runCommand(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env: plainEnv({ LOG_LEVEL: 'error', STOCKBRIDGE_DATA_DIR: database.name, ...env }),
    });

  it('creates the first admin with the password from STOCKBRIDGE_NEW_PASSWORD', async () => {
    const r = await cli(
      ['user:add', '--email', 'First@Example.com', '--role', 'admin', '--name', 'First Admin'],
      {
        STOCKBRIDGE_NEW_PASSWORD: 'the first admin passphrase',
      },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain('the first admin passphrase');
    const row = await findUserByEmail(database.db, 'first@example.com');
    expect(row).toMatchObject({ role: 'admin', name: 'First Admin' });
    expect(await verifyPassword(row!.password_hash, 'the first admin passphrase')).toBe(true);

    const again = await cli(['user:add', '--email', 'first@example.com', '--role', 'admin'], {
      STOCKBRIDGE_NEW_PASSWORD: 'the first admin passphrase',
    });
    expect(again.code).toBe(1);
    expect(again.out).toContain('exists');
    const bad = await cli(['user:add', '--email', 'x', '--role', 'boss'], {
      STOCKBRIDGE_NEW_PASSWORD: 'whatever long',
    });
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--role must be one of');
    // No terminal and no variable: it says how to give the password.
    const none = await cli(['user:add', '--email', 'y@example.com', '--role', 'viewer'], {});
    expect(none.code).toBe(2);
    expect(none.out).toContain('STOCKBRIDGE_NEW_PASSWORD');
  });
});
