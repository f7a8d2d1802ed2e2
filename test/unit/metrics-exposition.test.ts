import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registry as appRegistry, scrape, useCachedExposition } from '../../src/metrics.js';
import { cachedSeriesCount, exposition } from '../../src/metrics-exposition.js';

/** Label values that need escaping or are not ASCII, and the order of labels as passed. */
const AWKWARD = ['say "hi"', 'back\\slash', 'two\nlines', '淘宝:店铺', 'all "\\\n" 三', '', 'trailing\\'];

/** More series than one cached chunk holds (256), so that chunks are reused and rebuilt. */
const SHOPS = 700;

/** A registry of every kind the daemon uses, with deterministic values (no Node default metrics). */
function filledRegistry() {
  const r = new Registry();
  const counter = new Counter({
    name: 'test_orders_total',
    help: 'Orders "by" channel\\outcome\nsecond line 中文',
    labelNames: ['channel', 'outcome'] as const,
    registers: [r],
  });
  const plain = new Counter({ name: 'test_plain_total', help: 'No labels.', registers: [r] });
  const unused = new Counter({
    name: 'test_unused_total',
    help: 'Never counted.',
    labelNames: ['a'],
    registers: [r],
  });
  let collected = 0;
  const collectedGauge = new Gauge({
    name: 'test_collected',
    help: 'Set by collect().',
    labelNames: ['state'] as const,
    registers: [r],
    collect() {
      collected++;
      this.set({ state: 'calls' }, collected);
      this.set({ state: 'fixed' }, 7);
    },
  });
  // Like the queue depths: reset, then set after an asynchronous read.
  let asyncCalls = 0;
  const asyncGauge = new Gauge({
    name: 'test_async_depth',
    help: 'Set by an async collect().',
    labelNames: ['queue', 'state'] as const,
    registers: [r],
    async collect() {
      this.reset();
      asyncCalls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const queue of ['orders', 'events']) this.set({ queue, state: 'waiting' }, asyncCalls * 10);
    },
  });
  const gauge = new Gauge({
    name: 'test_gauge',
    help: 'Odd values.',
    labelNames: ['v'] as const,
    registers: [r],
  });
  const histogram = new Histogram({
    name: 'test_seconds',
    help: 'A histogram.',
    labelNames: ['channel'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [r],
  });
  const bare = new Histogram({
    name: 'test_bare_seconds',
    help: 'No labels, default buckets.',
    registers: [r],
  });
  const summary = new Summary({
    name: 'test_summary',
    help: 'Rendered by prom-client.',
    labelNames: ['channel'] as const,
    registers: [r],
  });

  for (const [i, value] of AWKWARD.entries()) {
    counter.inc({ channel: value, outcome: 'created' }, i + 1);
    // The other order of label names: prom-client prints them in the order first passed.
    counter.inc({ outcome: 'duplicate', channel: value });
    histogram.observe({ channel: value }, i / 3);
    summary.observe({ channel: value }, i);
  }
  for (let i = 0; i < SHOPS; i++) {
    counter.inc({ channel: `shopify:${i}`, outcome: 'created' }, i * 0.1);
    histogram.observe({ channel: `shopify:${i}` }, (i % 50) / 7);
  }
  plain.inc(3);
  bare.observe(0.3);
  bare.observe(100);
  gauge.set({ v: 'nan' }, Number.NaN);
  gauge.set({ v: 'inf' }, Number.POSITIVE_INFINITY);
  gauge.set({ v: '-inf' }, Number.NEGATIVE_INFINITY);
  gauge.set({ v: 'neg' }, -0.000001);
  gauge.set({ v: 'big' }, 1e21);
  gauge.set({ v: 'float' }, 0.1 + 0.2);
  gauge.set({ v: 'zero' }, -0);
  return {
    r,
    counter,
    plain,
    unused,
    collectedGauge,
    asyncGauge,
    gauge,
    histogram,
    bare,
    summary,
    calls: () => ({ collected, asyncCalls }),
  };
}

/** Both texts, prom-client's first; each call runs every collect() once. */
async function both(r: Registry) {
  const expected = await r.metrics();
  const actual = await exposition(r);
  return { expected, actual };
}

/** What the collect()-driven gauge shows depends on its call count: compare each with its own. */
function withoutCalls(text: string) {
  return text
    .replace(/^test_collected\{state="calls"[^}]*\} \d+$/m, 'calls')
    .replace(/^test_async_depth\{.*$/gm, 'async');
}

describe('the cached exposition gives the same bytes as prom-client', () => {
  it('for counters, gauges with collect() (sync and async), histograms, a summary and escaped labels', async () => {
    const m = filledRegistry();
    const { expected, actual } = await both(m.r);
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    // The same call counts: each collect() ran once per text, the async one awaited.
    expect(m.calls()).toEqual({ collected: 2, asyncCalls: 2 });
    expect(actual).toContain('test_collected{state="calls"} 2');
    expect(actual).toContain('test_async_depth{queue="orders",state="waiting"} 20');
    expect(actual).toContain('test_orders_total{channel="all \\"\\\\\\n\\" 三",outcome="created"} 5');
    expect(actual).toContain('test_orders_total{outcome="duplicate",channel="say \\"hi\\""} 1');
    expect(actual).toContain('test_seconds_bucket{le="0.5",channel="淘宝:店铺"} 0');
    expect(actual).toContain('test_seconds_bucket{le="1",channel="淘宝:店铺"} 1');
    expect(actual).toContain('test_gauge{v="nan"} Nan');
    expect(actual.endsWith('\n')).toBe(true);
    // Twice more, unchanged: now from the cache.
    for (let i = 0; i < 2; i++) {
      const again = await both(m.r);
      expect(withoutCalls(again.actual)).toBe(withoutCalls(again.expected));
    }
  });

  it('after updates, removals and resets, dropping the series that are gone from the cache', async () => {
    const m = filledRegistry();
    await exposition(m.r);
    expect(cachedSeriesCount(m.counter)).toBe(AWKWARD.length * 2 + SHOPS);
    expect(cachedSeriesCount(m.histogram)).toBe(AWKWARD.length + SHOPS);

    m.counter.inc({ channel: 'shopify:3', outcome: 'created' }, 5);
    m.counter.inc({ channel: 'new "one"', outcome: 'created' });
    m.histogram.observe({ channel: 'shopify:7' }, 0.02);
    // Same count, another sum would be a different block; a new observation changes both.
    m.histogram.observe({ channel: AWKWARD[2]! }, 1000);
    m.bare.observe(0.001);
    m.plain.inc(0.5);
    m.gauge.set({ v: 'float' }, 42);
    m.gauge.inc({ v: 'neg' }, 1);
    m.summary.observe({ channel: 'shopify:1' }, 3);
    m.counter.inc({ channel: 'shopify:650', outcome: 'created' });
    m.counter.remove({ channel: 'shopify:0', outcome: 'created' });
    m.histogram.remove({ channel: 'shopify:1' });
    let { expected, actual } = await both(m.r);
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    expect(actual).toContain('test_seconds_bucket{le="0.05",channel="shopify:7"} 1');
    expect(actual).toContain('test_seconds_bucket{le="1",channel="shopify:7"} 2');
    expect(actual).not.toContain('test_seconds_count{channel="shopify:1"}');
    expect(actual).not.toContain('test_orders_total{channel="shopify:0",');
    expect(cachedSeriesCount(m.counter)).toBe(AWKWARD.length * 2 + SHOPS);
    expect(cachedSeriesCount(m.histogram)).toBe(AWKWARD.length + SHOPS - 1);
    // Only a series near the end changes, then only one far from it is removed.
    m.histogram.observe({ channel: 'shopify:690' }, 0.2);
    ({ expected, actual } = await both(m.r));
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    m.histogram.remove({ channel: 'shopify:300' });
    m.counter.remove({ channel: 'shopify:699', outcome: 'created' });
    ({ expected, actual } = await both(m.r));
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    expect(cachedSeriesCount(m.histogram)).toBe(AWKWARD.length + SHOPS - 2);

    // A reset, then the same series again with new label objects and a new order of names.
    m.counter.reset();
    m.histogram.reset();
    m.bare.reset();
    m.histogram.zero({ channel: 'shopify:9' });
    ({ expected, actual } = await both(m.r));
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    expect(cachedSeriesCount(m.counter)).toBe(0);
    expect(cachedSeriesCount(m.histogram)).toBe(1);
    expect(cachedSeriesCount(m.bare)).toBe(0);

    m.counter.inc({ outcome: 'created', channel: 'shopify:3' }, 2);
    m.counter.inc({ channel: 'shopify:3', outcome: 'duplicate' });
    m.histogram.observe({ channel: 'shopify:9' }, 3);
    m.bare.observe(4);
    ({ expected, actual } = await both(m.r));
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    expect(actual).toContain('test_orders_total{outcome="created",channel="shopify:3"} 2');
    expect(cachedSeriesCount(m.counter)).toBe(2);
  });

  it("for the daemon's own registry (Node's metrics change between two reads: their values are masked)", async () => {
    const mask = (text: string) => text.replace(/^((?:process|nodejs)_[^ ]*) .*$/gm, '$1 <value>');
    const expected = await appRegistry.metrics();
    const actual = await exposition(appRegistry);
    expect(mask(actual)).toBe(mask(expected));
    expect(actual).toContain('# TYPE stockbridge_order_processing_seconds histogram');
  });

  it('falls back to prom-client for what it does not render: OpenMetrics, default labels, overridden get()', async () => {
    const open = new Registry();
    open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    const c = new Counter({ name: 'open_total', help: 'x', labelNames: ['a'], registers: [open] });
    c.inc({ a: 'b"' });
    expect(await exposition(open)).toBe(await open.metrics());

    const labelled = filledRegistry();
    labelled.r.setDefaultLabels({ host: 'a "b"' });
    const { expected, actual } = await both(labelled.r);
    expect(withoutCalls(actual)).toBe(withoutCalls(expected));
    expect(actual).toContain('host="a \\"b\\""');

    class Doubled extends Counter {
      override async get() {
        const data = await super.get();
        return { ...data, values: data.values.map((v) => ({ ...v, value: v.value * 2 })) };
      }
    }
    const r = new Registry();
    const d = new Doubled({ name: 'doubled_total', help: 'x', labelNames: ['a'], registers: [r] });
    d.inc({ a: 'x' }, 2);
    const text = await exposition(r);
    expect(text).toBe(await r.metrics());
    expect(text).toContain('doubled_total{a="x"} 4');
    expect(cachedSeriesCount(d)).toBe(0);
  });

  it("scrape() serves the cached text, or prom-client's with the switch off", async () => {
    try {
      useCachedExposition(false);
      const slow = await scrape();
      useCachedExposition(true);
      const fast = await scrape();
      expect(fast.contentType).toBe(slow.contentType);
      expect(typeof slow.body).toBe('string');
      expect(fast.body).toBeInstanceOf(Uint8Array);
      const lines = (body: string | Uint8Array) => Buffer.from(body).toString('utf8').split('\n').length;
      expect(lines(fast.body)).toBe(lines(slow.body));
    } finally {
      useCachedExposition(true);
    }
  });
});

describe('the prom-client internals the cached exposition reads (an upgrade that changes them fails here)', () => {
  it('counters and gauges keep {labels, value} per label hash in hashMap', () => {
    const r = new Registry();
    const c = new Counter({ name: 'pin_total', help: 'x', labelNames: ['b', 'a'], registers: [r] });
    const labels = { b: '2', a: '1' };
    c.inc(labels, 3);
    const map = (c as unknown as { hashMap: Record<string, { labels: object; value: number }> }).hashMap;
    expect(Object.keys(map)).toEqual(['a:1,b:2,']);
    expect(map['a:1,b:2,']!.labels).toBe(labels);
    expect(map['a:1,b:2,']!.value).toBe(3);
    const g = new Gauge({ name: 'pin_gauge', help: 'x', registers: [r] });
    g.set(5);
    expect((g as unknown as { hashMap: Record<string, { value: number }> }).hashMap['']!.value).toBe(5);
    expect(Counter.prototype.get).toBeTypeOf('function');
    expect(Gauge.prototype.get).toBeTypeOf('function');
  });

  it('histograms keep {labels, bucketValues (per bound, not cumulative), sum, count} and upperBounds', () => {
    const r = new Registry();
    const h = new Histogram({
      name: 'pin_seconds',
      help: 'x',
      labelNames: ['c'],
      buckets: [1, 2],
      registers: [r],
    });
    const labels = { c: 'x' };
    h.observe(labels, 1.5);
    h.observe(labels, 1.7);
    const internal = h as unknown as {
      upperBounds: number[];
      hashMap: Record<
        string,
        { labels: object; bucketValues: Record<string, number>; sum: number; count: number }
      >;
    };
    expect(internal.upperBounds).toEqual([1, 2]);
    const entry = internal.hashMap['c:x,']!;
    expect(entry.labels).toBe(labels);
    expect(entry.bucketValues).toEqual({ 1: 0, 2: 2 });
    expect(entry.sum).toBeCloseTo(3.2);
    expect(entry.count).toBe(2);
    h.observe(labels, 0.5);
    // The same entry object, updated in place: the cache compares count and sum.
    expect(internal.hashMap['c:x,']).toBe(entry);
    expect((Histogram.prototype as unknown as { getForPromString: unknown }).getForPromString).toBeTypeOf(
      'function',
    );
  });

  it('a registry keeps its default labels in _defaultLabels, and the fast path is taken', async () => {
    const r = new Registry();
    expect((r as unknown as { _defaultLabels: object })._defaultLabels).toEqual({});
    r.setDefaultLabels({ a: 'b' });
    expect((r as unknown as { _defaultLabels: object })._defaultLabels).toEqual({ a: 'b' });
    const m = filledRegistry();
    await exposition(m.r);
    // Rendered here, not by a fallback: each kind has its series cached.
    for (const metric of [m.counter, m.plain, m.collectedGauge, m.asyncGauge, m.gauge, m.histogram, m.bare])
      expect(cachedSeriesCount(metric)).toBeGreaterThan(0);
    expect(cachedSeriesCount(m.summary)).toBe(0);
    expect(cachedSeriesCount(m.unused)).toBe(0);
  });
});
