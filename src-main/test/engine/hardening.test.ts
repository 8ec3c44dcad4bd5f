// A FIFO, a socket and a device node queued between two good tracks as if they were audio files:
// each fails as a track error within a second, nothing wedges, and both good tracks play. And the
// transport's bounds: an absurd seek lands at the end, an output device that does not exist is refused.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import type { StellaPlayerEngine } from '../../engine/index.js';
import type { PlayerEvent } from '../../../src-shared/player-types.js';
import { outputService } from '../../services/output-service.js';
import { playerService } from '../../services/player-service.js';
import { RpcError } from '../../../src-shared/rpc-error.js';
import { type EngineHome, EngineRig, ensurePulse, nextEvent, sox } from './helpers.js';

const rig = new EngineRig();
let home: EngineHome;
let control: ControlPlane;
let engine: StellaPlayerEngine;
let server: net.Server;

beforeAll(async () => {
  ensurePulse();
  engine = await rig.start();
  home = rig.home!;
  control = rig.control!;
});

afterAll(async () => {
  server?.close();
  await rig.teardown();
});

it('a FIFO, a socket and a device node between two good tracks each fail within a second; the good tracks play', async () => {
  const media = path.join(home.paths.home, 'media');
  fs.mkdirSync(media, { recursive: true });
  const first = path.join(media, '1 first.wav');
  const last = path.join(media, '5 last.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', first, 'synth', '1', 'sine', '440', 'vol', '0.4');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', last, 'synth', '1', 'sine', '660', 'vol', '0.4');
  const fifo = path.join(media, '2 pipe.flac');
  execFileSync('mkfifo', [fifo]);
  const socket = path.join(media, '3 socket.flac');
  server = net.createServer().listen(socket);
  await new Promise((r) => server.once('listening', r));
  const device = path.join(media, '4 device.flac');
  fs.symlinkSync('/dev/zero', device);

  const events: { at: number; e: PlayerEvent }[] = [];
  engine.on('event', (e) => events.push({ at: Date.now(), e }));
  const file = (p: string) => ({ source: { kind: 'file' as const, path: p }, title: path.basename(p) });
  const queued = engine.queueAdd([first, fifo, socket, device, last].map(file));
  const t0 = Date.now();
  await engine.play(0);
  await nextEvent(engine, "ended", 20_000);

  const played = (p: string): boolean =>
    events.some(({ e }) => e.type === 'status' && e.status.state === 'playing' && e.status.current?.source.kind === 'file' && e.status.current.source.path === p);
  expect(played(first)).toBe(true);
  expect(played(last)).toBe(true);
  const failures = events.filter(({ e }) => e.type === 'track-error') as { at: number; e: Extract<PlayerEvent, { type: 'track-error' }> }[];
  expect(failures.map(({ e }) => e.track.id)).toEqual(queued.slice(1, 4).map((t) => t.id));
  expect(failures.map(({ e }) => e.message)).toEqual([
    expect.stringMatching(/named pipe/),
    expect.stringMatching(/socket/),
    expect.stringMatching(/device node/),
  ]);
  // Two 1 s tracks and three failures: nothing waited on the special files.
  expect(Date.now() - t0).toBeLessThan(2000 + 3 * 1000 + 1500);
  for (let i = 1; i < failures.length; i++) expect(failures[i]!.at - failures[i - 1]!.at).toBeLessThan(1000);
  expect(engine.status().state).toBe('stopped');

  // Played directly (no preload in between), the FIFO fails just as fast and the queue goes on.
  const again = Date.now();
  await engine.play(1);
  await nextEvent(engine, 'status', 3000, (st) => st.status.state === 'playing' && st.status.index === 4);
  expect(Date.now() - again).toBeLessThan(2000);
  await engine.stop();
});

it('seek(1e308) and seek(1e20) go to the end of the track instead of restarting it', async () => {
  const media = path.join(home.paths.home, 'seek');
  fs.mkdirSync(media, { recursive: true });
  const tone = path.join(media, 'three.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', tone, 'synth', '3', 'sine', '440', 'vol', '0.4');
  const player = playerService(() => engine);
  for (const far of [1e308, 1e20]) {
    await engine.stop();
    engine.queueClear();
    engine.queueAdd([{ source: { kind: 'file', path: tone }, title: 'three' }]);
    await engine.play(0);
    await nextEvent(engine, 'position', 15_000, (e) => e.positionMs > 200);
    const positions: number[] = [];
    const onPos = (e: PlayerEvent): void => {
      if (e.type === 'position') positions.push(e.positionMs);
    };
    engine.on('event', onPos);
    const at = Date.now();
    await player.seek({ positionMs: far }, { signal: new AbortController().signal });
    await nextEvent(engine, 'ended', 10_000);
    engine.off('event', onPos);
    // A restart would play from 0 again (positions under 2 s, and 3 s until the end); the end
    // comes within the output latency.
    expect(positions.every((p) => p >= 2000)).toBe(true);
    expect(Date.now() - at).toBeLessThan(2800);
  }
});

it('output.set with a device that does not exist is refused and the output stays as it was', async () => {
  const output = outputService(control, () => engine);
  const ctx = { signal: new AbortController().signal };
  const before = engine.status().output;
  const refused = await Promise.resolve(output.set({ choice: { kind: 'portaudio', deviceId: 987_654, bufferFrames: 1024 } }, ctx)).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(RpcError);
  expect(refused).toMatchObject({ code: 'not_found' });
  const noSink = await Promise.resolve(output.set({ choice: { kind: 'plugin', pluginId: 'dev.nobody', typeId: 'x', target: {} } }, ctx)).catch((e: unknown) => e);
  expect(noSink).toMatchObject({ code: 'not_found' });
  expect(engine.status().output).toEqual(before);
  // A device that exists is still accepted.
  const { devices } = await engine.listDevices();
  const real = devices.find((d) => d.maxOutputChannels > 0);
  if (real) {
    await output.set({ choice: { kind: 'portaudio', deviceId: real.id, bufferFrames: 1024 } }, ctx);
    expect(engine.status().output).toMatchObject({ deviceId: real.id });
  }
});

it('300 FIFOs in a row: the queue goes on past all of them even when the worker runs dry meanwhile', async () => {
  const media = path.join(home.paths.home, 'many');
  fs.mkdirSync(media, { recursive: true });
  const first = path.join(media, 'first.wav');
  const last = path.join(media, 'last.wav');
  // A short first track: the worker has decoded all of it (and gone idle) long before 300
  // failed opens are through.
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', first, 'synth', '0.3', 'sine', '440', 'vol', '0.4');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', last, 'synth', '0.5', 'sine', '660', 'vol', '0.4');
  const fifos = Array.from({ length: 300 }, (_, i) => path.join(media, `pipe ${i}.flac`));
  execFileSync('mkfifo', fifos);
  await engine.stop();
  engine.queueClear();
  const events: PlayerEvent[] = [];
  const on = (e: PlayerEvent): void => void events.push(e);
  engine.on('event', on);
  engine.queueAdd([first, ...fifos, last].map((p) => ({ source: { kind: 'file' as const, path: p }, title: path.basename(p) })));
  await engine.play(0);
  await nextEvent(engine, 'ended', 10_000);
  engine.off('event', on);
  expect(events.filter((e) => e.type === 'track-error')).toHaveLength(300);
  expect(events.some((e) => e.type === 'status' && e.status.state === 'playing' && e.status.current?.title === 'last.wav')).toBe(true);
});
