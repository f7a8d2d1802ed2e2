import { describe, expect, it } from 'vitest';
import shopify, { parseJsonKeepingBigIds } from '../../../connectors/shopify/index.js';
import { ORDER_LINES_QUERY, ORDERS_QUERY } from '../../../connectors/shopify/pull.js';
import { fixture } from './shopify-fixtures.js';

const load = (name: string) => parseJsonKeepingBigIds(fixture(name).toString('utf8')) as Record<string, any>;

describe('shopify: lines count what is current, not what was once ordered', () => {
  it('reads current_quantity from a webhook body: refunded lines are dropped, the rest keep their units', () => {
    // Shopify's documented order #1001 after its partial refund: every line has quantity 1.
    const order = shopify.normalizeOrder(load('order-450789469-partially-refunded.json'));
    expect(order.lines.map((l) => [l.channelSku, l.quantity, l.unitPrice])).toEqual([
      ['IPOD2008RED', 1, 19900],
    ]);
    expect(order.problems).toEqual([]);
  });

  it('a body without current_quantity (before API 2024-01) keeps the ordered quantity', () => {
    const order = shopify.normalizeOrder(load('orders-create.json'));
    const raw = load('orders-create.json');
    for (const l of raw.line_items) delete l.current_quantity;
    expect(shopify.normalizeOrder(raw).lines.map((l) => l.quantity)).toEqual(
      order.lines.map((l) => l.quantity),
    );
  });

  it('a line with quantity 0 and no current quantity is still reported as a bad line', () => {
    const order = shopify.normalizeOrder(load('orders-create-bad-line.json'));
    expect(order.problems.map((p) => p.code)).toContain('invalid_line');
  });

  it('reads currentQuantity from a pulled GraphQL node, and the pull asks for it', () => {
    const node = load('graphql-order-node.json');
    // One unit of the first line removed by an order edit, the second line removed entirely.
    node.lineItems.nodes[0].currentQuantity = 1;
    node.lineItems.nodes[1].currentQuantity = 0;
    const order = shopify.normalizeOrder(node);
    expect(order.lines.map((l) => [l.channelSku, l.quantity])).toEqual([['IPOD2008PINK', 1]]);
    for (const query of [ORDERS_QUERY, ORDER_LINES_QUERY]) expect(query).toMatch(/\bcurrentQuantity\b/);
  });
});
