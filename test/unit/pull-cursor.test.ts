import { describe, expect, it } from 'vitest';
import { laterCursor, pullStart } from '../../src/channels/pull.js';

describe('pull cursors', () => {
  it('start the overlap window before the stored cursor, in UTC', () => {
    expect(pullStart('2026-11-24T10:00:00.000Z', 600)).toBe('2026-11-24T09:50:00.000Z');
    // An offset is an instant like any other: 03:05 +01:00 is 02:05 UTC.
    expect(pullStart('2026-10-25T03:05:00+01:00', 600)).toBe('2026-10-25T01:55:00.000Z');
    expect(pullStart(null, 600)).toBeNull();
    expect(pullStart('opaque-token', 600)).toBe('opaque-token');
    expect(pullStart('2026-11-24T10:00:00Z', -5)).toBe('2026-11-24T10:00:00.000Z');
  });

  it('never store a cursor earlier than the one the pull started from', () => {
    expect(laterCursor('2026-11-24T10:00:00.000Z', '2026-11-24T09:50:00.000Z')).toBe(
      '2026-11-24T10:00:00.000Z',
    );
    expect(laterCursor('2026-11-24T10:00:00.000Z', '2026-11-24T11:00:00+02:00')).toBe(
      '2026-11-24T10:00:00.000Z',
    );
    expect(laterCursor('2026-11-24T10:00:00.000Z', '2026-11-24T10:00:01Z')).toBe('2026-11-24T10:00:01.000Z');
    expect(laterCursor(null, '2026-11-24T10:00:00Z')).toBe('2026-11-24T10:00:00Z');
    expect(laterCursor('a', null)).toBe('a');
    expect(laterCursor('token-1', 'token-2')).toBe('token-2');
  });
});
