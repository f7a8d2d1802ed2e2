import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN, HTML_LAYOUT, LABELS, TEXT_LAYOUT } from './builtin-templates.js';
import type { NotificationLanguage } from './contract.js';
import type { NotificationEvent } from './events.js';
import { renderTemplate, TemplateError } from './template-engine.js';

export type TemplatePart = 'subject' | 'text' | 'html';

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/**
 * Templates of notifications: built in for every event in zh-CN and en, each part overridable by
 * a file `<dir>/<event>.<language>.<part>` (`config/templates/order.shipped.zh-CN.html`), read
 * when a message is rendered (so an edited file counts at once, in every process sharing the dir).
 */
export class Templates {
  constructor(private readonly dir: string | null) {}

  /** The override file's text, or null when there is none. */
  private override(event: string, language: NotificationLanguage, part: TemplatePart): string | null {
    if (!this.dir) return null;
    try {
      return readFileSync(path.join(this.dir, `${event}.${language}.${part}`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  render(
    event: NotificationEvent,
    language: NotificationLanguage,
    data: Record<string, unknown>,
  ): RenderedMessage {
    const builtin = BUILTIN[event]?.[language] ?? BUILTIN[event]?.en;
    if (!builtin) throw new TemplateError(`no template for ${event}`);
    const labels = Object.fromEntries(
      Object.entries(LABELS[language]).map(([k, v]) => [k, renderTemplate(v, data)]),
    );
    const subjectSource = this.override(event, language, 'subject') ?? builtin.subject;
    // One line, whatever the template's file ends with.
    const subject = renderTemplate(subjectSource, data).replace(/\s+/g, ' ').trim();
    const full = { ...data, language, labels, subject, intro: renderTemplate(builtin.intro, data) };
    const text = renderTemplate(this.override(event, language, 'text') ?? TEXT_LAYOUT, full);
    const html = renderTemplate(this.override(event, language, 'html') ?? HTML_LAYOUT, full, true);
    return { subject, text, html };
  }
}
