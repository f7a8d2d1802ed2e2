import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findingsFileName, findingsWorkbook, reconcilePeriod } from '../src/reconciliation/index.js';
import type { ScheduledJob } from './types.js';

/**
 * Every night (03:00 business time; the run covers the day before), reconciliation (README
 * "Reconciliation (对账)"): each enabled channel's orders of the day (plus its pull overlap) and
 * its stock against ours, and our own records against each other. Findings are stored (a rerun of
 * the day finds the same ones), healed where they can be, once; the findings workbook goes to the
 * run's folder. Missed nights are caught up, up to three back.
 */
export const reconciliation: ScheduledJob = {
  name: 'reconciliation',
  schedule: '0 3 * * *',
  period: 'day',
  catchUp: 3,
  usesChannels: true,
  async run({ db, log, period, periodStart, periodEnd, channels, outputDir, progress }) {
    if (!channels) log.warn('reconciliation without channels: only our own records are checked');
    const result = await reconcilePeriod({
      db,
      log,
      period,
      periodStart,
      periodEnd,
      channels,
      triggeredBy: 'job',
      progress,
    });
    const file = findingsFileName(result.run);
    await writeFile(path.join(outputDir, file), await findingsWorkbook(result.run, result.findings));
    return { counts: { ...result.counts, run: result.run.id }, files: [file] };
  },
};
