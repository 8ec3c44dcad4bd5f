// The window from 480 px wide up: nothing in the now-playing bar is cut off or overlaps, the format
// badge is whole, the queue rows keep their times. Screenshots at 480, 800 and 1200 px.
import { expect, test } from '@playwright/test';
import { type App, launchApp, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
});
test.afterAll(async () => app?.close());

/** Geometry of the now-playing bar and the queue, measured in one go in the page. */
function measure(): Record<string, unknown> {
  const q = (sel: string): HTMLElement | null => document.querySelector(sel);
  const rect = (el: Element | null): { x: number; y: number; w: number; h: number } | null => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  };
  const vw = document.documentElement.clientWidth;
  const bar = q('[data-testid=now-playing]')!;
  const inBar = (sel: string): HTMLElement | null => bar.querySelector(sel);
  const whole = (el: HTMLElement | null): boolean => {
    const r = rect(el);
    return !!el && !!r && r.w > 0 && el.scrollWidth <= el.clientWidth + 1 && r.x >= 0 && r.x + r.w <= vw + 0.5;
  };
  const overlap = (a: Element | null, b: Element | null): boolean => {
    const x = rect(a);
    const y = rect(b);
    return !!x && !!y && x.x < y.x + y.w && y.x < x.x + x.w && x.y < y.y + y.h && y.y < x.y + x.h;
  };
  const controls = ['[data-testid=play-pause]', '[data-testid=seek]', '[data-testid=position-time]', '[data-testid=duration-time]', '[aria-label=Previous]', '[aria-label=Next]', '[aria-label=Shuffle]', 'input[aria-label=Volume]', '[data-testid=format-badge]'];
  const duration = q('[data-testid=queue-duration]');
  const dr = rect(duration);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    notWhole: controls.filter((sel) => !whole(inBar(sel))),
    titleWidth: rect(inBar('[data-testid=np-title]'))?.w ?? 0,
    overlaps: [
      ['np-title', 'play-pause'],
      ['np-title', 'seek'],
      ['format-badge', 'play-pause'],
      ['format-badge', 'position-time'],
    ]
      .filter(([a, b]) => overlap(inBar(`[data-testid=${a}]`), inBar(`[data-testid=${b}]`)))
      .map((p) => p.join('/')),
    queueDurationInView: !!dr && dr.w > 0 && dr.x + dr.w <= vw,
  };
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
    await expect(page.getByTestId('format-badge')).toBeVisible();
    const m = await page.evaluate(measure);
    // No horizontal scrolling, every control and the format badge whole, the title has room and
    // nothing lies on top of it, the queue rows keep their durations in view.
    expect(m).toEqual({ scrollWidth: width, notWhole: [], titleWidth: expect.any(Number), overlaps: [], queueDurationInView: true });
    expect(m.titleWidth).toBeGreaterThan(60);
    await screenshot(page, `layout-${width}`);
    await page.getByTestId('nav-output').click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await screenshot(page, `layout-${width}-output`);
    await page.getByTestId('nav-queue').click();
  });
}
