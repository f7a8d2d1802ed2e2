import { describe, expect, it } from 'vitest';
import { SCHEDULED_JOBS, scheduledJobs } from '../../jobs/index.js';
import {
  coveringTicksFrom,
  isPeriodSeconds,
  periodBounds,
  periodOf,
  periodProblem,
  periodRunnable,
  shiftPeriod,
  zonedInstant,
} from '../../src/domain/job-periods.js';
import { firstTick, nextTick, validSchedule } from '../../src/scheduling/cron-ticks.js';
import { queueJobIdOf } from '../../src/scheduling/job-runs.js';

const SH = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);

describe('the period a tick covers', () => {
  it('a nightly job covers the business day that just ended, by the business time zone', () => {
    // 2026-12-01 01:00 in Shanghai is 2026-11-30 17:00 UTC: the run covers 2026-11-30.
    expect(periodOf({ period: 'day' }, at('2026-11-30T17:00:00Z'), SH)).toBe('2026-11-30');
    // Shanghai's midnight is 16:00 UTC: one second before it is still 2026-11-30 there.
    expect(periodOf({ period: 'day' }, at('2026-11-30T15:59:59Z'), SH)).toBe('2026-11-29');
    expect(periodOf({ period: 'day' }, at('2026-11-30T16:00:00Z'), SH)).toBe('2026-11-30');
    // The same instants read in UTC are another day.
    expect(periodOf({ period: 'day' }, at('2026-11-30T17:00:00Z'), 'UTC')).toBe('2026-11-29');
  });

  it('a job of the current day covers the day the tick falls in', () => {
    expect(periodOf({ period: 'day', covers: 'current' }, at('2026-11-30T16:00:00Z'), SH)).toBe('2026-12-01');
    expect(periodOf({ period: 'day', covers: 'current' }, at('2026-11-30T15:59:59Z'), SH)).toBe('2026-11-30');
  });

  it('a monthly job covers the month before, across a year end', () => {
    expect(periodOf({ period: 'month' }, at('2026-11-30T16:30:00Z'), SH)).toBe('2026-11');
    expect(periodOf({ period: 'month' }, at('2026-11-30T15:30:00Z'), SH)).toBe('2026-10');
    expect(periodOf({ period: 'month' }, at('2026-12-31T16:00:00Z'), SH)).toBe('2026-12');
    expect(periodOf({ period: 'month' }, at('2027-01-01T00:30:00Z'), 'UTC')).toBe('2026-12');
    expect(periodOf({ period: 'month', covers: 'current' }, at('2026-12-31T16:00:00Z'), SH)).toBe('2027-01');
  });

  it('short periods are UTC slots named by their first minute or second, never with a colon', () => {
    expect(periodOf({ period: { seconds: 2 } }, at('2026-11-24T10:17:05.999Z'), SH)).toBe('20261124101704');
    expect(periodOf({ period: { seconds: 60 } }, at('2026-11-24T10:17:59.999Z'), SH)).toBe('202611241017');
    expect(periodOf({ period: { seconds: 3600 } }, at('2026-11-24T10:17:59Z'), SH)).toBe('202611241000');
    expect(queueJobIdOf({ job: 'heartbeat', period: '20261124101704', run: 1 })).toBe(
      'heartbeat-20261124101704',
    );
    expect(queueJobIdOf({ job: 'invoicing', period: '2026-11-30', run: 3 })).toBe(
      'invoicing-2026-11-30-run3',
    );
    expect(isPeriodSeconds(7)).toBe(false);
    expect(isPeriodSeconds(3600)).toBe(true);
  });
});

describe('period bounds, steps and checks', () => {
  it('a business day in Shanghai runs from 16:00 UTC the day before', () => {
    expect(periodBounds('day', '2026-11-30', SH)).toEqual({
      start: at('2026-11-29T16:00:00Z'),
      end: at('2026-11-30T16:00:00Z'),
    });
    expect(periodBounds('month', '2026-12', SH)).toEqual({
      start: at('2026-11-30T16:00:00Z'),
      end: at('2026-12-31T16:00:00Z'),
    });
  });

  it('a day the clocks go back on is 25 hours long', () => {
    const { start, end } = periodBounds('day', '2026-10-25', 'Europe/Berlin');
    expect(start).toEqual(at('2026-10-24T22:00:00Z'));
    expect(end.getTime() - start.getTime()).toBe(25 * 3600_000);
    expect(zonedInstant('Europe/Berlin', 2026, 3, 29, 12)).toEqual(at('2026-03-29T10:00:00Z'));
  });

  it('steps over month ends and leap days', () => {
    expect(shiftPeriod('day', '2028-03-01', -1)).toBe('2028-02-29');
    expect(shiftPeriod('day', '2026-12-31', 1)).toBe('2027-01-01');
    expect(shiftPeriod('month', '2026-01', -1)).toBe('2025-12');
    expect(shiftPeriod({ seconds: 2 }, '20261124101700', -1)).toBe('20261124101658');
  });

  it('names what is wrong with a period a person typed', () => {
    expect(periodProblem('day', '2026-11-30')).toBeNull();
    expect(periodProblem('day', '2026-02-30')).toMatch(/calendar date/);
    expect(periodProblem('day', '2026-11')).toMatch(/YYYY-MM-DD/);
    expect(periodProblem('day', '../../etc')).toMatch(/YYYY-MM-DD/);
    expect(periodProblem('month', '2026-13')).toMatch(/not a month/);
    expect(periodProblem('month', '2026-11')).toBeNull();
    expect(periodProblem({ seconds: 2 }, '20261124101705')).toMatch(/start of a 2-second period/);
    expect(periodProblem({ seconds: 3600 }, '202611241000')).toBeNull();
  });

  it('a period covered once it is over can run once it has ended, in the business time zone', () => {
    // 2026-11-30 ends at 16:00 UTC in Shanghai.
    expect(periodRunnable({ period: 'day' }, '2026-11-30', SH, at('2026-11-30T15:59:59Z'))).toBe(false);
    expect(periodRunnable({ period: 'day' }, '2026-11-30', SH, at('2026-11-30T16:00:00Z'))).toBe(true);
    expect(
      periodRunnable({ period: 'day', covers: 'current' }, '2026-11-30', SH, at('2026-11-29T16:00:00Z')),
    ).toBe(true);
    expect(coveringTicksFrom({ period: 'month' }, '2026-11', SH)).toEqual(at('2026-11-30T16:00:00Z'));
  });
});

describe('cron ticks in the business time zone', () => {
  it('finds the first tick of a nightly schedule at or after an instant', () => {
    // 01:00 in Shanghai is 17:00 UTC the day before.
    expect(firstTick('0 1 * * *', SH, at('2026-11-30T16:00:00Z'), at('2026-12-02T00:00:00Z'))).toEqual(
      at('2026-11-30T17:00:00Z'),
    );
    expect(firstTick('0 1 * * *', SH, at('2026-11-30T17:00:00Z'), at('2026-12-02T00:00:00Z'))).toEqual(
      at('2026-11-30T17:00:00Z'),
    );
    expect(firstTick('0 1 * * *', SH, at('2026-11-30T17:00:01Z'), at('2026-12-01T16:59:59Z'))).toBeNull();
    // A monthly schedule on the 1st at 02:00.
    expect(firstTick('0 2 1 * *', SH, at('2026-11-02T00:00:00Z'), at('2027-01-01T00:00:00Z'))).toEqual(
      at('2026-11-30T18:00:00Z'),
    );
    expect(nextTick('*/2 * * * * *', 'UTC', at('2026-11-24T10:17:05Z'))).toEqual(at('2026-11-24T10:17:06Z'));
    expect(nextTick('17 * * * *', SH, at('2026-11-24T10:17:00Z'))).toEqual(at('2026-11-24T11:17:00Z'));
  });

  it('every registered job has a valid schedule, a name fit for a job id, and a known period', () => {
    for (const job of scheduledJobs({ heartbeatSeconds: 2 })) {
      expect(validSchedule(job.schedule), job.name).toBe(true);
      expect(job.name).toMatch(/^[a-z0-9-]+$/);
      if (typeof job.period === 'object') expect(isPeriodSeconds(job.period.seconds), job.name).toBe(true);
    }
    expect(new Set(SCHEDULED_JOBS.map((j) => j.name)).size).toBe(SCHEDULED_JOBS.length);
  });
});
