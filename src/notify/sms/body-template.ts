/**
 * A generic gateway's body template: the gateway's own request body with placeholders
 * `{{phone}}`, `{{text}}`, `{{messageId}}`, `{{event}}` and `{{params.NAME}}`, each value escaped
 * for the body's content type so that a text can never break out of its place.
 */

export type BodyEncoding = 'json' | 'form' | 'text';

const PLACEHOLDER = /\{\{\s*(phone|text|messageId|event|params\.[A-Za-z0-9_]+)\s*\}\}/g;

/** Placeholder names a template may use; anything else in `{{ }}` is refused when saved. */
export function unknownPlaceholders(template: string): string[] {
  const all = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1] ?? '');
  return all.filter((name) => !/^(phone|text|messageId|event|params\.[A-Za-z0-9_]+)$/.test(name));
}

export function encodingOf(contentType: string): BodyEncoding {
  const t = contentType.toLowerCase();
  if (t.includes('json')) return 'json';
  if (t.includes('x-www-form-urlencoded')) return 'form';
  return 'text';
}

function escapeFor(value: string, encoding: BodyEncoding): string {
  if (encoding === 'json') return JSON.stringify(value).slice(1, -1);
  if (encoding === 'form') return encodeURIComponent(value);
  return value;
}

export interface TemplateValues {
  phone: string;
  text: string;
  messageId: string;
  event: string;
  params: Record<string, string>;
}

/** Fills the template; a `{{params.x}}` without such a parameter becomes empty. */
export function renderBody(template: string, values: TemplateValues, encoding: BodyEncoding): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const raw = name.startsWith('params.')
      ? (values.params[name.slice('params.'.length)] ?? '')
      : String(values[name as Exclude<keyof TemplateValues, 'params'>]);
    return escapeFor(raw, encoding);
  });
}
