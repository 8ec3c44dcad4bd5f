// Store slices against a contract client built by createClient over a scripted transport (the same
// derivation the app uses), so these also check the client: call ids, cancel messages, events.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PluginView } from '../../src-shared/contract.js';
import type { PlayerStatus, QueueSnapshot, TrackInfo } from '../../src-shared/player-types.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { createClient, type Transport } from '../ipc/client.js';
import { setApi } from './api.js';
import { bindStore, createAppStore } from './index.js';
import { position } from './position.js';
import { moveInQueue } from './slices.js';

type Handler = (params: unknown) => unknown;

class FakeTransport implements Transport {
  handlers = new Map<string, Handler>();
  calls: { id: string; key: string; params: unknown }[] = [];
  cancelled: string[] = [];
  private listeners = new Set<(s: string, e: string, p: unknown) => void>();
  private hanging = new Map<string, (err: unknown) => void>();

  on(key: string, h: Handler): this {
    this.handlers.set(key, h);
    return this;
  }

  async call(id: string, service: string, method: string, params: unknown): Promise<unknown> {
    const key = `${service}.${method}`;
    this.calls.push({ id, key, params });
    const h = this.handlers.get(key);
    if (h === undefined) return defaults(key);
    const v = h(params);
    if (v === HANG) return new Promise((_r, reject) => this.hanging.set(id, reject));
    if (v instanceof RpcError) throw v.toJSON();
    return v;
  }
  cancel(id: string): void {
    this.cancelled.push(id);
    // The core answers a cancelled call with a structured error.
    this.hanging.get(id)?.({ code: 'cancelled', message: 'cancelled by the caller' });
  }
  onEvent(l: (s: string, e: string, p: unknown) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(service: string, event: string, payload: unknown): void {
    for (const l of this.listeners) l(service, event, payload);
  }
}

const HANG = Symbol('hang');

const track = (id: string, title = id): TrackInfo => ({ id, title, source: { kind: 'file', path: `/music/${title}.flac` } });
const status = (over: Partial<PlayerStatus> = {}): PlayerStatus => ({
  state: 'stopped',
  current: null,
  index: -1,
  format: null,
  positionMs: 0,
  durationMs: null,
  volume: 1,
  repeat: 'off',
  shuffle: false,
  output: { kind: 'portaudio', deviceId: null, bufferFrames: 1024 },
  ...over,
});

function defaults(key: string): unknown {
  switch (key) {
    case 'player.status':
      return status();
    case 'queue.get':
      return { tracks: [], index: -1 };
    case 'diagnostics.info':
      return { version: '0', shell: 'test', platform: 'linux', engineUnavailable: null, pluginFolder: '/p' };
    case 'plugins.list':
    case 'sources.catalogs':
    case 'lyrics.providers':
    case 'output.dsps':
      return [];
    default:
      return null;
  }
}

let t: FakeTransport;
let store: ReturnType<typeof createAppStore>;

beforeEach(() => {
  t = new FakeTransport();
  store = createAppStore();
  setApi(createClient(t));
});

describe('client derivation', () => {
  it('validates arguments before anything is sent', async () => {
    const client = createClient(t);
    await expect(client.player.seek({ positionMs: -1 })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect((client.player.setVolume as (p: unknown) => Promise<void>)({ volume: 2 })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(t.calls).toEqual([]);
  });

  it('lets methods whose parameters are all optional be called without arguments', async () => {
    const client = createClient(t);
    await client.player.play();
    await expect((client.player.seek as (p?: unknown) => Promise<void>)()).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(t.calls).toEqual([{ id: expect.any(String), key: 'player.play', params: {} }]);
  });

  it('turns an abort into a cancel message for that call id', async () => {
    t.on('sources.list', () => HANG);
    const client = createClient(t);
    const ac = new AbortController();
    const p = client.sources.list({ pluginId: 'p', typeId: 't', request: { action: 'browse' } }, { signal: ac.signal });
    await Promise.resolve();
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(t.cancelled).toEqual([t.calls[0]!.id]);
  });
});

describe('queue slice', () => {
  it('moveInQueue keeps the current entry', () => {
    const q: QueueSnapshot = { tracks: [track('a'), track('b'), track('c')], index: 1 };
    const moved = moveInQueue(q, 'c', 0);
    expect(moved.tracks.map((x) => x.id)).toEqual(['c', 'a', 'b']);
    expect(moved.index).toBe(2);
  });

  it('reorders at once and rolls back when the core refuses', async () => {
    store.getState().applyQueue({ tracks: [track('a'), track('b'), track('c')], index: 0 });
    t.on('queue.move', () => new RpcError({ code: 'not_found', message: 'gone' }));
    const p = store.getState().moveTrack('a', 2);
    expect(store.getState().queue.tracks.map((x) => x.id)).toEqual(['b', 'c', 'a']);
    await p;
    expect(store.getState().queue.tracks.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(store.getState().toasts.at(-1)?.kind).toBe('error');
  });

  it('follows queue events once bound', async () => {
    await bindStore(createClient(t), store);
    t.emit('queue', 'didChange', { tracks: [track('x')], index: 0 });
    expect(store.getState().queue.tracks.map((x) => x.id)).toEqual(['x']);
  });
});

describe('playback slice', () => {
  it('keeps the position out of React state', async () => {
    await bindStore(createClient(t), store);
    let renders = 0;
    const unsub = store.subscribe(() => renders++);
    t.emit('player', 'didChangePosition', { positionMs: 1234, durationMs: 5000 });
    t.emit('player', 'didChangePosition', { positionMs: 1334, durationMs: 5000 });
    expect(renders).toBe(0);
    expect(position.current()).toBeGreaterThanOrEqual(1334);
    expect(position.duration()).toBe(5000);
    unsub();
  });

  it('toggles between play, pause and resume from the status', async () => {
    const s = store.getState();
    await s.togglePlay();
    s.applyStatus(status({ state: 'playing', current: track('a'), index: 0 }));
    await store.getState().togglePlay();
    s.applyStatus(status({ state: 'paused', current: track('a'), index: 0 }));
    await store.getState().togglePlay();
    expect(t.calls.map((c) => c.key)).toEqual(['player.play', 'player.pause', 'player.resume']);
  });

  it('cycles repeat off → all → one', async () => {
    store.getState().applyStatus(status({ repeat: 'all' }));
    await store.getState().cycleRepeat();
    expect(t.calls.at(-1)).toMatchObject({ key: 'player.setRepeat', params: { mode: 'one' } });
  });
});

describe('sources slice', () => {
  const catalog = { pluginId: 'dev.x', pluginName: 'X', typeId: 'src', displayName: 'X source', actions: [{ action: 'search', label: 'Search', query: true }] };

  it('shows pending, then items; plays an item through a plugin track source', async () => {
    t.on('sources.catalogs', () => [catalog]);
    t.on('sources.list', () => ({ items: [{ id: 'i1', kind: 'track', title: 'One', raw: { id: 'i1', title: 'One' } }], nextOffset: null }));
    t.on('queue.add', (p) => (p as { tracks: unknown[] }).tracks.map((x, i) => ({ ...(x as object), id: `q${i}` })));
    await store.getState().refreshCatalogs();
    const p = store.getState().listItems({ action: 'search', query: 'one' });
    expect(store.getState().sourceBrowse.pending).toBe(true);
    await p;
    expect(store.getState().sourceBrowse.items.map((i) => i.id)).toEqual(['i1']);
    await store.getState().playItem(store.getState().sourceBrowse.items[0]!, 'play');
    expect(t.calls.at(-1)).toMatchObject({
      key: 'queue.add',
      params: { play: true, tracks: [{ title: 'One', source: { kind: 'plugin', pluginId: 'dev.x', typeId: 'src', item: { id: 'i1', title: 'One' } } }] },
    });
  });

  it('cancel sends the cancel message and leaves a cancelled state, not an error', async () => {
    t.on('sources.catalogs', () => [catalog]);
    t.on('sources.list', () => HANG);
    await store.getState().refreshCatalogs();
    const p = store.getState().listItems({ action: 'search', query: 'slow' });
    await Promise.resolve();
    store.getState().cancelList();
    await p;
    const listCall = t.calls.find((c) => c.key === 'sources.list')!;
    expect(t.cancelled).toEqual([listCall.id]);
    expect(store.getState().sourceBrowse).toMatchObject({ pending: false, cancelled: true, error: null });
  });

  it('loads the next page from next_offset and appends it', async () => {
    t.on('sources.catalogs', () => [catalog]);
    t.on('sources.list', (p) => {
      const offset = (p as { request: { offset?: number } }).request.offset ?? 0;
      return { items: [{ id: `i${offset}`, kind: 'track', title: `T${offset}`, raw: {} }], nextOffset: offset === 0 ? 1 : null };
    });
    await store.getState().refreshCatalogs();
    await store.getState().listItems({ action: 'browse', id: 'f' });
    expect(store.getState().sourceBrowse.nextOffset).toBe(1);
    await store.getState().loadMore();
    expect(store.getState().sourceBrowse.items.map((i) => i.id)).toEqual(['i0', 'i1']);
    expect(t.calls.at(-1)?.params).toMatchObject({ request: { action: 'browse', id: 'f', offset: 1 } });
    expect(store.getState().sourceBrowse.nextOffset).toBeNull();
  });

  it('reports plugin errors readably', async () => {
    t.on('sources.catalogs', () => [catalog]);
    t.on('sources.list', () => new RpcError({ code: 'timeout', message: 'list_items took longer than 12000 ms' }));
    await store.getState().refreshCatalogs();
    await store.getState().listItems({ action: 'search', query: 'x' });
    expect(store.getState().sourceBrowse.error).toMatch(/did not answer in time/);
  });
});

describe('lyrics slice', () => {
  it('searches every provider, prefers synced candidates and fetches the first', async () => {
    const provider = { pluginId: 'dev.l', pluginName: 'L', typeId: 'lrc', displayName: 'LRC' };
    t.on('lyrics.providers', () => [provider]);
    t.on('lyrics.search', () => ({
      candidates: [
        { id: 'plain', synced: false, instrumental: false, raw: { id: 'plain' } },
        { id: 'synced', synced: true, instrumental: false, raw: { id: 'synced' } },
      ],
    }));
    t.on('lyrics.fetch', (p) => ({ id: (p as { track: { id: string } }).track.id, synced: [{ timeMs: 0, text: 'hello' }], plain: 'hello', instrumental: false }));
    await store.getState().refreshLyricsProviders();
    await store.getState().lyricsForTrack(track('a', 'Song'));
    const l = store.getState().lyrics;
    expect(l.candidates.map((c) => c.id)).toEqual(['synced', 'plain']);
    expect(l.doc?.id).toBe('synced');
    expect(t.calls.find((c) => c.key === 'lyrics.search')?.params).toMatchObject({ query: { title: 'Song', path: '/music/Song.flac' } });
  });
});

describe('lyrics ranking', () => {
  it('puts the sidecar of the playing file first', async () => {
    const provider = { pluginId: 'dev.l', pluginName: 'L', typeId: 'lrc', displayName: 'LRC' };
    t.on('lyrics.providers', () => [provider]);
    t.on('lyrics.search', () => ({
      candidates: [
        { id: 'db', synced: true, instrumental: false, raw: { id: 'db' } },
        { id: '/music/Song.lrc', synced: false, instrumental: false, raw: { id: '/music/Song.lrc', path: '/music/Song.flac' } },
      ],
    }));
    t.on('lyrics.fetch', () => ({ synced: null, plain: 'x', instrumental: false }));
    await store.getState().refreshLyricsProviders();
    await store.getState().lyricsForTrack(track('a', 'Song'));
    expect(store.getState().lyrics.candidates.map((c) => c.id)).toEqual(['/music/Song.lrc', 'db']);
  });
});

describe('lyrics from a provider that answers late', () => {
  const db = { pluginId: 'dev.db', pluginName: 'D', typeId: 'd', displayName: 'Database' };
  const side = { pluginId: 'dev.side', pluginName: 'S', typeId: 's', displayName: 'Sidecar' };
  const local = (id: string): TrackInfo => ({ id, title: 'Song', source: { kind: 'file', path: '/music/Song.flac' } });

  function providers(): () => void {
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    t.on('lyrics.providers', () => [db, side]);
    t.on('lyrics.search', async (p) =>
      (p as { pluginId: string }).pluginId === 'dev.db'
        ? { candidates: [{ id: 'db', synced: true, instrumental: false, raw: { id: 'db' } }] }
        : late.then(() => ({ candidates: [{ id: 'lrc', synced: true, instrumental: false, raw: { id: 'lrc', path: '/music/Song.flac' } }] })),
    );
    t.on('lyrics.fetch', (p) => {
      const id = ((p as { track: { id: string } }).track).id;
      return { id, synced: [{ timeMs: 0, text: id }], plain: id, instrumental: false };
    });
    return release;
  }

  it('switches to the sidecar of this file when it answers after a database match', async () => {
    const release = providers();
    await store.getState().refreshLyricsProviders();
    const done = store.getState().lyricsForTrack(local('a'));
    await vi.waitFor(() => expect(store.getState().lyrics.doc?.id).toBe('db'));
    release();
    await done;
    await vi.waitFor(() => expect(store.getState().lyrics.doc?.id).toBe('lrc'));
    expect(store.getState().lyrics.candidates[store.getState().lyrics.chosen]!.id).toBe('lrc');
  });

  it('keeps the user\'s pick when a better candidate arrives later', async () => {
    const release = providers();
    await store.getState().refreshLyricsProviders();
    const done = store.getState().lyricsForTrack(local('b'));
    await vi.waitFor(() => expect(store.getState().lyrics.doc?.id).toBe('db'));
    await store.getState().chooseCandidate(0);
    release();
    await done;
    expect(store.getState().lyrics.doc?.id).toBe('db');
    expect(store.getState().lyrics.candidates.map((c) => c.id)).toEqual(['lrc', 'db']);
  });
});

describe('lyrics with a slow provider', () => {
  it('shows the fast provider\'s lyrics while the slow one is still searching', async () => {
    const fast = { pluginId: 'dev.fast', pluginName: 'F', typeId: 'f', displayName: 'Fast' };
    const slow = { pluginId: 'dev.slow', pluginName: 'S', typeId: 's', displayName: 'Slow' };
    t.on('lyrics.providers', () => [slow, fast]);
    t.on('lyrics.search', (p) => ((p as { pluginId: string }).pluginId === 'dev.slow' ? HANG : { candidates: [{ id: 'f1', synced: true, instrumental: false, raw: { id: 'f1' } }] }));
    t.on('lyrics.fetch', () => ({ id: 'f1', synced: [{ timeMs: 0, text: 'fast' }], plain: 'fast', instrumental: false }));
    await store.getState().refreshLyricsProviders();
    const done = store.getState().lyricsForTrack(track('a'));
    await vi.waitFor(() => expect(store.getState().lyrics.doc?.id).toBe('f1'));
    expect(store.getState().lyrics.pending).toBe(false);
    store.getState().cancelLyrics();
    await done;
    const slowSearch = t.calls.find((c) => c.key === 'lyrics.search' && (c.params as { pluginId: string }).pluginId === 'dev.slow')!;
    expect(t.cancelled).toContain(slowSearch.id);
    expect(store.getState().lyrics.doc?.id).toBe('f1');
  });
});

const pluginV = (path: string, over: Partial<PluginView> = {}): PluginView => ({
  path,
  origin: 'user',
  status: 'loaded',
  pluginId: `dev.${path}`,
  metadata: { id: `dev.${path}`, name: path, version: '1.0.0', abiVersion: 9 },
  capabilities: [{ kind: 'source', typeId: 'src', displayName: 'Src', configSchema: {}, defaultConfig: {}, config: {}, storedSecrets: [], extensions: [] }],
  error: null,
  leaseId: 1,
  retiredGenerations: 0,
  quarantine: null,
  ...over,
});

describe('plugins slice', () => {
  it('keeps the view of a plugin that did not change; a reload asks for no capability lists', async () => {
    await bindStore(createClient(t), store);
    t.emit('plugins', 'didChangeList', [pluginV('a'), pluginV('b')]);
    const [a, b] = store.getState().plugins;
    const asked = (): number => t.calls.filter((c) => ['sources.catalogs', 'lyrics.providers', 'output.dsps'].includes(c.key)).length;
    const n0 = asked();
    // b reloaded: a new generation, the same capabilities.
    t.emit('plugins', 'didChangeList', [pluginV('a'), pluginV('b', { leaseId: 2 })]);
    expect(store.getState().plugins[0]).toBe(a);
    expect(store.getState().plugins[1]).not.toBe(b);
    expect(store.getState().plugins[1]!.leaseId).toBe(2);
    expect(asked()).toBe(n0);
    // The same list again changes nothing at all.
    const list = store.getState().plugins;
    t.emit('plugins', 'didChangeList', [pluginV('a'), pluginV('b', { leaseId: 2 })]);
    expect(store.getState().plugins).toBe(list);
    // a disabled: its capabilities are gone, so the lists are asked for again.
    t.emit('plugins', 'didChangeList', [pluginV('a', { status: 'disabled' }), pluginV('b', { leaseId: 2 })]);
    expect(asked()).toBe(n0 + 3);
  });

  it('records the apply outcome per capability', async () => {
    t.on('plugins.applyConfig', () => ({ outcome: 'rejected', reason: 'no' }));
    await store.getState().applyConfig('dev.x', 'source', 'src', { mode: 'x' });
    expect(store.getState().applyOutcome['dev.x/source/src']).toEqual({ outcome: 'rejected', reason: 'no' });
    t.on('plugins.applyConfig', () => new RpcError({ code: 'invalid_argument', message: 'config does not match the schema' }));
    await store.getState().applyConfig('dev.x', 'source', 'src', { mode: 1 });
    expect(store.getState().applyOutcome['dev.x/source/src']).toMatchObject({ outcome: 'error' });
  });
});

describe('session', () => {
  it('restores the saved screen once; a reconnect does not move the listener back to it', async () => {
    t.on('session.get', () => ({ ui: { view: 'sources', volumeBeforeMute: null }, keepPlayingInBackground: false, resumePlayback: false, restored: true }));
    await store.getState().loadSession();
    expect(store.getState().screen).toBe('sources');
    store.getState().setScreen('plugins');
    await store.getState().loadSession();
    expect(store.getState().screen).toBe('plugins');
  });
});
