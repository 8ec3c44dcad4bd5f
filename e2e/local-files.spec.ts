// Local files: open a folder through the file browser, play a file and watch the position
// advance from frames actually played; reorder the queue by drag; seek.
import { expect, test } from '@playwright/test';
import { type App, elapsedSeconds, launchApp, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
});
test.afterAll(async () => app?.close());

test('open a local file and see the position advance', async () => {
  const { page } = app;
  await page.getByTestId('nav-queue').click();
  await expect(page.getByText('Your queue is empty')).toBeVisible();
  await page.getByTestId('open-files').click();
  const dialog = page.getByTestId('file-browser');
  await expect(dialog).toBeVisible();
  await page.getByTestId('fb-path').fill(app.media);
  await page.getByTestId('fb-path').press('Enter');
  await expect(dialog.getByTestId('fb-file')).toHaveCount(3);
  await screenshot(page, 'file-browser');
  await dialog.getByRole('checkbox', { name: 'Select 01 Low tone.wav' }).check();
  await page.getByTestId('fb-play').click();
  await expect(dialog).toBeHidden();

  await expect(page.getByTestId('np-title')).toHaveText('01 Low tone');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.getByTestId('format-badge')).toContainText('44.1 kHz');
  await expect(page.getByTestId('format-badge')).toContainText('stereo');
  // The position comes from frames the output reports as played: it must move, and keep moving.
  await expect.poll(() => elapsedSeconds(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  const first = await elapsedSeconds(page);
  await expect.poll(() => elapsedSeconds(page), { timeout: 10_000 }).toBeGreaterThanOrEqual(first + 2);
  await expect(page.getByTestId('duration-time')).toHaveText('0:30');
  await screenshot(page, 'now-playing');
});

test('pause, resume and seek with the keyboard', async () => {
  const { page } = app;
  await page.keyboard.press('Space');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'paused');
  const paused = await elapsedSeconds(page);
  await page.waitForTimeout(1500);
  expect(await elapsedSeconds(page)).toBe(paused);
  await page.keyboard.press('Space');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing');
  const before = await elapsedSeconds(page);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => elapsedSeconds(page), { timeout: 5000 }).toBeGreaterThanOrEqual(before + 9);
});

test('lyrics from the .lrc beside the file follow the position', async () => {
  const { page } = app;
  await page.getByTestId('nav-lyrics').click();
  await expect(page.getByTestId('lyrics-candidate').locator('option:checked')).toContainText('Lyrics files beside the music');
  await expect(page.getByTestId('lyrics-line').first()).toHaveText('Low line 1');
  const lines = page.getByTestId('lyrics-lines');
  // The track is past 0:09 (seeked above), so the highlight is well into the file.
  await expect.poll(async () => Number(await lines.getAttribute('data-active')), { timeout: 5000 }).toBeGreaterThanOrEqual(4);
  await expect(page.locator('.lyrics-lines li.is-active')).toHaveText(/^Low line \d+$/);
  await page.getByTestId('nav-queue').click();
});

test('add a folder and reorder the queue by drag', async () => {
  const { page } = app;
  await page.getByTestId('open-files').click();
  await page.getByTestId('fb-path').fill(app.media);
  await page.getByTestId('fb-path').press('Enter');
  await expect(page.getByTestId('fb-file')).toHaveCount(3);
  await page.getByRole('button', { name: 'Add this folder' }).click();
  const titles = page.getByTestId('queue-title');
  await expect(titles).toHaveText(['01 Low tone', '01 Low tone', '02 Middle tone', '03 High tone']);

  // Drag the last row onto the second: it lands before it.
  await page.getByTestId('queue-row').nth(3).dragTo(page.getByTestId('queue-row').nth(1));
  await expect(titles).toHaveText(['01 Low tone', '03 High tone', '01 Low tone', '02 Middle tone']);
  // The current entry keeps playing and stays highlighted.
  await expect(page.locator('.track-row.is-current')).toHaveCount(1);
  await expect(page.locator('.track-row.is-current').getByTestId('queue-title')).toHaveText('01 Low tone');

  await page.getByRole('button', { name: 'Remove 02 Middle tone' }).click();
  await expect(titles).toHaveCount(3);
  await screenshot(page, 'queue');

  // Play from here: double-click the high tone.
  await page.getByTestId('queue-row').nth(1).dblclick();
  await expect(page.getByTestId('np-title')).toHaveText('03 High tone');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.locator('.track-row.is-current').getByTestId('queue-title')).toHaveText('03 High tone');
});

test('the now-playing bar holds together at 800x600', async () => {
  const { page } = app;
  await page.setViewportSize({ width: 800, height: 600 });
  await expect(page.getByTestId('format-badge')).toBeVisible();
  const badge = (await page.getByTestId('format-badge').boundingBox())!;
  const time = (await page.getByTestId('position-time').boundingBox())!;
  expect(badge.x + badge.width).toBeLessThanOrEqual(time.x);
  await expect(page.getByTestId('play-pause')).toBeInViewport();
  await screenshot(page, 'now-playing-800x600');
  await page.setViewportSize({ width: 1200, height: 800 });
});
