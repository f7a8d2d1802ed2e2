export { RETRY_DELAYS_MS, RETRY_WINDOW_MS, nextAttemptAt } from './retry-schedule.js';
export { WebhookSender, type WebhookSenderOptions, webhookBody } from './webhook-sender.js';
