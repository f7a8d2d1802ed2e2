import { createHash, createHmac } from 'node:crypto';

/**
 * Aliyun's request signature V3 (ACS3-HMAC-SHA256), which Aliyun asks new callers to use instead
 * of the discontinued RPC signature V2 (HMAC-SHA1 over the sorted query). See "V3版本请求体&签名机制",
 * https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature; the unit test
 * reproduces that page's worked example.
 */

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding: only A-Z a-z 0-9 - _ . ~ stay as they are; a space is %20. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export interface Acs3Request {
  method: string;
  /** The path, `/` for RPC-style APIs. */
  path: string;
  /** Query parameters (RPC-style APIs carry their parameters here). */
  query: Record<string, string>;
  /** Lower-case names: host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce … */
  headers: Record<string, string>;
  /** The request body as sent; '' when none. */
  body: string;
}

export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(query[k] ?? '')}`)
    .join('&');
}

/** The headers that are signed: host, content-type and every x-acs-* header, sorted. */
function signedHeaderNames(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
}

export function canonicalRequest(req: Acs3Request): { text: string; signedHeaders: string } {
  const lower = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const names = signedHeaderNames(lower);
  const headerLines = names.map((h) => `${h}:${(lower[h] ?? '').trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const hashedPayload = lower['x-acs-content-sha256'] ?? sha256Hex(req.body);
  const text = [
    req.method.toUpperCase(),
    req.path,
    canonicalQuery(req.query),
    headerLines,
    signedHeaders,
    hashedPayload,
  ].join('\n');
  return { text, signedHeaders };
}

/**
 * The `Authorization` header value for a request whose headers already hold host, x-acs-action,
 * x-acs-version, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256.
 */
export function acs3Authorization(
  req: Acs3Request,
  accessKeyId: string,
  accessKeySecret: string,
): { authorization: string; signature: string; stringToSign: string } {
  const { text, signedHeaders } = canonicalRequest(req);
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(text)}`;
  const signature = createHmac('sha256', accessKeySecret).update(stringToSign).digest('hex');
  return {
    authorization: `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`,
    signature,
    stringToSign,
  };
}
