import { type Conn, isoTime } from '../db/connection.js';

/** An audit entry as the API shows it: request, before and after parsed back from their JSON. */
export interface AuditView {
  id: number;
  at: string;
  actor: string;
  actorKind: string;
  actorRole: string;
  userId: number | null;
  tokenId: number | null;
  method: string;
  route: string;
  operation: string;
  entity: string;
  entityId: string | null;
  status: number;
  request: unknown;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export interface AuditFilter {
  entity?: string | undefined;
  actor?: string | undefined;
  entityId?: string | undefined;
  /** The cursor's id: entries below it. */
  beforeId: number | null;
  limit: number;
}

const parsed = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

/** One page of the audit log, newest first, filtered by entity, actor and entity id. */
export async function listAudit(
  db: Conn,
  f: AuditFilter,
): Promise<{ items: AuditView[]; nextId: number | null }> {
  const q = db('audit_log')
    .orderBy('id', 'desc')
    .limit(f.limit + 1);
  if (f.entity) q.where({ entity: f.entity });
  if (f.actor) q.where({ actor: f.actor });
  if (f.entityId) q.where({ entity_id: f.entityId });
  if (f.beforeId !== null) q.where('id', '<', f.beforeId);
  // biome-ignore lint/suspicious/noExplicitAny: a row of audit_log
  const rows = (await q) as any[];
  const items: AuditView[] = rows.slice(0, f.limit).map((r) => ({
    id: Number(r.id),
    at: isoTime(r.at) ?? '',
    actor: r.actor,
    actorKind: r.actor_kind,
    actorRole: r.actor_role,
    userId: r.user_id === null ? null : Number(r.user_id),
    tokenId: r.token_id === null ? null : Number(r.token_id),
    method: r.method,
    route: r.route,
    operation: r.operation,
    entity: r.entity,
    entityId: r.entity_id,
    status: Number(r.status),
    request: parsed(r.request),
    before: parsed(r.before),
    after: parsed(r.after),
    requestId: r.request_id,
  }));
  return { items, nextId: rows.length > f.limit ? (items[items.length - 1]?.id ?? null) : null };
}
