// While a track plays: synced lyrics follow the position; a plugin is disabled and re-enabled
// without stopping playback; an EQ band change is hot-applied.
import { expect, test } from '@playwright/test';
import { type App, elapsedSeconds, launchApp, openFixtureCatalog, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
  const { page } = app;
  // A 20 s tone streamed by the fixture source.
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  await page.getByTestId('source-item').filter({ hasText: 'A3 (220 Hz)' }).getByTestId('source-play').click();
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
});
test.afterAll(async () => app?.close());

test('fetch lyrics and see the highlighted line move', async () => {
  const { page } = app;
  await page.getByTestId('nav-lyrics').click();
  const lines = page.getByTestId('lyrics-lines');
  await expect(page.getByTestId('lyrics-line')).toHaveCount(8);
  await expect(page.getByTestId('lyrics-line').nth(1)).toHaveText('Line 2 of A3 (220 Hz)');
  // Lines are 2 s apart: the highlight must advance with the playing position.
  const activeNow = async (): Promise<number> => Number(await lines.getAttribute('data-active'));
  await expect.poll(activeNow, { timeout: 10_000 }).toBeGreaterThanOrEqual(0);
  const first = await activeNow();
  await expect.poll(activeNow, { timeout: 6_000 }).toBeGreaterThan(first);
  await expect(page.locator('.lyrics-lines li.is-active')).toHaveCount(1);
  await expect(page.getByTestId('lyrics-candidate')).toBeVisible();
  await screenshot(page, 'lyrics');
});

test('disable and re-enable a plugin while a track plays', async () => {
  const { page } = app;
  await page.getByTestId('nav-plugins').click();
  const card = page.locator('[data-testid=plugin-card][data-plugin-id="dev.stellatune.fixture"]');
  await expect(card).toHaveAttribute('data-status', 'loaded');
  const before = await elapsedSeconds(page);
  await card.getByTestId('plugin-disable').click();
  await expect(card).toHaveAttribute('data-status', 'disabled');
  // The open stream belongs to the retired generation and keeps playing.
  await expect.poll(() => elapsedSeconds(page), { timeout: 8_000 }).toBeGreaterThanOrEqual(before + 2);
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing');

  await card.getByTestId('plugin-enable').click();
  await expect(card).toHaveAttribute('data-status', 'loaded');
  const resumed = await elapsedSeconds(page);
  await expect.poll(() => elapsedSeconds(page), { timeout: 8_000 }).toBeGreaterThanOrEqual(resumed + 1);
  // New requests reach the new generation.
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  await expect(page.getByTestId('source-item').first()).toBeVisible();
});

test('change an EQ band', async () => {
  const { page } = app;
  await page.getByTestId('nav-output').click();
  const eq = page.getByTestId('eq-panel');
  await expect(eq).toBeVisible();
  await eq.getByTestId('eq-band-3').fill('6');
  await expect(eq.getByTestId('eq-value-3')).toHaveText('+6.0');
  await expect(eq.getByTestId('eq-status')).toHaveText('Applied live');
  await eq.getByTestId('eq-preamp').fill('-3');
  await expect(eq.getByTestId('eq-status')).toHaveText('Applied live');
  await expect(page.getByTestId('device-list')).toBeVisible();
  // OutputSink plugins list their targets (asked of the audio process).
  const sink = page.locator('.sink', { hasText: 'Fixture null output' });
  await sink.getByRole('button', { name: 'List targets' }).click();
  await expect(sink.locator('.radio-row').first()).toBeVisible();
  await screenshot(page, 'output');
  // A different buffer size reopens the device; playback goes on.
  await page.getByLabel('Buffer size').selectOption('2048');
  await page.getByRole('button', { name: 'Use this device' }).click();
  await expect(page.getByTestId('current-output')).toContainText('2048 frames');
  // The config persists: a reload of the page shows the band where it was left.
  await page.reload();
  await page.getByTestId('nav-output').click();
  await expect(page.getByTestId('eq-value-3')).toHaveText('+6.0');
  // The Plugins screen's generated form shows the same config (bands as a table).
  await page.getByTestId('nav-plugins').click();
  const eqCard = page.locator('[data-testid=plugin-card][data-plugin-id="dev.stellatune.eq"]');
  await eqCard.getByTestId('config-toggle').click();
  await expect(eqCard.getByLabel('Bands 4 Gain (dB)')).toHaveValue('6');
  await expect(eqCard.getByLabel('Bands 10 Frequency (Hz)')).toHaveValue('16000');
  const at = await elapsedSeconds(page);
  await expect.poll(() => elapsedSeconds(page), { timeout: 8_000 }).toBeGreaterThan(at);
});
