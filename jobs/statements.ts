import { existsSync } from 'node:fs';
import path from 'node:path';
import { issueStatements, writePeriodSummary } from '../src/billing/statements.js';
import { monthPeriod } from '../src/domain/statement.js';
import type { ScheduledJob } from './types.js';

/**
 * On the 1st of each month (03:00 business time, after the month-end invoicing), every customer's
 * statement (对账单) of the month before and the summary of them all (README "Statements"). A
 * customer's month is stated once: a statement already there (issued on demand, or by an earlier
 * attempt of this run) is left as it is, so a rerun writes no second file for it. The summary covers
 * the latest statement of every customer of the month.
 */
export const statements: ScheduledJob = {
  name: 'statements',
  schedule: '0 3 1 * *',
  period: 'month',
  catchUp: 2,
  async run({ db, log, period, outputDir, progress, timeZone }) {
    const p = monthPeriod(period);
    // The runner's folders are <STOCKBRIDGE_OUTPUT_DIR>/<job>/<period>: documents are recorded under the root.
    const outputRoot = path.resolve(outputDir, '..', '..');
    const result = await issueStatements(db, p, {
      outputRoot,
      folder: outputDir,
      timeZone,
      actor: 'job:statements',
      mode: 'once',
      progress,
    });
    const files = result.files.map((f) => path.relative(outputDir, f));
    const summary = path.join(outputDir, `summary-${period}.xlsx`);
    let rows = 0;
    if (result.issued.length > 0 || !existsSync(summary)) {
      rows = await writePeriodSummary(db, p, summary);
      files.push(path.basename(summary));
    }
    log.info({ period, issued: result.issued.length, unchanged: result.unchanged.length }, 'statements done');
    return {
      counts: { statements: result.issued.length, unchanged: result.unchanged.length, summaryRows: rows },
      files,
    };
  },
};
