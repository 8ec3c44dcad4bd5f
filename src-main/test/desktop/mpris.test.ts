// MPRIS end to end: a private session bus (dbus-daemon started here), the real playback engine
// playing to the PulseAudio null sink, and Debian's `playerctl` as the desktop would drive it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { type MprisService, startMpris } from '../../desktop/mpris.js';
import { createPlayerEngine } from '../../engine/index.js';
import type { PlayerEngine } from '../../engine/player-engine.js';
import { ensurePulse, makeHome, sleep, sox, startControl, type EngineHome } from '../engine/helpers.js';

const run = promisify(execFile);

let daemon: ChildProcess;
let address: string;
let home: EngineHome;
let control: ControlPlane;
let engine: PlayerEngine;
let mpris: MprisService | null;
const logs: string[] = [];

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${cond.toString()}`);
    await sleep(50);
  }
}

async function playerctl(...args: string[]): Promise<string> {
  const { stdout } = await run('playerctl', ['-p', 'stellatune', ...args], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address }, timeout: 10_000 });
  return stdout.trim();
}

beforeAll(async () => {
  ensurePulse();
  daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  address = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl > 0) resolve(out.slice(0, nl).trim());
    });
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
  home = makeHome();
  const media = path.join(home.paths.home, 'media');
  fs.mkdirSync(media);
  for (const [name, freq] of [['one.flac', 330], ['two.flac', 440]] as const) {
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', path.join(media, name), 'synth', '20', 'sine', String(freq), 'vol', '0.3');
  }
  const cover = path.join(media, 'cover.jpg');
  control = await startControl(home);
  engine = await createPlayerEngine({ control, paths: home.paths, log: () => {} });
  engine.queueAdd([
    { source: { kind: 'file', path: path.join(media, 'one.flac') }, title: 'First Light', artist: 'Öresund Ensemble', album: 'Tides', durationMs: 20_000 },
    { source: { kind: 'file', path: path.join(media, 'two.flac') }, title: 'Second Wind', artist: 'Öresund Ensemble', album: 'Tides', durationMs: 20_000 },
  ]);
  mpris = await startMpris({ engine: () => engine, busAddress: address, artUrl: () => `file://${cover}`, log: (m) => logs.push(m) });
}, 60_000);

afterAll(async () => {
  await mpris?.close();
  await engine?.close();
  await control?.close();
  daemon?.kill('SIGTERM');
  home?.cleanup();
});

describe('MPRIS through playerctl', () => {
  it('registers on the session bus', async () => {
    expect(mpris).not.toBeNull();
    const { stdout } = await run('playerctl', ['-l'], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address } });
    expect(stdout).toContain(`stellatune.instance${process.pid}`);
    expect(await playerctl('status')).toBe('Stopped');
  });

  it('plays, shows metadata with art, pauses, seeks, moves between tracks', async () => {
    await playerctl('play');
    await waitFor(() => engine.status().state === 'playing', 10_000);
    await waitFor(async () => (await playerctl('status')) === 'Playing', 5000);
    const md = await playerctl('metadata', '--format', '{{title}}|{{artist}}|{{album}}|{{mpris:artUrl}}|{{mpris:length}}');
    expect(md).toBe(`First Light|Öresund Ensemble|Tides|file://${path.join(home.paths.home, 'media', 'cover.jpg')}|20000000`);

    await playerctl('play-pause');
    await waitFor(() => engine.status().state === 'paused', 5000);
    expect(await playerctl('status')).toBe('Paused');
    await playerctl('play-pause');
    await waitFor(() => engine.status().state === 'playing', 5000);

    await playerctl('position', '12');
    // What playerctl reads back (Position, from frames played) settles at the new place.
    await waitFor(async () => {
      const pos = Number(await playerctl('position'));
      return pos >= 11.5 && pos < 15;
    }, 8000);
    await playerctl('position', '3-');
    await waitFor(() => engine.status().positionMs < 11_500, 5000);

    await playerctl('next');
    await waitFor(() => engine.status().current?.title === 'Second Wind', 10_000);
    await waitFor(async () => (await playerctl('metadata', 'title')) === 'Second Wind', 5000);
    await playerctl('previous');
    await waitFor(() => engine.status().current?.title === 'First Light', 10_000);
  }, 60_000);

  it('sets volume, loop and shuffle both ways', async () => {
    await playerctl('volume', '0.4');
    await waitFor(() => Math.abs(engine.status().volume - 0.4) < 1e-6, 5000);
    engine.setVolume(0.7);
    await waitFor(async () => Math.abs(Number(await playerctl('volume')) - 0.7) < 1e-6, 5000);

    await playerctl('loop', 'Playlist');
    await waitFor(() => engine.status().repeat === 'all', 5000);
    await playerctl('loop', 'Track');
    await waitFor(() => engine.status().repeat === 'one', 5000);
    engine.setRepeat('off');
    await waitFor(async () => (await playerctl('loop')) === 'None', 5000);

    await playerctl('shuffle', 'On');
    await waitFor(() => engine.status().shuffle, 5000);
    engine.setShuffle(false);
    await waitFor(async () => (await playerctl('shuffle')) === 'Off', 5000);

    await playerctl('stop');
    await waitFor(() => engine.status().state === 'stopped', 5000);
    expect(await playerctl('status')).toBe('Stopped');
  }, 30_000);

  it('stays out of the way without a session bus', async () => {
    const lines: string[] = [];
    expect(await startMpris({ engine: () => engine, busAddress: '', log: (m) => lines.push(m) })).toBeNull();
    expect(await startMpris({ engine: () => engine, busAddress: `unix:path=${path.join(home.paths.home, 'no-such-bus')}`, log: (m) => lines.push(m) })).toBeNull();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/MPRIS is off: no session bus/);
    expect(lines[1]).toMatch(/session bus failed|MPRIS is off/);
    // The engine still answers.
    expect(engine.status().state).toBe('stopped');
  });
});
