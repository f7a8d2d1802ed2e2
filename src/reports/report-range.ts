import { dbTime } from '../db/connection.js';
import { periodBounds, shiftPeriod } from '../domain/job-periods.js';
import { businessDate } from '../domain/pricing.js';

/**
 * The business dates a report covers (`from` and `to` inclusive, `YYYY-MM-DD` in the business time
 * zone), and the stored-time bounds they make: `[start, end)` as the database keeps UTC times.
 */
export interface ReportRange {
  from: string;
  to: string;
  timeZone: string;
  /** The first instant of `from`, as stored (`YYYY-MM-DD HH:MM:SS.sss` UTC). */
  start: string;
  /** The first instant after `to`, as stored. */
  end: string;
}

export function reportRange(from: string, to: string, timeZone: string): ReportRange {
  return {
    from,
    to,
    timeZone,
    start: dbTime(periodBounds('day', from, timeZone).start),
    end: dbTime(periodBounds('day', to, timeZone).end),
  };
}

/** Today's business date. */
export const today = (timeZone: string, now = new Date()) => businessDate(now, timeZone);

/** The business date `n` days before `date`. */
export const daysBefore = (date: string, n: number) => shiftPeriod('day', date, -n);

/** The business months a range touches, each with its stored-time end, oldest first. */
export function monthsOf(range: ReportRange): { month: string; end: string }[] {
  const months: { month: string; end: string }[] = [];
  for (let m = range.from.slice(0, 7); m <= range.to.slice(0, 7); m = shiftPeriod('month', m, 1))
    months.push({ month: m, end: dbTime(periodBounds('month', m, range.timeZone).end) });
  return months;
}
