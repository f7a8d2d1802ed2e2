import { z } from 'zod';
import { parseRetryAfterMs } from '../../../connectors/http/classify.js';
import { isSafeChannelUrl, SAFE_URL_MESSAGE } from '../../../connectors/http/safe-url.js';
import type { SendOutcome } from '../contract.js';
import { encodingOf, renderBody, unknownPlaceholders } from './body-template.js';
import { clip, networkFailure, type SmsGatewayConnector } from './gateway-contract.js';
import { genericPhoneNumber } from './phone-number.js';

/** Plain settings of a generic HTTP gateway. */
export const genericSettingsSchema = z
  .object({
    /** Where the request goes (https; http only to this machine). */
    url: z.string().max(2000).refine(isSafeChannelUrl, SAFE_URL_MESSAGE),
    /** Default POST. */
    method: z.enum(['POST', 'PUT']).default('POST'),
    /** Default application/json; decides how placeholder values are escaped. */
    contentType: z.string().min(1).max(100).default('application/json'),
    /** The body with placeholders, e.g. {"to":"{{phone}}","text":"{{text}}"}. */
    bodyTemplate: z
      .string()
      .min(1)
      .max(10_000)
      .superRefine((t, ctx) => {
        const bad = unknownPlaceholders(t);
        if (bad.length > 0)
          ctx.addIssue({
            code: 'custom',
            message: `unknown placeholders ${bad.map((b) => `{{${b}}}`).join(', ')}; use {{phone}}, {{text}}, {{messageId}}, {{event}}, {{params.NAME}}`,
          });
      }),
    /** The header that carries the credential (its value is a secret), e.g. Authorization. */
    authHeaderName: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
      .optional(),
    /** How the number is written: e164 (+8613…, default) or digits (8613…). */
    phoneFormat: z.enum(['e164', 'digits']).default('e164'),
  })
  .strict();

export type GenericSettings = z.output<typeof genericSettingsSchema>;

export const genericSecretsSchema = z
  .object({
    /** The auth header's value, e.g. `Bearer …`. */
    authHeaderValue: z.string().min(1).max(2000).optional(),
  })
  .strict();

export type GenericSecrets = z.output<typeof genericSecretsSchema>;

/** 401/403: our credential or account at the gateway is wrong; retried after a longer wait. */
const ACCOUNT_RETRY_MS = 30 * 60_000;

/**
 * Sends through any HTTP SMS gateway: 2xx is accepted; 429 and 5xx are retried (at the gateway's
 * Retry-After when it says one); 401/403 are retried after half an hour (our credentials, not the
 * number); any other answer is a permanent failure of that message. A generic gateway's 4xx says
 * nothing certain about the number, so it never suppresses the address.
 */
export const genericGateway: SmsGatewayConnector<GenericSettings, GenericSecrets> = {
  kind: 'generic',
  async send(message, { settings, secrets }, io): Promise<SendOutcome> {
    const body = renderBody(
      settings.bodyTemplate,
      {
        phone: genericPhoneNumber(message.number, settings.phoneFormat),
        text: message.text,
        messageId: message.messageId,
        event: message.event,
        params: message.params,
      },
      encodingOf(settings.contentType),
    );
    const headers: Record<string, string> = { 'content-type': settings.contentType };
    if (settings.authHeaderName && secrets.authHeaderValue)
      headers[settings.authHeaderName] = secrets.authHeaderValue;
    let res: Response;
    try {
      res = await io.fetch(settings.url, {
        method: settings.method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(io.timeoutMs),
      });
    } catch (err) {
      return networkFailure(err, io.timeoutMs);
    }
    const text = await res.text().catch(() => '');
    const answer = clip(`HTTP ${res.status}${text ? `: ${text}` : ''}`);
    if (res.status >= 200 && res.status < 300) return { state: 'sent', answer };
    if (res.status === 429 || res.status >= 500) {
      const waitMs = parseRetryAfterMs(res.headers.get('retry-after') ?? undefined, io.now().getTime());
      return {
        state: 'failed',
        permanent: false,
        answer,
        ...(waitMs !== undefined ? { retryAt: new Date(io.now().getTime() + waitMs) } : {}),
      };
    }
    if (res.status === 401 || res.status === 403)
      return {
        state: 'failed',
        permanent: false,
        answer,
        retryAt: new Date(io.now().getTime() + ACCOUNT_RETRY_MS),
      };
    return { state: 'failed', permanent: true, suppressAddress: false, answer };
  },
};
