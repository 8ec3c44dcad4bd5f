// Every main screen in both themes at the smallest supported window (800x600): nothing overflows
// sideways, the player controls stay reachable, and each screen is saved as a screenshot.
import { expect, test } from '@playwright/test';
import { type App, launchApp, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
});
test.afterAll(async () => app?.close());

const SCREENS = ['library', 'queue', 'sources', 'lyrics', 'plugins', 'output', 'diagnostics'] as const;

test('every screen at 800x600 in light and dark themes', async () => {
  const { page } = app;
  await page.setViewportSize({ width: 800, height: 600 });
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const screen of SCREENS) {
      await page.getByTestId(`nav-${screen}`).click();
      await expect(page.getByTestId(`nav-${screen}`)).toHaveAttribute('aria-current', 'page');
      await page.waitForTimeout(150);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${screen} (${theme}) overflows sideways`).toBeLessThanOrEqual(0);
      await expect(page.getByTestId('play-pause')).toBeInViewport();
      await expect(page.getByRole('slider', { name: 'Volume' })).toBeInViewport();
      await screenshot(page, `${screen}-${theme}-800x600`);
    }
  }
  // The theme choice is remembered.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('an unreachable core reads as such, not as a blank page', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Without the launch token the page explains what to do.
  const url = new URL(app.page.url());
  await page.goto(`${url.origin}/`);
  await expect(page.locator('.fatal')).toContainText('access token');
  await context.close();
});
