/**
 * A small logic-less template language (a subset of Mustache), enough for notification texts:
 * `{{a.b}}` a value (HTML-escaped when rendering HTML), `{{#x}}…{{/x}}` a section (repeated for
 * each item of a list, shown once for any other value that is set, not for 0/''/false/null/[]),
 * `{{^x}}…{{/x}}` shown when `x` is not set. Inside a list section, names are looked up on the
 * item first, then outwards; `{{.}}` is the item itself.
 */

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'value'; name: string }
  | { kind: 'section'; name: string; inverted: boolean; children: Node[] };

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const TAG = /\{\{\s*([#^/]?)\s*([A-Za-z0-9_.]+)\s*\}\}/g;

export function parseTemplate(source: string): Node[] {
  const root: Node[] = [];
  const stack: { name: string; children: Node[] }[] = [{ name: '', children: root }];
  let last = 0;
  for (const m of source.matchAll(TAG)) {
    const top = stack[stack.length - 1]!;
    if (m.index > last) top.children.push({ kind: 'text', text: source.slice(last, m.index) });
    last = m.index + m[0].length;
    const [, sigil, name] = m as unknown as [string, string, string];
    if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name, inverted: sigil === '^', children: [] };
      top.children.push(node);
      stack.push({ name, children: node.children });
    } else if (sigil === '/') {
      if (stack.length === 1 || top.name !== name)
        throw new TemplateError(`{{/${name}}} closes ${stack.length === 1 ? 'nothing' : `{{#${top.name}}}`}`);
      stack.pop();
    } else top.children.push({ kind: 'value', name });
  }
  if (stack.length > 1) throw new TemplateError(`{{#${stack[stack.length - 1]!.name}}} is never closed`);
  if (last < source.length) root.push({ kind: 'text', text: source.slice(last) });
  return root;
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function lookup(stack: readonly unknown[], name: string): unknown {
  if (name === '.') return stack[stack.length - 1];
  const [head, ...rest] = name.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx !== null && typeof ctx === 'object' && head! in (ctx as object)) {
      let v: unknown = (ctx as Record<string, unknown>)[head!];
      for (const part of rest)
        v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      return v;
    }
  }
  return undefined;
}

const isSet = (v: unknown) =>
  !(
    v === undefined ||
    v === null ||
    v === false ||
    v === '' ||
    v === 0 ||
    (Array.isArray(v) && v.length === 0)
  );

function renderNodes(nodes: readonly Node[], stack: unknown[], html: boolean): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'value') {
      const v = lookup(stack, n.name);
      const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      out += html ? escapeHtml(s) : s;
    } else {
      const v = lookup(stack, n.name);
      if (n.inverted) {
        if (!isSet(v)) out += renderNodes(n.children, stack, html);
      } else if (Array.isArray(v)) {
        for (const item of v) out += renderNodes(n.children, [...stack, item], html);
      } else if (isSet(v)) out += renderNodes(n.children, [...stack, v], html);
    }
  }
  return out;
}

/** Renders a template over `data`; `html` escapes every value (the template's own markup stays). */
export function renderTemplate(source: string, data: Record<string, unknown>, html = false): string {
  return renderNodes(parseTemplate(source), [data], html);
}
