// Helpers for the engine tests: PulseAudio, a throwaway app home, generated audio files (sox and
// ffmpeg at test time; no audio is committed), reference decodes and event waiting.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SinkMonitor } from '../../bench/sink-monitor.js';
import { ControlPlane } from '../../control/control-plane.js';
import type { EngineOptions } from '../../engine/engine.js';
import { createPlayerEngine, type StellaPlayerEngine } from '../../engine/index.js';
import type { PlayerEngine } from '../../engine/player-engine.js';
import type { PlayerEvent } from '../../../src-shared/player-types.js';
import { makeScratchHome, type ScratchHome } from '../../tools/scratch-home.js';
import { fixturePlugin, repoRoot } from '../paths.js';

let pulseReady = false;

/** Starts PulseAudio with a null sink if no server answers (scripts/ensure-pulse.sh). */
export function ensurePulse(): void {
  if (pulseReady) return;
  execFileSync(path.join(repoRoot, 'scripts', 'ensure-pulse.sh'), { stdio: 'pipe' });
  pulseReady = true;
}

export type EngineHome = ScratchHome;

/** A scratch home whose built-in folder is the checkout's built plugins. */
export function makeHome(): EngineHome {
  return makeScratchHome({ prefix: 'stellatune-engine', builtins: true });
}

/** A control plane over the built-in plugins (and the fixture plugin, copied into the user
 * folder: the fixture build folder also holds deliberately broken libraries). */
export function startControl(home: EngineHome, fixtures = false): Promise<ControlPlane> {
  if (fixtures) fs.copyFileSync(fixturePlugin, path.join(home.paths.userPlugins, path.basename(fixturePlugin)));
  return ControlPlane.start({
    paths: home.paths,
    watchUserFolder: false,
    registry: { stableMs: 100, pollMs: 0 },
  });
}

/** A scratch home with a media folder, a control plane and a player engine over them: what the
 * engine tests set up. teardown() closes them in order and waits until every plugin stream the
 * engine opened is closed again. */
export class EngineRig {
  home: EngineHome | null = null;
  control: ControlPlane | null = null;
  engine: StellaPlayerEngine | null = null;
  media = '';

  /** The home and control plane (with the fixture plugin when `fixtures`). */
  async startControl(fixtures = false): Promise<ControlPlane> {
    this.home = makeHome();
    this.media = path.join(this.home.paths.home, 'media');
    fs.mkdirSync(this.media);
    this.control = await startControl(this.home, fixtures);
    return this.control;
  }

  /** The engine over the control plane (started first when there is none). */
  async start(opts: { fixtures?: boolean; engine?: Partial<EngineOptions> } = {}): Promise<StellaPlayerEngine> {
    const control = this.control ?? (await this.startControl(opts.fixtures));
    this.engine = (await createPlayerEngine({ control, paths: this.home!.paths, log: () => {}, ...opts.engine })) as StellaPlayerEngine;
    return this.engine;
  }

  async teardown(): Promise<void> {
    await this.engine?.close();
    this.engine = null;
    const control = this.control;
    if (control) {
      await waitFor(() => control.live().openStreams === 0, 5000, 'the plugin streams to close');
      await control.close();
    }
    this.control = null;
    this.home?.cleanup();
    this.home = null;
  }
}

export function sox(...args: string[]): void {
  execFileSync('sox', args, { stdio: 'pipe' });
}

export function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'pipe' });
}

/** A reference decode: interleaved float32 from ffmpeg. */
export function referencePcm(file: string): Float32Array {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'f32le', '-'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
}

/** Reads a float32 or 16/24-bit PCM WAV written by the wav sink into interleaved floats. */
export function readWav(file: string): { sampleRate: number; channels: number; samples: Float32Array } {
  const buf = fs.readFileSync(file);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe) format = buf.readUInt16LE(body + 24);
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data' && fmt) {
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      const n = Math.floor(size / (fmt.bits / 8));
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const p = body + (i * fmt.bits) / 8;
        if (fmt.format === 3 && fmt.bits === 32) samples[i] = buf.readFloatLE(p);
        else if (fmt.bits === 16) samples[i] = buf.readInt16LE(p) / 32768;
        else if (fmt.bits === 24) samples[i] = buf.readIntLE(p, 3) / 8388608;
        else if (fmt.bits === 32) samples[i] = buf.readInt32LE(p) / 2147483648;
      }
      return { sampleRate: fmt.rate, channels: fmt.channels, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Resolves with the first engine event matching `pred`. */
export function nextEvent<T extends PlayerEvent['type']>(
  engine: PlayerEngine,
  type: T,
  timeoutMs: number,
  pred: (e: Extract<PlayerEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<PlayerEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      engine.off('event', on);
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: PlayerEvent): void => {
      if (e.type === type && pred(e as Extract<PlayerEvent, { type: T }>)) {
        clearTimeout(timer);
        engine.off('event', on);
        resolve(e as Extract<PlayerEvent, { type: T }>);
      }
    };
    engine.on('event', on);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A PulseAudio null sink of one test file's own, heard on its monitor, so the monitor hears only
 * that file's engine (other players may use the default sink). The audio process reaches it
 * through ALSA -> pulse, which honours PULSE_SINK; close() restores it and unloads the sink. */
export class PrivateSink {
  readonly monitor: SinkMonitor;
  private readonly module: string;
  private readonly saved = process.env.PULSE_SINK;

  constructor(tag: string) {
    ensurePulse();
    const name = `stellatune_${tag}_${process.pid}`;
    this.module = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`], { encoding: 'utf8' }).trim();
    process.env.PULSE_SINK = name;
    this.monitor = new SinkMonitor(`${name}.monitor`);
  }

  close(): void {
    this.monitor.close();
    if (this.saved === undefined) delete process.env.PULSE_SINK;
    else process.env.PULSE_SINK = this.saved;
    execFileSync('pactl', ['unload-module', this.module]);
  }
}
