// Decoding through the real path the decode worker uses: the sndfile decoder plugin loaded with
// koffi, fed by the host's file io table (libstellatune_host), compared with ffmpeg's decode.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFileStream, openFileStream } from '../../plugins/host-lib.js';
import { createInstance, type DecoderInstance } from '../../plugins/instances.js';
import { PluginGeneration } from '../../plugins/library.js';
import { builtinPluginDir } from '../paths.js';
import { ffmpeg, makeHome, referencePcm, sox, type EngineHome } from './helpers.js';

let home: EngineHome;
let gen: PluginGeneration;
let media: string;

beforeAll(() => {
  home = makeHome();
  media = path.join(home.paths.home, 'media');
  fs.mkdirSync(media);
  gen = PluginGeneration.load(path.join(builtinPluginDir, 'sndfile-decoder.so'), {
    shadowDir: home.paths.shadow,
    dataRoot: home.paths.pluginData,
    leaseId: 1,
  });
  // A chord with some noise, so every sample differs (a pure tone could hide an offset).
  const src = path.join(media, 'src.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', src, 'synth', '4', 'sine', '440', 'sine', '1003', 'whitenoise', 'vol', '0.3');
  sox(src, path.join(media, 'a.wav'));
  sox(src, path.join(media, 'a.flac'));
  ffmpeg('-i', src, '-c:a', 'libvorbis', '-q:a', '5', path.join(media, 'a.ogg'));
  ffmpeg('-i', src, '-c:a', 'libmp3lame', '-b:a', '192k', path.join(media, 'a.mp3'));
});

afterAll(async () => {
  await gen?.unload();
  home?.cleanup();
});

function openDecoder(file: string): { dec: DecoderInstance; close: () => void } {
  const stream = openFileStream(file);
  const dec = createInstance(gen, 'decoder', 'sndfile', '{}');
  dec.open(stream, { path: file, ext: path.extname(file).slice(1) });
  return {
    dec,
    close: () => {
      dec.destroy();
      closeFileStream(stream);
    },
  };
}

function decodeAll(dec: DecoderInstance, channels: number): Float32Array {
  const block = 4096;
  const buf = new Float32Array(block * channels);
  const parts: Float32Array[] = [];
  let total = 0;
  for (;;) {
    const n = dec.read(buf, block);
    if (n === 0) break;
    parts.push(buf.slice(0, n * channels));
    total += n * channels;
  }
  const out = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** RMS of the difference after aligning `got` to `ref` with the best lag in ±maxLag frames. */
function alignedError(got: Float32Array, ref: Float32Array, channels: number, maxLag: number): { lag: number; rms: number } {
  let best = { lag: 0, rms: Infinity };
  const n = Math.min(got.length, ref.length) - maxLag * channels * 2;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0;
    let count = 0;
    for (let i = maxLag * channels; i < n; i += 7) {
      const j = i + lag * channels;
      const d = (got[i] as number) - (ref[j] as number);
      sum += d * d;
      count++;
    }
    const rms = Math.sqrt(sum / count);
    if (rms < best.rms) best = { lag, rms };
  }
  return best;
}

describe('decoding through koffi and the host file io table', () => {
  for (const ext of ['wav', 'flac']) {
    it(`${ext}: decoded PCM equals ffmpeg's, sample for sample`, () => {
      const file = path.join(media, `a.${ext}`);
      const { dec, close } = openDecoder(file);
      try {
        const info = dec.info();
        expect(info).toMatchObject({ sampleRate: 44100, channels: 2, lossless: true, seekable: true, durationFrames: 4 * 44100 });
        const got = decodeAll(dec, 2);
        const ref = referencePcm(file);
        expect(got.length).toBe(ref.length);
        let mismatches = 0;
        for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) mismatches++;
        expect(mismatches).toBe(0);
      } finally {
        close();
      }
    });
  }

  // Lossy decoders differ in float rounding, dither and resampler details, and in how they
  // trim encoder delay: after aligning (±2048 frames) the difference must be inaudible-level.
  const LOSSY_RMS_TOLERANCE = 1e-3; // -60 dBFS
  for (const ext of ['mp3', 'ogg']) {
    it(`${ext}: decoded PCM matches ffmpeg's within ${LOSSY_RMS_TOLERANCE} RMS (after alignment)`, () => {
      const file = path.join(media, `a.${ext}`);
      const { dec, close } = openDecoder(file);
      try {
        const info = dec.info();
        expect(info.sampleRate).toBe(44100);
        expect(info.channels).toBe(2);
        const got = decodeAll(dec, 2);
        const ref = referencePcm(file);
        expect(Math.abs(got.length - ref.length) / 2).toBeLessThan(44100 * 0.1);
        const { lag, rms } = alignedError(got, ref, 2, 2048);
        expect(rms, `best lag ${lag} frames`).toBeLessThan(LOSSY_RMS_TOLERANCE);
      } finally {
        close();
      }
    });
  }

  for (const ext of ['flac', 'mp3']) {
    it(`${ext}: seek lands within 10 ms of the target${ext === 'flac' ? ' and decodes the right samples' : ''}`, () => {
      const file = path.join(media, `a.${ext}`);
      const { dec, close } = openDecoder(file);
      try {
        const ref = ext === 'flac' ? referencePcm(file) : null;
        for (const targetMs of [1234, 3000, 17, 2500]) {
          const frame = dec.seekMs(targetMs);
          const landedMs = (frame / 44100) * 1000;
          expect(Math.abs(landedMs - targetMs)).toBeLessThanOrEqual(10);
          if (ref) {
            const buf = new Float32Array(512 * 2);
            const n = dec.read(buf, 512);
            expect(n).toBeGreaterThan(0);
            for (let i = 0; i < n * 2; i++) expect(buf[i]).toBe(ref[frame * 2 + i]);
          }
        }
      } finally {
        close();
      }
    });
  }

  it('a missing file is refused by the host io table; garbage is refused by the decoder', () => {
    expect(() => openFileStream(path.join(media, 'nope.flac'))).toThrow(/no such file/);
    const junk = path.join(media, 'junk.flac');
    fs.writeFileSync(junk, Buffer.alloc(20000, 0x5a));
    const stream = openFileStream(junk);
    const dec = createInstance(gen, 'decoder', 'sndfile', '{}');
    try {
      expect(() => dec.open(stream, { path: junk, ext: 'flac' })).toThrow();
    } finally {
      dec.destroy();
      closeFileStream(stream);
    }
  });
});
