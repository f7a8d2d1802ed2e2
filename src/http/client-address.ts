import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isPrivateAddress } from './metrics-access.js';

/**
 * The address of the client a request came from, for per-client limits. `X-Forwarded-For` is
 * believed only when the peer is a trusted proxy (on loopback or a private network): then the
 * client is the right-most address in it that is not a trusted proxy — the one our proxies saw —
 * since a client can put anything it likes before that. When every address in it is a proxy's (or
 * there is none), the client is the peer itself. IPv6 clients are counted by their /64 (one
 * customer line or host gets a whole /64). A request not made over node:http (an in-process call
 * in tests) has no peer and counts as a local proxy.
 */
export function clientAddress(c: Context): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined;
  }
  if (peer !== undefined && !isPrivateAddress(peer)) return bucket(peer);
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (!isPrivateAddress(forwarded[i])) return bucket(forwarded[i]!);
  }
  return peer === undefined ? 'local' : bucket(peer);
}

/** An IPv4 address as it is (an IPv4-mapped IPv6 one unwrapped); an IPv6 one as its /64 prefix. */
export function bucket(address: string): string {
  const plain = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped) return mapped[1]!;
  if (isIP(plain) !== 6) return address;
  const [head = '', tail] = plain.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups; only the first four groups matter here.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - width(left) - width(right)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
