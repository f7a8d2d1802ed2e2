import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './ports.js';
import { jsonOrText } from './stack.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (the last megabyte). */
  output(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, and waits until the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `stockbridge start` from the sources (through tsx) with `env` on top of this process's
 * environment, and waits until it logs that it started (and, with `port`, until /readyz says 200).
 */
export async function spawnDaemon(
  env: Record<string, string>,
  options: { port?: number; timeoutMs?: number; name?: string } = {},
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-1_000_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const daemon: DaemonProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    exited: () => exitCode !== undefined,
    async stop(graceMs = 30_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    await waitFor(
      `${options.name ?? 'daemon'} to start`,
      () => {
        if (exitCode !== undefined)
          throw new Error(`exited with ${exitCode} during start:\n${out.slice(-4000)}`);
        return out.includes('"msg":"stockbridge started"');
      },
      timeoutMs,
    );
    if (options.port) {
      const url = `http://127.0.0.1:${options.port}/readyz`;
      await waitFor(
        `${url} to answer 200`,
        () =>
          fetch(url).then(
            (r) => r.ok,
            () => false,
          ),
        timeoutMs,
      );
    }
  } catch (err) {
    await daemon.kill();
    throw err;
  }
  return daemon;
}

/** Calls a running daemon's HTTP API as a client would, with a bearer token. */
export function httpApi(baseUrl: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await jsonOrText(res) };
  };
}
