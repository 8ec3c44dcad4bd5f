// The library as a new listener meets it: first run → add the music folder → scan progress →
// the albums grid with covers → an album page → play → search as you type (accents, CJK) → a
// playlist made from a track's menu, and the Folders and Problems views.
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeTestLibrary } from '../src-main/test/library/test-library.js';
import { type App, launchApp, screenshot } from './support/app.js';

let app: App;
let root: string;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
  root = (await makeTestLibrary(path.join(app.home, 'library-media'), path.join(app.home, 'templates'))).root;
});
test.afterAll(async () => app?.close());

test('first run: add the music folder, watch it scan, browse albums with covers, play an album', async () => {
  const { page } = app;
  await expect(page.getByTestId('first-run')).toBeVisible();
  await screenshot(page, 'library-first-run');
  await page.getByTestId('add-music-folder').click();
  const picker = page.getByTestId('folder-picker');
  await expect(picker).toBeVisible();
  await page.getByTestId('picker-path').fill(root);
  await page.getByTestId('picker-path').press('Enter');
  await expect(picker.getByTestId('picker-dir').filter({ hasText: 'Björk' })).toBeVisible();
  await screenshot(page, 'library-folder-picker');
  await picker.getByTestId('picker-choose').click();
  await expect(picker).toBeHidden();

  // Progress shows while it scans (a fast scan may be over first: then the grid is there); the
  // Folders view shows how it ended, with the counts (last test).
  const grid = page.getByTestId('album-grid');
  await expect(page.getByTestId('scan-progress').first().or(grid.getByTestId('album-card').first())).toBeVisible();
  await expect(grid.getByTestId('album-card')).toHaveCount(5, { timeout: 20_000 });
  // Covers: the embedded ones and the folder images load as real images.
  await expect
    .poll(async () => grid.getByTestId('cover-img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length))
    .toBe(3);
  await expect(grid.getByTestId('album-card').first()).toContainText('Björk');
  await screenshot(page, 'library-albums');

  await grid.getByRole('button', { name: /Open Double Album/ }).click();
  const albumPage = page.getByTestId('album-page');
  await expect(albumPage.getByTestId('album-page-title')).toHaveText('Double Album');
  await expect(albumPage.getByText('Disc 2')).toBeVisible();
  await expect(albumPage.getByTestId('album-track')).toHaveText([/Part 1\.1/, /Part 1\.2/, /Part 2\.1/, /Part 2\.2/]);
  await expect(albumPage.getByTestId('album-duration')).toHaveText('0:08');
  await screenshot(page, 'library-album-page');
  await albumPage.getByTestId('album-play').click();
  await expect(page.getByTestId('np-title')).toHaveText('Part 1.1');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  // The queue holds the album, in disc order.
  await page.getByTestId('nav-queue').click();
  await expect(page.getByTestId('queue-title')).toHaveText(['Part 1.1', 'Part 1.2', 'Part 2.1', 'Part 2.2']);
  await page.getByTestId('nav-library').click();
});

test('search as you type: "bjork" finds Björk, two CJK characters find their title', async () => {
  const { page } = app;
  await page.locator('body').press('/');
  const box = page.getByTestId('library-search');
  await expect(box).toBeFocused();
  await box.pressSequentially('bjork', { delay: 30 });
  const results = page.getByTestId('search-results');
  await expect(results.getByTestId('search-artist')).toHaveText(['Björk']);
  await expect(results.getByTestId('search-album')).toContainText(['Homogenic']);
  await expect(results.getByTestId('track-row')).toHaveCount(2);
  await screenshot(page, 'library-search');
  await box.fill('東京');
  await expect(results.getByTestId('track-row')).toHaveCount(1);
  await expect(results.getByTestId('track-row')).toContainText('東京の夜');
  await box.fill('zzzqqq');
  await expect(page.getByTestId('search-empty')).toBeVisible();
  await box.press('Escape');
  // Ctrl+F from anywhere returns to it.
  await page.getByTestId('nav-queue').click();
  await page.keyboard.press('Control+f');
  await expect(page.getByTestId('library-search')).toBeFocused();
});

test('a playlist from a track menu; tracks table; folders and problems', async () => {
  const { page } = app;
  await page.getByTestId('lib-tracks').click();
  const table = page.getByTestId('tracks-table');
  await expect(table.getByTestId('track-row')).toHaveCount(10);
  await table.getByTestId('sort-title').click();
  await expect(table.getByTestId('track-row').first()).toContainText('Hunter');
  await screenshot(page, 'library-tracks');

  page.once('dialog', (d) => void d.accept('Road trip'));
  await table.getByTestId('track-row').filter({ hasText: 'Trees' }).click({ button: 'right' });
  await expect(page.getByTestId('track-menu')).toBeVisible();
  await screenshot(page, 'library-track-menu');
  await page.getByTestId('menu-new-playlist').click();
  const item = page.getByTestId('playlist-item').filter({ hasText: 'Road trip' });
  await expect(item).toContainText('1');
  // Drag another track onto the playlist.
  await table.getByTestId('track-row').filter({ hasText: 'Sun' }).dragTo(item);
  await expect(item).toContainText('2');
  await item.click();
  const pl = page.getByTestId('playlist-page');
  await expect(pl.getByTestId('playlist-title')).toHaveText('Road trip');
  await expect(pl.getByTestId('playlist-entry')).toHaveText([/Trees/, /Sun/]);
  await screenshot(page, 'library-playlist');

  await page.getByTestId('lib-folders').click();
  await expect(page.getByTestId('root-row')).toContainText(root);
  await expect(page.getByTestId('scan-progress')).toHaveAttribute('data-phase', 'done');
  await screenshot(page, 'library-folders');
  await page.getByTestId('lib-problems').click();
  await expect(page.getByTestId('problem-row')).toHaveCount(2);
  await screenshot(page, 'library-problems');
});
