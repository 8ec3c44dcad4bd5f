// The stall monitor: records every main-loop block longer than a threshold (50 ms) with what ran.
// An async hook times each callback the loop runs (timers, I/O, worker messages, promise
// continuations); the dispatch points name what a callback belongs to (`dispatch`: an RPC method,
// a watcher scan, a worker message) and label the synchronous plugin calls inside it (`section`:
// shadow copy, dlopen, entry, config apply...). A watchdog timer catches what no hook saw (code
// outside any callback, such as start-up before the first await). When asked (profileMs), the first
// stall starts a short CPU profile through the inspector, so the next ones also say which functions
// were on the CPU. Callbacks run back to back (a burst: none long, together a block, as a timer
// due meanwhile sees it) are recorded as one stall that lists what ran in it, by dispatch or
// callback, with counts.
import { AsyncLocalStorage, createHook, executionAsyncResource, type AsyncHook } from 'node:async_hooks';
import fs from 'node:fs';
import inspector from 'node:inspector';
import { BEAT_MS, beat } from '../beat.js';
import { LoopDelayClock, MERGE_MS } from './loop-delay.js';

export interface StallSection {
  label: string;
  ms: number;
}

export interface StallFrame {
  /** "fn (file:line)" of a function the profiler found on the CPU during the stall. */
  frame: string;
  /** Sampled milliseconds within the stall. */
  ms: number;
}

export interface Stall {
  /** Epoch ms when the block began. */
  at: number;
  durationMs: number;
  /** The kind of callback the loop ran: "timer tick", "promise", "TCPWRAP", "MESSAGEPORT", "main"…,
   * or "burst of N callbacks" (none long, back to back; its sections say what they were). */
  callback: string;
  /** The dispatch it belongs to ("rpc plugins.reload", "registry scan"), or null. */
  context: string | null;
  /** Labelled synchronous sections inside it (≥ sectionMinMs), longest first. */
  sections: StallSection[];
  /** Top self-time frames from a CPU profile running at the time, or null (none ran). */
  profile: StallFrame[] | null;
  /** The main thread's CPU time, and its time runnable but waiting for a CPU (the machine busy
   * with other work), over the stall plus up to one watchdog tick before it (Linux schedstat;
   * null elsewhere). A stall whose time is mostly waiting was not caused by this process. */
  cpuMs: number | null;
  waitMs: number | null;
}

// The watchdog reads its thread's schedstat at every tick: through one descriptor kept open
// (a pread each time, into one buffer) rather than an open/read/close and a string per tick.
let schedFd: number | null | undefined;
const schedBuf = Buffer.alloc(96);

/** [on-CPU ms, waiting-for-a-CPU ms] of the calling thread since it started, or null. */
function threadSchedstat(): [number, number] | null {
  if (process.platform !== 'linux') return null;
  try {
    // The main thread's own file: the monitor only runs there (thread-self would be the
    // opener's thread, which is the same one).
    if (schedFd === undefined) schedFd = fs.openSync('/proc/thread-self/schedstat', 'r');
    if (schedFd === null) return null;
    const n = fs.readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
    // "<run ns> <wait ns> <slices>\n", parsed without making a string.
    let run = 0;
    let wait = 0;
    let field = 0;
    for (let i = 0; i < n && field < 2; i++) {
      const c = schedBuf[i] as number;
      if (c >= 48 && c <= 57) {
        if (field === 0) run = run * 10 + (c - 48);
        else wait = wait * 10 + (c - 48);
      } else field++;
    }
    return [run / 1e6, wait / 1e6];
  } catch {
    schedFd = null;
    return null;
  }
}

export interface StallMonitorOptions {
  thresholdMs?: number;
  /** How many stalls are kept (the oldest go first). */
  keep?: number;
  /** Profile this long after a stall is seen (0: never profile). */
  profileMs?: number;
  /** At most one profile per this interval. */
  profileCooldownMs?: number;
}

const kType = Symbol('stall-monitor.type');
/** The watchdog's period. It only backs up the hooks: code outside any callback, which is
 * start-up code (module evaluation, the first synchronous loads) and little else. Each tick wakes
 * an otherwise idle loop (0.1-0.2 ms of CPU here), so it ticks 20 times a second for the first
 * STARTUP_WATCH_MS after start() and 4 times a second after that: a later block outside every
 * callback is still seen when it delays a tick by more than the threshold. */
const WATCHDOG_MS = 50;
const STEADY_WATCHDOG_MS = BEAT_MS;
const STARTUP_WATCH_MS = 30_000;
/** Callbacks less than this apart form one burst: the busy span the loop-delay metric counts as
 * one block (loop-delay.ts), so a burst stall is what the metric's max saw. */
const BURST_GAP_MS = MERGE_MS;

interface Frame {
  start: number;
  sections: StallSection[];
  /** The longest dispatch run synchronously inside this callback (its name outlives the
   * dispatch's own context, which ends before the callback does). */
  dispatched: { label: string; ms: number } | null;
}

/** Callbacks run back to back: what they were and how long each kind took. */
interface Burst {
  start: number;
  end: number;
  callbacks: number;
  /** dispatch or callback name -> [count, ms] */
  parts: Map<string, [number, number]>;
  /** A callback in it was recorded as a stall of its own. */
  recorded: boolean;
  /** The schedstat of the watchdog tick before it began (its CPU and wait are counted from there). */
  sched: [number, number] | null;
  /** Labelled sections of its callbacks (label -> [count, ms]). */
  sections: Map<string, [number, number]>;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function callbackName(res: unknown): string {
  if (res === null || typeof res !== 'object') return 'callback';
  const r = res as Record<PropertyKey, unknown>;
  const type = r[kType] as string | undefined;
  if (type === 'Timeout') {
    const fn = r._onTimeout as { name?: string } | undefined;
    return `timer ${fn?.name || '(anonymous)'}`;
  }
  if (type === 'Immediate') {
    const fn = r._onImmediate as { name?: string } | undefined;
    return `immediate ${fn?.name || '(anonymous)'}`;
  }
  if (type === 'TickObject') {
    const fn = r.callback as { name?: string } | undefined;
    return `nextTick ${fn?.name || '(anonymous)'}`;
  }
  if (type) return type;
  return res instanceof Promise ? 'promise' : 'callback';
}

export class StallMonitor {
  /** Mutable for tests that want every callback recorded. */
  thresholdMs: number;
  keep: number;
  /** Sections shorter than this are not kept. */
  sectionMinMs = 1;
  /** Mutable: the core leaves it 0 unless asked (see app-core.ts). */
  profileMs: number;
  profileCooldownMs: number;
  private readonly context = new AsyncLocalStorage<string>();
  private hook: AsyncHook | null = null;
  private depth = 0;
  private frame: Frame | null = null;
  /** Sections run outside any callback (top-level start-up code). */
  private outside: Frame = { start: 0, sections: [], dispatched: null };
  private readonly stalls: Stall[] = [];
  private total = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogMs = WATCHDOG_MS;
  private stopSteady: (() => void) | null = null;
  private lastTick = 0;
  private lastSched: [number, number] | null = null;
  private lastRecordedEnd = 0;
  private session: inspector.Session | null = null;
  private profiling: { perfStart: number; until: number; pending: { stall: Stall; perfStart: number; perfEnd: number }[] } | null = null;
  private lastProfileAt = -Infinity;
  private burst: Burst | null = null;
  /** Milliseconds the hooks saw callbacks run since the watchdog's last tick. */
  private busySinceTick = 0;
  private listeners = new Set<(s: Stall) => void>();
  /** The main loop's delay as a 2 ms timer would see it, from the spans this hook times
   * (loop-delay.ts): the history and the metrics read it instead of a real 2 ms sampler. */
  readonly loopDelay = new LoopDelayClock();

  constructor(opts: StallMonitorOptions = {}) {
    this.thresholdMs = opts.thresholdMs ?? 50;
    this.keep = opts.keep ?? 500;
    this.profileMs = opts.profileMs ?? 5000;
    this.profileCooldownMs = opts.profileCooldownMs ?? 30_000;
  }

  get running(): boolean {
    return this.hook !== null;
  }

  start(): void {
    if (this.hook) return;
    this.hook = createHook({
      init: (_id, type, _trigger, resource) => {
        if (type === 'PROMISE') return;
        try {
          (resource as Record<PropertyKey, unknown>)[kType] = type;
        } catch {
          // a frozen resource: it is named "callback"
        }
      },
      before: () => {
        if (this.depth++ === 0) {
          const start = performance.now();
          this.frame = { start, sections: [], dispatched: null };
          this.loopDelay.begin(start);
          const b = this.burst;
          if (!b || start - b.end >= BURST_GAP_MS) {
            if (b) this.finishBurst(b);
            this.burst = { start, end: start, callbacks: 0, parts: new Map(), recorded: false, sched: this.lastSched, sections: new Map() };
          }
        }
      },
      after: () => {
        // Started inside a callback: its `after` comes without a `before`.
        if (this.depth === 0) return;
        if (--this.depth !== 0) return;
        const f = this.frame;
        this.frame = null;
        if (!f) return;
        const end = performance.now();
        this.loopDelay.end(end);
        const context = this.context.getStore() ?? f.dispatched?.label ?? null;
        const b = this.burst;
        if (end - f.start > this.thresholdMs) {
          this.record(f.start, end, callbackName(executionAsyncResource()), context, f.sections);
          if (b) b.recorded = true;
        } else if (b && b.end - b.start + (end - f.start) > this.thresholdMs / 4) {
          // Only a span on its way to a block pays for naming its callbacks.
          const key = context ?? callbackName(executionAsyncResource());
          const part = b.parts.get(key);
          if (part) {
            part[0]++;
            part[1] += end - f.start;
          } else b.parts.set(key, [1, end - f.start]);
          for (const x of f.sections) {
            const sec = b.sections.get(x.label);
            if (sec) {
              sec[0]++;
              sec[1] += x.ms;
            } else b.sections.set(x.label, [1, x.ms]);
          }
        }
        if (b) {
          b.callbacks++;
          b.end = end;
        }
        this.busySinceTick += end - f.start;
      },
    });
    this.hook.enable();
    this.loopDelay.resync(performance.now());
    // The watchdog: a gap between its ticks that no callback accounts for is a stall outside the
    // hooks' sight (synchronous start-up code, or a hook that was not yet enabled).
    this.lastTick = performance.now();
    this.outside = { start: this.lastTick, sections: [], dispatched: null };
    this.lastSched = threadSchedstat();
    const startedAt = this.lastTick;
    const tick = (): void => {
      const now = performance.now();
      const gap = now - this.lastTick;
      // Callbacks the hooks timed (a long one, or a burst of short ones) explain their part of it.
      const unexplained = gap - this.busySinceTick;
      this.busySinceTick = 0;
      if (gap > this.thresholdMs + this.watchdogMs && unexplained > this.thresholdMs && this.lastRecordedEnd < this.lastTick) {
        this.record(this.lastTick, now, 'main', this.context.getStore() ?? this.outside.dispatched?.label ?? null, this.outside.sections, true);
      }
      this.outside = { start: now, sections: [], dispatched: null };
      this.lastTick = now;
      this.lastSched = threadSchedstat();
    };
    // Start-up: its own fast timer. After that: the shared beat.
    this.watchdogMs = WATCHDOG_MS;
    const fast = (): void => {
      tick();
      if (performance.now() - startedAt < STARTUP_WATCH_MS) {
        this.watchdog = setTimeout(fast, WATCHDOG_MS);
        this.watchdog.unref();
        return;
      }
      this.watchdog = null;
      this.watchdogMs = STEADY_WATCHDOG_MS;
      this.stopSteady = beat.every(STEADY_WATCHDOG_MS, tick);
    };
    this.watchdog = setTimeout(fast, WATCHDOG_MS);
    this.watchdog.unref();
  }

  stop(): void {
    this.burst = null;
    this.hook?.disable();
    this.hook = null;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.stopSteady?.();
    this.stopSteady = null;
    this.stopProfile();
    this.depth = 0;
    this.frame = null;
    this.loopDelay.resync(performance.now());
  }

  /** Runs `fn` as the dispatch named `label` (an RPC method, a scan): the callbacks it causes,
   * now and later, carry the name. */
  dispatch<T>(label: string, fn: () => T): T {
    if (!this.hook) return fn();
    const t0 = performance.now();
    try {
      return this.context.run(label, fn);
    } finally {
      const ms = performance.now() - t0;
      const f = this.frame ?? this.outside;
      if (!f.dispatched || ms > f.dispatched.ms) f.dispatched = { label, ms };
    }
  }

  /** Times a synchronous section (a plugin call) inside the current callback. */
  section<T>(label: string, fn: () => T): T {
    if (!this.hook) return fn();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const ms = performance.now() - t0;
      if (ms >= this.sectionMinMs) (this.frame ?? this.outside).sections.push({ label, ms: Math.round(ms * 10) / 10 });
    }
  }

  /** Stalls seen so far (oldest first; at most `keep`). */
  list(): Stall[] {
    return this.stalls.map((s) => ({ ...s, sections: [...s.sections], profile: s.profile ? [...s.profile] : null }));
  }

  /** Stalls ever seen (also those no longer kept). */
  get count(): number {
    return this.total;
  }

  onStall(listener: (s: Stall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A burst over the threshold that no single stall explained is recorded as one, its
   * callbacks listed as sections ("rpc sources.list ×38"), the longest first. */
  private finishBurst(b: Burst): void {
    if (b.recorded || b.callbacks < 2 || b.end - b.start <= this.thresholdMs) return;
    const parts = [...b.parts].sort((x, y) => y[1][1] - x[1][1]);
    // What ran (by dispatch), then the plugin calls inside it.
    const sections = [...parts, ...[...b.sections].sort((x, y) => y[1][1] - x[1][1])].map(([label, [n, ms]]) => ({ label: `${label} ×${n}`, ms: Math.round(ms * 10) / 10 }));
    this.record(b.start, b.end, `burst of ${b.callbacks} callbacks`, parts[0]?.[0] ?? null, sections, false, b.sched);
  }

  private record(perfStart: number, perfEnd: number, callback: string, context: string | null, sections: StallSection[], watchdog = false, since = this.lastSched): void {
    if (!watchdog) this.lastRecordedEnd = perfEnd;
    const stall: Stall = {
      at: Math.round(performance.timeOrigin + perfStart),
      durationMs: Math.round((perfEnd - perfStart) * 10) / 10,
      callback,
      context,
      sections: [...sections].sort((a, b) => b.ms - a.ms).slice(0, 12),
      profile: null,
      cpuMs: null,
      waitMs: null,
    };
    const sched = since ? threadSchedstat() : null;
    if (sched && since) {
      stall.cpuMs = Math.round((sched[0] - since[0]) * 10) / 10;
      stall.waitMs = Math.round((sched[1] - since[1]) * 10) / 10;
    }
    this.total++;
    this.stalls.push(stall);
    if (this.stalls.length > this.keep) this.stalls.shift();
    if (this.profiling) this.profiling.pending.push({ stall, perfStart, perfEnd });
    // A stall spent mostly off the CPU (waiting for one on a machine busy with other work, or
    // blocked in the kernel) has nothing for a profiler to see: it starts none, which would only
    // add work to a loaded machine.
    else if (stall.cpuMs === null || stall.cpuMs >= stall.durationMs / 2) this.startProfile();
    for (const l of this.listeners) l(stall);
  }

  // ---- the CPU profile ------------------------------------------------------------------------

  private startProfile(): void {
    if (this.profileMs <= 0 || performance.now() - this.lastProfileAt < this.profileCooldownMs) return;
    this.lastProfileAt = performance.now();
    try {
      this.session ??= new inspector.Session();
      this.session.connect();
    } catch {
      return; // another inspector client holds the session: no profile
    }
    const s = this.session;
    const begun = performance.now();
    this.profiling = { perfStart: begun, until: begun + this.profileMs, pending: [] };
    s.post('Profiler.enable', () => {
      s.post('Profiler.setSamplingInterval', { interval: 1000 }, () => {
        s.post('Profiler.start', () => {
          if (this.profiling) this.profiling.perfStart = performance.now();
        });
      });
    });
    const t = setTimeout(() => this.stopProfile(), this.profileMs);
    t.unref();
  }

  private stopProfile(): void {
    const p = this.profiling;
    const s = this.session;
    if (!p || !s) return;
    this.profiling = null;
    try {
      s.post('Profiler.stop', (err, result) => {
        if (!err && result) this.attribute(result.profile as unknown as CpuProfile, p.perfStart, p.pending);
        try {
          s.post('Profiler.disable');
          s.disconnect();
        } catch {
          // already gone
        }
      });
    } catch {
      // the session closed under us
    }
  }

  /** Puts the profile's top self-time frames within each stall's time span on that stall. */
  private attribute(profile: CpuProfile, perfStart: number, pending: { stall: Stall; perfStart: number; perfEnd: number }[]): void {
    if (pending.length === 0 || !profile.samples || !profile.timeDeltas) return;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    // Profile times are µs of the monotonic clock, as process.hrtime is; performance.now() is
    // that clock minus the time origin.
    void perfStart;
    const offsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
    const times: number[] = [];
    let t = profile.startTime;
    for (const d of profile.timeDeltas) times.push((t += d));
    for (const { stall, perfStart: a, perfEnd: b } of pending) {
      const lo = a * 1000 + offsetUs;
      const hi = b * 1000 + offsetUs;
      const hits = new Map<string, number>();
      let prev = lo;
      for (let i = 0; i < profile.samples.length; i++) {
        const ts = times[i]!;
        if (ts < lo || ts > hi) continue;
        const node = byId.get(profile.samples[i]!);
        const cf = node?.callFrame;
        if (!cf || cf.functionName === '(idle)') continue;
        const name = cf.url ? `${cf.functionName || '(anonymous)'} (${cf.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '')}:${cf.lineNumber + 1})` : cf.functionName;
        hits.set(name, (hits.get(name) ?? 0) + (ts - prev) / 1000);
        prev = ts;
      }
      stall.profile = [...hits]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([frame, ms]) => ({ frame, ms: Math.round(ms * 10) / 10 }));
    }
  }
}

/** The process's monitor. The core starts it; `dispatch` and `section` cost nothing until then.
 * No profile by default: starting V8's profiler makes it list every compiled function on the main
 * thread, and a --cpu-prof run of the QA scenarios measured that Profiler.start at 48–520 ms of
 * loop block, a stall of its own after each stall it meant to explain. */
export const stallMonitor = new StallMonitor({ profileMs: 0 });
