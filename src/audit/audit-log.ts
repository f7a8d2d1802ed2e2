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
  /** Who acted, when more precise than the principal (`admin:jane` with the bootstrap token and X-Actor). */
  actor?: string;
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

function auditRow(entry: AuditEntry, at: string) {
  const { principal: p } = entry;
  return {
    at,
    actor: (entry.actor ?? p.actor).slice(0, 255),
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
  };
}

/** Appends one entry to the audit log, in its own statement (inside a caller's transaction, if given one). */
export async function recordAudit(db: Conn, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert(auditRow(entry, dbTime()));
}

/** Most entries written by one statement (16 columns each: within SQLite's limit on variables). */
const MAX_BATCH = 200;

/**
 * Writes the audit entries of concurrent requests together: entries that arrive while a write is
 * under way go into the next one, a multi-row INSERT, so a burst of API calls (orders posted one
 * by one) costs one commit per batch instead of one per request. Each caller's promise settles when
 * the statement holding its entry has committed, so an answer is never sent before its entry is
 * stored.
 */
export class AuditWriter {
  readonly #db: Conn;
  #pending: { row: ReturnType<typeof auditRow>; done: (err?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Conn) {
    this.#db = db;
  }

  write(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ row: auditRow(entry, dbTime()), done: (err) => (err ? reject(err) : resolve()) });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, MAX_BATCH);
        try {
          await this.#db('audit_log').insert(batch.map((b) => b.row));
          for (const b of batch) b.done();
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.done(err as Error);
            continue;
          }
          // One bad row fails the whole statement: the others are written one by one.
          for (const b of batch) {
            try {
              await this.#db('audit_log').insert(b.row);
              b.done();
            } catch (rowErr) {
              b.done(rowErr as Error);
            }
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

const writers = new WeakMap<object, AuditWriter>();

/** The shared writer of a database (one per connection pool). */
export function auditWriterOf(db: Conn): AuditWriter {
  let writer = writers.get(db);
  if (!writer) {
    writer = new AuditWriter(db);
    writers.set(db, writer);
  }
  return writer;
}
