// The contract between the playback engine (decode worker, PCM ring, audio process, transport and
// queue) and the rest of the main process (IPC services). Every method returns promptly: long work
// runs in the decode worker or the audio process.
import type { EventEmitter } from 'node:events';
import type {
  AudioDevice,
  EngineMetrics,
  OutputChoice,
  PlayerEvent,
  PlayerStatus,
  QueueSnapshot,
  RepeatMode,
  TrackInfo,
} from '../../src-shared/player-types.js';

export type NewTrack = Omit<TrackInfo, 'id'>;

/** Tags of a queue entry learnt later (from its file, or from the decoder when it plays). */
export interface TrackUpdate {
  id: string;
  tags: Partial<Pick<TrackInfo, 'title' | 'artist' | 'album' | 'albumArtist' | 'trackNo' | 'discNo' | 'durationMs' | 'cover'>>;
}

export interface PlayerEngineEvents {
  event: [PlayerEvent];
}

import type { ReplayGainSettings } from '../../src-shared/replay-gain.js';

export interface PlayerEngine extends EventEmitter<PlayerEngineEvents> {
  status(): PlayerStatus;
  queue(): QueueSnapshot;
  metrics(): EngineMetrics;
  /** The ring's smallest fill (0..1) since the last call, and a fresh minimum from now on (the
   * diagnostics history's per-second minimum); null when nothing played in between. */
  takeRingFillMin?(): number | null;

  /** Plays the queue entry at `index` (default: the current one, or the first). */
  play(index?: number): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  seek(positionMs: number): Promise<void>;
  next(): Promise<void>;
  previous(): Promise<void>;
  setVolume(volume: number): void;
  setRepeat(mode: RepeatMode): void;
  setShuffle(on: boolean): void;
  /** The ReplayGain settings in force. */
  replayGain(): ReplayGainSettings;
  /** Applies new ReplayGain settings, at once also to the tracks already decoded. */
  setReplayGain(settings: ReplayGainSettings): void;

  /** Appends tracks; returns the queue entries created. */
  queueAdd(tracks: NewTrack[]): TrackInfo[];
  queueInsert(index: number, tracks: NewTrack[]): TrackInfo[];
  queueRemove(ids: string[]): void;
  queueMove(id: string, toIndex: number): void;
  queueClear(): void;
  /** Fills in what became known about entries (tags read after they were added); one queue event. */
  queueUpdate(updates: TrackUpdate[]): void;
  /** Makes entry `index` current at `positionMs` without playing it (a restored session): play and
   * resume start there. */
  cue(index: number, positionMs: number): void;

  /** PortAudio host APIs and devices, asked of the audio process. */
  listDevices(): Promise<{ hostApis: string[]; devices: AudioDevice[] }>;
  /** Targets of an OutputSink plugin, asked of the audio process. */
  listSinkTargets(pluginId: string, typeId: string): Promise<Record<string, unknown>[]>;
  setOutput(choice: OutputChoice): Promise<void>;
  /** Hot-applies a DSP config on the decode thread (smoothly); persisted by the caller. */
  setDspConfig(pluginId: string, typeId: string, config: unknown): Promise<'hot_applied' | 'recreated' | 'rejected'>;

  close(): Promise<void>;
}
