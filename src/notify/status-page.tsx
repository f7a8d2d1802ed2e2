/** @jsxImportSource hono/jsx */
import { createHash } from 'node:crypto';
import { raw } from 'hono/html';
import type { StatusLanguage, StatusTexts } from './status-texts.js';
import { STATUS_TEXTS } from './status-texts.js';
import type { StatusView } from './status-view.js';

/**
 * The status page a customer opens from a notification: server-rendered, no script, one column,
 * inline CSS only (allowed by its hash in the page's Content-Security-Policy).
 */

const CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;color:#1a1a1a;background:#f4f5f7}
main,footer{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:0 0 .5rem}
h3{font-size:1rem;margin:0 0 .25rem}
section{background:#fff;border:1px solid #d8dbe0;border-radius:.5rem;padding:1rem;margin:1rem 0}
.meta{color:#444;margin:0}
.status{font-size:1.25rem;font-weight:700;color:#0b5394;margin:0}
ul,ol{list-style:none;margin:0;padding:0}
li{padding:.5rem 0;border-top:1px solid #e6e8eb}
li:first-child{border-top:0}
.sku{color:#444;font-size:.875rem}
.qty{display:block;color:#333;font-size:.875rem}
.state{display:inline-block;margin-top:.25rem;padding:0 .5rem;border-radius:1rem;background:#e8eef6;color:#123a63;font-size:.875rem}
.state-backordered{background:#fff1d6;color:#6b4100}
.state-cancelled{background:#eee;color:#444}
dl{margin:.25rem 0;display:grid;grid-template-columns:auto 1fr;gap:.125rem .75rem}
dt{color:#444}
dd{margin:0;overflow-wrap:anywhere}
a{color:#0b5394}
a.track{display:inline-block;margin:.25rem 0;padding:.5rem .75rem;border-radius:.375rem;background:#0b5394;color:#fff;text-decoration:none}
time{color:#333}
footer{color:#444;font-size:.875rem}
`;

/** The CSP source that allows exactly the page's inline style. */
export const STATUS_PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/** The Content-Security-Policy of the status page and its 404: nothing but its own inline style. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${STATUS_PAGE_STYLE_HASH}`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function validTimeZone(zone: string | null): string {
  if (!zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
}

function formatter(lang: StatusLanguage, timeZone: string) {
  const f = new Intl.DateTimeFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone,
  });
  return (iso: string) => f.format(new Date(iso));
}

const productName = (l: { sku: string; name: string | null }) => l.name ?? l.sku;

function Layout(props: { lang: StatusLanguage; title: string; children: unknown; footer: unknown }) {
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <main>{props.children}</main>
        <footer>{props.footer}</footer>
      </body>
    </html>
  );
}

function Page({ view, lang, t }: { view: StatusView; lang: StatusLanguage; t: StatusTexts }) {
  const zone = validTimeZone(view.contactTimeZone);
  const when = formatter(lang, zone);
  const other: StatusLanguage = lang === 'en' ? 'zh-CN' : 'en';
  return (
    <Layout
      lang={lang}
      title={t.title(view.orderNumber)}
      footer={
        <>
          <p>{t.times(zone)}</p>
          <p>
            <a href={`?lang=${other}`} lang={other} hreflang={other}>
              {t.otherLanguage}
            </a>
          </p>
        </>
      }
    >
      <h1>{t.heading}</h1>
      <p class="meta">
        {t.orderNumber}: <strong>{view.orderNumber}</strong>
      </p>
      <p class="meta">
        {t.placedAt}: <time datetime={view.placedAt}>{when(view.placedAt)}</time>
      </p>

      <section aria-labelledby="status-h">
        <h2 id="status-h">{t.currentStatus}</h2>
        <p class="status" id="status">
          {t.status[view.status]}
        </p>
        <p>{t.statusHelp[view.status]}</p>
      </section>

      <section aria-labelledby="lines-h">
        <h2 id="lines-h">{t.lines}</h2>
        <ul>
          {view.lines.map((l) => (
            <li>
              <strong>{productName(l)}</strong> <span class="sku">{l.sku}</span>
              <span class="qty">
                {t.ordered}: {l.ordered} · {t.shippedQty}: {l.shipped}
              </span>
              <span class={`state state-${l.state}`}>{t.lineState[l.state]}</span>
            </li>
          ))}
        </ul>
      </section>

      {view.backordered.length > 0 && (
        <section aria-labelledby="backordered-h" id="backordered">
          <h2 id="backordered-h">{t.backordered}</h2>
          <p>{t.backorderedHelp}</p>
          <ul>
            {view.backordered.map((b) => (
              <li>
                <strong>{productName(b)}</strong> <span class="sku">{b.sku}</span>
                <span class="qty">
                  {t.waiting}: {b.waiting} / {b.ordered}
                </span>
                <span class="state state-backordered">{t.backorderState[b.state]}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="shipments-h" id="shipments">
        <h2 id="shipments-h">{t.shipments}</h2>
        {view.shipments.length === 0 && <p>{t.noShipments}</p>}
        <ol>
          {view.shipments.map((s, i) => (
            <li>
              <h3>{t.shipment(i + 1)}</h3>
              <dl>
                <dt>{t.shippedAt}</dt>
                <dd>
                  <time datetime={s.shippedAt}>{when(s.shippedAt)}</time>
                </dd>
                {s.carrierName && (
                  <>
                    <dt>{t.carrier}</dt>
                    <dd>{lang === 'zh-CN' ? s.carrierName.zh : s.carrierName.en}</dd>
                  </>
                )}
                <dt>{t.trackingNumber}</dt>
                <dd>{s.trackingNumber ?? t.noTracking}</dd>
                {s.lines.length > 0 && (
                  <>
                    <dt>{t.contents}</dt>
                    <dd>{s.lines.map((l) => `${productName(l)} × ${l.quantity}`).join(', ')}</dd>
                  </>
                )}
              </dl>
              {s.trackingUrl && (
                <a class="track" href={s.trackingUrl} rel="noreferrer noopener">
                  {t.track}
                  {s.trackingNumber ? ` ${s.trackingNumber}` : ''}
                </a>
              )}
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">{t.timeline}</h2>
        <ol>
          {view.timeline.map((e) => (
            <li>
              <time datetime={e.at}>{when(e.at)}</time> · {t.status[e.status]}
            </li>
          ))}
        </ol>
      </section>
    </Layout>
  );
}

function NotFoundPage() {
  // One page in both languages: we do not know whose link it was.
  const en = STATUS_TEXTS.en;
  const zh = STATUS_TEXTS['zh-CN'];
  return (
    <Layout lang="zh-CN" title={`${zh.notFoundTitle} / ${en.notFoundTitle}`} footer="">
      <h1>{zh.notFoundTitle}</h1>
      <p>{zh.notFound}</p>
      <h1 lang="en">{en.notFoundTitle}</h1>
      <p lang="en">{en.notFound}</p>
    </Layout>
  );
}

const doc = async (el: { toString(): string | Promise<string> }) => `<!DOCTYPE html>${await el.toString()}`;

/** The status page of an order in a language. */
export function renderStatusPage(view: StatusView, lang: StatusLanguage): Promise<string> {
  return doc(<Page view={view} lang={lang} t={STATUS_TEXTS[lang]} />);
}

/** The page every wrong status link gets, whatever was wrong with it. */
export const renderStatusNotFound = (): Promise<string> => doc(<NotFoundPage />);
