// Listens to the PulseAudio null sink's monitor (parec) and answers "when did the sink first
// carry sound / silence / a level change after time t", in wall-clock milliseconds. Every player
// is timed by the same ear, so the monitor's own latency is the same for all of them.
//
// Timing: parec delivers the monitor in small fragments. Each fragment's arrival time minus the
// duration of everything received so far bounds the stream's start time from above; the smallest
// such bound (the fragment that came through fastest) is taken as the start, and sample k was
// heard at start + k / rate.
import { type ChildProcess, spawn } from 'node:child_process';

const RATE = 48000;

export class SinkMonitor {
  private readonly proc: ChildProcess;
  private chunks: Int16Array[] = [];
  private total = 0;
  private startMs = Number.POSITIVE_INFINITY;
  private pending: Buffer | null = null;

  constructor(device = 'stellatune_null.monitor') {
    this.proc = spawn('parec', [`--device=${device}`, '--format=s16le', `--rate=${RATE}`, '--channels=1', '--latency-msec=2', '--raw'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.proc.stdout?.on('data', (d: Buffer) => this.onData(d));
  }

  private onData(d: Buffer): void {
    const now = performance.timeOrigin + performance.now();
    let buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    const usable = buf.length - (buf.length % 2);
    this.pending = usable < buf.length ? buf.subarray(usable) : null;
    buf = buf.subarray(0, usable);
    const samples = new Int16Array(buf.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
    this.chunks.push(samples);
    this.total += samples.length;
    this.startMs = Math.min(this.startMs, now - (this.total / RATE) * 1000);
  }

  /** Wall-clock now, on the same clock as the answers. */
  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  private sample(k: number): number {
    // Chunks are appended in order; a linear walk from the back is fast for recent samples.
    let idx = this.total;
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const ch = this.chunks[c] as Int16Array;
      idx -= ch.length;
      if (k >= idx) return (ch[k - idx] as number) / 32768;
    }
    return 0;
  }

  private indexAt(ms: number): number {
    return Math.max(0, Math.ceil(((ms - this.startMs) / 1000) * RATE));
  }

  private timeOf(k: number): number {
    return this.startMs + (k / RATE) * 1000;
  }

  /** Waits (up to `timeoutMs`) for the monitor's first audio: a sink that was suspended while
   * nothing played delivers none until something does, and no audio means no clock. */
  private async started(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!Number.isFinite(this.startMs) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  /** Waits until the monitor has delivered audio up to `ms` (plus a margin). */
  private async until(ms: number): Promise<void> {
    while (this.timeOf(this.total) < ms) await new Promise((r) => setTimeout(r, 10));
  }

  /**
   * Scans windows of `windowMs` from `fromMs` up to `timeoutMs` later for the first one whose
   * peak satisfies `pred`; returns the delay in ms from `fromMs` to that window's start.
   */
  async firstWindow(fromMs: number, pred: (peak: number) => boolean, windowMs = 2, timeoutMs = 3000): Promise<number | null> {
    const win = Math.max(1, Math.round((windowMs / 1000) * RATE));
    await this.started(timeoutMs);
    let k = this.indexAt(fromMs);
    const end = this.indexAt(fromMs + timeoutMs);
    while (k < end) {
      await this.until(this.timeOf(k + win));
      let peak = 0;
      for (let i = k; i < k + win; i++) peak = Math.max(peak, Math.abs(this.sample(i)));
      if (pred(peak)) return this.timeOf(k) - fromMs;
      k += win;
    }
    return null;
  }

  /** Delay until the first sample above `level` after `fromMs`. */
  async sound(fromMs: number, level = 0.01, timeoutMs = 3000): Promise<number | null> {
    await this.started(timeoutMs);
    let k = this.indexAt(fromMs);
    const end = this.indexAt(fromMs + timeoutMs);
    while (k < end) {
      await this.until(this.timeOf(k + 1));
      if (Math.abs(this.sample(k)) > level) return this.timeOf(k) - fromMs;
      k++;
    }
    return null;
  }

  /** Delay until the sink is silent (a 5 ms window below -60 dBFS) after `fromMs`. */
  silence(fromMs: number, timeoutMs = 3000): Promise<number | null> {
    return this.firstWindow(fromMs, (p) => p < 0.001, 5, timeoutMs);
  }

  /** Peaks of `windowMs` windows from `fromMs` for `spanMs` (for tracing a measurement). */
  async envelope(fromMs: number, spanMs: number, windowMs = 10): Promise<number[]> {
    await this.until(fromMs + spanMs);
    const out: number[] = [];
    for (let t = fromMs; t < fromMs + spanMs; t += windowMs) {
      let peak = 0;
      for (let k = this.indexAt(t); k < this.indexAt(t + windowMs); k++) peak = Math.max(peak, Math.abs(this.sample(k)));
      out.push(Math.round(peak * 100) / 100);
    }
    return out;
  }

  close(): void {
    this.proc.kill('SIGTERM');
  }
}
