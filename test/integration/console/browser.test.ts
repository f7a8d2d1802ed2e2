// biome-ignore-all lint/performance/useDomNodeTextContent: the test reads what the browser renders (Playwright's innerText), not the DOM's text.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TEXTS } from '../../../src/auth/page-texts.js';
import { CT } from '../../../src/console/channels/texts.js';
import { inputId, NAV } from '../../../src/console/components.js';
import { T as OT } from '../../../src/console/orders/texts.js';
import { COMMON } from '../../../src/console/texts.js';
import {
  browserTestsRun,
  laptopContext,
  launchBrowser,
  screenshot,
  seriousViolations,
  serveApp,
  untilOnPage,
} from '../../helpers/browser.js';
import { deliverShopifyWebhook, shopifyOrderBody } from '../../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/**
 * The console in a real browser (issue 19): headless Chromium logs in, creates a Shopify channel,
 * maps a SKU, enters a phone order, finds a held order, releases it and sees it confirmed, then
 * visits every page of the navigation. Each page is checked with axe-core (a serious or critical
 * finding fails) and saved as a 1280×800 screenshot in test-artifacts/console/.
 */
const PASSWORD = 'correct horse battery';
const DIR = 'console';
const SHOP = 'browser-tea.myshopify.com';
const WEBHOOK_SECRET = 'browser-webhook-secret';
const en = { auth: AUTH_TEXTS.en, common: COMMON.en, channels: CT.en, orders: OT.en };

describe.runIf(browserTestsRun())('the console in headless Chromium', () => {
  let stack: TestStack;
  let served: Awaited<ReturnType<typeof serveApp>> | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let base = '';
  let channelId = 0;

  beforeAll(async () => {
    // Launched first: under CI a missing Chromium fails here, saying why.
    browser = await launchBrowser();
    stack = await createStack();
    stack.startWorker(4);
    served = await serveApp(stack.app);
    base = served.base;
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['A1', 'B2']);
    const receipt = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'PO-BROWSER',
      lines: [
        { sku: 'A1', quantity: 100 },
        { sku: 'B2', quantity: 100 },
      ],
    });
    expect(receipt.status).toBeLessThan(300);
    expect(
      (await stack.api('PUT', '/api/customers/HZ01', { name: 'Hangzhou Tea House' })).status,
    ).toBeLessThan(300);
    // The standard price list, so a phone order without prices is priced.
    for (const [method, path, body] of [
      ['PUT', '/api/price-lists/STANDARD', { name: 'Standard', currency: 'EUR' }],
      ['PUT', '/api/price-lists/STANDARD/items', { items: [{ sku: 'A1', price: 1250 }] }],
      ['POST', '/api/price-lists/STANDARD/assignments', { default: true }],
    ] as const) {
      const r = await stack.api(method, path, body);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    }
    const made = await stack.api('POST', '/api/users', {
      email: 'lead@example.com',
      role: 'admin',
      password: PASSWORD,
    });
    expect(made.status).toBe(201);
    context = await laptopContext(browser);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await served?.close();
    await stack?.close();
  });

  /** Opens a console page: its answer's status, then `check`. */
  async function visit(path: string, name: string, status = 200) {
    const res = await page.goto(`${base}${path}`);
    expect(res?.status(), `${path} answers ${status}`).toBe(status);
    await check(name);
  }

  /**
   * The page as it is now: one h1, a screenshot, no serious accessibility finding (axe is left out
   * only where the same page in much the same state is checked again later).
   */
  async function check(name: string, { axe = true } = {}) {
    expect(await page.locator('h1').count(), `${page.url()} has one h1`).toBe(1);
    await screenshot(page, DIR, name);
    if (axe) expect(await seriousViolations(page)).toEqual([]);
  }

  const mainText = () => page.locator('main').innerText();
  const orderOf = (externalId: string) =>
    stack.db('orders').where({ external_id: externalId }).first('id', 'status', 'hold_reason');

  /** Clicks a submit button and waits for the page the form leads to. */
  async function submit(name: string | RegExp, within = page.locator('main')) {
    const loaded = page.waitForEvent('load');
    await within.getByRole('button', { name, exact: typeof name === 'string' }).click();
    await loaded;
  }

  it('logs in through the login form and lands on the page it asked for', async () => {
    const res = await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(res?.status()).toBe(200);
    await check('login');
    await page.getByLabel(en.auth.email).fill('lead@example.com');
    await page.getByLabel(en.auth.password).fill(PASSWORD);
    await Promise.all([
      page.waitForURL(/\/console/),
      page.getByRole('button', { name: en.auth.logIn }).click(),
    ]);
    expect(new URL(page.url()).pathname).toBe('/console');
    const cookies = await context!.cookies();
    expect(cookies.find((c) => c.name === 'stockbridge_session')?.httpOnly).toBe(true);
    await check('dashboard-empty', { axe: false });
  });

  it('creates a Shopify channel through its form; the secrets are never shown again', async () => {
    await visit('/console/channels/new?type=shopify', 'channel-new');
    await page.locator(`#${inputId('name')}`).fill('Tea shop');
    await page.locator(`#${inputId('settings.shopDomain')}`).fill(SHOP);
    await page.locator(`#${inputId('settings.accessToken')}`).fill('shpat_browser_token');
    await page.locator(`#${inputId('settings.webhookSecret')}`).fill(WEBHOOK_SECRET);
    await submit(en.channels.createButton);
    const m = /\/console\/channels\/(\d+)$/.exec(new URL(page.url()).pathname);
    expect(m, page.url()).not.toBeNull();
    channelId = Number(m![1]);
    const row = await stack.db('channels').where({ id: channelId }).first('type', 'name');
    expect(row).toEqual({ type: 'shopify', name: 'Tea shop' });
    const html = await page.content();
    expect(html).not.toContain('shpat_browser_token');
    expect(html).not.toContain(WEBHOOK_SECRET);
    expect(html).toContain(`/webhooks/${channelId}`);
    await check('channel', { axe: false });
  });

  it('shows an order held for an unmapped item; mapping the SKU and replaying confirms it', async () => {
    const body = shopifyOrderBody('5800000000000000001', [
      { sku: 'SHOP-TEE', variantId: '4400000000000000099', quantity: 2 },
    ]);
    const status = await deliverShopifyWebhook(base, channelId, {
      secret: WEBHOOK_SECRET,
      shopDomain: SHOP,
      topic: 'orders/create',
      body,
      eventId: 'evt-browser-1',
    });
    expect(status).toBe(200);
    await page.goto(`${base}/console/channels/${channelId}`);
    await untilOnPage(page, async () => (await mainText()).includes('SHOP-TEE'), 'the unmapped SKU SHOP-TEE');
    expect((await orderOf('5800000000000000001'))?.hold_reason).toBe('unmapped_sku');
    await check('channel-unmapped');

    const mapForm = page.locator('form', {
      has: page.getByRole('button', { name: en.channels.mapThis('SHOP-TEE') }),
    });
    await mapForm.getByRole('textbox').fill('B2');
    await submit(en.channels.mapThis('SHOP-TEE'), mapForm);
    const mapping = await stack.db('channel_skus').where({ channel_id: channelId, sku_code: 'B2' }).first();
    expect(mapping).toMatchObject({ variant_id: '4400000000000000099', source: 'manual' });

    page.once('dialog', (d) => void d.accept());
    await submit(en.channels.replayButton);
    expect(await mainText()).toContain(en.channels.replayDone(1));
    await untilOnPage(
      page,
      async () => (await orderOf('5800000000000000001'))?.status === 'confirmed',
      'the replayed order to be confirmed',
    );
    await page.goto(`${base}/console/channels/${channelId}`);
    expect(await mainText()).toContain(en.channels.heldNone);
    await check('channel-mapped');
  });

  it('takes an order by phone: the quote appears as lines are typed, then the order is placed', async () => {
    await visit('/console/orders/new', 'order-new');
    await page.locator(`#${inputId('customer.code')}`).fill('HZ01');
    await page.locator(`#${inputId('currency')}`).fill('EUR');
    await page.locator(`#${inputId('externalId')}`).fill('PHONE-1');
    await page.locator(`#${inputId('lines.0.sku')}`).fill('A1');
    await page.locator(`#${inputId('lines.0.quantity')}`).fill('3');
    // The quote comes from POST /api/orders/quote, fetched by the page's script.
    const quote = page.locator('#order-quote');
    await expect.poll(() => quote.innerText(), { timeout: 15_000 }).toContain(en.orders.quoteNoHold);
    expect(await quote.innerText()).toContain('A1');
    await quote.scrollIntoViewIfNeeded();
    await check('order-new-quote');
    await submit(en.orders.placeOrder);
    const placed = await orderOf('PHONE-1');
    expect(placed).toBeTruthy();
    expect(new URL(page.url()).pathname).toBe(`/console/orders/${placed!.id}`);
    await untilOnPage(
      page,
      async () => (await page.locator('main .badge').first().innerText()) === en.common.orderStatus.confirmed,
      'the phone order to be confirmed',
    );
    await check('order-phone');
  });

  it('finds a held order in the list filtered by status, releases it and sees it confirmed', async () => {
    const held = await stack.api('POST', '/api/orders', {
      externalId: 'HELD-1',
      currency: 'EUR',
      lines: [{ sku: 'C3', quantity: 1, unitPrice: 1000 }],
    });
    expect(held.status).toBeLessThan(300);
    await stack.settle();
    expect(await orderOf('HELD-1')).toMatchObject({ status: 'on_hold', hold_reason: 'unknown_sku' });
    // The cause is fixed (the SKU is made and stocked), then the order is released in the console.
    await seedCatalog(stack, [], ['C3']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'PO-C3',
      lines: [{ sku: 'C3', quantity: 5 }],
    });

    await visit('/console/orders', 'orders');
    await page.locator(`#${inputId('status')}`).selectOption('on_hold');
    await submit(en.common.search);
    expect(new URL(page.url()).searchParams.get('status')).toBe('on_hold');
    const rows = page.locator('main table tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('HELD-1');
    await check('orders-on-hold');

    const id = (await orderOf('HELD-1'))!.id;
    await Promise.all([
      page.waitForURL(`${base}/console/orders/${id}`),
      rows
        .first()
        .getByRole('link', { name: `#${id}` })
        .click(),
    ]);
    expect(await mainText()).toContain(en.orders.holdReasons.unknown_sku);
    await check('order-held');
    await submit(en.orders.release);
    expect(await mainText()).toContain(en.orders.released);
    await untilOnPage(
      page,
      async () => (await page.locator('main .badge').first().innerText()) === en.common.orderStatus.confirmed,
      'the released order to be confirmed',
    );
    expect((await orderOf('HELD-1'))!.status).toBe('confirmed');
    await check('order-released');
  });

  it('visits every page of the navigation', async () => {
    for (const n of NAV) await visit(n.href, `nav-${n.key}`);
    await visit('/console/no-such-page', 'error-404', 404);
    expect(await page.locator('h1').innerText()).toBe(en.common.errorTitle(404));
    // Keyboard: the first Tab lands on a link (skip link or navigation).
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.tagName)).toBe('A');
  });

  it('shows the dashboard in Chinese to a browser that asks for it', async () => {
    const zh = await laptopContext(browser!, 'zh-CN');
    try {
      await zh.addCookies(await context!.cookies());
      const p = await zh.newPage();
      const res = await p.goto(`${base}/console`);
      expect(res?.status()).toBe(200);
      expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await p.locator('nav').innerText()).toContain(COMMON['zh-CN'].nav.orders);
      await screenshot(p, DIR, 'dashboard-zh-CN');
      expect(await seriousViolations(p)).toEqual([]);
    } finally {
      await zh.close();
    }
  });
});
