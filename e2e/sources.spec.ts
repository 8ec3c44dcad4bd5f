// Source plugins: browse the fixture catalog and play an item through a StreamLease; search; a
// hanging list shows a spinner and is cancelled from the UI (the plugin op is cancelled, which
// the diagnostics counters show); a failing plugin's error is shown readably.
import { expect, type Page, test } from '@playwright/test';
import { type App, elapsedSeconds, launchApp, openFixtureCatalog, screenshot } from './support/app.js';

let app: App;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo);
});
test.afterAll(async () => app?.close());

/** Sets the fixture source's behaviour through its generated config form. */
async function setFixtureMode(page: Page, mode: string): Promise<void> {
  await page.getByTestId('nav-plugins').click();
  const card = page.locator('[data-testid=plugin-card][data-plugin-id="dev.stellatune.fixture"]');
  const cap = card.locator('.cap', { hasText: 'fixture-source' });
  if (!(await cap.getByTestId('config-form').isVisible())) await cap.getByTestId('config-toggle').click();
  await cap.getByLabel('Mode', { exact: true }).selectOption(mode);
  await cap.getByTestId('config-apply').click();
  // Hot-applied to the live instance, or stored for the first one if none was created yet.
  await expect(cap.getByTestId('config-outcome')).toHaveAttribute('data-outcome', /^(hot_applied|stored)$/);
}

test('browse the fixture source and play an item', async () => {
  const { page } = app;
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  const items = page.getByTestId('source-item');
  await expect(items.filter({ hasText: 'A4 (440 Hz)' })).toBeVisible();
  // Folders open with a browse action on their id.
  await items.filter({ hasText: 'More tones' }).getByRole('button', { name: 'Open' }).click();
  await expect(items.filter({ hasText: '1 kHz reference' })).toBeVisible();
  await page.getByRole('button', { name: 'Fixture source' }).click();
  await expect(items.filter({ hasText: 'A3 (220 Hz)' })).toBeVisible();
  await screenshot(page, 'sources');

  await items.filter({ hasText: 'A3 (220 Hz)' }).getByTestId('source-play').click();
  await expect(page.getByTestId('np-title')).toHaveText('A3 (220 Hz)');
  await expect(page.getByTestId('stream-badge')).toContainText('dev.stellatune.fixture');
  await expect(page.getByTestId('now-playing')).toHaveAttribute('data-state', 'playing', { timeout: 15_000 });
  await expect.poll(() => elapsedSeconds(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
});

test('search the catalog', async () => {
  const { page } = app;
  await page.getByTestId('source-query').fill('880');
  await page.getByTestId('source-query').press('Enter');
  await expect(page.getByTestId('source-item')).toHaveCount(1);
  await expect(page.getByTestId('source-item')).toContainText('A5 (880 Hz)');
});

test('cancel a hanging list from the UI', async () => {
  const { page } = app;
  await setFixtureMode(page, 'hang');
  await screenshot(page, 'plugins');
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  await expect(page.getByTestId('source-pending')).toBeVisible();
  await page.waitForTimeout(500);
  await expect(page.getByTestId('source-pending')).toBeVisible();
  await screenshot(page, 'sources-pending');
  await page.getByTestId('source-cancel').click();
  await expect(page.getByTestId('source-cancelled')).toBeVisible();
  await expect(page.getByTestId('source-pending')).toBeHidden();

  // The cancel reached the plugin op: the owner counted it and nothing is pending.
  await page.getByTestId('nav-diagnostics').click();
  const row = page.getByTestId('diag-ops').locator('tr', { hasText: 'list_items' }).filter({ hasText: 'dev.stellatune.fixture' });
  await expect(row.locator('td').nth(5)).toHaveText('1');
  await expect(page.getByTestId('diag-pending-ops')).toHaveText('0');
  await screenshot(page, 'diagnostics');
});

test('config apply reports the plan: rejected with the reason, recreated', async () => {
  const { page } = app;
  await page.getByTestId('nav-plugins').click();
  // The source has a live instance (browsed above), so its plan decides.
  const cap = page.locator('[data-testid=plugin-card][data-plugin-id="dev.stellatune.fixture"]').locator('.cap', { hasText: 'fixture-source' });
  await cap.getByTestId('config-toggle').click();
  await cap.getByLabel(/^reject/i).fill('not on a Tuesday');
  await cap.getByTestId('config-apply').click();
  await expect(cap.getByTestId('config-outcome')).toHaveAttribute('data-outcome', 'rejected');
  await expect(cap.getByTestId('config-outcome')).toContainText('not on a Tuesday');
  await cap.getByLabel(/^reject/i).fill('');
  const recreate = cap.locator('.form-row', { hasText: 'RECREATE' }).locator('input[type=checkbox]');
  await recreate.check();
  await cap.getByTestId('config-apply').click();
  await expect(cap.getByTestId('config-outcome')).toHaveAttribute('data-outcome', 'recreated');
  await recreate.uncheck();
  await cap.getByTestId('config-apply').click();
  await expect(cap.getByTestId('config-outcome')).toHaveAttribute('data-outcome', 'hot_applied');
});

test('a failing plugin shows a readable error', async () => {
  const { page } = app;
  await setFixtureMode(page, 'fail');
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  await expect(page.getByTestId('source-error')).toContainText('fixture failure');
  await setFixtureMode(page, 'ok');
  await openFixtureCatalog(page);
  await page.getByTestId('source-action-browse').click();
  await expect(page.getByTestId('source-item').first()).toBeVisible();
});
