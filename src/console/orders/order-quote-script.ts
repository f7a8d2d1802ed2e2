import { addScript } from '../assets.js';

/**
 * The phone order page's script (plain JS, no build step): "Add line" adds a row of inputs, and as
 * the form changes it posts the form's content as JSON to `POST /api/orders/quote` (session cookie
 * and `X-CSRF-Token` from `<meta name="csrf-token">`) and shows the answer in the live region
 * `#order-quote`, with the texts the page put in its `data-texts`. Without script the page's "Check"
 * button gives the same quote from the server.
 */
addScript(
  'order-quote.js',
  `(() => {
  const form = document.getElementById('phone-order');
  const panel = document.getElementById('order-quote');
  if (!form || !panel) return;
  const T = JSON.parse(panel.getAttribute('data-texts') || '{}');
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  const rows = document.getElementById('order-lines');
  const add = document.getElementById('add-line');
  if (add && rows) {
    add.hidden = false;
    add.addEventListener('click', () => {
      const n = rows.querySelectorAll('.order-line').length;
      const row = document.createElement('div');
      row.className = 'order-line';
      for (const [field, label, type] of [['sku', rows.getAttribute('data-sku-label'), 'text'], ['quantity', rows.getAttribute('data-quantity-label'), 'number']]) {
        const wrap = document.createElement('div');
        wrap.className = 'field';
        const id = 'f-lines-' + n + '-' + field;
        const l = document.createElement('label');
        l.htmlFor = id;
        l.textContent = (label || '').replace('{n}', String(n + 1));
        const i = document.createElement('input');
        i.id = id; i.name = 'lines.' + n + '.' + field; i.type = type;
        if (type === 'number') { i.min = '1'; i.step = '1'; i.inputMode = 'numeric'; }
        wrap.append(l, i);
        row.append(wrap);
      }
      rows.append(row);
      row.querySelector('input').focus();
    });
  }
  const val = (name) => { const el = form.elements.namedItem(name); return el && 'value' in el ? el.value.trim() : ''; };
  const body = () => {
    const lines = [];
    for (const row of form.querySelectorAll('.order-line')) {
      const inputs = row.querySelectorAll('input');
      const sku = inputs[0] ? inputs[0].value.trim() : '';
      const q = inputs[1] ? inputs[1].value.trim() : '';
      if (!sku && !q) continue;
      lines.push({ sku, quantity: Number(q) });
    }
    const customer = {};
    for (const k of ['code', 'name', 'email', 'phone']) { const v = val('customer.' + k); if (v) customer[k] = v; }
    const out = { externalId: val('externalId') || ('phone-' + val('formKey')), currency: val('currency'), lines };
    if (Object.keys(customer).length) out.customer = customer;
    return out;
  };
  const digits = (cur) => { try { return new Intl.NumberFormat('en', { style: 'currency', currency: cur }).resolvedOptions().maximumFractionDigits; } catch { return 2; } };
  const money = (minor, cur) => {
    if (minor === null || minor === undefined) return '–';
    const d = digits(cur); const neg = minor < 0; const s = String(Math.abs(Math.trunc(minor))).padStart(d + 1, '0');
    const whole = (d > 0 ? s.slice(0, -d) : s).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');
    return (neg ? '-' : '') + whole + (d > 0 ? '.' + s.slice(-d) : '') + ' ' + cur;
  };
  const m = (v) => (v ? money(v.amount, v.currency) : '–');
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const show = (...nodes) => { panel.replaceChildren(el('h2', T.heading), ...nodes); };
  const reason = (code) => (T.reasons && T.reasons[code]) || code || '';
  const render = (q) => {
    const nodes = [];
    const head = el('p', T.status + ': ');
    head.append(el('span', (T.statuses && T.statuses[q.status]) || q.status, 'badge'));
    head.append(document.createTextNode((q.holdReason ? ' ' + reason(q.holdReason) : '') + ' · ' + T.total + ': ' + money(q.totalAmount, q.currency)));
    nodes.push(head);
    if (!q.customer.known) nodes.push(el('p', T.customerUnknown));
    if (q.existingOrder) { const p = el('p'); const a = el('a', T.existing.replace('{id}', q.existingOrder.id)); a.href = '/console/orders/' + q.existingOrder.id; p.append(a); nodes.push(p); }
    nodes.push(el('h3', T.held));
    if (q.problems.length) { const ul = el('ul'); for (const p of q.problems) { const li = el('li'); li.append(el('span', reason(p.code), 'badge warn'), document.createTextNode(' ' + p.message)); ul.append(li); } nodes.push(ul); }
    else nodes.push(el('p', T.noHold));
    nodes.push(el('h3', T.lines));
    const wrap = el('div', undefined, 'table-wrap'); const table = el('table'); const cap = el('caption', T.lines, 'visually-hidden'); table.append(cap);
    const thead = el('thead'); const hr = el('tr');
    for (const [h, num] of [[T.sku], [T.quantity, 1], [T.price, 1], [T.rule], [T.available, 1], [T.byWarehouse], [T.reserve, 1], [T.backorder, 1]]) { const th = el('th', h, num ? 'num' : undefined); th.scope = 'col'; hr.append(th); }
    thead.append(hr); table.append(thead);
    const tb = el('tbody');
    for (const l of q.lines) {
      const tr = el('tr');
      tr.append(el('td', l.sku + (l.known ? '' : ' (' + T.unknownSku + ')')), el('td', String(l.quantity), 'num'), el('td', money(l.price.unitPrice, q.currency), 'num'),
        el('td', l.price.rule ? l.price.rule.priceList + ' (' + ((T.levels || {})[l.price.rule.level] || l.price.rule.level) + ')' : T.noRule), el('td', String(l.stock.available), 'num'),
        el('td', l.stock.warehouses.map((w) => w.warehouse + ': ' + w.available).join(', ') || '–'), el('td', String(l.reservation.reserved), 'num'), el('td', String(l.reservation.backordered), 'num'));
      tb.append(tr);
    }
    table.append(tb); wrap.append(table); nodes.push(wrap);
    nodes.push(el('h3', T.promotions));
    const applied = (q.rules && q.rules.promotions && q.rules.promotions.applied) || [];
    if (applied.length) { const ul = el('ul'); for (const p of applied) ul.append(el('li', p.code + ': −' + money(p.discount, q.currency) + ' (' + (p.lineNo === null ? T.wholeOrder : T.lineNo + ' ' + p.lineNo) + ')')); nodes.push(ul); }
    else nodes.push(el('p', T.noPromotions));
    nodes.push(el('h3', T.credit));
    const c = q.rules && q.rules.credit;
    const part = (label, x) => el('p', label + ': ' + T.creditLimit + ' ' + m(x.limit) + ' · ' + T.creditExposure + ' ' + m(x.exposure) + ' · ' + T.creditAvailable + ' ' + m(x.available));
    if (c && c.customer) nodes.push(part(T.customer || '', c.customer));
    if (c && c.salesperson) nodes.push(part(T.salesperson + ' ' + (c.salesperson.code || ''), c.salesperson));
    if (!c || (!c.customer && !c.salesperson)) nodes.push(el('p', T.creditUnchecked));
    show(...nodes);
  };
  let timer = null; let seq = 0;
  const quote = async () => {
    const b = body();
    if (!b.currency || b.lines.length === 0) { show(el('p', T.empty)); return; }
    const mine = ++seq;
    show(el('p', T.loading));
    try {
      const res = await fetch('/api/orders/quote', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(b) });
      const answer = await res.json().catch(() => null);
      if (mine !== seq) return;
      if (res.ok && answer) { render(answer); return; }
      const e = (answer && answer.error) || {};
      const details = Array.isArray(e.details) ? e.details.map((d) => (d.path ? d.path + ': ' : '') + d.message).join('; ') : '';
      show(el('p', T.failed + ' ' + (e.message || res.status) + (details ? ' — ' + details : '')));
    } catch (err) {
      if (mine === seq) show(el('p', T.failed + ' ' + err.message));
    }
  };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(quote, 500); });
})();`,
);
