import { STATUS_TEXTS, type StatusLanguage } from './status-texts.js';
import type { StatusView } from './status-view.js';

/**
 * The status page as JSON, for the company's own app: the same content as the page, with codes
 * for programs and labels in the chosen language for people. Times are ISO 8601 UTC.
 */
export function statusJson(view: StatusView, lang: StatusLanguage) {
  const t = STATUS_TEXTS[lang];
  return {
    language: lang,
    orderNumber: view.orderNumber,
    placedAt: view.placedAt,
    status: { code: view.status, label: t.status[view.status], description: t.statusHelp[view.status] },
    lines: view.lines.map((l) => ({ ...l, stateLabel: t.lineState[l.state] })),
    backordered: view.backordered.map((b) => ({ ...b, stateLabel: t.backorderState[b.state] })),
    shipments: view.shipments.map(({ carrierName, ...s }) => ({
      ...s,
      carrierName: carrierName ? (lang === 'zh-CN' ? carrierName.zh : carrierName.en) : null,
    })),
    timeline: view.timeline.map((e) => ({ status: e.status, label: t.status[e.status], at: e.at })),
  };
}
