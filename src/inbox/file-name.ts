import path from 'node:path';

/** What an order file is called when its sender gives no usable name. */
const FALLBACK_NAME = 'upload';
/** Most file systems allow 255 bytes; room is left for the stamp and `.result.xlsx` added to it. */
const MAX_NAME_CHARS = 150;

/**
 * A file name from outside (an upload's `filename`, a name in the inbox) reduced to a plain base
 * name that is safe to join to a folder: the part after the last `/` or `\`, without control
 * characters, leading dots or trailing spaces and dots, at most 150 characters (the extension kept).
 * `../../x/PWNED.csv` is `PWNED.csv`; `..`, `.` or an empty name become `upload`.
 */
export function safeFileName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const base = (name.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '');
  const trimmed = base.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (trimmed === '') return FALLBACK_NAME;
  if (trimmed.length <= MAX_NAME_CHARS) return trimmed;
  const ext = path.extname(trimmed).slice(0, 10);
  return trimmed.slice(0, MAX_NAME_CHARS - ext.length) + ext;
}

/**
 * A `Content-Disposition: attachment` header for a file name (RFC 6266): a quoted ASCII fallback in
 * which quotes, backslashes and anything not printable ASCII become `_`, and the exact name as
 * UTF-8 in `filename*`. `a"b.csv` never ends the quoted string early.
 */
export function attachmentDisposition(fileName: string): string {
  const name = safeFileName(fileName);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
