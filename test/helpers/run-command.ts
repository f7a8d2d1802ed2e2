import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  out: string;
  /** Still running after the limit, and killed. */
  killed: boolean;
}

/**
 * Runs a command as a newcomer would (its own process group, output collected) and resolves when
 * it exits. A run still going after `untilMs` (a generous limit for a busy machine) is killed.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; untilMs?: number },
): Promise<CommandResult> {
  let killed = false;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => {
    killed = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, options.untilMs ?? 120_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    }),
  );
}

/** The environment of this process without what vitest sets for itself (NODE_ENV=test, VITEST_*). */
export function plainEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const own = Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST'));
  return { ...Object.fromEntries(own), ...extra };
}
