// A plugin that crashes the player, as a listener meets it through `npm start` (scripts/start.mjs):
// browsing its catalog kills the core, the core restarts once on the same address, the open page
// reconnects by itself, and the Plugins view says what happened and offers "Enable anyway". A
// broken build dropped over a working plugin reads as refused while the old version serves.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { repoRoot, screenshot } from './support/app.js';

const fixtures = path.join(repoRoot, 'native-plugins', 'build', 'fixtures');
let proc: ChildProcess | null = null;
let home = '';

test.afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc!.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

test('a crashing plugin: the core restarts once, the page reconnects, the build is quarantined', async ({ browser }) => {
  test.skip(test.info().project.name !== 'browser', 'drives npm start’s browser shell');
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-e2e-crash-'));
  const extra = path.join(home, 'extra');
  fs.mkdirSync(extra);
  fs.mkdirSync(path.join(home, 'plugins'));
  fs.copyFileSync(path.join(fixtures, 'crash', 'list.so'), path.join(extra, 'crash-list.so'));
  // A working plugin in the watched user folder, to be replaced by a broken build later.
  const dropped = path.join(home, 'plugins', 'dropped.so');
  fs.copyFileSync(path.join(fixtures, 'crash', 'thread-fixed.so'), dropped);

  proc = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.mjs'), '--no-open'], {
    env: { ...process.env, STELLATUNE_SHELL: 'browser', STELLATUNE_HOME: home, STELLATUNE_EXTRA_PLUGINS: extra, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => /running at (http:\/\/\S+)/.exec(out)?.[1] ?? null, { timeout: 30_000 }).not.toBeNull();
  const url = /running at (http:\/\/\S+)/.exec(out)![1]!;

  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('nav-sources').click();
  const picker = page.getByRole('combobox', { name: 'Catalog' });
  await picker.selectOption({ label: 'Crash (crashing) — Crash fixture (crashing)' });
  // Browsing it faults in begin_list_items: the core dies and start.mjs brings it back once.
  const browse = page.getByRole('button', { name: /browse/i }).first();
  if (await browse.isVisible().catch(() => false)) await browse.click().catch(() => {});
  await expect.poll(() => out, { timeout: 20_000 }).toMatch(/crashed \(SIGSEGV\); restarting it once/);
  await expect.poll(() => (out.match(/running at /g) ?? []).length, { timeout: 30_000 }).toBe(2);

  // The same page reconnects (same port, same token) and shows the quarantine.
  await page.getByTestId('nav-plugins').click();
  const card = page.locator('[data-testid="plugin-card"][data-plugin-id="dev.stellatune.crash-list"]');
  await expect(card).toHaveAttribute('data-status', 'quarantined', { timeout: 20_000 });
  await expect(card.getByTestId('plugin-quarantine')).toHaveText(/^Crashed the player at \d\d?:\d\d( [AP]M)? \(SIGSEGV in list_items\) — disabled\./);
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'plugins-quarantined');

  // A broken build dropped over the working plugin is refused; the old version keeps serving.
  fs.copyFileSync(path.join(fixtures, 'bad', 'abi-v8.so'), dropped);
  const droppedCard = page.locator('[data-testid="plugin-card"][data-plugin-id="dev.stellatune.crash-thread"]');
  await expect(droppedCard).toHaveAttribute('data-status', 'loaded');
  await expect(droppedCard.getByTestId('plugin-error')).toHaveText(/^New build refused \(wrong_abi .*\); version 0\.1\.0 still serving\./, { timeout: 15_000 });
  await droppedCard.scrollIntoViewIfNeeded();
  await screenshot(page, 'plugins-refused-build');

  // "Enable anyway" loads the quarantined build.
  await card.getByTestId('plugin-enable-anyway').click();
  await expect(card).toHaveAttribute('data-status', 'loaded');
  await context.close();
});
