// Starts the app for one spec file: the browser shell (a Node process serving the built renderer,
// opened in Chromium) or, in the `electron` project, the Electron app. Each launch gets its own
// app home and a copy of the fixture plugin, so specs do not share settings or queues.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, expect, test, type Browser, type ElectronApplication, type Page, type TestInfo } from '@playwright/test';
import { spawnBrowserShell } from '../../src-main/test/shell-launch.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const fixtureLibrary = path.join(repoRoot, 'native-plugins', 'build', 'fixtures', 'st-fixture.so');
export const screenshotDir = path.join(repoRoot, 'test-results', 'screens');

export interface App {
  page: Page;
  /** The browser shell's address with its token (empty for Electron). */
  url: string;
  home: string;
  /** A folder of generated audio files. */
  media: string;
  close(): Promise<void>;
  /** Browser shell only: stops the core (SIGTERM, as a quit) and starts it again on the same
   * home; resolves to the new address (open it in a new page: the old token is void). */
  restart?(): Promise<string>;
}

/** A PCM WAV file of a sine tone (stereo, 16-bit). */
export function writeTone(file: string, seconds: number, freq: number, rate = 44100): void {
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * 0.3 * 32767);
    data.writeInt16LE(v, i * 4);
    data.writeInt16LE(v, i * 4 + 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}

function prepareHome(): { home: string; plugins: string; media: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-e2e-'));
  const plugins = path.join(home, 'fixture-plugins');
  const media = path.join(home, 'Music');
  fs.mkdirSync(plugins);
  fs.mkdirSync(media);
  fs.copyFileSync(fixtureLibrary, path.join(plugins, 'st-fixture.so'));
  writeTone(path.join(media, '01 Low tone.wav'), 30, 220);
  // A sidecar for the built-in LRC lyrics plugin.
  fs.writeFileSync(path.join(media, '01 Low tone.lrc'), ['[ti:Low tone]', ...Array.from({ length: 15 }, (_, i) => `[00:${String(i * 2).padStart(2, '0')}.00]Low line ${i + 1}`)].join('\n'));
  writeTone(path.join(media, '02 Middle tone.wav'), 12, 440);
  writeTone(path.join(media, '03 High tone.wav'), 12, 880);
  return { home, plugins, media };
}

export async function startBrowserShell(env: NodeJS.ProcessEnv): Promise<{ url: string; proc: ChildProcess }> {
  // In a session of its own, as a listener's launch (see spawnBrowserShell).
  const { proc, url } = await spawnBrowserShell([], env, undefined, { ownSession: true });
  return { url, proc };
}

export interface LaunchOptions {
  /** More environment for the app (e.g. STELLATUNE_TEST_HOOKS, STELLATUNE_BUILTIN_PLUGINS). */
  env?: NodeJS.ProcessEnv;
  /** Called with the new home before the app starts (to seed plugins or settings). */
  prepare?: (home: string) => void;
  /** Environment that depends on the home. */
  envFromHome?: (home: string) => NodeJS.ProcessEnv;
}

/** Launches the app for the calling spec file's project. */
export async function launchApp(browser: Browser, testInfo: TestInfo, opts: LaunchOptions = {}): Promise<App> {
  const { home, plugins, media } = prepareHome();
  opts.prepare?.(home);
  // STELLATUNE_SECRETS=file: a spec run on a desktop never writes into the user's own keyring.
  const env = { ...process.env, STELLATUNE_HOME: home, STELLATUNE_EXTRA_PLUGINS: plugins, STELLATUNE_SECRETS: 'file', CI: process.env.CI ?? '1', ...opts.env, ...opts.envFromHome?.(home) };
  const electronPath = testInfo.project.metadata?.electron as string | undefined;
  const cleanup = (): void => fs.rmSync(home, { recursive: true, force: true });

  if (electronPath) {
    const app: ElectronApplication = await _electron.launch({ executablePath: electronPath, args: [repoRoot], env });
    const page = await app.firstWindow();
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.getByTestId('nav-queue').waitFor();
    return { page, url: '', home, media, close: async () => (await app.close(), cleanup()) };
  }

  let { url, proc } = await startBrowserShell(env);
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(url);
  await page.getByTestId('nav-queue').waitFor();
  const stop = async (): Promise<void> => {
    const exited = new Promise((r) => proc.once('exit', r));
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  return {
    page,
    url,
    home,
    media,
    close: async () => {
      await context.close();
      await stop();
      cleanup();
    },
    restart: async () => {
      await stop();
      ({ url, proc } = await startBrowserShell(env));
      return url;
    },
  };
}

/** Saves test-results/screens/<project>-<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${test.info().project.name}-${name}.png`) });
}

/** Seconds shown in the now-playing bar's elapsed time ("m:ss"). */
export async function elapsedSeconds(page: Page): Promise<number> {
  const text = (await page.getByTestId('position-time').textContent()) ?? '';
  const m = /^(\d+):(\d\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : -1;
}

/** Opens the Sources screen on the fixture's catalog (other source plugins may be listed first). */
export async function openFixtureCatalog(page: Page): Promise<void> {
  await page.getByTestId('nav-sources').click();
  const picker = page.getByRole('combobox', { name: 'Catalog' });
  if (await picker.isVisible()) await picker.selectOption({ label: 'Fixture source — StellaTune test fixture' });
  await expect(page.getByTestId('source-query')).toHaveAttribute('placeholder', /Fixture source/);
}
