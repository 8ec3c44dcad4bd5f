// One shared heartbeat for the core's periodic work. Waking an idle core costs more CPU than
// the little work a periodic timer does (0.2-0.4 ms a wake-up on this kind of machine, most of
// it the kernel and the event loop, not our code), so the position ticks, the stall watchdog,
// the diagnostics history and the plugin folder poll run on one interval: the loop wakes once a
// beat for all of them, not once for each.
export const BEAT_MS = 250;

interface Subscriber {
  /** Runs every this many beats. */
  every: number;
  fn: () => void;
}

class Beat {
  private readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private count = 0;

  /** Whether `periodMs` can ride the beat (a whole number of beats). */
  fits(periodMs: number): boolean {
    return periodMs >= BEAT_MS && periodMs % BEAT_MS === 0;
  }

  /** Runs `fn` every `periodMs` (a multiple of BEAT_MS) until the returned stop is called. The
   * beat never keeps the process alive. */
  every(periodMs: number, fn: () => void): () => void {
    if (!this.fits(periodMs)) throw new Error(`beat: ${periodMs} ms is not a multiple of ${BEAT_MS} ms`);
    const sub: Subscriber = { every: periodMs / BEAT_MS, fn };
    this.subs.add(sub);
    if (!this.timer) {
      this.timer = setInterval(() => this.fire(), BEAT_MS);
      this.timer.unref();
    }
    return () => {
      this.subs.delete(sub);
      if (this.subs.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private fire(): void {
    this.count++;
    for (const sub of [...this.subs]) {
      if (this.count % sub.every !== 0 || !this.subs.has(sub)) continue;
      try {
        sub.fn();
      } catch (err) {
        // One subscriber's bug must not stop the others' beats.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

export const beat = new Beat();

/** setInterval(fn, periodMs), on the shared beat when the period fits it. Returns a stop. */
export function every(periodMs: number, fn: () => void): () => void {
  if (beat.fits(periodMs)) return beat.every(periodMs, fn);
  const t = setInterval(fn, periodMs);
  t.unref();
  return () => clearInterval(t);
}
