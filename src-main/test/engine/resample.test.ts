// Any file on any output: a device at one rate gets every track resampled (libsoxr) and remixed
// in the decode worker. Through the real path: decode worker -> ring -> audio process -> the
// wav-sink OutputSink running at 44.1 kHz stereo.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StellaPlayerEngine } from '../../engine/index.js';
import { EngineRig, ensurePulse, ffmpeg, nextEvent, readWav, sox } from './helpers.js';

const rig = new EngineRig();

beforeAll(() => ensurePulse());

afterEach(() => rig.teardown());

async function setup(): Promise<{ e: StellaPlayerEngine; media: string }> {
  const e = await rig.start({ engine: { dspChain: [] } });
  return { e, media: rig.media };
}

/** Plays `files` in order into a 44.1 kHz wav-sink recording and returns it. */
async function record(e: StellaPlayerEngine, media: string, files: string[]): Promise<ReturnType<typeof readWav>> {
  const out = path.join(media, 'out.wav');
  await e.setOutput({ kind: 'plugin', pluginId: 'dev.stellatune.wav-sink', typeId: 'wav-file', target: { id: out, name: 'test', file: out }, sampleRate: 44100 });
  e.queueAdd(files.map((f) => ({ source: { kind: 'file' as const, path: f }, title: path.basename(f) })));
  await e.play(0);
  await nextEvent(e, 'ended', 20_000);
  await e.setOutput({ kind: 'portaudio', deviceId: null, bufferFrames: 512 }); // closes the recording
  return readWav(out);
}

function rms(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(s / Math.max(1, to - from));
}

describe('resampling and remixing', () => {
  it('a 48 kHz track then a 44.1 kHz one on a 44.1 kHz output join sample-exactly, without a gap', async () => {
    const { e, media } = await setup();
    const a48 = path.join(media, 'a48.wav');
    const b44 = path.join(media, 'b44.wav');
    sox('-n', '-r', '48000', '-c', '2', '-b', '16', a48, 'synth', '1', 'sine', '440', 'sine', '660', 'vol', '0.4');
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', b44, 'synth', '0.75', 'sine', '550', 'sine', '770', 'vol', '0.4');
    // The reference: the first track resampled on its own (sox's very-high-quality rate is libsoxr
    // as well), then the second as it is.
    const a44ref = path.join(media, 'a44ref.wav');
    sox(a48, '-b', '32', '-e', 'floating-point', a44ref, 'rate', '-v', '44100');
    const refA = readWav(a44ref).samples;
    const refB = readWav(b44).samples;
    const got = await record(e, media, [a48, b44]);
    expect(got.sampleRate).toBe(44100);
    expect(got.channels).toBe(2);
    // 1 s at 48 kHz is exactly 44100 frames at 44.1 kHz: the join is at sample 88200.
    expect(refA.length).toBe(88200);
    expect(got.samples.length).toBe(88200 + refB.length);
    expect(rms(got.samples, refA, 0, 88200)).toBeLessThan(2e-3);
    // The second track starts exactly at the join and is untouched (no resampling at 44.1 kHz).
    let mismatches = 0;
    for (let i = 0; i < refB.length; i++) if (Math.abs((got.samples[88200 + i] as number) - (refB[i] as number)) > 1e-6) mismatches++;
    expect(mismatches).toBe(0);
    // No gap: no run of silence across the join.
    let zeros = 0;
    for (let i = 88200 - 400; i < 88200 + 400; i++) zeros = got.samples[i] === 0 ? zeros + 1 : 0;
    expect(zeros).toBeLessThan(4);
  });

  it('plays a 5.1 file as stereo (ffmpeg\'s ITU downmix, normalised) and a mono file on both channels', async () => {
    const { e, media } = await setup();
    const surround = path.join(media, 'surround.wav');
    sox('-n', '-r', '44100', '-c', '6', '-b', '16', surround, 'synth', '0.5', 'sine', '300', 'sine', '400', 'sine', '500', 'sine', '60', 'sine', '700', 'sine', '800', 'vol', '0.5');
    const mono = path.join(media, 'mono.wav');
    sox('-n', '-r', '44100', '-c', '1', '-b', '16', mono, 'synth', '0.25', 'sine', '440', 'vol', '0.5');
    const stereoRef = path.join(media, 'surround-ref.wav');
    ffmpeg('-i', surround, '-ac', '2', '-c:a', 'pcm_f32le', stereoRef);
    // ffmpeg's matrix (FL + c FC + c BL, c = 1/sqrt 2, LFE out); the player also scales it by
    // 1 / (1 + 2c) so that a full-scale 5.1 mix cannot clip.
    const c = Math.SQRT1_2;
    const ref = readWav(stereoRef).samples.map((v) => v / (1 + 2 * c));
    const monoRef = readWav(mono).samples;
    const got = await record(e, media, [surround, mono]);
    expect(got.channels).toBe(2);
    expect(got.samples.length).toBe(ref.length + monoRef.length * 2);
    expect(rms(got.samples, ref, 0, ref.length)).toBeLessThan(1e-3);
    let off = 0;
    for (let i = 0; i < monoRef.length; i++) {
      const l = got.samples[ref.length + 2 * i] as number;
      const r = got.samples[ref.length + 2 * i + 1] as number;
      off = Math.max(off, Math.abs(l - (monoRef[i] as number)), Math.abs(r - (monoRef[i] as number)));
    }
    expect(off).toBeLessThan(1e-6);
  });
});
