import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it } from 'vitest';
import { classifyHttpError, parseRetryAfterMs } from '../../../connectors/http/classify.js';

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;
const NOW = Date.parse('2026-11-01T12:00:00Z');

function httpError(status: number, headers: Record<string, string> = {}): AxiosError {
  return new AxiosError(
    `Request failed with status code ${status}`,
    'ERR_BAD_RESPONSE',
    config,
    {},
    {
      status,
      statusText: '',
      headers: new AxiosHeaders(headers),
      config,
      data: '',
    },
  );
}

function networkError(code: string): AxiosError {
  return new AxiosError(`network: ${code}`, code, config, {});
}

describe('classifyHttpError', () => {
  it.each([
    ['ECONNRESET', 'network_econnreset'],
    ['ETIMEDOUT', 'network_etimedout'],
    ['ECONNREFUSED', 'network_econnrefused'],
    ['ECONNABORTED', 'timeout'],
    ['EAI_AGAIN', 'network_eai_again'],
    ['ERR_NETWORK', 'network_err_network'],
  ])('retries the network error %s', (code, reason) => {
    expect(classifyHttpError(networkError(code), NOW)).toEqual({ retry: true, reason });
  });

  it.each([
    [500, 'http_500'],
    [502, 'http_502'],
    [503, 'http_503'],
    [504, 'http_504'],
    [408, 'http_408'],
  ])('retries HTTP %i', (status, reason) => {
    expect(classifyHttpError(httpError(status), NOW)).toEqual({ retry: true, reason, status });
  });

  it.each([
    ['2', 2_000],
    ['0', 0],
    ['2.0', 2_000],
    ['120', 120_000],
    ['Sun, 01 Nov 2026 12:00:30 GMT', 30_000],
    ['Sun, 01 Nov 2026 11:59:00 GMT', 0],
  ])('429 with Retry-After %s waits %i ms (the header is in seconds)', (retryAfter, waitMs) => {
    expect(classifyHttpError(httpError(429, { 'Retry-After': retryAfter }), NOW)).toEqual({
      retry: true,
      reason: 'rate_limited',
      waitMs,
      status: 429,
    });
  });

  it('429 without a Retry-After still retries, with our own backoff', () => {
    expect(classifyHttpError(httpError(429), NOW)).toEqual({
      retry: true,
      reason: 'rate_limited',
      status: 429,
    });
  });

  it('429 with an unreadable Retry-After has no wait', () => {
    expect(classifyHttpError(httpError(429, { 'retry-after': 'soon' }), NOW).waitMs).toBeUndefined();
  });

  it('503 honours Retry-After too', () => {
    expect(classifyHttpError(httpError(503, { 'retry-after': '5' }), NOW)).toMatchObject({
      retry: true,
      waitMs: 5_000,
    });
  });

  it.each([401, 403])('HTTP %i is an auth failure, never retried', (status) => {
    expect(classifyHttpError(httpError(status), NOW)).toEqual({
      retry: false,
      reason: `http_${status}`,
      auth: true,
      status,
    });
  });

  it.each([400, 404, 409, 422])('HTTP %i is not retried', (status) => {
    expect(classifyHttpError(httpError(status), NOW)).toEqual({
      retry: false,
      reason: `http_${status}`,
      status,
    });
  });

  it.each([
    [networkError('ENOTFOUND'), 'network_enotfound'],
    [networkError('ERR_CANCELED'), 'cancelled'],
    [new Error('boom'), 'not_http_error'],
    ['a string', 'not_http_error'],
    [undefined, 'not_http_error'],
  ])('does not retry %s', (err, reason) => {
    expect(classifyHttpError(err, NOW)).toEqual({ retry: false, reason });
  });

  it('a request that got no response and no known code counts as a network failure', () => {
    expect(classifyHttpError(new AxiosError('socket hang up', undefined, config, {}), NOW)).toEqual({
      retry: true,
      reason: 'network',
    });
  });
});

describe('parseRetryAfterMs', () => {
  it('reads seconds, never milliseconds', () => {
    expect(parseRetryAfterMs('1', NOW)).toBe(1_000);
    expect(parseRetryAfterMs(['3'], NOW)).toBe(3_000);
  });
  it('ignores missing and negative values', () => {
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-1', NOW)).toBeUndefined();
  });
});
