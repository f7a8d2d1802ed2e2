import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isSafeChannelUrl, SAFE_URL_MESSAGE } from '../../../connectors/http/safe-url.js';
import type { SendOutcome } from '../contract.js';
import { aliyunOutcome } from './aliyun-answer.js';
import { acs3Authorization, canonicalQuery, sha256Hex } from './aliyun-signature.js';
import { clip, networkFailure, type SmsGatewayConnector } from './gateway-contract.js';
import { aliyunPhoneNumber } from './phone-number.js';

export const ALIYUN_ENDPOINT = 'https://dysmsapi.aliyuncs.com';
export const ALIYUN_SMS_VERSION = '2017-05-25';

export const aliyunSettingsSchema = z
  .object({
    accessKeyId: z.string().min(1).max(128),
    /** The approved signature name (签名名称), e.g. 阿里云短信测试. */
    signName: z.string().min(1).max(64),
    /** Default https://dysmsapi.aliyuncs.com. */
    endpoint: z.string().max(500).refine(isSafeChannelUrl, SAFE_URL_MESSAGE).default(ALIYUN_ENDPOINT),
  })
  .strict();

export type AliyunSettings = z.output<typeof aliyunSettingsSchema>;

export const aliyunSecretsSchema = z.object({ accessKeySecret: z.string().min(1).max(256) }).strict();

export type AliyunSecrets = z.output<typeof aliyunSecretsSchema>;

/** `2026-12-04T10:22:32Z`: Aliyun's x-acs-date, without milliseconds. */
const acsDate = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The SendSms request, signed (ACS3-HMAC-SHA256): what is sent, for the sender and the tests. */
export function aliyunSendSmsRequest(
  input: {
    phoneNumbers: string;
    signName: string;
    templateCode: string;
    templateParam: Record<string, string>;
    outId: string;
  },
  settings: AliyunSettings,
  secrets: AliyunSecrets,
  now: Date,
  nonce: string = randomBytes(16).toString('hex'),
): { url: string; headers: Record<string, string> } {
  const base = new URL(settings.endpoint);
  const query: Record<string, string> = {
    PhoneNumbers: input.phoneNumbers,
    SignName: input.signName,
    TemplateCode: input.templateCode,
    OutId: input.outId,
  };
  if (Object.keys(input.templateParam).length > 0) query.TemplateParam = JSON.stringify(input.templateParam);
  const headers: Record<string, string> = {
    host: base.host,
    'x-acs-action': 'SendSms',
    'x-acs-version': ALIYUN_SMS_VERSION,
    'x-acs-date': acsDate(now),
    'x-acs-signature-nonce': nonce,
    'x-acs-content-sha256': sha256Hex(''),
  };
  const { authorization } = acs3Authorization(
    { method: 'POST', path: '/', query, headers, body: '' },
    settings.accessKeyId,
    secrets.accessKeySecret,
  );
  return {
    url: `${base.origin}/?${canonicalQuery(query)}`,
    headers: { ...headers, authorization, accept: 'application/json' },
  };
}

/**
 * Aliyun SMS (dysmsapi SendSms): only approved templates are sent, chosen by the event's
 * TemplateCode, with the notification's data as TemplateParam; the rendered text is never sent,
 * so a status link reaches the customer only as a parameter of a template Aliyun approved.
 */
export const aliyunGateway: SmsGatewayConnector<AliyunSettings, AliyunSecrets> = {
  kind: 'aliyun',
  async send(message, { settings, secrets, templateCodes }, io): Promise<SendOutcome> {
    const templateCode = templateCodes[message.event];
    if (!templateCode)
      return { state: 'suppressed', reason: `no Aliyun TemplateCode is configured for ${message.event}` };
    const phone = aliyunPhoneNumber(message.number);
    if (!phone.ok || !phone.value)
      return { state: 'suppressed', reason: phone.ok ? 'invalid number' : phone.reason };
    const req = aliyunSendSmsRequest(
      {
        phoneNumbers: phone.value,
        signName: settings.signName,
        templateCode,
        templateParam: message.params,
        outId: message.messageId,
      },
      settings,
      secrets,
      io.now(),
    );
    let res: Response;
    try {
      res = await io.fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(io.timeoutMs),
      });
    } catch (err) {
      return networkFailure(err, io.timeoutMs);
    }
    const text = await res.text().catch(() => '');
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      return { state: 'failed', permanent: false, answer: clip(`HTTP ${res.status}: ${text}`) };
    }
    return aliyunOutcome(res.status, body, io.now());
  },
};
