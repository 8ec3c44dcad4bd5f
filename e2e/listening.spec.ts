// A listener's evening, end to end in the browser shell: a folder of tagged files (embedded and
// folder covers, a damaged file, no lyrics anywhere, the online provider offline) goes into the
// queue with tags, covers and durations on every row; playing shows cover, title and
// "artist — album" in the bar, the window title and the media session; the EQ keeps its values;
// the layout holds from 480 px; then the player restarts and everything is back, and an old page
// says so instead of retrying; closing the window stops it unless it keeps playing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { screenshot, startBrowserShell } from './support/app.js';

// One story: a failed step leaves the rest pointless.
test.describe.configure({ mode: 'serial' });

let home: string;
let media: string;
let env: NodeJS.ProcessEnv;
let core: Awaited<ReturnType<typeof startBrowserShell>> | null = null;
let context: BrowserContext;
let page: Page;

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'pipe' });
}

function makeMedia(): void {
  const album = path.join(media, 'Ådalen — Nattljus');
  const single = path.join(media, 'Singles');
  fs.mkdirSync(album, { recursive: true });
  fs.mkdirSync(single, { recursive: true });
  const art = path.join(home, 'art.png');
  ffmpeg('-f', 'lavfi', '-i', 'gradients=s=320x320:c0=0x3b2f8f:c1=0xf08a24:duration=1', '-frames:v', '1', art);
  // FLAC with Vorbis comments and an embedded front cover.
  for (const [i, title] of ['Första ljuset', 'Andra vågen'].entries()) {
    ffmpeg('-f', 'lavfi', '-i', `sine=frequency=${330 + i * 110}:duration=${40 + i * 5}`, '-i', art, '-map', '0:a', '-map', '1:v', '-c:v', 'png', '-disposition:v', 'attached_pic', '-metadata:s:v', 'comment=Cover (front)', '-ac', '2', '-ar', '44100', '-metadata', `title=${title}`, '-metadata', 'artist=Ådalen', '-metadata', 'album=Nattljus', '-metadata', `track=${i + 1}`, path.join(album, `0${i + 1}.flac`));
  }
  // MP3 with ID3v2.4 (UTF-8) tags and a folder cover beside it.
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=550:duration=20', '-ac', '2', '-ar', '44100', '-b:a', '128k', '-id3v2_version', '4', '-metadata', 'title=夜の歌', '-metadata', 'artist=Mizuki', '-metadata', 'album=Yoru', path.join(single, 'yoru.mp3'));
  ffmpeg('-f', 'lavfi', '-i', 'color=c=0x1f8a70:s=300x300', '-frames:v', '1', path.join(single, 'cover.jpg'));
  // A damaged file: a FLAC header and then garbage.
  fs.writeFileSync(path.join(single, 'broken.flac'), Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(4096, 0x5a)]));
  // The online lyrics provider points at a port nobody listens on: offline, at once.
  fs.mkdirSync(path.join(home, 'settings', 'plugins'), { recursive: true });
  fs.writeFileSync(path.join(home, 'settings', 'plugins', 'dev.stellatune.lrclib.json'), JSON.stringify({ enabled: true, configs: { 'lyrics/lrclib': { base_url: 'http://127.0.0.1:9', timeout_ms: 2000 } }, states: {} }));
}

async function start(): Promise<string> {
  core = await startBrowserShell(env);
  return core.url;
}

async function stopCore(signal: NodeJS.Signals): Promise<void> {
  if (!core) return;
  const proc = core.proc;
  const exited = new Promise((r) => proc.once('exit', r));
  if (proc.exitCode === null) proc.kill(signal);
  await exited;
  core = null;
}

test.beforeAll(async ({ browser }) => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-e2e-listen-'));
  media = path.join(home, 'Music');
  makeMedia();
  env = { ...process.env, STELLATUNE_HOME: home, CI: process.env.CI ?? '1', DBUS_SESSION_BUS_ADDRESS: '', STELLATUNE_WINDOW_GRACE_MS: '1500' };
  context = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark' });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(await start());
  await page.getByTestId('nav-queue').click();
});

test.afterAll(async () => {
  await context?.close();
  await stopCore('SIGKILL');
  fs.rmSync(home, { recursive: true, force: true });
});

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

async function addFolder(dir: string): Promise<void> {
  await page.getByTestId('open-files').click();
  // The browser opens on its last folder first; typing before that listing arrives would be undone.
  await expect(page.getByTestId('fb-path')).not.toHaveValue('');
  await expect(page.getByTestId('file-browser').locator('.fb-list')).toHaveAttribute('aria-busy', 'false');
  await page.getByTestId('fb-path').fill(dir);
  await page.getByTestId('fb-path').press('Enter');
  await expect(page.getByTestId('file-browser').getByTestId('fb-path')).toHaveValue(dir);
  await page.getByRole('button', { name: 'Add this folder' }).click();
}

test('the queue shows tags, covers and durations for every entry, and the total', async () => {
  await addFolder(media);
  const rows = page.getByTestId('queue-row');
  await expect(rows).toHaveCount(4);
  await expect(page.getByTestId('queue-title')).toHaveText(['Första ljuset', 'Andra vågen', 'broken', '夜の歌']);
  await expect(page.getByTestId('queue-byline')).toHaveText(['Ådalen — Nattljus', 'Ådalen — Nattljus', 'Singles', 'Mizuki — Yoru']);
  await expect(page.getByTestId('queue-duration')).toHaveText(['0:40', '0:45', '', /^0:2\d$/]);
  await expect(page.getByTestId('queue-summary')).toHaveText(/^4 tracks · at least 1:(4|5)\d$/);
  // Covers: the embedded picture for the FLACs, the folder's cover.jpg for the MP3; loaded images.
  for (const i of [0, 1, 3]) {
    const img = rows.nth(i).getByTestId('cover').locator('img');
    await expect(img).toHaveAttribute('src', /^\/art\/[0-9a-f]{40}\.(png|jpg)\?k=/);
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  }
  // The damaged file has no tags, but its folder has a cover.
  await expect(rows.nth(2).getByTestId('cover').locator('img')).toHaveAttribute('src', (await rows.nth(3).getByTestId('cover').locator('img').getAttribute('src'))!);
  await screenshot(page, 'listening-queue');
});

test('a cover URL without the launch key is refused', async () => {
  const origin = new URL(page.url()).origin;
  const src = origin + (await page.getByTestId('queue-row').first().getByTestId('cover').locator('img').getAttribute('src'))!;
  const ok = await page.request.get(src);
  expect(ok.status()).toBe(200);
  expect(ok.headers()['content-type']).toBe('image/png');
  expect(ok.headers()['cache-control']).toContain('immutable');
  expect((await page.request.get(src.replace(/k=.*/, 'k=forged'))).status()).toBe(404);
  expect((await page.request.get(src.split('?')[0]!)).status()).toBe(404);
  expect((await page.request.get(`${origin}/art/..%2Fsession%2Fplayer.json?k=x`)).status()).toBe(404);
});

test('playing shows cover, title and artist — album; the window title and the media session follow', async () => {
  await page.getByTestId('queue-row').nth(1).dblclick();
  const bar = page.getByTestId('now-playing');
  await expect(bar).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.getByTestId('np-title')).toHaveText('Andra vågen');
  await expect(page.getByTestId('np-sub')).toHaveText('Ådalen — Nattljus');
  await expect.poll(() => bar.getByTestId('cover').locator('img').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  await expect(page).toHaveTitle('Andra vågen — Ådalen');
  const ms = await page.evaluate(() => {
    const m = navigator.mediaSession.metadata;
    return m ? { title: m.title, artist: m.artist, album: m.album, art: m.artwork.map((a) => a.src) } : null;
  });
  expect(ms).toMatchObject({ title: 'Andra vågen', artist: 'Ådalen', album: 'Nattljus' });
  expect(ms!.art[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/art\/[0-9a-f]{40}\.png\?k=/);
  await screenshot(page, 'listening-now-playing');
});

// From 480 px wide up nothing in the now-playing bar is cut off or overlaps, the format badge is
// whole, the queue keeps its durations in view, and the window never scrolls sideways.
for (const width of [480, 800, 1200]) {
  test(`the layout holds at ${width} px`, async () => {
    await page.setViewportSize({ width, height: width === 480 ? 720 : 800 });
    await expect(page.getByTestId('format-badge')).toBeVisible();
    const m = await page.evaluate(measure);
    expect(m).toEqual({ scrollWidth: width, notWhole: [], titleWidth: expect.any(Number), overlaps: [], queueDurationInView: true });
    expect(m.titleWidth).toBeGreaterThan(60);
    await screenshot(page, `layout-${width}`);
    await page.getByTestId('nav-output').click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await screenshot(page, `layout-${width}-output`);
    await page.getByTestId('nav-queue').click();
  });
}

test('no lyrics anywhere: "No lyrics found", and the offline provider is a quiet note', async () => {
  await page.getByTestId('nav-lyrics').click();
  await expect(page.getByTestId('lyrics-empty')).toContainText('No lyrics found', { timeout: 15_000 });
  await expect(page.getByTestId('lyrics-note')).toHaveCount(1);
  await expect(page.getByTestId('lyrics-note')).toContainText('could not be reached');
  // curl's words stay behind "details", and nothing is shown as an error.
  await expect(page.getByTestId('lyrics-note').locator('details span')).toBeHidden();
  await expect(page.locator('.error-box')).toHaveCount(0);
  await page.getByTestId('lyrics-note').getByText('details').click();
  await expect(page.getByTestId('lyrics-note').locator('details span')).toContainText('127.0.0.1');
  await screenshot(page, 'listening-no-lyrics');
});

test('a damaged file says so, with the decoder\'s words under details; repeats collapse', async () => {
  await page.getByTestId('nav-queue').click();
  const broken = page.getByTestId('queue-row').nth(2);
  await broken.dblclick();
  const toast = page.getByTestId('toast').filter({ hasText: 'broken.flac' });
  await expect(toast.getByTestId('toast-text')).toHaveText('Could not play ‘broken.flac’: the file is damaged');
  await expect(toast.getByTestId('toast-details')).toBeHidden();
  await toast.getByText('details').click();
  await expect(toast.getByTestId('toast-details')).not.toBeEmpty();
  // (It may have failed once already, as the next track being prepared while the one before played.)
  const countOf = async (): Promise<number> => ((await toast.getByTestId('toast-count').count()) === 0 ? 1 : Number(((await toast.getByTestId('toast-count').textContent()) ?? '').replace('×', '')));
  const n = await countOf();
  await broken.dblclick();
  await expect(toast).toHaveCount(1);
  await expect(toast.getByTestId('toast-count')).toHaveText(`×${n + 1}`);
  await screenshot(page, 'listening-damaged-toast');
  // The player went on with the next track.
  await expect(page.getByTestId('np-title')).toHaveText('夜の歌', { timeout: 15_000 });
});

test('the EQ panel shows the saved values after leaving the Output view', async () => {
  await page.getByTestId('nav-output').click();
  const band = page.getByTestId('eq-band-0');
  await band.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('eq-value-0')).toHaveText('+4.0');
  await expect(page.getByTestId('eq-status')).toHaveText(/Applied/);
  await page.getByTestId('nav-queue').click();
  await page.getByTestId('nav-output').click();
  await expect(page.getByTestId('eq-value-0')).toHaveText('+4.0');
  await expect(page.getByTestId('eq-band-0')).toHaveValue('4');
});

test('after a restart everything is back, and the old page says the player was restarted', async () => {
  // The state to bring back: track 1 at 0:20, volume, mute level, repeat, shuffle, buffer, view.
  await page.getByTestId('nav-queue').click();
  await page.getByTestId('queue-row').nth(0).dblclick();
  await expect(page.getByTestId('np-title')).toHaveText('Första ljuset');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  // The seek bar's range is the track's length: wait for it before moving the thumb.
  await expect(page.getByTestId('duration-time')).toHaveText('0:40');
  await page.getByTestId('seek').fill('20000');
  await page.getByTestId('seek').dispatchEvent('change');
  await page.getByRole('button', { name: 'Repeat: off' }).click();
  await page.getByRole('button', { name: 'Shuffle' }).click();
  await expect(page.getByRole('button', { name: 'Shuffle' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('slider', { name: 'Volume' }).fill('0.6');
  await page.getByTestId('mute').click();
  await expect(page.getByRole('button', { name: 'Unmute' })).toBeVisible();
  await page.getByTestId('nav-output').click();
  await page.locator('#buffer').selectOption('2048');
  await page.getByRole('button', { name: 'Use this device' }).click();
  await expect(page.getByTestId('current-output')).toContainText('2048 frames');
  await page.getByTestId('nav-lyrics').click();
  await expect.poll(() => page.evaluate(() => Number((document.querySelector('[data-testid=position-time]')?.textContent ?? '0:00').split(':')[1]))).toBeGreaterThanOrEqual(21);
  const before = await page.getByTestId('position-time').textContent();
  const beforeSec = Number(before!.split(':')[1]);

  await stopCore('SIGKILL');
  // The old page notices the core is gone and keeps trying while nothing answers.
  await expect(page.getByText('Lost the connection to the player core')).toBeVisible();
  const url = await start();
  // It reaches the new core, which refuses its token: no endless reconnecting.
  await expect(page.getByTestId('expired-banner')).toContainText('This player was restarted', { timeout: 15_000 });
  await screenshot(page, 'listening-old-page');

  const fresh = await context.newPage();
  await fresh.goto(url);
  await expect(fresh.getByRole('heading', { name: 'Lyrics', exact: true })).toBeVisible();
  await expect(fresh.getByTestId('np-title')).toHaveText('Första ljuset');
  await expect(fresh.getByTestId('np-sub')).toHaveText('Ådalen — Nattljus');
  const sec = Number(((await fresh.getByTestId('position-time').textContent()) ?? '').split(':')[1]);
  expect(Math.abs(sec - beforeSec)).toBeLessThanOrEqual(2);
  await expect(fresh.getByRole('button', { name: 'Repeat: all' })).toBeVisible();
  await expect(fresh.getByRole('button', { name: 'Shuffle' })).toHaveAttribute('aria-pressed', 'true');
  await expect(fresh.getByRole('button', { name: 'Unmute' })).toBeVisible();
  await fresh.getByTestId('nav-queue').click();
  await expect(fresh.getByTestId('queue-byline')).toHaveText(['Ådalen — Nattljus', 'Ådalen — Nattljus', 'Singles', 'Mizuki — Yoru']);
  await expect(fresh.getByTestId('queue-duration').first()).toHaveText('0:40');
  await expect(fresh.getByTestId('queue-row').first().getByTestId('cover').locator('img')).toHaveAttribute('src', /^\/art\//);
  await screenshot(fresh, 'listening-restored');
  // Unmute returns to the volume before muting; play resumes where it was.
  await fresh.getByRole('button', { name: 'Unmute' }).click();
  await expect(fresh.getByRole('slider', { name: 'Volume' })).toHaveValue('0.6');
  await fresh.getByTestId('play-pause').click();
  await expect(fresh.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect.poll(async () => Number(((await fresh.getByTestId('position-time').textContent()) ?? '').split(':')[1])).toBeGreaterThanOrEqual(beforeSec - 2);
  await fresh.getByTestId('nav-output').click();
  await expect(fresh.getByTestId('current-output')).toContainText('2048 frames');
  await expect(fresh.getByTestId('eq-value-0')).toHaveText('+4.0');
  await page.close();
  page = fresh;
});

test('closing the window stops the player, unless it keeps playing in the background', async () => {
  // Keep playing: the window closes, the core plays on.
  await page.getByTestId('keep-playing').check();
  await expect(page.getByTestId('keep-playing')).toBeChecked();
  const url = core!.url;
  await page.close();
  await new Promise((r) => setTimeout(r, 2500));
  expect(core!.proc.exitCode).toBeNull();
  page = await context.newPage();
  await page.goto(url);
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing');
  // Not kept: closing the window ends the core.
  await page.getByTestId('nav-output').click();
  await page.getByTestId('keep-playing').uncheck();
  await expect(page.getByTestId('keep-playing')).not.toBeChecked();
  const proc = core!.proc;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await page.close();
  expect(await exited).toBe(0);
  core = null;
  // And it saved the session on the way out.
  const saved = JSON.parse(fs.readFileSync(path.join(home, 'session', 'player.json'), 'utf8')) as { settings: { keepPlayingInBackground: boolean } };
  expect(saved.settings.keepPlayingInBackground).toBe(false);
});
