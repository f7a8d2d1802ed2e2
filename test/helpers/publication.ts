import { getConnector } from '../../connectors/registry.js';
import { quantitiesFor } from '../../src/channels/stock-push.js';
import type { Conn } from '../../src/db/connection.js';

/**
 * The publication invariant, for when the system has gone quiet: every mapped (channel, SKU) of an
 * enabled, working channel that takes stock has been told exactly what the formula gives now.
 * Pairs the channel refused (they carry its reason) are left out. Returns every violation found.
 */
export async function checkPublished(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  const channels = await db('channels')
    .where({ enabled: true })
    .whereNull('failing_reason')
    .select('id', 'type');
  for (const ch of channels) {
    if (!getConnector(String(ch.type)).manifest.capabilities.includes('stockPush')) continue;
    const rows = await db('channel_skus').where({ channel_id: ch.id }).whereNull('last_push_error');
    const rules = rows.map((r) => ({
      sku: String(r.sku_code),
      rule: {
        ...(r.safety_stock !== null ? { safetyStock: Number(r.safety_stock) } : {}),
        ...(r.allocation_percent !== null ? { allocationPercent: Number(r.allocation_percent) } : {}),
        ...(r.max_quantity !== null ? { maxQuantity: Number(r.max_quantity) } : {}),
      },
    }));
    const expected = await quantitiesFor(db, Number(ch.id), rules);
    for (const r of rows) {
      const want = expected.get(String(r.sku_code));
      const got = r.published_qty === null ? null : Number(r.published_qty);
      if (got !== want)
        problems.push(`channel ${ch.id} ${r.sku_code}: published ${got}, formula says ${want}`);
    }
  }
  return problems;
}
