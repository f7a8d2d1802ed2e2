import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, httpApi, spawnDaemon } from '../helpers/daemon-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { parseMetrics, sampleValue } from '../helpers/prometheus.js';

const TOKEN = 'metrics-test-admin-token-0123456789';
const METRICS_TOKEN = 'metrics-test-scrape-token-0123456789';

let database: TestDatabase;
let dataDir: string;
const prefix = `sbtest-${randomBytes(4).toString('hex')}`;
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 5 });
  dataDir = mkdtempSync(path.join(tmpdir(), 'sb-metrics-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const common = () => ({
  REDIS_URL: 'redis://127.0.0.1:6379',
  STOCKBRIDGE_QUEUE_PREFIX: prefix,
  DATABASE_URL: database.url,
  STOCKBRIDGE_MIGRATE_ON_START: 'false',
  HOST: '127.0.0.1',
  STOCKBRIDGE_ADMIN_TOKEN: TOKEN,
  STOCKBRIDGE_DATA_DIR: dataDir,
  STOCKBRIDGE_DB_POOL_MAX: '3',
  STOCKBRIDGE_WORKER_CONCURRENCY: '4',
});

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text };
}

describe('metrics of an api process and a worker process', () => {
  let apiPort: number;
  let workerMetricsPort: number;

  beforeAll(async () => {
    apiPort = await freePort();
    workerMetricsPort = await freePort();
    // The api without a metrics token (loopback only), the worker with one.
    daemons.push(
      await spawnDaemon(
        { ...common(), STOCKBRIDGE_ROLES: 'api', PORT: String(apiPort) },
        { port: apiPort, name: 'api process' },
      ),
    );
    daemons.push(
      await spawnDaemon(
        {
          ...common(),
          STOCKBRIDGE_ROLES: 'worker',
          PORT: '0',
          STOCKBRIDGE_METRICS_PORT: String(workerMetricsPort),
          STOCKBRIDGE_METRICS_TOKEN: METRICS_TOKEN,
        },
        { name: 'worker process' },
      ),
    );
  }, 120_000);

  it('count an order flow: received on the api, processed and held on the worker', async () => {
    const api = httpApi(`http://127.0.0.1:${apiPort}`, TOKEN);
    expect((await api('PUT', '/api/warehouses/main', { name: 'Main', priority: 1 })).status).toBeLessThan(
      300,
    );
    expect(
      (await api('PUT', '/api/skus/MX-1', { name: 'Metric tee', unitPrice: 1000, currency: 'EUR' })).status,
    ).toBeLessThan(300);
    expect(
      (
        await api('POST', '/api/stock/receipts', {
          warehouse: 'main',
          reference: 'opening',
          lines: [{ sku: 'MX-1', quantity: 10 }],
        })
      ).status,
    ).toBe(201);
    const line = (sku: string) => [{ sku, quantity: 2, unitPrice: 1000 }];
    const good = await api('POST', '/api/orders', {
      externalId: 'MET-1001',
      currency: 'EUR',
      lines: line('MX-1'),
    });
    const bad = await api('POST', '/api/orders', {
      externalId: 'MET-1002',
      currency: 'EUR',
      lines: line('NOPE-9'),
    });
    const again = await api('POST', '/api/orders', {
      externalId: 'MET-1001',
      currency: 'EUR',
      lines: line('MX-1'),
    });
    expect([good.status, bad.status, again.status]).toEqual([202, 202, 200]);

    await waitFor(
      'the worker to process both orders',
      async () => {
        const [a, b] = await Promise.all([
          api('GET', `/api/orders/${good.body.id}`),
          api('GET', `/api/orders/${bad.body.id}`),
        ]);
        return a.body.status === 'confirmed' && b.body.status === 'on_hold';
      },
      60_000,
    );

    const apiScrape = await scrape(`http://127.0.0.1:${apiPort}/metrics`);
    expect(apiScrape.status).toBe(200);
    expect(apiScrape.contentType).toContain('text/plain');
    const onApi = parseMetrics(apiScrape.text);
    expect(
      sampleValue(onApi, 'stockbridge_orders_received_total', { channel: 'api', outcome: 'created' }),
    ).toBe(2);
    expect(
      sampleValue(onApi, 'stockbridge_orders_received_total', { channel: 'api', outcome: 'duplicate' }),
    ).toBe(1);
    // The api process processes nothing.
    expect(sampleValue(onApi, 'stockbridge_orders_processed_total')).toBe(0);
    // Node process metrics, and queue depths read from Redis at scrape time.
    expect(sampleValue(onApi, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(onApi.some((s) => s.name === 'stockbridge_queue_jobs' && s.labels.queue === 'orders')).toBe(true);

    // The worker's counters, once the last job's completion has been recorded.
    let onWorker = parseMetrics('');
    await waitFor(
      'the worker to record both order jobs',
      async () => {
        const r = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`, {
          authorization: `Bearer ${METRICS_TOKEN}`,
        });
        onWorker = parseMetrics(r.text);
        return (
          sampleValue(onWorker, 'stockbridge_job_duration_seconds_count', {
            queue: 'orders',
            outcome: 'completed',
          }) >= 2
        );
      },
      30_000,
    );
    expect(
      sampleValue(onWorker, 'stockbridge_orders_processed_total', { channel: 'api', outcome: 'confirmed' }),
    ).toBe(1);
    expect(
      sampleValue(onWorker, 'stockbridge_orders_processed_total', { channel: 'api', outcome: 'on_hold' }),
    ).toBe(1);
    expect(sampleValue(onWorker, 'stockbridge_orders_processed_total')).toBe(2);
    expect(
      sampleValue(onWorker, 'stockbridge_orders_held_total', { channel: 'api', reason: 'unknown_sku' }),
    ).toBe(1);
    expect(sampleValue(onWorker, 'stockbridge_order_processing_seconds_count', { channel: 'api' })).toBe(2);
    expect(
      sampleValue(onWorker, 'stockbridge_job_duration_seconds_count', {
        queue: 'orders',
        name: 'process',
        outcome: 'completed',
      }),
    ).toBe(2);
    expect(sampleValue(onWorker, 'stockbridge_orders_received_total')).toBe(0);
    expect(sampleValue(onWorker, 'stockbridge_queue_jobs', { queue: 'orders', state: 'failed' })).toBe(0);

    // Label values are bounded: no order numbers or SKUs in either scrape.
    for (const text of [apiScrape.text, parseMetricsText(onWorker)]) {
      expect(text).not.toContain('MET-100');
      expect(text).not.toContain('MX-1');
      expect(text).not.toContain('NOPE-9');
    }
  }, 120_000);

  it('refuses a scrape without the metrics token (401), or from beyond a proxy when there is none (403)', async () => {
    const none = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).error.code).toBe('unauthorized');
    const wrong = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('stockbridge_');
    // The admin token is not the metrics token.
    const admin = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`, {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(admin.status).toBe(401);
    const health = await fetch(`http://127.0.0.1:${workerMetricsPort}/healthz`);
    expect(health.status).toBe(200);
    // The worker's metrics server serves nothing else.
    expect((await fetch(`http://127.0.0.1:${workerMetricsPort}/api/orders`)).status).toBe(404);

    // The api process also serves the queue dashboard, to the admin only.
    const board = `http://127.0.0.1:${apiPort}/console/queues`;
    expect((await fetch(board)).status).toBe(401);
    const login = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;
    expect((await fetch(board, { headers: { authorization: login } })).status).toBe(200);

    const proxied = await scrape(`http://127.0.0.1:${apiPort}/metrics`, { 'x-forwarded-for': '203.0.113.9' });
    expect(proxied.status).toBe(403);
    expect(JSON.parse(proxied.text).error.code).toBe('forbidden');
    expect(proxied.text).toContain('STOCKBRIDGE_METRICS_TOKEN');
  });
});

/** Samples back to text, to search label values in. */
const parseMetricsText = (samples: ReturnType<typeof parseMetrics>) =>
  samples.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('\n');
