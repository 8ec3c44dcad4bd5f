// The playing position lives outside React state: the main process sends it twice a second and the
// UI interpolates between updates, so components subscribe here and write to DOM refs instead of
// re-rendering. Each subscriber says how fine a step it needs (the time label a second, the seek
// bar one pixel's worth, lyrics a tenth of a second) and is called when the position crosses one:
// a timer at the nearest such step, not a frame loop. Writing the DOM at display rate made
// Chromium redraw the window 60 times a second while a track played, a third of a core on a
// 2-core machine for a bar that moves a pixel every few hundred milliseconds.
export interface PositionSample {
  positionMs: number;
  durationMs: number | null;
  playing: boolean;
  /** performance.now() when the sample arrived. */
  at: number;
}

type Listener = (positionMs: number, durationMs: number | null) => void;

/** The step a subscriber needs, in ms of playback (a function: the seek bar's depends on its
 * width and the track's duration). */
export type Step = number | (() => number);

interface Subscriber {
  listener: Listener;
  step: Step;
  /** The step the position was in when the listener was last called. */
  slot: number;
}

/** Steps are clamped to this range: finer than a frame is not seen, coarser than a second is
 * never asked for. */
const MIN_STEP_MS = 16;
const MAX_STEP_MS = 1000;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function stepOf(s: Subscriber): number {
  const v = typeof s.step === 'function' ? s.step() : s.step;
  return Number.isFinite(v) ? Math.min(MAX_STEP_MS, Math.max(MIN_STEP_MS, v)) : MAX_STEP_MS;
}

class PositionFeed {
  private sample: PositionSample = { positionMs: 0, durationMs: null, playing: false, at: now() };
  private readonly subscribers = new Set<Subscriber>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  update(positionMs: number, durationMs: number | null, playing?: boolean): void {
    this.sample = { positionMs, durationMs, playing: playing ?? this.sample.playing, at: now() };
    this.emit(true);
  }

  setPlaying(playing: boolean): void {
    this.sample = { ...this.sample, positionMs: this.current(), playing, at: now() };
    this.emit(true);
  }

  /** Interpolated position (clamped to the duration). */
  current(): number {
    const s = this.sample;
    const p = s.playing ? s.positionMs + (now() - s.at) : s.positionMs;
    return s.durationMs !== null ? Math.min(p, s.durationMs) : p;
  }

  duration(): number | null {
    return this.sample.durationMs;
  }

  /** Calls `l` now, on every update from the main process, and while playing whenever the
   * position enters a new step of `step` ms (default: a second). */
  subscribe(l: Listener, step: Step = MAX_STEP_MS): () => void {
    const s: Subscriber = { listener: l, step, slot: Number.NaN };
    this.subscribers.add(s);
    this.call(s, this.current());
    this.schedule();
    return () => {
      this.subscribers.delete(s);
      if (this.subscribers.size === 0) this.cancel();
    };
  }

  private call(s: Subscriber, p: number): void {
    s.slot = Math.floor(p / stepOf(s));
    s.listener(p, this.sample.durationMs);
  }

  /** Every subscriber when the sample changed (`all`), else those whose step was crossed. */
  private emit(all: boolean): void {
    const p = this.current();
    for (const s of this.subscribers) if (all || Math.floor(p / stepOf(s)) !== s.slot) this.call(s, p);
    this.schedule();
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A timer at the nearest step boundary of any subscriber, while playing. */
  private schedule(): void {
    this.cancel();
    if (!this.sample.playing || this.subscribers.size === 0) return;
    const p = this.current();
    const d = this.sample.durationMs;
    if (d !== null && p >= d) return;
    let wait = MAX_STEP_MS;
    for (const s of this.subscribers) {
      const step = stepOf(s);
      wait = Math.min(wait, (Math.floor(p / step) + 1) * step - p);
    }
    // A millisecond late rather than early: a timer that fires just before the boundary would
    // find the step not yet crossed and wait again.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.emit(false);
    }, Math.max(MIN_STEP_MS, Math.ceil(wait) + 1));
  }
}

export const position = new PositionFeed();
