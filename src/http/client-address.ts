import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isPrivateAddress } from './metrics-access.js';

/**
 * The address of the client a request came from, for per-client limits. `X-Forwarded-For` is
 * believed only when the peer is on loopback or a private network (a reverse proxy of ours): then
 * the client is the last address in it that is not private — the one our proxy saw — since a
 * client can put anything it likes before that. A request not made over node:http (an in-process
 * call in tests) has no peer and counts as local.
 */
export function clientAddress(c: Context): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined;
  }
  if (peer !== undefined && !isPrivateAddress(peer)) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (!isPrivateAddress(forwarded[i])) return forwarded[i]!;
  }
  return forwarded[0] ?? peer ?? 'local';
}
