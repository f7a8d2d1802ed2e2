import { describe, expect, it } from 'vitest';
import { orderIsDelivered, weighDeliveryReport } from '../../src/domain/delivery.js';

const NOW = '2026-12-01T12:00:00.000Z';
const none = { status: null, statusAt: null, deliveredAt: null };
const line = (
  o: Partial<{ reserved: number; backordered: number; shipped: number; cancelled: number }> = {},
) => ({
  ordered: 2,
  reserved: 0,
  backordered: 0,
  shipped: 2,
  cancelled: 0,
  ...o,
});

describe('weighDeliveryReport', () => {
  it.each([
    [
      'first report',
      none,
      { status: 'in_transit', delivered: false, happenedAt: '2026-11-30T08:00:00.000Z' },
      {
        change: true,
        next: { status: 'in_transit', statusAt: '2026-11-30T08:00:00.000Z', deliveredAt: null },
      },
    ],
    [
      'delivered',
      { status: 'in_transit', statusAt: '2026-11-30T08:00:00.000Z', deliveredAt: null },
      {
        status: 'delivered',
        delivered: true,
        happenedAt: '2026-11-30T10:00:00.000Z',
      },
      {
        change: true,
        next: {
          status: 'delivered',
          statusAt: '2026-11-30T10:00:00.000Z',
          deliveredAt: '2026-11-30T10:00:00.000Z',
        },
      },
    ],
    [
      'delivered without a time: now',
      none,
      { status: 'delivered', delivered: true, happenedAt: null },
      {
        change: true,
        next: { status: 'delivered', statusAt: NOW, deliveredAt: NOW },
      },
    ],
    [
      'delivered reported older than the status held: still delivered, the later time kept',
      {
        status: 'out_for_delivery',
        statusAt: '2026-11-30T12:00:00.000Z',
        deliveredAt: null,
      },
      { status: 'delivered', delivered: true, happenedAt: '2026-11-30T11:00:00.000Z' },
      {
        change: true,
        next: {
          status: 'delivered',
          statusAt: '2026-11-30T12:00:00.000Z',
          deliveredAt: '2026-11-30T11:00:00.000Z',
        },
      },
    ],
    [
      'after delivered: final',
      { status: 'delivered', statusAt: NOW, deliveredAt: NOW },
      {
        status: 'failure',
        delivered: false,
        happenedAt: '2026-12-02T00:00:00.000Z',
      },
      { change: false, why: 'already_delivered' },
    ],
    [
      'an older status',
      { status: 'out_for_delivery', statusAt: '2026-11-30T12:00:00.000Z', deliveredAt: null },
      {
        status: 'in_transit',
        delivered: false,
        happenedAt: '2026-11-30T08:00:00.000Z',
      },
      { change: false, why: 'older' },
    ],
    [
      'the same status',
      { status: 'in_transit', statusAt: '2026-11-30T08:00:00.000Z', deliveredAt: null },
      {
        status: 'in_transit',
        delivered: false,
        happenedAt: '2026-11-30T09:00:00.000Z',
      },
      { change: false, why: 'same' },
    ],
    [
      'no status',
      none,
      { status: '', delivered: false, happenedAt: null },
      { change: false, why: 'no_status' },
    ],
  ] as const)('%s', (_name, held, news, expected) => {
    expect(weighDeliveryReport(held, news, NOW)).toEqual(expected);
  });
});

describe('orderIsDelivered', () => {
  const delivered = { deliveredAt: NOW };
  const onTheWay = { deliveredAt: null };
  it('a shipped order whose every shipment is delivered', () => {
    expect(orderIsDelivered('shipped', [line()], [delivered, delivered])).toBe(true);
  });
  it('not with one of two shipments delivered', () => {
    expect(orderIsDelivered('shipped', [line()], [delivered, onTheWay])).toBe(false);
  });
  it('not while something is left to ship, whatever the status', () => {
    expect(orderIsDelivered('partially_shipped', [line({ shipped: 1, reserved: 1 })], [delivered])).toBe(
      false,
    );
    expect(orderIsDelivered('shipped', [line({ shipped: 1, backordered: 1 })], [delivered])).toBe(false);
  });
  it('not without shipments, nor from another status', () => {
    expect(orderIsDelivered('shipped', [line()], [])).toBe(false);
    expect(orderIsDelivered('completed', [line()], [delivered])).toBe(false);
    expect(orderIsDelivered('cancelled', [line()], [delivered])).toBe(false);
  });
  it('a line partly cancelled counts as done', () => {
    expect(orderIsDelivered('shipped', [line({ shipped: 1, cancelled: 1 })], [delivered])).toBe(true);
  });
});
