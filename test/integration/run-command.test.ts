import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRun } from '../../src/scheduling/job-runs.js';
import { plainEnv, runCommand } from '../helpers/run-command.js';
import { createStack, type TestStack } from '../helpers/stack.js';

const root = path.resolve(import.meta.dirname, '../..');

let stack: TestStack;
let outputRoot: string;
let dataDir: string;

/** `stockbridge <args>` from the sources, in a process of its own, as a person would run it. */
function stockbridge(args: string[], env: Record<string, string> = {}) {
  return runCommand(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: plainEnv({
      DATABASE_URL: stack.database.url,
      STOCKBRIDGE_DATA_DIR: dataDir,
      STOCKBRIDGE_OUTPUT_DIR: outputRoot,
      STOCKBRIDGE_TIME_ZONE: 'Asia/Shanghai',
      LOG_LEVEL: 'warn',
      ...env,
    }),
  });
}

/** The run the command printed last (one JSON line on stdout). */
const printedRun = (out: string) => {
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"id"'));
  return line ? JSON.parse(line) : null;
};

beforeAll(async () => {
  stack = await createStack();
  outputRoot = mkdtempSync(path.join(tmpdir(), 'sb-run-out-'));
  dataDir = mkdtempSync(path.join(tmpdir(), 'sb-run-data-'));
  await stack.api('PUT', '/api/warehouses/main', { name: 'Main', priority: 1 });
  for (const sku of ['A1', 'B2'])
    await stack.api('PUT', `/api/skus/${sku}`, { name: `SKU ${sku}`, unitPrice: 100, currency: 'EUR' });
  const receipt = await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'PO-1',
    lines: [
      { sku: 'A1', quantity: 10 },
      { sku: 'B2', quantity: 3 },
    ],
  });
  expect(receipt.status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
});

describe('stockbridge run <job>', () => {
  it('runs a job in the foreground: exit 0, its file recorded; the same period again only with --force, into a new folder', async () => {
    const r = await stockbridge(['run', 'stock-snapshot', '--period', '2026-11-29']);
    expect(r.code, r.out).toBe(0);
    // Not a terminal: progress as plain lines.
    expect(r.out).toContain('stock-snapshot 2026-11-29: 2/2');
    const run = printedRun(r.out);
    expect(run).toMatchObject({
      job: 'stock-snapshot',
      period: '2026-11-29',
      status: 'succeeded',
      triggeredBy: 'cli',
      counts: { rows: 2 },
      files: ['stock-2026-11-29.csv'],
      outputDir: 'stock-snapshot/2026-11-29',
    });
    const file = path.join(outputRoot, 'stock-snapshot', '2026-11-29', 'stock-2026-11-29.csv');
    expect(run.folder).toBe(path.dirname(file));
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\r\n')[0]).toBe(
      '\uFEFFSKU / 货号,Name / 名称,Warehouse / 仓库,On hand / 在库,Reserved / 已占用,Available / 可用',
    );
    expect(csv).toContain('A1,SKU A1,main,10,0,10\r\n');
    expect(csv).toContain('B2,SKU B2,main,3,0,3\r\n');
    expect(await findRun(stack.db, 'stock-snapshot', '2026-11-29')).toMatchObject({
      status: 'succeeded',
      files: ['stock-2026-11-29.csv'],
    });

    const again = await stockbridge(['run', 'stock-snapshot', '--period', '2026-11-29']);
    expect(again.code, again.out).toBe(1);
    expect(again.out).toContain('already succeeded');

    await stack.api('POST', '/api/stock/adjustments', {
      warehouse: 'main',
      reason: 'count',
      lines: [{ sku: 'A1', delta: -4 }],
    });
    const forced = await stockbridge(['run', 'stock-snapshot', '--period=2026-11-29', '--force']);
    expect(forced.code, forced.out).toBe(0);
    const rerun = printedRun(forced.out);
    expect(rerun).toMatchObject({ run: 2, status: 'succeeded', outputDir: 'stock-snapshot/2026-11-29.run2' });
    expect(readFileSync(path.join(rerun.folder, 'stock-2026-11-29.csv'), 'utf8')).toContain(
      'A1,SKU A1,main,6,0,6',
    );
    // The first run's file is as it was.
    expect(readFileSync(file, 'utf8')).toBe(csv);
  }, 240_000);

  it('exits non-zero when the run fails, and the run stays failed with the error', async () => {
    // The output folder cannot be made: a file stands where it should be.
    const blocked = path.join(mkdtempSync(path.join(tmpdir(), 'sb-run-blocked-')), 'outputs');
    writeFileSync(blocked, 'a file, not a folder');
    const r = await stockbridge(['run', 'stock-snapshot', '--period', '2026-11-27'], {
      STOCKBRIDGE_OUTPUT_DIR: blocked,
    });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('stock-snapshot for 2026-11-27 failed');
    expect(printedRun(r.out)).toMatchObject({ status: 'failed', attempts: 1 });
    const run = await findRun(stack.db, 'stock-snapshot', '2026-11-27');
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/ENOTDIR|EEXIST/);
  }, 120_000);

  it('says clearly what it runs, and refuses unknown jobs and bad periods', async () => {
    const help = await stockbridge(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('stockbridge run <job> [--period <period>] [--force]');
    for (const job of ['outbox-prune', 'nightly-resync', 'stock-snapshot']) expect(help.out).toContain(job);

    const unknown = await stockbridge(['run', 'invoicingg']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('no job named invoicingg');
    expect(unknown.out).toContain('stock-snapshot');

    const bad = await stockbridge(['run', 'stock-snapshot', '--period', '2026-11']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('period 2026-11 must be a date YYYY-MM-DD');
    expect(await findRun(stack.db, 'stock-snapshot', '2026-11')).toBeNull();
  }, 180_000);
});

describe("the README's commands", () => {
  it('run as written (from the sources instead of the built tree), each exiting 0', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((b) => b.includes('npm run stockbridge -- run'));
    expect(block).toBeDefined();
    const script = block!.replaceAll('npm run stockbridge --', `${process.execPath} --import tsx src/cli.ts`);
    expect(script.match(/src\/cli\.ts run/g)!.length).toBeGreaterThanOrEqual(3);
    const r = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: root,
      env: plainEnv({
        DATABASE_URL: stack.database.url,
        STOCKBRIDGE_DATA_DIR: dataDir,
        STOCKBRIDGE_OUTPUT_DIR: outputRoot,
        STOCKBRIDGE_TIME_ZONE: 'Asia/Shanghai',
        LOG_LEVEL: 'warn',
      }),
      untilMs: 300_000,
    });
    expect(r.code, r.out).toBe(0);
    // The rerun went to a folder of its own beside the first.
    expect(existsSync(path.join(outputRoot, 'stock-snapshot', '2026-11-28', 'stock-2026-11-28.csv'))).toBe(
      true,
    );
    expect(
      existsSync(path.join(outputRoot, 'stock-snapshot', '2026-11-28.run2', 'stock-2026-11-28.csv')),
    ).toBe(true);
  }, 360_000);
});

describe('npm run stockbridge', () => {
  it('passes the command through to the CLI of the built tree', async () => {
    // What `npm run stockbridge -- run …` needs of the repository, with a stand-in for the built CLI.
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-tree-'));
    mkdirSync(path.join(dir, 'scripts'));
    copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
    copyFileSync(path.join(root, 'scripts/run.mjs'), path.join(dir, 'scripts/run.mjs'));
    mkdirSync(path.join(dir, 'dist/src'), { recursive: true });
    writeFileSync(
      path.join(dir, 'dist/src/cli.js'),
      "process.stdout.write('built cli: ' + process.argv.slice(2).join(' ') + '\\n');\n",
    );
    writeFileSync(path.join(dir, 'dist/package.json'), '{"type":"module"}');
    const r = await runCommand(
      'npm',
      ['run', '--silent', 'stockbridge', '--', 'run', 'stock-snapshot', '--period', '2026-11-30'],
      {
        cwd: dir,
        env: plainEnv({ NODE_ENV: 'production' }),
      },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('built cli: run stock-snapshot --period 2026-11-30');
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });
});
