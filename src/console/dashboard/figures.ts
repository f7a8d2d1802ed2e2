import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { SCHEDULED_JOBS } from '../../../jobs/index.js';
import type { ScheduledJob } from '../../../jobs/types.js';
import { type Conn, dbTime, isoTime } from '../../db/connection.js';
import { type JobRun, lastRuns } from '../../scheduling/job-runs.js';
import { countLowStock } from '../../stock/low-stock.js';

/**
 * The dashboard's figures. Each is one index-backed query (README "The console"): counts that could
 * run over many orders stop at `COUNT_CAP` (shown as "10,000+"), so a page costs the same with
 * 100,000 orders as with 100.
 */

/** Above this a count is shown as "more than": counting further costs time and tells nobody more. */
export const COUNT_CAP = 10_000;

/** The states an order waits in (for a person, stock or shipping). */
export const WAITING_STATES = [
  'received',
  'on_hold',
  'backordered',
  'confirmed',
  'partially_shipped',
] as const;

/** How many rows a query would give, counting at most `cap + 1` of them. */
export async function countUpTo(db: Conn, query: Knex.QueryBuilder, cap = COUNT_CAP): Promise<number> {
  const inner = query
    .clearSelect()
    .select(db.raw('1 as one'))
    .limit(cap + 1)
    .as('capped');
  const [row] = (await db.from(inner).count({ n: '*' })) as { n: number | string }[];
  return Number(row?.n ?? 0);
}

/** How long the orders-per-hour figures are kept before they are counted again. */
export const PER_HOUR_TTL_MS = 30_000;

const perHourCache = new WeakMap<object, { day: string; at: number; hours: number[] }>();

/**
 * Today's orders per hour as counted at most `PER_HOUR_TTL_MS` ago (per process and database): the
 * count walks the day's part of the `created_at` index, so it is not repeated on every view. `at` is
 * when it was counted (the page says so).
 */
export async function ordersPerHourCached(db: Conn, now: Date): Promise<{ hours: number[]; at: Date }> {
  const day = now.toISOString().slice(0, 10);
  const kept = perHourCache.get(db);
  if (kept && kept.day === day && now.getTime() - kept.at < PER_HOUR_TTL_MS && now.getTime() >= kept.at)
    return { hours: kept.hours, at: new Date(kept.at) };
  const hours = await ordersPerHourToday(db, now);
  perHourCache.set(db, { day, at: now.getTime(), hours });
  return { hours, at: now };
}

/** Forgets the kept orders-per-hour figures (tests). */
export const forgetPerHour = (db: Conn) => perHourCache.delete(db);

/** Orders stored today (UTC) by the hour they arrived: 24 counts, hour 0 first. */
export async function ordersPerHourToday(db: Conn, now: Date): Promise<number[]> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const end = new Date(start.getTime() + 86_400_000);
  // Stored times read `YYYY-MM-DD HH:MM:SS.sss` on both databases: the hour is characters 12–13.
  const rows = (await db('orders')
    .where('created_at', '>=', dbTime(start))
    .where('created_at', '<', dbTime(end))
    .select(db.raw('substr(created_at, 12, 2) as h'))
    .count({ n: '*' })
    .groupBy('h')) as { h: string; n: number | string }[];
  const hours = new Array<number>(24).fill(0);
  for (const r of rows) {
    const h = Number(r.h);
    if (Number.isInteger(h) && h >= 0 && h < 24) hours[h] = Number(r.n);
  }
  return hours;
}

/** Orders in each waiting state (each count capped). */
export async function waitingOrders(db: Conn): Promise<{ status: string; count: number }[]> {
  return Promise.all(
    WAITING_STATES.map(async (status) => ({
      status,
      count: await countUpTo(db, db('orders').where('status', status)),
    })),
  );
}

/**
 * Held orders by their hold reason (`orders.hold_reason`), most first: the reasons in use (a walk of
 * the (status, hold_reason) index), then each one's count capped at `COUNT_CAP`.
 */
export async function heldByReason(db: Conn): Promise<{ reason: string | null; count: number }[]> {
  const reasons = (await db('orders').where('status', 'on_hold').distinct('hold_reason').limit(100)) as {
    hold_reason: string | null;
  }[];
  const rows = await Promise.all(
    reasons.map(async (r) => ({
      reason: r.hold_reason ?? null,
      count: await countUpTo(
        db,
        r.hold_reason === null
          ? db('orders').where('status', 'on_hold').whereNull('hold_reason')
          : db('orders').where({ status: 'on_hold', hold_reason: r.hold_reason }),
      ),
    })),
  );
  return rows.sort((a, b) => b.count - a.count || String(a.reason).localeCompare(String(b.reason)));
}

export interface FailingChannel {
  id: number;
  type: string;
  name: string;
  reason: string;
  since: string | null;
}

/** Channels marked failing (pulls and pushes stopped until they work again); no secrets read. */
export async function failingChannels(db: Conn): Promise<FailingChannel[]> {
  const rows = await db('channels')
    .whereNotNull('failing_reason')
    .orderBy('id')
    .select('id', 'type', 'name', 'failing_reason', 'failing_since');
  return rows.map((r) => ({
    id: Number(r.id),
    type: String(r.type),
    name: String(r.name),
    reason: String(r.failing_reason),
    since: isoTime(r.failing_since as string | null),
  }));
}

/** Reconciliation findings nobody has dealt with yet (capped). */
export const openFindings = (db: Conn) => countUpTo(db, db('reconciliation_findings').where('state', 'open'));

/**
 * (SKU, warehouse) pairs below a reorder point now, as the low-stock watch last saw them: the rows of
 * `/console/stock/low` (capped, index-backed).
 */
export const lowStockCount = (db: Conn) => countLowStock(db, COUNT_CAP);

/**
 * The latest run of the nightly (daily) jobs: those this daemon schedules, else the standing ones.
 * One indexed look per job (`job_runs (job, queued_at, id)`), as the jobs page reads it.
 */
export async function lastNightlyRun(
  db: Conn,
  jobs: readonly ScheduledJob[] | undefined,
): Promise<JobRun | null> {
  const names = (jobs ?? SCHEDULED_JOBS).filter((j) => j.period === 'day').map((j) => j.name);
  // "Last run" as the jobs page and the API mean it (`lastRuns`: the one queued last).
  const found = [...(await lastRuns(db, names)).values()];
  found.sort((a, b) => (a.queuedAt < b.queuedAt ? 1 : a.queuedAt > b.queuedAt ? -1 : b.id - a.id));
  return found[0] ?? null;
}

/** The latest reconciliation run. */
export async function lastReconciliationRun(db: Conn) {
  const r = await db('reconciliation_runs')
    .orderBy('id', 'desc')
    .first('id', 'period', 'status', 'started_at', 'finished_at');
  return r
    ? {
        id: Number(r.id),
        period: String(r.period),
        status: String(r.status),
        finishedAt: isoTime(r.finished_at as string | null),
        startedAt: isoTime(r.started_at as string),
      }
    : null;
}

export interface QueueDepth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** Jobs waiting, running, delayed and failed in each queue; null when Redis does not answer in time. */
/** How long the dashboard waits for Redis's queue counts (ms); a test on a busy machine may raise it. */
export const QUEUE_DEPTH_WAIT = { ms: 150 };

export async function queueDepths(
  queues: readonly Queue[],
  log?: { warn: (obj: object, msg: string) => void },
  timeoutMs = QUEUE_DEPTH_WAIT.ms,
): Promise<QueueDepth[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const counts = Promise.all(
    queues.map(async (q) => {
      const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
      return {
        name: q.name,
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
      };
    }),
  ).catch((err: unknown) => {
    log?.warn({ err }, 'dashboard: queue depths not read from Redis');
    return null;
  });
  try {
    return await Promise.race([counts, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
