/**
 * Quiet hours for SMS in the recipient's time zone, e.g. 21:00–08:00: a message due inside the
 * window waits until it ends. Computed with Intl only, so that daylight saving time changes are
 * the runtime's time zone database's business.
 */

export interface QuietHours {
  /** Local wall time the window starts, 'HH:MM'. */
  start: string;
  /** Local wall time the window ends, 'HH:MM'; before `start` when the window spans midnight. */
  end: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isWallTime(value: string): boolean {
  return HHMM.test(value);
}

function minutesOf(value: string): number {
  const m = HHMM.exec(value);
  if (!m) throw new RangeError(`not a wall time 'HH:MM': ${value}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at an instant (epoch ms). */
export function wallClockAt(epochMs: number, timeZone: string): WallClock & { second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(epochMs))
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
function offsetAt(epochMs: number, timeZone: string): number {
  const w = wallClockAt(epochMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

const DAY_MS = 86_400_000;

/**
 * The instant a local wall time occurs in `timeZone`. A wall time that occurs twice (clocks set
 * back) gives the earlier instant; one that does not occur (clocks set forward) gives the instant
 * as far after the gap's start as the wall time is, like Temporal's 'compatible' choice.
 */
export function instantOfWallClock(w: WallClock, timeZone: string): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const before = offsetAt(asUtc - DAY_MS, timeZone);
  const after = offsetAt(asUtc + DAY_MS, timeZone);
  const matches = [...new Set([before, after])]
    .map((offset) => asUtc - offset)
    .filter((t) => {
      const back = wallClockAt(t, timeZone);
      return back.hour === w.hour && back.minute === w.minute && back.day === w.day;
    });
  if (matches.length > 0) return Math.min(...matches);
  return asUtc - before;
}

/**
 * When the quiet window that `now` falls in ends, or null when `now` is outside it (or the window
 * is empty: start equal to end).
 */
export function quietUntil(now: Date, quiet: QuietHours, timeZone: string): Date | null {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const local = wallClockAt(now.getTime(), timeZone);
  const minute = local.hour * 60 + local.minute;
  const spansMidnight = start > end;
  const inside = spansMidnight ? minute >= start || minute < end : minute >= start && minute < end;
  if (!inside) return null;
  // The window ends today, or tomorrow when it spans midnight and started today.
  const endsTomorrow = spansMidnight && minute >= start;
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + (endsTomorrow ? 1 : 0)));
  const at = instantOfWallClock(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour: Math.floor(end / 60),
      minute: end % 60,
    },
    timeZone,
  );
  return new Date(at);
}
