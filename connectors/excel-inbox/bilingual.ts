/**
 * Every text a customer or staff member reads from a sheet import (row reasons, whole-file errors,
 * result workbook headers and statuses) is written in English and Chinese, in one string:
 * `English / 中文`, as the catalogue sheets do.
 */

/** A text in both languages, kept apart until it is shown: a part of a longer message. */
export interface Bilingual {
  en: string;
  zh: string;
}

/** How a text is shown: `English / 中文`. */
export function bilingual(en: string, zh: string): string {
  return `${en} / ${zh}`;
}

/** A `Bilingual` shown as `bilingual` shows it. */
export function shown(text: Bilingual): string {
  return bilingual(text.en, text.zh);
}
