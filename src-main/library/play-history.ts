// Play history from the engine's events: a listen counts as a play once half the track or four
// minutes (whichever is less) has actually been heard; moving on before that counts a skip.
// Time is summed from position updates while playing, so seeking ahead does not count as heard.
import type { PlayerEvent } from '../../src-shared/player-types.js';

const PLAY_CAP_MS = 4 * 60 * 1000;
/** Position jumps larger than this are seeks, not listening. */
const MAX_STEP_MS = 2500;

export interface ListenSink {
  recordListen(path: string, kind: 'play' | 'skip'): unknown;
}

export class PlayHistory {
  private entryId: string | null = null;
  private path: string | null = null;
  private heardMs = 0;
  private lastPos: number | null = null;
  private durationMs: number | null = null;
  private counted = false;
  private playing = false;

  constructor(private readonly sink: ListenSink) {}

  onEvent(e: PlayerEvent): void {
    if (e.type === 'status') {
      const cur = e.status.current;
      if ((cur?.id ?? null) !== this.entryId) {
        this.leave();
        this.entryId = cur?.id ?? null;
        this.path = cur?.source.kind === 'file' ? cur.source.path : null;
        this.heardMs = 0;
        this.lastPos = null;
        this.counted = false;
      }
      this.durationMs = e.status.durationMs ?? cur?.durationMs ?? null;
      this.playing = e.status.state === 'playing';
      if (e.status.state === 'stopped') {
        this.leave();
        this.entryId = null;
      }
    } else if (e.type === 'position') {
      if (e.durationMs !== null) this.durationMs = e.durationMs;
      if (this.playing && this.lastPos !== null) {
        const step = e.positionMs - this.lastPos;
        if (step > 0 && step <= MAX_STEP_MS) this.heardMs += step;
      }
      this.lastPos = e.positionMs;
      this.check();
    } else if (e.type === 'track-error') {
      // A track that failed was neither played nor skipped.
      if (e.track.id === this.entryId) this.counted = true;
    }
  }

  private check(): void {
    if (this.counted || !this.path) return;
    const need = this.durationMs && this.durationMs > 0 ? Math.min(this.durationMs / 2, PLAY_CAP_MS) : PLAY_CAP_MS;
    if (this.heardMs >= need) {
      this.counted = true;
      this.sink.recordListen(this.path, 'play');
    }
  }

  private leave(): void {
    if (this.path && !this.counted && this.heardMs >= 1000) this.sink.recordListen(this.path, 'skip');
    this.counted = true;
  }
}
