import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, form, logIn } from '../../helpers/auth.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's orders pages: the list and its filters, an order and its actions, the phone order. */
let stack: TestStack;
type Who = { cookie: string; csrf: string };
const people: Record<'operator' | 'finance' | 'viewer', Who> = {} as never;
let seq = 0;

const get = (path: string, who: Who, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: who.cookie, 'accept-language': lang } });
const post = (path: string, who: Who, fields: Record<string, string>, lang = 'en') =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': FORM_TYPE, 'accept-language': lang },
    body: form({ _csrf: who.csrf, ...fields }),
  });
const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;

/** An order through the API, processed by the worker; its id. */
async function placed(lines: { sku: string; quantity: number }[], extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/api/orders', {
    externalId: `con-${++seq}`,
    currency: 'EUR',
    lines: lines.map((l) => ({ ...l, unitPrice: 1000 })),
    ...extra,
  });
  expect(res.status).toBe(202);
  await stack.settle();
  return res.body.id as number;
}

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(
    stack,
    [
      { code: 'main', priority: 1 },
      { code: 'annex', priority: 2 },
    ],
    ['GEAR', 'BOLT'],
  );
  for (const [warehouse, quantity] of [
    ['main', 30],
    ['annex', 20],
  ] as const) {
    const r = await stack.api('POST', '/api/stock/receipts', {
      warehouse,
      reference: `open-${warehouse}`,
      lines: [
        { sku: 'GEAR', quantity },
        { sku: 'BOLT', quantity: 1000 },
      ],
    });
    expect(r.status).toBe(201);
  }
  for (const [code, body] of [
    ['ACME', { name: 'Acme Ltd' }],
    ['TIGHT', { name: 'Tight Ltd', creditLimit: { amount: 1500, currency: 'EUR' } }],
  ] as const) {
    expect((await stack.api('PUT', `/api/customers/${code}`, body)).status).toBeLessThan(300);
  }
  expect((await stack.api('PUT', '/api/price-lists/STD', { name: 'Standard', currency: 'EUR' })).status).toBe(
    201,
  );
  expect(
    (
      await stack.api('PUT', '/api/price-lists/STD/items', {
        items: [
          { sku: 'GEAR', price: 1000 },
          { sku: 'BOLT', price: 1000 },
        ],
      })
    ).status,
  ).toBe(200);
  expect((await stack.api('POST', '/api/price-lists/STD/assignments', { default: true })).status).toBe(201);
  for (const role of ['operator', 'finance', 'viewer'] as const) {
    const email = `${role}@example.com`;
    expect(
      (await stack.api('POST', '/api/users', { email, role, password: 'correct horse battery' })).status,
    ).toBe(201);
    people[role] = await logIn(stack.app, email, 'correct horse battery', `198.51.100.${seq++ + 10}`);
  }
  stack.startWorker(2);
});

afterAll(async () => {
  await stack?.close();
});

describe('the order list', () => {
  let acme: number;
  let old: number;
  beforeAll(async () => {
    acme = await placed([{ sku: 'GEAR', quantity: 1 }], {
      customer: { code: 'ACME' },
      externalId: 'LIST-ACME',
    });
    old = await placed([{ sku: 'BOLT', quantity: 1 }], {
      externalId: 'LIST-OLD',
      placedAt: '2026-01-15T08:00:00Z',
    });
  });

  it('shows orders newest first, and filters by external id, customer, status, channel and day', async () => {
    const all = await (await get('/console/orders', people.viewer)).text();
    expect(all).toContain('<h1>Orders</h1>');
    expect(all.indexOf(`/console/orders/${acme}"`)).toBeGreaterThan(-1);
    expect(all.indexOf(`/console/orders/${old}"`)).toBeLessThan(all.indexOf(`/console/orders/${acme}"`));

    const byId = await (
      await get('/console/orders?externalId=LIST-ACME&status=&channel=', people.viewer)
    ).text();
    expect(byId).toContain(`/console/orders/${acme}"`);
    expect(byId).not.toContain(`/console/orders/${old}"`);

    const byCustomer = await (await get('/console/orders?customer=ACME', people.viewer)).text();
    expect(byCustomer).toContain(`/console/orders/${acme}"`);
    expect(byCustomer).not.toContain(`/console/orders/${old}"`);

    const byDay = await (
      await get('/console/orders?placedFrom=2026-01-15&placedTo=2026-01-15', people.viewer)
    ).text();
    expect(byDay).toContain(`/console/orders/${old}"`);
    expect(byDay).not.toContain(`/console/orders/${acme}"`);
    const dayBefore = await (await get('/console/orders?placedTo=2026-01-14', people.viewer)).text();
    expect(dayBefore).not.toContain(`/console/orders/${old}"`);

    const held = await (await get('/console/orders?status=on_hold', people.viewer)).text();
    expect(held).not.toContain(`/console/orders/${acme}"`);
    const confirmed = await (await get('/console/orders?status=confirmed&channel=api', people.viewer)).text();
    expect(confirmed).toContain(`/console/orders/${acme}"`);
    const otherChannel = await (await get('/console/orders?channel=shopify-eu', people.viewer)).text();
    expect(otherChannel).toContain('No order matches.');

    // The API's list takes the same day filter.
    const api = await stack.api('GET', '/api/orders?placedFrom=2026-01-15&placedTo=2026-01-15');
    expect(api.body.items.map((o: { id: number }) => o.id)).toEqual([old]);
  });

  it('answers a bad filter with 422 and the problem beside its field', async () => {
    const res = await get('/console/orders?placedFrom=15.01.2026', people.viewer);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-placedFrom"[^>]*aria-invalid="true"/);
    expect(html).toContain('id="f-placedFrom-error"');
  });

  it('pages by keyset: 50 rows, then the rest below the last id', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 51; i++) {
      const r = await stack.api('POST', '/api/orders', {
        externalId: `PAGE-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 1000 }],
      });
      ids.push(r.body.id);
    }
    await stack.settle();
    const first = await (await get('/console/orders', people.viewer)).text();
    const rows = [...first.matchAll(/href="\/console\/orders\/(\d+)"/g)].map((m) => Number(m[1]));
    expect(rows).toHaveLength(50);
    expect(rows[0]).toBe(Math.max(...ids));
    const next = /href="([^"]*beforeId=(\d+)[^"]*)" rel="next"/.exec(first);
    expect(Number(next?.[2])).toBe(rows[49]);
    const second = await (await get(next![1]!.replace(/&amp;/g, '&'), people.viewer)).text();
    const more = [...second.matchAll(/href="\/console\/orders\/(\d+)"/g)].map((m) => Number(m[1]));
    expect(more[0]).toBe(rows[49]! - 1);
    expect(second).toContain('First page');
  });

  it('keeps the salesperson filter in the paging links', async () => {
    const html = await (
      await get('/console/orders?salesperson=SP-NONE&beforeId=999999', people.viewer)
    ).text();
    expect(html).toMatch(/href="\/console\/orders\?salesperson=SP-NONE"/);
  });
});

describe('an order', () => {
  it('shows its facts, lines, history and shipments in en and zh-CN', async () => {
    const id = await placed([{ sku: 'GEAR', quantity: 2 }], {
      customer: { code: 'ACME', name: 'Li Wei', phone: '+86 138 0000 0000' },
      externalId: 'DETAIL-1',
    });
    const res = await get(`/console/orders/${id}`, people.viewer);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<h1>Order ${id}</h1>`);
    expect(html).toContain('DETAIL-1');
    expect(html).toContain('ACME · Acme Ltd');
    expect(html).toContain('+86 138 0000 0000');
    expect(html).toContain('Confirmed');
    expect(html).toContain('20.00 EUR');
    expect(html).toMatch(/<td class="num">2<\/td>/);
    expect(html).toContain('Received → Confirmed');
    const zh = await (await get(`/console/orders/${id}`, people.viewer, 'zh-CN')).text();
    expect(zh).toContain(`<h1>订单 ${id}</h1>`);
    expect(zh).toContain('已接收 → 已确认');
    expect(zh).toContain('订单行');
  });

  it('shows a viewer no action, and refuses a viewer’s change', async () => {
    const id = await placed([{ sku: 'GHOST', quantity: 1 }]);
    expect((await order(id)).status).toBe('on_hold');
    const html = await (await get(`/console/orders/${id}`, people.viewer)).text();
    expect(html).not.toContain('<h2 id="order-actions">');
    expect(html).not.toContain('/release"');
    const res = await post(`/console/orders/${id}/release`, people.viewer, {});
    expect(res.status).toBe(403);
    expect((await order(id)).status).toBe('on_hold');
    expect((await get('/console/orders/new', people.viewer)).status).toBe(403);
  });

  it('releases a held order: it is processed again and ends confirmed', async () => {
    const id = await placed([{ sku: 'LATE', quantity: 3 }]);
    expect(await order(id)).toMatchObject({ status: 'on_hold', holdReason: 'unknown_sku' });
    const page = await (await get(`/console/orders/${id}`, people.operator)).text();
    expect(page).toContain('>Release</button>');
    expect(page).toContain('Unknown SKU');
    // The SKU is created and stocked; then the order is released.
    expect(
      (await stack.api('PUT', '/api/skus/LATE', { name: 'Late', unitPrice: 1000, currency: 'EUR' })).status,
    ).toBe(201);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'late',
      lines: [{ sku: 'LATE', quantity: 5 }],
    });
    const prices = await stack.api('PUT', '/api/price-lists/STD/items', {
      items: ['GEAR', 'BOLT', 'LATE'].map((sku) => ({ sku, price: 1000 })),
    });
    expect(prices.status).toBe(200);
    const res = await post(`/console/orders/${id}/release`, people.operator, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/orders/${id}`);
    await stack.settle();
    const after = await order(id);
    expect(after.status).toBe('confirmed');
    expect(after.history.map((h: { to: string }) => h.to)).toEqual([
      'received',
      'on_hold',
      'received',
      'confirmed',
    ]);
    expect(after.history[2].actor).toBe('operator@example.com');
    const audit = await stack.db('audit_log').where('operation', 'consoleReleaseOrder').first();
    expect(audit).toMatchObject({ actor: 'operator@example.com' });
    // The flash notice on the page the 303 leads to.
    const flash = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('stockbridge_flash='))!
      .split(';')[0]!;
    const shown = await stack.app.request(`/console/orders/${id}`, {
      headers: { cookie: `${people.operator.cookie}; ${flash}`, 'accept-language': 'en' },
    });
    expect(await shown.text()).toContain('The order was released; it is processed again.');
  });

  it('refuses a release of an order not on hold with 409 and the reason, changing nothing', async () => {
    const id = await placed([{ sku: 'GEAR', quantity: 1 }]);
    const res = await post(`/console/orders/${id}/release`, people.operator, {});
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('The change was not made:');
    expect(html).toContain(`<h1>Order ${id}</h1>`);
    expect((await order(id)).status).toBe('confirmed');
  });

  it('lets finance approve a credit hold with a reason, and answers 422 without one', async () => {
    const id = await placed([{ sku: 'BOLT', quantity: 1 }], { customer: { code: 'TIGHT' } });
    const other = await placed([{ sku: 'BOLT', quantity: 1 }], { customer: { code: 'TIGHT' } });
    expect(await order(other)).toMatchObject({ status: 'on_hold', holdReason: 'credit_limit' });
    // The operator sees release but not approve; finance sees approve and reject.
    const ops = await (await get(`/console/orders/${other}`, people.operator)).text();
    expect(ops).not.toContain('>Approve</button>');
    const fin = await (await get(`/console/orders/${other}`, people.finance)).text();
    expect(fin).toContain('>Approve</button>');
    expect(fin).toContain('>Reject</button>');
    expect(fin).toContain('Over the credit limit');

    const bad = await post(`/console/orders/${other}/approve`, people.finance, { reason: '  ' });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toMatch(/id="f-reason"[^>]*aria-invalid="true"/);
    expect(badHtml).toContain('href="#f-reason"');
    expect(badHtml).not.toMatch(/id="reject-reason"[^>]*aria-invalid="true"/);
    expect((await order(other)).status).toBe('on_hold');
    expect((await post(`/console/orders/${other}/approve`, people.operator, { reason: 'x' })).status).toBe(
      403,
    );

    const ok = await post(`/console/orders/${other}/approve`, people.finance, { reason: 'paid in advance' });
    expect(ok.status).toBe(303);
    await stack.settle();
    const after = await order(other);
    expect(after.status).toBe('confirmed');
    expect(after.approvals).toEqual([
      expect.objectContaining({
        decision: 'approved',
        reason: 'paid in advance',
        actor: 'finance@example.com',
      }),
    ]);
    expect(await stack.db('audit_log').where('operation', 'consoleApproveOrder').first()).toMatchObject({
      actor: 'finance@example.com',
    });
    expect((await order(id)).status).toBe('confirmed');
  });

  it('lets finance reject a held order with a reason', async () => {
    const id = await placed([{ sku: 'NOPE', quantity: 1 }]);
    const res = await post(`/console/orders/${id}/reject`, people.finance, { reason: 'customer withdrew' });
    expect(res.status).toBe(303);
    const after = await order(id);
    expect(after.status).toBe('rejected');
    expect(after.history.at(-1)).toMatchObject({ to: 'rejected', reason: 'rejected: customer withdrew' });
  });

  it('cancels with a reason; a second cancel is refused with 409', async () => {
    const id = await placed([{ sku: 'GEAR', quantity: 1 }]);
    const page = await (await get(`/console/orders/${id}`, people.operator)).text();
    expect(page).toContain('>Cancel order</button>');
    const res = await post(`/console/orders/${id}/cancel`, people.operator, { reason: 'customer called' });
    expect(res.status).toBe(303);
    const after = await order(id);
    expect(after.status).toBe('cancelled');
    expect(after.history.at(-1)).toMatchObject({ to: 'cancelled', actor: 'operator@example.com' });
    expect(after.history.at(-1).reason).toContain('customer called');
    const again = await post(`/console/orders/${id}/cancel`, people.operator, { reason: 'again' });
    expect(again.status).toBe(409);
  });

  it('ships the quantities given with carrier and tracking; a bad quantity is 422 beside its field', async () => {
    const id = await placed([
      { sku: 'GEAR', quantity: 3 },
      { sku: 'BOLT', quantity: 2 },
    ]);
    const page = await (await get(`/console/orders/${id}`, people.operator)).text();
    expect(page).toContain('>Ship</button>');
    expect(page).toContain('name="lines.0.quantity"');

    const bad = await post(`/console/orders/${id}/ship`, people.operator, {
      'lines.0.sku': 'GEAR',
      'lines.0.quantity': '1.5',
      'lines.1.sku': 'BOLT',
      'lines.1.quantity': '2',
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/id="f-lines-0-quantity"[^>]*aria-invalid="true"/);
    expect((await order(id)).shipments).toEqual([]);

    const lastShipment = /name="lastShipment" value="(\d+)"/.exec(page)?.[1];
    expect(lastShipment).toBe('0');
    const shipForm = {
      lastShipment: lastShipment!,
      'lines.0.sku': 'GEAR',
      'lines.0.quantity': '2',
      'lines.1.sku': 'BOLT',
      'lines.1.quantity': '0',
      carrier: 'SF Express',
      trackingNumber: 'SF123456',
    };
    const res = await post(`/console/orders/${id}/ship`, people.operator, shipForm);
    expect(res.status).toBe(303);
    // The same form posted again ships nothing more.
    const again = await post(`/console/orders/${id}/ship`, people.operator, shipForm);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('after the form was shown');
    const { lastShipment: _l, ...noKey } = shipForm;
    expect((await post(`/console/orders/${id}/ship`, people.operator, noKey)).status).toBe(422);
    const after = await order(id);
    expect(after.status).toBe('partially_shipped');
    expect(after.shipments).toEqual([
      expect.objectContaining({
        carrier: 'SF Express',
        trackingNumber: 'SF123456',
        lines: [{ sku: 'GEAR', quantity: 2 }],
      }),
    ]);
    const shown = await (await get(`/console/orders/${id}`, people.viewer)).text();
    expect(shown).toContain('SF123456');
    expect(shown).toContain('GEAR × 2');
  });
});

describe('the phone order page', () => {
  const phoneForm = (key: string, extra: Record<string, string> = {}) => ({
    formKey: key,
    'customer.code': 'ACME',
    'customer.name': 'Wang Fang',
    'customer.phone': '+86 139 0000 0000',
    currency: 'EUR',
    externalId: '',
    'lines.0.sku': 'GEAR',
    'lines.0.quantity': '40',
    'lines.1.sku': '',
    'lines.1.quantity': '',
    'lines.2.sku': 'BOLT',
    'lines.2.quantity': '3',
    ...extra,
  });

  it('shows the form with its labels, a form key, the live quote region and its script', async () => {
    const res = await get('/console/orders/new', people.operator);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const label of [
      'Customer code',
      'Contact name',
      'Currency',
      'SKU, line 1',
      'Quantity, line 1',
      'Place order',
      'Check',
      'Add line',
    ])
      expect(html).toContain(label);
    expect(html).toMatch(/name="formKey" value="[A-Za-z0-9-]{8,}"/);
    expect(html).toContain('aria-live="polite"');
    expect(html).toContain('/console/assets/order-quote.js');
    const js = await stack.app.request('/console/assets/order-quote.js');
    expect(await js.text()).toContain('/api/orders/quote');
    const zh = await (await get('/console/orders/new', people.operator, 'zh-CN')).text();
    expect(zh).toContain('提交订单');
  });

  it('gives finance the check but not "Place order"', async () => {
    const res = await post('/console/orders/new/quote', people.finance, phoneForm('check-key-0002'));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Processing would make it');
    expect(html).not.toContain('Place order');
    const page = await (await get('/console/orders/new', people.operator)).text();
    expect(page).toContain('Place order');
    // A form without its key is refused in the reader's language.
    const noKey = await post('/console/orders/new', people.operator, phoneForm(''), 'zh-CN');
    expect(noKey.status).toBe(422);
    expect(await noKey.text()).toContain('表单缺少有效的表单编号');
  });

  it('checks the form without script: the quote on the page, nothing stored', async () => {
    const before = Number((await stack.db('orders').count({ n: '*' }))[0]!.n);
    const res = await post('/console/orders/new/quote', people.operator, phoneForm('check-key-0001'));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Processing would make it');
    expect(html).toContain('Backordered'); // 40 GEAR, 50 in stock less earlier orders' reservations
    expect(html).toContain('STD (default price)');
    expect(html).toMatch(/main: \d+, annex: \d+/);
    expect(html).toContain('value="check-key-0001"');
    // The blank middle row is gone; BOLT is now row 2.
    expect(html).toMatch(/name="lines\.1\.sku"[^>]*value="BOLT"|value="BOLT"[^>]*name="lines\.1\.sku"/);
    expect(Number((await stack.db('orders').count({ n: '*' }))[0]!.n)).toBe(before);
    const zh = await post('/console/orders/new/quote', people.operator, phoneForm('check-key-0001'), 'zh-CN');
    expect(await zh.text()).toContain('处理结果将为');
  });

  it('answers a bad form with 422 beside the field, storing nothing', async () => {
    const before = Number((await stack.db('orders').count({ n: '*' }))[0]!.n);
    const res = await post(
      '/console/orders/new',
      people.operator,
      phoneForm('bad-key-00001', { currency: 'euro', 'lines.2.quantity': '-1' }),
    );
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/id="f-currency"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="f-lines-1-quantity"[^>]*aria-invalid="true"/);
    expect(Number((await stack.db('orders').count({ n: '*' }))[0]!.n)).toBe(before);
  });

  it('places the order once, even when the form is posted twice', async () => {
    const key = 'place-key-00001';
    const first = await post(
      '/console/orders/new',
      people.operator,
      phoneForm(key, { 'lines.0.quantity': '2' }),
    );
    expect(first.status).toBe(303);
    const location = first.headers.get('location')!;
    expect(location).toMatch(/^\/console\/orders\/\d+$/);
    const second = await post(
      '/console/orders/new',
      people.operator,
      phoneForm(key, { 'lines.0.quantity': '2' }),
    );
    expect(second.status).toBe(303);
    expect(second.headers.get('location')).toBe(location);
    const rows = await stack.db('orders').where({ channel: 'api', external_id: `phone-${key}` });
    expect(rows).toHaveLength(1);
    await stack.settle();
    const id = Number(location.split('/').pop());
    const stored = await order(id);
    expect(stored).toMatchObject({ status: 'confirmed', customer: { code: 'ACME' } });
    expect(stored.history[0]).toMatchObject({ to: 'received', actor: 'operator@example.com' });
    expect(stored.lines.map((l: { sku: string; ordered: number }) => [l.sku, l.ordered])).toEqual([
      ['GEAR', 2],
      ['BOLT', 3],
    ]);
    expect(await stack.db('audit_log').where('operation', 'consolePlaceOrder').first()).toMatchObject({
      actor: 'operator@example.com',
    });
  });
});

describe('the order list on SQLite', () => {
  it('filters by day, channel and external id', async () => {
    const lite = await createStack({ sqlite: true });
    try {
      await seedCatalog(lite, [{ code: 'main', priority: 1 }], ['GEAR']);
      const ids: number[] = [];
      for (const [ext, placedAt] of [
        ['L-1', '2026-02-01T23:59:59Z'],
        ['L-2', '2026-02-02T00:00:00Z'],
        ['L-3', '2026-02-03T12:00:00Z'],
      ] as const) {
        const r = await lite.api('POST', '/api/orders', {
          externalId: ext,
          currency: 'EUR',
          placedAt,
          lines: [{ sku: 'GEAR', quantity: 1, unitPrice: 1000 }],
        });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      expect(
        (
          await lite.api('POST', '/api/users', {
            email: 'v@example.com',
            role: 'viewer',
            password: 'correct horse battery',
          })
        ).status,
      ).toBe(201);
      const who = await logIn(lite.app, 'v@example.com', 'correct horse battery');
      const html = await (
        await lite.app.request('/console/orders?placedFrom=2026-02-02&placedTo=2026-02-02&channel=api', {
          headers: { cookie: who.cookie, 'accept-language': 'en' },
        })
      ).text();
      const shown = [...html.matchAll(/href="\/console\/orders\/(\d+)"/g)].map((m) => Number(m[1]));
      expect(shown).toEqual([ids[1]]);
      const byRef = await (
        await lite.app.request('/console/orders?externalId=L-3', { headers: { cookie: who.cookie } })
      ).text();
      expect([...byRef.matchAll(/href="\/console\/orders\/(\d+)"/g)].map((m) => Number(m[1]))).toEqual([
        ids[2],
      ]);
    } finally {
      await lite.close();
    }
  });
});
