import type { Writable } from 'node:stream';
import { shiftPeriod } from '../src/domain/job-periods.js';
import {
  executionWorkbook,
  salesWorkbook,
  settlementWorkbook,
  slowMoverParams,
  slowMoversWorkbook,
  writeReportFile,
} from '../src/reports/report-files.js';
import { reportRange } from '../src/reports/report-range.js';
import { REPORT_LANGUAGES } from '../src/reports/report-workbook.js';
import type { ScheduledJob } from './types.js';

/**
 * Once a month (02:30 business time on the 1st; the run covers the month just ended), the reports
 * of README "Reports" for that month as workbooks, each in Chinese and English
 * (`<report>-<month>.<language>.xlsx`): settlement per customer and per channel, sales per SKU,
 * customer, salesperson and channel, the execution of the month's order lines, and the slow movers
 * as of the month's last day. Written by the same code the `.xlsx` routes stream. Missed months
 * are caught up, up to three back.
 */
export const reports: ScheduledJob = {
  name: 'reports',
  schedule: '30 2 1 * *',
  period: 'month',
  catchUp: 3,
  async run({ db, outputDir, period, progress, timeZone }) {
    const lastDay = shiftPeriod('day', `${shiftPeriod('month', period, 1)}-01`, -1);
    const range = reportRange(`${period}-01`, lastDay, timeZone);
    const slow = slowMoverParams({ asOf: lastDay, days: 90, coverDays: 180, all: false }, timeZone);
    const files: string[] = [];
    const each: [string, (stream: Writable, language: 'zh-CN' | 'en') => Promise<unknown>][] = [
      [
        'settlement-customer',
        (s, language) => settlementWorkbook(db, s, { by: 'customer', range, language }),
      ],
      ['settlement-channel', (s, language) => settlementWorkbook(db, s, { by: 'channel', range, language })],
      ...(['sku', 'customer', 'salesperson', 'channel'] as const).map(
        (by): [string, (stream: Writable, language: 'zh-CN' | 'en') => Promise<unknown>] => [
          `sales-${by}`,
          (s, language) => salesWorkbook(db, s, { by, range, language }),
        ],
      ),
      ['execution', (s, language) => executionWorkbook(db, s, { range, filter: {}, language })],
      ['slow-movers', (s, language) => slowMoversWorkbook(db, s, { ...slow, language })],
    ];
    const total = each.length * REPORT_LANGUAGES.length;
    for (const [report, write] of each) {
      for (const language of REPORT_LANGUAGES) {
        const name = `${report}-${period}.${language}.xlsx`;
        await writeReportFile(outputDir, name, (s) => write(s, language));
        files.push(name);
        progress(files.length, total);
      }
    }
    return { counts: { files: files.length }, files };
  },
};
