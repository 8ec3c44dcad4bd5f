// Diagnostics: the core's history and stall records. A deliberate 120 ms block (the env-gated test
// hook) shows up as a stall attributed to its RPC method; the charts show the past after a page
// reload (the history lives in the core); "Save report" writes a self-contained page that renders
// every chart offline.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { type App, launchApp, screenshot, screenshotDir } from './support/app.js';
import { connectRpc, type RpcClient } from './support/rpc.js';

const CHARTS = ['event-loop', 'calls-per-plugin', 'outcomes', 'underruns', 'ring-fill', 'live'];
const FIXTURE = { pluginId: 'dev.stellatune.fixture', typeId: 'fixture-source' };

let app: App;
let rpc: RpcClient;
test.beforeAll(async ({ browser }, testInfo) => {
  app = await launchApp(browser, testInfo, { env: { STELLATUNE_TEST_HOOKS: '1' } });
  rpc = await connectRpc(app.url);
});
test.afterAll(async () => {
  rpc?.close();
  await app?.close();
});

test('a stall is listed with its RPC method, and the history survives a page reload', async () => {
  const { page } = app;
  await rpc.call('queue', 'add', { tracks: [{ source: { kind: 'file', path: path.join(app.media, '01 Low tone.wav') }, title: 'Low tone' }], play: true });
  for (let i = 0; i < 6; i++) await rpc.call('sources', 'list', { ...FIXTURE, request: { action: 'browse' } });
  await rpc.call('diagnostics', 'testBlock', { ms: 120 });
  await page.getByTestId('nav-diagnostics').click();
  const stalls = page.getByTestId('diag-stalls');
  await expect(stalls.locator('tr', { hasText: 'rpc diagnostics.testBlock' })).toBeVisible({ timeout: 10_000 });
  const history = page.getByTestId('diag-history');
  for (const id of CHARTS) await expect(history.locator(`svg[data-chart="${id}"]`)).toBeVisible();
  await expect.poll(async () => Number(await history.getAttribute('data-samples')), { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
  await screenshot(page, 'diagnostics-history');

  const reloadedAt = Date.now();
  await page.reload();
  await page.getByTestId('nav-diagnostics').click();
  // Straight after the reload the charts start before it, and the old stall is still listed.
  await expect.poll(async () => Number(await history.getAttribute('data-first-sample')), { timeout: 10_000 }).toBeGreaterThan(0);
  expect(Number(await history.getAttribute('data-first-sample'))).toBeLessThan(reloadedAt - 3000);
  await expect(stalls.locator('tr', { hasText: 'rpc diagnostics.testBlock' })).toBeVisible();
  expect(Number(await page.getByTestId('diag-stall-count').textContent())).toBeGreaterThanOrEqual(1);
});

test('Save report writes a self-contained page with every chart', async ({ browser }) => {
  const { page } = app;
  await page.getByTestId('nav-diagnostics').click();
  await expect(page.getByTestId('diag-save-report')).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('diag-save-report').click()]);
  expect(download.suggestedFilename()).toMatch(/^stellatune-diagnostics-.*\.html$/);
  const file = path.join(screenshotDir, '..', 'diagnostics-report.html');
  await download.saveAs(file);
  const html = fs.readFileSync(file, 'utf8');
  // Self-contained: no script, no external resource.
  expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  // Opened offline, every chart renders with a drawing in it.
  const ctx = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  try {
    const report = await ctx.newPage();
    await report.goto(`file://${file}`);
    for (const id of CHARTS) {
      const chart = report.locator(`svg[data-chart="${id}"]`);
      await expect(chart).toBeVisible();
      expect((await chart.boundingBox())!.width).toBeGreaterThan(300);
    }
    await expect(report.locator('svg[data-chart="event-loop"] path')).toHaveCount(3);
    await expect(report.getByTestId('stall-table').locator('tr', { hasText: 'rpc diagnostics.testBlock' })).toBeVisible();
    fs.mkdirSync(screenshotDir, { recursive: true });
    await report.screenshot({ path: path.join(screenshotDir, `${test.info().project.name}-diagnostics-report.png`), fullPage: true });
  } finally {
    await ctx.close();
  }
});
