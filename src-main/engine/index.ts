// The playback engine's entry point for the rest of the main process (IPC services, shells).
import type { PlayerEngine } from './player-engine.js';
import { type EngineOptions, StellaPlayerEngine } from './engine.js';

export { StellaPlayerEngine, type EngineOptions } from './engine.js';

export type { PlayerEngine, NewTrack, PlayerEngineEvents } from './player-engine.js';

/** Starts the decode worker and the audio process and returns the engine. */
export async function createPlayerEngine(opts: EngineOptions): Promise<PlayerEngine> {
  return StellaPlayerEngine.start(opts);
}
