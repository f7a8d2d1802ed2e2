import type { Context } from 'hono';
import { z } from 'zod';
import type { ResultColumn } from '../../../connectors/excel-inbox/result-sheets.js';
import { resultFileName } from '../../../connectors/excel-inbox/result-workbook.js';
import type { Db } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { ApiError } from '../../errors/api-error.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import {
  type CatalogueImport,
  type CatalogueRowResult,
  importOpeningStockSheet,
  importSkuSheet,
} from '../../stock/catalogue-import.js';
import {
  catalogueResultWorkbook,
  countStatuses,
  SKU_RESULT_COLUMNS,
  STOCK_RESULT_COLUMNS,
} from '../../stock/catalogue-result-workbook.js';
import type { AppEnv } from '../env.js';
import { parseParam } from '../errors.js';
import { errorBodySchema, newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam } from '../params.js';
import { readUpload, uploadLimit, XLSX_TYPE } from '../upload.js';

/** The paths of the sheet uploads; they have the upload body limit instead of the API's. */
export const CATALOGUE_IMPORT_PATHS = ['/api/skus/import', '/api/stock/import'] as const;

const SHEET = { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' };

/**
 * `POST /api/skus/import` and `POST /api/stock/import` (multipart/form-data: `file`; optional
 * `currency`, resp. `warehouse`, for rows that leave it out): the catalogue sheets, answered with
 * the outcome of every row as JSON, or as the result workbook with `?format=xlsx`. 422 only when the
 * file as a whole cannot be read; rows that fail are listed with their reason, the others stored.
 */
export function catalogueImportRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Catalogue', entity: 'sku', db });
  app.use('/skus/import', uploadLimit());
  app.use('/stock/import', uploadLimit());

  route(
    {
      method: 'post',
      path: '/skus/import',
      access: 'operate',
      operationId: 'importSkuSheet',
      summary: 'Import a sheet of SKUs (code, name, unit price, currency, reorder point)',
      description: SHEET_DESCRIPTION,
      query: formatQuery,
      upload: {
        contentTypes: ['multipart/form-data'],
        description: '`file`: the sheet (.xlsx or .csv); optional `currency` for rows that name none',
      },
      responses: {
        200: { description: ROWS_DESCRIPTION, schema: sheetAnswer(skuRow).meta({ id: 'SkuSheetImport' }) },
        422: { description: UNREADABLE_DESCRIPTION, schema: errorBodySchema },
      },
      errors: [415],
    },
    (c) =>
      sheetImport(c, 'skus.csv', SKU_RESULT_COLUMNS, async (input, fields) => {
        const defaultCurrency = fields.currency
          ? parseParam(currencySchema, fields.currency, 'currency')
          : undefined;
        return importSkuSheet(db, input, { defaultCurrency });
      }),
  );

  route(
    {
      method: 'post',
      path: '/stock/import',
      access: 'operate',
      operationId: 'importOpeningStockSheet',
      summary: 'Import a sheet of opening stock (SKU, warehouse, quantity): each row a receipt',
      description: SHEET_DESCRIPTION,
      query: formatQuery,
      upload: {
        contentTypes: ['multipart/form-data'],
        description: '`file`: the sheet (.xlsx or .csv); optional `warehouse` for rows that name none',
      },
      responses: {
        200: {
          description: ROWS_DESCRIPTION,
          schema: sheetAnswer(stockRow).meta({ id: 'OpeningStockSheetImport' }),
        },
        422: { description: UNREADABLE_DESCRIPTION, schema: errorBodySchema },
      },
      errors: [415],
      audit: { entity: 'stock' },
    },
    (c) =>
      sheetImport(c, 'stock.csv', STOCK_RESULT_COLUMNS, async (input, fields) => {
        const defaultWarehouse = fields.warehouse
          ? parseParam(codeParam, fields.warehouse, 'warehouse')
          : undefined;
        return importOpeningStockSheet(db, input, { defaultWarehouse });
      }),
  );

  return app;
}

const SHEET_DESCRIPTION =
  'Rows that fail are listed with their reason, the others stored; the same sheet again changes nothing. With `?format=xlsx` the answer is the result workbook.';
const ROWS_DESCRIPTION = 'Every row with its outcome (or, with `?format=xlsx`, the result workbook)';
const UNREADABLE_DESCRIPTION =
  'The file as a whole cannot be read (unreadable, empty, missing columns, too many rows): nothing was stored. With `?format=xlsx` the result workbook says why; else an error (`invalid_file`, or `validation_failed` without a file).';

const formatQuery = z.object({
  format: z.string().optional().describe('`xlsx`: answer with the result workbook instead of JSON'),
});

const rowStatus = z.enum(['created', 'updated', 'unchanged', 'recorded', 'rejected']);

const rowFields = {
  row: z.number().int().describe('the sheet row number'),
  status: rowStatus,
  reason: z.string().optional().describe('why a row was refused, in English and Chinese'),
};

const skuRow = z.object({
  ...rowFields,
  sku: z.string(),
  name: z.string(),
  unitPrice: z.string().describe('the cell as written'),
  currency: z.string(),
  reorderPoint: z.string(),
});

const stockRow = z.object({
  ...rowFields,
  sku: z.string(),
  warehouse: z.string(),
  quantity: z.string().describe('the cell as written'),
  documentId: z.number().int().optional().describe('the receipt the opening stock was recorded as'),
});

const sheetAnswer = <R extends z.ZodType>(row: R) =>
  z.object({
    summary: z.object({
      fileName: z.string(),
      rows: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      recorded: z.number().int(),
      rejected: z.number().int(),
    }),
    rows: z.array(row),
  });

/**
 * One sheet upload: reads the form, runs the import and answers with every row's outcome as JSON,
 * or as the result workbook with `?format=xlsx` (named after the upload, safely).
 */
async function sheetImport<R extends CatalogueRowResult>(
  c: Context<AppEnv>,
  defaultName: string,
  columns: readonly ResultColumn<R>[],
  run: (
    input: { fileName: string; data: Buffer },
    fields: Record<string, string>,
  ) => Promise<CatalogueImport<R>>,
) {
  const { file, fields } = await readUpload(c, SHEET);
  const fileName = file.name || defaultName;
  const result = await run({ fileName, data: Buffer.from(await file.arrayBuffer()) }, fields);
  if (c.req.query('format') === 'xlsx') {
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Disposition', attachmentDisposition(resultFileName(fileName)));
    return c.body(new Uint8Array(await catalogueResultWorkbook(result, columns)), result.error ? 422 : 200);
  }
  return c.json(answer(result));
}

/** The JSON answer: a file that cannot be read is a 422 error saying why; otherwise every row's outcome. */
function answer(result: CatalogueImport<CatalogueRowResult>) {
  if (result.error) throw new ApiError(422, 'invalid_file', result.error, { fileName: result.fileName });
  return {
    summary: { fileName: result.fileName, rows: result.rows.length, ...countStatuses(result.rows) },
    rows: result.rows,
  };
}
