// The window from 480 px wide up: nothing in the now-playing bar is cut off or overlaps, the format
// badge is whole, the queue rows keep their times. Screenshots at 480, 800 and 1200 px.
import { expect, type Locator, type Page, test } from '@playwright/test';
import { type App, launchApp, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
});
test.afterAll(async () => app?.close());

async function box(l: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await l.boundingBox();
  if (!b) throw new Error(`${l.toString()} has no box`);
  return b;
}

/** The element shows all of its content: nothing clipped by overflow or by the viewport. */
async function expectWhole(page: Page, l: Locator): Promise<void> {
  await expect(l).toBeVisible();
  const clipped = await l.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
  expect(clipped, `${l.toString()} is clipped`).toBe(false);
  const b = await box(l);
  const vw = page.viewportSize()!.width;
  expect(b.x).toBeGreaterThanOrEqual(0);
  expect(b.x + b.width).toBeLessThanOrEqual(vw);
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test('start playing a few tracks', async () => {
  const { page } = app;
  await page.getByTestId('open-files').click();
  await page.getByTestId('fb-path').fill(app.media);
  await page.getByTestId('fb-path').press('Enter');
  await expect(page.getByTestId('fb-file')).toHaveCount(3);
  await page.getByRole('button', { name: 'Add this folder' }).click();
  await expect(page.getByTestId('queue-row')).toHaveCount(3);
  await page.getByTestId('queue-row').first().dblclick();
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.getByTestId('format-badge')).toBeVisible();
  // Keep playing for the whole spec.
  await page.getByRole('button', { name: 'Repeat: off' }).click();
  await expect(page.getByRole('button', { name: 'Repeat: all' })).toBeVisible();
});

for (const width of [480, 800, 1200]) {
  test(`the layout holds at ${width} px`, async () => {
    const { page } = app;
    await page.setViewportSize({ width, height: width === 480 ? 720 : 800 });
    await page.getByTestId('nav-queue').click();
    // No horizontal scrolling of the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    const bar = page.getByTestId('now-playing');
    for (const id of ['play-pause', 'seek', 'position-time', 'duration-time']) await expectWhole(page, bar.getByTestId(id));
    for (const name of ['Previous', 'Next', 'Shuffle', 'Volume']) await expect(bar.getByRole(name === 'Volume' ? 'slider' : 'button', { name, exact: name !== 'Volume' })).toBeInViewport({ ratio: 1 });
    await expectWhole(page, bar.getByTestId('format-badge'));
    // The title may ellipsize, but it has room, and nothing lies on top of it.
    const title = await box(bar.getByTestId('np-title'));
    expect(title.width).toBeGreaterThan(60);
    for (const id of ['play-pause', 'seek']) expect(overlaps(title, await box(bar.getByTestId(id)))).toBe(false);
    const badge = await box(bar.getByTestId('format-badge'));
    for (const id of ['play-pause', 'position-time']) expect(overlaps(badge, await box(bar.getByTestId(id)))).toBe(false);
    // Queue rows keep their durations in view.
    await expect(page.getByTestId('queue-duration').first()).toBeInViewport({ ratio: 1 });
    await screenshot(page, `layout-${width}`);
    await page.getByTestId('nav-output').click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await screenshot(page, `layout-${width}-output`);
    await page.getByTestId('nav-queue').click();
  });
}
