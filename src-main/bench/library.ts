// bench:library — the music library's figures: a cold scan of a generated corpus of 10,000 tagged
// files (in the page cache: they were just written), a warm rescan of the same unchanged files,
// the main event loop's delay while the cold scan runs, search as you type on a synthetic
// 100,000-track database, the tracks table scrolling 100,000 rows in Chromium (frames from a
// Chrome trace and from requestAnimationFrame), the database size and the core's RSS. Next to
// them, in the same run: ffprobe (the ffmpeg suite's tag reader, one process per file, as a
// per-file tool scans) on a sample of the same corpus. Prints figures; it is not a test.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium } from '@playwright/test';
import { projectRoot } from '../engine/runnable.js';
import { Library } from '../library/library.js';
import { makeTemplates, writeBenchCorpus } from '../tools/music-corpus.js';
import { syntheticDb } from './library-synthetic.js';

const FILES = Number(process.env.BENCH_LIBRARY_FILES ?? 10_000);
const SYNTHETIC = Number(process.env.BENCH_LIBRARY_TRACKS ?? 100_000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-bench-library-'));
const rows: [string, string, string][] = [];
const row = (what: string, value: string, goal = ''): void => {
  rows.push([what, value, goal]);
  console.log(`  ${what}: ${value}${goal ? `   (goal ${goal})` : ''}`);
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const ROW_PX = 32; // the tracks table's row height (TracksTable.tsx)
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** CPU time the main thread has run, from /proc (Linux), or null elsewhere. */
function mainThreadRunMs(): number | null {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

async function loopDelayWhile(run: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number; worstGap: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let worstGap = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last - 5);
    last = now;
  }, 5);
  h.enable();
  await run();
  h.disable();
  clearInterval(tick);
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, worstGap };
}

async function coldAndWarm(): Promise<void> {
  console.log(`writing ${FILES} tagged files (templates from ffmpeg, tags from Node) …`);
  const t = makeTemplates(path.join(work, 'templates'));
  const corpus = path.join(work, 'corpus');
  const t0 = performance.now();
  await writeBenchCorpus(corpus, FILES, t);
  row('corpus written', `${FILES} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const home = path.join(work, 'home-scan');
  const lib = new Library({ home, watch: false });
  // Writing the corpus left garbage behind; collect it now so that its collection does not land
  // inside the measurements below (npm run bench:library runs node with --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  // The same measurement for as long with no scan: on a shared machine, the OS's scheduling alone
  // makes the loop late now and then; this is the floor to read the scan's figures against.
  const idle = await loopDelayWhile(() => new Promise((r) => setTimeout(r, 3000)));
  row('main event loop, idle (baseline, 3 s)', `p50 ${idle.p50.toFixed(1)} ms, p99 ${idle.p99.toFixed(1)} ms, max ${idle.max.toFixed(1)} ms; 5 ms timer worst lateness ${idle.worstGap.toFixed(1)} ms`);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  // A timer that should fire every 5 ms: its worst lateness is what a click would feel. Beside
  // it, Linux's schedstat of the main thread: how much of that gap the thread ran on a CPU, and
  // how much it was runnable but waiting for one (a machine shared with other work).
  let worstGap = 0;
  let worstOnCpu = null as number | null;
  let last = performance.now();
  let lastRun = mainThreadRunMs();
  const tick = setInterval(() => {
    const now = performance.now();
    const run = mainThreadRunMs();
    if (now - last - 5 > worstGap) {
      worstGap = now - last - 5;
      worstOnCpu = run !== null && lastRun !== null ? run - lastRun : null;
    }
    last = now;
    lastRun = run;
  }, 5);
  delay.enable();
  const s0 = performance.now();
  const root = lib.addRoot(corpus);
  await lib.idle();
  const coldMs = performance.now() - s0;
  delay.disable();
  clearInterval(tick);
  const st = lib.scanStatus()!;
  const tracks = lib.tracks({ limit: 1 }).total;
  row('cold scan', `${tracks} tracks in ${(coldMs / 1000).toFixed(2)} s = ${Math.round((tracks * 1000) / coldMs)} tracks/s (problems ${st.problems})`, '≥ 1,000 tracks/s');
  row('main event loop during the cold scan', `p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; 5 ms timer worst lateness ${worstGap.toFixed(1)} ms${worstOnCpu !== null ? ` (of it on a CPU: ${worstOnCpu.toFixed(1)} ms; the rest waiting for one)` : ''}`, 'max < 50 ms');

  const w0 = performance.now();
  lib.rescan(root.id);
  await lib.idle();
  const warm = lib.scanStatus()!;
  row('warm rescan (unchanged)', `${((performance.now() - w0) / 1000).toFixed(2)} s, ${warm.unchanged} unchanged, ${warm.added + warm.updated} re-read`, '≤ 1 s');
  row('database after the scan', `${mb(fs.statSync(lib.dbFile).size + (fs.statSync(`${lib.dbFile}-wal`, { throwIfNoEntry: false })?.size ?? 0))} for ${tracks} tracks`);
  row('core RSS after the scan', mb(process.memoryUsage().rss));
  await lib.close();

  // The peer: ffprobe reading the tags of a sample, one process per file.
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (files.length >= 200) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(mp3|flac)$/.test(e.name)) files.push(p);
    }
  };
  walk(corpus);
  const f0 = performance.now();
  for (const f of files) spawnSync('ffprobe', ['-v', 'error', '-threads', '1', '-show_entries', 'format_tags:stream=codec_name,sample_rate,channels', '-of', 'json', f], { stdio: ['ignore', 'ignore', 'ignore'] });
  row('peer: ffprobe -threads 1, one process per file', `${Math.round((files.length * 1000) / (performance.now() - f0))} files/s (sample of ${files.length})`);
}

async function searchAt100k(home: string): Promise<void> {
  const lib = new Library({ home, watch: false });
  // Every prefix of what a listener types, as they type it.
  const typed = ['bjork', 'ete', 'river night', 'karen solvatin', 'the love', 'electro', 'silver winter', '東京', '夜明', 'glass fire', 'mirvalin', 'zzz'];
  const times: number[] = [];
  // CPU time of each query beside its wall time: on a shared machine the difference is time the
  // process waited for a core (nothing else runs in this process meanwhile).
  const cpu: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const q of typed) {
      for (let i = 1; i <= q.length; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        lib.search(q.slice(0, i), 50);
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
  }
  const hits = lib.search('bjork', 50).tracks.length;
  row(`search as you type at ${lib.tracks({ limit: 1 }).total.toLocaleString()} tracks`, `p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms over ${times.length} queries ("bjork": ${hits} tracks shown); on-CPU p50 ${pct(cpu, 50).toFixed(2)} ms, p99 ${pct(cpu, 99).toFixed(2)} ms`, 'p99 ≤ 10 ms');
  const l0 = performance.now();
  lib.trackIds({ sort: 'title' });
  row(`all ${lib.tracks({ limit: 1 }).total.toLocaleString()} track ids sorted by title (the tracks table's load)`, `${(performance.now() - l0).toFixed(0)} ms`);
  await lib.close();
  row('synthetic database', mb(fs.statSync(path.join(home, 'library.sqlite')).size));
}

async function scrollTable(home: string): Promise<void> {
  const shell = spawn(process.execPath, [path.join(projectRoot, 'dist', 'src-main', 'shell', 'browser-main.js'), '--no-open', '--no-audio'], {
    env: { ...process.env, STELLATUNE_HOME: home, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let err = '';
    shell.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the browser shell did not start: ${out}${err}`)), 30_000);
      shell.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.getByTestId('lib-tracks').click();
    await page.getByTestId('track-row').first().waitFor();
    const count = await page.getByTestId('tracks-table').getAttribute('data-count');
    const scroller = page.locator('.tt-scroll');
    await scroller.hover();
    const cdp = await page.context().newCDPSession(page);
    const box = (await scroller.boundingBox())!;
    // rAF intervals are multiples of the display's refresh interval with a little jitter: at 60 Hz
    // a frame made in time reads 16.6 or 16.8 ms, so "over 16.7 ms" counts about a third of the
    // frames of a page doing nothing. The idle page gives the interval; a frame that missed its
    // vsync reads about twice that. Each frame also records whether every row in view was drawn
    // with its data (a row still loading or not made yet is what a listener sees as a blank).
    const startFrames = `(() => {
      // One loop at a time: a loop told to stop may still have a frame to run when the next starts.
      const loop = (window.__loop = (window.__loop ?? 0) + 1);
      window.__frames = []; window.__unfilled = 0; window.__stop = false;
      const el = document.querySelector('.tt-scroll');
      const head = el.querySelector('.tt-head').offsetHeight;
      let last = performance.now();
      const f = (t) => {
        if (window.__loop !== loop) return;
        window.__frames.push(t - last); last = t;
        const a = Math.floor(el.scrollTop / ${ROW_PX}), b = Math.min(Number(el.getAttribute('aria-rowcount')), Math.ceil((el.scrollTop + el.clientHeight - head) / ${ROW_PX})) - 1;
        for (let i = a; i <= b; i++) {
          const r = el.querySelector('[aria-rowindex="' + (i + 1) + '"]');
          if (!r || r.hasAttribute('data-loading')) { window.__unfilled++; break; }
        }
        if (!window.__stop && window.__loop === loop) requestAnimationFrame(f);
      };
      requestAnimationFrame(f);
    })()`;
    await page.evaluate(startFrames);
    await page.waitForTimeout(2000);
    await page.evaluate('window.__stop = true');
    const idleFrames = ((await page.evaluate('window.__frames')) as number[]).slice(1);
    const vsync = pct(idleFrames, 50);
    const idleOver16 = idleFrames.filter((d) => d > 16.7).length;
    row('idle page (tracks table, nothing moving)', `rAF interval median ${vsync.toFixed(1)} ms; raw rAF intervals over 16.7 ms: ${((idleOver16 / Math.max(1, idleFrames.length)) * 100).toFixed(2)} % of ${idleFrames.length}`);

    type TraceEvent = { name: string; ph: string; dur?: number; tdur?: number; pid: number; tid: number; args?: Record<string, unknown> };
    /** One scroll, measured: the page's rAF frames, Chromium's own account of the frames it showed, and the renderer's main thread. */
    const measure = async (label: string, scroll: () => Promise<void>, goal = ''): Promise<void> => {
      const traceFile = path.join(work, 'scroll-trace.json');
      // `benchmark` carries Chromium's frame reports (PipelineReporter) and its scroll-jank verdicts
      // (ScrollJankV4), the figures Chrome's smoothness metrics are made of.
      await browser.startTracing(page, { path: traceFile, categories: ['toplevel', 'benchmark'] });
      // The rAF frames are those of the scroll only: starting and stopping the trace takes the
      // browser a second or more, and its frames then (the page standing still, the browser busy
      // writing the trace) are not frames of a scroll a listener watches.
      await page.evaluate(startFrames);
      const s0 = Date.now();
      await scroll();
      const scrolledMs = Date.now() - s0;
      await page.evaluate('window.__stop = true');
      await browser.stopTracing();
      const frames = ((await page.evaluate('window.__frames')) as number[]).slice(1);
      const unfilled = (await page.evaluate('window.__unfilled')) as number;
      const top = await scroller.evaluate((el: unknown) => (el as { scrollTop: number }).scrollTop);
      const events = (JSON.parse(fs.readFileSync(traceFile, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
      const missed = frames.filter((d) => d > vsync * 1.5).length;
      const over16 = frames.filter((d) => d > 16.7).length;
      // The frames the compositor made while the page wanted to show something: dropped ones
      // are what a listener sees as a stutter.
      const reports = events.filter((e) => e.name === 'PipelineReporter' && e.ph === 'b').map((e) => (e.args?.frame_reporter ?? {}) as { state?: string });
      const shown = reports.filter((r) => r.state === 'STATE_PRESENTED_ALL' || r.state === 'STATE_PRESENTED_PARTIAL').length;
      const partial = reports.filter((r) => r.state === 'STATE_PRESENTED_PARTIAL').length;
      const dropped = reports.filter((r) => r.state === 'STATE_DROPPED').length;
      const jank = events.filter((e) => e.name === 'ScrollJankV4').map((e) => e.args?.scroll_jank_v4 as { is_janky?: boolean } | undefined).filter((j) => j !== undefined);
      const janky = jank.filter((j) => j.is_janky).length;
      // The renderer's main thread: the tasks of the page's process (the one that ran BeginMainFrame).
      const bmf = events.find((e) => e.name === 'ProxyMain::BeginMainFrame');
      const tasks = events.filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && bmf && e.pid === bmf.pid && e.tid === bmf.tid);
      const mainCpu = tasks.reduce((a, e) => a + (e.tdur ?? 0), 0) / 1000;
      const longTasks = tasks.filter((e) => (e.dur ?? 0) > 16_000).length;
      const p = (n: number, of: number): string => `${((n / Math.max(1, of)) * 100).toFixed(2)} %`;
      row(
        `${label} (${scrolledMs} ms, to ${Math.round(Number(top)).toLocaleString()} px)`,
        `compositor frames dropped ${p(dropped, shown + dropped)} (${dropped} of ${shown + dropped}; ${partial} shown without the main thread's latest); Chrome scroll jank ${p(janky, jank.length)} of ${jank.length} scroll frames; ` +
          `rAF frames that missed their vsync (> 1.5 x ${vsync.toFixed(1)} ms) ${p(missed, frames.length)} of ${frames.length}, worst ${Math.max(0, ...frames).toFixed(1)} ms, raw over 16.7 ms ${p(over16, frames.length)}; ` +
          `frames with a row in view not drawn ${unfilled}; renderer main thread ${mainCpu.toFixed(0)} ms CPU (${(mainCpu / Math.max(1, frames.length)).toFixed(1)} ms a frame), ${longTasks} tasks > 16 ms`,
        goal,
      );
    };
    // The scroll input: Chromium's synthetic scroll gesture (what Chrome's own smoothness
    // benchmarks use), mouse-wheel input paced by the display at a set speed, as a listener's
    // fast scroll or fling arrives, instead of one 640 px jump per DevTools round trip.
    const gesture = (distance: number, speed: number) => () =>
      cdp.send('Input.synthesizeScrollGesture', { x: box.x + box.width / 2, y: box.y + box.height / 2, yDistance: -distance, speed, gestureSourceType: 'mouse', preventFling: true }).then(() => undefined);
    await measure(`tracks table, ${Number(count).toLocaleString()} rows: a steady fast scroll, 4,000 px/s (125 rows/s) for 40,000 px`, gesture(40_000, 4_000), '≤ 1 % of frames over 16 ms');
    // Dragging the scrollbar to the middle lands among rows never fetched; then a fling from there.
    await scroller.evaluate((el: unknown) => {
      const e = el as { scrollTop: number; scrollHeight: number };
      e.scrollTop = e.scrollHeight / 2;
    });
    await measure('… jumped to the middle, then a fling, 12,000 px/s for 40,000 px', gesture(40_000, 12_000), '≤ 1 % of frames over 16 ms');
    // Last session's input, for comparison: each wheel event jumps 640 px (no smooth scrolling for
    // DevTools' wheel events), the next one sent when the last was handled.
    await measure('… last session\'s input: 150 wheel events of 640 px, one per round trip', async () => {
      for (let i = 0; i < 150; i++) await page.mouse.wheel(0, 640);
    });
    const rowsShown = await page.evaluate(`document.querySelectorAll('[data-testid=track-row]').length`);
    row('rows in the DOM after the scroll', String(rowsShown));
    await browser.close();
  } finally {
    shell.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (shell.exitCode === null) shell.kill('SIGKILL');
  }
}

try {
  console.log(`bench:library on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), work folder ${work}`);
  // BENCH_LIBRARY_ONLY=scroll: only the tracks table (the synthetic database and the scroll), for
  // repeating that figure without the scan's minutes.
  const only = process.env.BENCH_LIBRARY_ONLY;
  if (only !== 'scroll') await coldAndWarm();
  const home100k = path.join(work, 'home-100k');
  console.log(`building a synthetic ${SYNTHETIC.toLocaleString()}-track database …`);
  const g0 = performance.now();
  syntheticDb(home100k, SYNTHETIC);
  row('synthetic database built', `${((performance.now() - g0) / 1000).toFixed(1)} s`);
  if (only !== 'scroll') await searchAt100k(home100k);
  if (process.env.BENCH_LIBRARY_NO_BROWSER !== '1') await scrollTable(home100k);
  console.log('\nbench:library');
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b}${c ? `  [goal ${c}]` : ''}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
