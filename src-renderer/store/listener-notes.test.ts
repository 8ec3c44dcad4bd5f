// What a listener is told: toasts that collapse, lyrics that are simply not there, providers that
// are offline, damaged files, and the EQ values the panel shows when it mounts again.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrackInfo } from '../../src-shared/player-types.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { createClient, type Transport } from '../ipc/client.js';
import { capabilityLabel } from '../lib/format.js';
import { trackByline, trackTooltip, windowTitle } from '../lib/track.js';
import { setApi } from './api.js';
import { createAppStore } from './index.js';
import { trackFailureText } from './slices.js';

type Handler = (params: unknown) => unknown;

/** A scripted transport: each method answers from a handler (an RpcError is thrown as the core would). */
function scripted(handlers: Record<string, Handler>): Transport {
  return {
    async call(_id, service, method, params) {
      const h = handlers[`${service}.${method}`];
      if (!h) return service === 'lyrics' && method === 'providers' ? [] : null;
      const v = await h(params);
      if (v instanceof RpcError) throw v.toJSON();
      return v;
    },
    cancel() {},
    onEvent: () => () => {},
  };
}

const song: TrackInfo = { id: 'q1', title: 'Song', source: { kind: 'file', path: '/music/01 Song.flac' } };
const lrclib = { pluginId: 'dev.stellatune.lrclib', pluginName: 'LRCLIB lyrics', typeId: 'lrclib', displayName: 'LRCLIB' };
const sidecar = { pluginId: 'dev.stellatune.lrc', pluginName: 'LRC sidecar', typeId: 'lrc', displayName: 'Lyrics files beside the music' };

let store: ReturnType<typeof createAppStore>;
beforeEach(() => {
  vi.useRealTimers();
  store = createAppStore();
});

describe('toasts', () => {
  it('collapse identical messages into one with a count; a different one stands alone', () => {
    vi.useFakeTimers();
    const s = store.getState();
    s.notify('error', 'Could not play ‘a.flac’: the file is damaged', 'sndfile: unknown format');
    s.notify('error', 'Could not play ‘a.flac’: the file is damaged', 'sndfile: unknown format');
    s.notify('error', 'Could not play ‘a.flac’: the file is damaged', 'sndfile: unknown format');
    s.notify('info', 'Output changed.');
    const toasts = store.getState().toasts;
    expect(toasts.map((t) => [t.text, t.count])).toEqual([
      ['Could not play ‘a.flac’: the file is damaged', 3],
      ['Output changed.', 1],
    ]);
    // A repeat keeps the toast up for the full time again.
    vi.advanceTimersByTime(7000);
    s.notify('error', 'Could not play ‘a.flac’: the file is damaged', 'sndfile: unknown format');
    vi.advanceTimersByTime(7000);
    expect(store.getState().toasts.map((t) => t.count)).toEqual([4]);
    vi.advanceTimersByTime(1500);
    expect(store.getState().toasts).toEqual([]);
  });

  it('with one key are one toast that says the latest', () => {
    vi.useFakeTimers();
    const s = store.getState();
    s.notify('info', 'Reloaded Subsonic (generation 3).', undefined, 'reloaded subsonic');
    s.notify('info', 'Reloaded LRCLIB (generation 4).', undefined, 'reloaded lrclib');
    s.notify('info', 'Reloaded Subsonic (generation 5).', undefined, 'reloaded subsonic');
    // An unkeyed toast with the same text is a toast of its own.
    s.notify('info', 'Reloaded Subsonic (generation 5).');
    expect(store.getState().toasts.map((t) => [t.text, t.count])).toEqual([
      ['Reloaded Subsonic (generation 5).', 2],
      ['Reloaded LRCLIB (generation 4).', 1],
      ['Reloaded Subsonic (generation 5).', 1],
    ]);
  });
});

describe('track failures', () => {
  it('name the file and say it is damaged, with the decoder\'s words as details', () => {
    const f = trackFailureText(song, 'decode', 'dev.stellatune.sndfile/sndfile: File contains data in an unknown format.');
    expect(f.text).toBe('Could not play ‘01 Song.flac’: the file is damaged');
    expect(f.details).toBe('dev.stellatune.sndfile/sndfile: File contains data in an unknown format.');
    expect(trackFailureText(song, 'decode', 'no decoder handles ".xyz"').text).toMatch(/no decoder plugin reads this kind of file$/);
    expect(trackFailureText(song, 'io', 'ENOENT').text).toMatch(/the file cannot be read$/);
  });
});

describe('lyrics notes', () => {
  it('says "No lyrics found" (not an error) when every provider answers with nothing', async () => {
    setApi(createClient(scripted({ 'lyrics.providers': () => [sidecar], 'lyrics.search': () => ({ candidates: [] }) })));
    await store.getState().refreshLyricsProviders();
    await store.getState().lyricsForTrack(song);
    const l = store.getState().lyrics;
    expect(l).toMatchObject({ pending: false, empty: true, error: null, notes: [] });
  });

  it('turns a provider that cannot be reached into a quiet note, with curl\'s words only as details', async () => {
    const curl = 'http://127.0.0.1:9/api: Could not connect to server (Failed to connect to 127.0.0.1 port 9: Connection refused)';
    setApi(
      createClient(
        scripted({
          'lyrics.providers': () => [lrclib, sidecar],
          'lyrics.search': (p) =>
            (p as { pluginId: string }).pluginId === lrclib.pluginId
              ? new RpcError({ code: 'plugin_error', status: 'network', message: curl, pluginId: lrclib.pluginId })
              : { candidates: [] },
        }),
      ),
    );
    await store.getState().refreshLyricsProviders();
    await store.getState().lyricsForTrack(song);
    const l = store.getState().lyrics;
    expect(l.error).toBeNull();
    expect(l.empty).toBe(true);
    expect(l.notes).toEqual([{ provider: 'LRCLIB', text: 'LRCLIB could not be reached.', details: curl }]);
  });

  it('keeps a provider\'s "not found" out of the notes', async () => {
    setApi(
      createClient(
        scripted({
          'lyrics.providers': () => [lrclib],
          'lyrics.search': () => new RpcError({ code: 'plugin_error', status: 'not_found', message: 'no match', pluginId: lrclib.pluginId }),
        }),
      ),
    );
    await store.getState().refreshLyricsProviders();
    await store.getState().lyricsForTrack(song);
    expect(store.getState().lyrics).toMatchObject({ empty: true, notes: [], error: null });
  });
});

describe('the EQ values', () => {
  it('are kept in the store once applied, so the panel shows them when it mounts again', async () => {
    const eq = { pluginId: 'dev.stellatune.eq', pluginName: 'Equalizer', typeId: 'eq10', displayName: 'Equalizer', configSchema: null, config: { bypass: false, preamp_db: 0, bands: [{ freq_hz: 31, gain_db: 0 }] } };
    setApi(createClient(scripted({ 'output.dsps': () => [eq], 'output.applyDsp': () => ({ outcome: 'hot_applied' }) })));
    await store.getState().refreshDsps();
    const next = { bypass: false, preamp_db: -3, bands: [{ freq_hz: 31, gain_db: 6 }] };
    await store.getState().applyDsp('dev.stellatune.eq', 'eq10', next);
    expect(store.getState().dsps[0]!.config).toEqual(next);
  });

  it('stay as they were when the DSP rejects the change', async () => {
    const eq = { pluginId: 'dev.stellatune.eq', pluginName: 'Equalizer', typeId: 'eq10', displayName: 'Equalizer', configSchema: null, config: { bands: [] } };
    setApi(createClient(scripted({ 'output.dsps': () => [eq], 'output.applyDsp': () => ({ outcome: 'rejected', reason: 'no' }) })));
    await store.getState().refreshDsps();
    await store.getState().applyDsp('dev.stellatune.eq', 'eq10', { bands: [{ freq_hz: 1, gain_db: 1 }] });
    expect(store.getState().dsps[0]!.config).toEqual({ bands: [] });
  });
});

describe('labels', () => {
  it('name a capability once when the plugin is named like it', () => {
    expect(capabilityLabel({ displayName: 'WAV recorder', pluginName: 'WAV recorder' })).toBe('WAV recorder');
    expect(capabilityLabel({ displayName: 'Fixture source', pluginName: 'StellaTune test fixture' }, ' — ')).toBe('Fixture source — StellaTune test fixture');
  });

  it('show "artist — album" and a "Title — Artist" window title', () => {
    const tagged: TrackInfo = { ...song, artist: 'Björk', album: 'Homogenic' };
    expect(trackByline(tagged)).toBe('Björk — Homogenic');
    expect(trackByline({ ...song, artist: 'Björk' })).toBe('Björk');
    expect(trackByline(song)).toBe('music');
    expect(trackTooltip(song)).toBe('music\n/music/01 Song.flac');
    expect(trackTooltip({ ...song, artist: 'Björk' })).toBe('Björk\n/music/01 Song.flac');
    expect(windowTitle(tagged)).toBe('Song — Björk');
    expect(windowTitle(null)).toBe('StellaTune');
  });
});
