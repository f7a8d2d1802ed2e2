import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Conn } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import { safeFileName } from '../inbox/file-name.js';
import { getRun } from './job-runs.js';

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pdf': 'application/pdf',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The types a run's file is served as, by its extension. */
export const RUN_FILE_TYPES = [...new Set(Object.values(CONTENT_TYPES))];

/**
 * A file a run wrote, to download: only a name the run recorded, only a plain one, only from the
 * run's own folder under the output root. 404 (NotFoundError) otherwise, or when it is gone.
 */
export async function openRunFile(
  db: Conn,
  outputRoot: string,
  id: number,
  name: string,
): Promise<{ type: string; size: number; body: ReadableStream }> {
  const run = await getRun(db, id);
  if (!run || run.outputDir === null || safeFileName(name) !== name || !run.files.includes(name))
    throw notFound(`file ${JSON.stringify(name)} of job run ${id}`);
  const root = path.resolve(outputRoot);
  const file = path.resolve(root, run.outputDir, name);
  if (!file.startsWith(root + path.sep)) throw notFound(`file ${JSON.stringify(name)} of job run ${id}`);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw notFound(`file ${JSON.stringify(name)} of job run ${id} (no longer on disk)`);
  return {
    type: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    size: info.size,
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
  };
}
