import { z } from 'zod';
import { type Conn, type Db, dbTime, dialectOf, isoTime } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { formatRate, parseRate } from '../domain/credit.js';
import { currencySchema } from '../domain/order-input.js';
import { unprocessable } from '../errors/domain-errors.js';

/**
 * The dated exchange rates finance maintains (`/api/exchange-rates`). A rate says how many units
 * of `to` one unit of `from` is worth, from its date on (until the next date of the same pair);
 * it is an exact decimal string with at most 8 decimals, stored as the integer rate × 10^8.
 * Credit control converts at the rate in force on the business date an order is booked
 * (src/domain/credit.ts `convert`: the direct pair, else the inverse of the opposite pair; one
 * rounding, half away from zero, to the target currency's minor unit).
 */

const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'must be a real date',
  );

const rateText = z
  .string()
  .refine(
    (s) => parseRate(s) !== null,
    'must be a decimal string > 0 with at most 8 decimals, e.g. "7.8123"',
  );

export const MAX_RATES_PER_REQUEST = 1000;

export const exchangeRatesBody = z
  .object({
    rates: z
      .array(
        z
          .object({ from: currencySchema, to: currencySchema, date: dateSchema, rate: rateText })
          .strict()
          .refine((r) => r.from !== r.to, { path: ['to'], message: 'must differ from `from`' }),
      )
      .min(1)
      .max(MAX_RATES_PER_REQUEST),
  })
  .strict();

export const exchangeRatesQuery = z.object({
  from: currencySchema.optional(),
  to: currencySchema.optional(),
  /** The rates in force on this date (the latest dated on or before it, per pair). */
  date: dateSchema.optional(),
});

export interface RateView {
  from: string;
  to: string;
  date: string;
  rate: string;
  updatedBy: string;
  updatedAt: string;
}

const view = (r: Record<string, unknown>): RateView => ({
  from: String(r.from_currency),
  to: String(r.to_currency),
  date: String(r.valid_on),
  rate: formatRate(BigInt(String(r.rate_scaled))),
  updatedBy: String(r.updated_by),
  updatedAt: isoTime(String(r.updated_at)) as string,
});

/** Creates or replaces rates (one per pair and date); all or nothing. Returns them as stored. */
export async function putExchangeRates(
  db: Db,
  body: z.output<typeof exchangeRatesBody>,
  actor: string,
): Promise<RateView[]> {
  const seen = new Set<string>();
  for (const [i, r] of body.rates.entries()) {
    const key = `${r.from}>${r.to}@${r.date}`;
    if (seen.has(key))
      throw unprocessable('duplicate_rate', `rates[${i}]: ${r.from}→${r.to} on ${r.date} is given twice`, {
        index: i,
      });
    seen.add(key);
  }
  const now = dbTime();
  await withTransaction(db, async (tx) => {
    const mysql = dialectOf(tx) === 'mysql';
    for (const r of body.rates) {
      const scaled = parseRate(r.rate)!.toString();
      await tx.raw(
        'INSERT INTO exchange_rates (from_currency, to_currency, valid_on, rate_scaled, updated_by, created_at, updated_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          (mysql
            ? 'ON DUPLICATE KEY UPDATE rate_scaled = VALUES(rate_scaled), updated_by = VALUES(updated_by), updated_at = VALUES(updated_at)'
            : 'ON CONFLICT (from_currency, to_currency, valid_on) DO UPDATE SET rate_scaled = excluded.rate_scaled, ' +
              'updated_by = excluded.updated_by, updated_at = excluded.updated_at'),
        [r.from, r.to, r.date, scaled, actor.slice(0, 64), now, now],
      );
    }
  });
  const rows = await db('exchange_rates')
    .whereIn(
      ['from_currency', 'to_currency', 'valid_on'],
      body.rates.map((r) => [r.from, r.to, r.date]),
    )
    .orderBy(['from_currency', 'to_currency', 'valid_on']);
  return rows.map(view);
}

/** Rates, by pair and date (newest first); with `date`, only the one in force that day per pair. */
export async function listExchangeRates(
  db: Conn,
  q: z.output<typeof exchangeRatesQuery>,
): Promise<RateView[]> {
  let query = db('exchange_rates as r');
  if (q.from) query = query.where('r.from_currency', q.from);
  if (q.to) query = query.where('r.to_currency', q.to);
  if (q.date) {
    query = query.whereRaw(
      'r.valid_on = (SELECT MAX(r2.valid_on) FROM exchange_rates r2 WHERE r2.from_currency = r.from_currency ' +
        'AND r2.to_currency = r.to_currency AND r2.valid_on <= ?)',
      [q.date],
    );
  }
  const rows = await query
    .orderBy([
      { column: 'r.from_currency' },
      { column: 'r.to_currency' },
      { column: 'r.valid_on', order: 'desc' },
    ])
    .limit(5000)
    .select('r.*');
  return rows.map(view);
}
