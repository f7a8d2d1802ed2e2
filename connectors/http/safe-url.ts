/**
 * Where a channel's credentials may be sent: over https, or in clear text only to this machine
 * (tests, a local proxy). Shared by the connectors' URL settings and the HTTP client.
 */

/** Hosts (as `URL.hostname` gives them) that are this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** An `https:` URL, or an `http:` one to a loopback host. */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/**
 * A base URL a channel's credentials may be sent to: absolute, https (plain http only to a
 * loopback host), without user info, query or fragment (which would end up in every request).
 */
export function isSafeChannelUrl(value: string): boolean {
  try {
    const u = new URL(value);
    if (u.search || u.hash || u.username || u.password) return false;
    return isSecureOrLoopback(u);
  } catch {
    return false;
  }
}

/** What a settings field holding such a URL says when it is not one. */
export const SAFE_URL_MESSAGE =
  'must be an https:// URL without query or fragment (http:// only for localhost or 127.0.0.1)';
