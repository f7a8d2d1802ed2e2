import { Hono } from 'hono';
import { resultFileName } from '../../../connectors/excel-inbox/result-workbook.js';
import type { Db } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { ApiError } from '../../errors/api-error.js';
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
  const app = new Hono<AppEnv>();

  app.post('/skus/import', uploadLimit(), async (c) => {
    const { file, fields } = await readUpload(c, SHEET);
    const defaultCurrency = fields.currency
      ? parseParam(currencySchema, fields.currency, 'currency')
      : undefined;
    const fileName = file.name || 'skus.csv';
    const result = await importSkuSheet(
      db,
      { fileName, data: Buffer.from(await file.arrayBuffer()) },
      { defaultCurrency },
    );
    if (c.req.query('format') === 'xlsx') {
      const status = result.error ? 422 : 200;
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', `attachment; filename="${resultFileName(fileName)}"`);
      return c.body(new Uint8Array(await catalogueResultWorkbook(result, SKU_RESULT_COLUMNS)), status);
    }
    return c.json(answer(result));
  });

  app.post('/stock/import', uploadLimit(), async (c) => {
    const { file, fields } = await readUpload(c, SHEET);
    const defaultWarehouse = fields.warehouse
      ? parseParam(codeParam, fields.warehouse, 'warehouse')
      : undefined;
    const fileName = file.name || 'stock.csv';
    const result = await importOpeningStockSheet(
      db,
      { fileName, data: Buffer.from(await file.arrayBuffer()) },
      { defaultWarehouse },
    );
    if (c.req.query('format') === 'xlsx') {
      const status = result.error ? 422 : 200;
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', `attachment; filename="${resultFileName(fileName)}"`);
      return c.body(new Uint8Array(await catalogueResultWorkbook(result, STOCK_RESULT_COLUMNS)), status);
    }
    return c.json(answer(result));
  });

  return app;
}

/** The JSON answer: a file that cannot be read is a 422 error saying why; otherwise every row's outcome. */
function answer(result: CatalogueImport<CatalogueRowResult>) {
  if (result.error) throw new ApiError(422, 'invalid_file', result.error, { fileName: result.fileName });
  return {
    summary: { fileName: result.fileName, rows: result.rows.length, ...countStatuses(result.rows) },
    rows: result.rows,
  };
}
