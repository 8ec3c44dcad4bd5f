// Messages between the main thread and the decode worker. Pointers cross as bigint (structured
// clone keeps them); koffi functions and types never cross.

import type { GenerationRef } from '../plugins/capability-host.js';
import type { ReplayGainApplied, ReplayGainSettings, ReplayGainTags } from '../../src-shared/replay-gain.js';

/** A plugin generation the worker attaches to (same shadow copy, same module pointer). */
export type GenRef = GenerationRef;

/** A capability instance the worker should create, with the config to create it with. */
export interface CapabilityRefMsg {
  gen: GenRef;
  typeId: string;
  configJson: string;
}

/** A decoder candidate: its extension score for the track (0: the extension does not match). */
export interface DecoderRefMsg extends CapabilityRefMsg {
  extScore: number;
}

export type WorkerSource =
  | { kind: 'file'; path: string }
  | { kind: 'stream'; handle: bigint; io: bigint; pluginId: string };

export interface WorkerTrack {
  /** Main's id for this play of a queue entry. */
  token: number;
  source: WorkerSource;
  /** Lowercase extension without the dot ('' if unknown). */
  ext: string;
  /** Every decoder, best extension score first; the worker orders them by content (decoder-choice). */
  decoders: DecoderRefMsg[];
  /** ReplayGain inputs main knows: the library's tags (before the decoder's) and the album context. */
  replayGain?: { tags: ReplayGainTags | null; albumInOrder: boolean };
}

export type ToWorker =
  | { type: 'init'; ringName: string; blockFrames: number }
  /** `epoch` (also on 'stop') names this play: the worker's reports carry the epoch they belong
   * to, so main can tell a report about the previous play (still in flight) from one about this. */
  | { type: 'load'; track: WorkerTrack; startMs: number; epoch: number }
  | { type: 'next'; track: WorkerTrack | null }
  | { type: 'stop'; epoch: number }
  /** A control word (seek, stop) was written to the ring: look at it now, even when idle. */
  | { type: 'command' }
  /** The output runs at this format (the worker resamples and remixes), or null: each file's. */
  | { type: 'output-format'; format: { sampleRate: number; channels: number } | null }
  | { type: 'retire'; leaseId: number }
  /** From now on, and for the tracks already in the ring (their gain marks change at once). */
  | { type: 'replay-gain'; settings: ReplayGainSettings }
  | { type: 'close' };

export interface StartedInfo {
  sampleRate: number;
  channels: number;
  durationFrames: number | null;
  seekable: boolean;
  lossless: boolean;
  codec: string;
  bitsPerSample?: number;
  decoder: string;
  metadata: Record<string, unknown>;
  /** The format this track has in the ring (after resampling / remixing). */
  outSampleRate: number;
  outChannels: number;
  /** The ReplayGain the track plays at (marked in the ring where it starts). */
  replayGain: ReplayGainApplied;
}

export type FromWorker =
  | { type: 'ready' }
  /** Decoding of `token` starts at ring sample `ringIndex` with track frame `startFrame`. */
  | { type: 'started'; token: number; ringIndex: number; startFrame: number; info: StartedInfo; epoch: number }
  | { type: 'seeked'; token: number; ringIndex: number; startFrame: number; epoch: number }
  | { type: 'seek-miss'; token: number; positionMs: number; epoch: number }
  | { type: 'finished'; token: number; ringIndex: number }
  | { type: 'track-error'; token: number; code: string; message: string }
  /** The worker no longer touches the track's stream: main may close the lease. */
  | { type: 'released'; token: number }
  /** Nothing more to decode; the audio ends at `ringIndex`. */
  | { type: 'idle'; ringIndex: number; epoch: number }
  | { type: 'stopped'; ringIndex: number }
  | { type: 'detached'; leaseId: number }
  | { type: 'stats'; blockP50: number; blockP99: number }
  /** A setting change gave a track still in the ring a new gain. */
  | { type: 'replay-gain'; token: number; applied: ReplayGainApplied }
  | { type: 'log'; message: string };
