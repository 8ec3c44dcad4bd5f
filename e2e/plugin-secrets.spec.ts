// A secret in a plugin's config form, as a listener meets it: the fixture source's "Api key"
// (schema `format: password`). Once applied, the form shows it as "stored (unchanged)" with the
// input empty; no message the core sends the page (WebSocket frames) and nothing in the page holds
// it; applying other fields keeps it, typing a new one replaces it, Clear removes it.
import fs from 'node:fs';
import path from 'node:path';
import { expect, type Locator, test } from '@playwright/test';
import { type App, launchApp, screenshot } from './support/app.js';

const FIRST = 'sk-e2e-first-Zq81Lm';
const SECOND = 'sk-e2e-second-Yt44Kp';

let app: App;
const frames: string[] = [];
test.beforeAll(async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser', 'reads the WebSocket frames of the browser shell');
  app = await launchApp(browser, testInfo);
  // Every frame the core sends from here on (the page is already connected: a reload reconnects).
  app.page.on('websocket', (ws) => ws.on('framereceived', (f) => void frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8'))));
  await app.page.reload();
  await app.page.getByTestId('nav-queue').waitFor();
});
test.afterAll(async () => app?.close());

/** The secret file the core keeps for the fixture (0600 files: no keyring in the test env). */
function storedSecrets(): string {
  const file = path.join(app.home, 'settings', 'secrets', 'dev.stellatune.fixture.json');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

async function apply(cap: Locator): Promise<void> {
  await cap.getByTestId('config-apply').click();
  await expect(cap.getByTestId('config-outcome')).toHaveAttribute('data-outcome', /^(hot_applied|stored)$/);
}

test('a stored secret shows as "stored (unchanged)", never reaches the page, and is kept, replaced or cleared', async () => {
  const { page } = app;
  await page.getByTestId('nav-plugins').click();
  const card = page.locator('[data-testid=plugin-card][data-plugin-id="dev.stellatune.fixture"]');
  const cap = card.locator('.cap', { hasText: 'fixture-source' });
  await cap.getByTestId('config-toggle').click();
  const key = cap.locator('#cf-api_key');
  await expect(key).toHaveAttribute('type', 'password');
  await expect(key).toHaveAttribute('data-secret', 'none');

  await key.fill(FIRST);
  await apply(cap);
  // The refreshed form: empty input, "stored (unchanged)", a Clear button; the core has it.
  await expect(key).toHaveAttribute('data-secret', 'stored');
  await expect(key).toHaveValue('');
  await expect(key).toHaveAttribute('placeholder', 'stored (unchanged)');
  await expect(cap.getByRole('button', { name: 'Clear' })).toBeEnabled();
  expect(storedSecrets()).toContain(FIRST);
  await cap.scrollIntoViewIfNeeded();
  await screenshot(page, 'plugins-secret-stored');

  // Another field changed and applied: the secret is left out of the apply and kept.
  await cap.getByLabel('Delay ms', { exact: true }).fill('25');
  await apply(cap);
  await expect(key).toHaveAttribute('placeholder', 'stored (unchanged)');
  expect(storedSecrets()).toContain(FIRST);

  // Typing a new one replaces it.
  await key.fill(SECOND);
  await expect(key).toHaveAttribute('data-secret', 'replacing');
  await apply(cap);
  await expect(key).toHaveAttribute('data-secret', 'stored');
  expect(storedSecrets()).toContain(SECOND);
  expect(storedSecrets()).not.toContain(FIRST);

  // What reached the page: neither secret in any frame from the core, nor in the page.
  expect(frames.length).toBeGreaterThan(3);
  expect(frames.some((f) => f.includes('"storedSecrets":["api_key"]'))).toBe(true);
  for (const s of [FIRST, SECOND]) {
    expect(frames.filter((f) => f.includes(s))).toEqual([]);
    expect(await page.content()).not.toContain(s);
  }

  // Clear, then apply: nothing stored, the plain empty input is back.
  await cap.getByRole('button', { name: 'Clear' }).click();
  await expect(key).toHaveAttribute('placeholder', 'cleared on apply');
  await screenshot(page, 'plugins-secret-clearing');
  await apply(cap);
  await expect(key).toHaveAttribute('data-secret', 'none');
  expect(storedSecrets()).not.toContain(SECOND);
});
