// The ffmpeg-decoder plugin through the host's real path: loaded with koffi, fed by the host's file
// io table (libstellatune_host), compared with the PCM source (lossless formats: bit-exact) or with
// the ffmpeg CLI's decode of the same file (lossy formats). Plus exact seeks, a gapless AAC album,
// tags and covers, broken files, decoder choice by content, and the mutation run in child
// processes (ffmpeg_decoder_fuzz; STELLATUNE_FUZZ_FULL=1 for 500 mutations of each format).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFileStream, type FileStream, openFileStream } from '../../plugins/host-lib.js';
import { decoderCandidates, openByContent, rankDecoders, readStreamHead } from '../../plugins/decoder-choice.js';
import { createInstance, type DecoderInfo, type DecoderInstance } from '../../plugins/instances.js';
import { PluginGeneration } from '../../plugins/library.js';
import { ffmpeg, makeHome, referencePcm, sox, type EngineHome } from '../engine/helpers.js';
import { builtinPluginDir, fixturePlugin, toolDir } from '../paths.js';
import { hasCommand, makeCorpus, type MediaFile } from './ffmpeg-media.js';

let home: EngineHome;
let media: string;
let corpus: MediaFile[];
let ffGen: PluginGeneration;
let sfGen: PluginGeneration;
let fxGen: PluginGeneration;

beforeAll(() => {
  home = makeHome();
  media = path.join(home.paths.home, 'media');
  corpus = makeCorpus(media, 3);
  const load = (file: string, leaseId: number): PluginGeneration =>
    PluginGeneration.load(file, { shadowDir: home.paths.shadow, dataRoot: home.paths.pluginData, leaseId });
  ffGen = load(path.join(builtinPluginDir, 'ffmpeg-decoder.so'), 1);
  sfGen = load(path.join(builtinPluginDir, 'sndfile-decoder.so'), 2);
  fxGen = load(fixturePlugin, 3);
}, 120_000);

afterAll(async () => {
  await ffGen?.unload();
  await sfGen?.unload();
  await fxGen?.unload();
  home?.cleanup();
});

const byName = (name: string): MediaFile => {
  const m = corpus.find((c) => c.name === name);
  if (!m) throw new Error(`${name} was not generated`);
  return m;
};

interface Opened {
  dec: DecoderInstance;
  info: DecoderInfo;
  close: () => void;
}

function open(file: string, gen = ffGen, typeId = 'ffmpeg'): Opened {
  const stream = openFileStream(file);
  const dec = createInstance(gen, 'decoder', typeId, '{}');
  try {
    dec.open(stream, { path: file, ext: path.extname(file).slice(1) });
  } catch (err) {
    dec.destroy();
    closeFileStream(stream);
    throw err;
  }
  return {
    dec,
    info: dec.info(),
    close: () => {
      dec.destroy();
      closeFileStream(stream);
    },
  };
}

/** Reads to the end (or the first error, returned beside the samples). */
function readAll(dec: DecoderInstance, channels: number, block = 4096): { pcm: Float32Array; error: unknown } {
  const buf = new Float32Array(block * channels);
  const parts: Float32Array[] = [];
  let total = 0;
  let error: unknown = null;
  for (;;) {
    let n: number;
    try {
      n = dec.read(buf, block);
    } catch (err) {
      error = err;
      break;
    }
    if (n === 0) break;
    parts.push(buf.slice(0, n * channels));
    total += n * channels;
  }
  const pcm = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    pcm.set(p, off);
    off += p.length;
  }
  return { pcm, error };
}

function decodeFile(file: string): { pcm: Float32Array; info: DecoderInfo; meta: Record<string, unknown> } {
  const o = open(file);
  try {
    const { pcm, error } = readAll(o.dec, o.info.channels);
    if (error) throw error;
    return { pcm, info: o.info, meta: JSON.parse(o.dec.metadataJson()) as Record<string, unknown> };
  } finally {
    o.close();
  }
}

function rms(a: Float32Array, b: Float32Array, from = 0, to = Math.min(a.length, b.length)): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum / Math.max(1, to - from));
}

function firstMismatch(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('ffmpeg-decoder: lossless formats decode bit-exact against the source', () => {
  for (const name of ['alac.m4a', 'alac24.m4a', 'alac.caf', 'a.wv', 'b24.wv', 'a.tta', 'flac.mka', 'a.ape']) {
    it(name, ({ skip }) => {
      if (name === 'a.ape' && !hasCommand('jmac')) skip('no APE encoder (apt-get install libjmac-java default-jre-headless)');
      const m = byName(name);
      const { pcm, info } = decodeFile(m.file);
      const src = referencePcm(m.source);
      expect(info.lossless).toBe(true);
      // CAF's header counts whole ALAC packets (the last one is shorter): an estimate there.
      if (name.endsWith('.caf')) expect(Math.abs((info.durationFrames ?? 0) - src.length / info.channels)).toBeLessThan(4096);
      else expect(info.durationFrames).toBe(src.length / info.channels);
      expect(pcm.length).toBe(src.length);
      expect(firstMismatch(pcm, src)).toBe(-1);
    });
  }
});

describe('ffmpeg-decoder: lossy formats match the ffmpeg CLI decode', () => {
  // AAC/MP4 is shorter than the CLI's output: the CLI keeps the encoder padding, this decoder
  // trims it (the edit list's length); it is compared over its own length.
  for (const name of ['aac.m4a', 'a.wma', 'a.mpc', 'ac3.mka', 'eac3.mka', 'dts.mka', 'opus.webm', 'a.dsf', 'a.dff']) {
    it(name, ({ skip }) => {
      if (name === 'a.mpc' && !hasCommand('mpcenc')) skip('no Musepack encoder (apt-get install musepack-tools)');
      const m = byName(name);
      const { pcm, info } = decodeFile(m.file);
      const ref = referencePcm(m.file);
      expect(info.lossless).toBe(false);
      expect(pcm.length).toBeGreaterThan(ref.length * 0.95);
      expect(pcm.length).toBeLessThanOrEqual(ref.length);
      expect(rms(pcm, ref)).toBeLessThan(1e-4);
    });
  }

  it('aac.m4a: the edit list is applied, so the decode lines up with the source to the sample', () => {
    const m = byName('aac.m4a');
    const { pcm, info } = decodeFile(m.file);
    const src = referencePcm(m.source);
    expect(pcm.length).toBe(src.length);
    expect(info.encoderDelayFrames).toBe(1024);
    expect(info.encoderPaddingFrames).toBeGreaterThan(0);
    // Aligned, the error is codec noise; one frame of misalignment would make it the signal.
    const lagged = (lag: number): number => {
      let s = 0;
      for (let i = 20000; i < 60000; i++) s += ((pcm[i] as number) - (src[i + lag * 2] as number)) ** 2;
      return Math.sqrt(s / 40000);
    };
    expect(lagged(0)).toBeLessThan(0.05);
    for (const lag of [-1024, -1, 1, 1024]) expect(lagged(lag)).toBeGreaterThan(lagged(0) * 2);
  });
});

describe('ffmpeg-decoder: seeks land on the requested frame', () => {
  // Where the decode from the start is deterministic, the audio after a seek equals it; AC-3
  // dithers with a random generator, so there the check is that the audio lines up (its error
  // at the right offset is far below the error one frame off).
  const dithered = new Set(['ac3.mka']);
  for (const name of ['alac.m4a', 'a.wv', 'a.tta', 'flac.mka', 'a.ape', 'aac.m4a', 'a.wma', 'a.mpc', 'ac3.mka', 'a.dsf']) {
    it(name, ({ skip }) => {
      if (!corpus.some((c) => c.name === name)) skip(`${name} has no encoder here`);
      const m = byName(name);
      const full = decodeFile(m.file);
      const ch = full.info.channels;
      const seconds = full.pcm.length / ch / full.info.sampleRate;
      const o = open(m.file);
      try {
        for (const ms of [0.24, 0.5, 0.87].map((f) => Math.round(f * seconds * 1000) + 1)) {
          const frame = o.dec.seekMs(ms);
          expect(frame).toBe(Math.round((ms * full.info.sampleRate) / 1000));
          const { pcm, error } = readAll(o.dec, ch, 1000);
          expect(error).toBeNull();
          const want = full.pcm.subarray(frame * ch);
          expect(pcm.length).toBe(want.length);
          if (m.lossless) expect(firstMismatch(pcm, want)).toBe(-1);
          else if (!dithered.has(name)) expect(rms(pcm, want)).toBeLessThan(1e-5);
          else {
            const at = rms(pcm, want);
            expect(at).toBeLessThan(0.02);
            expect(rms(pcm.subarray(ch), want)).toBeGreaterThan(at * 2);
          }
        }
      } finally {
        o.close();
      }
    });
  }
});

describe('ffmpeg-decoder: gapless', () => {
  it('an AAC album cut from one continuous source plays joined, without a gap', () => {
    // 9 s of tones (no noise: the error at a join should be the codec's, and small), cut at frames
    // that are no multiple of the AAC frame size. The cuts are on 10 ms boundaries: ffmpeg 5.1's
    // MP4 muxer rounds the last packet's duration to the millisecond, which would write an edit
    // list a few samples short of the cut into the file itself.
    const dir = path.join(media, 'album');
    fs.mkdirSync(dir, { recursive: true });
    const src = path.join(dir, 'continuous.wav');
    sox('-R', '-n', '-r', '44100', '-c', '2', '-b', '16', src, 'synth', '9', 'sine', '220-1760', 'sine', '660', 'vol', '0.4');
    const cuts = [0, 133_182, 264_600, 396_900];
    const tracks = cuts.slice(0, -1).map((start, i) => {
      const file = path.join(dir, `0${i + 1}.m4a`);
      ffmpeg('-i', src, '-af', `atrim=start_sample=${start}:end_sample=${cuts[i + 1]},asetpts=PTS-STARTPTS`, '-c:a', 'aac', '-aac_pns', '0', '-b:a', '256k', file);
      return file;
    });
    const source = referencePcm(src);
    const joined: Float32Array[] = [];
    for (const [i, file] of tracks.entries()) {
      const d = decodeFile(file);
      expect(d.info.encoderDelayFrames).toBe(1024);
      expect(d.pcm.length / 2).toBe((cuts[i + 1] as number) - (cuts[i] as number));
      expect((d.meta.gapless as { encoder_padding: number }).encoder_padding).toBe(d.info.encoderPaddingFrames);
      joined.push(d.pcm);
    }
    const all = new Float32Array(source.length);
    let off = 0;
    for (const p of joined) {
      all.set(p, off);
      off += p.length;
    }
    expect(off).toBe(source.length);
    // At each join the audio lines up with the continuous source to the sample: over the 6000
    // frames after the join, the error is smallest at offset 0 (codec noise: measured 0.002 and
    // 0.016 here), larger one or two frames off, and many times larger 17 or 1024 frames off (a
    // gap, or an untrimmed priming frame). Around the join
    // (±2048 frames) the error stays a codec's: each track was encoded on its own, so the
    // encoder saw a hard onset there, but nothing like the signal itself (a gap or a jump).
    const signal = rms(source, new Float32Array(source.length));
    const lagError = (cut: number, lag: number): number => {
      let sum = 0;
      for (let i = 2 * (cut + 2048); i < 2 * (cut + 8048); i++) sum += ((all[i] as number) - (source[i + 2 * lag] as number)) ** 2;
      return Math.sqrt(sum / 12000);
    };
    for (const cut of cuts.slice(1, -1)) {
      const at = lagError(cut, 0);
      expect(at).toBeLessThan(0.03);
      for (const lag of [-2, -1, 1, 2]) expect(lagError(cut, lag)).toBeGreaterThan(at * 1.5);
      for (const lag of [-1024, -17, 17, 1024]) expect(lagError(cut, lag)).toBeGreaterThan(at * 10);
      expect(rms(all, source, 2 * (cut - 2048), 2 * (cut + 2048))).toBeLessThan(signal * 0.25);
    }
  });

  it('MP3: the LAME header delay and padding are trimmed and reported', () => {
    const wav = byName('alac.m4a').source;
    const mp3 = path.join(media, 'lame.mp3');
    ffmpeg('-i', wav, '-c:a', 'libmp3lame', '-b:a', '192k', mp3);
    const d = decodeFile(mp3);
    expect(d.pcm.length).toBe(referencePcm(wav).length);
    expect(d.info.encoderDelayFrames).toBe(1105); // LAME's 576 + the decoder's 529
    expect(d.info.encoderPaddingFrames).toBeGreaterThan(0);
    expect(d.info.durationFrames).toBe(d.pcm.length / 2);
  });
});

describe('ffmpeg-decoder: tags and covers', () => {
  it('reports tags, codec details and the embedded cover of an M4A', () => {
    const cover = path.join(media, 'cover.png');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=teal:s=32x24', '-frames:v', '1', cover);
    const file = path.join(media, 'covered.m4a');
    ffmpeg('-i', byName('alac.m4a').source, '-i', cover, '-map', '0:a', '-map', '1:v', '-c:a', 'alac', '-c:v', 'copy',
      '-disposition:v', 'attached_pic', '-metadata', 'title=Cover Song', '-metadata', 'artist=Ärtist', '-metadata', 'album_artist=Various',
      '-metadata', 'track=3/9', '-metadata', 'date=2020', file);
    const o = open(file);
    try {
      const meta = JSON.parse(o.dec.metadataJson()) as { codec: string; container: string; bits_per_sample: number;
        tags: Record<string, string>; cover: { mime_type: string; width: number; height: number; data_base64: string } };
      expect(meta.codec).toBe('alac');
      expect(meta.container).toBe('mov');
      expect(meta.bits_per_sample).toBe(16);
      expect(meta.tags).toMatchObject({ title: 'Cover Song', artist: 'Ärtist', album_artist: 'Various', track: '3/9', date: '2020' });
      expect(meta.cover.mime_type).toBe('image/png');
      expect([meta.cover.width, meta.cover.height]).toEqual([32, 24]);
      expect(Buffer.from(meta.cover.data_base64, 'base64').equals(fs.readFileSync(cover))).toBe(true);
      // The cover is not decoded as audio.
      expect(o.info.channels).toBe(2);
    } finally {
      o.close();
    }
  });

  it('reads WavPack (APEv2) and Matroska tags', () => {
    expect(decodeFile(byName('a.wv').file).meta.tags).toMatchObject({ title: 'Tëst Title', artist: 'The Artist', album: 'An Album' });
    expect(decodeFile(byName('flac.mka').file).meta.tags).toMatchObject({ title: 'Tëst Title', album: 'An Album' });
  });
});

describe('ffmpeg-decoder: broken files', () => {
  function truncated(file: string, fraction: number): string {
    const bytes = fs.readFileSync(file);
    const out = path.join(media, `trunc-${path.basename(file)}`);
    fs.writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
    return out;
  }

  // MP4 as iTunes writes it (the index in front); with the index at the end, a cut-off M4A has no
  // index at all and is refused at open (below).
  function faststart(name: string): string {
    const out = path.join(media, `fs-${name}`);
    ffmpeg('-i', byName(name).file, '-c', 'copy', '-movflags', '+faststart', out);
    return out;
  }

  for (const name of ['alac.m4a', 'aac.m4a', 'a.wv', 'flac.mka', 'a.tta']) {
    it(`a truncated ${name} plays its decodable part, then ends with a decode error`, () => {
      const file = name.endsWith('.m4a') ? faststart(name) : byName(name).file;
      const o = open(truncated(file, 0.6));
      try {
        const { pcm, error } = readAll(o.dec, o.info.channels);
        const full = decodeFile(byName(name).file).pcm;
        expect(pcm.length).toBeGreaterThan(full.length * 0.3); // a TTA frame is a second long
        expect(pcm.length).toBeLessThan(full.length);
        // What was decoded is the file's own audio, not noise.
        expect(rms(pcm, full, 0, Math.floor(pcm.length * 0.9))).toBeLessThan(1e-4);
        expect(error).toMatchObject({ statusName: 'decode' });
      } finally {
        o.close();
      }
    });
  }

  it('refuses an M4A cut off before its index with a structured decode error', () => {
    expect(() => open(truncated(byName('alac.m4a').file, 0.6))).toThrowError(expect.objectContaining({ statusName: 'decode' }) as Error);
  });

  it('refuses garbage and an empty file with a structured decode error', () => {
    const junk = path.join(media, 'junk.m4a');
    fs.writeFileSync(junk, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + 13) & 0xff)));
    const empty = path.join(media, 'empty.wv');
    fs.writeFileSync(empty, '');
    for (const f of [junk, empty]) expect(() => open(f)).toThrowError(expect.objectContaining({ statusName: 'decode' }) as Error);
  });

  it(`survives mutations of every format in child processes (no crash, no hang over 2 s)`, () => {
    const full = process.env.STELLATUNE_FUZZ_FULL === '1';
    const count = full ? 500 : 25;
    // 1-second files keep each child short; the seed is fixed so a failure replays.
    const dir = path.join(media, 'fuzz');
    const files = makeCorpus(dir, 1).filter((m) => !['alac24.m4a', 'b24.wv'].includes(m.name)).map((m) => m.file);
    const r = spawnSync(path.join(toolDir, 'ffmpeg_decoder_fuzz'), [path.join(builtinPluginDir, 'ffmpeg-decoder.so'), '12', String(count), ...files], {
      encoding: 'utf8',
      timeout: full ? 900_000 : 100_000,
    });
    expect(r.stderr.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes(`${count} mutations, 0 failures`)).length).toBe(files.length);
  }, 1_000_000);
});

describe('decoder choice by content', () => {
  const gens = (): PluginGeneration[] => [sfGen, ffGen, fxGen];

  function choose(file: string, ext = path.extname(file).slice(1)): { decoder: string; order: string[] } {
    const stream: FileStream = openFileStream(file);
    try {
      const opened = openByContent(
        stream,
        decoderCandidates(gens(), ext),
        ext,
        (c) => createInstance(c.gen, 'decoder', c.typeId, '{}'),
        (dec) => {
          dec.open(stream, { path: file, ext });
          return dec.info();
        },
        (c) => c.typeId,
      );
      const order = opened.tried.map((t) => t.cand.typeId);
      opened.decoder.destroy();
      return { decoder: opened.cand.typeId, order };
    } finally {
      closeFileStream(stream);
    }
  }

  function copyAs(src: string, name: string): string {
    const out = path.join(media, 'choice', name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(src, out);
    return out;
  }

  it('opens a FLAC named .mp3 with the FLAC reader, and an M4A without an extension with ffmpeg', () => {
    const flac = path.join(media, 'x.flac');
    sox('-R', byName('alac.m4a').source, flac);
    expect(choose(copyAs(flac, 'song.mp3'))).toEqual({ decoder: 'sndfile', order: ['sndfile'] });
    expect(choose(copyAs(byName('alac.m4a').file, 'track'), '')).toEqual({ decoder: 'ffmpeg', order: ['ffmpeg'] });
    expect(choose(copyAs(byName('aac.m4a').file, 'aac.bin'), 'bin').decoder).toBe('ffmpeg');
    expect(choose(copyAs(flac, 'noext'), '').decoder).toBe('sndfile');
  });

  it('keeps libsndfile the default for what it decodes exactly, whatever the name', () => {
    const wav = byName('alac.m4a').source;
    const mp3 = path.join(media, 'y.mp3');
    ffmpeg('-i', wav, '-c:a', 'libmp3lame', mp3);
    expect(choose(wav).decoder).toBe('sndfile');
    expect(choose(copyAs(wav, 'wave.m4a')).decoder).toBe('sndfile');
    expect(choose(copyAs(mp3, 'mislabelled.wv')).decoder).toBe('sndfile');
    // CAF: libsndfile reads its PCM, ffmpeg its ALAC.
    const pcmCaf = path.join(media, 'pcm.caf');
    ffmpeg('-i', wav, '-c:a', 'pcm_s16be', pcmCaf);
    expect(choose(pcmCaf).decoder).toBe('sndfile');
    expect(choose(byName('alac.caf').file).decoder).toBe('ffmpeg');
  });

  it('ranks by probe score, extension score on ties; a plugin without the probe slot counts as neutral', () => {
    const wav = byName('alac.m4a').source;
    const stream = openFileStream(wav);
    try {
      const head = readStreamHead(stream);
      expect(Buffer.from(head!.subarray(0, 4)).toString('latin1')).toBe('RIFF');
      const entries = decoderCandidates(gens(), 'wav').map((cand) => ({ cand, decoder: createInstance(cand.gen, 'decoder', cand.typeId, '{}') }));
      const { ranked, dropped } = rankDecoders(entries, head, 'wav');
      expect(dropped).toEqual([]);
      expect(ranked.map((r) => [r.cand.typeId, r.probeScore, r.probed])).toEqual([
        ['sndfile', 100, true],
        ['fixture-decoder', 50, false], // built with the first ABI 9 layout: no probe slot
        ['ffmpeg', 40, true],
      ]);
      for (const e of entries) e.decoder.destroy();
    } finally {
      closeFileStream(stream);
    }
  });

  it('still tries a decoder whose extension matches when every probe says no, and names each attempt', () => {
    const junk = copyAs(byName('alac.m4a').source, 'broken.wav');
    fs.writeFileSync(junk, Buffer.alloc(4096, 0x55));
    const failure = ((): Error & { tried?: { cand: { typeId: string } }[] } => {
      try {
        choose(junk);
      } catch (e) {
        return e as Error;
      }
      throw new Error('a file of junk opened');
    })();
    expect(failure.message).toMatch(/sndfile/);
    expect(failure.tried?.map((t) => t.cand.typeId).sort()).toEqual(['ffmpeg', 'fixture-decoder', 'sndfile']);
  });
});
