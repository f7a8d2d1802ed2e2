/**
 * A customer statement (对账单) of one customer with many lines: by default 1,000,000 in one month
 * (40% invoices, 5% credit notes, 35% payments, 20% shipments), written by the monthly
 * `statements` job's own `run` (figures summed by the database, lines streamed in date order from
 * the documents into the streaming xlsx writer). The documents are written straight into the
 * tables with multi-row inserts (set-up is not measured). The measured run happens in a child
 * process of its own, so that its peak RSS (VmHWM) is the statement's alone; RSS is also sampled
 * every 50 ms while it runs. Wall time and the process's CPU time (user + system) are both
 * printed: on a loaded machine the wall time is mostly waiting for a core.
 *
 *   npx tsx bench/statements.ts [--lines 1000000] [--baseline /work/main] [--runs 1]
 *                               [--keep] [--keep-db] [--db <url of a database kept before>]
 *
 * `--baseline <checkout>`: the same measurement with that checkout's code (its own
 * bench/statements.ts in its measuring mode), on the same database, alternating with ours, `--runs`
 * times each. `--keep-db`: leave the database (its URL is printed) for `--db`, which skips the
 * set-up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { statements } from '../jobs/statements.js';
import { createDb, type Db, dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import { addDays } from '../src/domain/invoice.js';
import { benchDatabase, intArg, parseArgs } from './support.js';

const { flags } = parseArgs();
const LINES = intArg(flags.get('lines'), 1_000_000, 'lines');
const PERIOD = '2026-11';
const BATCH = 1000;

const vmHwmMb = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
};

/** The measured part, in its own process: the job's run for the month. */
async function measure(url: string, outputRoot: string) {
  const db = createDb({ databaseUrl: url, dataDir: './data', poolMax: 8 });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const spent = new Map<string, { n: number; ms: number }>();
  if (flags.has('profile')) {
    const started = new Map<string, number>();
    db.on('query', (q: { __knexQueryUid: string; sql: string }) => {
      started.set(q.__knexQueryUid, performance.now());
      console.error(`${Math.round(performance.now())} start ${q.sql.replace(/\s+/g, ' ').slice(0, 100)}`);
    });
    db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => {
      const key = q.sql.replace(/\s+/g, ' ').slice(0, 100);
      const s = spent.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += performance.now() - (started.get(q.__knexQueryUid) ?? performance.now());
      spent.set(key, s);
    });
  }
  if (flags.has('read-only')) {
    const { statementLines } = await import('../src/billing/statement-lines.js');
    const c = await db('customers').first('id');
    const t = performance.now();
    const cpu = process.cpuUsage();
    let n = 0;
    for await (const _ of statementLines(db, {
      customerId: Number(c.id),
      from: '2026-11-01',
      to: '2026-11-30',
      maxInvoiceId: 1e12,
      maxPaymentId: 1e12,
      maxShipmentId: 1e12,
      timeZone: 'UTC',
    }))
      n++;
    const u = process.cpuUsage(cpu);
    console.error(
      `read ${n} lines in ${Math.round(performance.now() - t)} ms, cpu ${Math.round((u.user + u.system) / 1000)} ms`,
    );
  }
  // --cpu-prof <file>: a CPU profile of the run (open it in Chrome's DevTools).
  const { Session } = await import('node:inspector/promises');
  const session = flags.has('cpu-prof') ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const outputDir = path.join(outputRoot, 'statements', PERIOD);
  mkdirSync(outputDir, { recursive: true });
  const t0 = performance.now();
  const result = await statements.run({
    db,
    log: pino({ level: 'warn' }),
    period: PERIOD,
    outputDir,
    progress: () => {},
    timeZone: 'UTC',
    periodStart: new Date('2026-11-01T00:00:00Z'),
    periodEnd: new Date('2026-12-01T00:00:00Z'),
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(flags.get('cpu-prof')!, JSON.stringify(profile));
  }
  console.error(`run cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms`);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  for (const [sql, x] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
    console.error(`  ${Math.round(x.ms)} ms in ${x.n}× ${sql}`);
  const st = await db('statements').first('id', 'line_count');
  const sizes = (result.files ?? []).map(
    (f) => `${f} ${(statSync(path.join(outputDir, f)).size / 1e6).toFixed(1)} MB`,
  );
  console.log(
    JSON.stringify({
      ms: Math.round(ms),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      lines: Number(st?.line_count ?? 0),
      sampledPeakRssMb: Math.round(peak / 1024 / 1024),
      vmHwmMb: vmHwmMb(),
      files: sizes,
    }),
  );
  await db.destroy();
}

interface Measured {
  label: string;
  ms: number;
  cpuMs: number;
  lines: number;
  vmHwmMb: number;
  sampledPeakRssMb: number;
  files: string[];
}

/** One measured run in a child process: ours, or (with `root`) another checkout's bench in its measuring mode. */
async function measuredRun(label: string, url: string, root: string | null): Promise<Measured> {
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-statements-'));
  const script = root ? path.join(root, 'bench', 'statements.ts') : process.argv[1]!;
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      script,
      '--measure',
      url,
      '--out',
      out,
      ...(root === null && flags.has('profile') ? ['--profile', '1'] : []),
      ...(root === null && flags.has('read-only') ? ['--read-only', '1'] : []),
      ...(root === null && flags.has('cpu-prof') ? ['--cpu-prof', flags.get('cpu-prof')!] : []),
    ],
    { cwd: root ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  let errText = '';
  child.stdout.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    errText += c.toString();
    process.stderr.write(c);
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  try {
    if (code !== 0) throw new Error(`measured run (${label}) failed (${code}): ${text}`);
    const r = JSON.parse(text.trim().split('\n').at(-1)!);
    // A checkout whose bench does not print its CPU time in the JSON prints it on stderr.
    const cpuMs = r.cpuMs ?? Number(/run cpu (\d+) ms/.exec(errText)?.[1] ?? Number.NaN);
    return { label, ...r, cpuMs };
  } finally {
    if (!flags.has('keep')) rmSync(out, { recursive: true, force: true });
    else console.log(`files of ${label} kept in ${out}`);
  }
}

async function setUp(db: Db) {
  const now = dbTime();
  await db('companies').insert({
    code: 'SB',
    name: 'Stockbridge B.V.',
    name_zh: '石桥',
    currency: 'EUR',
    created_at: now,
    updated_at: now,
  });
  await db('customers').insert({
    code: 'BIG',
    name: 'Big Customer',
    company: 'SB',
    language: 'zh-CN',
    created_at: now,
    updated_at: now,
  });
  const customerId = Number((await db('customers').where({ code: 'BIG' }).first('id')).id);
  const invoices = Math.round(LINES * 0.4);
  const credits = Math.round(LINES * 0.05);
  const payments = Math.round(LINES * 0.35);
  const shipments = LINES - invoices - credits - payments;
  const day = (i: number) => `${PERIOD}-${String(1 + (i % 30)).padStart(2, '0')}`;

  const t0 = performance.now();
  for (let start = 0; start < invoices + credits; start += BATCH) {
    const n = Math.min(BATCH, invoices + credits - start);
    const rows = Array.from({ length: n }, (_, k) => start + k + 1);
    await db.raw(
      `INSERT INTO invoices (id, number, series, year, seq, type, policy, customer_id, customer_code, language, credits_invoice_id, currency, issue_date, due_date, subtotal, discount, shipping, tax, total, created_at) VALUES ${placeholders(n, 20)}`,
      rows.flatMap((id) => {
        const credit = id > invoices;
        const seq = credit ? id - invoices : id;
        const date = day(id);
        return [
          id,
          `${credit ? 'CN' : 'INV'}-2026-${String(seq).padStart(7, '0')}`,
          credit ? 'CN' : 'INV',
          2026,
          seq,
          credit ? 'credit_note' : 'invoice',
          credit ? 'credit' : 'on_shipment',
          customerId,
          'BIG',
          'zh-CN',
          credit ? seq : null,
          'EUR',
          date,
          addDays(date, credit ? 0 : 30),
          credit ? 300 : 12_345,
          0,
          0,
          0,
          credit ? 300 : 12_345,
          now,
        ];
      }),
    );
  }
  await db('invoice_sequences').insert([
    { series: 'INV', year: 2026, last_number: invoices },
    { series: 'CN', year: 2026, last_number: credits },
  ]);
  for (let start = 0; start < payments; start += BATCH) {
    const n = Math.min(BATCH, payments - start);
    const rows = Array.from({ length: n }, (_, k) => start + k + 1);
    await db.raw(
      `INSERT INTO payments (id, customer_id, reference, amount, currency, received_on, method, source, unapplied, actor, request_hash, created_at) VALUES ${placeholders(n, 12)}`,
      rows.flatMap((id) => [
        id,
        customerId,
        `BANK-${id}`,
        9_000,
        'EUR',
        day(id + 7),
        'bank_transfer',
        'api',
        9_000,
        'bench',
        'x'.repeat(64),
        now,
      ]),
    );
  }
  for (let start = 0; start < shipments; start += BATCH) {
    const n = Math.min(BATCH, shipments - start);
    const rows = Array.from({ length: n }, (_, k) => start + k + 1);
    const at = (id: number) => `${day(id)} 10:${String(id % 60).padStart(2, '0')}:00.000`;
    await db.raw(
      `INSERT INTO orders (id, channel, external_id, customer_id, status, currency, total_amount, placed_at, created_at, updated_at) VALUES ${placeholders(n, 10)}`,
      rows.flatMap((id) => [id, 'api', `O-${id}`, customerId, 'shipped', 'EUR', 12_345, now, now, now]),
    );
    await db.raw(
      `INSERT INTO order_lines (id, order_id, line_no, sku_code, ordered, shipped, unit_price) VALUES ${placeholders(n, 7)}`,
      rows.flatMap((id) => [id, id, 1, 'INK', 2, 2, 6_000]),
    );
    await db.raw(
      `INSERT INTO shipments (id, order_id, created_at) VALUES ${placeholders(n, 3)}`,
      rows.flatMap((id) => [id, id, at(id)]),
    );
    await db.raw(
      `INSERT INTO shipment_lines (shipment_id, order_line_id, quantity) VALUES ${placeholders(n, 3)}`,
      rows.flatMap((id) => [id, id, 2]),
    );
  }
  console.log(
    `set-up: ${invoices} invoices, ${credits} credit notes, ${payments} payments, ${shipments} shipments (${LINES} lines) in ${Math.round(performance.now() - t0)} ms`,
  );
}

async function main() {
  if (flags.has('measure')) return measure(flags.get('measure')!, flags.get('out')!);
  const given = flags.get('db');
  const bench = given
    ? {
        db: createDb({ databaseUrl: given, dataDir: './data', poolMax: 8 }),
        url: given,
        drop: async () => {},
      }
    : await benchDatabase(8);
  const { db, url } = bench;
  const baseline = flags.get('baseline') ?? null;
  const runs = intArg(flags.get('runs'), 1, 'runs');
  const results: Measured[] = [];
  try {
    if (!given) await setUp(db);
    const ours = 'this checkout';
    const variants: [string, string | null][] = [[ours, null]];
    if (baseline) variants.push([`baseline ${baseline}`, path.resolve(baseline)]);
    for (let k = 0; k < runs; k++) {
      for (const [label, root] of variants) {
        // Each run states the month afresh (the job states a month once).
        await db('statement_balances').delete();
        await db('statements').delete();
        const r = await measuredRun(label, url, root);
        results.push(r);
        console.log(
          `${label.padEnd(28)} ${String(r.lines).padStart(8)} lines  wall ${String(r.ms).padStart(7)} ms  ` +
            `cpu ${String(r.cpuMs).padStart(7)} ms  peak RSS ${r.vmHwmMb} MB (VmHWM; ${r.sampledPeakRssMb} MB sampled)  ${r.files.join(', ')}`,
        );
      }
    }
    const mine = results.filter((r) => r.label === ours);
    const best = (key: 'ms' | 'cpuMs') => Math.min(...mine.map((r) => r[key]));
    const rss = Math.max(...mine.map((r) => r.vmHwmMb));
    console.log(
      `target (this checkout, best of ${mine.length}): under 15000 ms and 600 MB — wall ${best('ms')} ms ` +
        `${best('ms') < 15_000 ? 'met' : 'NOT met'}, cpu ${best('cpuMs')} ms ${best('cpuMs') < 15_000 ? 'met' : 'NOT met'}, ` +
        `peak RSS ${rss} MB ${rss < 600 ? 'met' : 'NOT met'}`,
    );
  } finally {
    if (flags.has('keep-db') || given) {
      await db.destroy();
      if (!given) console.log(`database kept: --db ${url}`);
    } else await bench.drop().catch(() => {});
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
