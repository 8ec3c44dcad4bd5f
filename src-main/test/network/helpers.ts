// Helpers for the network plugin tests: a control plane over the built-in plugins (the Subsonic
// and LRCLIB plugins among them), decoding a StreamLease with the sndfile decoder, reference PCM.
import { execFileSync } from 'node:child_process';
import type { ControlPlane } from '../../control/control-plane.js';
import type { StreamLease } from '../../control/owners.js';
import { createInstance, type DecoderInstance } from '../../plugins/instances.js';
import { makeTestHome, startControl, type TestHome } from '../harness.js';

export const SUBSONIC = 'dev.stellatune.subsonic';
export const SUBSONIC_TYPE = 'subsonic';
export const LRCLIB = 'dev.stellatune.lrclib';
export const LRCLIB_TYPE = 'lrclib';
export const SNDFILE = 'dev.stellatune.sndfile';

export interface Item {
  id: string;
  kind: string;
  title?: string;
  artist?: string;
  album?: string;
  duration_ms?: number;
  track_no?: number;
  song_id?: string;
  suffix?: string;
  cover_url?: string;
  [key: string]: unknown;
}

export interface ItemPage {
  items: Item[];
  next_offset?: number;
  [key: string]: unknown;
}

export async function startNetworkControl(): Promise<{ home: TestHome; cp: ControlPlane }> {
  const home = makeTestHome({ builtins: true });
  const cp = await startControl(home, { watchUserFolder: false });
  return { home, cp };
}

export { rejection } from '../harness.js';

export function sndfileDecoder(cp: ControlPlane): DecoderInstance {
  const gen = cp.registry.current(SNDFILE);
  if (!gen) throw new Error('the sndfile decoder is not loaded');
  return createInstance(gen, 'decoder', 'sndfile', '{}') as DecoderInstance;
}

/** Opens `lease` with the sndfile decoder (by the stream's ext). */
export function openDecoder(cp: ControlPlane, lease: StreamLease): DecoderInstance {
  const decoder = sndfileDecoder(cp);
  decoder.open(lease.stream, { ext: String(lease.meta.ext ?? '') });
  return decoder;
}

/** Decodes to the end (or `maxFrames`); interleaved float32. */
export function decodeAll(decoder: DecoderInstance, maxFrames = Infinity): Float32Array {
  const { channels } = decoder.info();
  const block = new Float32Array(4096 * channels);
  const parts: Float32Array[] = [];
  let frames = 0;
  while (frames < maxFrames) {
    const n = decoder.read(block, 4096);
    if (n === 0) break;
    parts.push(block.slice(0, n * channels));
    frames += n;
  }
  const out = new Float32Array(frames * channels);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** ffmpeg's decode of a file: interleaved float32. */
export function referencePcm(file: string): Float32Array {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'f32le', '-'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
}

/** The largest absolute difference over the first `count` samples of a and b (from offsets). */
export function maxDiff(a: Float32Array, aOff: number, b: Float32Array, bOff: number, count: number): number {
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs((a[aOff + i] as number) - (b[bOff + i] as number)));
  return worst;
}
