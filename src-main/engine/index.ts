// The playback engine's entry point for the rest of the main process (IPC services, shells).
import type { AppPaths } from '../app-paths.js';
import type { ControlPlane } from '../control/control-plane.js';
import type { OutputChoice } from '../../src-shared/player-types.js';
import type { PlayerEngine } from './player-engine.js';
import { StellaPlayerEngine } from './engine.js';

export { StellaPlayerEngine } from './engine.js';

export type { PlayerEngine, NewTrack, PlayerEngineEvents } from './player-engine.js';

export interface PlayerEngineOptions {
  control: ControlPlane;
  paths: AppPaths;
  /** The output to open at start (default: PortAudio's default device, 1024-frame buffers). */
  output?: OutputChoice;
  /** How the audio process is started: Electron's utilityProcess or child_process.fork.
   * Default: 'electron' when running inside Electron's main process, else 'fork'. */
  audioProcess?: 'fork' | 'electron';
  /** DSP chain by capability, in order (default: the built-in EQ when loaded). */
  dspChain?: { pluginId: string; typeId: string }[];
  /** Size of the shared PCM ring in milliseconds at 48 kHz stereo (default 1500). */
  ringMs?: number;
  /** Frames per decode block (default 2048). */
  blockFrames?: number;
  log?: (message: string) => void;
}

/** Starts the decode worker and the audio process and returns the engine. */
export async function createPlayerEngine(opts: PlayerEngineOptions): Promise<PlayerEngine> {
  return StellaPlayerEngine.start(opts);
}
