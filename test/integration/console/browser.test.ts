// biome-ignore-all lint/performance/useDomNodeTextContent: the test reads what the browser renders (Playwright's innerText), not the DOM's text.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TEXTS } from '../../../src/auth/page-texts.js';
import {
  browserTestsRun,
  laptopContext,
  launchBrowser,
  screenshot,
  seriousViolations,
  serveApp,
} from '../../helpers/browser.js';
import { createStack, type TestStack } from '../../helpers/stack.js';

/**
 * The console in a real browser (issue 19): headless Chromium logs in, works through the pages and
 * checks each with axe-core (serious or critical findings fail); screenshots of every page at
 * 1280×800 go to test-artifacts/console/.
 */
const PASSWORD = 'correct horse battery';
const DIR = 'console';

describe.runIf(browserTestsRun())('the console in headless Chromium', () => {
  let stack: TestStack;
  let served: Awaited<ReturnType<typeof serveApp>> | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let base = '';

  beforeAll(async () => {
    // Launched first: under CI a missing Chromium fails here, saying why.
    browser = await launchBrowser();
    stack = await createStack();
    stack.startWorker(4);
    served = await serveApp(stack.app);
    base = served.base;
    const made = await stack.api('POST', '/api/users', {
      email: 'ops@example.com',
      role: 'operator',
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

  /** Opens a console page: its answer's status, a screenshot, no serious accessibility finding. */
  async function visit(path: string, name: string, status = 200) {
    const res = await page.goto(`${base}${path}`);
    expect(res?.status(), `${path} answers ${status}`).toBe(status);
    await check(name);
  }

  /** The page as it is now: one h1, a screenshot, axe. */
  async function check(name: string) {
    expect(await page.locator('h1').count(), `${page.url()} has one h1`).toBe(1);
    await screenshot(page, DIR, name);
    expect(await seriousViolations(page)).toEqual([]);
  }

  it('logs in through the login form and lands on the page it asked for', async () => {
    const res = await page.goto(`${base}/console/orders`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(res?.status()).toBe(200);
    await check('login');
    const t = AUTH_TEXTS.en;
    await page.getByLabel(t.email).fill('ops@example.com');
    await page.getByLabel(t.password).fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/console/), page.getByRole('button', { name: t.logIn }).click()]);
    expect(new URL(page.url()).pathname).toBe('/console/orders');
    const cookies = await context!.cookies();
    expect(cookies.find((c) => c.name === 'stockbridge_session')?.httpOnly).toBe(true);
  });

  it('shows an unknown page as the console’s error page, in the browser’s language', async () => {
    await visit('/console/no-such-page', 'error-404', 404);
    expect(await page.locator('h1').innerText()).toBe('Error 404');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    // The navigation is there and reachable by keyboard: the first Tab lands on a link.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.tagName)).toBe('A');
  });
});
