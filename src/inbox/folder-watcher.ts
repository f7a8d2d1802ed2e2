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
}

const ORDER_FILE = /\.(xlsx|csv)$/i;

/**
 * One pass over the inbox: each settled `.xlsx` / `.csv` file is claimed by renaming it into
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
  for (const name of await readdir(folder)) {
    if (!ORDER_FILE.test(name) || name.startsWith('.') || name.startsWith('~$')) continue;
    const source = path.join(folder, name);
    try {
      const info = await stat(source);
      if (!info.isFile() || Date.now() - info.mtimeMs < (options.settleMs ?? 2000)) continue;
      const claimed = path.join(dirs.processing, name);
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
          resultPath: path.join(dirs.processing, resultFileName(name)),
        },
      );
      const target = summary.error ? dirs.failed : dirs.done;
      const stamp = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const finalName = `${stamp}-${name}`;
      await rename(
        path.join(dirs.processing, resultFileName(name)),
        path.join(target, resultFileName(finalName)),
      );
      await rename(claimed, path.join(target, finalName));
      log.info({ file: name, ...summary }, 'order file imported');
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
  await mkdir(processing, { recursive: true });
  for (const name of await readdir(processing)) {
    if (!ORDER_FILE.test(name) || name.includes('.result.')) continue;
    const file = path.join(processing, name);
    const info = await stat(file).catch(() => null);
    if (info && Date.now() - info.ctimeMs > ABANDONED_AFTER_MS)
      await rename(file, path.join(options.folder, name)).catch(() => {});
  }
  return startLoop('inbox', options.intervalMs ?? 5000, () => scanInbox(options), options.log);
}
