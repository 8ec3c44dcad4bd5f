// A Subsonic track end to end: supysonic on 127.0.0.1 -> the Subsonic plugin's HTTP stream -> the
// decode worker (sndfile) -> the PCM ring -> the audio process -> a real, paced PortAudio device
// (PulseAudio null sink), with a seek that the plugin serves with a Range request; and a short
// scenario A: playback holds while control calls run continuously, some against a hung server.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlError } from '../../control/errors.js';
import type { StellaPlayerEngine } from '../../engine/index.js';
import type { PlayerEvent } from '../../../src-shared/player-types.js';
import { startFaultProxy, type FaultProxy } from '../../tools/net-servers/fault-proxy.js';
import { startLrclibServer, type LrclibServer } from '../../tools/net-servers/lrclib-server.js';
import { defaultLibrary, startSupysonic, type SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { ensurePulse, nextEvent, waitFor } from '../engine/helpers.js';
import { type Item, type ItemPage, LRCLIB, LRCLIB_TYPE, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';
import { SubsonicRig } from './subsonic-rig.js';

let server: SupysonicServer;
let lrclib: LrclibServer;
let hangProxy: FaultProxy;
const rig = new SubsonicRig();

beforeAll(async () => {
  ensurePulse();
  server = await startSupysonic({
    library: [
      ...defaultLibrary,
      { file: 'Bench/Long Play/01 Long Play.flac', title: 'Long Play', artist: 'Bench', album: 'Long Play', track: 1, seconds: 9, freq: 440 },
    ],
  });
  lrclib = await startLrclibServer();
  // Lyrics requests whose query says "hang" reach a server that accepts and never answers.
  hangProxy = await startFaultProxy({ port: Number(new URL(lrclib.url).port) });
  hangProxy.setRules([{ contains: 'q=hang', mode: { kind: 'hang' } }]);
});

afterAll(async () => {
  await hangProxy?.stop();
  await lrclib?.stop();
  await server?.stop();
});

afterEach(() => rig.teardown());

async function setup(): Promise<{ e: StellaPlayerEngine; tracks: Item[] }> {
  const tracks = await rig.albumTracks(server, 'First Light');
  return { e: await rig.startEngine(), tracks };
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

  it('scenario A: a Subsonic track plays on with 0 underruns while list/lyrics calls run, some hung, and the loop stays free', async () => {
    const { e } = await setup();
    const c = rig.control!;
    const long = ((await c.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'search', query: 'Long Play' })) as ItemPage).items.find(
      (i) => i.kind === 'track',
    )!;
    c.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: hangProxy.url, timeout_ms: 5000 });
    e.queueAdd(queueFrom([long]));
    await e.play(0);
    await waitFor(() => e.status().positionMs > 300, 10_000, 'playback to start');
    const underruns0 = e.metrics().underruns;
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const outcomes = { ok: 0, timeout: 0, other: [] as string[] };
    let running = true;
    const healthyCall = (i: number): Promise<unknown> =>
      i % 3 === 0
        ? c.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'albums' }, { deadlineMs: 3000 })
        : i % 3 === 1
          ? c.searchLyrics(LRCLIB, LRCLIB_TYPE, { query: 'dawn' }, { deadlineMs: 3000 })
          : c.fetchLyrics(LRCLIB, LRCLIB_TYPE, { id: 'lrclib:101' }, { deadlineMs: 3000 });
    const callers = Array.from({ length: 6 }, async (_, k) => {
      for (let i = k; running; i += 6) {
        try {
          await healthyCall(i);
          outcomes.ok++;
        } catch (err) {
          outcomes.other.push((err as ControlError).code);
        }
      }
    });
    const hung = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          await c.searchLyrics(LRCLIB, LRCLIB_TYPE, { query: 'hang' }, { deadlineMs: 700 });
        } catch (err) {
          if ((err as ControlError).code === 'timeout') outcomes.timeout++;
          else outcomes.other.push((err as ControlError).code);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 5000));
    running = false;
    await Promise.all([...callers, ...hung]);
    histogram.disable();
    expect(e.metrics().underruns - underruns0).toBe(0);
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.other).toEqual([]);
    expect(outcomes.timeout).toBeGreaterThanOrEqual(16); // 4 hung callers, 700 ms each, for 5 s
    expect(histogram.percentile(99) / 1e6).toBeLessThan(50);
    await waitFor(() => c.live().pendingOps === 0, 3000, 'the calls to drain');
  });
});
