import type { Principal } from '../auth/roles.js';
import { type Conn, dbTime } from '../db/connection.js';

/** Keys whose values never reach the audit log (nor an API answer about it): secrets of any kind. */
const SECRET_KEY =
  /(secret|password|passwd|passphrase|token|api[_-]?key|credential|private[_-]?key|signature|authorization|cookie|smtp[_-]?url|access[_-]?key)/i;

export const REDACTED = '[redacted]';

/**
 * A copy of a value with every secret-named field replaced by `[redacted]`, however deep. Used on
 * whatever the audit log keeps of a request and of settings before and after.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] =
        SECRET_KEY.test(k) && v !== null && v !== undefined && v !== ''
          ? REDACTED
          : redactSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Largest JSON text kept per field; a larger one is cut and says so. */
const MAX_FIELD_CHARS = 64 * 1024;

function stored(value: unknown): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(redactSecrets(value));
  if (text === undefined) return null;
  return text.length <= MAX_FIELD_CHARS
    ? text
    : JSON.stringify({ truncated: true, chars: text.length, start: text.slice(0, 1024) });
}

export interface AuditEntry {
  principal: Principal;
  method: string;
  /** The route as declared, e.g. `/api/orders/{id}/cancel`. */
  route: string;
  /** A short name of the operation, e.g. `cancelOrder`. */
  operation: string;
  /** What kind of thing changed: `order`, `channel`, `user`, ... */
  entity: string;
  entityId?: string | null;
  status: number;
  /** The request body (secrets are redacted here). */
  request?: unknown;
  /** For settings: the state before and after the change (secrets are redacted here). */
  before?: unknown;
  after?: unknown;
  requestId?: string | null;
}

/** Appends one entry to the audit log. */
export async function recordAudit(db: Conn, entry: AuditEntry): Promise<void> {
  const { principal: p } = entry;
  await db('audit_log').insert({
    at: dbTime(),
    actor: p.actor.slice(0, 255),
    actor_kind: p.kind,
    actor_role: p.role,
    user_id: p.userId,
    token_id: p.tokenId,
    method: entry.method,
    route: entry.route.slice(0, 255),
    operation: entry.operation.slice(0, 128),
    entity: entry.entity.slice(0, 64),
    entity_id: entry.entityId ? String(entry.entityId).slice(0, 191) : null,
    status: entry.status,
    request: stored(entry.request),
    before: stored(entry.before),
    after: stored(entry.after),
    request_id: entry.requestId ?? null,
  });
}
