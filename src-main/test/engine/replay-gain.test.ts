// ReplayGain through the real audio path: decode worker (gain marks in the ring) -> audio process
// (samples scaled as they are read) -> the wav-sink OutputSink at 44.1 kHz. Each recording is
// compared with the file's own decode: the RMS ratio is the gain applied. Tagged FLACs are
// written by ffmpeg at test setup; the library tests use a real Library scan of them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { createPlayerEngine, type StellaPlayerEngine } from '../../engine/index.js';
import { Library } from '../../library/library.js';
import { DEFAULT_REPLAY_GAIN, type ReplayGainSettings } from '../../../src-shared/replay-gain.js';
import { ensurePulse, ffmpeg, makeHome, nextEvent, readWav, sox, startControl, type EngineHome } from './helpers.js';

let home: EngineHome;
let control: ControlPlane;
let engine: StellaPlayerEngine;
let library: Library;
let media: string;
/** The library answers for the files under `albumDir` (the engine asks it as tracks start). */
let albumDir: string;
const refs = new Map<string, Float32Array>();

function tagArgs(t: { track?: string; trackPeak?: string; album?: string; albumPeak?: string; albumName?: string; trackNo?: string }): string[] {
  const a: string[] = [];
  if (t.track) a.push('-metadata', `REPLAYGAIN_TRACK_GAIN=${t.track}`);
  if (t.trackPeak) a.push('-metadata', `REPLAYGAIN_TRACK_PEAK=${t.trackPeak}`);
  if (t.album) a.push('-metadata', `REPLAYGAIN_ALBUM_GAIN=${t.album}`);
  if (t.albumPeak) a.push('-metadata', `REPLAYGAIN_ALBUM_PEAK=${t.albumPeak}`);
  if (t.albumName) a.push('-metadata', `ALBUM=${t.albumName}`, '-metadata', 'ARTIST=Test Band');
  if (t.trackNo) a.push('-metadata', `TRACKNUMBER=${t.trackNo}`);
  return a;
}

/** A 16-bit FLAC of a chord (and its decode as the reference, lossless). */
function makeFlac(file: string, freq: number, vol: number, tags: Parameters<typeof tagArgs>[0]): void {
  const wav = `${file}.src.wav`;
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', '0.6', 'sine', String(freq), 'sine', String(freq * 1.5), 'vol', String(vol));
  ffmpeg('-i', wav, ...tagArgs(tags), file);
  refs.set(file, readWav(wav).samples);
  fs.rmSync(wav);
}

beforeAll(async () => {
  ensurePulse();
  home = makeHome();
  media = path.join(home.paths.home, 'media');
  albumDir = path.join(media, 'Album');
  fs.mkdirSync(albumDir, { recursive: true });
  makeFlac(path.join(media, 't6.flac'), 440, 0.5, { track: '-6.00 dB', trackPeak: '0.5' });
  makeFlac(path.join(media, 'loud.flac'), 300, 0.45, { track: '+12.00 dB' });
  makeFlac(path.join(media, 'plain.flac'), 500, 0.5, {});
  makeFlac(path.join(albumDir, '01.flac'), 350, 0.4, { track: '-6.00 dB', trackPeak: '0.4', album: '-3.00 dB', albumPeak: '0.45', albumName: 'Suite', trackNo: '1' });
  makeFlac(path.join(albumDir, '02.flac'), 620, 0.45, { track: '-9.00 dB', trackPeak: '0.45', album: '-3.00 dB', albumPeak: '0.45', albumName: 'Suite', trackNo: '2' });
  library = new Library({ home: path.join(home.paths.home, 'lib'), watch: false });
  library.addRoot(albumDir);
  await library.idle();
  control = await startControl(home);
  engine = (await createPlayerEngine({ control, paths: home.paths, dspChain: [], log: () => {}, libraryInfo: (p) => library.replayGainInfo(p) })) as StellaPlayerEngine;
});

afterAll(async () => {
  await engine?.close();
  await control?.close();
  await library?.close();
  home?.cleanup();
});

/** Plays `files` in order with `settings` into a wav-sink recording and returns its samples. */
async function record(files: string[], settings: Partial<ReplayGainSettings>): Promise<Float32Array> {
  const out = path.join(media, `out-${Date.now()}.wav`);
  engine.setReplayGain({ ...DEFAULT_REPLAY_GAIN, ...settings });
  await engine.setOutput({ kind: 'plugin', pluginId: 'dev.stellatune.wav-sink', typeId: 'wav-file', target: { id: out, name: 'test', file: out }, sampleRate: 44100 });
  engine.queueClear();
  engine.queueAdd(files.map((f) => ({ source: { kind: 'file' as const, path: f }, title: path.basename(f) })));
  await engine.play(0);
  await nextEvent(engine, 'ended', 20_000);
  await engine.setOutput({ kind: 'portaudio', deviceId: null, bufferFrames: 512 }); // closes the recording
  const got = readWav(out);
  expect(got.channels).toBe(2);
  return got.samples;
}

function rms(a: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (a[i] as number) ** 2;
  return Math.sqrt(s / Math.max(1, to - from));
}

/** The gain of `got[offset…]` against `ref`, in dB (RMS ratio), skipping `skip` samples at the start. */
function gainDb(got: Float32Array, offset: number, ref: Float32Array, skip = 0): number {
  const n = ref.length - skip;
  return 20 * Math.log10(rms(got.subarray(offset + skip, offset + ref.length), 0, n) / rms(ref.subarray(skip), 0, n));
}

function peakOf(a: Float32Array): number {
  let p = 0;
  for (const v of a) p = Math.max(p, Math.abs(v));
  return p;
}

const ref = (f: string): Float32Array => refs.get(f) as Float32Array;

describe('ReplayGain', () => {
  it('applies the tagged track gain within 0.01 dB, from the first sample; off leaves the audio untouched', async () => {
    const f = path.join(media, 't6.flac');
    const got = await record([f], { mode: 'track' });
    expect(got.length).toBe(ref(f).length);
    expect(Math.abs(gainDb(got, 0, ref(f)) - -6)).toBeLessThan(0.01);
    // The first samples already play at the gain (a flush starts at the new gain, no ramp).
    const g = Math.pow(10, -6 / 20);
    for (let i = 0; i < 64; i++) expect(Math.abs((got[i] as number) - (ref(f)[i] as number) * g)).toBeLessThan(1e-6);
    const off = await record([f], { mode: 'off' });
    expect(Math.abs(gainDb(off, 0, ref(f)))).toBeLessThan(0.001);
    // The preamp adds to a tagged gain.
    const pre = await record([f], { mode: 'track', preampDb: 2.5 });
    expect(Math.abs(gainDb(pre, 0, ref(f)) - -3.5)).toBeLessThan(0.01);
  });

  it('never clips when the peak says it would: the gain is limited to 1 / peak', async () => {
    const f = path.join(media, 'loud.flac');
    const peak = peakOf(ref(f));
    expect(peak).toBeGreaterThan(0.4);
    // The file says +12 dB with its real peak (rounded up, as taggers write six decimals): +12 dB
    // would take it far past full scale.
    const tagPeak = Math.ceil(peak * 1e6) / 1e6;
    const tagged = path.join(media, 'loud-peak.flac');
    ffmpeg('-i', f, '-metadata', `REPLAYGAIN_TRACK_PEAK=${tagPeak.toFixed(6)}`, '-c:a', 'copy', tagged);
    const got = await record([tagged], { mode: 'track' });
    expect(peakOf(got)).toBeLessThanOrEqual(1.0);
    expect(peakOf(got)).toBeGreaterThan(0.999); // limited to full scale, not below it
    expect(Math.abs(gainDb(got, 0, ref(f)) - -20 * Math.log10(tagPeak))).toBeLessThan(0.01);
    // Without clipping prevention the tag's +12 dB stands (and the float output goes past 1).
    const unlimited = await record([tagged], { mode: 'track', preventClipping: false });
    expect(Math.abs(gainDb(unlimited, 0, ref(f)) - 12)).toBeLessThan(0.01);
    expect(peakOf(unlimited)).toBeGreaterThan(1.0);
  });

  it('plays an untagged file at the default gain (the preamp is for tagged files)', async () => {
    const f = path.join(media, 'plain.flac');
    const got = await record([f], { mode: 'track', preampDb: 4, untaggedDb: -3 });
    expect(Math.abs(gainDb(got, 0, ref(f)) - -3)).toBeLessThan(0.01);
  });

  it('album vs track: auto uses album gain while the album plays in order; the gain switches at the join', async () => {
    const a = path.join(albumDir, '01.flac');
    const b = path.join(albumDir, '02.flac');
    const join = ref(a).length;
    // In order: both at the album's -3 dB.
    const inOrder = await record([a, b], { mode: 'auto' });
    expect(inOrder.length).toBe(join + ref(b).length);
    expect(Math.abs(gainDb(inOrder, 0, ref(a)) - -3)).toBeLessThan(0.01);
    expect(Math.abs(gainDb(inOrder, join, ref(b)) - -3)).toBeLessThan(0.01);
    // Backwards is not the album in order: track gains.
    const backwards = await record([b, a], { mode: 'auto' });
    expect(Math.abs(gainDb(backwards, 0, ref(b)) - -9)).toBeLessThan(0.01);
    expect(Math.abs(gainDb(backwards, ref(b).length, ref(a)) - -6)).toBeLessThan(0.01);
    // Album mode uses the album gain whatever the order.
    const album = await record([b, a], { mode: 'album' });
    expect(Math.abs(gainDb(album, 0, ref(b)) - -3)).toBeLessThan(0.01);
    // Track mode: -6 then -9, switching at the join sample (gapless), ramped over 64 frames.
    const track = await record([a, b], { mode: 'track' });
    expect(track.length).toBe(join + ref(b).length);
    const ga = Math.pow(10, -6 / 20);
    const gb = Math.pow(10, -9 / 20);
    let before = 0;
    for (let i = join - 2000; i < join; i++) before = Math.max(before, Math.abs((track[i] as number) - (ref(a)[i] as number) * ga));
    let after = 0;
    for (let i = 128; i < 2128; i++) after = Math.max(after, Math.abs((track[join + i] as number) - (ref(b)[i] as number) * gb));
    expect(before).toBeLessThan(1e-6);
    expect(after).toBeLessThan(1e-6);
    // Within the ramp each sample lies between the two gains' values.
    for (let i = 0; i < 128; i++) {
      const r = ref(b)[i] as number;
      const v = track[join + i] as number;
      expect(Math.abs(v)).toBeLessThanOrEqual(Math.abs(r) * ga + 1e-6);
      expect(Math.abs(v)).toBeGreaterThanOrEqual(Math.abs(r) * gb - 1e-6);
    }
    expect(Math.abs(gainDb(track, join, ref(b), 256) - -9)).toBeLessThan(0.01);
  });

  it("a library track plays at the library's values, before the decoder's", async () => {
    // Retag the file after the scan (no rescan): the library still says -6 dB, the file -1 dB.
    const a = path.join(albumDir, '01.flac');
    const retagged = path.join(media, 'retag.flac');
    ffmpeg('-i', a, '-metadata', 'REPLAYGAIN_TRACK_GAIN=-1.00 dB', '-c:a', 'copy', retagged);
    fs.copyFileSync(retagged, a);
    expect(library.replayGainInfo(a)?.tags.trackGainDb).toBe(-6);
    const got = await record([a], { mode: 'track' });
    expect(Math.abs(gainDb(got, 0, ref(a)) - -6)).toBeLessThan(0.01);
    // Outside the library the decoder's tag is what there is.
    const got2 = await record([retagged], { mode: 'track' });
    expect(Math.abs(gainDb(got2, 0, ref(a)) - -1)).toBeLessThan(0.01);
  });
});
