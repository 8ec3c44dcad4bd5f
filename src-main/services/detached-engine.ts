// Stands in for the playback engine when it cannot start (not built yet, no audio device, a
// failed audio process): the queue still works, so the user can build one, and every playback
// call answers `unavailable` with the reason instead of hanging.
import { EventEmitter } from 'node:events';
import { PlayQueue } from '../engine/play-queue.js';
import type { NewTrack, PlayerEngine, PlayerEngineEvents, TrackUpdate } from '../engine/player-engine.js';
import type {
  AudioDevice,
  EngineMetrics,
  OutputChoice,
  PlayerStatus,
  QueueSnapshot,
  RepeatMode,
  TrackInfo,
} from '../../src-shared/player-types.js';
import { DEFAULT_BUFFER_FRAMES } from '../../src-shared/player-types.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { DEFAULT_REPLAY_GAIN, type ReplayGainSettings } from '../../src-shared/replay-gain.js';

export class DetachedEngine extends EventEmitter<PlayerEngineEvents> implements PlayerEngine {
  private readonly q = new PlayQueue<TrackInfo>();
  private volume = 1;
  private output: OutputChoice = { kind: 'portaudio', deviceId: null, bufferFrames: DEFAULT_BUFFER_FRAMES };
  private rg: ReplayGainSettings = DEFAULT_REPLAY_GAIN;

  constructor(readonly reason: string) {
    super();
  }

  status(): PlayerStatus {
    return {
      state: 'stopped',
      current: this.q.current ?? null,
      index: this.q.index,
      format: null,
      positionMs: 0,
      durationMs: this.q.current?.durationMs ?? null,
      volume: this.volume,
      repeat: this.q.repeat,
      shuffle: this.q.shuffle,
      output: this.output,
    };
  }

  queue(): QueueSnapshot {
    return { tracks: [...this.q.entries], index: this.q.index };
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
      outputDevice: null,
      blockLatencyP50: 0,
      blockLatencyP99: 0,
      dspBlockP50: 0,
      dspBlockP99: 0,
      outputBlockP50: 0,
      outputBlockP99: 0,
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
    this.q.setRepeat(mode);
    this.changedStatus();
  }
  replayGain(): ReplayGainSettings {
    return this.rg;
  }
  setReplayGain(settings: ReplayGainSettings): void {
    this.rg = settings;
  }
  setShuffle(on: boolean): void {
    this.q.setShuffle(on);
    this.changedStatus();
  }

  queueAdd(tracks: NewTrack[]): TrackInfo[] {
    return this.queueInsert(this.q.length, tracks);
  }

  queueInsert(index: number, tracks: NewTrack[]): TrackInfo[] {
    const entries = tracks.map((t) => ({ ...t, id: this.q.newId() }));
    this.q.insert(index, entries);
    // Without playback the first entry stands ready as the current one.
    if (this.q.index < 0 && this.q.length > 0) this.q.select(0);
    this.changedQueue();
    return entries;
  }

  queueRemove(ids: string[]): void {
    this.q.remove(ids);
    this.changedQueue();
  }

  queueMove(id: string, toIndex: number): void {
    if (this.q.indexOf(id) < 0) throw new RpcError({ code: 'not_found', message: `no queue entry ${id}` });
    this.q.move(id, toIndex);
    this.changedQueue();
  }

  queueClear(): void {
    this.q.clear();
    this.changedQueue();
  }

  queueUpdate(updates: TrackUpdate[]): void {
    let changed = false;
    for (const u of updates) {
      const e = this.q.at(this.q.indexOf(u.id));
      if (e) changed = this.q.replace({ ...e, ...u.tags }) || changed;
    }
    if (changed) this.changedQueue();
  }

  cue(index: number): void {
    if (!this.q.at(index)) return;
    this.q.select(index);
    this.changedStatus();
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
