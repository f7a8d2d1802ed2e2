// biome-ignore-all lint/performance/useDomNodeTextContent: the test reads what the browser renders (Playwright's innerText), not the DOM's text.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type TestStack } from '../helpers/stack.js';
import { orderForStatusPage, SF_NUMBER, type StatusPageOrder, UPS_NUMBER } from '../helpers/status-order.js';

/** Debian's chromium package; CI installs it (.ci/run). */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots kept as test artifacts (git-ignored). */
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown }[];
}

/** axe-core's findings on the page that are serious or critical (it must have checked something). */
async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const w = globalThis as unknown as {
      axe: { run(): Promise<{ violations: AxeViolation[]; passes: unknown[] }> };
    };
    const r = await w.axe.run();
    return {
      passes: r.passes.length,
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      })),
    };
  });
  expect(result.passes).toBeGreaterThan(10);
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

describe('the status page in a real browser (headless Chromium)', () => {
  let stack: TestStack;
  let server: ReturnType<typeof serve> | undefined;
  let browser: Browser | undefined;
  let base = '';
  let order: StatusPageOrder;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: install Debian's chromium package (sudo apt install chromium); CI installs it in .ci/run`,
      );
    }
    stack = await createStack();
    stack.startWorker(2);
    order = await orderForStatusPage(stack, 'SHOP-8801');
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack?.close();
  });

  /** A phone-sized page. */
  const phonePage = async () => {
    const context = await browser!.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
    });
    return context.newPage();
  };

  it.each([
    {
      lang: 'zh-CN',
      query: '',
      status: '部分发货',
      backordered: '缺货待补',
      waiting: '待补数量: 3 / 4',
      track: '查询物流',
    },
    {
      lang: 'en',
      query: '?lang=en',
      status: 'Partly shipped',
      backordered: 'Waiting for stock',
      waiting: 'Waiting: 3 / 4',
      track: 'Track this parcel',
    },
  ])('shows status, both parcels with tracking links and the backordered line in $lang', async (c) => {
    const page = await phonePage();
    try {
      const res = await page.goto(`${base}${order.path}${c.query}`);
      expect(res?.status()).toBe(200);
      expect(await page.getAttribute('html', 'lang')).toBe(c.lang);
      expect((await page.locator('#status').innerText()).trim()).toBe(c.status);
      expect(await page.locator('main').innerText()).toContain('SHOP-8801');

      const sf = page.getByRole('link', { name: `${c.track} ${SF_NUMBER}` });
      expect(await sf.getAttribute('href')).toBe(
        `https://www.sf-express.com/chn/sc/waybill/waybill-detail/${SF_NUMBER}`,
      );
      const ups = page.getByRole('link', { name: `${c.track} ${UPS_NUMBER}` });
      expect(await ups.getAttribute('href')).toBe(`https://www.ups.com/track?tracknum=${UPS_NUMBER}`);
      const shipments = await page.locator('#shipments').innerText();
      expect(shipments).toContain(SF_NUMBER);
      expect(shipments).toContain(UPS_NUMBER);
      expect(shipments).toContain(c.lang === 'en' ? 'SF Express' : '顺丰速运');

      const backordered = await page.locator('#backordered').innerText();
      expect(backordered).toContain(c.backordered);
      expect(backordered).toContain('Clay teapot');
      expect(backordered).toContain('POT');
      expect(backordered).toContain(c.waiting);

      // Readable on a phone: one column that fits the screen, no sideways scrolling.
      const widths = await page.evaluate(() => {
        // Runs in the page (this project compiles without the DOM's types).
        const w = globalThis as any;
        return [w.document.documentElement.scrollWidth as number, w.innerWidth as number];
      });
      expect(widths[0]).toBeLessThanOrEqual(widths[1]!);

      expect(await seriousViolations(page)).toEqual([]);

      const file = path.join(ARTIFACTS, `status-page-${c.lang}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(1000);
    } finally {
      await page.context().close();
    }
  });

  it('answers a wrong link 404, a revoked link 404 and its new link 200', async () => {
    const page = await phonePage();
    try {
      const token = order.path.split('/')[2]!;
      const wrong = await page.goto(`${base}/status/${token.slice(0, -2)}xx`);
      expect(wrong?.status()).toBe(404);
      expect(await page.locator('main').innerText()).toContain('Page not found');
      expect(await seriousViolations(page)).toEqual([]);

      const revoked = await stack.api('POST', `/api/orders/${order.orderId}/status-link/revoke`);
      expect(revoked.status).toBe(200);
      expect((await page.goto(`${base}${order.path}`))?.status()).toBe(404);
      const fresh = new URL(revoked.body.url).pathname;
      expect((await page.goto(`${base}${fresh}`))?.status()).toBe(200);
      expect((await page.locator('#status').innerText()).trim()).toBe('部分发货');
      order = { ...order, url: revoked.body.url, path: fresh };
    } finally {
      await page.context().close();
    }
  });

  it('gives the JSON form to an app over HTTP', async () => {
    const res = await fetch(`${base}${order.path}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as any;
    expect(body.status.code).toBe('partially_shipped');
    expect(body.shipments.map((s: { trackingNumber: string }) => s.trackingNumber)).toEqual([
      SF_NUMBER,
      UPS_NUMBER,
    ]);
    expect(body.backordered).toEqual([
      expect.objectContaining({ sku: 'POT', waiting: 3, state: 'partly_available' }),
    ]);
    const wrong = await fetch(`${base}/status/nonsense`, { headers: { accept: 'application/json' } });
    expect(wrong.status).toBe(404);
  });
});
