/**
 * The periods scheduled jobs cover, as plain calendar arithmetic: which period a tick covers, where
 * a period starts and ends, the period before one, and whether a text names a period.
 *
 * - `day`: a business date, `2026-11-30`, in the business time zone.
 * - `month`: a business month, `2026-11`.
 * - `{ seconds: n }` (n divides a day): a slot of UTC time named by its first minute
 *   (`202611241017`) or, when n is not a whole number of minutes, its first second
 *   (`20261124101704`). UTC, because a local hour repeats when the clocks go back.
 *
 * No key holds `:` (BullMQ refuses custom job ids with one).
 */

export type JobPeriod = 'day' | 'month' | { seconds: number };

export interface PeriodRule {
  period: JobPeriod;
  /**
   * `day` and `month`: whether a tick covers the period before the one it falls in (`previous`, the
   * default: the nightly run at 01:00 on 2026-12-01 covers 2026-11-30) or the one it falls in
   * (`current`). Slots of seconds are always the slot the tick falls in.
   */
  covers?: 'previous' | 'current';
}

const DAY_SECONDS = 86_400;

/** Whether `n` can be a period length: a whole number of seconds that divides a day. */
export const isPeriodSeconds = (n: number) => Number.isInteger(n) && n > 0 && DAY_SECONDS % n === 0;

/** The period's kind for people: `day`, `month`, `2s`, `3600s`. */
export const periodLabel = (p: JobPeriod) => (typeof p === 'string' ? p : `${p.seconds}s`);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock parts of an instant in a time zone. */
export function zonedParts(instant: Date | number, timeZone: string) {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instant)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** How far the time zone's wall clock is ahead of UTC at an instant (ms, whole seconds). */
function offsetMs(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const p = zonedParts(whole, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/**
 * The instant a wall-clock time has in a time zone. A time that the clocks skip (the hour lost in
 * spring) comes out at the same distance after the jump.
 */
export function zonedInstant(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  let t = asUtc - offsetMs(asUtc, timeZone);
  const second_ = offsetMs(t, timeZone);
  if (asUtc - t !== second_) t = asUtc - second_;
  return new Date(t);
}

/** A slot key's first instant: `202611241017` or `20261124101704`. */
function slotStart(key: string): number {
  return Date.UTC(
    Number(key.slice(0, 4)),
    Number(key.slice(4, 6)) - 1,
    Number(key.slice(6, 8)),
    Number(key.slice(8, 10)),
    Number(key.slice(10, 12)),
    key.length > 12 ? Number(key.slice(12, 14)) : 0,
  );
}

/** The key of the UTC slot of `seconds` an instant falls in. */
export function slotKey(instant: Date | number, seconds: number): string {
  const ms = new Date(instant).getTime();
  const start = Math.floor(ms / (seconds * 1000)) * seconds * 1000;
  const iso = new Date(start).toISOString();
  const minute = iso.slice(0, 16).replace(/[-:T]/g, '');
  return seconds % 60 === 0 ? minute : `${minute}${iso.slice(17, 19)}`;
}

const dayKey = (y: number, m: number, d: number) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
const monthKey = (y: number, m: number) => `${pad(y, 4)}-${pad(m)}`;

/** The day before (n = -1) or after (n = 1) a `YYYY-MM-DD` key, by the calendar. */
function shiftDay(key: string, n: number): string {
  const t = new Date(
    Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1, Number(key.slice(8, 10)) + n),
  );
  return dayKey(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

function shiftMonth(key: string, n: number): string {
  const t = new Date(Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1 + n, 1));
  return monthKey(t.getUTCFullYear(), t.getUTCMonth() + 1);
}

/** The period a tick at `instant` covers. */
export function periodOf(rule: PeriodRule, instant: Date | number, timeZone: string): string {
  const { period } = rule;
  if (typeof period === 'object') return slotKey(instant, period.seconds);
  const p = zonedParts(instant, timeZone);
  const previous = (rule.covers ?? 'previous') === 'previous';
  if (period === 'day') {
    const today = dayKey(p.year, p.month, p.day);
    return previous ? shiftDay(today, -1) : today;
  }
  const month = monthKey(p.year, p.month);
  return previous ? shiftMonth(month, -1) : month;
}

/** The period `n` periods after `key` (negative: before). */
export function shiftPeriod(period: JobPeriod, key: string, n: number): string {
  if (period === 'day') return shiftDay(key, n);
  if (period === 'month') return shiftMonth(key, n);
  return slotKey(slotStart(key) + n * period.seconds * 1000, period.seconds);
}

/** The instants a period spans, `[start, end)`: a business day or month in the time zone. */
export function periodBounds(period: JobPeriod, key: string, timeZone: string): { start: Date; end: Date } {
  if (typeof period === 'object') {
    const start = slotStart(key);
    return { start: new Date(start), end: new Date(start + period.seconds * 1000) };
  }
  const y = Number(key.slice(0, 4));
  const m = Number(key.slice(5, 7));
  if (period === 'month') {
    const next = shiftMonth(key, 1);
    return {
      start: zonedInstant(timeZone, y, m, 1),
      end: zonedInstant(timeZone, Number(next.slice(0, 4)), Number(next.slice(5, 7)), 1),
    };
  }
  const next = shiftDay(key, 1);
  return {
    start: zonedInstant(timeZone, y, m, Number(key.slice(8, 10))),
    end: zonedInstant(
      timeZone,
      Number(next.slice(0, 4)),
      Number(next.slice(5, 7)),
      Number(next.slice(8, 10)),
    ),
  };
}

/**
 * Checks a period named by a person (`--period`, the API's `period`): null when it is a valid key
 * of the job's kind, else what is wrong with it.
 */
export function periodProblem(period: JobPeriod, key: string): string | null {
  if (period === 'day') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(key)) return 'must be a date YYYY-MM-DD';
    return shiftDay(shiftDay(key, 1), -1) === key ? null : 'is not a calendar date';
  }
  if (period === 'month') {
    if (!/^\d{4}-\d{2}$/.test(key)) return 'must be a month YYYY-MM';
    const m = Number(key.slice(5, 7));
    return m >= 1 && m <= 12 ? null : 'is not a month';
  }
  const whole = period.seconds % 60 === 0;
  if (!(whole ? /^\d{12}$/ : /^\d{14}$/).test(key))
    return whole ? 'must be a UTC minute YYYYMMDDHHmm' : 'must be a UTC second YYYYMMDDHHmmss';
  const start = slotStart(key);
  if (Number.isNaN(start) || slotKey(start, period.seconds) !== key)
    return `is not the start of a ${period.seconds}-second period`;
  return null;
}

/**
 * Whether a period can be run at `now`: a period that a tick covers once it is over
 * (`covers: previous`) must have ended, any other must have begun.
 */
export function periodRunnable(rule: PeriodRule, key: string, timeZone: string, now: Date | number): boolean {
  const { start, end } = periodBounds(rule.period, key, timeZone);
  const over = typeof rule.period === 'string' && (rule.covers ?? 'previous') === 'previous';
  return (over ? end : start).getTime() <= new Date(now).getTime();
}

/**
 * When the ticks that cover a period begin: at its end for a period covered once it is over, at
 * its start otherwise.
 */
export function coveringTicksFrom(rule: PeriodRule, key: string, timeZone: string): Date {
  const { start, end } = periodBounds(rule.period, key, timeZone);
  return typeof rule.period === 'string' && (rule.covers ?? 'previous') === 'previous' ? end : start;
}
