/** The shared channel HTTP client's surface; `client.ts` builds it on axios + p-retry. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path relative to the client's base URL (or an absolute URL). */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  data?: unknown;
  headers?: Record<string, string>;
  /** Rate-limit units this request costs (default 1). */
  cost?: number;
  /** `text` returns the raw body as a string (for big-int-safe parsing). Default `json`. */
  responseType?: 'json' | 'text';
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  data: T;
}

export interface HttpClient {
  /**
   * Sends a request through the channel's rate limiter, retrying network errors, 5xx and 429 with
   * exponential backoff and jitter (Retry-After honoured, in seconds). Throws `ChannelAuthError` on
   * 401/403 and a `PermanentError` on other 4xx.
   */
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * Corrects the rate limiter once a request's real cost is known (Shopify's `actualQueryCost`):
   * takes `units` more, or gives `-units` back, without waiting.
   */
  adjustCost(units: number): Promise<void>;
}
