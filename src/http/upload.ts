import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
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
      errorResponse(c, 413, 'payload_too_large', `uploaded files may be at most ${MAX_IMPORT_BYTES} bytes`),
  });

export interface Upload {
  file: File;
  /** The form's other text fields. */
  fields: Record<string, string>;
}

/**
 * The file (field `file`) and text fields of a multipart/form-data upload: 415 for another content
 * type, 400 for a body that cannot be read, 422 without a file.
 */
export async function readUpload(c: Context, what: string): Promise<Upload> {
  if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data')) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'send the file as multipart/form-data with the field "file"',
    );
  }
  let form: Record<string, string | File | (string | File)[]>;
  try {
    form = await c.req.parseBody();
  } catch (err) {
    throw new ApiError(
      400,
      'invalid_multipart',
      `the multipart body could not be read: ${(err as Error).message}`,
    );
  }
  const file = form.file;
  if (!(file instanceof File))
    throw new ApiError(422, 'validation_failed', `the form needs a "file" field holding ${what}`, [
      { path: 'file', message: 'required' },
    ]);
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') fields[k] = v;
  return { file, fields };
}
