import { describe, expect, it } from 'vitest';
import {
  canTransition,
  fulfilmentStatus,
  OPEN_STATUSES,
  ORDER_STATUSES,
} from '../../src/domain/order-status.js';

const line = (
  ordered: number,
  reserved: number,
  backordered: number,
  shipped: number,
  cancelled: number,
) => ({ ordered, reserved, backordered, shipped, cancelled });

describe('order state machine', () => {
  it.each([
    ['received', 'confirmed', true],
    ['received', 'backordered', true],
    ['received', 'on_hold', true],
    ['on_hold', 'received', true],
    ['backordered', 'confirmed', true],
    ['confirmed', 'partially_shipped', true],
    ['partially_shipped', 'shipped', true],
    ['shipped', 'delivered', true],
    ['delivered', 'completed', true],
    ['confirmed', 'delivered', false],
    ['received', 'shipped', false],
    ['shipped', 'cancelled', false],
    ['cancelled', 'received', false],
    ['completed', 'cancelled', false],
    ['rejected', 'received', false],
    ['confirmed', 'on_hold', false],
  ] as const)('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('lets every open order be cancelled and no closed one', () => {
    for (const s of ORDER_STATUSES) expect(canTransition(s, 'cancelled')).toBe(OPEN_STATUSES.includes(s));
  });

  it('never allows a transition to the same status', () => {
    for (const s of ORDER_STATUSES) expect(canTransition(s, s)).toBe(false);
  });
});

describe('fulfilmentStatus', () => {
  it.each([
    [[line(2, 2, 0, 0, 0)], 'confirmed'],
    [[line(2, 1, 1, 0, 0)], 'backordered'],
    [[line(2, 2, 0, 0, 0), line(1, 0, 1, 0, 0)], 'backordered'],
    [[line(2, 1, 0, 1, 0)], 'partially_shipped'],
    [[line(2, 0, 1, 1, 0)], 'partially_shipped'],
    [[line(2, 0, 0, 2, 0), line(1, 0, 0, 0, 1)], 'shipped'],
    [[line(2, 0, 0, 0, 2)], 'cancelled'],
  ] as const)('%j -> %s', (lines, status) => {
    expect(fulfilmentStatus(lines)).toBe(status);
  });
});
