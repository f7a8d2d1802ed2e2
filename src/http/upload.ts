import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type Bilingual, bilingual } from '../../connectors/excel-inbox/bilingual.js';
import { ApiError } from '../errors/api-error.js';
import { errorResponse } from './errors.js';

/** Uploaded sheets may be larger than ordinary API bodies. */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The body limit of the routes that take an uploaded sheet (413 beyond it). */
export const uploadLimit = () =>
  bodyLimit({
    maxSize: MAX_IMPORT_BYTES,
    onError: (c) =>
      errorResponse(
        c,
        413,
        'payload_too_large',
        bilingual(
          `uploaded files may be at most ${MAX_IMPORT_BYTES} bytes`,
          `上传的文件最大为 ${MAX_IMPORT_BYTES} 字节`,
        ),
      ),
  });

export interface Upload {
  file: File;
  /** The form's other text fields. */
  fields: Record<string, string>;
}

/**
 * The file (field `file`) and text fields of a multipart/form-data upload: 415 for another content
 * type, 400 for a body that cannot be read, 422 without a file (`what` says what it should hold).
 * The messages are in English and Chinese: staff read them.
 */
export async function readUpload(c: Context, what: Bilingual): Promise<Upload> {
  if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data')) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      bilingual(
        'send the file as multipart/form-data with the field "file"',
        '请以 multipart/form-data 格式上传，文件放在“file”字段中',
      ),
    );
  }
  let form: Record<string, string | File | (string | File)[]>;
  try {
    form = await c.req.parseBody();
  } catch (err) {
    throw new ApiError(
      400,
      'invalid_multipart',
      bilingual(
        `the multipart body could not be read: ${(err as Error).message}`,
        `无法读取 multipart 请求体：${(err as Error).message}`,
      ),
    );
  }
  const file = form.file;
  if (!(file instanceof File))
    throw new ApiError(
      422,
      'validation_failed',
      bilingual(`the form needs a "file" field holding ${what.en}`, `表单缺少“file”字段，须上传 ${what.zh}`),
      [{ path: 'file', message: 'required' }],
    );
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') fields[k] = v;
  return { file, fields };
}
