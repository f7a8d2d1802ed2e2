import { describe, expect, it } from 'vitest';
import { periodKey } from '../../src/scheduler.js';

describe('periodKey', () => {
  it('names the UTC minute by default', () => {
    expect(periodKey(new Date('2026-11-24T10:17:59.999Z'))).toBe('202611241017');
  });

  it('names the period of shorter jobs by its first second', () => {
    expect(periodKey(new Date('2026-11-24T10:17:04.000Z'), 2)).toBe('20261124101704');
    expect(periodKey(new Date('2026-11-24T10:17:05.999Z'), 2)).toBe('20261124101704');
    expect(periodKey(new Date('2026-11-24T10:17:59.000Z'), 15)).toBe('20261124101745');
  });
});
