// Plain data types of the player, shared by the main process (engine, services) and the renderer
// (through the IPC contract). No Node, DOM or native imports here.
import type { ReplayGainApplied } from './replay-gain.js';

/** Where a track's bytes come from: a local file, or a SourceCatalog plugin item. */
export type TrackSource =
  | { kind: 'file'; path: string }
  | { kind: 'plugin'; pluginId: string; typeId: string; item: Record<string, unknown> };

export interface TrackInfo {
  /** Unique within the queue (a queue entry id, not a file id). */
  id: string;
  source: TrackSource;
  title: string;
  artist?: string;
  album?: string;
  /** The album's place (for ReplayGain's auto mode: does the queue play an album in order?). */
  albumArtist?: string;
  trackNo?: number;
  discNo?: number;
  durationMs?: number;
  /** A URL the renderer can show as the track's cover (set by whoever knows one, e.g. the library). */
  cover?: string;
}

/** The format actually being played. */
export interface TrackFormat {
  codec: string;
  sampleRate: number;
  channels: number;
  bitsPerSample?: number;
  lossless?: boolean;
  /** Decoder that won (pluginId/typeId). */
  decoder: string;
  /** Set when the bytes come from a plugin stream (badge in the UI). */
  streamPlugin?: string;
}

export type PlaybackState = 'stopped' | 'loading' | 'playing' | 'paused';
export type RepeatMode = 'off' | 'all' | 'one';

export interface PlayerStatus {
  state: PlaybackState;
  current: TrackInfo | null;
  /** Index of `current` in the queue, -1 if none. */
  index: number;
  format: TrackFormat | null;
  /** From frames actually played by the output. */
  positionMs: number;
  durationMs: number | null;
  volume: number; // 0..1
  repeat: RepeatMode;
  shuffle: boolean;
  output: OutputChoice;
  /** The ReplayGain the playing track plays at. */
  replayGain?: ReplayGainApplied | null;
}

export interface QueueSnapshot {
  tracks: TrackInfo[];
  index: number;
}

/** The output in use: PortAudio (device by name/host API) or an OutputSink plugin target. */
/** PortAudio frames per buffer by default: the callback output keeps the device queue short. */
export const DEFAULT_BUFFER_FRAMES = 512;

/** How the output runs, for both kinds: `bitPerfect` reopens the output at each file's rate and
 * channels; otherwise the output runs at one format (`sampleRate`, else the device's default rate;
 * stereo) and the decode worker resamples (libsoxr) and remixes to it. A plugin sink without
 * `sampleRate` follows the file. */
export interface OutputFormatChoice {
  bitPerfect?: boolean;
  sampleRate?: number;
}

export type OutputChoice =
  | ({ kind: 'portaudio'; deviceId: number | null; hostApi?: string; bufferFrames: number } & OutputFormatChoice)
  | ({ kind: 'plugin'; pluginId: string; typeId: string; target: Record<string, unknown> } & OutputFormatChoice);

export interface AudioDevice {
  id: number;
  name: string;
  hostApi: string;
  maxOutputChannels: number;
  defaultSampleRate: number;
  isDefault: boolean;
}

export interface EngineMetrics {
  underruns: number;
  deviceLosses: number;
  lastRecoveryMs: number | null;
  ringFill: number; // 0..1 at the last report
  ringFillMin: number;
  ringCapacityFrames: number;
  outputLatencyMs: number | null;
  /** The device the output opened ("PulseAudio" for its own PulseAudio stream, else the
   * PortAudio device name or the sink plugin), null before it opened. */
  outputDevice: string | null;
  /** Decode (and resample) time per block in the decode worker, ms. */
  blockLatencyP50: number;
  blockLatencyP99: number;
  /** DSP chain and output work per block in the output callback, ms (last second). */
  dspBlockP50: number;
  dspBlockP99: number;
  outputBlockP50: number;
  outputBlockP99: number;
  audioProcessRestarts: number;
}

export type PlayerEvent =
  | { type: 'status'; status: PlayerStatus }
  | { type: 'position'; positionMs: number; durationMs: number | null }
  | { type: 'queue'; queue: QueueSnapshot }
  | { type: 'track-error'; track: TrackInfo; code: string; message: string }
  | { type: 'ended' };
