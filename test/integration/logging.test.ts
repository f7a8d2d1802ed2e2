import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { startOrderWorker } from '../../src/queue/order-worker.js';
import { workerConnection } from '../../src/queue/redis.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { capturingLogger } from '../helpers/log-sink.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';
import { ADMIN_TOKEN, createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

/** What an operator reads: one line per request, and job lines that name the job and the order. */
describe('log lines', () => {
  let stack: TestStack;
  const conn = workerConnection(TEST_REDIS_URL);

  beforeAll(async () => {
    stack = await createStack({ sqlite: true });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['A1']);
  });

  afterAll(async () => {
    await stack?.close();
    conn.disconnect();
  });

  it('logs one line per request at info with method, path, status, ms and request id', async () => {
    const { log, entries } = capturingLogger('info');
    const app = createApp({
      db: stack.db,
      log,
      adminToken: ADMIN_TOKEN,
      enqueueOrders: (ids) => stack.queues.enqueueOrders(ids),
      checkRedis: async () => {},
    });
    const ok = await app.request('/api/warehouses', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    const missing = await app.request('/api/skus/NOPE', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': 'req-42' },
    });
    expect(missing.status).toBe(404);

    const requests = entries().filter((e) => e.msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ level: 30, method: 'GET', path: '/api/warehouses', status: 200 });
    expect(requests[0]!.requestId).toBe(ok.headers.get('x-request-id'));
    expect(requests[1]).toMatchObject({
      level: 30,
      path: '/api/skus/NOPE',
      status: 404,
      requestId: 'req-42',
    });
    for (const r of requests) expect(typeof r.ms).toBe('number');
  });

  it('puts the job id and the order id on every line of an order job', async () => {
    const { log, entries } = capturingLogger('info');
    const worker = startOrderWorker({
      db: stack.db,
      connection: conn,
      prefix: stack.prefix,
      log,
      concurrency: 2,
      lockDurationMs: 30_000,
    });
    try {
      const posted = await stack.api('POST', '/api/orders', orderBody('LOG-1', [{ sku: 'A1', quantity: 1 }]));
      expect(posted.status).toBe(202);
      const orderId = posted.body.id as number;
      const line = await waitFor(() => entries().find((e) => e.msg === 'order processed'), {
        message: () => `an 'order processed' line; lines: ${JSON.stringify(entries())}`,
      });
      expect(line).toMatchObject({ orderId, status: 'backordered' });
      // The id BullMQ knows the job by (order jobs are keyed by their order).
      expect(line.jobId).toBe(`order-${orderId}`);
    } finally {
      await worker.close();
    }
  });
});

describe('log format of the CLI', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const migrate = 'node --import tsx src/cli.ts migrate';
  const env = () =>
    plainEnv({ NODE_ENV: 'development', STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-')) });

  it('writes readable lines on a terminal in development', async () => {
    // `script` runs the command on a pseudo-terminal, as a person's shell would.
    const r = await runCommand('script', ['-qec', migrate, '/dev/null'], { cwd: root, env: env() });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/INFO.*migrate: done/);
    expect(r.out).not.toContain('{"level"');
  });

  it('writes JSON lines when the output is not a terminal', async () => {
    const r = await runCommand('sh', ['-c', migrate], { cwd: root, env: env() });
    expect(r.code, r.out).toBe(0);
    const line = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ level: 30, msg: 'migrate: done' });
  });
});
