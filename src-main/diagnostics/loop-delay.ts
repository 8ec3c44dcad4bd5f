// The main loop's delay as a 2 ms periodic timer would see it (what perf_hooks'
// monitorEventLoopDelay measures), computed from the loop's busy spans instead of sampled by a
// real timer. A real 2 ms sampler wakes an idle player 500 times a second, which cost more CPU
// than playback itself (about 0.65 CPU-seconds per minute on the 2-core machine). The stall
// monitor's async hook already times every callback, so the spans come for free.
//
// The virtual timer: due every RESOLUTION_MS; when the loop is idle at its due time it fires on
// time (a sample of RESOLUTION_MS, a block of 0); when the loop is busy it fires when the span
// ends (a sample of RESOLUTION_MS + the block), and its next due time is one period after that,
// as libuv re-arms a repeating timer. Callbacks run back to back (less than MERGE_MS apart) form
// one span, as they would hold a real timer back. What no hook sees (code outside any callback,
// the kernel's wake-up latency on a busy machine) is not counted; the stall monitor's watchdog
// still reports long blocks outside callbacks.

/** The virtual sampler's period (the real one the metric was defined with). */
export const RESOLUTION_MS = 2;
/** Callbacks closer together than this belong to one busy span. */
export const MERGE_MS = 0.05;
/** Block samples kept per window at most (each is one busy span that held the timer). */
const MAX_BLOCKS = 50_000;

/** One reader's samples since its last reset: idle samples are counted, blocks kept (ms). */
export class LoopDelayWindow {
  idle = 0;
  blocks: number[] = [];
  private sorted: number[] | null = null;
  closed = false;

  record(blockMs: number): void {
    if (this.blocks.length >= MAX_BLOCKS) this.blocks.splice(0, MAX_BLOCKS / 2);
    this.blocks.push(blockMs);
    this.sorted = null;
  }

  get count(): number {
    return this.idle + this.blocks.length;
  }

  reset(): void {
    this.idle = 0;
    this.blocks = [];
    this.sorted = null;
  }

  private ordered(): number[] {
    this.sorted ??= [...this.blocks].sort((a, b) => a - b);
    return this.sorted;
  }

  /** The block (ms beyond the period) at percentile p (0..100). */
  blockAt(p: number): number {
    const n = this.count;
    if (n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * n)); // 1-based
    if (rank <= this.idle) return 0;
    const s = this.ordered();
    return s[Math.min(s.length - 1, rank - this.idle - 1)] ?? 0;
  }

  get maxBlock(): number {
    const s = this.ordered();
    return s.length > 0 ? (s[s.length - 1] as number) : 0;
  }

  get meanBlock(): number {
    const n = this.count;
    return n === 0 ? 0 : this.blocks.reduce((a, b) => a + b, 0) / n;
  }

  /** Samples whose block is at or below `ms`. */
  atOrBelow(ms: number): number {
    const s = this.ordered();
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((s[mid] as number) <= ms) lo = mid + 1;
      else hi = mid;
    }
    return this.idle + lo;
  }
}

/** Feeds every open window from the busy spans it is told about. */
export class LoopDelayClock {
  private readonly windows = new Set<LoopDelayWindow>();
  private nextDue = 0;
  private spanStart = -1;
  private lastEnd = -1;
  private inSpan = false;

  /** A window that collects from now on (close it when done). */
  open(): LoopDelayWindow {
    const w = new LoopDelayWindow();
    if (this.windows.size === 0) this.restart(performance.now());
    this.windows.add(w);
    return w;
  }

  close(w: LoopDelayWindow): void {
    w.closed = true;
    this.windows.delete(w);
  }

  get active(): boolean {
    return this.windows.size > 0;
  }

  /** The hook was (re)enabled: a span it was in the middle of will not be told to end. */
  resync(now: number): void {
    if (this.inSpan) {
      this.inSpan = false;
      this.lastEnd = now;
    }
    this.catchUp(now);
  }

  private restart(now: number): void {
    this.nextDue = now + RESOLUTION_MS;
    this.spanStart = -1;
    this.lastEnd = -1;
    this.inSpan = false;
  }

  /** A callback began at `t` (performance.now()). */
  begin(t: number): void {
    if (this.windows.size === 0) return;
    if (this.lastEnd >= 0 && t - this.lastEnd < MERGE_MS) {
      // Back to back with the previous callback: the same span goes on.
      this.inSpan = true;
      return;
    }
    this.settle();
    this.idleUntil(t);
    this.spanStart = t;
    this.inSpan = true;
  }

  /** The callback that began the span (or continued it) ended at `t`. */
  end(t: number): void {
    if (this.windows.size === 0 || !this.inSpan) return;
    this.inSpan = false;
    this.lastEnd = t;
  }

  /** Brings the windows up to `now` (a reader calls this before reading). */
  catchUp(now: number): void {
    if (this.windows.size === 0 || this.inSpan) return;
    this.settle();
    this.idleUntil(now);
  }

  /** The span that ended at lastEnd held back a timer that came due in it. */
  private settle(): void {
    if (this.lastEnd < 0) return;
    const end = this.lastEnd;
    const start = this.spanStart;
    this.lastEnd = -1;
    this.spanStart = -1;
    if (start >= 0 && this.nextDue < start) this.idleUntil(start);
    if (this.nextDue < end) {
      const block = end - this.nextDue;
      for (const w of this.windows) w.record(block);
      this.nextDue = end + RESOLUTION_MS;
    }
  }

  /** The loop was idle until `t`: every due time before it fired on time. */
  private idleUntil(t: number): void {
    if (this.nextDue > t) return;
    const k = Math.floor((t - this.nextDue) / RESOLUTION_MS) + 1;
    for (const w of this.windows) w.idle += k;
    this.nextDue += k * RESOLUTION_MS;
  }
}
