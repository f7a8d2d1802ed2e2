import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.js';

/** Where and as whom the daemon sends e-mail. */
export interface MailSettings {
  /** `smtp://` or `smtps://` URL; null: mail is not configured. */
  smtpUrl: string | null;
  from: string;
}

export const mailSettingsOf = (
  config: Pick<Config, 'STOCKBRIDGE_SMTP_URL' | 'STOCKBRIDGE_MAIL_FROM'>,
): MailSettings => ({
  smtpUrl: config.STOCKBRIDGE_SMTP_URL ?? null,
  from: config.STOCKBRIDGE_MAIL_FROM,
});

/**
 * One pooled SMTP transport for the process (nodemailer), or null when no SMTP URL is set. Every
 * sender of mail (notifications, documents, replies to e-mailed orders) goes through this, so that
 * connection limits and TLS settings live in one place. The URL carries the password: never log it
 * (`redactUrl` from config does that).
 */
export function createMailTransport(settings: MailSettings): Transporter | null {
  if (!settings.smtpUrl) return null;
  const url = new URL(settings.smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined,
    pool: true,
    maxConnections: 3,
    // A local or test relay without a certificate is allowed only when the URL says so.
    tls: url.searchParams.get('tls') === 'insecure' ? { rejectUnauthorized: false } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
}
