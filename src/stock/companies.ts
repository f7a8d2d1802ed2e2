import { z } from 'zod';
import { type Conn, type Db, dbTime, forUpdate, isoTime } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { currencySchema, LIMITS, text } from '../domain/order-input.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';

/**
 * The group's companies (legal entities): they own warehouses; stock moving between warehouses of
 * two companies is an intra-group sale (`src/stock/transfers.ts`), priced from the receiving
 * company's transfer price list. A `PUT` of what is stored already writes nothing.
 */

export const COMPANIES = 'companies';

const optionalText = (max: number) => text().trim().min(1).max(max).nullable().default(null);

export const companyBodySchema = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  /** The name in Chinese for documents in zh-CN, when it differs. */
  nameZh: optionalText(LIMITS.nameLength),
  taxId: optionalText(64),
  address: optionalText(1000),
  phone: optionalText(64),
  email: optionalText(255),
  bankAccount: optionalText(255),
  currency: currencySchema,
  /** Code of the price list transfers to this company are priced at; null: none (a transfer must name one). */
  transferPriceList: z
    .string()
    .min(1)
    .max(LIMITS.codeLength)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only')
    .nullable()
    .default(null),
});

export type CompanyBody = z.output<typeof companyBodySchema>;

export interface CompanyView extends CompanyBody {
  code: string;
  /** Codes of the warehouses the company owns (its in-transit location not included). */
  warehouses: string[];
  createdAt: string | null;
  updatedAt: string | null;
}

type Row = Record<string, unknown>;
const orNull = (v: unknown) => (v === null || v === undefined ? null : String(v));

function viewOf(r: Row, warehouses: string[]): CompanyView {
  return {
    code: String(r.code),
    name: String(r.name),
    nameZh: orNull(r.name_zh),
    taxId: orNull(r.tax_id),
    address: orNull(r.address),
    phone: orNull(r.phone),
    email: orNull(r.email),
    bankAccount: orNull(r.bank_account),
    currency: String(r.currency),
    transferPriceList: orNull(r.price_list_code),
    warehouses,
    createdAt: isoTime(r.created_at as string | null),
    updatedAt: isoTime(r.updated_at as string | null),
  };
}

const companySelect = (db: Conn) =>
  db(`${COMPANIES} as co`)
    .leftJoin('price_lists as pl', 'pl.id', 'co.transfer_price_list_id')
    .select('co.*', 'pl.code as price_list_code');

async function warehousesOf(db: Conn, companyIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (companyIds.length === 0) return out;
  const rows = await db('warehouses')
    .whereIn('company_id', companyIds)
    .whereNot('kind', 'in_transit')
    .orderBy('code')
    .select('company_id', 'code');
  for (const r of rows) {
    const list = out.get(Number(r.company_id)) ?? [];
    list.push(String(r.code));
    out.set(Number(r.company_id), list);
  }
  return out;
}

export async function listCompanies(db: Conn): Promise<CompanyView[]> {
  const rows = await companySelect(db).orderBy('co.code');
  const owned = await warehousesOf(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => viewOf(r, owned.get(Number(r.id)) ?? []));
}

export async function companyDetail(db: Conn, code: string): Promise<CompanyView> {
  const row = await companySelect(db).where('co.code', code).first();
  if (!row) throw notFound(`company ${code}`);
  const owned = await warehousesOf(db, [Number(row.id)]);
  return viewOf(row, owned.get(Number(row.id)) ?? []);
}

/** Creates or updates a company by code, locking its row first; the same body again is `unchanged`. */
export async function upsertCompany(
  db: Db,
  code: string,
  body: CompanyBody,
): Promise<{ outcome: 'created' | 'updated' | 'unchanged'; company: CompanyView }> {
  const attempt = () =>
    withTransaction(db, async (tx) => {
      const now = dbTime();
      let priceListId: number | null = null;
      if (body.transferPriceList !== null) {
        const list = await tx('price_lists').where({ code: body.transferPriceList }).first('id');
        if (!list)
          throw unprocessable('unknown_price_list', `unknown price list ${body.transferPriceList}`, {
            priceList: body.transferPriceList,
          });
        priceListId = Number(list.id);
      }
      const columns = {
        name: body.name,
        name_zh: body.nameZh,
        tax_id: body.taxId,
        address: body.address,
        phone: body.phone,
        email: body.email,
        bank_account: body.bankAccount,
        currency: body.currency,
        transfer_price_list_id: priceListId,
      };
      const existing = await forUpdate(tx(COMPANIES).where({ code }), tx).first();
      if (!existing) {
        await tx(COMPANIES).insert({ code, ...columns, created_at: now, updated_at: now });
        return 'created' as const;
      }
      const same = Object.entries(columns).every(([k, v]) =>
        v === null
          ? existing[k] === null
          : k === 'transfer_price_list_id'
            ? Number(existing[k]) === v
            : existing[k] === v,
      );
      if (same) return 'unchanged' as const;
      await tx(COMPANIES)
        .where({ id: existing.id })
        .update({ ...columns, updated_at: now });
      return 'updated' as const;
    });
  let outcome: 'created' | 'updated' | 'unchanged';
  try {
    outcome = await attempt();
  } catch (err) {
    // Another request created the same code between our locking read and our insert.
    if (!isDuplicateKeyError(err)) throw err;
    outcome = await attempt();
  }
  return { outcome, company: await companyDetail(db, code) };
}

/** Deletes a company that owns no warehouse and was never party to a transfer (409 otherwise). */
export async function deleteCompany(db: Db, code: string): Promise<void> {
  await withTransaction(db, async (tx) => {
    const row = await forUpdate(tx(COMPANIES).where({ code }), tx).first('id');
    if (!row) throw notFound(`company ${code}`);
    const owned = await tx('warehouses')
      .where({ company_id: row.id })
      .whereNot('kind', 'in_transit')
      .first('code');
    if (owned)
      throw conflict(
        'company_in_use',
        `company ${code} owns warehouse ${owned.code}; give it another company first`,
        {
          warehouse: owned.code,
        },
      );
    const transfer = await tx('transfers')
      .where({ seller_company_id: row.id })
      .orWhere({ buyer_company_id: row.id })
      .first('ref');
    if (transfer)
      throw conflict('company_in_use', `company ${code} is party to transfer ${transfer.ref}`, {
        transfer: transfer.ref,
      });
    await tx('warehouses').where({ company_id: row.id, kind: 'in_transit' }).delete();
    await tx(COMPANIES).where({ id: row.id }).delete();
  });
}

/** The company id a code names (422 when none does), for a warehouse's owner. */
export async function companyIdOf(db: Conn, code: string): Promise<number> {
  const row = await db(COMPANIES).where({ code }).first('id');
  if (!row) throw unprocessable('unknown_company', `unknown company ${code}`, { company: code });
  return Number(row.id);
}
