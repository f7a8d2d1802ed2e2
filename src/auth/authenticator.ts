import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/connection.js';
import { BOOTSTRAP_ADMIN, type Principal, type Role, roleCovers } from './roles.js';
import { type ActiveSession, findSession } from './session-store.js';
import { findActiveToken, TOKEN_MARK, tokenHash, touchToken } from './token-store.js';

export interface AuthenticatorOptions {
  db: Db;
  /** STOCKBRIDGE_ADMIN_TOKEN: the bootstrap admin. */
  adminToken: string;
  /** Key material for signing cookies (STOCKBRIDGE_SECRET_KEY; the admin token when there is none). */
  signingKey: Buffer | string;
  /**
   * How long a looked-up API token is believed without asking the database again. Default 5000 ms:
   * a token revoked in another process still works there for up to this long.
   */
  tokenCacheMs?: number;
  now?: () => number;
}

const sha = (s: string) => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(sha(a), sha(b));

const CACHE_MAX = 1000;

/** A logged-in browser: who, and the session's CSRF token its changes must carry. */
export interface SessionPrincipal {
  principal: Principal;
  session: ActiveSession;
}

/**
 * Who a credential belongs to: the bootstrap admin token, an API token (cached a few seconds per
 * process), or a session cookie. A disabled user's tokens and sessions name no one.
 */
export class Authenticator {
  readonly #db: Db;
  readonly #adminToken: string;
  readonly #cookieKey: Buffer;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { principal: Principal | null; until: number }>();
  readonly #touched = new Map<number, number>();

  constructor({ db, adminToken, signingKey, tokenCacheMs = 5000, now = Date.now }: AuthenticatorOptions) {
    this.#db = db;
    this.#adminToken = adminToken;
    this.#cookieKey = createHmac('sha256', signingKey).update('stockbridge session cookie').digest();
    this.#cacheMs = tokenCacheMs;
    this.#now = now;
  }

  /** The principal of a bearer token, or null. */
  async bearer(token: string): Promise<Principal | null> {
    if (sameSecret(token, this.#adminToken)) return BOOTSTRAP_ADMIN;
    if (!token.startsWith(TOKEN_MARK) || token.length > 128) return null;
    const key = tokenHash(token);
    const now = this.#now();
    const cached = this.#cache.get(key);
    let principal: Principal | null;
    if (cached && cached.until > now) {
      principal = cached.principal;
    } else {
      principal = await this.#lookUp(token);
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(key, { principal, until: now + this.#cacheMs });
    }
    if (principal?.tokenId != null) await this.#touch(principal.tokenId, now);
    return principal;
  }

  /** Forgets every cached token (after a revocation, or a user's change, in this process). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #lookUp(token: string): Promise<Principal | null> {
    const holder = await findActiveToken(this.#db, token);
    if (!holder) return null;
    if (holder.userId !== null) {
      if (holder.userDisabled || holder.userRole === null) return null;
      return {
        kind: 'token',
        role: effectiveRole(holder.userRole, holder.role),
        userId: holder.userId,
        tokenId: holder.id,
        actor: holder.userEmail ?? `token:${holder.name}`,
        ...(holder.userLocale === 'en' || holder.userLocale === 'zh-CN' ? { locale: holder.userLocale } : {}),
      };
    }
    // A service token lives only while the admin who made it is one (the bootstrap token's: always).
    if (holder.creatorUserId !== null && (holder.creatorDisabled || holder.creatorRole !== 'admin'))
      return null;
    return {
      kind: 'token',
      role: holder.role,
      userId: null,
      tokenId: holder.id,
      actor: `token:${holder.name}`,
    };
  }

  async #touch(tokenId: number, now: number) {
    const last = this.#touched.get(tokenId);
    if (last !== undefined && now - last < 60_000) return;
    if (this.#touched.size >= CACHE_MAX) this.#touched.clear();
    this.#touched.set(tokenId, now);
    await touchToken(this.#db, tokenId, new Date(now)).catch(() => this.#touched.delete(tokenId));
  }

  /** The cookie value for a session's secret: the secret and its HMAC. */
  cookieValue(secret: string): string {
    return `${secret}.${this.#sign(secret)}`;
  }

  /** The secret of a signed cookie value, or null when the signature is wrong. */
  unsign(value: string): string | null {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const secret = value.slice(0, dot);
    return sameSecret(value.slice(dot + 1), this.#sign(secret)) ? secret : null;
  }

  /** A signed value of its own purpose (the login form's CSRF cookie). */
  sign(purpose: string, value: string): string {
    return this.#sign(`${purpose}:${value}`);
  }

  /** Whether `signature` is `sign(purpose, value)` (constant-time). */
  verify(purpose: string, value: string, signature: string): boolean {
    return sameSecret(signature, this.sign(purpose, value));
  }

  #sign(value: string) {
    return createHmac('sha256', this.#cookieKey).update(value).digest('base64url');
  }

  /** The user behind a session cookie, or null (bad signature, ended, user disabled). */
  async session(cookie: string): Promise<SessionPrincipal | null> {
    const secret = this.unsign(cookie);
    if (!secret) return null;
    const session = await findSession(this.#db, secret, new Date(this.#now()));
    if (!session) return null;
    return {
      session,
      principal: {
        kind: 'session',
        role: session.role,
        userId: session.userId,
        tokenId: null,
        actor: session.email,
        ...(session.locale === 'en' || session.locale === 'zh-CN' ? { locale: session.locale } : {}),
      },
    };
  }
}

/**
 * A user's token acts with its own role while the user still has it; if the user's role has since
 * been lowered below the token's, the token acts with the user's role (or viewer, when the two do
 * not compare).
 */
export function effectiveRole(userRole: Role, tokenRole: Role): Role {
  if (roleCovers(userRole, tokenRole)) return tokenRole;
  return roleCovers(tokenRole, userRole) ? userRole : 'viewer';
}
