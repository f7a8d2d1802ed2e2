import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium package; CI installs it (.ci/run). */
export const CHROMIUM = process.env.STOCKBRIDGE_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots of the browser tests (git-ignored). */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `no Chromium at ${CHROMIUM}: install Debian's chromium package (sudo apt install chromium); CI installs it in .ci/run`;
}

/**
 * Whether to run the browser tests: yes when Chromium is there; under CI (`CI` set) a missing
 * Chromium is a failure (the test runs and says why); elsewhere the tests are skipped, saying why.
 */
export function browserTestsRun(): boolean {
  const missing = chromiumMissing();
  if (!missing || process.env.CI) return true;
  console.warn(`browser tests skipped: ${missing}`);
  return false;
}

/** Headless Chromium with nothing of its own going on (no updates, sync, QUIC, GPU). */
export async function launchBrowser(): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser profile (cookies of its own) with a laptop's screen, 1280×800. */
export function laptopContext(browser: Browser, locale = 'en-GB'): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale,
    extraHTTPHeaders: { 'accept-language': locale },
  });
}

/** Serves a Hono app on an ephemeral port of 127.0.0.1 over real HTTP. */
export async function serveApp(app: { fetch: (req: Request) => Response | Promise<Response> }) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's findings on the page (injected with `evaluate`, which the pages' CSP does not stop);
 * `passes` tells it checked something.
 */
export async function axeCheck(page: Page): Promise<{ passes: number; violations: AxeViolation[] }> {
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const w = globalThis as unknown as {
      axe: {
        run(options: { resultTypes: string[]; preload: boolean }): Promise<{
          passes: unknown[];
          violations: {
            id: string;
            impact: string | null;
            help: string;
            nodes: { target: unknown; html: string }[];
          }[];
        }>;
      };
    };
    // Only the violations' nodes are gathered in full (the other result types count their rules).
    const r = await w.axe.run({ resultTypes: ['violations'], preload: false });
    return {
      passes: r.passes.length,
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        nodes: v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`),
      })),
    };
  });
}

/** The serious and critical findings, one line each (an empty list: none). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { passes, violations } = await axeCheck(page);
  if (passes < 5) throw new Error(`axe checked almost nothing on ${page.url()} (${passes} passes)`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${page.url()}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(' | ')}`);
}

/** Saves the page as `<dir>/<name>.png` (what is on the 1280×800 screen) and returns the file. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const folder = path.join(ARTIFACTS, dir);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${name}.png`);
  await page.screenshot({ path: file });
  if (statSync(file).size < 1000) throw new Error(`screenshot ${file} is empty`);
  return file;
}

/** Waits until `check` holds, reloading the page between tries, or fails after `ms`. */
export async function untilOnPage(page: Page, check: () => Promise<boolean>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what} on ${page.url()}`);
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
}
