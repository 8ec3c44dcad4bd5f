// The diagnostics history: one sample a second for the last hour, kept in the core so the
// Diagnostics screen (and a saved report) shows the past, not only what happened since it opened.
// Each sample holds that second's main-loop block time (event-loop delay beyond a 2 ms timer
// period, as loop-delay.ts derives it from the stall monitor's callback timings; its own window,
// reset every second, with
// the share of samples in fixed buckets so any window's percentiles can be pooled later), the
// plugin calls that ended in it per plugin and outcome, underruns, ring fill, live counts and stalls.
import fs from 'node:fs';
import { DELAY_BUCKET_EDGES_MS, type DelayBucketEdges, type HistorySample, type OpsDelta } from '../../src-shared/diagnostics-report.js';
import { every } from '../beat.js';
import type { OpCounters } from '../control/metrics.js';
import type { LoopDelayWindow } from './loop-delay.js';
import { stallMonitor, type StallMonitor } from './stall-monitor.js';

export interface HistoryInputs {
  ops: () => OpCounters[];
  live: () => { pendingOps: number; openStreams: number; liveInstances: number; loadedGenerations: number };
  engine: () => { underruns: number; deviceLosses: number; ringFill: number; ringFillMin: number; blockLatencyP99: number; dspBlockP99?: number; outputBlockP99?: number } | null;
  /** The ring's minimum fill since the previous sample (and a fresh minimum from now), when the
   * engine can say: a second's minimum, not one since start-up that keeps the first track's
   * priming forever. */
  takeRingFillMin?: () => number | null;
  stalls: () => number;
}

export interface HistoryOptions {
  intervalMs?: number;
  /** Samples kept (3600: an hour at one a second). */
  capacity?: number;
  /** Whose callback timings give the loop delay (default: the process's stall monitor). */
  monitor?: StallMonitor;
}

export class DiagnosticsHistory {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly startedAt = Date.now();
  private readonly samples: HistorySample[] = [];
  private readonly monitor: StallMonitor;
  private delay: LoopDelayWindow | null = null;
  private stopTimer: (() => void) | null = null;
  private prevOps = new Map<string, OpCounters>();
  private prevUnderruns: number | null = null;
  private prevStalls = 0;
  private prevSched: [number, number] | null = null;
  private prevSteal: number | null = null;

  constructor(
    private readonly inputs: HistoryInputs,
    opts: HistoryOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.capacity = opts.capacity ?? 3600;
    this.monitor = opts.monitor ?? stallMonitor;
  }

  start(): void {
    if (this.stopTimer) return;
    this.monitor.start();
    this.delay = this.monitor.loopDelay.open();
    for (const o of this.inputs.ops()) this.prevOps.set(`${o.pluginId}\u0000${o.op}`, o);
    this.prevStalls = this.inputs.stalls();
    this.prevSched = mainThreadSchedstat();
    this.prevSteal = machineStealMs();
    this.stopTimer = every(this.intervalMs, () => this.sample());
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    if (this.delay) this.monitor.loopDelay.close(this.delay);
    this.delay = null;
  }

  list(sinceMs = 0): HistorySample[] {
    return sinceMs > 0 ? this.samples.filter((s) => s.at >= sinceMs) : [...this.samples];
  }

  private secondRingFillMin(sinceStart: number, now: number): number {
    if (!this.inputs.takeRingFillMin) return sinceStart;
    // Nothing played in that second: the fill now is its minimum.
    return this.inputs.takeRingFillMin() ?? now;
  }

  /** Takes one sample now (the timer calls this every interval). */
  sample(): HistorySample {
    this.monitor.loopDelay.catchUp(performance.now());
    const h = this.delay;
    const block = (ms: number): number => Math.max(0, Math.round(ms * 100) / 100);
    const count = h?.count ?? 0;
    const buckets = h && count > 0 ? bucketShares(h, DELAY_BUCKET_EDGES_MS) : new Array<number>(DELAY_BUCKET_EDGES_MS.length + 1).fill(0);
    const loop = h && count > 0 ? { p50: block(h.blockAt(50)), p99: block(h.blockAt(99)), max: block(h.maxBlock), count, buckets } : { p50: 0, p99: 0, max: 0, count: 0, buckets };
    h?.reset();

    const ops: OpsDelta[] = [];
    const byPlugin = new Map<string, OpsDelta>();
    for (const o of this.inputs.ops()) {
      const key = `${o.pluginId}\u0000${o.op}`;
      const prev = this.prevOps.get(key);
      this.prevOps.set(key, o);
      const d = (k: keyof Omit<OpCounters, 'pluginId' | 'op'>): number => o[k] - (prev?.[k] ?? 0);
      const delta = { completed: d('completed'), failed: d('failed'), timeout: d('timeout'), cancelled: d('cancelled'), busy: d('busy'), rejected: d('rejected') };
      if (Object.values(delta).every((v) => v === 0)) continue;
      let row = byPlugin.get(o.pluginId);
      if (!row) {
        row = { pluginId: o.pluginId, completed: 0, failed: 0, timeout: 0, cancelled: 0, busy: 0, rejected: 0 };
        byPlugin.set(o.pluginId, row);
        ops.push(row);
      }
      for (const [k, v] of Object.entries(delta) as [keyof typeof delta, number][]) row[k] += v;
    }

    const e = this.inputs.engine();
    const underruns = e ? Math.max(0, e.underruns - (this.prevUnderruns ?? e.underruns)) : 0;
    this.prevUnderruns = e ? e.underruns : null;
    const stallsNow = this.inputs.stalls();
    const stalls = stallsNow - this.prevStalls;
    this.prevStalls = stallsNow;
    const live = this.inputs.live();
    const sched = mainThreadSchedstat();
    const prevSched = this.prevSched;
    this.prevSched = sched;
    const mainThread = sched && prevSched ? { cpuMs: round1(sched[0] - prevSched[0]), waitMs: round1(sched[1] - prevSched[1]) } : null;
    const steal = machineStealMs();
    const machineStealMsDelta = steal !== null && this.prevSteal !== null ? Math.max(0, steal - this.prevSteal) : null;
    this.prevSteal = steal;
    const s: HistorySample = {
      at: Date.now(),
      loop,
      mainThread,
      machineStealMs: machineStealMsDelta,
      ops,
      underruns,
      deviceLosses: e?.deviceLosses ?? 0,
      ringFill: e ? Math.round(e.ringFill * 1000) / 1000 : null,
      ringFillMin: e ? Math.round(this.secondRingFillMin(e.ringFillMin, e.ringFill) * 1000) / 1000 : null,
      blockLatencyP99: e ? Math.round(e.blockLatencyP99 * 1000) / 1000 : null,
      dspBlockP99: e?.dspBlockP99 !== undefined ? Math.round(e.dspBlockP99 * 1000) / 1000 : null,
      outputBlockP99: e?.outputBlockP99 !== undefined ? Math.round(e.outputBlockP99 * 1000) / 1000 : null,
      pendingOps: live.pendingOps,
      openStreams: live.openStreams,
      liveInstances: live.liveInstances,
      loadedGenerations: live.loadedGenerations,
      stalls,
    };
    this.samples.push(s);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
    return s;
  }
}

const round1 = (v: number): number => Math.max(0, Math.round(v * 10) / 10);

/** [on-CPU ms, run-queue wait ms] of the calling (main) thread since it started; null off Linux.
 * Read once a second: the split says whether a second's delay was the core's work or the machine's
 * other load. */
function mainThreadSchedstat(): [number, number] | null {
  if (process.platform !== 'linux') return null;
  try {
    const [run, wait] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  } catch {
    return null;
  }
}

/** The machine's steal time so far, summed over its CPUs, ms (Linux /proc/stat; a virtual machine
 * whose host ran something else on its vCPUs): a thread that is neither on a CPU nor waiting for
 * one by its own schedstat while the loop stands still was, on such a machine, most likely here. */
function machineStealMs(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n', 1)[0]!;
    // "cpu  user nice system idle iowait irq softirq steal ..." in USER_HZ ticks (100 a second).
    const steal = Number(line.trim().split(/\s+/)[8]);
    return Number.isFinite(steal) ? steal * 10 : null;
  } catch {
    return null;
  }
}

/** Counts of the window's samples whose block is at or below each edge (the last bucket: above
 * the last edge). */
function bucketShares(h: LoopDelayWindow, edges: DelayBucketEdges): number[] {
  const out: number[] = [];
  let below = 0;
  for (const edge of edges) {
    const c = h.atOrBelow(edge);
    out.push(Math.max(0, c - below));
    below = Math.max(below, c);
  }
  out.push(Math.max(0, h.count - below));
  return out;
}
