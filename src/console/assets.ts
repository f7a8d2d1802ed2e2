/**
 * The console's style sheet and its few lines of script, served from `/console/assets/` (kept as
 * text here so the build needs no copying step). Areas add their own script with `addScript`.
 */

export const CONSOLE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;color:#1a1a1a;background:#f4f5f7}
a{color:#0b4f8a}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f0a30a;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:1rem}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;background:#16324f;color:#fff;padding:.5rem 1rem}
header.top a{color:#fff}
header.top .brand{font-weight:700;text-decoration:none;margin-right:auto}
header.top form{display:inline-flex;gap:.25rem;align-items:center;margin:0}
header.top label{font-weight:400;margin:0;color:#fff}
header.top select{width:auto;padding:.15rem .25rem}
header.top button{margin:0;padding:.2rem .6rem;background:#2d5a87}
nav.main{background:#fff;border-bottom:1px solid #d8dbe0;padding:0 .5rem;overflow-x:auto}
nav.main ul{display:flex;flex-wrap:wrap;gap:0;list-style:none;margin:0;padding:0}
nav.main a{display:block;padding:.6rem .7rem;text-decoration:none;color:#1f2d3d;border-bottom:3px solid transparent}
nav.main a[aria-current=page]{border-bottom-color:#0b5394;font-weight:700}
main{max-width:80rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
h2{font-size:1.2rem;margin:1.25rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .5rem}
section.card,.card{background:#fff;border:1px solid #d8dbe0;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
.stat{font-size:1.6rem;font-weight:700;margin:0}
.muted{color:#4a525c}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;background:#fff}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e1e4e8;vertical-align:top}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}
input,select,textarea{width:100%;max-width:32rem;padding:.45rem;border:1px solid #6b737d;border-radius:.375rem;font:inherit;background:#fff;color:#1a1a1a}
input[type=checkbox],input[type=radio]{width:auto;margin-right:.4rem}
textarea{min-height:5rem}
.check label{display:inline;font-weight:400}
button,.button{display:inline-block;margin:.5rem .25rem .25rem 0;padding:.45rem .9rem;border:0;border-radius:.375rem;background:#0b5394;color:#fff;font:inherit;cursor:pointer;text-decoration:none;min-height:2.25rem}
button.secondary,.button.secondary{background:#4f5864}
button.danger{background:#a61b1b}
.inline-form{display:inline}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
.filters>div{min-width:10rem;flex:1 1 10rem}
.filters label{margin-top:0}
.field-error{color:#8a1010;margin:.2rem 0 0;font-size:.9rem}
[aria-invalid=true]{border-color:#a61b1b;border-width:2px}
.hint{color:#4a525c;font-size:.875rem;margin:.2rem 0 0}
.flash{border-radius:.375rem;padding:.6rem .8rem;margin:0 0 1rem}
.flash.notice{color:#0d4d1f;background:#e7f6ea;border:1px solid #8fc79b}
.flash.error{color:#7a0e0e;background:#fdecec;border:1px solid #e3a5a5}
.error-summary{color:#7a0e0e;background:#fdecec;border:1px solid #e3a5a5;border-radius:.375rem;padding:.6rem .8rem;margin:0 0 1rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;background:#e4e7eb;color:#1f2d3d;white-space:nowrap}
.badge.ok{background:#dff3e4;color:#0d4d1f}.badge.warn{background:#fff1cc;color:#5c4300}.badge.bad{background:#fbe0e0;color:#7a0e0e}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{color:#4a525c}dl.facts dd{margin:0;overflow-wrap:anywhere}
pre{background:#f0f2f4;border:1px solid #d8dbe0;border-radius:.375rem;padding:.6rem;overflow:auto;max-height:30rem;font-size:.85rem}
ol.timeline{list-style:none;padding:0;margin:0;border-left:3px solid #c9d1da}
ol.timeline li{margin:0 0 .6rem;padding-left:.75rem}
nav.pager ul{display:flex;gap:.5rem;list-style:none;padding:0;flex-wrap:wrap}
.toolbar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 1rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:48rem){main{padding:.5rem}h1{font-size:1.3rem}dl.facts{grid-template-columns:1fr}}
`;

const EXTRA_CSS: string[] = [];

/** Adds an area's rules to console.css (inline `style` attributes are refused by the pages' CSP). */
export function addStyles(css: string) {
  EXTRA_CSS.push(css);
}

/** Scripts by file name (`/console/assets/<name>`): plain JavaScript, no build step. */
const SCRIPTS = new Map<string, string>();

/** Adds a script an area's pages load with `<script src="/console/assets/<name>" defer>`. */
export function addScript(name: string, source: string) {
  if (!/^[a-z0-9-]+\.js$/.test(name))
    throw new Error(`script name ${name}: lower-case letters, digits, - and .js`);
  SCRIPTS.set(name, source);
}

/** What `/console/assets/<name>` serves, or null. */
export function asset(name: string): { type: string; body: string } | null {
  if (name === 'console.css')
    return { type: 'text/css; charset=utf-8', body: CONSOLE_CSS + EXTRA_CSS.join('\n') };
  const script = SCRIPTS.get(name);
  return script === undefined ? null : { type: 'text/javascript; charset=utf-8', body: script };
}

/**
 * The shared script: buttons marked `data-copy` copy the text of the element they name, and forms
 * marked `data-confirm` ask before they are sent.
 */
addScript(
  'console.js',
  `(() => {
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-copy]');
    if (!b) return;
    const el = document.getElementById(b.getAttribute('data-copy'));
    if (!el) return;
    const text = 'value' in el ? el.value : el.textContent;
    navigator.clipboard && navigator.clipboard.writeText(text).then(() => {
      const was = b.textContent; b.textContent = b.getAttribute('data-copied') || was;
      setTimeout(() => { b.textContent = was; }, 1500);
    });
  });
  document.addEventListener('submit', (e) => {
    const f = e.target;
    const q = f.getAttribute && f.getAttribute('data-confirm');
    if (q && !window.confirm(q)) e.preventDefault();
  });
})();`,
);
