import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ScheduledJob } from '../../jobs/types.js';
import type { LoginLimitOptions } from '../auth/login-limiter.js';
import type { Principal } from '../auth/roles.js';
import type { ActiveSession } from '../auth/session-store.js';
import type { ChannelService } from '../channels/channel-service.js';
import type { Db } from '../db/connection.js';
import type { StatusLink } from '../notify/template-data.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';
import type { StatusPageDeps } from './routes/status-page.js';

/** What the HTTP layer needs from the rest of the daemon. */
export interface AppDeps {
  db: Db;
  log: Logger;
  /** The bootstrap admin token; requests to /api must present it as a bearer token. */
  adminToken: string;
  /** Queues processing for stored orders (throws when Redis is down; intake copes). */
  enqueueOrders: (orderIds: number[]) => Promise<void>;
  /** Readiness checks beyond the database: Redis, and whatever else the daemon runs. */
  checkRedis: () => Promise<void>;
  /** Durable intake shared by every route that takes orders in; made from db + enqueueOrders if absent. */
  intake?: IntakeBatcher;
  /** Channel administration, webhooks and replays; their routes exist only when it is given. */
  channels?: ChannelService;
  /** The queues shown on the admin queue dashboard (/console/queues); no dashboard without them. */
  queues?: readonly Queue[];
  /** Bearer token for /metrics; unset: /metrics answers loopback and private networks only. */
  metricsToken?: string | undefined;
  /** Scheduled jobs, their runs and files (`/api/jobs`); no such routes without it. */
  scheduledJobs?: ScheduledJobsDeps;
  /** Where files the daemon writes go (`STOCKBRIDGE_OUTPUT_DIR`); default `./data/outputs`. */
  outputDir?: string;
  /**
   * STOCKBRIDGE_SECRET_KEY: seals SMS gateway and webhook endpoint secrets; `/api/sms-gateways` and
   * `/api/webhook-endpoints` exist only when it is given.
   */
  secretKey?: Buffer;
  /**
   * The customers' status page (`/status/{token}`, no auth) and the admin's status-link routes
   * (`/api/orders/{id}/status-link`); neither exists without it.
   */
  statusPage?: StatusPageDeps;
  /**
   * Users' logins (issue 18): where failed logins are counted and whether cookies are `Secure`.
   * Each falls back to the status page's Redis, prefix and public URL.
   */
  auth?: AuthSettings;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Notification templates' override folder (`STOCKBRIDGE_TEMPLATES_DIR`) and the status page link, for previews. */
  notifications?: { templatesDir: string | null; statusLink?: StatusLink };
}

export interface ScheduledJobsDeps {
  jobs: readonly ScheduledJob[];
  /** The business time zone schedules are read in. */
  timeZone: string;
  /** `STOCKBRIDGE_OUTPUT_DIR`, where runs' files are. */
  outputRoot: string;
  /** The maintenance queue runs are put on. */
  queue: Queue;
  /** The clock (tests). Default: the real one. */
  now?: () => Date;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    /** Who is calling; set by the authentication of /api (absent on public routes). */
    principal?: Principal;
    /** The console session a request came with (its CSRF token), when it used the cookie. */
    session?: ActiveSession;
    /**
     * The id of what a change made or changed, for its audit entry, when the path does not name it
     * (`null`: no single thing), so the wrapper need not read the answer to find it.
     */
    auditEntityId?: string | number | null;
  };
};

export interface AuthSettings {
  /** Failed logins are counted here, shared by api processes; without it, per process. */
  redis?: Redis | Cluster;
  /** Prefix of the Redis keys. Default: the status page's, else `stockbridge`. */
  prefix?: string;
  /** STOCKBRIDGE_PUBLIC_URL: https makes the session cookie `Secure`. */
  publicUrl?: string;
  /** Failed logins allowed per client address and per e-mail address (src/auth/login-limiter.ts). */
  loginFailures?: LoginLimitOptions;
  /** How long an API token is believed without asking the database (default 5000 ms). */
  tokenCacheMs?: number;
}
