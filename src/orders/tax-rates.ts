import { type Db, dbTime, forUpdate } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { notFound } from '../errors/domain-errors.js';

/** Most basis points a tax rate may have: 100 %. */
export const MAX_TAX_RATE_BP = 10_000;

export interface TaxRate {
  taxZone: string;
  taxClass: string;
  /** Basis points: 1300 is 13 %. */
  rateBasisPoints: number;
}

const toRate = (r: Record<string, unknown>): TaxRate => ({
  taxZone: String(r.tax_zone),
  taxClass: String(r.tax_class),
  rateBasisPoints: Number(r.rate_bp),
});

/** Every tax rate, by zone and class. */
export async function listTaxRates(db: Db): Promise<TaxRate[]> {
  const rows = await db('tax_rates').orderBy([{ column: 'tax_zone' }, { column: 'tax_class' }]);
  return rows.map(toRate);
}

/**
 * Sets the rate of a tax class in a tax zone (creating it, or changing it: the same PUT again
 * changes nothing). Orders already stored keep the tax they were given.
 */
export async function setTaxRate(
  db: Db,
  taxZone: string,
  taxClass: string,
  rateBasisPoints: number,
): Promise<{ created: boolean; rate: TaxRate }> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const where = { tax_zone: taxZone, tax_class: taxClass };
    const existing = await forUpdate(tx('tax_rates').where(where).select('tax_zone', 'tax_class'), tx);
    if (existing[0]) {
      await tx('tax_rates').where(where).update({ rate_bp: rateBasisPoints, updated_at: now });
      return { created: false, rate: toRate({ ...existing[0], rate_bp: rateBasisPoints }) };
    }
    await tx('tax_rates').insert({ ...where, rate_bp: rateBasisPoints, created_at: now, updated_at: now });
    return { created: true, rate: toRate({ ...where, rate_bp: rateBasisPoints }) };
  });
}

/** Removes a rate; a class without a rate in a zone is not taxed there. */
export async function deleteTaxRate(db: Db, taxZone: string, taxClass: string): Promise<void> {
  const n = await db('tax_rates').where({ tax_zone: taxZone, tax_class: taxClass }).delete();
  if (n === 0) throw notFound(`tax rate ${taxZone}/${taxClass}`);
}

/** Sets (or with null clears) a customer's tax zone. */
export async function setCustomerTaxZone(db: Db, code: string, taxZone: string | null): Promise<string> {
  const row = await db('customers').where({ code }).first('id', 'code');
  if (!row) throw notFound(`customer ${code}`);
  await db('customers').where({ id: row.id }).update({ tax_zone: taxZone, updated_at: dbTime() });
  return String(row.code);
}

export interface ChannelTax {
  taxZone?: string | null | undefined;
  pricesIncludeTax?: boolean | undefined;
}

/** Sets a channel's tax zone and whether its prices include tax; what is omitted stays. */
export async function setChannelTax(db: Db, channelId: number, tax: ChannelTax) {
  const change: Record<string, unknown> = { updated_at: dbTime() };
  if (tax.taxZone !== undefined) change.tax_zone = tax.taxZone;
  if (tax.pricesIncludeTax !== undefined) change.prices_include_tax = tax.pricesIncludeTax ? 1 : 0;
  if (!(await db('channels').where({ id: channelId }).first('id'))) throw notFound(`channel ${channelId}`);
  await db('channels').where({ id: channelId }).update(change);
  return { id: channelId, ...(await channelTax(db, channelId)) };
}

/** A channel's tax settings as stored. */
export async function channelTax(db: Db, channelId: number) {
  const row = await db('channels').where({ id: channelId }).first('tax_zone', 'prices_include_tax');
  if (!row) throw notFound(`channel ${channelId}`);
  return {
    taxZone: (row.tax_zone as string | null) ?? null,
    pricesIncludeTax: Boolean(Number(row.prices_include_tax)),
  };
}
