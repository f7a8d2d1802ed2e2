/**
 * The contract between the notification core (rules, the `notifications` rows, retries, templates)
 * and the media that carry a notification out: e-mail, SMS gateways and outbound webhooks.
 *
 * The core decides *what* is sent to *whom* and records every attempt; a sender only carries one
 * already-rendered notification and says what the provider answered. A sender never writes the
 * `notifications` row itself, so that the state machine lives in one place.
 */

export type NotificationLanguage = 'zh-CN' | 'en';

/** How a notification travels. */
export type NotificationMedium = 'email' | 'sms' | 'webhook';

/** An attachment carried by an e-mail (invoices, credit notes, statements, result workbooks). */
export interface NotificationAttachment {
  filename: string;
  contentType: string;
  /** Absolute path of the file to attach (documents are files under the output folder). */
  path: string;
}

/** One notification, rendered and ready to go out. */
export interface OutgoingNotification {
  /** The `notifications` row id. */
  id: number;
  medium: NotificationMedium;
  /** The event it tells of, e.g. `order.shipped`, `alert.low_stock`, `job.failed`. */
  event: string;
  /**
   * Where it goes: an e-mail address (email), an E.164 phone number (sms), or the id of a
   * `webhook_endpoints` row written as a decimal string (webhook).
   */
  recipient: string;
  language: NotificationLanguage;
  /** The recipient's IANA time zone where known (quiet hours for SMS), else null. */
  timeZone: string | null;
  /** Rendered texts: subject and text for every medium, html for e-mail (null when none). */
  subject: string;
  text: string;
  html: string | null;
  /**
   * The event's data: the body of an outbound webhook, the template parameters of an SMS template
   * (Aliyun's TemplateParam), values a gateway body template may use.
   */
  data: Record<string, unknown>;
  /**
   * Deterministic per notification (the same on every attempt): the e-mail `Message-ID`, the
   * webhook `webhook-id`, the SMS gateway's out-id. Receivers use it to drop the one duplicate
   * that can happen when a process dies after the provider accepted and before we recorded it.
   */
  messageId: string;
  attachments: NotificationAttachment[];
  /** How many attempts were made before this one (0 on the first). */
  attempt: number;
}

/** What the provider answered for one attempt. */
export type SendOutcome =
  /** Accepted by the provider. `answer` is the provider's reply, kept on the row (never a secret). */
  | { state: 'sent'; providerReference?: string; answer?: string }
  /**
   * Not sent. `permanent` failures are not retried; others are retried with backoff, at `retryAt`
   * when the sender knows better (a webhook endpoint's own schedule, a gateway's Retry-After).
   * `suppressAddress` (only with `permanent`) says the provider refused the *address* itself (an
   * SMTP 550/551/553 or 5.1.x to the recipient, an invalid or unsupported mobile number): the
   * address is then suppressed for every later notification. Any other permanent failure (a
   * rejected message, a template the provider refuses) fails this notification only.
   */
  | { state: 'failed'; permanent: boolean; suppressAddress?: boolean; answer: string; retryAt?: Date }
  /** Deliberately not sent, for good (a cap reached, an invalid number): recorded with why. */
  | { state: 'suppressed'; reason: string }
  /** Not now (quiet hours, an hourly cap): try again at `until`, without counting an attempt. */
  | { state: 'deferred'; until: Date; reason: string };

/** One medium's sender. Idempotent towards the provider as far as the provider allows (`messageId`). */
export interface NotificationSender {
  medium: NotificationMedium;
  send(notification: OutgoingNotification): Promise<SendOutcome>;
}
