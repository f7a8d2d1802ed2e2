import axios, { type AxiosResponse, isAxiosError } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { ChannelAuthError } from '../../src/errors/channel-auth-error.js';
import { PermanentError } from '../../src/errors/permanent-error.js';
import { RateLimitedError } from '../../src/errors/rate-limited-error.js';
import { classifyHttpError, type HttpErrorClass } from './classify.js';
import type { RateLimiter } from './rate-limiter.js';
import { isSecureOrLoopback } from './safe-url.js';
import type { HttpClient, HttpRequest, HttpResponse } from './types.js';

export interface HttpClientOptions {
  /** Base URL every relative request URL is resolved against. */
  baseURL: string;
  /** Headers sent with every request (usually the channel's auth headers). Default: none. */
  headers?: Record<string, string>;
  /** Milliseconds one attempt may take before it counts as a (retryable) timeout. Default 10 000. */
  timeoutMs?: number;
  /** Further attempts after the first for retryable failures. Default 5. */
  retries?: number;
  /** Backoff base in milliseconds: attempt n waits a random time in [0, min(max, min * 2^(n-1))]. Default 500. */
  minDelayMs?: number;
  /** Backoff cap in milliseconds. Default 30 000. */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` (in milliseconds, after converting the header's seconds) we wait for in
   * process; a longer one ends the request with a `RateLimitedError` carrying the wait. Default 60 000.
   */
  maxRetryAfterMs?: number;
  /** Awaited before every attempt with the request's cost (default 1). Default: none. */
  limiter?: RateLimiter;
  /** Waits between attempts. Default: setTimeout. Tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** Random number in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /** Epoch milliseconds, to read a `Retry-After` date. Default Date.now. */
  now?: () => number;
  /**
   * Extra strings to keep out of error messages. Values of headers and query parameters whose
   * names look like credentials (auth, token, key, secret, signature, password, cookie) are
   * always kept out.
   */
  secrets?: string[];
  /** Told of every attempt and every wait, for metrics. Default: none. */
  observer?: HttpObserver;
}

/** What the client reports as it works (the daemon counts it; see src/metrics.ts). */
export interface HttpObserver {
  /** One attempt ended: the HTTP status, or null when no answer came; how long it took (ms). */
  attempt(status: number | null, ms: number): void;
  /**
   * A wait before an attempt: for our rate limiter, for the channel's Retry-After, or a backoff
   * after a failure (ms).
   */
  waited(kind: 'limiter' | 'retry_after' | 'backoff', ms: number): void;
}

/**
 * A failure that might pass on another attempt (network trouble, 5xx, 429), thrown once the
 * attempts are used up. Its message names the method, the path (no query string) and the
 * status, never a credential.
 */
export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
  constructor(
    message: string,
    /** Machine-readable reason from `classifyHttpError`, e.g. `http_503`, `timeout`. */
    readonly reason: string,
    /** HTTP status, when a response arrived. */
    readonly status?: number,
    /** Milliseconds the channel asked us to wait, when it said so. */
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

const BODY_EXCERPT_CHARS = 300;
/** The wait (ms) the channel asked for with a failed attempt's error, from its Retry-After. */
const askedWaitMs = new WeakMap<Error, number>();
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `GET https://host/path`: the resolved URL without its query string, which may hold secrets. */
function describe(req: HttpRequest, baseURL: string): string {
  const u = targetUrl(req, baseURL);
  return `${req.method} ${u ? `${u.origin}${u.pathname}` : (req.url.split('?')[0] ?? '')}`;
}

const CREDENTIAL_NAME = /auth|token|key|secret|signature|password|cookie/i;

/** Where a redirect pointed, for an error message: origin and path, the query left out. */
function redirectTarget(location: unknown, from: string): string {
  if (typeof location !== 'string' || location === '') return 'an unnamed location';
  try {
    const u = new URL(location, from);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'an unreadable location';
  }
}

/** The absolute URL a request goes to (null when it cannot be resolved). */
function targetUrl(req: HttpRequest, baseURL: string): URL | null {
  try {
    const base = baseURL.endsWith('/') ? baseURL : `${baseURL}/`;
    return new URL(/^[a-z][a-z0-9+.-]*:/i.test(req.url) ? req.url : req.url.replace(/^\/+/, ''), base);
  } catch {
    return null;
  }
}

/** Values of the entries whose names look like credentials. */
function credentialValues(entries: Record<string, unknown> | undefined): string[] {
  return Object.entries(entries ?? {})
    .filter(([name, value]) => CREDENTIAL_NAME.test(name) && value !== undefined && value !== null)
    .map(([, value]) => String(value));
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}

function excerpt(data: unknown, secrets: readonly string[]): string {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data === undefined || data === null) text = '';
  else {
    try {
      text = JSON.stringify(data);
    } catch {
      text = String(data);
    }
  }
  text = redact(text.replace(/\s+/g, ' ').trim(), secrets);
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

function lowerCaseHeaders(headers: AxiosResponse['headers'] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const plain =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : (headers as Record<string, unknown>);
  for (const [name, value] of Object.entries(plain)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Full jitter: a random wait between 0 and the exponential ceiling for this retry (1-based). */
export function backoffDelayMs(
  retry: number,
  minDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The shared channel HTTP client on axios + p-retry. Every attempt first waits for the rate
 * limiter; network errors, 5xx and 429 are retried with exponential backoff and full jitter, a
 * `Retry-After` (seconds) replacing the backoff when present. 401/403 end in `ChannelAuthError`,
 * other 4xx in `PermanentError` (reason `http_<status>`, details `{ status, body }`).
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const {
    baseURL,
    headers = {},
    timeoutMs = 10_000,
    retries = 5,
    minDelayMs = 500,
    maxDelayMs = 30_000,
    maxRetryAfterMs = 60_000,
    limiter,
    sleep = defaultSleep,
    random = Math.random,
    now = Date.now,
    observer,
  } = options;
  const fixedSecrets = [...credentialValues(headers), ...(options.secrets ?? [])];
  const instance = axios.create({ baseURL, headers, timeout: timeoutMs });

  function failure(req: HttpRequest, err: unknown, cls: HttpErrorClass): Error {
    const what = describe(req, baseURL);
    const secrets = [...fixedSecrets, ...credentialValues(req.headers), ...credentialValues(req.params)];
    const response = isAxiosError(err) ? err.response : undefined;
    if (cls.status !== undefined && cls.status >= 300 && cls.status < 400) {
      // Requests carrying credentials never follow a redirect: the next host would get them too.
      const to = redact(
        redirectTarget(response?.headers?.location, targetUrl(req, baseURL)?.href ?? baseURL),
        secrets,
      );
      return new PermanentError(
        'redirect_not_followed',
        `${what}: the channel answered HTTP ${cls.status}, a redirect to ${to}; requests carrying credentials do not follow redirects (check the channel's URL settings)`,
        { status: cls.status, location: to },
      );
    }
    if (cls.auth) {
      return new ChannelAuthError(`${what}: the channel refused our credentials (HTTP ${cls.status})`, {
        status: cls.status,
        body: excerpt(response?.data, secrets),
      });
    }
    if (cls.status !== undefined && !cls.retry) {
      const body = excerpt(response?.data, secrets);
      return new PermanentError(
        cls.reason,
        `${what}: HTTP ${cls.status}${body ? ` ${body.slice(0, 120)}` : ''}`,
        { status: cls.status, body },
      );
    }
    if (!cls.retry) {
      const cause = err instanceof Error ? redact(err.message, secrets) : String(err);
      return new PermanentError(cls.reason, `${what}: ${cause}`);
    }
    if (cls.reason === 'rate_limited') {
      // Without a Retry-After, tell whoever gets this in the end to wait a full backoff.
      return new RateLimitedError(`${what}: rate limited (HTTP 429)`, cls.waitMs ?? maxDelayMs);
    }
    const detail = cls.status !== undefined ? `HTTP ${cls.status}` : cls.reason;
    return new HttpRequestError(`${what}: ${detail}`, cls.reason, cls.status, cls.waitMs);
  }

  /** Whether a request carries a credential (the client's headers or secrets, or its own). */
  const credentialed = (req: HttpRequest) =>
    fixedSecrets.length > 0 ||
    credentialValues(req.headers).length > 0 ||
    credentialValues(req.params).length > 0;

  async function attempt<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const withCredentials = credentialed(req);
    const target = targetUrl(req, baseURL);
    if (withCredentials && target && !isSecureOrLoopback(target)) {
      // Settings refuse such URLs; this also covers a channel stored before they did.
      throw new AbortError(
        new PermanentError(
          'insecure_url',
          `${describe(req, baseURL)}: credentials are sent over https only (plain http only to localhost)`,
        ),
      );
    }
    if (limiter) {
      const waitStart = now();
      await limiter.acquire(req.cost ?? 1);
      const limiterMs = now() - waitStart;
      // Under a millisecond is a free token, not a throttle.
      if (limiterMs >= 1) observer?.waited('limiter', limiterMs);
    }
    const text = req.responseType === 'text';
    const started = performance.now();
    try {
      const res = await instance.request({
        // A redirect answer is an error (see failure) rather than a second request with our credentials.
        ...(withCredentials ? { maxRedirects: 0 } : {}),
        method: req.method,
        url: req.url,
        params: req.params,
        data: req.data,
        headers: req.headers,
        responseType: text ? 'text' : 'json',
        // Keep the raw string for callers that parse big integers themselves.
        ...(text ? { transformResponse: [(d: unknown) => d] } : {}),
      });
      observer?.attempt(res.status, performance.now() - started);
      return { status: res.status, headers: lowerCaseHeaders(res.headers), data: res.data as T };
    } catch (err) {
      observer?.attempt(
        isAxiosError(err) ? (err.response?.status ?? null) : null,
        performance.now() - started,
      );
      // The channel did not run what it did not answer with success: give back what this attempt
      // took beyond one unit (Shopify's query points), or retries would pay the cost again and again.
      const cost = req.cost ?? 1;
      if (cost > 1) await limiter?.adjust(-(cost - 1)).catch(() => {});
      const cls = classifyHttpError(err, now());
      const error = failure(req, err, cls);
      if (!cls.retry) throw new AbortError(error);
      if (cls.waitMs !== undefined && cls.waitMs > maxRetryAfterMs) {
        // Longer than we are willing to hold a worker: hand the wait to the job system.
        throw new AbortError(new RateLimitedError(error.message, cls.waitMs));
      }
      if (cls.waitMs !== undefined) askedWaitMs.set(error, cls.waitMs);
      throw error;
    }
  }

  return {
    async adjustCost(units: number): Promise<void> {
      await limiter?.adjust(units);
    },
    request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
      return pRetry(() => attempt<T>(req), {
        retries,
        minTimeout: 0,
        maxTimeout: 0,
        shouldRetry: async ({ error, retriesConsumed }) => {
          // The channel's own figure wins over our backoff, even when it says "now" (0).
          const asked = askedWaitMs.get(error);
          const delay =
            asked !== undefined ? asked : backoffDelayMs(retriesConsumed + 1, minDelayMs, maxDelayMs, random);
          observer?.waited(asked !== undefined ? 'retry_after' : 'backoff', delay);
          if (delay > 0) await sleep(delay);
          return true;
        },
      });
    },
  };
}
