// The tracks table at a size a real library reaches (20,000 tracks, a synthetic database as the
// benchmark's): a scroll through it leaves every row in view drawn with its data and in order,
// a jump to the end shows the last rows, and selection (click, Shift+click) and the context
// menu work on rows that were scrolled to. The smoothness figures are bench:library's.
import { expect, test } from '@playwright/test';
import { syntheticDb } from '../src-main/bench/library-synthetic.js';
import { type App, launchApp, screenshot } from './support/app.js';

const TRACKS = 20_000;
const ROW_PX = 32;

test.describe.configure({ mode: 'serial' });

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo, { prepare: (home) => syntheticDb(home, TRACKS) });
});
test.afterAll(async () => app?.close());

/** The rows the scroller shows now: for each, its place in the table and whether its data is in. */
async function rowsInView(page: App['page']): Promise<{ first: number; last: number; missing: number[]; order: boolean }> {
  return page.locator('.tt-scroll').evaluate((el, rowPx) => {
    const head = (el.querySelector('.tt-head') as HTMLElement).offsetHeight;
    const first = Math.floor(el.scrollTop / rowPx);
    const last = Math.min(Number(el.getAttribute('aria-rowcount')), Math.ceil((el.scrollTop + el.clientHeight - head) / rowPx)) - 1;
    const missing: number[] = [];
    let order = true;
    const view = el.getBoundingClientRect();
    for (let i = first; i <= last; i++) {
      const r = el.querySelector(`[aria-rowindex="${i + 1}"]`) as HTMLElement | null;
      if (!r || r.hasAttribute('data-loading') || !r.textContent?.trim()) {
        missing.push(i);
        continue;
      }
      // The row is where its index says: under the header, at i rows from the top of the body.
      const top = r.getBoundingClientRect().top - view.top + el.scrollTop - head;
      if (Math.abs(top - i * rowPx) > 1) order = false;
    }
    return { first, last, missing, order };
  }, ROW_PX);
}

test('20,000 tracks: scrolling fills every row in view, in order; a jump to the end shows the last', async () => {
  const { page } = app;
  await page.getByTestId('nav-library').click();
  await page.getByTestId('lib-tracks').click();
  const table = page.getByTestId('tracks-table');
  await expect(table).toHaveAttribute('data-count', String(TRACKS));
  await expect(table.locator('.tt-foot')).toHaveText('20,000 tracks');
  const scroller = table.locator('.tt-scroll');
  await scroller.hover();
  // Wheel steps past several pages of rows (each fetched as it comes near).
  for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 400);
  await expect.poll(async () => (await rowsInView(page)).missing).toEqual([]);
  let view = await rowsInView(page);
  expect(view.first).toBeGreaterThan(400);
  expect(view.order).toBe(true);
  // Only a window of rows exists, not the table.
  expect(await table.getByTestId('track-row').count()).toBeLessThan(120);

  // The middle (as a drag of the scrollbar lands), then the end.
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect.poll(async () => (await rowsInView(page)).missing).toEqual([]);
  view = await rowsInView(page);
  expect(Math.abs(view.first - TRACKS / 2)).toBeLessThan(40);
  expect(view.order).toBe(true);
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(table.locator(`[aria-rowindex="${TRACKS}"]`)).not.toHaveAttribute('data-loading', '');
  await expect.poll(async () => (await rowsInView(page)).missing).toEqual([]);
  expect((await rowsInView(page)).last).toBe(TRACKS - 1);
  await screenshot(page, 'tracks-table-end');
});

test('selection and the context menu on rows scrolled to', async () => {
  const { page } = app;
  const table = page.getByTestId('tracks-table');
  const scroller = table.locator('.tt-scroll');
  await scroller.evaluate((el, rowPx) => (el.scrollTop = 5000 * rowPx), ROW_PX);
  await expect.poll(async () => (await rowsInView(page)).missing).toEqual([]);
  const row = (i: number) => table.locator(`[aria-rowindex="${i + 1}"]`);
  await row(5003).click();
  await expect(row(5003)).toHaveAttribute('aria-selected', 'true');
  await row(5008).click({ modifiers: ['Shift'] });
  await expect(table.locator('.tt-foot')).toHaveText('6 of 20,000 tracks');
  await expect(table.locator('[aria-selected="true"]')).toHaveCount(6);
  // The selection is kept by id: scrolled away and back, the same rows are selected.
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await expect(row(0)).toBeVisible();
  await expect(table.locator('[aria-selected="true"]')).toHaveCount(0);
  await scroller.evaluate((el, rowPx) => (el.scrollTop = 5000 * rowPx), ROW_PX);
  await expect(table.locator('[aria-selected="true"]')).toHaveCount(6);
  // The menu acts on the selection; Escape closes it.
  await row(5005).click({ button: 'right' });
  const menu = page.getByTestId('track-menu');
  await expect(menu).toBeVisible();
  await expect(menu).toHaveAttribute('aria-label', '6 tracks');
  await screenshot(page, 'tracks-table-menu');
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(table.locator('[aria-selected="true"]')).toHaveCount(6);
});
