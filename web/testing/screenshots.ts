/**
 * Screenshots for docs/screenshots/: taken by the browser tests at the moment each page shows
 * what it is for, written only when DROPTUNE_SCREENSHOTS=1 (so a normal test run leaves the
 * working tree clean). `npm run screenshots:web` sets it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');

export async function snap(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (process.env.DROPTUNE_SCREENSHOTS !== '1') return;
  mkdirSync(DIR, { recursive: true });
  // No focus ring, no toast, no caret: the picture shows the page, not the test's last click.
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    document.getElementById('toasts')?.replaceChildren();
  });
  // Let charts finish their resize and the caret stop blinking into the picture.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({
    path: join(DIR, `${name}.png`),
    fullPage: options.fullPage ?? true,
    caret: 'hide',
    animations: 'disabled',
  });
}
