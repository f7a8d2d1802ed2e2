import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bilingual } from '../../../connectors/excel-inbox/bilingual.js';
import { MAX_ORDER_FILE_BYTES } from '../../../connectors/excel-inbox/parse.js';
import { resultFileName, rowResult } from '../../../connectors/excel-inbox/result-workbook.js';
import type { Conn } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { attachmentDisposition, safeFileName } from '../../inbox/file-name.js';
import { importOrderFile } from '../../inbox/import-file.js';
import type { IntakeBatcher } from '../../orders/intake-batcher.js';
import type { AppEnv } from '../env.js';
import { errorResponse, parseParam } from '../errors.js';
import { readUpload, XLSX_TYPE } from '../upload.js';

/**
 * Order files may be larger than ordinary API bodies: the body may hold the largest order file the
 * reader takes (the inbox's limit too) and the multipart framing around it.
 */
const MAX_IMPORT_BYTES = MAX_ORDER_FILE_BYTES + 64 * 1024;

/**
 * `POST /api/orders/import` (multipart/form-data: `file`, optional `currency`): the same import the
 * inbox folder does, answered with the outcome of every order and row as JSON, or with the result
 * workbook itself when asked for `?format=xlsx`.
 */
export function importRoutes(db: Conn, intake: IntakeBatcher) {
  const app = new Hono<AppEnv>();
  app.post(
    '/orders/import',
    bodyLimit({
      maxSize: MAX_IMPORT_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          413,
          'payload_too_large',
          bilingual(
            `order files may be at most ${MAX_ORDER_FILE_BYTES} bytes`,
            `订单文件最大为 ${MAX_ORDER_FILE_BYTES} 字节`,
          ),
        ),
    }),
    async (c) => {
      const { file, fields } = await readUpload(c, { en: 'an .xlsx or .csv file', zh: '.xlsx 或 .csv 文件' });
      const currency = fields.currency ? parseParam(currencySchema, fields.currency, 'currency') : undefined;
      // The sender's name is only ever used as a base name: `../../x/a.csv` must not leave `dir`.
      const fileName = safeFileName(file.name);
      const asWorkbook = c.req.query('format') === 'xlsx';
      const dir = asWorkbook ? await mkdtemp(path.join(tmpdir(), 'sb-import-')) : null;
      try {
        const resultPath = dir ? path.join(dir, resultFileName(fileName)) : undefined;
        const { parsed, outcomes, summary } = await importOrderFile(
          db,
          intake,
          { fileName, data: Buffer.from(await file.arrayBuffer()) },
          { ...(currency ? { defaultCurrency: currency } : {}), ...(resultPath ? { resultPath } : {}) },
        );
        if (resultPath) {
          c.header('Content-Type', XLSX_TYPE);
          c.header('Content-Disposition', attachmentDisposition(path.basename(resultPath)));
          return c.body(new Uint8Array(await readFile(resultPath)), summary.error ? 422 : 200);
        }
        const rows = parsed.rows.map((r) => {
          const result = rowResult(r, outcomes);
          return {
            row: r.row,
            orderNo: r.orderNo,
            customer: r.customerCode,
            sku: r.sku,
            quantity: r.quantity,
            ...result,
          };
        });
        const orders = [...outcomes].map(([externalId, o]) => ({ externalId, ...o }));
        return c.json({ summary, orders, rows }, summary.error ? 422 : 200);
      } finally {
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    },
  );
  return app;
}
