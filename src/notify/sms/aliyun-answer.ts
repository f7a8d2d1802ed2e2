import type { SendOutcome } from '../contract.js';
import { clip } from './gateway-contract.js';

/**
 * Aliyun SendSms answer codes (dysmsapi 2017-05-25 error codes) that another attempt may pass:
 * flow control on the number or the account, throttling, Aliyun's own failures.
 */
const RETRYABLE = new Set([
  'isv.BUSINESS_LIMIT_CONTROL',
  'isv.DAY_LIMIT_CONTROL',
  'isv.MINUTE_LIMIT_CONTROL',
  'isv.HOUR_LIMIT_CONTROL',
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
  'Throttling.Api.Limit',
  'isp.SYSTEM_ERROR',
  'isp.GATEWAY_ERROR',
  'ServiceUnavailable',
  'InternalError',
]);

/** The number or the template is wrong: sending the same again can never work. */
const PERMANENT = new Set([
  'isv.MOBILE_NUMBER_ILLEGAL',
  'isv.MOBILE_COUNT_OVER_LIMIT',
  'isv.SMS_TEMPLATE_ILLEGAL',
  'isv.SMS_SIGNATURE_ILLEGAL',
  'isv.SMS_SIGN_ILLEGAL',
  'isv.TEMPLATE_MISSING_PARAMETERS',
  'isv.TEMPLATE_PARAMS_ILLEGAL',
  'isv.INVALID_JSON_PARAM',
  'isv.INVALID_PARAMETERS',
  'isv.PARAM_LENGTH_LIMIT',
  'isv.PARAM_NOT_SUPPORT_URL',
  'isv.BLACK_KEY_CONTROL_LIMIT',
  'isv.SMS_CONTENT_ILLEGAL',
  'isv.EXTEND_CODE_ERROR',
  'isv.DOMESTIC_NUMBER_NOT_SUPPORTED',
]);

/**
 * Our account's setup is wrong (credentials, permissions, balance): not the recipient's fault, so
 * the address must not be suppressed for it. Retried after a longer wait, by when a person may
 * have fixed it.
 */
const ACCOUNT = new Set([
  'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId.Inactive',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'Forbidden.RAM',
  'isp.RAM_PERMISSION_DENY',
  'isv.ACCOUNT_NOT_EXISTS',
  'isv.ACCOUNT_ABNORMAL',
  'isv.AMOUNT_NOT_ENOUGH',
  'isv.OUT_OF_SERVICE',
  'isv.PRODUCT_UN_SUBSCRIPT',
  'isv.PRODUCT_UNSUBSCRIBE',
]);

/** Of PERMANENT, the ones that say the number itself is wrong: that number is suppressed from then on. */
const ADDRESS = new Set(['isv.MOBILE_NUMBER_ILLEGAL', 'isv.DOMESTIC_NUMBER_NOT_SUPPORTED']);

const ACCOUNT_RETRY_MS = 30 * 60_000;

/** Maps one SendSms answer (HTTP status and parsed JSON body) to a SendOutcome. */
export function aliyunOutcome(status: number, body: unknown, now: Date): SendOutcome {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const code = typeof b.Code === 'string' ? b.Code : null;
  const message = typeof b.Message === 'string' ? b.Message : '';
  const requestId = typeof b.RequestId === 'string' ? b.RequestId : null;
  const said = clip(
    [`HTTP ${status}`, code ? `Code ${code}` : 'no Code', message, requestId ? `RequestId ${requestId}` : '']
      .filter(Boolean)
      .join('; '),
  );
  if (status >= 200 && status < 300 && code === 'OK') {
    const bizId = typeof b.BizId === 'string' ? b.BizId : undefined;
    return { state: 'sent', ...(bizId ? { providerReference: bizId } : {}), answer: said };
  }
  if (code && PERMANENT.has(code))
    return { state: 'failed', permanent: true, suppressAddress: ADDRESS.has(code), answer: said };
  if (code && ACCOUNT.has(code))
    return {
      state: 'failed',
      permanent: false,
      answer: said,
      retryAt: new Date(now.getTime() + ACCOUNT_RETRY_MS),
    };
  if (code && RETRYABLE.has(code)) return { state: 'failed', permanent: false, answer: said };
  // Unknown codes and answers without one (a proxy's error page, a 5xx) may pass later.
  return { state: 'failed', permanent: false, answer: said };
}
