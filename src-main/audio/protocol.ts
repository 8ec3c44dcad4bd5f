// Messages between the main process and the audio process. Control only: PCM goes through the
// shared ring, never through these messages.
import type { AudioDevice, OutputChoice } from '../../src-shared/player-types.js';

/** A plugin library the audio process loads itself (its own generation of the file). */
export interface SinkPluginRef {
  pluginId: string;
  typeId: string;
  /** The library file (the audio process makes its own shadow copy). */
  path: string;
  configJson: string;
}

/** A DSP of the chain the audio process runs after the ring (its own generation of the file). */
export interface DspPluginRef {
  pluginId: string;
  typeId: string;
  path: string;
  /** Main's lease id of the generation: a reload brings a new key and a fresh copy. */
  leaseKey: number;
  configJson: string;
}

export type ToAudio =
  | { type: 'init'; ringName: string; shadowDir: string; dataRoot: string }
  | { type: 'set-output'; id: number; choice: OutputChoice; sink?: SinkPluginRef }
  | { type: 'list-devices'; id: number }
  | { type: 'list-targets'; id: number; sink: SinkPluginRef }
  | { type: 'negotiate'; id: number; sink: SinkPluginRef; target: Record<string, unknown>; sampleRate: number; channels: number }
  | { type: 'dsp-chain'; id: number; chain: DspPluginRef[] }
  | { type: 'dsp-config'; id: number; pluginId: string; typeId: string; configJson: string }
  | { type: 'close'; id: number };

export type FromAudio =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; ok: boolean; value?: unknown; error?: string }
  | { type: 'opened'; kind: 'portaudio' | 'plugin'; sampleRate: number; channels: number; latencyMs: number; device: string }
  | { type: 'device-lost'; message: string }
  | { type: 'device-recovered'; recoveryMs: number; fallback: boolean }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface DeviceList {
  hostApis: string[];
  devices: AudioDevice[];
}
