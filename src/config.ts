import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The roles one process can play; all three by default. */
const ROLES = ['api', 'worker', 'scheduler'] as const;

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting the daemon reads, from environment variables and, optionally, a JSON file under
 * `config/` (`config/stockbridge.json`, or the path in `STOCKBRIDGE_CONFIG`). Environment
 * variables win over the file. Nothing else in the code reads `process.env`.
 */
const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** `mysql://user:pass@host:port/db`. Unset: an embedded SQLite file under `STOCKBRIDGE_DATA_DIR`. */
  DATABASE_URL: z
    .string()
    .refine((v) => /^(mysql|mariadb):\/\//.test(v), 'must be a mysql:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  /**
   * Redis Cluster instead of one Redis: comma-separated seed nodes, `host:port` or
   * `redis[s]://[user:password@]host:port` (credentials and TLS of the first URL apply to every
   * node). When set, `REDIS_URL` is not used and `STOCKBRIDGE_QUEUE_PREFIX` must be a hash tag in
   * braces (`{stockbridge}`), because BullMQ keeps every key of a queue in one hash slot.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((v, ctx) => {
      const nodes = v
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      for (const n of nodes) {
        if (!parseRedisNode(n)) {
          ctx.addIssue({
            code: 'custom',
            message: `${redactUrl(withScheme(n))} is not host:port or a redis:// URL`,
          });
          return z.NEVER;
        }
      }
      if (nodes.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'name at least one host:port' });
        return z.NEVER;
      }
      return nodes;
    })
    .optional(),
  PORT: intFromEnv(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Bootstrap admin bearer token. Required in production; generated into the data dir otherwise. */
  STOCKBRIDGE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** 32-byte key (64 hex chars or 44 base64 chars) for secrets at rest. */
  STOCKBRIDGE_SECRET_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, 'must be 32 bytes as 64 hex characters or base64')
    .optional(),
  /** Redis key prefix; in braces (`{stockbridge}`) it is a hash tag, as Redis Cluster needs. */
  STOCKBRIDGE_QUEUE_PREFIX: z
    .string()
    .regex(/^(\{[A-Za-z0-9_.-]+\}|[A-Za-z0-9_.-]+)$/, 'letters, digits, _ . - only, optionally in braces')
    .default('stockbridge'),
  STOCKBRIDGE_PUBLIC_URL: z.url().optional(),
  /**
   * Outgoing mail (notifications, documents to customers, replies to e-mailed order sheets):
   * `smtp://user:pass@host:587` or `smtps://…:465`. Unset: nothing is e-mailed (notifications by
   * e-mail stay pending and say why).
   */
  STOCKBRIDGE_SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** The From address of every e-mail we send, e.g. `Stockbridge <orders@example.com>`. */
  STOCKBRIDGE_MAIL_FROM: z.string().min(3).default('stockbridge@localhost'),
  STOCKBRIDGE_DATA_DIR: z.string().default('./data'),
  /**
   * Folder of notification template overrides, files `<event>.<language>.<subject|text|html>`
   * (README "Notifications"). Missing files fall back to the built-in templates.
   */
  STOCKBRIDGE_TEMPLATES_DIR: z.string().min(1).default('config/templates'),
  /** How often the worker looks for notifications whose job was lost, failed jobs, failing channels and issued documents (ms). */
  STOCKBRIDGE_NOTIFY_SWEEP_MS: intFromEnv(100, 3_600_000).default(10_000),
  /** How long one sending holds a notification before another process may take it over (ms). */
  STOCKBRIDGE_NOTIFY_LEASE_MS: intFromEnv(1000, 3_600_000).default(120_000),
  /** Wait before a failed notification's first retry (ms); doubled for each further one, up to 6 h. */
  STOCKBRIDGE_NOTIFY_RETRY_MS: intFromEnv(100, 3_600_000).default(30_000),
  /** How long a notification that keeps failing temporarily is retried before it fails for good (ms; default 7 days). */
  STOCKBRIDGE_NOTIFY_GIVE_UP_MS: intFromEnv(60_000, 90 * 86_400_000).default(7 * 86_400_000),
  /**
   * Where files the daemon writes go (scheduled jobs' outputs, one folder per job and period; invoice documents).
   * Unset: `outputs` under `STOCKBRIDGE_DATA_DIR` (`./data/outputs`). Shared storage when more than
   * one process runs jobs or serves downloads.
   */
  STOCKBRIDGE_OUTPUT_DIR: z.string().min(1).optional(),
  /** Comma-separated subset of api,worker,scheduler. */
  STOCKBRIDGE_ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES)).min(1, 'name at least one role')),
  STOCKBRIDGE_MIGRATE_ON_START: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Order jobs processed at once by one worker process. */
  STOCKBRIDGE_WORKER_CONCURRENCY: intFromEnv(1, 1000).default(32),
  /**
   * In a process with both the api and worker roles: how long (ms) stored webhook events may wait
   * for a quiet moment in webhook intake before they are applied (src/queue/intake-priority.ts).
   * 0: applied at once, whatever arrives.
   */
  STOCKBRIDGE_APPLY_DEFER_MS: intFromEnv(0, 10_000).default(1000),
  /**
   * Isolation level of every MySQL/MariaDB transaction. `read-committed` (the default and the one
   * the code is measured and tested with): each statement sees the latest commit and searches take
   * no gap locks. `repeatable-read` is InnoDB's own default, kept for comparison benchmarks.
   */
  STOCKBRIDGE_DB_ISOLATION: z.enum(['read-committed', 'repeatable-read']).default('read-committed'),
  /** Database connections per process (MySQL only). */
  STOCKBRIDGE_DB_POOL_MAX: intFromEnv(1, 500).default(20),
  /** How long a worker holds a job before BullMQ considers it stalled (ms). */
  STOCKBRIDGE_JOB_LOCK_MS: intFromEnv(1000, 600_000).default(30_000),
  /** How often the relay looks for stored-but-unqueued work (ms). */
  STOCKBRIDGE_RELAY_INTERVAL_MS: intFromEnv(50, 600_000).default(250),
  /** How old a `received` order must be before the relay re-enqueues it (ms). */
  STOCKBRIDGE_RELAY_GRACE_MS: intFromEnv(0, 3_600_000).default(5000),
  /** A folder to watch for customers' order files (.xlsx/.csv); unset: no inbox. Worker role. */
  STOCKBRIDGE_INBOX_DIR: z.string().min(1).optional(),
  /** Currency of inbox rows without a currency column. */
  STOCKBRIDGE_INBOX_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
    .default('EUR'),
  /** How often the inbox folder is looked at (ms). */
  STOCKBRIDGE_INBOX_INTERVAL_MS: intFromEnv(100, 3_600_000).default(5000),
  /** How often the mail inboxes (`/api/mail-inboxes`) are read (ms). Worker role. */
  STOCKBRIDGE_MAIL_INBOX_INTERVAL_MS: intFromEnv(100, 3_600_000).default(30_000),
  /**
   * The business time zone (IANA, e.g. `Asia/Shanghai`): price list items' `validFrom`/`validTo`
   * are calendar dates in it, and an order's date is its placing time there.
   */
  STOCKBRIDGE_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai or UTC')
    .default('UTC'),
  /** Stock changes within this window (ms) reach a channel as one push. */
  STOCKBRIDGE_PUSH_DEBOUNCE_MS: intFromEnv(0, 600_000).default(1000),
  /** How often the scheduler looks for channels whose pull is due (ms). */
  STOCKBRIDGE_PULL_CHECK_MS: intFromEnv(100, 600_000).default(5000),
  /**
   * Port of the metrics server (`/metrics`, `/healthz`) of a process running the worker or
   * scheduler role; unset: none. The api role serves `/metrics` on its own port.
   */
  STOCKBRIDGE_METRICS_PORT: intFromEnv(0, 65535).optional(),
  /** Bearer token for `/metrics`; unset: `/metrics` answers loopback and private networks only. */
  STOCKBRIDGE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Whether `/metrics` is rendered by the cached exposition (src/metrics-exposition.ts, the
   * default) or by prom-client's `registry.metrics()`: the same text, the latter slower with many
   * series. A switch for comparing the two and a way back should the cached one misbehave.
   */
  STOCKBRIDGE_METRICS_FAST: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /**
   * Seconds between runs of the `heartbeat` scheduled job (a row per run in `job_heartbeats`).
   * Unset: no heartbeat. For tests and drills of several schedulers; not needed in production.
   */
  STOCKBRIDGE_HEARTBEAT_SECONDS: z.coerce
    .number()
    .int()
    .refine((n) => n > 0 && 60 % n === 0, 'must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof configSchema>;

/** The folder files the daemon writes go to (`STOCKBRIDGE_OUTPUT_DIR`, else `<data dir>/outputs`). */
export const outputDirOf = (config: Config) =>
  path.resolve(config.STOCKBRIDGE_OUTPUT_DIR ?? path.join(config.STOCKBRIDGE_DATA_DIR, 'outputs'));

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Decodes a 32-byte key given as hex or base64; null when it is neither. */
export function decodeKey(value: string): Buffer | null {
  const v = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const buf = Buffer.from(v, 'base64');
    return buf.length === 32 ? buf : null;
  }
  return null;
}

function readConfigFile(env: Record<string, string | undefined>): Record<string, unknown> {
  const file = env.STOCKBRIDGE_CONFIG ?? path.join('config', 'stockbridge.json');
  if (!existsSync(file)) {
    if (env.STOCKBRIDGE_CONFIG) throw new ConfigError([`STOCKBRIDGE_CONFIG: file ${file} does not exist`]);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: not valid JSON (${(err as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`${file}: must hold one JSON object of settings`]);
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

/**
 * Parses the configuration once. Empty strings count as unset. Throws a ConfigError that names
 * every bad key at once.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const fromFile = readConfigFile(env);
  const merged: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const result = configSchema.safeParse(merged);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  problems.push(...crossChecks(merged));
  if (!result.success || problems.length) throw new ConfigError(problems);
  const config = result.data;
  if (config.NODE_ENV === 'production') {
    const missing: string[] = [];
    if (!config.STOCKBRIDGE_SECRET_KEY) missing.push('STOCKBRIDGE_SECRET_KEY: required in production');
    if (!config.STOCKBRIDGE_ADMIN_TOKEN) missing.push('STOCKBRIDGE_ADMIN_TOKEN: required in production');
    if (missing.length) throw new ConfigError(missing);
  }
  return config;
}

/**
 * Settings that are allowed but probably not meant: the daemon starts, and logs each of these as a
 * warning.
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (
    config.NODE_ENV === 'production' &&
    !config.STOCKBRIDGE_PUBLIC_URL &&
    config.STOCKBRIDGE_ROLES.includes('api')
  ) {
    warnings.push(
      `STOCKBRIDGE_PUBLIC_URL is not set: channels' webhook URLs will say http://localhost:${config.PORT}, which no shop can reach; set it to the address channels reach this daemon at (e.g. https://stockbridge.example.com)`,
    );
  }
  return warnings;
}

/**
 * Checks between settings, run on the raw values so that they are listed together with the
 * schema's own problems.
 */
function crossChecks(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const cluster = configSchema.shape.REDIS_CLUSTER_NODES.safeParse(raw.REDIS_CLUSTER_NODES);
  const prefix = configSchema.shape.STOCKBRIDGE_QUEUE_PREFIX.safeParse(raw.STOCKBRIDGE_QUEUE_PREFIX);
  if (cluster.success && cluster.data && prefix.success && !isHashTag(prefix.data)) {
    problems.push(
      `STOCKBRIDGE_QUEUE_PREFIX: must be wrapped in braces when REDIS_CLUSTER_NODES is set (e.g. {${prefix.data}}), so that each queue's keys share one hash slot`,
    );
  }
  return problems;
}

/** `{name}`: a Redis Cluster hash tag (only the part in braces decides the slot). */
const isHashTag = (prefix: string) => /^\{[^{}]+\}$/.test(prefix);

const withScheme = (node: string) => (/^rediss?:\/\//.test(node) ? node : `redis://${node}`);

/** One cluster seed node, `host:port` or a `redis[s]://` URL; null when it is neither. */
export function parseRedisNode(
  node: string,
): { host: string; port: number; username?: string; password?: string; tls: boolean } | null {
  let u: URL;
  try {
    u = new URL(withScheme(node));
  } catch {
    return null;
  }
  const port = Number(u.port || 6379);
  if (!u.hostname || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (u.pathname && u.pathname !== '/') return null;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/** A URL with any password replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
