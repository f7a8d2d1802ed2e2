import { Registry } from 'prom-client';
import { exposition } from './src/metrics-exposition.js';
import { ordersReceived, ordersProcessed, ordersHeld } from './src/metrics.js';
for (let i = 0; i < 1250; i++) { const channel = `shopify:${i}`;
  for (const outcome of ['created', 'duplicate']) ordersReceived.inc({ channel, outcome }, i + 1);
  for (const outcome of ['confirmed', 'partially_reserved', 'backordered', 'on_hold']) ordersProcessed.inc({ channel, outcome }, i + 1);
  for (const reason of ['unknown_sku', 'unmapped_sku']) ordersHeld.inc({ channel, reason }); }
const own = new Registry();
for (const m of [ordersReceived, ordersProcessed, ordersHeld]) own.registerMetric(m as never);
for (let i = 0; i < 300; i++) await exposition(own);
