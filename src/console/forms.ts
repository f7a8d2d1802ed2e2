import type { Context } from 'hono';
import type { z } from 'zod';

/**
 * Console forms validate with the API's own zod schemas. A browser sends every field as text
 * (`lines[0][quantity]=3`), so the form is first turned into the shape the schema expects:
 * bracketed or dotted names become nested objects and arrays, and each value is converted to what
 * its place in the schema takes (a number, a boolean, null, an array). Then the schema parses it,
 * and every problem is keyed by the field's name (`lines.0.quantity`), to be shown beside it.
 */

export const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];
/** The `upload` of a console form route (for its OpenAPI declaration). */
export const FORM_UPLOAD = {
  contentTypes: FORM_TYPES,
  description: 'A console form (its fields as the page names them, and `_csrf`)',
};

export type FormValue = string | File | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** Problems by field name (`lines.0.sku`); `''` holds those of the form as a whole. */
export type FieldErrors = Record<string, string[]>;

export type FormResult<T> =
  | { ok: true; data: T; values: FormObject }
  | { ok: false; errors: FieldErrors; values: FormObject };

/** `lines[0][sku]` and `lines.0.sku` both give `['lines', '0', 'sku']`. */
export const fieldPath = (name: string) =>
  name
    .replace(/\]/g, '')
    .split(/[[.]/)
    .filter((p) => p !== '');

/** The dotted name of a path: how errors are keyed and how `Field` names its input's error. */
export const fieldName = (path: readonly (string | number)[]) => path.join('.');

/** Reads the request's form (urlencoded or multipart) into nested objects; `_csrf` is left out. */
export async function formValues(c: Context): Promise<FormObject> {
  const raw = (await c.req.parseBody({ all: true })) as Record<string, string | File | (string | File)[]>;
  const out: FormObject = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === '_csrf') continue;
    const path = fieldPath(name);
    if (path.length === 0) continue;
    let node: FormObject = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined || typeof next !== 'object' || next instanceof File || Array.isArray(next)) {
        node[part] = {};
      }
      node = node[part] as FormObject;
    }
    node[path[path.length - 1]!] = value as FormValue;
  }
  return out;
}

type Def = { type: string; [k: string]: unknown };
// biome-ignore lint/suspicious/noExplicitAny: zod's internals differ per schema kind
const defOf = (schema: z.ZodType): Def => (schema as any)._zod.def as Def;

/** The schema under optional, nullable, default, catch, readonly and the input side of a pipe. */
function inner(schema: z.ZodType): { schema: z.ZodType; nullable: boolean; optional: boolean } {
  let s = schema;
  let nullable = false;
  let optional = false;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault') optional = true;
    if (def.type === 'nullable') nullable = true;
    if (
      ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type)
    ) {
      s = def.innerType as z.ZodType;
    } else if (def.type === 'pipe') {
      s = def.in as z.ZodType;
    } else if (def.type === 'lazy') {
      s = (def.getter as () => z.ZodType)();
    } else break;
  }
  return { schema: s, nullable, optional };
}

/**
 * Converts a form's text values to what the schema takes. Empty text is left out of an optional
 * field and is `null` in a nullable one; numbers, booleans and arrays are converted where the
 * schema wants them. Anything it cannot convert is passed on as it is, for the schema to refuse.
 */
export function coerceToSchema(schema: z.ZodType, value: unknown): unknown {
  const { schema: s, nullable, optional } = inner(schema);
  const def = defOf(s);
  if (Array.isArray(value) && def.type !== 'array') value = value[value.length - 1];
  if (typeof value === 'string' && value.trim() === '' && def.type !== 'string') {
    return nullable ? null : optional ? undefined : value;
  }
  if (typeof value === 'string' && value === '' && (optional || nullable)) {
    return optional ? undefined : null;
  }
  switch (def.type) {
    case 'number':
    case 'int': {
      if (typeof value !== 'string') return value;
      const n = Number(value.trim());
      return Number.isFinite(n) ? n : value;
    }
    case 'bigint':
      try {
        return typeof value === 'string' ? BigInt(value.trim()) : value;
      } catch {
        return value;
      }
    case 'boolean':
      if (value === undefined) return optional ? undefined : false;
      if (typeof value !== 'string') return value;
      return ['on', 'true', '1', 'yes'].includes(value.toLowerCase())
        ? true
        : ['off', 'false', '0', 'no', ''].includes(value.toLowerCase())
          ? false
          : value;
    case 'object': {
      if (value === undefined || typeof value !== 'object' || value === null || Array.isArray(value))
        return value;
      const shape = (def.shape ?? {}) as Record<string, z.ZodType>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = shape[k] ? coerceToSchema(shape[k], v) : v;
      }
      for (const [k, fieldSchema] of Object.entries(shape)) {
        // An unticked checkbox sends nothing: a required boolean is false then.
        if (!(k in out) && inner(fieldSchema).schema && defOf(inner(fieldSchema).schema).type === 'boolean') {
          const c = coerceToSchema(fieldSchema, undefined);
          if (c !== undefined) out[k] = c;
        }
      }
      for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
      return out;
    }
    case 'array': {
      const element = def.element as z.ZodType;
      let items: unknown[];
      if (Array.isArray(value)) items = value;
      else if (value && typeof value === 'object' && !(value instanceof File)) {
        // `lines[0][sku]`, `lines[1][sku]`: an object keyed by index, in index order.
        items = Object.entries(value as Record<string, unknown>)
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([, v]) => v);
      } else if (typeof value === 'string') {
        // One text for a list of plain values: one per line or comma.
        const kind = defOf(inner(element).schema).type;
        items = ['string', 'number', 'int', 'enum'].includes(kind)
          ? value
              .split(/[\n,]/)
              .map((x) => x.trim())
              .filter(Boolean)
          : [value];
      } else return value;
      // Rows left blank (the spare line of an order form) are dropped.
      const kept = items.filter((v) => !isBlank(v));
      return kept.map((v) => coerceToSchema(element, v));
    }
    case 'union': {
      const options = (def.options ?? []) as z.ZodType[];
      for (const option of options) {
        const converted = coerceToSchema(option, value);
        if (option.safeParse(converted).success) return converted;
      }
      return value;
    }
    default:
      return value;
  }
}

/** A row whose every field is empty text (or that is empty text). */
export function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (value instanceof File) return value.size === 0 && value.name === '';
  if (Array.isArray(value)) return value.every(isBlank);
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).every(isBlank);
  return false;
}

/** Every problem of a zod error by the field it belongs to. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = fieldName(issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
    out[key] = [...(out[key] ?? []), issue.message];
  }
  return out;
}

/**
 * Parses an already read form (see `formValues`) with a schema. `prepare` may reshape the form
 * first (a field the page shows differently from the API body: a price typed as 12.50).
 */
export function parseFormValues<S extends z.ZodType>(
  schema: S,
  values: FormObject,
  prepare?: (values: FormObject) => unknown,
): FormResult<z.output<S>> {
  const shaped = prepare ? prepare(values) : values;
  const result = schema.safeParse(coerceToSchema(schema, shaped));
  if (result.success) return { ok: true, data: result.data, values };
  return { ok: false, errors: fieldErrors(result.error), values };
}

/** Reads the request's form and parses it with the API's schema. */
export async function readForm<S extends z.ZodType>(
  c: Context,
  schema: S,
  prepare?: (values: FormObject) => unknown,
): Promise<FormResult<z.output<S>>> {
  return parseFormValues(schema, await formValues(c), prepare);
}

/** The text a form held at a path (to fill the field again after an error). */
export function valueAt(values: FormObject | undefined, name: string): string {
  let node: unknown = values;
  for (const part of fieldPath(name)) {
    if (node === undefined || node === null || typeof node !== 'object') return '';
    node = (node as Record<string, unknown>)[part];
  }
  if (Array.isArray(node)) node = node[node.length - 1];
  return typeof node === 'string' ? node : node === undefined || node === null ? '' : String(node);
}

/** Merges problems (a domain error's `details` of `[{path, message}]`) into field errors. */
export function detailsToFieldErrors(details: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (!Array.isArray(details)) return out;
  for (const d of details) {
    if (d && typeof d === 'object' && typeof (d as { message?: unknown }).message === 'string') {
      const path = (d as { path?: unknown }).path;
      const key = typeof path === 'string' ? (path === '(body)' ? '' : path) : '';
      out[key] = [...(out[key] ?? []), (d as { message: string }).message];
    }
  }
  return out;
}
