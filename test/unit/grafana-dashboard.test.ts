import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/metrics.js';

const dashboard = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8'),
) as { panels: { title: string; targets: { expr: string }[] }[] };

/** The names a query refers to (histograms through their _bucket/_count/_sum series). */
const namesIn = (expr: string) =>
  [...expr.matchAll(/\b((?:stockbridge|process|nodejs)_[a-z0-9_]+)/g)].map((m) =>
    m[1]!.replace(/_(bucket|count|sum)$/, ''),
  );

describe('the Grafana dashboard in docs/', () => {
  it('queries only metrics that the registry defines, and every stockbridge metric is on it', async () => {
    const defined = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => namesIn(t.expr))));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(defined, name).toContain(name);
    for (const name of defined) if (name.startsWith('stockbridge_')) expect(used, name).toContain(name);
  });
});
