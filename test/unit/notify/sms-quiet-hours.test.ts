import { describe, expect, it } from 'vitest';
import { instantOfWallClock, quietUntil, wallClockAt } from '../../../src/notify/sms/quiet-hours.js';

const night = { start: '21:00', end: '08:00' };

describe('quiet hours in the recipient time zone', () => {
  it('defers a message inside a window spanning midnight to its end, the next local morning', () => {
    // 22:30 in Shanghai (UTC+8) -> 08:00 the next day, 00:00 UTC.
    expect(quietUntil(new Date('2026-12-01T14:30:00Z'), night, 'Asia/Shanghai')).toEqual(
      new Date('2026-12-02T00:00:00Z'),
    );
    // 03:00 in Shanghai -> 08:00 the same day.
    expect(quietUntil(new Date('2026-12-01T19:00:00Z'), night, 'Asia/Shanghai')).toEqual(
      new Date('2026-12-02T00:00:00Z'),
    );
  });

  it('lets a message outside the window through, with the edges: start is quiet, end is not', () => {
    expect(quietUntil(new Date('2026-12-01T04:00:00Z'), night, 'Asia/Shanghai')).toBeNull(); // 12:00
    expect(quietUntil(new Date('2026-12-01T13:00:00Z'), night, 'Asia/Shanghai')).toEqual(
      new Date('2026-12-02T00:00:00Z'),
    ); // 21:00
    expect(quietUntil(new Date('2026-12-01T00:00:00Z'), night, 'Asia/Shanghai')).toBeNull(); // 08:00
    expect(quietUntil(new Date('2026-12-01T12:59:00Z'), night, 'Asia/Shanghai')).toBeNull(); // 20:59
  });

  it('reads the same instant in different zones', () => {
    const at = new Date('2026-12-01T14:30:00Z');
    expect(quietUntil(at, night, 'Europe/London')).toBeNull(); // 14:30 in London
    expect(quietUntil(at, night, 'Asia/Shanghai')).not.toBeNull();
  });

  it('handles a window within one day, and an empty one', () => {
    const lunch = { start: '12:00', end: '13:30' };
    expect(quietUntil(new Date('2026-12-01T12:15:00Z'), lunch, 'UTC')).toEqual(
      new Date('2026-12-01T13:30:00Z'),
    );
    expect(quietUntil(new Date('2026-12-01T13:30:00Z'), lunch, 'UTC')).toBeNull();
    expect(quietUntil(new Date('2026-12-01T12:15:00Z'), { start: '12:00', end: '12:00' }, 'UTC')).toBeNull();
  });

  it('ends at 08:00 local time on the night clocks go forward (New York, 2026-03-08)', () => {
    // 23:00 EST on March 7 (04:00 UTC March 8); the window ends 08:00 EDT = 12:00 UTC, only 8 h later.
    const until = quietUntil(new Date('2026-03-08T04:00:00Z'), night, 'America/New_York');
    expect(until).toEqual(new Date('2026-03-08T12:00:00Z'));
    expect(wallClockAt(until!.getTime(), 'America/New_York')).toMatchObject({ hour: 8, minute: 0, day: 8 });
  });

  it('ends at 08:00 local time on the night clocks go back (Berlin, 2026-10-25)', () => {
    // 22:00 CEST on October 24 (20:00 UTC); 08:00 CET on October 25 is 07:00 UTC, 11 h later.
    const until = quietUntil(new Date('2026-10-24T20:00:00Z'), night, 'Europe/Berlin');
    expect(until).toEqual(new Date('2026-10-25T07:00:00Z'));
  });

  it('takes a window end that falls in the gap of a forward change to the same distance past the gap', () => {
    // 02:30 does not exist in New York on 2026-03-08 (02:00 EST -> 03:00 EDT): 03:30 EDT, 07:30 UTC.
    const quiet = { start: '01:00', end: '02:30' };
    expect(quietUntil(new Date('2026-03-08T06:10:00Z'), quiet, 'America/New_York')).toEqual(
      new Date('2026-03-08T07:30:00Z'),
    );
  });

  it('takes the first of a wall time that occurs twice', () => {
    // 01:30 happens twice in New York on 2026-11-01: first at 05:30 UTC (EDT), again at 06:30 UTC (EST).
    expect(
      instantOfWallClock({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, 'America/New_York'),
    ).toBe(Date.parse('2026-11-01T05:30:00Z'));
  });

  it('handles zones with half-hour offsets and none', () => {
    // 22:00 in Kolkata (UTC+5:30) -> 08:00 next day = 02:30 UTC.
    expect(quietUntil(new Date('2026-12-01T16:30:00Z'), night, 'Asia/Kolkata')).toEqual(
      new Date('2026-12-02T02:30:00Z'),
    );
    expect(quietUntil(new Date('2026-12-01T23:00:00Z'), night, 'UTC')).toEqual(
      new Date('2026-12-02T08:00:00Z'),
    );
  });
});
