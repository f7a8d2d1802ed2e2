import type { SendOutcome } from '../contract.js';
import type { E164Number } from './phone-number.js';

/** One SMS handed to a gateway connector: the number already checked, the texts rendered. */
export interface SmsMessage {
  number: E164Number;
  /** The event it tells of; Aliyun picks its TemplateCode by it. */
  event: string;
  /** The rendered text (generic gateways; Aliyun never sends free text). */
  text: string;
  /** Template parameters (Aliyun's TemplateParam; `{{params.x}}` in a generic body template). */
  params: Record<string, string>;
  /** The notification's deterministic id (Aliyun's OutId). */
  messageId: string;
}

/**
 * An SMS gateway kind: how its settings look and how it sends. Settings are plain data from the
 * `sms_gateways` row; `secrets` were opened from their sealed form for this one call only.
 */
export interface SmsGatewayConnector<S = unknown, K = unknown> {
  kind: 'generic' | 'aliyun';
  send(
    message: SmsMessage,
    gateway: { settings: S; secrets: K; templateCodes: Record<string, string> },
    io: SmsGatewayIo,
  ): Promise<SendOutcome>;
}

export interface SmsGatewayIo {
  fetch: typeof fetch;
  now: () => Date;
  /** Milliseconds a request may take. */
  timeoutMs: number;
}

/** Up to this many characters of a provider's answer are kept on the notification. */
export const ANSWER_CHARS = 500;

export const clip = (text: string, n = ANSWER_CHARS) => (text.length > n ? `${text.slice(0, n)}…` : text);

/** What a network-level failure (no answer) says, without the URL's query or any header. */
export function networkFailure(err: unknown, timeoutMs: number): SendOutcome {
  const e = err as { name?: string; cause?: { code?: string }; code?: string };
  const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
  const code = e?.cause?.code ?? e?.code ?? e?.name ?? 'error';
  return {
    state: 'failed',
    permanent: false,
    answer: timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${code}`,
  };
}
