import { Counter, Registry } from 'prom-client';
import { exposition } from './src/metrics-exposition.js';
import { registry, ordersReceived, ordersProcessed, ordersHeld } from './src/metrics.js';
for (let i = 0; i < 1250; i++) { const channel = `shopify:${i}`;
  for (const outcome of ['created', 'duplicate']) ordersReceived.inc({ channel, outcome }, i + 1);
  for (const outcome of ['confirmed', 'partially_reserved', 'backordered', 'on_hold']) ordersProcessed.inc({ channel, outcome }, i + 1);
  for (const reason of ['unknown_sku', 'unmapped_sku']) ordersHeld.inc({ channel, reason }); }
const own = new Registry();
for (const m of [ordersReceived, ordersProcessed, ordersHeld]) own.registerMetric(m as never);
async function t(name: string, f: () => unknown) { const ts: number[] = [];
  for (let i = 0; i < 60; i++) { const s = performance.now(); await f(); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b); console.log(name, ts[30]!.toFixed(2), ts[57]!.toFixed(2)); }
await t('app registry exposition', () => exposition(registry));
await t('counters only exposition', () => exposition(own));
const defaults = new Registry();
for (const m of registry.getMetricsAsArray()) if (/^(process|nodejs)_/.test((m as any).name)) defaults.registerMetric(m as never);
await t('default metrics via exposition', () => exposition(defaults));
await t('default metrics via prom', () => defaults.metrics());
const map = (ordersProcessed as any).hashMap;
await t('for-in 5000 keys', () => { let n = 0; for (const k in map) n += k.length; return n; });
await t('Object.keys 5000', () => Object.keys(map).length);
await t('Object.values 5000', () => Object.values(map).length);
await t('uptime', async () => 0);
