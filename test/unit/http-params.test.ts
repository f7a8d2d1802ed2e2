import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { parseParam } from '../../src/http/errors.js';
import { decodeCursor, encodeCursor, nextCursor, readCursor } from '../../src/http/pagination.js';
import { idParam } from '../../src/http/params.js';

describe('idParam', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    ['007', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('takes %j as %d', (value, id) => {
    expect(parseParam(idParam, value, 'order id')).toBe(id);
  });

  it.each(['1e3', '0x10', '-1', '+1', '1.5', '0', '', ' 1', '1 ', 'abc', '9007199254740992', 'Infinity'])(
    'refuses %j with 400 invalid_parameter',
    (value) => {
      let caught: unknown;
      try {
        parseParam(idParam, value, 'order id');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ApiError);
      expect(caught).toMatchObject({ status: 400, code: 'invalid_parameter' });
    },
  );
});

describe('page cursors', () => {
  it('round-trip an id', () => {
    expect(decodeCursor(encodeCursor(123))).toBe(123);
    expect(nextCursor(123)).toBe(encodeCursor(123));
    expect(nextCursor(null)).toBeNull();
  });

  it('keep the format clients already hold', () => {
    expect(encodeCursor(5)).toBe(Buffer.from('{"id":5}').toString('base64url'));
  });

  it('start at the first page without a cursor and refuse one we did not give out', () => {
    expect(readCursor(undefined)).toBeNull();
    expect(readCursor('')).toBeNull();
    for (const bad of ['nonsense', encodeCursor(0), Buffer.from('{"id":"5"}').toString('base64url')]) {
      expect(() => readCursor(bad)).toThrow(ApiError);
    }
  });
});
