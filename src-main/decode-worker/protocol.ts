// Messages between the main thread and the decode worker. Pointers cross as bigint (structured
// clone keeps them); koffi functions and types never cross.

import type { GenerationRef } from '../plugins/capability-host.js';

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
}

export type ToWorker =
  | { type: 'init'; ringName: string; blockFrames: number }
  | { type: 'load'; track: WorkerTrack; startMs: number }
  | { type: 'next'; track: WorkerTrack | null }
  | { type: 'stop' }
  | { type: 'dsp-chain'; chain: CapabilityRefMsg[] }
  | { type: 'dsp-config'; id: number; pluginId: string; typeId: string; configJson: string }
  | { type: 'retire'; leaseId: number }
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
}

export type FromWorker =
  | { type: 'ready' }
  /** Decoding of `token` starts at ring sample `ringIndex` with track frame `startFrame`. */
  | { type: 'started'; token: number; ringIndex: number; startFrame: number; info: StartedInfo }
  | { type: 'seeked'; token: number; ringIndex: number; startFrame: number }
  | { type: 'seek-miss'; token: number; positionMs: number }
  | { type: 'finished'; token: number; ringIndex: number }
  | { type: 'track-error'; token: number; code: string; message: string }
  /** The worker no longer touches the track's stream: main may close the lease. */
  | { type: 'released'; token: number }
  /** Nothing more to decode; the audio ends at `ringIndex`. */
  | { type: 'idle'; ringIndex: number }
  | { type: 'stopped'; ringIndex: number }
  | { type: 'detached'; leaseId: number }
  | { type: 'stats'; blockP50: number; blockP99: number }
  | { type: 'reply'; id: number; ok: boolean; value?: unknown; error?: string }
  | { type: 'log'; message: string };
