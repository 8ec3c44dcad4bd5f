// The player and queue services: thin, validated front ends of the PlayerEngine. The engine owns
// the transport state and the queue; these only translate calls and relay its events.
import type { PlayerEngine } from '../engine/player-engine.js';
import type { PlayerEvent } from '../../src-shared/player-types.js';
import type { CoreEvents, ServiceHandlers } from './router.js';

export function playerService(engine: () => PlayerEngine): ServiceHandlers<'player'> {
  return {
    status: () => engine().status(),
    play: (p) => engine().play(p.index),
    pause: () => engine().pause(),
    resume: () => engine().resume(),
    stop: () => engine().stop(),
    seek: (p) => engine().seek(p.positionMs),
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
    move: (p) => engine().queueMove(p.id, p.toIndex),
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
