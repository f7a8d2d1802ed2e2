import type { NormalizedOrder } from '../contract.js';
import { text } from './payload.js';

type Buyer = NonNullable<NormalizedOrder['customer']>;

/**
 * The language a shop's locale (`en`, `en-US`, `zh-CN`, `zh_TW`) maps to among the ones we write
 * in (zh-CN, en): any Chinese locale reads Chinese, any English one English, others none (the
 * customer's or the business's default then applies).
 */
export function languageOfLocale(locale: unknown): Buyer['language'] {
  const l = text(locale)?.toLowerCase();
  if (!l) return undefined;
  if (l === 'zh' || l.startsWith('zh-') || l.startsWith('zh_')) return 'zh-CN';
  if (l === 'en' || l.startsWith('en-') || l.startsWith('en_')) return 'en';
  return undefined;
}

/** A phone number as the shop wrote it, when it has one that fits (64 characters). */
export function phoneOf(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    const t = text(c);
    if (t && t.length <= 64) return t;
  }
  return undefined;
}

/** A person's name from first and last name parts, when there is any. */
export function fullName(first: unknown, last: unknown): string | undefined {
  const name = [text(first), text(last)].filter((p): p is string => p !== null).join(' ');
  return name === '' ? undefined : name;
}

/** The buyer without the fields the channel left empty; undefined when nothing is left. */
export function buyer(fields: Buyer): Buyer | undefined {
  const out = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Buyer;
  return Object.keys(out).length > 0 ? out : undefined;
}
