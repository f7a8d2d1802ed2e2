import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobContext } from '../../jobs/types.js';
import type { Db } from '../../src/db/connection.js';
import { silentLog } from './stack.js';

/** A context for calling a job's handler directly (no scheduler, no job_runs row): a day's period. */
export function jobContext(db: Db, overrides: Partial<JobContext> = {}): JobContext {
  return {
    db,
    log: silentLog,
    period: '2026-11-30',
    outputDir: mkdtempSync(path.join(tmpdir(), 'sb-job-')),
    progress: () => {},
    timeZone: 'UTC',
    periodStart: new Date('2026-11-30T00:00:00Z'),
    periodEnd: new Date('2026-12-01T00:00:00Z'),
    ...overrides,
  };
}
