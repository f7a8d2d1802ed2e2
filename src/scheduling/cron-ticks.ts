import cron, { type ScheduledTask } from 'node-cron';
import { zonedInstant, zonedParts } from '../domain/job-periods.js';

/** Tasks that are never started: node-cron's own matcher for a schedule in a time zone. */
const matchers = new Map<string, { task: ScheduledTask; times: Array<[number, number, number]> }>();

function matcherOf(schedule: string, timeZone: string) {
  const key = `${timeZone} ${schedule}`;
  let m = matchers.get(key);
  if (!m) {
    const fields = cron.parse(schedule);
    const times: Array<[number, number, number]> = [];
    for (const h of fields.hour)
      for (const mi of fields.minute) for (const s of fields.second) times.push([h, mi, s]);
    times.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    m = { task: cron.createTask(schedule, () => {}, { timezone: timeZone, name: `matcher ${key}` }), times };
    matchers.set(key, m);
  }
  return m;
}

/** Whether a node-cron expression is valid. */
export const validSchedule = (schedule: string) => cron.validate(schedule);

/**
 * The first tick of a node-cron schedule, read in a time zone, at or after `from` and not after
 * `until`; null when there is none. Walks the local days in between and each day's times of the
 * schedule (node-cron's own matcher decides), so a nightly schedule costs a few checks a day.
 */
export function firstTick(schedule: string, timeZone: string, from: Date, until: Date): Date | null {
  const { task, times } = matcherOf(schedule, timeZone);
  const fromMs = Math.ceil(from.getTime() / 1000) * 1000;
  const start = zonedParts(fromMs, timeZone);
  // Local days from the one `from` falls on, at most ~13 months ahead.
  let day = new Date(Date.UTC(start.year, start.month - 1, start.day));
  for (let i = 0; i < 400; i++, day = new Date(day.getTime() + 86_400_000)) {
    const y = day.getUTCFullYear();
    const mo = day.getUTCMonth() + 1;
    const d = day.getUTCDate();
    const dayStart = zonedInstant(timeZone, y, mo, d);
    if (dayStart.getTime() > until.getTime()) return null;
    const sameDay = y === start.year && mo === start.month && d === start.day;
    for (const [h, mi, s] of times) {
      if (
        sameDay &&
        (h < start.hour ||
          (h === start.hour && (mi < start.minute || (mi === start.minute && s < start.second))))
      )
        continue;
      const at = zonedInstant(timeZone, y, mo, d, h, mi, s);
      if (at.getTime() < fromMs) continue;
      if (at.getTime() > until.getTime()) return null;
      if (task.match(at)) return at;
      // A day that does not match at one time of day matches at none (only dates decide).
      const p = zonedParts(at, timeZone);
      if (p.hour === h && p.minute === mi && p.second === s) break;
    }
  }
  return null;
}

/** The next tick after `now` (within about a year), or null. */
export function nextTick(schedule: string, timeZone: string, now: Date): Date | null {
  return firstTick(
    schedule,
    timeZone,
    new Date(now.getTime() + 1),
    new Date(now.getTime() + 400 * 86_400_000),
  );
}
