import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The Prometheus text of a prom-client registry — the same bytes as `registry.metrics()` — but
 * rendered from a cache kept per series, so that a scrape of many series that did not change
 * since the last one costs little more than copying bytes.
 *
 * prom-client stays the API for defining and updating metrics; only the serialisation is ours.
 * For each series (one entry of a metric's `hashMap`, prom-client's store keyed by its label
 * hash) the cache keeps its label text, escaped once, and its rendered line(s) together with the
 * value(s) they show: a counter or gauge line is reused while its value is the same, a
 * histogram's whole block (buckets, `+Inf`, sum, count) while the same entry has the same count
 * and sum. Runs of 256 series are kept joined and encoded (UTF-8), and reused whole while none of
 * their series changed. A series missing from the `hashMap` at a scrape (after `reset()` or
 * `remove()`) is dropped from the cache. Rendering a metric is synchronous, so concurrent scrapes
 * do not interleave their changes to the cache.
 *
 * What this does not render itself falls back to prom-client's own text: for one metric
 * (summaries, subclasses that override how values are read, exemplars) through
 * `getSingleMetricAsString`, for the whole registry (OpenMetrics content type, default labels,
 * or prom-client internals not shaped as expected) through `registry.metrics()`. The internals
 * relied on — `hashMap` entries `{labels, value}` for counters and gauges, `{labels,
 * bucketValues, sum, count}` and `upperBounds` for histograms, the registry's `_defaultLabels` —
 * are pinned by test/unit/metrics-exposition.test.ts, which compares the bytes with prom-client's.
 */

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface SeriesEntry {
  labels: Record<string, unknown>;
  value?: number;
  bucketValues?: Record<string, number>;
  sum?: number;
  count?: number;
}

interface MetricInternals {
  name: string;
  help: string;
  type: string;
  hashMap: Record<string, SeriesEntry>;
  enableExemplars?: boolean;
  collect?: () => unknown;
  upperBounds?: readonly number[];
  get: () => Promise<unknown>;
  getForPromString?: () => Promise<unknown>;
}

/** One series as last rendered. */
interface CachedSeries {
  /** Its key in the metric's `hashMap`. */
  hash: string;
  /** Scrape generation that last saw it (older ones are dropped). */
  seen: number;
  /** The labels object the label text was made from (prom-client keeps the first one passed). */
  labels: Record<string, unknown>;
  /** `a="x",b="y"` — escaped, without braces; '' for no labels. */
  labelText: string;
  /** Counter/gauge: the value shown. Histogram: the entry object, count and sum shown. */
  value: number;
  entry: SeriesEntry | null;
  sum: number;
  /** The rendered line(s), no trailing newline. */
  text: string;
}

/**
 * A run of CHUNK consecutive series and their text joined and encoded: reused whole while the same series
 * sit at the same places and none was rendered anew.
 */
interface Chunk {
  members: CachedSeries[];
  /** `\n` + each member's text, joined by `\n`, in UTF-8. */
  bytes: Buffer;
  dirty: boolean;
}

const CHUNK = 256;

interface MetricCache {
  generation: number;
  series: Map<string, CachedSeries>;
  chunks: Chunk[];
  /** The `# HELP`/`# TYPE` lines and their bytes. */
  header: string;
  headerBytes: Buffer;
  /** Histograms: `_bucket{le="0.01"` … for each bound, and the bounds they were made for. */
  bucketHeads?: string[];
  bounds?: readonly number[];
}

const EMPTY = Buffer.alloc(0);
const caches = new WeakMap<object, MetricCache>();

function cacheOf(metric: object): MetricCache {
  let cache = caches.get(metric);
  if (!cache) {
    cache = { generation: 0, series: new Map(), chunks: [], header: '', headerBytes: EMPTY };
    caches.set(metric, cache);
  }
  return cache;
}

/** prom-client's `getValueAsString`. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** prom-client's `escapeString` (HELP text and names). */
function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** prom-client's `escapeLabelValue`: strings escaped, anything else as it prints. */
function labelValueText(value: unknown): string {
  if (typeof value !== 'string') return `${value}`;
  if (!NEEDS_ESCAPE.test(value)) return value;
  return escapeText(value).replace(/"/g, '\\"');
}

/** prom-client's `formatLabels(labels).join(',')`: own keys in their order. */
function labelText(labels: Record<string, unknown>): string {
  let text = '';
  for (const name of Object.keys(labels)) {
    text += `${text ? ',' : ''}${name}="${labelValueText(labels[name])}"`;
  }
  return text;
}

function isCounterOrGauge(metric: unknown): metric is MetricInternals {
  if (metric instanceof Counter) return (metric as unknown as MetricInternals).get === Counter.prototype.get;
  if (metric instanceof Gauge) return (metric as unknown as MetricInternals).get === Gauge.prototype.get;
  return false;
}

function isPlainHistogram(metric: unknown): metric is MetricInternals {
  return (
    metric instanceof Histogram &&
    (metric as unknown as MetricInternals).getForPromString ===
      (Histogram.prototype as unknown as MetricInternals).getForPromString &&
    Array.isArray((metric as unknown as MetricInternals).upperBounds)
  );
}

/** Whether this metric's series are rendered here (else prom-client renders it). */
function renderedHere(metric: unknown): metric is MetricInternals {
  const m = metric as MetricInternals;
  if (m.enableExemplars || typeof m.hashMap !== 'object' || m.hashMap === null) return false;
  return isCounterOrGauge(metric) || isPlainHistogram(metric);
}

/** Runs a metric's `collect()` as prom-client's `get()` does: awaited if it returns a promise. */
async function collect(metric: MetricInternals): Promise<void> {
  if (metric.collect) {
    const v = metric.collect();
    if (v instanceof Promise) await v;
  }
}

function header(metric: MetricInternals): string {
  const name = escapeText(metric.name);
  return `# HELP ${name} ${escapeText(metric.help)}\n# TYPE ${name} ${metric.type}`;
}

/**
 * Brings a series' cache entry up to date with its `hashMap` entry; true when its text was
 * rendered anew (or it is new).
 */
type Refresh = (series: CachedSeries | undefined, hash: string, entry: SeriesEntry) => CachedSeries | true;

/**
 * A metric's text: its header, then every series of its `hashMap` in prom-client's order, from
 * the cache. Series the scrape did not see are dropped from it.
 */
function renderSeries(metric: MetricInternals, cache: MetricCache, refresh: Refresh): Buffer[] {
  const generation = ++cache.generation;
  const map = metric.hashMap;
  const chunks = cache.chunks;
  let position = 0;
  for (const hash in map) {
    const entry = map[hash]!;
    const chunk = chunks[Math.floor(position / CHUNK)];
    const slot = position % CHUNK;
    const there = chunk?.members[slot];
    let series = there && there.hash === hash ? there : cache.series.get(hash);
    const refreshed = refresh(series, hash, entry);
    let changed = false;
    if (refreshed === true) {
      changed = true;
      series = cache.series.get(hash)!;
    } else {
      series = refreshed;
    }
    series.seen = generation;
    if (!chunk) {
      chunks.push({ members: [series], bytes: EMPTY, dirty: true });
    } else if (changed || there !== series) {
      chunk.members[slot] = series;
      chunk.dirty = true;
    }
    position++;
  }
  // Fewer series than last time: trim the chunks, and drop the series gone from the hashMap.
  const used = Math.ceil(position / CHUNK);
  if (chunks.length > used) chunks.length = used;
  const last = chunks[used - 1];
  const lastSize = position - (used - 1) * CHUNK;
  if (last && last.members.length !== lastSize) {
    last.members.length = lastSize;
    last.dirty = true;
  }
  if (cache.series.size !== position) {
    for (const [hash, series] of cache.series) {
      if (series.seen !== generation) cache.series.delete(hash);
    }
  }
  const head = header(metric);
  if (head !== cache.header) {
    cache.header = head;
    cache.headerBytes = Buffer.from(head);
  }
  const out = [cache.headerBytes];
  for (const chunk of chunks) {
    if (chunk.dirty) {
      const texts = [''];
      for (const series of chunk.members) texts.push(series.text);
      chunk.bytes = Buffer.from(texts.join('\n'));
      chunk.dirty = false;
    }
    out.push(chunk.bytes);
  }
  return out;
}

function renderValues(metric: MetricInternals): Buffer[] {
  const cache = cacheOf(metric);
  const name = escapeText(metric.name);
  return renderSeries(metric, cache, (series, hash, entry) => {
    if (!series || series.labels !== entry.labels) {
      const labels = labelText(entry.labels);
      cache.series.set(hash, {
        hash,
        seen: 0,
        labels: entry.labels,
        labelText: labels,
        value: entry.value!,
        entry: null,
        sum: 0,
        text: `${name}${labels ? `{${labels}}` : ''} ${valueText(entry.value!)}`,
      });
      return true;
    }
    if (series.value === entry.value) return series;
    series.value = entry.value!;
    series.text = `${name}${series.labelText ? `{${series.labelText}}` : ''} ${valueText(entry.value!)}`;
    return true;
  });
}

function histogramBlock(
  name: string,
  bounds: readonly number[],
  heads: readonly string[],
  entry: SeriesEntry,
  labels: string,
): string {
  const tail = labels ? `,${labels}} ` : '} ';
  const own = labels ? `{${labels}} ` : ' ';
  const buckets = entry.bucketValues!;
  let acc = 0;
  let text = '';
  for (let i = 0; i < bounds.length; i++) {
    acc += buckets[bounds[i]!]!;
    text += `${heads[i]}${tail}${valueText(acc)}\n`;
  }
  return (
    `${text}${name}_bucket{le="+Inf"${tail}${valueText(entry.count!)}\n` +
    `${name}_sum${own}${valueText(entry.sum!)}\n` +
    `${name}_count${own}${valueText(entry.count!)}`
  );
}

function renderHistogram(metric: MetricInternals): Buffer[] {
  const cache = cacheOf(metric);
  const name = escapeText(metric.name);
  const bounds = metric.upperBounds!;
  if (cache.bounds !== bounds || !cache.bucketHeads) {
    cache.bounds = bounds;
    cache.bucketHeads = bounds.map((b) => `${name}_bucket{le="${b}"`);
    cache.series.clear();
    cache.chunks = [];
  }
  const heads = cache.bucketHeads;
  return renderSeries(metric, cache, (series, hash, entry) => {
    if (!series || series.labels !== entry.labels) {
      const labels = labelText(entry.labels);
      cache.series.set(hash, {
        hash,
        seen: 0,
        labels: entry.labels,
        labelText: labels,
        value: entry.count!,
        entry,
        sum: entry.sum!,
        text: histogramBlock(name, bounds, heads, entry, labels),
      });
      return true;
    }
    if (series.entry === entry && series.value === entry.count && series.sum === entry.sum) return series;
    series.entry = entry;
    series.value = entry.count!;
    series.sum = entry.sum!;
    series.text = histogramBlock(name, bounds, heads, entry, series.labelText);
    return true;
  });
}

async function renderMetric(metric: MetricInternals): Promise<Buffer[]> {
  await collect(metric);
  return metric instanceof Histogram ? renderHistogram(metric) : renderValues(metric);
}

/** Whether the registry is one this module renders (else `registry.metrics()` is used whole). */
function registryRenderedHere(registry: Registry): boolean {
  if (registry.contentType !== PROMETHEUS_CONTENT_TYPE) return false;
  const defaults = (registry as unknown as { _defaultLabels?: unknown })._defaultLabels;
  return typeof defaults === 'object' && defaults !== null && Object.keys(defaults).length === 0;
}

const BETWEEN_METRICS = Buffer.from('\n\n');
const LAST_NEWLINE = Buffer.from('\n');

/**
 * The registry's text in the Prometheus format, in UTF-8: byte for byte what `registry.metrics()`
 * gives, each metric's `collect()` run (and awaited when async) the way prom-client runs it — all
 * of them started before any is rendered, concurrently.
 *
 * Bytes rather than a string: the cached pieces are kept encoded, and joining them is a copy,
 * while building one string of a few megabytes and encoding it for the socket costs more than
 * the rest of the scrape.
 */
export function expositionBytes(registry: Registry): Promise<Uint8Array<ArrayBuffer>> {
  return render(registry);
}

async function render(registry: Registry): Promise<Buffer<ArrayBuffer>> {
  if (!registryRenderedHere(registry)) return Buffer.from(await registry.metrics());
  const parts = await Promise.all(
    registry
      .getMetricsAsArray()
      .map((metric) =>
        renderedHere(metric)
          ? renderMetric(metric)
          : registry
              .getSingleMetricAsString((metric as unknown as MetricInternals).name)
              .then((text) => [Buffer.from(text)]),
      ),
  );
  const pieces: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    if (i > 0) pieces.push(BETWEEN_METRICS);
    pieces.push(...part);
  }
  pieces.push(LAST_NEWLINE);
  return Buffer.concat(pieces);
}

/** expositionBytes() as a string. */
export async function exposition(registry: Registry): Promise<string> {
  return (await render(registry)).toString('utf8');
}

/** How many series of a metric the cache holds (for tests: removed series must not stay). */
export function cachedSeriesCount(metric: object): number {
  return caches.get(metric)?.series.size ?? 0;
}
