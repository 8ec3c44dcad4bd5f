// Stands in for the playback engine when it cannot start (not built yet, no audio device, a
// failed audio process): the queue still works, so the user can build one, and every playback
// call answers `unavailable` with the reason instead of hanging.
import { EventEmitter } from 'node:events';
import type { NewTrack, PlayerEngine, PlayerEngineEvents } from '../engine/player-engine.js';
import type {
  AudioDevice,
  EngineMetrics,
  OutputChoice,
  PlayerStatus,
  QueueSnapshot,
  RepeatMode,
  TrackInfo,
} from '../../src-shared/player-types.js';
import { RpcError } from '../../src-shared/rpc-error.js';

let nextEntry = 1;

export class DetachedEngine extends EventEmitter<PlayerEngineEvents> implements PlayerEngine {
  private tracks: TrackInfo[] = [];
  private index = -1;
  private volume = 1;
  private repeat: RepeatMode = 'off';
  private shuffle = false;
  private output: OutputChoice = { kind: 'portaudio', deviceId: null, bufferFrames: 1024 };

  constructor(readonly reason: string) {
    super();
  }

  status(): PlayerStatus {
    return {
      state: 'stopped',
      current: this.tracks[this.index] ?? null,
      index: this.index,
      format: null,
      positionMs: 0,
      durationMs: this.tracks[this.index]?.durationMs ?? null,
      volume: this.volume,
      repeat: this.repeat,
      shuffle: this.shuffle,
      output: this.output,
    };
  }

  queue(): QueueSnapshot {
    return { tracks: [...this.tracks], index: this.index };
  }

  metrics(): EngineMetrics {
    return {
      underruns: 0,
      deviceLosses: 0,
      lastRecoveryMs: null,
      ringFill: 0,
      ringFillMin: 0,
      ringCapacityFrames: 0,
      outputLatencyMs: null,
      blockLatencyP50: 0,
      blockLatencyP99: 0,
      audioProcessRestarts: 0,
    };
  }

  private unavailable(): never {
    throw new RpcError({ code: 'unavailable', message: `Playback is unavailable: ${this.reason}` });
  }

  async play(): Promise<void> {
    this.unavailable();
  }
  async pause(): Promise<void> {}
  async resume(): Promise<void> {
    this.unavailable();
  }
  async stop(): Promise<void> {}
  async seek(): Promise<void> {
    this.unavailable();
  }
  async next(): Promise<void> {
    this.unavailable();
  }
  async previous(): Promise<void> {
    this.unavailable();
  }

  setVolume(volume: number): void {
    this.volume = volume;
    this.changedStatus();
  }
  setRepeat(mode: RepeatMode): void {
    this.repeat = mode;
    this.changedStatus();
  }
  setShuffle(on: boolean): void {
    this.shuffle = on;
    this.changedStatus();
  }

  queueAdd(tracks: NewTrack[]): TrackInfo[] {
    return this.queueInsert(this.tracks.length, tracks);
  }

  queueInsert(index: number, tracks: NewTrack[]): TrackInfo[] {
    const entries = tracks.map((t) => ({ ...t, id: `q${nextEntry++}` }));
    const at = Math.max(0, Math.min(index, this.tracks.length));
    this.tracks.splice(at, 0, ...entries);
    if (this.index >= at) this.index += entries.length;
    if (this.index < 0 && this.tracks.length > 0) this.index = 0;
    this.changedQueue();
    return entries;
  }

  queueRemove(ids: string[]): void {
    const drop = new Set(ids);
    const current = this.tracks[this.index];
    this.tracks = this.tracks.filter((t) => !drop.has(t.id));
    this.index = current && !drop.has(current.id) ? this.tracks.indexOf(current) : Math.min(this.index, this.tracks.length - 1);
    this.changedQueue();
  }

  queueMove(id: string, toIndex: number): void {
    const from = this.tracks.findIndex((t) => t.id === id);
    if (from < 0) throw new RpcError({ code: 'not_found', message: `no queue entry ${id}` });
    const current = this.tracks[this.index];
    const [entry] = this.tracks.splice(from, 1);
    this.tracks.splice(Math.max(0, Math.min(toIndex, this.tracks.length)), 0, entry!);
    if (current) this.index = this.tracks.indexOf(current);
    this.changedQueue();
  }

  queueClear(): void {
    this.tracks = [];
    this.index = -1;
    this.changedQueue();
  }

  async listDevices(): Promise<{ hostApis: string[]; devices: AudioDevice[] }> {
    this.unavailable();
  }
  async listSinkTargets(): Promise<Record<string, unknown>[]> {
    this.unavailable();
  }
  async setOutput(choice: OutputChoice): Promise<void> {
    this.output = choice;
    this.changedStatus();
  }
  async setDspConfig(): Promise<'hot_applied' | 'recreated' | 'rejected'> {
    // Stored by the caller; the engine applies it when it starts.
    return 'hot_applied';
  }

  async close(): Promise<void> {}

  private changedQueue(): void {
    this.emit('event', { type: 'queue', queue: this.queue() });
    this.changedStatus();
  }

  private changedStatus(): void {
    this.emit('event', { type: 'status', status: this.status() });
  }
}
