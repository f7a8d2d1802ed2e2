import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { type FindingDraft, findingKey } from '../domain/reconciliation.js';
import { notFound } from '../errors/domain-errors.js';

export const RUNS = 'reconciliation_runs';
export const FINDINGS = 'reconciliation_findings';

export type RunTrigger = 'job' | 'cli' | 'api';
export type FindingState = 'open' | 'healed' | 'acknowledged' | 'resolved';
export const FINDING_STATES: readonly FindingState[] = ['open', 'healed', 'acknowledged', 'resolved'];

export interface ReconciliationRun {
  id: number;
  period: string;
  windowFrom: string;
  windowTo: string;
  triggeredBy: string;
  status: 'running' | 'succeeded' | 'failed';
  counts: Record<string, number>;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface Finding {
  id: number;
  period: string;
  key: string;
  kind: string;
  severity: string;
  source: string;
  subject: string;
  ours: Record<string, unknown> | null;
  theirs: Record<string, unknown> | null;
  message: string;
  state: FindingState;
  runId: number;
  lastRunId: number;
  healedRunId: number | null;
  heal: string | null;
  healedAt: string | null;
  acknowledged: { by: string; note: string; at: string | null } | null;
  createdAt: string;
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.parse(String(v)));

function toRun(r: Record<string, unknown>): ReconciliationRun {
  return {
    id: Number(r.id),
    period: String(r.period),
    windowFrom: isoTime(r.window_from as string) as string,
    windowTo: isoTime(r.window_to as string) as string,
    triggeredBy: String(r.triggered_by),
    status: r.status as ReconciliationRun['status'],
    counts: json(r.counts) ?? {},
    error: (r.error as string | null) ?? null,
    startedAt: isoTime(r.started_at as string) as string,
    finishedAt: isoTime(r.finished_at as string | null),
  };
}

export function toFinding(r: Record<string, unknown>): Finding {
  return {
    id: Number(r.id),
    period: String(r.period),
    key: String(r.finding_key),
    kind: String(r.kind),
    severity: String(r.severity),
    source: String(r.source),
    subject: String(r.subject),
    ours: json(r.ours),
    theirs: json(r.theirs),
    message: String(r.message),
    state: r.state as FindingState,
    runId: Number(r.run_id),
    lastRunId: Number(r.last_run_id),
    healedRunId: r.healed_run_id === null ? null : Number(r.healed_run_id),
    heal: (r.heal as string | null) ?? null,
    healedAt: isoTime(r.healed_at as string | null),
    acknowledged: r.acknowledged_by
      ? {
          by: String(r.acknowledged_by),
          note: String(r.acknowledged_note ?? ''),
          at: isoTime(r.acknowledged_at as string | null),
        }
      : null,
    createdAt: isoTime(r.created_at as string) as string,
  };
}

export async function startRun(
  db: Conn,
  input: { period: string; from: Date; to: Date; triggeredBy: RunTrigger },
): Promise<ReconciliationRun> {
  const now = dbTime();
  const [id] = await db(RUNS).insert({
    period: input.period,
    window_from: dbTime(input.from),
    window_to: dbTime(input.to),
    triggered_by: input.triggeredBy,
    status: 'running',
    started_at: now,
  });
  return (await getRun(db, Number(id))) as ReconciliationRun;
}

export async function finishRun(
  db: Conn,
  runId: number,
  outcome: { counts: Record<string, number>; error?: string },
): Promise<void> {
  await db(RUNS)
    .where({ id: runId })
    .update({
      status: outcome.error ? 'failed' : 'succeeded',
      counts: JSON.stringify(outcome.counts),
      error: outcome.error?.slice(0, 2000) ?? null,
      finished_at: dbTime(),
    });
}

export async function getRun(db: Conn, id: number): Promise<ReconciliationRun | null> {
  const r = await db(RUNS).where({ id }).first();
  return r ? toRun(r) : null;
}

export async function requireRun(db: Conn, id: number): Promise<ReconciliationRun> {
  const run = await getRun(db, id);
  if (!run) throw notFound(`reconciliation run ${id}`);
  return run;
}

/** Runs, newest first, `limit` from before the cursor id. */
export async function listRuns(
  db: Conn,
  filter: { period?: string | undefined; limit: number },
  before: number | null,
): Promise<{ items: ReconciliationRun[]; nextId: number | null }> {
  const q = db(RUNS)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.period) q.where('period', filter.period);
  if (before !== null) q.where('id', '<', before);
  const found = (await q).map(toRun);
  const more = found.length > filter.limit;
  const items = found.slice(0, filter.limit);
  return { items, nextId: more ? (items[items.length - 1]?.id ?? null) : null };
}

/**
 * Stores what a run found: a finding new to the period is inserted with this run as its finder; one
 * found before in the period is the same row, with this run as the last to find it (and, while it
 * is open, today's figures). Returns the rows, keyed by finding key.
 */
export async function recordFindings(
  db: Conn,
  run: ReconciliationRun,
  drafts: readonly FindingDraft[],
): Promise<Map<string, Finding>> {
  const out = new Map<string, Finding>();
  const now = dbTime();
  const unique = new Map<string, FindingDraft>();
  for (const d of drafts) unique.set(findingKey(d), d);
  const keys = [...unique.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const existing = new Map<string, Record<string, unknown>>(
      (await db(FINDINGS).where({ period: run.period }).whereIn('finding_key', chunk)).map((r) => [
        String(r.finding_key),
        r,
      ]),
    );
    const fresh = chunk.filter((k) => !existing.has(k));
    if (fresh.length > 0) {
      await db(FINDINGS)
        .insert(
          fresh.map((k) => {
            const d = unique.get(k) as FindingDraft;
            return {
              period: run.period,
              finding_key: k,
              kind: d.kind,
              severity: d.severity,
              source: d.source.slice(0, 64),
              subject: d.subject.slice(0, 191),
              ours: d.ours === null ? null : JSON.stringify(d.ours),
              theirs: d.theirs === null ? null : JSON.stringify(d.theirs),
              message: d.message.slice(0, 500),
              state: 'open',
              run_id: run.id,
              last_run_id: run.id,
              created_at: now,
              updated_at: now,
            };
          }),
        )
        // A run of the same period at the same moment inserted it first: it is the same finding.
        .onConflict(['period', 'finding_key'])
        .merge(['last_run_id', 'updated_at']);
    }
    const seenAgain = chunk.filter((k) => existing.has(k));
    for (const k of seenAgain) {
      const d = unique.get(k) as FindingDraft;
      const row = existing.get(k) as Record<string, unknown>;
      await db(FINDINGS).where({ id: row.id }).update({ last_run_id: run.id, updated_at: now });
      // Found again: a finding that had gone away is open again, with today's figures — guarded in
      // the statement, so that a heal another run claimed meanwhile is never turned back to open.
      await db(FINDINGS)
        .where({ id: row.id })
        .whereIn('state', ['open', 'resolved'])
        .whereNull('healed_run_id')
        .update({
          state: 'open',
          ours: d.ours === null ? null : JSON.stringify(d.ours),
          theirs: d.theirs === null ? null : JSON.stringify(d.theirs),
          message: d.message.slice(0, 500),
        });
    }
    for (const r of await db(FINDINGS).where({ period: run.period }).whereIn('finding_key', chunk))
      out.set(String(r.finding_key), toFinding(r));
  }
  return out;
}

/**
 * Open findings of the period that this run did not find again (of the sources it checked) went
 * away by themselves: `resolved`. Healed and acknowledged ones stay as they are.
 */
export async function resolveGone(
  db: Conn,
  run: ReconciliationRun,
  sources: readonly string[],
): Promise<number> {
  if (sources.length === 0) return 0;
  return db(FINDINGS)
    .where({ period: run.period, state: 'open' })
    .whereIn('source', sources)
    .where('last_run_id', '<', run.id)
    .update({ state: 'resolved', updated_at: dbTime() });
}

/**
 * Claims a finding's heal for this run: only one run ever does (a guarded update). Returns false
 * when it was healed (or claimed) before.
 */
export async function claimHeal(db: Conn, findingId: number, runId: number): Promise<boolean> {
  const n = await db(FINDINGS)
    .where({ id: findingId })
    .whereNull('healed_run_id')
    .whereIn('state', ['open', 'resolved'])
    .update({ healed_run_id: runId, state: 'healed', healed_at: dbTime(), updated_at: dbTime() });
  return n === 1;
}

/** Records what the heal did. */
export async function noteHeal(db: Conn, findingId: number, heal: string): Promise<void> {
  await db(FINDINGS)
    .where({ id: findingId })
    .update({ heal: heal.slice(0, 255) });
}

/** Gives a claimed heal back when it could not be made (the next run tries again). */
export async function releaseHeal(db: Conn, findingId: number, runId: number, why: string): Promise<void> {
  await db(FINDINGS)
    .where({ id: findingId, healed_run_id: runId })
    .update({
      healed_run_id: null,
      healed_at: null,
      state: 'open',
      heal: `not healed: ${why}`.slice(0, 255),
      updated_at: dbTime(),
    });
}

/** The findings a run reports: those of its period found by it or by an earlier run of the period. */
export async function runFindings(
  db: Conn,
  run: ReconciliationRun,
  filter: { state?: string | undefined; kind?: string | undefined; limit?: number | undefined } = {},
  after: number | null = null,
): Promise<{ items: Finding[]; nextId: number | null }> {
  const q = db(FINDINGS).where({ period: run.period }).where('run_id', '<=', run.id).orderBy('id');
  if (filter.state) q.where('state', filter.state);
  if (filter.kind) q.where('kind', filter.kind);
  if (after !== null) q.where('id', '>', after);
  if (filter.limit) q.limit(filter.limit + 1);
  const found = (await q).map(toFinding);
  if (!filter.limit) return { items: found, nextId: null };
  const more = found.length > filter.limit;
  const items = found.slice(0, filter.limit);
  return { items, nextId: more ? (items[items.length - 1]?.id ?? null) : null };
}

export async function getFinding(db: Conn, id: number): Promise<Finding> {
  const r = await db(FINDINGS).where({ id }).first();
  if (!r) throw notFound(`reconciliation finding ${id}`);
  return toFinding(r);
}

/**
 * A person has seen the finding and says why it stays as it is. A healed finding keeps its state
 * (the note is added); acknowledging twice replaces the note.
 */
export async function acknowledgeFinding(
  db: Conn,
  id: number,
  actor: string,
  note: string,
): Promise<Finding> {
  const finding = await getFinding(db, id);
  const now = dbTime();
  await db(FINDINGS)
    .where({ id })
    .update({
      ...(finding.state === 'healed' ? {} : { state: 'acknowledged' }),
      acknowledged_by: actor.slice(0, 64),
      acknowledged_note: note.slice(0, 1000),
      acknowledged_at: now,
      updated_at: now,
    });
  return getFinding(db, id);
}
