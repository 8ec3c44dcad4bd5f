// The playing position lives outside React state: the main process sends it several times a
// second and the UI interpolates between updates at display rate, so components subscribe here
// and write to DOM refs instead of re-rendering.
export interface PositionSample {
  positionMs: number;
  durationMs: number | null;
  playing: boolean;
  /** performance.now() when the sample arrived. */
  at: number;
}

type Listener = (positionMs: number, durationMs: number | null) => void;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

class PositionFeed {
  private sample: PositionSample = { positionMs: 0, durationMs: null, playing: false, at: now() };
  private readonly listeners = new Set<Listener>();
  private raf: number | null = null;

  update(positionMs: number, durationMs: number | null, playing?: boolean): void {
    this.sample = { positionMs, durationMs, playing: playing ?? this.sample.playing, at: now() };
    this.emit();
    this.schedule();
  }

  setPlaying(playing: boolean): void {
    this.sample = { ...this.sample, positionMs: this.current(), playing, at: now() };
    this.emit();
    this.schedule();
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

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    l(this.current(), this.sample.durationMs);
    this.schedule();
    return () => this.listeners.delete(l);
  }

  private emit(): void {
    const p = this.current();
    for (const l of this.listeners) l(p, this.sample.durationMs);
  }

  private schedule(): void {
    if (this.raf !== null || !this.sample.playing || this.listeners.size === 0) return;
    if (typeof requestAnimationFrame === 'undefined') return;
    this.raf = requestAnimationFrame(() => {
      this.raf = null;
      this.emit();
      this.schedule();
    });
  }
}

export const position = new PositionFeed();
