import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelayMs, createHttpClient, HttpRequestError } from '../../../connectors/http/client.js';
import { createMemoryRateLimiter } from '../../../connectors/http/rate-limiter.js';
import { ChannelAuthError, PermanentError, RateLimitedError } from '../../../src/errors/index.js';

const BASE = 'https://api.example.test';
const TOKEN = 'shpat_super_secret_token_value';

function client(extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) {
  const waits: number[] = [];
  const http = createHttpClient({
    baseURL: `${BASE}/v1`,
    headers: { 'X-Api-Token': TOKEN },
    minDelayMs: 10,
    maxDelayMs: 100,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { http, waits };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('createHttpClient', () => {
  it('sends base URL, default headers, params and JSON; returns lower-cased headers', async () => {
    const scope = nock(BASE, { reqheaders: { 'x-api-token': TOKEN } })
      .post('/v1/things', { a: 1 })
      .query({ page: '2' })
      .reply(201, { ok: true }, { 'X-Request-Id': 'abc', 'Content-Type': 'application/json' });
    const { http } = client();
    const res = await http.request({ method: 'POST', url: '/things', params: { page: 2 }, data: { a: 1 } });
    expect(res.status).toBe(201);
    expect(res.data).toEqual({ ok: true });
    expect(res.headers['x-request-id']).toBe('abc');
    expect(res.headers['content-type']).toContain('application/json');
    scope.done();
  });

  it("responseType 'text' returns the raw body, so big ids can be parsed exactly", async () => {
    const raw = '{"id":820982911946154508}';
    nock(BASE).get('/v1/order').reply(200, raw, { 'Content-Type': 'application/json' });
    const { http } = client();
    const res = await http.request<string>({ method: 'GET', url: 'order', responseType: 'text' });
    expect(res.data).toBe(raw);
  });

  it('retries 5xx with jittered backoff, then succeeds', async () => {
    nock(BASE)
      .get('/v1/x')
      .reply(502, 'bad gateway')
      .get('/v1/x')
      .reply(500)
      .get('/v1/x')
      .reply(200, { ok: 1 });
    const { http, waits } = client({ minDelayMs: 4, maxDelayMs: 100 });
    const res = await http.request({ method: 'GET', url: 'x' });
    expect(res.data).toEqual({ ok: 1 });
    // Full jitter with random() = 0.5: half of 4 * 2^(n-1).
    expect(waits).toEqual([2, 4]);
  });

  it('retries network errors', async () => {
    nock(BASE)
      .get('/v1/x')
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    nock(BASE).get('/v1/x').reply(200, { ok: 1 });
    const { http, waits } = client();
    await expect(http.request({ method: 'GET', url: 'x' })).resolves.toMatchObject({ status: 200 });
    expect(waits).toHaveLength(1);
  });

  it('waits Retry-After SECONDS (converted to ms) on 429, then succeeds', async () => {
    nock(BASE)
      .get('/v1/x')
      .reply(429, 'slow down', { 'Retry-After': '2' })
      .get('/v1/x')
      .reply(200, { ok: 1 });
    const { http, waits } = client();
    await expect(http.request({ method: 'GET', url: 'x' })).resolves.toMatchObject({ status: 200 });
    expect(waits).toEqual([2_000]);
  });

  it('backs off on a 429 without Retry-After instead of hammering', async () => {
    nock(BASE).get('/v1/x').reply(429, '').get('/v1/x').reply(200, {});
    const { http, waits } = client();
    await http.request({ method: 'GET', url: 'x' });
    expect(waits).toEqual([5]);
  });

  it('hands a Retry-After longer than maxRetryAfterMs to the caller as RateLimitedError', async () => {
    const scope = nock(BASE).get('/v1/x').reply(429, '', { 'Retry-After': '3600' });
    const { http, waits } = client({ maxRetryAfterMs: 60_000 });
    const err = await http.request({ method: 'GET', url: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).waitMs).toBe(3_600_000);
    expect(waits).toEqual([]);
    scope.done();
  });

  it('401 throws ChannelAuthError without retrying and without the credentials', async () => {
    const scope = nock(BASE)
      .get('/v1/x')
      .query(true)
      .reply(401, { errors: `bad token ${TOKEN} with secret cs_secret` });
    const { http, waits } = client();
    const err = await http
      .request({ method: 'GET', url: 'x', params: { consumer_secret: 'cs_secret' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelAuthError);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as ChannelAuthError).reason).toBe('auth_failed');
    expect(waits).toEqual([]);
    const printed = `${(err as Error).message} ${JSON.stringify((err as ChannelAuthError).details)}`;
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('cs_secret');
    expect(printed).not.toContain('consumer_secret');
    scope.done();
  });

  it('403 is an auth failure too', async () => {
    nock(BASE).get('/v1/x').reply(403, 'forbidden');
    await expect(client().http.request({ method: 'GET', url: 'x' })).rejects.toBeInstanceOf(ChannelAuthError);
  });

  it('other 4xx throw PermanentError http_<status> with status and a body excerpt, no retry', async () => {
    const scope = nock(BASE)
      .get('/v1/missing')
      .reply(404, { error: 'Not Found', filler: 'x'.repeat(2000) });
    const { http, waits } = client();
    const err = (await http
      .request({ method: 'GET', url: 'missing' })
      .catch((e: unknown) => e)) as PermanentError;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).not.toBeInstanceOf(ChannelAuthError);
    expect(err.reason).toBe('http_404');
    expect(err.details).toMatchObject({ status: 404 });
    const body = (err.details as { body: string }).body;
    expect(body).toContain('Not Found');
    expect(body.length).toBeLessThan(400);
    expect(err.message).toContain('GET https://api.example.test/v1/missing');
    expect(waits).toEqual([]);
    scope.done();
  });

  it('throws the last error once the retries are used up', async () => {
    const scope = nock(BASE).get('/v1/x').times(3).reply(503, 'down');
    const { http, waits } = client({ retries: 2 });
    const err = await http.request({ method: 'GET', url: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ status: 503, reason: 'http_503' });
    expect(waits).toHaveLength(2);
    scope.done();
  });

  it('awaits the limiter before every attempt, with the request cost', async () => {
    nock(BASE).get('/v1/x').reply(500).get('/v1/x').reply(200, {});
    const costs: number[] = [];
    const { http } = client({
      limiter: {
        acquire: async (cost = 1) => {
          costs.push(cost);
        },
        adjust: async () => {},
      },
    });
    await http.request({ method: 'GET', url: 'x', cost: 7 });
    expect(costs).toEqual([7, 7]);
  });

  it('gives back the cost beyond one unit of an attempt that failed: the channel did not run it', async () => {
    nock(BASE).post('/v1/q').reply(503).post('/v1/q').reply(200, {});
    const bucket = createMemoryRateLimiter({ ratePerSecond: 1, burst: 1000 }, { now: () => 0 });
    const adjusted: number[] = [];
    const { http } = client({
      limiter: {
        acquire: (cost) => bucket.acquire(cost),
        adjust: async (units) => {
          adjusted.push(units);
          await bucket.adjust(units);
        },
      },
    });
    await http.request({ method: 'POST', url: 'q', cost: 900 });
    // Without the refund the second attempt would find 100 points and wait 800 s for the rest.
    expect(adjusted).toEqual([-899]);
  });

  it('times out slow attempts and retries them', async () => {
    // Far apart, so that neither a slow first answer nor a busy machine answering the second late
    // blurs which one times out.
    nock(BASE).get('/v1/slow').delay(20_000).reply(200, {}).get('/v1/slow').reply(200, { fast: true });
    const { http } = client({ timeoutMs: 1_000 });
    await expect(http.request({ method: 'GET', url: 'slow' })).resolves.toMatchObject({
      data: { fast: true },
    });
  });

  it('does not follow a redirect with credentials: a PermanentError naming the status, no secret in it', async () => {
    const elsewhere = nock('https://elsewhere.test')
      .get(() => true)
      .reply(200, { stolen: true });
    nock(BASE)
      .get('/v1/orders')
      .reply(302, '', { Location: `https://elsewhere.test/collect?token=${TOKEN}` });
    const { http } = client();
    const err = await http.request({ method: 'GET', url: 'orders' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).reason).toBe('redirect_not_followed');
    expect((err as Error).message).toContain('HTTP 302');
    expect((err as Error).message).toContain('https://elsewhere.test/collect');
    expect((err as Error).message).not.toContain(TOKEN);
    expect(JSON.stringify((err as PermanentError).details)).not.toContain(TOKEN);
    expect(elsewhere.isDone()).toBe(false);
  });

  it('sends credentials over https only, plain http only to this machine', async () => {
    const plain = nock('http://plain.example.test')
      .get(() => true)
      .reply(200, {});
    const { http } = client({ baseURL: 'http://plain.example.test/v1' });
    const err = await http.request({ method: 'GET', url: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).reason).toBe('insecure_url');
    expect(plain.isDone()).toBe(false);
    // The same in query parameters, with no credential header at all.
    const bare = createHttpClient({ baseURL: 'http://plain.example.test/v1' });
    await expect(
      bare.request({ method: 'GET', url: 'x', params: { consumer_secret: 'cs_x' } }),
    ).rejects.toMatchObject({ reason: 'insecure_url' });
    expect(plain.isDone()).toBe(false);
    nock('http://localhost:9').get('/v1/x').reply(200, { ok: true });
    const local = client({ baseURL: 'http://localhost:9/v1' }).http;
    expect((await local.request({ method: 'GET', url: 'x' })).data).toEqual({ ok: true });
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, scaled by the random draw', () => {
    const one = () => 0.999999;
    expect(backoffDelayMs(1, 100, 1_000, one)).toBe(99);
    expect(backoffDelayMs(3, 100, 1_000, one)).toBe(399);
    expect(backoffDelayMs(10, 100, 1_000, one)).toBe(999);
    expect(backoffDelayMs(10, 100, 1_000, () => 0)).toBe(0);
  });
});

describe('the observer (metrics)', () => {
  it('is told each attempt with its status (null without an answer) and each wait with its kind', async () => {
    nock(BASE).get('/v1/o').reply(503);
    nock(BASE).get('/v1/o').reply(429, {}, { 'Retry-After': '2' });
    nock(BASE).get('/v1/o').replyWithError('socket hang up');
    nock(BASE).get('/v1/o').reply(200, { ok: true });
    const attempts: (number | null)[] = [];
    const waits: [string, number][] = [];
    const { http } = client({
      observer: {
        attempt: (status, ms) => {
          expect(ms).toBeGreaterThanOrEqual(0);
          attempts.push(status);
        },
        waited: (kind, ms) => waits.push([kind, ms]),
      },
    });
    await http.request({ method: 'GET', url: '/o' });
    expect(attempts).toEqual([503, 429, null, 200]);
    // random() is 0.5: backoff n waits half of min(100, 10 * 2^(n-1)).
    expect(waits).toEqual([
      ['backoff', 5],
      ['retry_after', 2000],
      ['backoff', 20],
    ]);
  });

  it('reports no limiter wait without a limiter, even when the clock ticks during the request', async () => {
    nock(BASE).get('/v1/n').reply(200, {});
    let clock = 1_000_000;
    const waits: [string, number][] = [];
    const { http } = client({
      // Every reading a millisecond later: as a busy machine may see across any await.
      now: () => clock++,
      observer: { attempt: () => {}, waited: (kind, ms) => waits.push([kind, ms]) },
    });
    await http.request({ method: 'GET', url: '/n' });
    expect(waits).toEqual([]);
  });

  it('reports a wait for the rate limiter only when a token was not free', async () => {
    let clock = 1_000_000;
    const limiter = createMemoryRateLimiter(
      { ratePerSecond: 1, burst: 1 },
      {
        now: () => clock,
        sleep: async (ms: number) => {
          clock += ms;
        },
      },
    );
    nock(BASE).get('/v1/l').times(2).reply(200, {});
    const waits: [string, number][] = [];
    const { http } = client({
      limiter,
      now: () => clock,
      observer: { attempt: () => {}, waited: (kind, ms) => waits.push([kind, ms]) },
    });
    await http.request({ method: 'GET', url: '/l' });
    expect(waits).toEqual([]);
    await http.request({ method: 'GET', url: '/l' });
    expect(waits).toEqual([['limiter', 1000]]);
  });
});
