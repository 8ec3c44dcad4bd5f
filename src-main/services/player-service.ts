// The player and queue services: thin, validated front ends of the PlayerEngine. The engine owns
// the transport state and the queue; these only translate calls and relay its events.
import type { PlayerEngine } from '../engine/player-engine.js';
import type { PlayerEvent } from '../../src-shared/player-types.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { CoreEvents, ServiceHandlers } from './router.js';

/** Where a seek lands when the track's length is unknown (a live stream): far, but a number the
 * engine's 64-bit position field holds exactly. */
const MAX_SEEK_MS = 2 ** 40;

/** A seek target inside the track: 1e308 must mean "the end", not overflow into a restart. */
export function clampSeek(positionMs: number, durationMs: number | null): number {
  return Math.max(0, Math.min(positionMs, durationMs ?? MAX_SEEK_MS));
}

export function playerService(engine: () => PlayerEngine): ServiceHandlers<'player'> {
  return {
    status: () => engine().status(),
    play: (p) => {
      // The listener's mistakes get their own codes (internal is for bugs).
      const { tracks } = engine().queue();
      if (tracks.length === 0) throw new RpcError({ code: 'failed_precondition', message: 'the queue is empty' });
      if (p.index !== undefined && !tracks[p.index]) throw new RpcError({ code: 'not_found', message: `no queue entry ${p.index} (the queue has ${tracks.length})` });
      return engine().play(p.index);
    },
    pause: () => engine().pause(),
    resume: () => engine().resume(),
    stop: () => engine().stop(),
    seek: (p) => engine().seek(clampSeek(p.positionMs, engine().status().durationMs)),
    next: () => engine().next(),
    previous: () => engine().previous(),
    setVolume: (p) => engine().setVolume(p.volume),
    setRepeat: (p) => engine().setRepeat(p.mode),
    setShuffle: (p) => engine().setShuffle(p.on),
  };
}

export function queueService(engine: () => PlayerEngine): ServiceHandlers<'queue'> {
  return {
    get: () => engine().queue(),
    add: async (p) => {
      const e = engine();
      const added = e.queueAdd(p.tracks);
      const first = added[0];
      if (p.play && first) {
        const index = e.queue().tracks.findIndex((t) => t.id === first.id);
        await e.play(index);
      }
      return added;
    },
    insert: (p) => engine().queueInsert(p.index, p.tracks),
    remove: (p) => engine().queueRemove(p.ids),
    move: (p) => {
      if (!engine().queue().tracks.some((t) => t.id === p.id)) throw new RpcError({ code: 'not_found', message: `no queue entry ${p.id}` });
      return engine().queueMove(p.id, p.toIndex);
    },
    clear: () => engine().queueClear(),
  };
}

/** Relays engine events to the contract's player/queue events. Returns the unsubscribe. */
export function relayEngineEvents(engine: PlayerEngine, events: CoreEvents): () => void {
  const onEvent = (e: PlayerEvent): void => {
    switch (e.type) {
      case 'status':
        events.emitEvent('player', 'didChangeStatus', e.status);
        break;
      case 'position':
        events.emitEvent('player', 'didChangePosition', { positionMs: e.positionMs, durationMs: e.durationMs });
        break;
      case 'queue':
        events.emitEvent('queue', 'didChange', e.queue);
        break;
      case 'track-error':
        events.emitEvent('player', 'didFailTrack', { track: e.track, code: e.code, message: e.message });
        break;
      case 'ended':
        events.emitEvent('player', 'didEnd', undefined);
        break;
    }
  };
  engine.on('event', onEvent);
  return () => engine.off('event', onEvent);
}
