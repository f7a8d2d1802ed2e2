import { readSheetRows, type SheetRecord } from '../../connectors/excel-inbox/parse.js';
import type { OrderFileInput } from '../../connectors/excel-inbox/types.js';
import { withTransaction } from '../db/retry.js';
import { codeKey } from '../domain/codes.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/domain-errors.js';
import { codeParam } from '../http/params.js';
import { skuMappingBody } from '../http/routes/channel-schemas.js';
import { type ColumnSpec, type SheetKind, sheetCells } from '../stock/catalogue-sheet.js';
import { type ChannelContext, getChannel } from './channel-context.js';
import { type SkuMappingInput, setMapping } from './sku-mappings.js';

/**
 * SKU mappings from a sheet (.xlsx, or .csv in UTF-8 or GB18030): one row per SKU of ours with the
 * channel's ids for it, each row set as `PUT /api/channels/{id}/skus/{sku}` sets one. All or
 * nothing: a sheet with any bad row changes nothing, and every bad row is reported with its reason.
 */

export const SKU_MAPPING_COLUMNS = [
  {
    field: 'sku',
    label: 'SKU / 货号',
    required: true,
    aliases: [
      'sku',
      'our sku',
      'sku code',
      'our sku code',
      'code',
      '货号',
      '我方货号',
      '商品编码',
      'sku编码',
    ],
  },
  {
    field: 'variantId',
    label: 'Variant id / 规格 ID',
    required: false,
    aliases: ['variant id', 'variant', 'variantid', 'variation id', '规格id', '规格 id', '变体id', 'sku id'],
  },
  {
    field: 'productId',
    label: 'Product id / 商品 ID',
    required: false,
    aliases: ['product id', 'product', 'productid', '商品id', '商品 id'],
  },
  {
    field: 'inventoryItemId',
    label: 'Inventory item id / 库存项 ID',
    required: false,
    aliases: ['inventory item id', 'inventory item', 'inventoryitemid', '库存项id', '库存项 id'],
  },
  {
    field: 'channelSku',
    label: 'Channel SKU / 渠道货号',
    required: false,
    aliases: ['channel sku', 'channelsku', 'shop sku', '渠道货号', '渠道sku', '店铺货号', '平台货号'],
  },
] as const satisfies readonly ColumnSpec<string>[];

export interface MappingSheetRow {
  row: number;
  sku: string;
  mapping?: SkuMappingInput;
  problems: string[];
}

export interface MappingSheetImport {
  fileName: string;
  /** Rows applied (every data row of the sheet). */
  rows: number;
}

/** A bad sheet: nothing was changed; `details.rows` names every bad row and why. */
function rejected(message: string, rows: { row: number; reason: string }[]) {
  return new ValidationError('invalid_sheet', message, { rows });
}

async function readMappingSheet(rows: AsyncIterable<SheetRecord>, kind: SheetKind) {
  const sheet = await sheetCells(rows, SKU_MAPPING_COLUMNS, kind, []);
  return sheet.map(({ row, cells, problems }): MappingSheetRow => {
    const sku = codeParam.safeParse(cells.sku);
    if (!sku.success)
      problems.push(
        cells.sku === ''
          ? 'SKU is missing / 缺少货号'
          : `SKU "${cells.sku}" may hold only letters, digits and . _ - / 货号只能包含字母、数字和 . _ -`,
      );
    const blankToNull = (v: string) => (v === '' ? null : v);
    const body = skuMappingBody.safeParse({
      productId: blankToNull(cells.productId),
      variantId: blankToNull(cells.variantId),
      inventoryItemId: blankToNull(cells.inventoryItemId),
      channelSku: blankToNull(cells.channelSku),
    });
    if (!body.success)
      for (const issue of body.error.issues) {
        const field = String(issue.path[0] ?? '');
        const label = SKU_MAPPING_COLUMNS.find((c) => c.field === field)?.label;
        problems.push(
          label
            ? `${label}: ${issue.message}`
            : `give a variant id, product id or inventory item id / 请填写规格 ID、商品 ID 或库存项 ID`,
        );
      }
    return {
      row,
      sku: cells.sku,
      problems,
      ...(problems.length === 0 && body.success ? { mapping: body.data } : {}),
    };
  });
}

/** Rows that name the same SKU or the same channel item as an earlier row. */
function duplicates(rows: MappingSheetRow[]) {
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (!r.mapping) continue;
    const keys = [
      [`sku:${codeKey(r.sku)}`, `SKU ${r.sku} / 货号 ${r.sku}`],
      ...(['variantId', 'inventoryItemId'] as const)
        .filter((k) => r.mapping![k])
        .map((k) => [`${k}:${r.mapping![k]}`, `${k} ${r.mapping![k]}`]),
      ...(r.mapping.productId && !r.mapping.variantId
        ? [[`productId:${r.mapping.productId}`, `productId ${r.mapping.productId}`]]
        : []),
    ] as [string, string][];
    for (const [key, what] of keys) {
      const first = seen.get(key);
      if (first !== undefined) r.problems.push(`${what} is also on row ${first} / 与第 ${first} 行重复`);
      else seen.set(key, r.row);
    }
  }
}

/**
 * Sets the channel's SKU mappings from a sheet. Every row is checked first (its SKU code is ours,
 * it names a channel item, no two rows name the same SKU or item); then all rows are set in one
 * transaction with `setMapping`, so a row the database refuses (an item mapped to another SKU)
 * undoes the rest. NotFoundError for an unknown channel; ValidationError `invalid_sheet` with every
 * bad row (`details.rows`: `{row, reason}`) when anything is wrong — and then nothing is changed.
 */
export async function importSkuMappings(
  ctx: ChannelContext,
  channelId: number,
  input: OrderFileInput,
): Promise<MappingSheetImport> {
  await getChannel(ctx, channelId);
  const read = await readSheetRows(input, (rows, kind) => readMappingSheet(rows, kind));
  if ('error' in read) throw rejected(`${read.error}; nothing was changed / 未做任何更改`, []);
  const rows = read.value;
  duplicates(rows);
  // Our SKU codes in any letter case, each to the spelling it was created with.
  const codes = [...new Set(rows.filter((r) => r.mapping).map((r) => r.sku))];
  const ours = new Map<string, string>();
  for (let i = 0; i < codes.length; i += 500) {
    const found = await ctx
      .db('skus')
      .whereIn('code', codes.slice(i, i + 500))
      .select('code');
    for (const f of found) ours.set(codeKey(String(f.code)), String(f.code));
  }
  for (const r of rows) {
    if (!r.mapping) continue;
    const code = ours.get(codeKey(r.sku));
    if (code === undefined) r.problems.push(`SKU ${r.sku} is not one of ours / 货号 ${r.sku} 不存在`);
    else r.sku = code;
  }
  const bad = rows.filter((r) => r.problems.length > 0);
  if (bad.length > 0)
    throw rejected(
      `${bad.length} row(s) are not valid; nothing was changed / ${bad.length} 行无效，未做任何更改`,
      bad.map((r) => ({ row: r.row, reason: r.problems.join('; ') })),
    );
  let current: MappingSheetRow | undefined;
  try {
    await withTransaction(ctx.db, async (tx) => {
      // The pushes are asked for once, after the commit.
      const inTx: ChannelContext = { ...ctx, db: tx, requestPush: async () => {} };
      for (const r of rows) {
        current = r;
        await setMapping(inTx, channelId, r.sku, r.mapping!);
      }
    });
  } catch (err) {
    if ((err instanceof ConflictError || err instanceof NotFoundError) && current)
      throw rejected(
        `row ${current.row} is not valid; nothing was changed / 第 ${current.row} 行无效，未做任何更改`,
        [{ row: current.row, reason: err.message }],
      );
    throw err;
  }
  await ctx.requestPush(channelId);
  return { fileName: input.fileName, rows: rows.length };
}
