// ReplayGain as a listener meets it: the Output screen's mode and preamp, and the now-playing
// badge that says which gain the track plays at. The tagged FLAC is written by ffmpeg here.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { type App, launchApp, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo, {
    prepare: (home) => {
      const music = path.join(home, 'Music');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', path.join(music, '02 Middle tone.wav'),
        '-metadata', 'TITLE=Quiet please', '-metadata', 'REPLAYGAIN_TRACK_GAIN=-6.00 dB', '-metadata', 'REPLAYGAIN_TRACK_PEAK=0.50',
        '-metadata', 'REPLAYGAIN_ALBUM_GAIN=-4.50 dB', path.join(music, '04 Tagged.flac')]);
    },
  });
});
test.afterAll(async () => app?.close());

test('ReplayGain: pick a mode and a preamp on the Output screen; the badge shows the gain used', async () => {
  const { page } = app;
  await page.getByTestId('nav-output').click();
  const panel = page.getByTestId('replay-gain');
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('radio', { name: 'Off' })).toBeChecked();
  await panel.getByText('Track', { exact: true }).click();
  await expect(panel.getByRole('radio', { name: 'Track' })).toBeChecked();

  await page.getByTestId('nav-queue').click();
  await page.getByTestId('open-files').click();
  await page.getByTestId('fb-path').fill(app.media);
  await page.getByTestId('fb-path').press('Enter');
  const dialog = page.getByTestId('file-browser');
  await dialog.getByRole('checkbox', { name: 'Select 04 Tagged.flac' }).check();
  await page.getByTestId('fb-play').click();
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect(page.getByTestId('rg-badge')).toHaveText('RG −6.0 dB track');

  // A preamp of +8 dB would take the 0.5 peak past full scale: clipping prevention stops at +6.0.
  await page.getByTestId('nav-output').click();
  await panel.getByLabel('Preamp').fill('8');
  await expect(panel.getByTestId('rg-preamp-value')).toHaveText('+8.0 dB');
  await expect(page.getByTestId('rg-badge')).toHaveText('RG +2.0 dB track');
  await expect(panel.getByTestId('rg-now')).toHaveText('Now playing at +2.0 dB track.');
  await panel.getByLabel('Preamp').fill('15');
  await expect(page.getByTestId('rg-badge')).toHaveText('RG +6.0 dB track (limited)');
  await panel.getByTestId('rg-now').scrollIntoViewIfNeeded();
  await screenshot(page, 'replay-gain-output');

  await panel.getByText('Album', { exact: true }).click();
  await expect(page.getByTestId('rg-badge')).toHaveText('RG +6.0 dB album (limited)');
  await panel.getByLabel('Preamp').fill('0');
  await expect(page.getByTestId('rg-badge')).toHaveText('RG −4.5 dB album');
  await screenshot(page, 'replay-gain-badge');
  await page.setViewportSize({ width: 480, height: 720 });
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'replay-gain-narrow');
  await page.setViewportSize({ width: 1200, height: 800 });

  // The settings live in the core: a reloaded page shows them.
  await page.reload();
  await page.getByTestId('nav-output').click();
  await expect(page.getByTestId('replay-gain').getByRole('radio', { name: 'Album' })).toBeChecked();
  await panel.getByText('Off', { exact: true }).click();
  await expect(page.getByTestId('rg-badge')).toHaveCount(0);
});
