/**
 * Test support: Debian's Chromium driven by playwright-core, headless, with a fresh profile
 * (`--user-data-dir` in a temp folder) and no background network, at a laptop-sized viewport.
 * `scripts/ensure-test-tools.sh` installs `/usr/bin/chromium` when it is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.DROPTUNE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far (a test asserts none). */
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: run scripts/ensure-test-tools.sh (installs Debian's chromium)`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'droptune-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 860 },
    deviceScaleFactor: 1,
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A 401/404 a test provokes on purpose shows as a console error of the failed fetch; keep
    // script errors only.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Input latency as the user feels it: time from a key press to the next painted frame after
 * the page handled it, measured inside the page (median and max over `presses`).
 */
export async function measureKeyLatency(
  page: Page,
  selector: string,
  presses = 10,
): Promise<{ medianMs: number; maxMs: number }> {
  await page.focus(selector);
  const samples: number[] = [];
  for (let i = 0; i < presses; i++) {
    await page.evaluate(() => {
      const w = window as unknown as { __t0?: number; __lat?: Promise<number> };
      w.__lat = new Promise<number>((resolve) => {
        document.addEventListener(
          'keydown',
          () => {
            const t0 = performance.now();
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
          },
          { once: true, capture: true },
        );
      });
    });
    await page.keyboard.press(i % 2 === 0 ? 'a' : 'Backspace');
    samples.push(await page.evaluate(() => (window as unknown as { __lat: Promise<number> }).__lat));
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)]!, maxMs: samples.at(-1)! };
}
