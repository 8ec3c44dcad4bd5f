// A Subsonic track end to end: supysonic on 127.0.0.1 -> the Subsonic plugin's HTTP stream -> the
// decode worker (sndfile) -> the PCM ring -> the audio process -> a real, paced PortAudio device
// (PulseAudio null sink), with a seek that the plugin serves with a Range request.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { createPlayerEngine, type StellaPlayerEngine } from '../../engine/index.js';
import type { PlayerEvent } from '../../../src-shared/player-types.js';
import { startSupysonic, type SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { ensurePulse, makeHome, nextEvent, startControl, waitFor, type EngineHome } from '../engine/helpers.js';
import { type Item, type ItemPage, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';

let server: SupysonicServer;
let home: EngineHome;
let control: ControlPlane | null = null;
let engine: StellaPlayerEngine | null = null;

beforeAll(async () => {
  ensurePulse();
  server = await startSupysonic();
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  await engine?.close();
  engine = null;
  if (control) {
    await waitFor(() => control!.live().openStreams === 0, 5000, 'the stream to close');
    await control.close();
  }
  control = null;
  home?.cleanup();
});

async function setup(): Promise<{ e: StellaPlayerEngine; tracks: Item[] }> {
  home = makeHome();
  control = await startControl(home);
  control.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, server.pluginConfig());
  const albums = (await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'albums' })) as ItemPage;
  const album = albums.items.find((a) => a.title === 'First Light')!;
  const tracks = ((await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'browse', id: album.id })) as ItemPage).items;
  engine = (await createPlayerEngine({ control, paths: home.paths, log: () => {} })) as StellaPlayerEngine;
  return { e: engine, tracks };
}

function queueFrom(tracks: Item[]) {
  return tracks.map((t) => ({
    source: { kind: 'plugin' as const, pluginId: SUBSONIC, typeId: SUBSONIC_TYPE, item: t as Record<string, unknown> },
    title: String(t.title),
    artist: t.artist,
    album: t.album,
    durationMs: t.duration_ms,
  }));
}

describe('Subsonic playback through PortAudio', () => {
  it('plays a track from the server to the end, paced, with 0 underruns', async () => {
    const { e, tracks } = await setup();
    const events: PlayerEvent[] = [];
    e.on('event', (ev) => events.push(ev));
    e.queueAdd(queueFrom(tracks.slice(0, 1)));
    const t0 = Date.now();
    await e.play(0);
    await waitFor(() => e.status().positionMs > 300, 10_000, 'playback to start');
    expect(e.status().format?.streamPlugin).toBe(SUBSONIC);
    await nextEvent(e, 'ended', 20_000);
    const wall = Date.now() - t0;
    const positions = events.filter((ev) => ev.type === 'position').map((ev) => (ev as { positionMs: number }).positionMs);
    expect(Math.max(...positions)).toBeGreaterThanOrEqual(3990);
    expect(wall).toBeGreaterThanOrEqual(3500); // paced by the device, not decoded flat out
    expect(e.metrics().underruns).toBe(0);
    expect(events.some((ev) => ev.type === 'track-error')).toBe(false);
  });

  it('seeks inside a playing Subsonic track and plays on to the next one', async () => {
    const { e, tracks } = await setup();
    const events: PlayerEvent[] = [];
    e.on('event', (ev) => events.push(ev));
    e.queueAdd(queueFrom(tracks.slice(0, 2)));
    await e.play(0);
    await waitFor(() => e.status().positionMs > 500, 10_000, 'playback to start');
    await e.seek(3000);
    await waitFor(() => e.status().positionMs >= 3000 || e.queue().index === 1, 5000, 'the seek to land');
    // Track 2 (3 s) follows on the same server.
    await nextEvent(e, 'ended', 20_000);
    expect(e.queue().index).toBe(1);
    expect(events.some((ev) => ev.type === 'track-error')).toBe(false);
    expect(e.metrics().underruns).toBe(0);
  });
});
