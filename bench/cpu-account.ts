/**
 * A CPU account of one bench phase (Linux only): the CPU time, user + system, that each named
 * process consumed during the phase — utime + stime from /proc/<pid>/stat (all the process's
 * threads), in clock ticks (`getconf CLK_TCK`, usually 100 a second) — and the machine's idle share
 * over the same span from /proc/stat (idle + iowait of all cores). What the machine spent beyond
 * the named processes is shown as `rest of machine` (other sessions, the kernel's own threads).
 * Without /proc the account says it is not available; the bench runs on unchanged.
 *
 *   const phase = startCpuAccount([{ name: 'daemon', pids: [pid] }, ...serverProcesses(), benchProcess('bench')]);
 *   ... the phase ...
 *   console.log(cpuLine('stockbridge phase', phase.stop(), n, 'order'));
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A name and the processes whose CPU time is summed under it. */
export interface CpuProcess {
  name: string;
  pids: number[];
}

export interface CpuAccount {
  /** False where /proc is missing (not Linux): nothing else is filled in. */
  available: boolean;
  wallMs: number;
  /** Share (0..1) of the machine's CPU time (all cores) that was idle during the phase. */
  idleShare: number;
  cores: number;
  /** CPU ms the whole machine was busy (all cores, idle and iowait excluded). */
  machineBusyMs: number;
  /** Of that, CPU ms in interrupts (irq + softirq) and stolen by the hypervisor. */
  irqMs: number;
  stealMs: number;
  /** CPU ms per named process; `missing` when none of its pids could be read at start or stop. */
  processes: { name: string; ms: number; missing: boolean }[];
}

export const cpuAccountAvailable = existsSync('/proc/stat') && existsSync('/proc/self/stat');

let clockTicksCache: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`); 100 if it cannot be asked. */
function clockTicks(): number {
  if (clockTicksCache === undefined) {
    let n = Number.NaN;
    try {
      n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      // no getconf: the usual value
    }
    clockTicksCache = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicksCache;
}

/** utime + stime of a process in clock ticks, or null when it cannot be read (gone). */
function processTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    // After ") ": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/**
 * The machine's CPU time in ticks, summed over cores: all of it, the idle part (idle + iowait), and
 * the time spent in interrupts (irq + softirq: loopback TCP is handled there, charged to no
 * process) and stolen by the hypervisor.
 */
function machineTicks(): { total: number; idle: number; irq: number; steal: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const f = lines[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const cores = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { total, idle: f[3]! + f[4]!, irq: f[5]! + f[6]!, steal: f[7]!, cores };
}

/** The pids of the processes whose command name (/proc/<pid>/comm) is one of `names`. */
export function pidsByName(...names: string[]): number[] {
  if (!cpuAccountAvailable) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** MariaDB (mariadbd, or mysqld on older installs) and redis-server, found by name. */
export function serverProcesses(): CpuProcess[] {
  const maria = pidsByName('mariadbd');
  return [
    { name: maria.length > 0 ? 'mariadbd' : 'mysqld', pids: maria.length > 0 ? maria : pidsByName('mysqld') },
    { name: 'redis-server', pids: pidsByName('redis-server') },
  ];
}

/** This process (the bench: the load generator, or the raw BullMQ client and worker). */
export const benchProcess = (name: string): CpuProcess => ({ name, pids: [process.pid] });

/** Reads every process's ticks and the machine's now; call `stop()` at the end of the phase. */
export function startCpuAccount(processes: CpuProcess[]): { stop(): CpuAccount } {
  if (!cpuAccountAvailable) {
    const none: CpuAccount = {
      available: false,
      wallMs: 0,
      idleShare: 0,
      cores: 0,
      machineBusyMs: 0,
      irqMs: 0,
      stealMs: 0,
      processes: [],
    };
    return { stop: () => none };
  }
  const hz = clockTicks();
  const before = processes.map((p) => p.pids.map(processTicks));
  const machine0 = machineTicks();
  const t0 = performance.now();
  return {
    stop() {
      const wallMs = performance.now() - t0;
      const machine1 = machineTicks();
      const after = processes.map((p) => p.pids.map(processTicks));
      const total = machine1.total - machine0.total;
      const idle = machine1.idle - machine0.idle;
      return {
        available: true,
        wallMs,
        idleShare: total > 0 ? idle / total : 0,
        cores: machine1.cores,
        machineBusyMs: ((total - idle) * 1000) / hz,
        irqMs: ((machine1.irq - machine0.irq) * 1000) / hz,
        stealMs: ((machine1.steal - machine0.steal) * 1000) / hz,
        processes: processes.map((p, i) => {
          let ticks = 0;
          let read = 0;
          p.pids.forEach((_, j) => {
            const a = before[i]![j];
            const b = after[i]![j];
            if (a == null || b == null) return;
            ticks += b - a;
            read++;
          });
          return { name: p.name, ms: (ticks * 1000) / hz, missing: read === 0 };
        }),
      };
    },
  };
}

/**
 * One line: `cpu (ms per order) stockbridge phase, 12.3 s wall, machine idle 4 %: daemon 1.21
 * (2420 ms), ..., total 2.64 (5280 ms); rest of machine 0.05 (irq+softirq 60 ms, steal 0 ms, other
 * processes 40 ms)`, the CPU ms per `unit` (over `count` of them) and in all (in parentheses).
 */
export function cpuLine(phase: string, account: CpuAccount, count: number, unit: string): string {
  const head = `cpu (ms per ${unit})`.padEnd(18);
  if (!account.available) return `${head} ${phase}: CPU account not available (no /proc)`;
  const per = (ms: number) => (ms / count).toFixed(2);
  const cell = (name: string, ms: number) => `${name} ${per(ms)} (${Math.round(ms)} ms)`;
  const listed = account.processes.filter((p) => !p.missing).reduce((a, p) => a + p.ms, 0);
  const rest = Math.max(0, account.machineBusyMs - listed);
  const others = Math.max(0, rest - account.irqMs - account.stealMs);
  const cells = account.processes.map((p) => (p.missing ? `${p.name} n/a (not found)` : cell(p.name, p.ms)));
  return (
    `${head} ${phase}, ${(account.wallMs / 1000).toFixed(1)} s wall, ` +
    `machine idle ${Math.round(account.idleShare * 100)} % of ${account.cores} cores: ` +
    `${cells.join(', ')}, ${cell('total', listed)}; rest of machine ${per(rest)} ` +
    `(irq+softirq ${Math.round(account.irqMs)} ms, steal ${Math.round(account.stealMs)} ms, ` +
    `other processes ${Math.round(others)} ms)`
  );
}
