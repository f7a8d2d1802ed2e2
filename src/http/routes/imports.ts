import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { bilingual } from '../../../connectors/excel-inbox/bilingual.js';
import { MAX_ORDER_FILE_BYTES } from '../../../connectors/excel-inbox/parse.js';
import { resultFileName, rowResult } from '../../../connectors/excel-inbox/result-workbook.js';
import type { Conn } from '../../db/connection.js';
import { currencySchema } from '../../domain/order-input.js';
import { attachmentDisposition, safeFileName } from '../../inbox/file-name.js';
import { importOrderFile } from '../../inbox/import-file.js';
import type { IntakeBatcher } from '../../orders/intake-batcher.js';
import { errorResponse, parseParam } from '../errors.js';
import { errorBodySchema, newRoutes, routeRegistrar } from '../openapi.js';
import { readUpload, XLSX_TYPE } from '../upload.js';

/**
 * Order files may be larger than ordinary API bodies: the body may hold the largest order file the
 * reader takes (the inbox's limit too) and the multipart framing around it.
 */
const MAX_IMPORT_BYTES = MAX_ORDER_FILE_BYTES + 64 * 1024;

const importSummary = z.object({
  fileName: z.string(),
  error: z.string().optional().describe('why the file as a whole could not be read'),
  rows: z.number().int(),
  ordersAccepted: z.number().int(),
  ordersRejected: z.number().int(),
  ordersAlreadyImported: z.number().int(),
  ordersConflicting: z.number().int(),
});

const outcomeFields = {
  reason: z.string().optional().describe('in English and Chinese'),
  orderId: z.number().int().optional().describe('the stockbridge order, when accepted'),
};

const orderImportSchema = z
  .object({
    summary: importSummary,
    orders: z.array(z.object({ externalId: z.string(), accepted: z.boolean(), ...outcomeFields })),
    rows: z.array(
      z.object({
        row: z.number().int().describe('the sheet row number'),
        orderNo: z.string(),
        customer: z.string(),
        sku: z.string(),
        quantity: z.number().int().nullable().describe('null: the cell is not a valid quantity'),
        status: z.enum(['accepted', 'rejected', 'pending']),
        ...outcomeFields,
      }),
    ),
  })
  .meta({ id: 'OrderFileImport' });

/**
 * `POST /api/orders/import` (multipart/form-data: `file`, optional `currency`): the same import the
 * inbox folder does, answered with the outcome of every order and row as JSON, or with the result
 * workbook itself when asked for `?format=xlsx`.
 */
export function importRoutes(db: Conn, intake: IntakeBatcher) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Orders', entity: 'order_import', db });
  app.use(
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
  );

  route(
    {
      method: 'post',
      path: '/orders/import',
      access: 'operate',
      operationId: 'importOrderFile',
      summary: 'Import an order file (.xlsx or .csv), as the inbox folder does',
      description:
        'Answers with the outcome of every order and row as JSON, or with `?format=xlsx` the result workbook itself (200, or 422 when the file could not be read). An order with an invalid row is rejected whole; the same file again stores nothing new.',
      query: z.object({
        format: z.string().optional().describe('`xlsx`: answer with the result workbook instead of JSON'),
      }),
      upload: {
        contentTypes: ['multipart/form-data'],
        description: `\`file\`: the order sheet (at most ${MAX_ORDER_FILE_BYTES} bytes); optional \`currency\` for rows that name none`,
      },
      responses: {
        200: {
          description: 'Every order and row with its outcome (or the result workbook)',
          schema: orderImportSchema,
        },
        422: {
          description:
            'The file as a whole could not be read (`summary.error`; or the result workbook saying so), or the form has no file (an error)',
          schema: z.union([orderImportSchema, errorBodySchema]),
        },
      },
      errors: [415],
    },
    async (c) => {
      const { file, fields } = await readUpload(c, { en: 'an .xlsx or .csv file', zh: '.xlsx 或 .csv 文件' });
      const currency = fields.currency ? parseParam(currencySchema, fields.currency, 'currency') : undefined;
      // The sender's name is only ever used as a base name: `../../x/a.csv` must not leave `dir`.
      const fileName = safeFileName(file.name);
      // The audit entry names the file; the answer (every row) is not read again to find an id.
      c.set('auditEntityId', fileName);
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
