import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { resultFileName } from '../../connectors/excel-inbox/result-workbook.js';
import type { Conn } from '../db/connection.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';
import { startLoop } from '../queue/relay.js';
import { importOrderFile } from './import-file.js';

export interface InboxOptions {
  /** The folder customers' order files are dropped into. */
  folder: string;
  db: Conn;
  intake: IntakeBatcher;
  log: Logger;
  defaultCurrency?: string;
  /** How often the folder is looked at (ms). Default 5000. */
  intervalMs?: number;
  /** A file must be this old (ms since its last change) before it is taken, so half-copied files wait. Default 2000. */
  settleMs?: number;
  /**
   * Size and mtime of each file at the last scan; a file is taken only once a scan finds both
   * unchanged. Kept by the watcher; when absent, one list per folder is kept for the process.
   */
  sightings?: Map<string, FileSighting>;
}

/** A file as one scan saw it. */
export interface FileSighting {
  size: number;
  mtimeMs: number;
}

const sightingsByFolder = new Map<string, Map<string, FileSighting>>();

function sightingsOf(options: InboxOptions): Map<string, FileSighting> {
  if (options.sightings) return options.sightings;
  const folder = path.resolve(options.folder);
  let sightings = sightingsByFolder.get(folder);
  if (!sightings) {
    sightings = new Map();
    sightingsByFolder.set(folder, sightings);
  }
  return sightings;
}

/**
 * Whether a file has stopped changing: the last scan saw the same size and mtime, and it is older
 * than `settleMs`. Age alone is not enough: a copy over SMB can keep a file's size or mtime still
 * for longer than any fixed wait while its bytes are still arriving.
 */
function isSettled(
  sightings: Map<string, FileSighting>,
  name: string,
  info: FileSighting,
  settleMs: number,
): boolean {
  const last = sightings.get(name);
  sightings.set(name, { size: info.size, mtimeMs: info.mtimeMs });
  if (!last || last.size !== info.size || last.mtimeMs !== info.mtimeMs) return false;
  return Date.now() - info.mtimeMs >= settleMs;
}

/**
 * The name a handled file keeps in `done/` or `failed/`: the time it was handled, a random part
 * (two files of one name handled in the same second must not overwrite each other) and its name.
 */
/** The part `archivedName` puts before a file's name. */
const ARCHIVED_PREFIX = /^\d{8}T\d{6}Z-[0-9a-f]{8}-/;

function archivedName(name: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}-${name}`;
}

const ORDER_FILE = /\.(xlsx|csv)$/i;

/**
 * One pass over the inbox: each settled `.xlsx` / `.csv` file (unchanged since the scan before,
 * see `isSettled`) is claimed by renaming it into
 * `processing/` (so several workers never take the same file), imported, then moved to `done/` — or
 * `failed/` when the file as a whole could not be read — with its result workbook beside it.
 * Returns the names of the files handled. A broken file never stops the pass.
 */
export async function scanInbox(options: InboxOptions): Promise<string[]> {
  const { folder, log } = options;
  const dirs = {
    processing: path.join(folder, 'processing'),
    done: path.join(folder, 'done'),
    failed: path.join(folder, 'failed'),
  };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  const handled: string[] = [];
  const sightings = sightingsOf(options);
  const names = await readdir(folder);
  for (const name of sightings.keys()) if (!names.includes(name)) sightings.delete(name);
  for (const name of names) {
    if (!ORDER_FILE.test(name) || name.startsWith('.') || name.startsWith('~$')) continue;
    const source = path.join(folder, name);
    try {
      const info = await stat(source);
      if (!info.isFile() || !isSettled(sightings, name, info, options.settleMs ?? 2000)) continue;
      sightings.delete(name);
      // Claimed under its final name: a file of the same name left in processing/ by a process
      // that died is never overwritten.
      const finalName = archivedName(name);
      const claimed = path.join(dirs.processing, finalName);
      try {
        await rename(source, claimed);
      } catch {
        continue; // another worker took it
      }
      const { summary } = await importOrderFile(
        options.db,
        options.intake,
        { fileName: name, path: claimed },
        {
          ...(options.defaultCurrency ? { defaultCurrency: options.defaultCurrency } : {}),
          resultPath: path.join(dirs.processing, resultFileName(finalName)),
        },
      );
      const target = summary.error ? dirs.failed : dirs.done;
      await rename(
        path.join(dirs.processing, resultFileName(finalName)),
        path.join(target, resultFileName(finalName)),
      );
      await rename(claimed, path.join(target, finalName));
      if (summary.error) log.warn({ file: name, movedTo: finalName, ...summary }, 'order file failed');
      else log.info({ file: name, movedTo: finalName, ...summary }, 'order file imported');
      handled.push(name);
    } catch (err) {
      log.error({ file: name, err: (err as Error).message }, 'order file could not be handled');
    }
  }
  return handled;
}

/** A claim older than this belongs to a process that died mid-import. */
const ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Looks at the inbox on a timer (worker role). Files left in `processing/` long ago by a process
 * that died are put back first; importing them again is harmless (orders are keyed by customer and
 * order number).
 */
export async function startInboxWatcher(options: InboxOptions): Promise<{ stop(): Promise<void> }> {
  const processing = path.join(options.folder, 'processing');
  const watched = { ...options, sightings: options.sightings ?? new Map<string, FileSighting>() };
  await mkdir(processing, { recursive: true });
  for (const name of await readdir(processing)) {
    if (!ORDER_FILE.test(name) || name.includes('.result.')) continue;
    const file = path.join(processing, name);
    const info = await stat(file).catch(() => null);
    if (!info || Date.now() - info.ctimeMs <= ABANDONED_AFTER_MS) continue;
    // Back under the name it came with, unless a new file of that name is waiting there.
    const original = name.replace(ARCHIVED_PREFIX, '');
    const taken = await stat(path.join(options.folder, original)).then(
      () => true,
      () => false,
    );
    await rename(file, path.join(options.folder, taken ? name : original)).catch(() => {});
  }
  return startLoop('inbox', options.intervalMs ?? 5000, () => scanInbox(watched), options.log);
}
