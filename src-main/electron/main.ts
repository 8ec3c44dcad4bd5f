// The Electron shell: the core in the main process, the renderer in a sandboxed, context-isolated
// window served from a custom protocol, and the IPC contract registered on ipcMain from
// src-shared/contract.ts (one handler per method, one cancel channel, one event channel). Every
// message's sender is checked against our own window and origin; navigation, new windows and
// permission requests are refused. The audio process runs as an Electron utilityProcess.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, globalShortcut, ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, net, protocol, screen, session } from 'electron';
import { AppCore } from '../app-core.js';
import { appPaths, repoRoot } from '../app-paths.js';
import { COVER_FILE_NAME, coverMime } from '../services/cover-files.js';
import { rendererFile } from '../shell/renderer-files.js';
import { COVER_PATH } from '../shell/cover-route.js';
import type { CoverSize } from '../library/covers.js';
import { utilityAudioProcess } from './audio-spawner.js';
import { registerContractOnIpc } from './ipc-bridge.js';
import { safeStorageCipher } from './safe-storage.js';
import { loadWindowState, MIN_SIZE, saveWindowState } from './window-state.js';

const SCHEME = 'stellatune';
const ORIGIN = `${SCHEME}://app`;
const rendererDir = path.join(repoRoot, 'dist', 'renderer');
const preloadFile = path.join(repoRoot, 'dist', 'preload', 'preload.cjs');

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const log = (m: string): void => console.error(`[stellatune] ${m}`);
// appPaths() takes built-in plugins from process.resourcesPath, which in a development run of
// Electron is Electron's own resources folder; use the build output there instead.
const paths = app.isPackaged ? appPaths() : { ...appPaths(), builtinPlugins: path.join(repoRoot, 'native-plugins', 'build', 'plugins') };
const windowStateFile = path.join(paths.settings, 'window-state.json');
let core: AppCore | null = null;
let mainWindow: BrowserWindow | null = null;

/** Only our window, showing our own origin, may use the contract. */
function trustedSender(e: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const url = e.senderFrame?.url ?? '';
  return mainWindow !== null && e.sender === mainWindow.webContents && (url === ORIGIN || url.startsWith(`${ORIGIN}/`));
}

function registerContract(): void {
  registerContractOnIpc({
    ipcMain,
    router: core!.router,
    events: core!.events,
    isTrusted: trustedSender,
    targets: () => (mainWindow && !mainWindow.isDestroyed() ? [mainWindow.webContents] : []),
  });
}

/** A file of the cover cache (only its content-hash names); only our window loads this scheme. */
function serveArt(name: string): Response {
  const file = path.join(paths.home, 'art', name);
  if (!COVER_FILE_NAME.test(name) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return new Response('not found', { status: 404 });
  return new Response(fs.readFileSync(file), { headers: { 'Content-Type': coverMime(name), 'Cache-Control': 'private, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' } });
}

function serveRenderer(): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return new Response('not found', { status: 404 });
    // Queue art (the pictures of queued files): stellatune://app/art/<content hash>.<ext>.
    if (url.pathname.startsWith('/art/')) return serveArt(url.pathname.slice('/art/'.length));
    // Cover thumbnails: stellatune://app/covers/<id>/<size>, named by content, cached for good.
    const cover = COVER_PATH.exec(url.pathname);
    if (cover && core) {
      const thumb = await core.library.covers.file(cover[1]!, Number(cover[2]) as CoverSize).catch(() => null);
      if (!thumb) return new Response('no cover', { status: 404, headers: { 'Cache-Control': 'no-cache' } });
      const img = await net.fetch(pathToFileURL(thumb).toString());
      return new Response(img.body, { status: 200, headers: { 'Content-Type': 'image/webp', 'Cache-Control': 'private, max-age=31536000, immutable' } });
    }
    // A malformed path (bad percent-encoding, NUL) is a status, never a throw.
    const found = rendererFile(rendererDir, url.pathname);
    if (!found.ok) return new Response('not found', { status: found.status });
    const file = found.file;
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

function hardenContents(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!url.startsWith(`${ORIGIN}/`)) e.preventDefault();
    });
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function createWindow(): BrowserWindow {
  const displays = screen.getAllDisplays().map((d) => d.workArea);
  const state = loadWindowState(windowStateFile, displays);
  const win = new BrowserWindow({
    ...state,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: 'StellaTune',
    backgroundColor: '#0f1117',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  const remember = (): void => {
    if (win.isDestroyed()) return;
    const b = win.getNormalBounds();
    saveWindowState(windowStateFile, { ...b, maximized: win.isMaximized() });
  };
  let timer: NodeJS.Timeout | null = null;
  const debounced = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(remember, 400);
  };
  win.on('resize', debounced);
  win.on('move', debounced);
  win.on('close', remember);
  void win.loadURL(`${ORIGIN}/index.html`);
  return win;
}

// The core's own MPRIS service speaks for the player; Chromium's (built from navigator.mediaSession)
// would list it twice.
app.commandLine.appendSwitch('disable-features', 'MediaSessionService');

app.on('second-instance', () => {
  if (mainWindow) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  }
});

app.on('window-all-closed', () => {
  const c = core;
  core = null;
  void (c ? c.close() : Promise.resolve()).finally(() => app.quit());
});

async function start(): Promise<void> {
  await app.whenReady();
  hardenContents();
  serveRenderer();
  // STELLATUNE_EXTRA_PLUGINS: more plugin folders (path-list), used by the e2e specs for the fixture.
  const extraFolders = (process.env.STELLATUNE_EXTRA_PLUGINS ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => ({ dir: path.resolve(dir), origin: 'user' as const, watch: false }));
  // Plugin secrets: files sealed by safeStorage, or, where it has no real key store, the OS
  // keyring through the core's own binding (then 0600 files).
  const cipher = safeStorageCipher();
  core = await AppCore.start({
    shell: 'electron',
    paths,
    extraFolders,
    secrets: cipher ? { cipher } : { keyring: true },
    engine: { spawnAudio: utilityAudioProcess },
    // Relative: the window's own origin (SCHEME://app) serves them (serveArt).
    coverUrl: (file) => (COVER_FILE_NAME.test(path.basename(file)) ? `/art/${path.basename(file)}` : undefined),
    log,
  });
  registerContract();
  mainWindow = createWindow();
  mainWindow.on('closed', () => (mainWindow = null));
  registerMediaKeys();
}

// A second launch focuses the running window (see 'second-instance') instead of starting a core
// that would fight the first over the plugin folders and the audio device.
if (app.requestSingleInstanceLock()) {
  start().catch((err: Error) => {
    log(`failed to start: ${err.stack ?? err.message}`);
    app.exit(1);
  });
} else {
  app.quit();
}

/** Media keys work while the window is in the background too (the renderer has the in-window keys). */
function registerMediaKeys(): void {
  const engine = () => core?.engine;
  const keys: Record<string, () => Promise<void> | undefined> = {
    MediaPlayPause: () => {
      const e = engine();
      const state = e?.status().state;
      return state === 'playing' ? e?.pause() : state === 'paused' ? e?.resume() : e?.play();
    },
    MediaNextTrack: () => engine()?.next(),
    MediaPreviousTrack: () => engine()?.previous(),
    MediaStop: () => engine()?.stop(),
  };
  for (const [accelerator, run] of Object.entries(keys)) {
    // Another app may own a key; the in-window shortcuts still work then.
    globalShortcut.register(accelerator, () => void run()?.catch((err: Error) => log(`${accelerator}: ${err.message}`)));
  }
  app.on('will-quit', () => globalShortcut.unregisterAll());
}
