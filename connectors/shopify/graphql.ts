import { PermanentError } from '../../src/errors/permanent-error.js';
import { RateLimitedError } from '../../src/errors/rate-limited-error.js';
import type { ConnectorContext } from '../contract.js';
import { parseJsonKeepingBigIds } from './json.js';

/** Times one query is sent again after `THROTTLED` before the wait is handed to the job system. */
const MAX_THROTTLED_RETRIES = 8;
/** Longest wait (ms) for the cost bucket we sit through in process. */
const MAX_THROTTLE_WAIT_MS = 60_000;
/** Wait (ms) when a throttled answer carries no cost figures. */
const DEFAULT_THROTTLE_WAIT_MS = 1_000;

export interface GraphqlErrorEntry {
  message?: string;
  extensions?: { code?: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface ThrottleStatus {
  maximumAvailable?: number;
  currentlyAvailable?: number;
  restoreRate?: number;
}

interface CostExtension {
  requestedQueryCost?: number;
  actualQueryCost?: number;
  throttleStatus?: ThrottleStatus;
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: GraphqlErrorEntry[];
  extensions?: { cost?: CostExtension };
}

/** Shopify answered with top-level GraphQL errors other than `THROTTLED`. */
export class ShopifyGraphqlError extends PermanentError {
  override name = 'ShopifyGraphqlError';
  constructor(
    message: string,
    /** The errors' `extensions.code` values, e.g. `MAX_COST_EXCEEDED`, `ACCESS_DENIED`. */
    readonly codes: string[],
  ) {
    super(codes.includes('ACCESS_DENIED') ? 'access_denied' : 'graphql_error', message, { codes });
  }
}

/** Shopify had a passing internal problem (`INTERNAL_SERVER_ERROR`): retry later. */
export class ShopifyTransientError extends Error {
  override name = 'ShopifyTransientError';
}

/**
 * Milliseconds until the cost bucket holds what the throttled query asked for:
 * (requestedQueryCost - currentlyAvailable) / restoreRate (points per second), in ms.
 */
export function throttleWaitMs(cost: CostExtension | undefined): number {
  const requested = cost?.requestedQueryCost;
  const available = cost?.throttleStatus?.currentlyAvailable;
  const restore = cost?.throttleStatus?.restoreRate;
  if (typeof requested !== 'number' || typeof available !== 'number' || !restore || restore <= 0) {
    return DEFAULT_THROTTLE_WAIT_MS;
  }
  return Math.max(0, Math.ceil(((requested - available) / restore) * 1000));
}

/**
 * Brings the shared limiter to what the query really cost: Shopify's `actualQueryCost` (a
 * throttled or refused query reports none and cost nothing) instead of the `requested` cost taken.
 */
async function chargeActualCost(
  ctx: ConnectorContext<unknown>,
  requested: number,
  cost: CostExtension | undefined,
): Promise<void> {
  if (cost === undefined) return;
  const actual = typeof cost.actualQueryCost === 'number' ? cost.actualQueryCost : 0;
  if (actual !== requested) await ctx.http.adjustCost(actual - requested);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface GraphqlOptions {
  /**
   * The query's requested cost, taken from the shared limiter before it is sent; once Shopify
   * answers, the difference to its `actualQueryCost` is given back (or charged). Default 10.
   */
  cost?: number;
  /** Waits while throttled. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends one GraphQL Admin API operation through the channel's HTTP client (which handles the
 * network, 5xx and 429) and deals with the cost throttle: a `THROTTLED` answer waits for the
 * bucket to hold the requested cost, then asks again. The body is parsed keeping big ids exact.
 */
export async function shopifyGraphql<T>(
  ctx: ConnectorContext<unknown>,
  query: string,
  variables: Record<string, unknown> = {},
  options: GraphqlOptions = {},
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const requested = options.cost ?? 10;
  for (let throttled = 0; ; throttled++) {
    const res = await ctx.http.request<unknown>({
      method: 'POST',
      url: 'graphql.json',
      data: { query, variables },
      headers: { 'Content-Type': 'application/json' },
      responseType: 'text',
      cost: requested,
    });
    let body: GraphqlBody<T>;
    try {
      body = (typeof res.data === 'string' ? parseJsonKeepingBigIds(res.data) : res.data) as GraphqlBody<T>;
    } catch {
      throw new ShopifyTransientError('Shopify GraphQL: the response is not JSON');
    }
    if (typeof body !== 'object' || body === null) {
      throw new ShopifyTransientError('Shopify GraphQL: the response is not an object');
    }
    const errors = Array.isArray(body.errors) ? body.errors : [];
    await chargeActualCost(ctx, requested, body.extensions?.cost);
    if (errors.length === 0) {
      if (body.data === undefined || body.data === null) {
        throw new ShopifyTransientError('Shopify GraphQL: the response has no data');
      }
      return body.data;
    }
    const codes = errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN'));
    const messages = errors
      .map((e) => e.message ?? 'error')
      .join('; ')
      .slice(0, 300);
    if (codes.includes('THROTTLED')) {
      const waitMs = throttleWaitMs(body.extensions?.cost);
      if (throttled >= MAX_THROTTLED_RETRIES || waitMs > MAX_THROTTLE_WAIT_MS) {
        throw new RateLimitedError(`Shopify GraphQL: throttled (${messages})`, waitMs);
      }
      ctx.log.debug(
        { waitMs, cost: body.extensions?.cost },
        'shopify: throttled, waiting for the cost bucket',
      );
      await sleep(waitMs);
      continue;
    }
    if (codes.includes('INTERNAL_SERVER_ERROR')) {
      throw new ShopifyTransientError(`Shopify GraphQL: ${messages}`);
    }
    throw new ShopifyGraphqlError(`Shopify GraphQL: ${messages} [${codes.join(', ')}]`, codes);
  }
}
