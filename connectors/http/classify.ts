import { isAxiosError } from 'axios';

/** What to do about one failed HTTP attempt. */
export interface HttpErrorClass {
  /** Another attempt may succeed (network trouble, 5xx, 429). */
  retry: boolean;
  /** Machine-readable reason, e.g. `network_econnreset`, `http_503`, `rate_limited`, `http_404`. */
  reason: string;
  /** Milliseconds the other side asked us to wait (from `Retry-After`), when it said so. */
  waitMs?: number;
  /** The credentials were refused (401/403): retrying will not help, an administrator must act. */
  auth?: boolean;
  /** HTTP status, when a response arrived. */
  status?: number;
}

/** Connection-level failures that another attempt may not meet. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNABORTED', // axios: the request timeout elapsed
  'ETIMEOUT',
  'EPIPE',
  'EAI_AGAIN', // DNS lookup timed out; unlike ENOTFOUND it is transient
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Reads a `Retry-After` header value into milliseconds. The header holds either delta-SECONDS
 * (`"120"`; some servers send `"2.0"`) or an HTTP date; a date in the past means "now" (0 ms).
 * Returns undefined for a missing or unreadable value.
 */
export function parseRetryAfterMs(value: unknown, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? Math.ceil(raw * 1000) : undefined;
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    return Math.ceil(seconds * 1000);
  }
  // An HTTP date names its month ("Sun, 01 Nov 2026 12:00:30 GMT"); bare numbers are not dates.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function headerValue(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown> & { get?: (n: string) => unknown };
  if (typeof h.get === 'function') {
    const v = h.get(name);
    if (v !== undefined && v !== null) return v;
  }
  const lower = name.toLowerCase();
  for (const [key, v] of Object.entries(h)) {
    if (key.toLowerCase() === lower) return v;
  }
  return undefined;
}

function classifyStatus(status: number, headers: unknown, now: number): HttpErrorClass {
  if (status === 401 || status === 403) {
    return { retry: false, reason: `http_${status}`, auth: true, status };
  }
  if (status === 429 || status === 503) {
    const waitMs = parseRetryAfterMs(headerValue(headers, 'retry-after'), now);
    const reason = status === 429 ? 'rate_limited' : 'http_503';
    return waitMs === undefined ? { retry: true, reason, status } : { retry: true, reason, waitMs, status };
  }
  if (status >= 500) return { retry: true, reason: `http_${status}`, status };
  // 408 Request Timeout is the server giving up on a slow request: another attempt may succeed.
  if (status === 408) return { retry: true, reason: 'http_408', status };
  return { retry: false, reason: `http_${status}`, status };
}

/**
 * Decides, for an error thrown by an axios request, whether to try again and after how long.
 * Pure: `now` (epoch milliseconds) is only used to turn a `Retry-After` HTTP date into a wait.
 *
 * - network errors and timeouts: retry
 * - 5xx and 408: retry; 503 honours `Retry-After`
 * - 429: retry, `waitMs` from `Retry-After` (SECONDS, converted to ms) when present
 * - 401/403: no retry, `auth: true`
 * - any other 4xx, a cancelled request, or something that is not an HTTP error at all: no retry
 */
export function classifyHttpError(err: unknown, now: number = Date.now()): HttpErrorClass {
  if (!isAxiosError(err)) {
    return { retry: false, reason: 'not_http_error' };
  }
  if (err.response) {
    return classifyStatus(err.response.status, err.response.headers, now);
  }
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'ERR_CANCELED') return { retry: false, reason: 'cancelled' };
  if (code === 'ENOTFOUND') return { retry: false, reason: 'network_enotfound' };
  if (code === 'ERR_BAD_OPTION' || code === 'ERR_BAD_OPTION_VALUE' || code === 'ERR_INVALID_URL') {
    return { retry: false, reason: `bad_request_${code.toLowerCase()}` };
  }
  if (RETRYABLE_NETWORK_CODES.has(code)) {
    return { retry: true, reason: code === 'ECONNABORTED' ? 'timeout' : `network_${code.toLowerCase()}` };
  }
  // A request that went out and got no response: treat as a network failure.
  if (err.request) return { retry: true, reason: code ? `network_${code.toLowerCase()}` : 'network' };
  return { retry: false, reason: code ? `request_${code.toLowerCase()}` : 'request_not_sent' };
}
