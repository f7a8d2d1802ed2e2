import { Webhook } from 'standardwebhooks';

/** What one POST to an endpoint gave. */
export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
}

export interface PostOptions {
  /** Milliseconds the endpoint has to answer. */
  timeoutMs: number;
  /** Bytes of the answer's body read at most (the rest is not read). */
  maxResponseBytes: number;
  fetch: typeof fetch;
  now: () => Date;
}

/** Reads at most `max` bytes of a body, then lets the rest go. */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * Signs and POSTs one body with the Standard Webhooks headers: `webhook-id` (the same on every
 * attempt), `webhook-timestamp` (this attempt, in seconds) and `webhook-signature` (`v1,` + base64
 * HMAC-SHA256 of `id.timestamp.body` under the secret's decoded bytes, made by the standardwebhooks
 * library). Redirects are not followed: a 3xx is a failed attempt.
 */
export async function postWebhook(
  url: string,
  secret: string,
  messageId: string,
  body: string,
  o: PostOptions,
): Promise<PostResult> {
  const at = o.now();
  const signature = new Webhook(secret).sign(messageId, at, body);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'stockbridge-webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await o.fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const text = await readCapped(res, o.maxResponseBytes).catch(() => '');
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok,
      statusCode: res.status,
      durationMs: took(),
      responseBody: text || null,
      error: ok ? null : `HTTP ${res.status}`,
    };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
    return {
      ok: false,
      statusCode: null,
      durationMs: took(),
      responseBody: null,
      error: timedOut
        ? `no answer within ${o.timeoutMs} ms`
        : `request failed: ${e?.cause?.code ?? e?.name ?? 'error'}`,
    };
  }
}
