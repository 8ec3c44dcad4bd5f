// bench:responsiveness — StellaTune and mpv side by side in one run, same FLAC, same PulseAudio
// null sink, every time measured from the sink's monitor (parec): time to first sound after
// "play", seek to the new position's sound, pause to silence, a DSP change to the changed sound
// (StellaTune only: mpv has no comparable EQ path), CPU seconds per minute of playback and RSS.
// StellaTune runs as the browser shell (core + audio process) with one WebSocket client
// subscribed to every event, standing in for the idle UI (the real UI, idle, makes no calls and
// gets the same events), then once more with its real UI open in Chromium on the queue, for the
// player's CPU and Chromium's own; mpv runs --idle with its JSON IPC. Both are started and idle
// before anything is timed. Prints figures; it is not a test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import WebSocket from 'ws';
import { repoRoot } from '../app-paths.js';
import { SinkMonitor } from './sink-monitor.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 60);
const QUIET = 0.2;
const LOUD = 0.8;
const TRACE = process.env.BENCH_TRACE === '1';

execFileSync(path.join(repoRoot, 'scripts', 'ensure-pulse.sh'), { stdio: 'inherit' });
// A null sink of our own: on a shared machine other players (tests) use the default one, and the
// monitor must hear only the player being timed. Both players reach it through ALSA -> pulse,
// which honours PULSE_SINK.
const SINK = `stellatune_bench_${process.pid}`;
const sinkModule = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}`, `sink_properties=device.description=StellaTuneBench`], { encoding: 'utf8' }).trim();
process.env.PULSE_SINK = SINK;
// Keep it in low-latency mode like a device (see scripts/ensure-pulse.sh).
const keepalive = spawn('pacat', ['--playback', `--device=${SINK}`, '--latency-msec=30', '--raw', '--client-name=stellatune-bench-keepalive', '/dev/zero'], { stdio: 'ignore' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-bench-resp-'));
const flac = path.join(work, 'bench.flac');
// 0-10 s quiet, 10-190 s loud: a seek into the loud part is heard as a level step, and after a seek
// back to 11 s both CPU windows (60 s each) fall inside the track.
execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', path.join(work, 'q.wav'), 'synth', '10', 'sine', '440', 'vol', String(QUIET)]);
execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', path.join(work, 'l.wav'), 'synth', '180', 'sine', '440', 'vol', String(LOUD)]);
execFileSync('sox', [path.join(work, 'q.wav'), path.join(work, 'l.wav'), flac]);

const monitor = new SinkMonitor(`${SINK}.monitor`);

// Whatever happens, leave no player, keepalive or sink behind.
const spawned: ChildProcess[] = [keepalive];
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const p of spawned) if (p.exitCode === null) p.kill('SIGKILL');
  monitor.close();
  try {
    execFileSync('pactl', ['unload-module', sinkModule]);
  } catch {
    // already gone
  }
  fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(1));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => SinkMonitor.now();

function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

// CPU seconds and wake-ups (voluntary context switches) per thread, keyed "process/thread[tid]",
// so the table can say where the time goes (the main loop, the decode worker, the audio callback,
// PulseAudio's client thread, libuv's pool, V8's GC threads).
function threadCpu(pids: number[]): Map<string, { cpu: number; wakes: number }> {
  const out = new Map<string, { cpu: number; wakes: number }>();
  for (const [i, pid] of pids.entries()) {
    try {
      const procName = `${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}${i === 0 ? '' : ` (child ${i})`}`;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const wakes = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0);
        out.set(`${procName}/${name}[${tid}]`, { cpu: (Number(f[11]) + Number(f[12])) / 100, wakes });
      }
    } catch {
      // gone
    }
  }
  return out;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** `pid` and every process under it. */
function treeOf(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(treeOf)];
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

interface Player {
  name: string;
  pids(): number[];
  play(): Promise<void>;
  stop(): Promise<void>;
  seek(seconds: number): Promise<void>;
  pause(on: boolean): Promise<void>;
  dsp?(preampDb: number): Promise<void>;
  /** The player's own UI in a real Chromium while a track plays: CPU seconds per minute of the
   * player (core + audio process) and of Chromium (every process of it). */
  withUi?(seconds: number): Promise<{ player: number; chromium: number } | null>;
  /** Still playing (a CPU window that ran past the end of the track would not be of playback). */
  playing(): Promise<boolean>;
  close(): Promise<void>;
}

// ---- StellaTune (browser shell over its WebSocket contract) -----------------------------------

async function startStellaTune(): Promise<Player> {
  const home = path.join(work, 'home');
  // BENCH_CORE_ARGS: extra node flags for the core, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const coreArgs = (process.env.BENCH_CORE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const proc = spawn(process.execPath, [...coreArgs, path.join(repoRoot, 'dist', 'src-main', 'shell', 'browser-main.js'), '--no-open'], {
    env: { ...process.env, STELLATUNE_HOME: home, CI: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawned.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    proc.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /running at (\S+)/.exec(text);
      if (m) resolve(m[1] as string);
    });
    proc.once('exit', (c) => reject(new Error(`the browser shell exited (${c})`)));
  });
  const u = new URL(url);
  // The printed address carries the launch token as /session?key= (or, older, #token=).
  const token = (u.searchParams.get('key') ?? new URLSearchParams(u.hash.slice(1)).get('token')) as string;
  const ws = new WebSocket(`ws://${u.host}/rpc?token=${encodeURIComponent(token)}`, { origin: u.origin });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<string, (m: { ok: boolean; value?: unknown; error?: unknown }) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { t: string; id?: string; ok?: boolean; value?: unknown; error?: unknown };
    if (m.t === 'reply' && m.id) pending.get(m.id)?.(m as { ok: boolean });
  });
  const call = (service: string, method: string, params?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = String(nextId++);
      pending.set(id, (m) => {
        pending.delete(id);
        if (m.ok) resolve(m.value);
        else reject(new Error(`${service}.${method}: ${JSON.stringify(m.error)}`));
      });
      ws.send(JSON.stringify({ t: 'call', id, service, method, params }));
    });
  // BENCH_BUFFER_FRAMES: the Output view's buffer size (frames per device buffer) to time with.
  if (process.env.BENCH_BUFFER_FRAMES) await call('output', 'set', { choice: { kind: 'portaudio', deviceId: null, bufferFrames: Number(process.env.BENCH_BUFFER_FRAMES) } });
  // Idle and ready: wait for the audio process to exist.
  for (let i = 0; i < 200 && childrenOf(proc.pid as number).length === 0; i++) await sleep(25);
  await sleep(1000);
  const playing = async (): Promise<boolean> => ((await call('player', 'status')) as { state: string }).state === 'playing';
  return {
    name: 'StellaTune',
    pids: () => [proc.pid as number, ...childrenOf(proc.pid as number)],
    play: async () => {
      await call('queue', 'add', { tracks: [{ source: { kind: 'file', path: flac }, title: 'bench' }], play: true });
    },
    stop: async () => {
      await call('player', 'stop');
      await call('queue', 'clear');
    },
    seek: async (s) => void (await call('player', 'seek', { positionMs: s * 1000 })),
    pause: async (on) => void (await call('player', on ? 'pause' : 'resume')),
    dsp: async (db) => void (await call('output', 'applyDsp', { pluginId: 'dev.stellatune.eq', typeId: 'eq10', config: { bypass: false, preamp_db: db, bands: [] } })),
    playing,
    withUi: async (seconds) => {
      const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
      if (!fs.existsSync(exe)) return null;
      const before = new Set(childrenOf(process.pid));
      const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
        await page.goto(url);
        // The queue, with the playing row and the now-playing bar: what a listener leaves open.
        await page.getByTestId('nav-queue').click();
        await page.getByTestId('now-playing').waitFor();
        await sleep(2000);
        const browserPids = (): number[] => childrenOf(process.pid).filter((p) => !before.has(p)).flatMap(treeOf);
        const playerPids = (): number[] => treeOf(proc.pid as number);
        const total = (pids: number[]): number => pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
        const b0 = total(browserPids());
        const p0 = total(playerPids());
        const t0 = Date.now();
        await sleep(seconds * 1000);
        const minutes = (Date.now() - t0) / 60_000;
        if (!(await playing())) throw new Error('StellaTune stopped playing within the CPU window with its UI open');
        return { player: (total(playerPids()) - p0) / minutes, chromium: (total(browserPids()) - b0) / minutes };
      } finally {
        await browser.close();
      }
    },
    close: async () => {
      ws.close();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

// ---- mpv (JSON IPC) -----------------------------------------------------------------------------

async function startMpv(): Promise<Player | null> {
  try {
    execFileSync('mpv', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const sock = path.join(work, 'mpv.sock');
  const proc: ChildProcess = spawn('mpv', ['--idle=yes', `--input-ipc-server=${sock}`, '--ao=alsa', '--no-video', '--no-terminal', '--no-config'], { stdio: 'ignore' });
  spawned.push(proc);
  // mpv creates the socket before it listens on it: retry the connect for a while.
  let conn: net.Socket | null = null;
  for (let i = 0; i < 200 && !conn; i++) {
    conn = await new Promise<net.Socket | null>((resolve) => {
      const c = net.createConnection(sock);
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(null));
    });
    if (!conn) await sleep(50);
  }
  if (!conn) throw new Error('mpv did not open its IPC socket');
  let nextId = 1;
  const pending = new Map<number, (data: unknown) => void>();
  let buf = '';
  conn.on('data', (d) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = JSON.parse(line) as { request_id?: number; data?: unknown };
      if (m.request_id !== undefined) pending.get(m.request_id)?.(m.data);
    }
  });
  const ask = (...command: unknown[]): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, (data) => {
        pending.delete(id);
        resolve(data);
      });
      conn.write(`${JSON.stringify({ command, request_id: id })}\n`);
    });
  const cmd = async (...command: unknown[]): Promise<void> => void (await ask(...command));
  await sleep(1000);
  return {
    name: 'mpv',
    pids: () => [proc.pid as number],
    play: () => cmd('loadfile', flac),
    stop: () => cmd('stop'),
    seek: (s) => cmd('seek', s, 'absolute'),
    pause: (on) => cmd('set_property', 'pause', on),
    playing: async () => (await ask('get_property', 'idle-active')) === false,
    close: async () => {
      conn.destroy();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

// ---- the measurements ----------------------------------------------------------------------------

const median = (xs: number[]): number | null => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? (v[Math.floor((v.length - 1) / 2)] as number) : null;
};

interface Figures {
  firstSound: number | null;
  seek: number | null;
  pause: number | null;
  dsp: number | null;
  cpuPerMin: number;
  /** The same with the player's own UI open in Chromium (StellaTune only). */
  withUi: { player: number; chromium: number } | null;
  rss: number;
  /** Per "process/thread": CPU seconds per minute and wake-ups per second, most CPU first. */
  threads: [string, number, number][];
}

async function measure(p: Player): Promise<Figures> {
  const first: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await sleep(700);
    const t = now();
    await p.play();
    const d = await monitor.sound(t);
    if (d !== null) first.push(d);
    await sleep(300);
    await p.stop();
  }
  await sleep(500);
  await p.play();
  await sleep(1500);
  const seek: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await p.seek(2);
    await sleep(700);
    const t = now();
    await p.seek(20 + i * 5);
    const d = await monitor.firstWindow(t, (pk) => pk > (QUIET + LOUD) / 2);
    if (TRACE) console.log(`seek ${d} ms`, (await monitor.envelope(t - 50, 300)).join(' '));
    if (d !== null) seek.push(d);
    await sleep(500);
  }
  const pause: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await sleep(600);
    const t = now();
    await p.pause(true);
    const d = await monitor.silence(t);
    if (TRACE) console.log(`pause ${d} ms`, (await monitor.envelope(t - 50, 300)).join(' '));
    if (d !== null) pause.push(d);
    await sleep(300);
    await p.pause(false);
  }
  const dsp: number[] = [];
  if (p.dsp) {
    for (let i = 0; i < REPS; i++) {
      await sleep(700);
      const t = now();
      await p.dsp(-12); // 0.8 -> 0.2
      const d = await monitor.firstWindow(t, (pk) => pk < (QUIET + LOUD) / 2, 5);
      if (TRACE) console.log(`dsp ${d} ms`, (await monitor.envelope(t - 50, 300)).join(' '));
      if (d !== null) dsp.push(d);
      await sleep(500);
      await p.dsp(0);
    }
  }
  // Both CPU windows are of playback: back to the start of the loud part, 3 minutes before the end.
  await p.seek(11);
  await sleep(1000);
  const pids = p.pids();
  const c0 = pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const th0 = threadCpu(pids);
  const t0 = Date.now();
  await sleep(CPU_SECONDS * 1000);
  const cpu = pids.reduce((a, pid) => a + cpuSeconds(pid), 0) - c0;
  const minutes = (Date.now() - t0) / 60_000;
  const threads = [...threadCpu(pids)]
    .map(([k, v]): [string, number, number] => [k, (v.cpu - (th0.get(k)?.cpu ?? 0)) / minutes, (v.wakes - (th0.get(k)?.wakes ?? 0)) / (minutes * 60)])
    .filter(([, cpu, wakes]) => cpu >= 0.01 || wakes >= 1)
    .sort((a, b) => b[1] - a[1]);
  if (!(await p.playing())) throw new Error(`${p.name} stopped playing within the CPU window: the figure would not be of playback`);
  const rss = pids.reduce((a, pid) => a + rssMb(pid), 0);
  // BENCH_UI=0 leaves the real UI out (no Chromium).
  const withUi = p.withUi && process.env.BENCH_UI !== '0' ? await p.withUi(CPU_SECONDS) : null;
  await p.stop();
  return { firstSound: median(first), seek: median(seek), pause: median(pause), dsp: median(dsp), cpuPerMin: cpu / minutes, withUi, rss, threads };
}

const st = await startStellaTune();
const mpv = await startMpv();
let stF: Figures;
let mpvF: Figures | null = null;
try {
  stF = await measure(st);
} finally {
  await st.close();
}
if (mpv) {
  try {
    mpvF = await measure(mpv);
  } finally {
    await mpv.close();
  }
}
cleanup();

const fmt = (v: number | null | undefined, unit: string, digits = 0): string => (v === null || v === undefined ? '—' : `${(Number(v.toFixed(digits)) === 0 ? 0 : v).toFixed(digits)} ${unit}`);
// A peer figure that rounds to 0 (mpv's seek, heard in the same monitor window) makes no ratio.
const ratio = (a: number | null | undefined, b: number | null | undefined, digits: number): string => (a == null || b == null || Number(b.toFixed(digits)) === 0 ? '—' : `${(a / b).toFixed(2)}×`);
const rows: [string, number | null, number | null, string, number][] = [
  ['first sound after play', stF.firstSound, mpvF?.firstSound ?? null, 'ms', 0],
  ['seek -> new sound', stF.seek, mpvF?.seek ?? null, 'ms', 0],
  ['pause -> silence', stF.pause, mpvF?.pause ?? null, 'ms', 0],
  ['DSP change -> changed sound', stF.dsp, null, 'ms', 0],
  ['CPU per minute of playback', stF.cpuPerMin, mpvF?.cpuPerMin ?? null, 's', 2],
  ['… with its own UI open in Chromium: the player', stF.withUi?.player ?? null, mpvF?.cpuPerMin ?? null, 's', 2],
  ['… and Chromium itself', stF.withUi?.chromium ?? null, null, 's', 2],
  ['RSS', stF.rss, mpvF?.rss ?? null, 'MB', 0],
];
console.log(`bench:responsiveness — medians of ${REPS}, CPU over ${CPU_SECONDS} s, timed from the null sink's monitor${mpv ? '' : ' (mpv not installed)'}`);
console.log(`| measure | StellaTune | mpv | ratio |`);
console.log(`|---|---|---|---|`);
for (const [name, a, b, unit, d] of rows) console.log(`| ${name} | ${fmt(a, unit, d)} | ${fmt(b, unit, d)} | ${ratio(a, b, d)} |`);
console.log('');
console.log('Where the time goes: CPU seconds per minute and wake-ups per second, by thread');
console.log('| player | thread | CPU s/min | wake-ups/s |');
console.log('|---|---|---|---|');
for (const [name, f] of [['StellaTune', stF], ['mpv', mpvF]] as const) for (const [k, cpu, wakes] of f?.threads ?? []) console.log(`| ${name} | ${k.replace(/\[\d+\]$/, '')} | ${cpu.toFixed(2)} | ${wakes.toFixed(0)} |`);
