/**
 * Order files that unpack into gigabytes (issue 10): a real daemon process is sent, over HTTP, a
 * small .xlsx whose shared strings hold one 300 MB cell, then one with four such cells, then one
 * whose zip directory says its shared strings are 2 KB, then two of the first at once. For each it prints the answer's status and time, and the daemon's peak
 * RSS while it was handled (VmRSS from /proc, sampled every 10 ms); last, a good workbook is
 * imported to show the daemon still works, and the daemon's lifetime peak RSS (VmHWM) is printed.
 *
 *   npm run build && npx tsx bench/xlsx-bomb.ts [--daemon-dir <dir with dist/>] [--cell-mb 300]
 *
 * `--daemon-dir` runs another build of the daemon (e.g. of an older commit) under the same load.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { workbookWithHugeCell } from '../test/helpers/xlsx-bomb.js';
import {
  BENCH_TOKEN,
  benchDaemonEnv,
  benchDatabase,
  freePort,
  intArg,
  parseArgs,
  seed,
  startDaemon,
  stopProcess,
} from './support.js';

const { flags } = parseArgs();
const CELL_MB = intArg(flags.get('cell-mb'), 300, '--cell-mb');
const DAEMON_DIR = flags.get('daemon-dir') || process.cwd();

const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;

/** A line of /proc/<pid>/status in kB (VmRSS: now, VmHWM: peak since start). */
function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function post(port: number, name: string, data: Buffer) {
  const form = new FormData();
  form.set('file', new File([data], name));
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/orders/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}` },
    body: form,
  });
  const body = (await res.json()) as { summary?: { error?: string; ordersAccepted?: number } };
  return { status: res.status, ms: Math.round(performance.now() - t0), body };
}

/** Runs `step` while sampling the daemon's RSS; returns its result and the peak. */
async function sampled<T>(daemon: ChildProcess, step: () => Promise<T>) {
  const pid = daemon.pid!;
  let peak = procKb(pid, 'VmRSS');
  const start = peak;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procKb(pid, 'VmRSS'));
    } catch {
      // the daemon died: the step reports it
    }
  }, 10);
  try {
    const result = await step();
    return { result, start, peak };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  const rows = [
    ['Order', 'Customer', 'SKU', 'Qty'],
    ['BOMB-1', 'BENCH', 'SKU-00001', 1],
  ];
  const one = await workbookWithHugeCell(rows, CELL_MB);
  const four = await workbookWithHugeCell(rows, CELL_MB, { cells: 4 });
  // Its zip directory says 2 KB: only unpacking and counting finds out.
  const liar = await workbookWithHugeCell(rows, CELL_MB, { declaredSize: 2048 });
  const database = await benchDatabase(10);
  const { skuCodes } = await seed(database.db, 1, 1, 100);
  const port = await freePort();
  const cwd = process.cwd();
  process.chdir(DAEMON_DIR);
  const daemon = await startDaemon(benchDaemonEnv(database.url, port, `bench-bomb-${port}`), port);
  process.chdir(cwd);
  try {
    console.log(
      `daemon from ${DAEMON_DIR}, pid ${daemon.pid}, RSS at start ${mb(procKb(daemon.pid!, 'VmRSS'))}`,
    );
    const cases: [string, () => Promise<{ status: number; ms: number; body: unknown }[]>][] = [
      [
        `1 cell of ${CELL_MB} MB (${Math.round(one.length / 1024)} KB file)`,
        async () => [await post(port, 'one.xlsx', one)],
      ],
      [
        `4 cells of ${CELL_MB} MB (${Math.round(four.length / 1024)} KB file)`,
        async () => [await post(port, 'four.xlsx', four)],
      ],
      [
        `1 cell of ${CELL_MB} MB, shared strings declared as 2 KB`,
        async () => [await post(port, 'liar.xlsx', liar)],
      ],
      [
        '2 uploads of the 1-cell file at once',
        () => Promise.all([post(port, 'a.xlsx', one), post(port, 'b.xlsx', one)]),
      ],
    ];
    for (const [name, step] of cases) {
      const { result, start, peak } = await sampled(daemon, step);
      const answers = result
        .map(
          (r) =>
            `${r.status} in ${r.ms} ms (${(r.body as { summary?: { error?: string } }).summary?.error ?? JSON.stringify(r.body).slice(0, 80)})`,
        )
        .join('; ');
      console.log(`${name}: ${answers}; daemon RSS ${mb(start)} -> peak ${mb(peak)}`);
    }
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Orders');
    sheet.addRow(['Order', 'Customer', 'SKU', 'Qty']);
    sheet.addRow(['AFTER-1', 'BENCH', skuCodes[0], 1]);
    const good = await post(port, 'good.xlsx', Buffer.from(await workbook.xlsx.writeBuffer()));
    console.log(
      `a good workbook afterwards: ${good.status} in ${good.ms} ms, ordersAccepted ${JSON.stringify(good.body.summary?.ordersAccepted)}`,
    );
    console.log(`daemon peak RSS over the whole run (VmHWM): ${mb(procKb(daemon.pid!, 'VmHWM'))}`);
  } finally {
    await stopProcess(daemon);
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
