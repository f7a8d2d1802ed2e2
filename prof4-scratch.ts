import { Registry } from 'prom-client';
import { exposition } from './src/metrics-exposition.js';
import { ordersReceived, ordersProcessed, ordersHeld } from './src/metrics.js';
for (let i = 0; i < 1250; i++) { const channel = `shopify:${i}`;
  for (const outcome of ['created', 'duplicate']) ordersReceived.inc({ channel, outcome }, i + 1);
  for (const outcome of ['confirmed', 'partially_reserved', 'backordered', 'on_hold']) ordersProcessed.inc({ channel, outcome }, i + 1);
  for (const reason of ['unknown_sku', 'unmapped_sku']) ordersHeld.inc({ channel, reason }); }
const own = new Registry();
for (const m of [ordersReceived, ordersProcessed, ordersHeld]) own.registerMetric(m as never);
const t = async (name: string, f: () => unknown) => { const ts: number[] = [];
  for (let i = 0; i < 100; i++) { const s = performance.now(); await f(); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b); console.log(name.padEnd(30), ts[50]!.toFixed(2), ts[95]!.toFixed(2)); };
await t('exposition', () => exposition(own));
const s = await exposition(own);
const pieces = s.match(/[^]{1,20000}/g)!;
await t('join 40 flat pieces', () => pieces.join(''));
await t('Buffer.byteLength', () => Buffer.byteLength(s));
await t('exposition', () => exposition(own));
const bufs = pieces.map((p) => Buffer.from(p));
await t('Buffer.concat 40', () => Buffer.concat(bufs));
await t('Buffer.allocUnsafe 800K', () => Buffer.allocUnsafe(s.length));
await t('join 40 flat pieces', () => pieces.join(''));
await t('new Array join 2', () => [s, 'x'].join(''));
await t('Buffer.from(s)', () => Buffer.from(s));
