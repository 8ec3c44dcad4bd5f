// The library as a new listener meets it: first run → add the music folder → scan progress →
// the albums grid with covers → an album page → play → search as you type (accents, CJK) → a
// playlist made from a track's menu, and the Folders and Problems views; files and folders
// dropped from the desktop; M3U export and import through the in-app dialog; the layout at 480,
// 800 and 1200 px; then a restart with "Resume playback on start", and everything is back.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import { makeTestLibrary } from '../src-main/test/library/test-library.js';
import { type App, launchApp, screenshot } from './support/app.js';

// One story: each test starts where the one before left the player.
test.describe.configure({ mode: 'serial' });

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

  await table.getByTestId('track-row').filter({ hasText: 'Trees' }).click({ button: 'right' });
  await expect(page.getByTestId('track-menu')).toBeVisible();
  await screenshot(page, 'library-track-menu');
  // The name is asked in the app's own dialog (not window.prompt): Escape cancels and makes nothing.
  await page.getByTestId('menu-new-playlist').click();
  const ask = page.getByTestId('name-dialog');
  const nameInput = ask.getByTestId('name-input');
  await expect(nameInput).toBeFocused();
  await expect(nameInput).toHaveValue('New playlist');
  await page.keyboard.press('Escape');
  await expect(ask).toBeHidden();
  await expect(page.getByTestId('playlist-item')).toHaveCount(0);
  // A blank name cannot be confirmed; Enter confirms a typed one.
  await table.getByTestId('track-row').filter({ hasText: 'Trees' }).click({ button: 'right' });
  await page.getByTestId('menu-new-playlist').click();
  await nameInput.fill('   ');
  await expect(ask.getByTestId('name-confirm')).toBeDisabled();
  await nameInput.press('Enter');
  await expect(ask).toBeVisible();
  await nameInput.fill('Road trip');
  await screenshot(page, 'library-new-playlist-dialog');
  await nameInput.press('Enter');
  await expect(ask).toBeHidden();
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
  // Rename through the same dialog: it opens with the name; Escape keeps it, Enter renames, and
  // the Rename button puts the name back.
  await pl.getByRole('button', { name: 'Rename' }).click();
  await expect(nameInput).toHaveValue('Road trip');
  await nameInput.fill('Long drive');
  await nameInput.press('Escape');
  await expect(pl.getByTestId('playlist-title')).toHaveText('Road trip');
  await pl.getByRole('button', { name: 'Rename' }).click();
  await nameInput.fill('Long drive');
  await nameInput.press('Enter');
  await expect(pl.getByTestId('playlist-title')).toHaveText('Long drive');
  await expect(item.or(page.getByTestId('playlist-item').filter({ hasText: 'Long drive' }))).toHaveText(/Long drive/);
  await pl.getByRole('button', { name: 'Rename' }).click();
  await nameInput.fill('Road trip');
  await ask.getByTestId('name-confirm').click();
  await expect(pl.getByTestId('playlist-title')).toHaveText('Road trip');

  await page.getByTestId('lib-folders').click();
  await expect(page.getByTestId('root-row')).toContainText(root);
  await expect(page.getByTestId('scan-progress')).toHaveAttribute('data-phase', 'done');
  await screenshot(page, 'library-folders');
  await page.getByTestId('lib-problems').click();
  await expect(page.getByTestId('problem-row')).toHaveCount(2);
  await screenshot(page, 'library-problems');
});

/** Drops `uris` (a text/uri-list, as a file manager sends) on the window. */
async function dropOnWindow(page: App['page'], uris: string[]): Promise<void> {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    dt.setData('text/uri-list', list.join('\r\n'));
    const target = document.querySelector('main') ?? document.body;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, uris);
}

test('files and folders dropped from the desktop: a folder joins the library, a file the queue', async () => {
  const { page } = app;
  // A folder outside the library with one tagged file (a copy of one from the library).
  const dropped = path.join(app.home, 'Dropped — Ünïcode');
  fs.mkdirSync(dropped);
  fs.copyFileSync(path.join(root, 'Ogg Band', 'Forest', '01 Trees.ogg'), path.join(dropped, '01 Trees again.ogg'));
  const loose = path.join(app.media, '02 Middle tone.wav');
  await page.getByTestId('nav-queue').click();
  const queued = await page.getByTestId('queue-row').count();
  await dropOnWindow(page, [
    '# a comment line, as the uri-list format allows',
    pathToFileURL(dropped).href,
    pathToFileURL(loose).href,
    // Neither of these may break the drop of the others.
    'file:///no/such/folder',
    'file:///bad%E0%A4%A',
    'https://example.com/not-a-file.mp3',
  ]);
  // The folder is a new root (the Folders view opens on it), scanned.
  await expect(page.getByTestId('root-row').filter({ hasText: dropped })).toBeVisible();
  await expect(page.getByTestId('root-row').filter({ hasText: dropped })).toContainText('1');
  await screenshot(page, 'library-dropped-folder');
  // The loose file went to the queue.
  await page.getByTestId('nav-queue').click();
  await expect(page.getByTestId('queue-row')).toHaveCount(queued + 1);
  await expect(page.getByTestId('queue-title').last()).toHaveText('02 Middle tone');
  await page.getByTestId('nav-library').click();
});

test('M3U export and import go through the in-app dialog', async () => {
  const { page } = app;
  await page.getByTestId('playlist-item').filter({ hasText: 'Road trip' }).click();
  await page.getByTestId('playlist-export').click();
  const dialog = page.getByTestId('playlist-file-dialog');
  await expect(dialog).toHaveAttribute('data-mode', 'export');
  await dialog.getByTestId('plf-path').fill(app.home);
  await dialog.getByTestId('plf-path').press('Enter');
  await expect(dialog.getByTestId('plf-dir').filter({ hasText: 'library-media' })).toBeVisible();
  await expect(dialog.getByTestId('plf-name')).toHaveValue('Road trip.m3u8');
  await dialog.getByTestId('plf-name').fill('Road trip — 旅.m3u8');
  await expect(dialog.getByTestId('plf-target')).toHaveText(path.join(app.home, 'Road trip — 旅.m3u8'));
  await screenshot(page, 'library-m3u-export');
  await dialog.getByTestId('plf-ok').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast-text').filter({ hasText: 'Wrote 2 entries' })).toBeVisible();
  const written = fs.readFileSync(path.join(app.home, 'Road trip — 旅.m3u8'), 'utf8');
  expect(written).toMatch(/^#EXTM3U/);
  // Paths relative to the playlist's folder.
  expect(written).toContain(`\n${path.relative(app.home, path.join(root, 'Ogg Band', 'Forest', '01 Trees.ogg'))}\n`);

  // Import it back: the dialog lists folders and playlists (not the audio files beside them).
  await page.getByTestId('import-m3u').click();
  await expect(dialog).toHaveAttribute('data-mode', 'import');
  // The export's toast is still up: it sits under the dialog (the dialog is what the listener is
  // answering), so the point at its middle belongs to the dialog's backdrop.
  const toast = page.getByTestId('toast').filter({ hasText: 'Wrote 2 entries' });
  await expect(toast).toBeVisible();
  const tb = (await toast.boundingBox())!;
  expect(await page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.closest('.modal-backdrop, .toasts')?.className, [tb.x + tb.width / 2, tb.y + tb.height / 2])).toBe('modal-backdrop');
  await expect(dialog.getByTestId('plf-ok')).toBeDisabled();
  // It opens where the last one was saved.
  await expect(dialog.getByTestId('plf-path')).toHaveValue(app.home);
  await expect(dialog.getByTestId('plf-file')).toHaveText([/Road trip — 旅\.m3u8/]);
  await dialog.getByTestId('plf-file').click();
  await screenshot(page, 'library-m3u-import');
  await dialog.getByTestId('plf-ok').click();
  await expect(dialog).toBeHidden();
  const pl = page.getByTestId('playlist-page');
  await expect(pl.getByTestId('playlist-title')).toHaveText(/Road trip — 旅/);
  await expect(pl.getByTestId('playlist-entry')).toHaveText([/Trees/, /Sun/]);
  // A file that is not a playlist is refused with a reason, and the dialog stays open.
  fs.writeFileSync(path.join(app.home, 'not a playlist.m3u'), Buffer.from([0xff, 0xfe, 0x00, 0x00, 0x41]));
  await page.getByTestId('import-m3u').click();
  await dialog.getByTestId('plf-path').press('Enter');
  await dialog.getByTestId('plf-file').filter({ hasText: 'not a playlist' }).click();
  await dialog.getByTestId('plf-ok').click();
  await expect(dialog.getByTestId('plf-error')).toContainText(/^Could not import: \S/);
  await expect(dialog).toBeVisible();
  await screenshot(page, 'library-m3u-import-error');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
});

test('the layout at 480, 800 and 1200 px', async () => {
  const { page } = app;
  const shots: [string, () => Promise<void>][] = [
    ['albums', async () => {
      await page.getByTestId('nav-library').click();
      await page.getByTestId('lib-albums').click();
      await expect(page.getByTestId('album-card')).toHaveCount(5);
    }],
    ['album-page', async () => {
      await page.getByRole('button', { name: /Open Homogenic/ }).click();
      await expect(page.getByTestId('album-page-title')).toHaveText('Homogenic');
    }],
    ['tracks', async () => {
      await page.getByTestId('lib-tracks').click();
      await expect(page.getByTestId('tracks-table').getByTestId('track-row').first()).toBeVisible();
    }],
    ['search', async () => {
      await page.keyboard.press('Control+f');
      await page.getByTestId('library-search').fill('東京');
      await expect(page.getByTestId('search-results').getByTestId('track-row')).toHaveCount(1);
    }],
    ['queue', async () => {
      await page.getByTestId('nav-queue').click();
      await expect(page.getByTestId('queue-row').first()).toBeVisible();
      // Each line's "artist — album" is whole, at 480 px too (the hidden row buttons no longer
      // take its room).
      const cut = await page.getByTestId('queue-byline').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent));
      expect(cut).toEqual([]);
    }],
    ['name-dialog', async () => {
      await page.getByTestId('nav-library').click();
      await page.getByTestId('new-playlist').click();
      await expect(page.getByTestId('name-input')).toBeFocused();
    }],
  ];
  for (const width of [480, 800, 1200]) {
    await page.setViewportSize({ width, height: 800 });
    for (const [name, go] of shots) {
      await go();
      await screenshot(page, `library-${width}-${name}`);
      if (name === 'name-dialog') {
        await page.keyboard.press('Escape');
        await expect(page.getByTestId('name-dialog')).toBeHidden();
      }
      // Nothing spills sideways out of the window.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }
  }
  await page.setViewportSize({ width: 1200, height: 800 });
});

test('after a restart the library, playlists, queue and playback are back (Resume playback on start)', async () => {
  let { page } = app;
  await page.getByTestId('nav-output').click();
  await page.getByTestId('resume-playback').check();
  await expect(page.getByTestId('resume-playback')).toBeChecked();
  // Homogenic, on repeat, so that it is playing when the player quits.
  await page.getByTestId('nav-library').click();
  await page.getByTestId('lib-albums').click();
  await page.getByRole('button', { name: /Open Homogenic/ }).click();
  await page.getByTestId('album-play').click();
  await expect(page.getByTestId('np-title')).toHaveText('Jóga');
  await page.getByRole('button', { name: 'Repeat: off' }).click();
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await page.getByTestId('nav-library').click();
  await page.getByTestId('lib-albums').click();

  const url = await app.restart!();
  const fresh = await page.context().newPage();
  await fresh.goto(url);
  await page.close();
  page = fresh;
  app.page = fresh;
  // The library screen, the albums with covers, the playlists.
  await expect(page.getByTestId('album-card')).toHaveCount(5);
  await expect.poll(() => page.getByTestId('cover-img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length)).toBe(3);
  await expect(page.getByTestId('playlist-item')).toHaveText([/Road trip\s*2/, /Road trip — 旅\s*2/]);
  // Playing again by itself, the same album, with its tags in the queue.
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.getByTestId('np-title')).toHaveText(/Jóga|Hunter/);
  await expect(page.getByTestId('np-sub')).toHaveText('Björk — Homogenic');
  await expect(page.getByRole('button', { name: 'Repeat: all' })).toBeVisible();
  await page.getByTestId('nav-queue').click();
  await expect(page.getByTestId('queue-title')).toHaveText(['Jóga', 'Hunter']);
  await expect(page.getByTestId('queue-byline')).toHaveText(['Björk — Homogenic', 'Björk — Homogenic']);
  await screenshot(page, 'library-restored-queue');
  await page.getByTestId('play-pause').click();
  await expect(page.getByTestId('now-playing')).not.toHaveAttribute('data-state', 'playing');
});

test('deleting a playlist and removing a folder ask first, in the app’s own dialog', async () => {
  const { page } = app;
  await page.getByTestId('nav-library').click();
  await page.getByTestId('playlist-item').filter({ hasText: 'Road trip — 旅' }).click();
  const pl = page.getByTestId('playlist-page');
  const ask = page.getByTestId('confirm-dialog');
  // Escape and Cancel keep the playlist.
  await pl.getByRole('button', { name: 'Delete' }).click();
  await expect(ask).toContainText('Delete the playlist “Road trip — 旅”? The tracks stay in the library.');
  await expect(ask.getByTestId('confirm-ok')).toBeFocused();
  await screenshot(page, 'library-delete-playlist-dialog');
  await page.keyboard.press('Escape');
  await expect(ask).toBeHidden();
  await pl.getByRole('button', { name: 'Delete' }).click();
  await ask.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('playlist-item')).toHaveCount(2);
  // Delete deletes it, and only it.
  await pl.getByRole('button', { name: 'Delete' }).click();
  await ask.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('playlist-item')).toHaveText([/Road trip\s*2/]);

  await page.getByTestId('lib-folders').click();
  const row = page.getByTestId('root-row').filter({ hasText: root });
  await row.getByRole('button', { name: `Remove ${root}` }).click();
  await expect(ask).toContainText(`Remove ${root} from the library? The files stay where they are.`);
  await ask.getByTestId('confirm-cancel').click();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: `Remove ${root}` }).click();
  await page.keyboard.press('Enter');
  await expect(row).toBeHidden();
  expect(fs.existsSync(root)).toBe(true);
});
