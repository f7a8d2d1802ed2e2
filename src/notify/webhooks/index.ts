export { nextAttemptAt, RETRY_DELAYS_MS, RETRY_WINDOW_MS } from './retry-schedule.js';
export { WebhookSender, type WebhookSenderOptions, webhookBody } from './webhook-sender.js';
