import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { redactUrl } from '../config.js';
import { assertRedisReachable } from '../queue/redis.js';

/**
 * Development conveniences for `npm start` and `npm test` on a machine where Redis and MariaDB
 * are installed but not running: start the local ones, as `.ci/run` does. Only ever for services
 * on this machine, only when nothing answers, and never anything else (no databases created or
 * dropped, nothing flushed). Production does not use this: there the services are someone's job.
 */

/** Where a missing service comes from, named in the one line printed when it is not installed. */
const INSTALL_HINT = {
  redis: 'Debian/Ubuntu: sudo apt install redis-server; macOS: brew install redis',
  mariadb: 'Debian/Ubuntu: sudo apt install mariadb-server; macOS: brew install mariadb',
};

/** Folders searched besides PATH: server binaries live in sbin on Debian, under Homebrew on macOS. */
const EXTRA_BIN_DIRS = [
  '/usr/sbin',
  '/usr/local/sbin',
  '/usr/local/bin',
  '/opt/homebrew/bin',
  '/opt/homebrew/sbin',
];

export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(message: string) {
    super(message);
    // The message is the whole story; a stack would only push it off the screen.
    this.stack = message;
  }
}

export interface ServiceOptions {
  /** Folders to look for the server programs in; default PATH and the usual sbin/Homebrew ones. */
  binDirs?: string[];
  /** Where progress is told; default stderr. */
  say?: (line: string) => void;
  /** How long a started server may take to answer (ms). */
  timeoutMs?: number;
}

const defaultSay = (line: string) => process.stderr.write(`${line}\n`);

const binDirsOf = (options: ServiceOptions) =>
  options.binDirs ?? [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];

/** The first executable of these names in these folders, or null. */
export function findExecutable(names: string[], dirs: string[]): string | null {
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Host and port of a URL when they are on this machine; null for another host. */
function localTarget(url: string, defaultPort: number): { host: string; port: number } | null {
  const u = new URL(url);
  if (!LOCAL_HOSTS.has(u.hostname)) return null;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort) };
}

export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    await assertRedisReachable(url, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** Whether a MySQL/MariaDB server greets us at the URL's host and port (it speaks first). */
export function mysqlAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 3306) });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type ServiceOutcome = 'answering' | 'started';

/**
 * Makes sure a Redis answers at `url`: nothing to do when one does; a local one is started with
 * its data under `dataDir` when `redis-server` is installed; otherwise a ServiceUnavailableError
 * whose one line says what to install or which URL to set (`urlVariable`).
 */
export async function ensureRedis(
  url: string,
  dataDir: string,
  urlVariable: string,
  options: ServiceOptions = {},
): Promise<ServiceOutcome> {
  if (await redisAnswers(url)) return 'answering';
  const where = redactUrl(url);
  const local = localTarget(url, 6379);
  if (!local)
    throw new ServiceUnavailableError(`Redis does not answer at ${where}: start it, or set ${urlVariable}.`);
  const server = findExecutable(['redis-server'], binDirsOf(options));
  if (!server) {
    throw new ServiceUnavailableError(
      `Redis does not answer at ${where} and redis-server is not installed: install it (${INSTALL_HINT.redis}) or set ${urlVariable}.`,
    );
  }
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  (options.say ?? defaultSay)(
    `stockbridge: starting ${server} on ${local.host}:${local.port} (data in ${dir})`,
  );
  const started = spawnSync(
    server,
    [
      '--daemonize',
      'yes',
      '--bind',
      local.host,
      '--port',
      String(local.port),
      '--dir',
      dir,
      '--logfile',
      path.join(dir, 'redis.log'),
      '--pidfile',
      path.join(dir, `redis-${local.port}.pid`),
    ],
    { encoding: 'utf8' },
  );
  if (started.status !== 0) {
    throw new ServiceUnavailableError(
      `Redis does not answer at ${where} and ${server} did not start (${(started.stderr || started.stdout).trim()}); see ${path.join(dir, 'redis.log')}.`,
    );
  }
  if (!(await waitUntil(() => redisAnswers(url), options.timeoutMs ?? 30_000))) {
    throw new ServiceUnavailableError(
      `Redis was started but does not answer at ${where}; see ${path.join(dir, 'redis.log')}.`,
    );
  }
  return 'started';
}

/**
 * Makes sure a MySQL/MariaDB server answers at `url`, the way `.ci/run` does: nothing when one
 * does; the local `mariadbd` (or `mysqld`) started in the background with its own configuration
 * when installed; otherwise a ServiceUnavailableError with one line saying what to install or
 * which URL to set. It never creates or drops a database.
 */
export async function ensureMariaDb(
  url: string,
  urlVariable: string,
  options: ServiceOptions = {},
): Promise<ServiceOutcome> {
  if (await mysqlAnswers(url)) return 'answering';
  const where = redactUrl(url);
  const local = localTarget(url, 3306);
  if (!local) {
    throw new ServiceUnavailableError(
      `MariaDB/MySQL does not answer at ${where}: start it, or set ${urlVariable}.`,
    );
  }
  const server = findExecutable(['mariadbd', 'mysqld'], binDirsOf(options));
  if (!server) {
    throw new ServiceUnavailableError(
      `MariaDB/MySQL does not answer at ${where} and mariadbd is not installed: install it (${INSTALL_HINT.mariadb}) or set ${urlVariable}.`,
    );
  }
  (options.say ?? defaultSay)(`stockbridge: starting ${server} (its own configuration, as .ci/run does)`);
  // As `start-stop-daemon --background` in .ci/run: detached, outliving this process.
  const child = spawn(server, [], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  if (!(await waitUntil(() => mysqlAnswers(url), options.timeoutMs ?? 60_000))) {
    throw new ServiceUnavailableError(
      `MariaDB/MySQL was started (${server}) but does not answer at ${where}; look at its error log, or set ${urlVariable}.`,
    );
  }
  return 'started';
}
