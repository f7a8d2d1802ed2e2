import type { Logger } from 'pino';
import { SecretBoxError } from '../../channels/secret-box.js';
import type { Db } from '../../db/connection.js';
import { ConflictError, NotFoundError } from '../../errors/domain-errors.js';
import type { NotificationSender, OutgoingNotification, SendOutcome } from '../contract.js';
import {
  type Delivery,
  deliveryBody,
  dispatchHistory,
  getDelivery,
  recordDelivery,
} from './delivery-store.js';
import {
  endpointSecret,
  findEndpoint,
  getEndpoint,
  markEndpointFailing,
  markEndpointSucceeded,
  wantsEvent,
} from './endpoint-store.js';
import { type PostOptions, postWebhook } from './post-webhook.js';
import { nextAttemptAt } from './retry-schedule.js';

export interface WebhookSenderOptions {
  db: Db;
  /** STOCKBRIDGE_SECRET_KEY: opens the endpoints' sealed signing secrets. */
  secretKey: Buffer;
  /** Milliseconds an endpoint has to answer. Default 15 000. */
  timeoutMs?: number;
  /** Bytes of an answer read for the log. Default 4096 (1000 characters are kept). */
  maxResponseBytes?: number;
  /** The clock. Default: the real one. */
  now?: () => Date;
  /** HTTP. Default: the global fetch. */
  fetch?: typeof fetch;
  log?: Logger;
}

/** The JSON body of an event: `{type, timestamp, data}` (timestamp: the first attempt, ISO 8601). */
export function webhookBody(event: string, timestamp: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ type: event, timestamp: timestamp.toISOString(), data });
}

const answerOf = (d: Delivery) =>
  `${d.statusCode === null ? (d.error ?? 'no answer') : `HTTP ${d.statusCode}`} in ${d.durationMs} ms (delivery ${d.id})`;

/**
 * The `webhook` medium: the recipient is a `webhook_endpoints` id. Every attempt is logged; a
 * failed one is retried on the endpoint's own schedule (`retryAt`) for up to a day after the first,
 * then it fails for good and the endpoint is marked failing until a delivery gets through again.
 */
export class WebhookSender implements NotificationSender {
  readonly medium = 'webhook' as const;
  private readonly now: () => Date;
  private readonly post: PostOptions;

  constructor(private readonly o: WebhookSenderOptions) {
    this.now = o.now ?? (() => new Date());
    this.post = {
      timeoutMs: o.timeoutMs ?? 15_000,
      maxResponseBytes: o.maxResponseBytes ?? 4096,
      fetch: o.fetch ?? ((...a) => fetch(...a)),
      now: this.now,
    };
  }

  async send(n: OutgoingNotification): Promise<SendOutcome> {
    const { db } = this.o;
    if (!/^\d{1,15}$/.test(n.recipient))
      return {
        state: 'suppressed',
        reason: `recipient ${JSON.stringify(n.recipient)} is not a webhook endpoint id`,
      };
    const endpoint = await findEndpoint(db, Number(n.recipient));
    if (!endpoint) return { state: 'suppressed', reason: `webhook endpoint ${n.recipient} does not exist` };
    if (!endpoint.enabled)
      return { state: 'suppressed', reason: `webhook endpoint ${endpoint.id} is disabled` };
    if (!wantsEvent(endpoint, n.event))
      return { state: 'suppressed', reason: `webhook endpoint ${endpoint.id} does not take ${n.event}` };

    const history = await dispatchHistory(db, endpoint.id, n.messageId);
    // Accepted before, and the answer was lost on our side: not sent twice.
    if (history.sentId !== null)
      return { state: 'sent', providerReference: `delivery:${history.sentId}`, answer: 'accepted earlier' };

    const first = history.firstAttemptAt ?? this.now();
    const body = history.firstBody ?? webhookBody(n.event, first, n.data);
    let secret: string;
    try {
      secret = await endpointSecret(db, this.o.secretKey, endpoint.id);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      return {
        state: 'failed',
        permanent: false,
        answer: `the endpoint's secret cannot be opened: ${err.message}`,
      };
    }
    const result = await postWebhook(endpoint.url, secret, n.messageId, body, this.post);
    const attemptedAt = this.now();
    const retryAt = result.ok ? null : nextAttemptAt(first, history.attempts + 1, attemptedAt);
    const delivery = await recordDelivery(db, {
      endpointId: endpoint.id,
      messageId: n.messageId,
      notificationId: n.id,
      event: n.event,
      trigger: 'dispatch',
      redeliveryOf: null,
      body,
      outcome: result.ok ? 'sent' : 'failed',
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      responseBody: result.responseBody,
      error: result.error,
      retryAt,
      attemptedAt,
    });
    this.o.log?.debug(
      { notification: n.id, endpoint: endpoint.id, delivery: delivery.id, status: result.statusCode },
      'webhook attempt',
    );
    if (result.ok) {
      await markEndpointSucceeded(db, endpoint.id, attemptedAt);
      return { state: 'sent', providerReference: `delivery:${delivery.id}`, answer: answerOf(delivery) };
    }
    if (retryAt) return { state: 'failed', permanent: false, answer: answerOf(delivery), retryAt };
    await markEndpointFailing(db, endpoint.id, attemptedAt);
    return {
      state: 'failed',
      permanent: true,
      answer: `${answerOf(delivery)}; not delivered within 24 h of the first attempt, endpoint marked failing`,
    };
  }

  /**
   * Sends a logged delivery's body again, now, with the same `webhook-id` (so the receiver can tell
   * it has seen it) and a fresh timestamp and signature; the attempt is logged as a redelivery.
   */
  async redeliver(endpointId: number, deliveryId: number): Promise<Delivery> {
    const { db } = this.o;
    const endpoint = await getEndpoint(db, endpointId);
    const original = await getDelivery(db, endpointId, deliveryId);
    if (!original) throw new NotFoundError(`delivery ${deliveryId} of webhook endpoint ${endpointId}`);
    if (!endpoint.enabled)
      throw new ConflictError(
        'endpoint_disabled',
        `webhook endpoint ${endpointId} is disabled; enable it first`,
      );
    const body = (await deliveryBody(db, deliveryId)) as string;
    const secret = await endpointSecret(db, this.o.secretKey, endpointId);
    const result = await postWebhook(endpoint.url, secret, original.messageId, body, this.post);
    const attemptedAt = this.now();
    const delivery = await recordDelivery(db, {
      endpointId,
      messageId: original.messageId,
      notificationId: original.notificationId,
      event: original.event,
      trigger: 'redeliver',
      redeliveryOf: original.id,
      body,
      outcome: result.ok ? 'sent' : 'failed',
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      responseBody: result.responseBody,
      error: result.error,
      retryAt: null,
      attemptedAt,
    });
    if (result.ok) await markEndpointSucceeded(db, endpointId, attemptedAt);
    return delivery;
  }
}
