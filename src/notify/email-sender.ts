import type { Transporter } from 'nodemailer';
import type { NotificationSender, OutgoingNotification, SendOutcome } from './contract.js';

/** SMTP reply codes, or none (a connection that failed before an answer). */
function responseCodeOf(err: unknown): number | null {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' ? code : null;
}

/** An enhanced status code 5.1.x (RFC 3463: addressing status — bad mailbox, bad domain …). */
const ADDRESS_STATUS = /(?:^|\s)5\.1\.\d{1,3}(?:\s|$)/;

/**
 * Whether an SMTP failure is for good: a 5xx answer to the recipient or the data (550 no such
 * mailbox, 553, 554 …). 4xx answers and connection errors are tried again. A 5xx that says
 * authentication or the sender is wrong is our configuration, not the address: retried.
 * `suppressAddress` only when the address itself is refused: 550/551/553 to RCPT TO, or an
 * enhanced status 5.1.x; a refused message (554, 5.7.x spam/policy) fails that message only.
 */
export function classifySmtpError(err: unknown): {
  permanent: boolean;
  suppressAddress: boolean;
  answer: string;
} {
  const code = responseCodeOf(err);
  const message = (err as Error).message ?? String(err);
  const command = String((err as { command?: unknown }).command ?? '');
  const response = String((err as { response?: unknown }).response ?? message);
  const ours =
    command === 'AUTH' ||
    command.startsWith('AUTH') ||
    command === 'MAIL FROM' ||
    code === 530 ||
    code === 535;
  const permanent = code !== null && code >= 500 && code < 600 && !ours;
  const addressFault =
    (command === 'RCPT TO' && (code === 550 || code === 551 || code === 553)) ||
    ADDRESS_STATUS.test(response);
  return {
    permanent,
    suppressAddress: permanent && addressFault,
    answer: (code !== null ? response : `${(err as { code?: string }).code ?? 'error'}: ${message}`).slice(
      0,
      1000,
    ),
  };
}

export interface EmailSenderOptions {
  /** The process's one transport (src/mail/transport.ts). */
  transport: Transporter;
  /** The From address (`STOCKBRIDGE_MAIL_FROM`). */
  from: string;
}

/** The e-mail sender: HTML and text parts, the notification's own Message-ID, its attachments. */
export function emailSender({ transport, from }: EmailSenderOptions): NotificationSender {
  return {
    medium: 'email',
    async send(n: OutgoingNotification): Promise<SendOutcome> {
      try {
        const info = await transport.sendMail({
          from,
          to: n.recipient,
          subject: n.subject,
          text: n.text,
          ...(n.html ? { html: n.html } : {}),
          messageId: n.messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Stockbridge-Event': n.event },
          attachments: n.attachments.map((a) => ({
            filename: a.filename,
            contentType: a.contentType,
            path: a.path,
          })),
        });
        return {
          state: 'sent',
          providerReference: info.messageId,
          answer: String(info.response ?? '').slice(0, 1000),
        };
      } catch (err) {
        const { permanent, suppressAddress, answer } = classifySmtpError(err);
        return { state: 'failed', permanent, suppressAddress, answer };
      }
    },
  };
}
