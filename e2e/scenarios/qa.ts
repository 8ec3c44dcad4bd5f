// The QA suite's parts: the stack a scenario runs against (supysonic, an LRCLIB-compatible server
// and hanging proxies on 127.0.0.1, the browser shell with the real plugins beside the
// misbehaving fixture), the control-call load, the metric window read from the diagnostics
// service, the thresholds, and the report (qa-report/index.html + report.json).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, TestInfo } from '@playwright/test';
import type { DiagnosticsSnapshot } from '../../src-shared/contract.js';
import type { DiagnosticsHistoryView, HistorySample } from '../../src-shared/diagnostics-contract.js';
import { type DiagnosticsReport, loopStats, type ReportSection, type ReportThreshold, renderReportHtml } from '../../src-shared/diagnostics-report.js';
import { startFaultProxy, type FaultProxy } from '../../src-main/tools/net-servers/fault-proxy.js';
import { startLrclibServer, type LrclibServer } from '../../src-main/tools/net-servers/lrclib-server.js';
import { defaultLibrary, startSupysonic, type SupysonicServer } from '../../src-main/tools/net-servers/supysonic.js';
import { type App, launchApp, repoRoot } from '../support/app.js';
import { connectRpc, type Reply, type RpcClient } from '../support/rpc.js';

/** Seconds each scenario runs (CI: 15; the full run: QA_DURATION=60). */
export const QA_DURATION_S = Number(process.env.QA_DURATION ?? 15);
export const reportDir = path.join(repoRoot, 'qa-report');
export const builtPlugins = path.join(repoRoot, 'native-plugins', 'build', 'plugins');

export const SUBSONIC = { pluginId: 'dev.stellatune.subsonic', typeId: 'subsonic' };
export const LRCLIB = { pluginId: 'dev.stellatune.lrclib', typeId: 'lrclib' };
export const FIXTURE_SOURCE = { pluginId: 'dev.stellatune.fixture', typeId: 'fixture-source' };
export const FIXTURE_LYRICS = { pluginId: 'dev.stellatune.fixture', typeId: 'fixture-lyrics' };
export const FIXTURE_ID = 'dev.stellatune.fixture';

/** The seed's thresholds. */
export const LIMITS = { loopP99Ms: 5, loopMaxMs: 50, underruns: 0, healthyTimeoutRate: 0 };

export interface QaStack {
  app: App;
  rpc: RpcClient;
  supysonic: SupysonicServer;
  lrclib: LrclibServer;
  subsonicProxy: FaultProxy;
  lrclibProxy: FaultProxy;
  /** The app's built-in folder (copies, so C can replace files in it). */
  builtinDir: string;
  userPlugins: string;
  close(): Promise<void>;
}

export async function startStack(browser: Browser, testInfo: TestInfo): Promise<QaStack> {
  execFileSync(path.join(repoRoot, 'scripts', 'ensure-pulse.sh'), { stdio: 'pipe' });
  // Each scenario starts the track again: long enough for the longest (C runs until it has done
  // its reloads, however slow the machine).
  const playSeconds = Math.ceil(QA_DURATION_S * 2 + 240);
  const supysonic = await startSupysonic({
    library: [
      ...defaultLibrary,
      { file: 'QA/Long Play/01 Long Play.flac', title: 'Long Play', artist: 'QA', album: 'Long Play', track: 1, seconds: playSeconds, freq: 440 },
    ],
  });
  const lrclib = await startLrclibServer();
  // Requests whose query says "hang" reach a server that accepts and never answers.
  const subsonicProxy = await startFaultProxy({ port: supysonic.port });
  subsonicProxy.setRules([{ contains: 'query=hang', mode: { kind: 'hang' } }]);
  const lrclibProxy = await startFaultProxy({ port: Number(new URL(lrclib.url).port) });
  lrclibProxy.setRules([{ contains: 'hang', mode: { kind: 'hang' } }]);

  let builtinDir = '';
  let userPlugins = '';
  const app = await launchApp(browser, testInfo, {
    prepare: (home) => {
      // Built-ins without the network plugins: the Subsonic source is hot-dropped in scenario A,
      // the LRCLIB provider sits in the user folder from the start.
      builtinDir = path.join(home, 'builtin-plugins');
      userPlugins = path.join(home, 'plugins');
      fs.mkdirSync(builtinDir, { recursive: true });
      fs.mkdirSync(userPlugins, { recursive: true });
      for (const f of fs.readdirSync(builtPlugins)) {
        if (!f.endsWith('.so') || f.startsWith('subsonic') || f.startsWith('lrclib')) continue;
        fs.copyFileSync(path.join(builtPlugins, f), path.join(builtinDir, f));
      }
      fs.copyFileSync(path.join(builtPlugins, 'lrclib-lyrics.so'), path.join(userPlugins, 'lrclib-lyrics.so'));
    },
    envFromHome: (home) => ({ STELLATUNE_BUILTIN_PLUGINS: path.join(home, 'builtin-plugins') }),
    // QA_CORE_NODE_ARGS="--cpu-prof --cpu-prof-dir=…": a CPU profile of the core, for finding what
    // its loop runs; the harness's own process is left alone.
    env: process.env.QA_CORE_NODE_ARGS ? { STELLATUNE_E2E_CORE_NODE_ARGS: process.env.QA_CORE_NODE_ARGS } : {},
  });
  experimentCoreNice();
  const rpc = await connectRpc(app.url);
  await rpc.call('plugins', 'applyConfig', { ...LRCLIB, kind: 'lyrics', config: { base_url: lrclibProxy.url, timeout_ms: 10_000 } });
  return {
    app,
    rpc,
    supysonic,
    lrclib,
    subsonicProxy,
    lrclibProxy,
    builtinDir,
    userPlugins,
    async close() {
      rpc.close();
      await app.close();
      await subsonicProxy.stop();
      await lrclibProxy.stop();
      await lrclib.stop();
      await supysonic.stop();
    },
  };
}

/**
 * An experiment, never the default: QA_EXPERIMENT_CORE_NICE=-10 (root) gives the core's threads
 * that nice value after it starts; QA_EXPERIMENT_CORE_FIFO=1 puts the core's threads in the
 * SCHED_FIFO class (chrt; it uses a few % of a CPU, and the kernel's RT throttling bounds it).
 * The code and the work stay the same and only the core's claim on a CPU changes, so a block that
 * shrinks with it was time spent waiting for a CPU, not work.
 */
function experimentCoreNice(): void {
  const nice = process.env.QA_EXPERIMENT_CORE_NICE;
  const fifo = process.env.QA_EXPERIMENT_CORE_FIFO;
  if ((!nice && !fifo) || process.platform !== 'linux') return;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('browser-main.js')) continue;
      if (nice) for (const tid of fs.readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), Number(nice));
      // -a: every thread (V8's GC helpers, the thread pool, koffi's async calls): the main thread
      // waits on some of them, and a waiting-for-CPU helper would block it as surely.
      if (fifo) execFileSync('chrt', ['-a', '-f', '-p', fifo, pid], { stdio: 'pipe' });
      console.log(`[qa] experiment: the core (pid ${pid}) runs at ${nice ? `nice ${nice}` : ''}${fifo ? ` SCHED_FIFO ${fifo} (all threads)` : ''}`);
    } catch {
      // gone, or not allowed: the run says so by not printing the line
    }
  }
}

// ---- the control-call load ---------------------------------------------------------------------

/** Who a call is aimed at: a healthy server or plugin, a hanging server, or a misbehaving fixture. */
export type Target = 'healthy' | 'hanging-server' | 'fixture';

export interface CallPlan {
  label: string;
  pluginId: string;
  /** The op the core counts it under. */
  op: 'list_items' | 'search' | 'fetch';
  target: Target;
  service: 'sources' | 'lyrics';
  method: 'list' | 'search' | 'fetch';
  params: () => Record<string, unknown>;
  /** Cancel the call after this many ms (a user giving up). */
  cancelAfterMs?: number;
}

export interface CallTally {
  label: string;
  pluginId: string;
  op: string;
  target: Target;
  calls: number;
  ok: number;
  errors: Record<string, number>;
}

/** Plans of scenario A's calls. `albumId` and `sidecarPath` come from the stack. */
export function scenarioCalls(opts: { albumId: string; sidecarPath: string; sidecar: { pluginId: string; typeId: string } | null }): CallPlan[] {
  const fx = (mode: Record<string, unknown>) => mode;
  const plans: CallPlan[] = [
    { label: 'subsonic albums', ...op(SUBSONIC, 'list_items', 'healthy'), service: 'sources', method: 'list', params: () => ({ ...SUBSONIC, request: { action: 'albums', type: 'newest', limit: 20 }, deadlineMs: 4000 }) },
    { label: 'subsonic search', ...op(SUBSONIC, 'list_items', 'healthy'), service: 'sources', method: 'list', params: () => ({ ...SUBSONIC, request: { action: 'search', query: 'Dawn' }, deadlineMs: 4000 }) },
    { label: 'subsonic browse', ...op(SUBSONIC, 'list_items', 'healthy'), service: 'sources', method: 'list', params: () => ({ ...SUBSONIC, request: { action: 'browse', id: opts.albumId }, deadlineMs: 4000 }) },
    { label: 'subsonic search (hanging server)', ...op(SUBSONIC, 'list_items', 'hanging-server'), service: 'sources', method: 'list', params: () => ({ ...SUBSONIC, request: { action: 'search', query: 'hang here' }, deadlineMs: 1200 }) },
    { label: 'lrclib search', ...op(LRCLIB, 'search', 'healthy'), service: 'lyrics', method: 'search', params: () => ({ ...LRCLIB, query: { query: 'aurora dawn' }, deadlineMs: 4000 }) },
    { label: 'lrclib fetch', ...op(LRCLIB, 'fetch', 'healthy'), service: 'lyrics', method: 'fetch', params: () => ({ ...LRCLIB, track: { title: 'Dawn', artist: 'Aurora Test', album: 'First Light', duration_ms: 4000 }, deadlineMs: 4000 }) },
    { label: 'lrclib search (hanging server)', ...op(LRCLIB, 'search', 'hanging-server'), service: 'lyrics', method: 'search', params: () => ({ ...LRCLIB, query: { query: 'hang here' }, deadlineMs: 1200 }) },
    { label: 'lrclib fetch (hanging server)', ...op(LRCLIB, 'fetch', 'hanging-server'), service: 'lyrics', method: 'fetch', params: () => ({ ...LRCLIB, track: { title: 'hang', artist: 'Aurora Test', album: 'First Light', duration_ms: 4000 }, deadlineMs: 1200 }) },
    { label: 'fixture list ok', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse' } }) },
    { label: 'fixture list hang', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'hang' }) }, deadlineMs: 800 }) },
    { label: 'fixture list hang (cancelled)', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'hang' }) }, deadlineMs: 5000 }), cancelAfterMs: 300 },
    { label: 'fixture list ignore_cancel', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'ignore_cancel', delay_ms: 1500 }) }, deadlineMs: 600 }) },
    { label: 'fixture list malformed', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'malformed' }) } }) },
    { label: 'fixture list huge', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'huge', huge_bytes: 6 << 20 }) } }) },
    { label: 'fixture list no_notify', ...op(FIXTURE_SOURCE, 'list_items', 'fixture'), service: 'sources', method: 'list', params: () => ({ ...FIXTURE_SOURCE, request: { action: 'browse', fixture: fx({ mode: 'no_notify', delay_ms: 150 }) } }) },
    { label: 'fixture lyrics hang', ...op(FIXTURE_LYRICS, 'search', 'fixture'), service: 'lyrics', method: 'search', params: () => ({ ...FIXTURE_LYRICS, query: { query: 'x', fixture: fx({ mode: 'hang' }) }, deadlineMs: 800 }) },
    { label: 'fixture lyrics malformed', ...op(FIXTURE_LYRICS, 'search', 'fixture'), service: 'lyrics', method: 'search', params: () => ({ ...FIXTURE_LYRICS, query: { query: 'x', fixture: fx({ mode: 'malformed' }) } }) },
    { label: 'fixture lyrics huge', ...op(FIXTURE_LYRICS, 'fetch', 'fixture'), service: 'lyrics', method: 'fetch', params: () => ({ ...FIXTURE_LYRICS, track: { title: 'x', fixture: fx({ mode: 'huge', huge_bytes: 1 << 20 }) } }) },
    { label: 'fixture lyrics no_notify', ...op(FIXTURE_LYRICS, 'search', 'fixture'), service: 'lyrics', method: 'search', params: () => ({ ...FIXTURE_LYRICS, query: { query: 'x', fixture: fx({ mode: 'no_notify', delay_ms: 150 }) } }) },
  ];
  if (opts.sidecar) {
    const sc = { pluginId: opts.sidecar.pluginId, typeId: opts.sidecar.typeId };
    plans.push({ label: 'lrc sidecar search', pluginId: sc.pluginId, op: 'search', target: 'healthy', service: 'lyrics', method: 'search', params: () => ({ ...sc, query: { path: opts.sidecarPath, title: 'Low tone' }, deadlineMs: 4000 }) });
  }
  return plans;
}

function op(ref: { pluginId: string }, name: CallPlan['op'], target: Target): Pick<CallPlan, 'pluginId' | 'op' | 'target'> {
  return { pluginId: ref.pluginId, op: name, target };
}

/** Callers that each run one planned call after another until stopped. */
export class ControlLoad {
  readonly tallies = new Map<string, CallTally>();
  private running = false;
  private loops: Promise<void>[] = [];
  /** Calls that may hit a plugin that is being reloaded or disabled (scenario B, C). */
  tolerateCodes = new Set<string>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly plans: CallPlan[],
    private readonly callers = 10,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.callers }, (_, i) => this.caller(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async caller(seed: number): Promise<void> {
    let n = seed;
    while (this.running) {
      const plan = this.plans[n++ % this.plans.length]!;
      const t = this.tallyOf(plan);
      t.calls++;
      const r = this.rpc.reply(plan.service, plan.method, plan.params());
      let timer: NodeJS.Timeout | undefined;
      if (plan.cancelAfterMs !== undefined) timer = setTimeout(() => this.rpc.cancel(r.id), plan.cancelAfterMs);
      const reply: Reply = await r.done;
      clearTimeout(timer);
      if (reply.ok) t.ok++;
      else t.errors[reply.error.code] = (t.errors[reply.error.code] ?? 0) + 1;
    }
  }

  private tallyOf(plan: CallPlan): CallTally {
    let t = this.tallies.get(plan.label);
    if (!t) {
      t = { label: plan.label, pluginId: plan.pluginId, op: plan.op, target: plan.target, calls: 0, ok: 0, errors: {} };
      this.tallies.set(plan.label, t);
    }
    return t;
  }

  get total(): number {
    let n = 0;
    for (const t of this.tallies.values()) n += t.calls;
    return n;
  }
}

// ---- the metric window ---------------------------------------------------------------------------

/**
 * QA_RENDERER_PROFILE=<folder>: a CPU profile of the page's renderer over a scenario's window,
 * written as <folder>/<id>.cpuprofile (DevTools opens it), for finding what the UI runs under the
 * load. Returns the function that stops it; without the variable, nothing runs.
 */
export async function rendererProfile(page: Page, id: string): Promise<() => Promise<void>> {
  const dir = process.env.QA_RENDERER_PROFILE;
  if (!dir) return async () => {};
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${id}.cpuprofile`), JSON.stringify(profile));
    await cdp.detach();
  };
}

export interface LiveCounts {
  pendingOps: number;
  openStreams: number;
  liveInstances: number;
  loadedGenerations: number;
}

export interface WindowStart {
  at: number;
  snap: DiagnosticsSnapshot;
}

export async function windowStart(rpc: RpcClient): Promise<WindowStart> {
  // History samples are whole seconds: start on a fresh one.
  return { at: Date.now(), snap: await rpc.call<DiagnosticsSnapshot>('diagnostics', 'snapshot') };
}

export interface ScenarioMeasure {
  from: number;
  to: number;
  samples: HistorySample[];
  history: DiagnosticsHistoryView;
  end: DiagnosticsSnapshot;
  loop: ReturnType<typeof loopStats>;
  underruns: number;
  deviceLosses: number;
  /** Per plugin and op: calls that reached the plugin, timeouts, and the share. */
  timeouts: { pluginId: string; op: string; requests: number; timeout: number; rate: number }[];
  stalls: DiagnosticsHistoryView['stalls'];
  stallCount: number;
}

export async function windowEnd(rpc: RpcClient, start: WindowStart): Promise<ScenarioMeasure> {
  const to = Date.now();
  // Let the sample covering the last second land.
  await new Promise((r) => setTimeout(r, 1100));
  const end = await rpc.call<DiagnosticsSnapshot>('diagnostics', 'snapshot');
  const history = await rpc.call<DiagnosticsHistoryView>('diagnostics', 'history', { sinceMs: start.at - 2000 });
  // A sample at t covers the second before t.
  const samples = history.samples.filter((s) => s.at > start.at + 500 && s.at <= to + 1000);
  const stalls = history.stalls.filter((s) => s.at + s.durationMs >= start.at && s.at <= to);
  const before = new Map(start.snap.ops.map((o) => [`${o.pluginId}/${o.op}`, o]));
  const timeouts = end.ops
    .map((o) => {
      const b = before.get(`${o.pluginId}/${o.op}`);
      const d = (k: 'completed' | 'failed' | 'timeout' | 'cancelled'): number => o[k] - (b?.[k] ?? 0);
      const requests = d('completed') + d('failed') + d('timeout') + d('cancelled');
      return { pluginId: o.pluginId, op: o.op, requests, timeout: d('timeout'), rate: requests > 0 ? d('timeout') / requests : 0 };
    })
    .filter((r) => r.requests > 0);
  return {
    from: start.at,
    to,
    samples,
    history,
    end,
    loop: loopStats(samples),
    underruns: (end.engine?.underruns ?? 0) - (start.snap.engine?.underruns ?? 0),
    deviceLosses: (end.engine?.deviceLosses ?? 0) - (start.snap.engine?.deviceLosses ?? 0),
    timeouts,
    stalls,
    stallCount: stalls.length,
  };
}

/** Waits until the live counts are back at (or below) `baseline`, or `timeoutMs` passes. */
export async function settle(rpc: RpcClient, baseline: LiveCounts, timeoutMs = 20_000): Promise<LiveCounts> {
  const end = Date.now() + timeoutMs;
  let live: LiveCounts;
  for (;;) {
    live = (await rpc.call<DiagnosticsSnapshot>('diagnostics', 'snapshot')).live;
    const ok = live.pendingOps <= baseline.pendingOps && live.openStreams <= baseline.openStreams && live.liveInstances <= baseline.liveInstances && live.loadedGenerations <= baseline.loadedGenerations;
    if (ok || Date.now() > end) return live;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- thresholds ---------------------------------------------------------------------------------------

const f2 = (v: number): string => (Math.round(v * 100) / 100).toString();

/**
 * The seed's thresholds over a window. Timeouts: a call aimed at a hanging server or a hanging
 * fixture mode ends at its deadline by design; every other timeout counts against its plugin.
 */
export function seedThresholds(m: ScenarioMeasure, load: ControlLoad | null, leak: { baseline: LiveCounts; after: LiveCounts } | null): ReportThreshold[] {
  const out: ReportThreshold[] = [
    { name: 'underruns', limit: `= ${LIMITS.underruns}`, value: String(m.underruns), pass: m.underruns <= LIMITS.underruns },
    { name: 'main-loop block p99', limit: `≤ ${LIMITS.loopP99Ms} ms`, value: `${f2(m.loop.p99)} ms`, pass: m.loop.p99 <= LIMITS.loopP99Ms },
    { name: 'main-loop block max', limit: `≤ ${LIMITS.loopMaxMs} ms`, value: `${f2(m.loop.max)} ms`, pass: m.loop.max <= LIMITS.loopMaxMs },
    { name: 'device losses', limit: '= 0', value: String(m.deviceLosses), pass: m.deviceLosses === 0 },
  ];
  if (load) {
    // Timeouts the hanging targets explain, per plugin/op.
    const expected = new Map<string, number>();
    let healthyClientTimeouts = 0;
    let healthyCalls = 0;
    for (const t of load.tallies.values()) {
      const key = `${t.pluginId}/${t.op}`;
      const timeouts = t.errors.timeout ?? 0;
      if (t.target === 'healthy') {
        healthyClientTimeouts += timeouts;
        healthyCalls += t.calls;
      } else expected.set(key, (expected.get(key) ?? 0) + timeouts);
    }
    let unexplained = 0;
    let healthyRequests = 0;
    for (const row of m.timeouts) {
      if (row.pluginId === FIXTURE_ID) continue; // the misbehaving plugin
      unexplained += Math.max(0, row.timeout - (expected.get(`${row.pluginId}/${row.op}`) ?? 0));
      healthyRequests += row.requests - (expected.get(`${row.pluginId}/${row.op}`) ?? 0);
    }
    out.push({
      name: 'timeout rate of healthy plugins (calls not aimed at a hanging server)',
      limit: '= 0',
      value: `${unexplained} / ${healthyRequests} in the core; ${healthyClientTimeouts} / ${healthyCalls} seen by the caller`,
      pass: unexplained === 0 && healthyClientTimeouts === 0,
    });
  }
  if (leak) {
    const { baseline: b, after: a } = leak;
    const pass = a.pendingOps <= b.pendingOps && a.openStreams <= b.openStreams && a.liveInstances <= b.liveInstances && a.loadedGenerations <= b.loadedGenerations;
    out.push({
      name: 'no leak (pending ops, open streams, instances, generations back to baseline)',
      limit: `≤ ${b.pendingOps} / ${b.openStreams} / ${b.liveInstances} / ${b.loadedGenerations}`,
      value: `${a.pendingOps} / ${a.openStreams} / ${a.liveInstances} / ${a.loadedGenerations}`,
      pass,
    });
  }
  return out;
}

export function loadFigures(m: ScenarioMeasure, load: ControlLoad | null): [string, string][] {
  const figs: [string, string][] = [
    ['main-loop block p50 / p99 / max (block: event-loop delay beyond its 2 ms timer)', `${f2(m.loop.p50)} / ${f2(m.loop.p99)} / ${f2(m.loop.max)} ms (${m.loop.count} samples)`],
    ['stalls over 50 ms', `${m.stallCount}${m.stalls.length ? ` (${m.stalls.filter((s) => s.waitMs !== null && s.waitMs > s.durationMs / 2).length} mostly waiting for a CPU)` : ''}`],
    ['device losses / last recovery', `${m.deviceLosses} / ${m.end.engine?.lastRecoveryMs ?? '–'} ms`],
  ];
  // Whether a second's delay was the core's own work or the machine's other load: the main
  // thread's schedstat split (Linux), over the window and over the seconds past the p99 limit.
  const split = (ss: HistorySample[]): string => {
    const mt = ss.map((s) => s.mainThread).filter((x): x is { cpuMs: number; waitMs: number } => !!x);
    if (mt.length === 0) return 'not measured';
    const cpu = mt.reduce((a, x) => a + x.cpuMs, 0);
    const wait = mt.reduce((a, x) => a + x.waitMs, 0);
    return `${Math.round(cpu)} / ${Math.round(wait)} ms in ${ss.length} s (${Math.round(cpu / ss.length / 10)} % / ${Math.round(wait / ss.length / 10)} % of each second)`;
  };
  const over = m.samples.filter((s) => s.loop.p99 > LIMITS.loopP99Ms);
  figs.push(['core main thread on a CPU / waiting for a CPU (run queue), whole window', split(m.samples)]);
  figs.push([`the same in the ${over.length} seconds whose block p99 exceeded ${LIMITS.loopP99Ms} ms`, over.length ? split(over) : '–']);
  // A virtual machine's vCPUs taken by its host: time neither on a CPU nor in the run queue.
  const steal = m.samples.map((s) => s.machineStealMs).filter((x): x is number => typeof x === 'number');
  if (steal.length) figs.push(['machine steal time (the host ran other work on this VM\'s vCPUs), all CPUs, whole window', `${Math.round(steal.reduce((a, b) => a + b, 0))} ms in ${steal.length} s (max ${Math.round(Math.max(...steal))} ms in one second)`]);
  for (const r of m.timeouts) figs.push([`timeout rate ${r.pluginId.replace(/^dev\.stellatune\./, '')} ${r.op}`, `${r.timeout} / ${r.requests} (${(r.rate * 100).toFixed(1)} %)`]);
  if (load) {
    figs.push(['control calls (caller side)', String(load.total)]);
    for (const t of load.tallies.values()) {
      figs.push([`calls: ${t.label}`, `${t.calls} calls, ${t.ok} ok${Object.keys(t.errors).length ? `, ${Object.entries(t.errors).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`]);
    }
  }
  return figs;
}

// ---- the report ---------------------------------------------------------------------------------------

export interface ScenarioRecord {
  section: ReportSection;
  /** Extra data for the JSON (per-scenario figures). */
  data: Record<string, unknown>;
}

/** Writes qa-report/<id>.json and rebuilds index.html and report.json from every scenario of
 * this run. */
export function writeScenario(record: ScenarioRecord): string {
  fs.mkdirSync(reportDir, { recursive: true });
  fs.writeFileSync(path.join(reportDir, `${record.section.id}.json`), JSON.stringify(record, null, 1));
  const records = fs
    .readdirSync(reportDir)
    .filter((f) => /^scenario-[a-d]\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(reportDir, f), 'utf8')) as ScenarioRecord);
  const report: DiagnosticsReport = {
    title: 'StellaTune QA scenarios',
    subtitle: `QA_DURATION=${QA_DURATION_S} s per scenario · thresholds: 0 underruns, main-loop block p99 ≤ ${LIMITS.loopP99Ms} ms and max ≤ ${LIMITS.loopMaxMs} ms, timeout rate 0 for healthy plugins, no leak`,
    generatedAt: Date.now(),
    sections: records.map((r) => r.section),
  };
  fs.writeFileSync(path.join(reportDir, 'report.json'), JSON.stringify({ ...report, data: Object.fromEntries(records.map((r) => [r.section.id, r.data])) }, null, 1));
  const index = path.join(reportDir, 'index.html');
  fs.writeFileSync(index, renderReportHtml(report));
  return index;
}

/** Clears the previous run's report. */
export function resetReport(): void {
  fs.rmSync(reportDir, { recursive: true, force: true });
  fs.mkdirSync(reportDir, { recursive: true });
}
