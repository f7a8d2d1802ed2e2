import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Headers } from '../../connectors/contract.js';
import type { ChannelService } from '../channels/channel-service.js';
import type { IntakePriority } from '../queue/intake-priority.js';

/**
 * `POST /webhooks/{channelId}` straight on Node's request and response, ahead of the Hono app.
 *
 * A webhook is the one route where a burst of thousands of small requests a second is normal (a
 * flash sale), and where the work per request is small: read the bytes, check the signature,
 * store the delivery with the others of the moment (src/channels/webhook-intake.ts). Going through
 * the web-standard Request and Response that the Hono adapter builds for every request (a body
 * stream, header objects, an abort signal) cost more CPU than that work itself (docs/benchmarks.md,
 * "Shopify webhooks"). This listener reads the body into a Buffer and answers directly; it does
 * exactly what the Hono route does (`src/http/routes/webhooks.ts`, the one handler in tests through
 * `app.request`), with the same answers, limits, request id and log line, and hands everything
 * it does not recognise — another path or method, an id that is not digits, a body without a
 * length or over the limit — to the Hono app, which answers those as it always has.
 */
export interface WebhookFastPathOptions {
  channels: ChannelService;
  log: Logger;
  /** The request body limit (the Hono app's default limit). */
  maxBodyBytes: number;
  /** Told of every delivery in flight, so that applying in this process waits for a quiet moment. */
  priority?: IntakePriority;
}

const PATH = /^\/webhooks\/(\d{1,15})(?:\?.*)?$/;
const REQUEST_ID = /^[\w.-]{1,64}$/;

/** True when the request is one this path takes (it then answers it); false to hand it on. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function webhookFastPath({ channels, log, maxBodyBytes, priority }: WebhookFastPathOptions): FastPath {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const match = PATH.exec(req.url ?? '');
    if (!match) return false;
    const length = Number(req.headers['content-length']);
    // Chunked or oversized bodies go the general way (which streams and limits them).
    if (!Number.isSafeInteger(length) || length < 0 || length > maxBodyBytes) return false;
    const done = priority?.begin();
    void answer(req, res, Number(match[1]), length, { channels, log }).finally(done);
    return true;
  };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  id: number,
  length: number,
  { channels, log }: Pick<WebhookFastPathOptions, 'channels' | 'log'>,
): Promise<void> {
  const started = performance.now();
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const child = log.child({ requestId });
  let status = 500;
  let body: string;
  let contentType = 'application/json';
  try {
    let raw: Buffer;
    try {
      raw = await readBody(req, length);
    } catch (err) {
      // The client's doing (a body cut short or longer than it said): nothing was stored.
      status = 400;
      child.warn({ err: (err as Error).message }, 'webhook body unreadable');
      throw new BadBody((err as Error).message);
    }
    const headers: Headers = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const result = await channels.receiveWebhook(id, raw, headers);
    status = result.status;
    if (typeof result.body === 'string') {
      body = result.body;
      contentType = result.contentType ?? 'text/plain; charset=utf-8';
    } else {
      body = JSON.stringify(result.body);
      contentType = result.contentType ?? 'application/json';
    }
  } catch (err) {
    if (err instanceof BadBody) {
      body = JSON.stringify({ error: { code: 'bad_request', message: err.message } });
    } else {
      status = 500;
      child.error({ err: (err as Error).message, stack: (err as Error).stack }, 'unhandled error');
      body = JSON.stringify({
        error: {
          code: 'internal_error',
          message: 'internal error; see the server log',
          details: { requestId },
        },
      });
    }
  }
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-request-id': requestId,
    });
    res.end(body);
  }
  // One line per request, as every other route logs it.
  const entry = {
    method: 'POST',
    path: `/webhooks/${id}`,
    status,
    ms: Math.round(performance.now() - started),
  };
  if (status >= 500) child.error(entry, 'request failed');
  else child.info(entry, 'request');
}

class BadBody extends Error {}

/** The body, exactly `length` bytes as the request declared (fewer or more is an error). */
function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.allocUnsafe(length);
    let at = 0;
    req.on('data', (chunk: Buffer) => {
      if (at + chunk.length > length) {
        req.destroy();
        reject(new Error('request body longer than its content-length'));
        return;
      }
      chunk.copy(body, at);
      at += chunk.length;
    });
    req.once('end', () =>
      at === length ? resolve(body) : reject(new Error('request body shorter than its content-length')),
    );
    req.once('error', reject);
  });
}

/**
 * A `createServer` for `@hono/node-server`'s `serve`: Node's HTTP server whose requests go to the
 * fast path first and to the Hono app's listener otherwise.
 */
export function serverWithFastPath(fast: FastPath) {
  return ((options: object, listener: RequestListener) =>
    createServer(options, (req, res) => {
      if (!fast(req, res)) listener(req, res);
    })) as unknown as typeof createServer;
}
