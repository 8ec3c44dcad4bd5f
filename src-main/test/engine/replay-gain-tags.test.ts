// ReplayGain tags as the decoders report them in get_metadata_json: the libsndfile decoder reads
// them from the file's own tag block (FLAC and Ogg comments, ID3v2 TXXX), which libsndfile's
// string API does not expose; the FFmpeg decoder passes libavformat's tags through (APE in
// WavPack, Matroska, MP4 ----:com.apple.iTunes freeform atoms). Media written by ffmpeg at test time.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFileStream, openFileStream } from '../../plugins/host-lib.js';
import { createInstance } from '../../plugins/instances.js';
import { PluginGeneration } from '../../plugins/library.js';
import { replayGainFromDecoderMetadata } from '../../../src-shared/replay-gain.js';
import { builtinPluginDir } from '../paths.js';
import { ffmpeg, makeHome, sox, type EngineHome } from './helpers.js';

let home: EngineHome;
let media: string;
const gens = new Map<string, PluginGeneration>();

beforeAll(() => {
  home = makeHome();
  media = path.join(home.paths.home, 'media');
  fs.mkdirSync(media);
  let leaseId = 1;
  for (const lib of ['sndfile-decoder', 'ffmpeg-decoder']) {
    gens.set(lib, PluginGeneration.load(path.join(builtinPluginDir, `${lib}.so`), { shadowDir: home.paths.shadow, dataRoot: home.paths.pluginData, leaseId: leaseId++ }));
  }
  const src = path.join(media, 'src.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', src, 'synth', '0.3', 'sine', '440', 'vol', '0.3');
  const tags = ['-metadata', 'REPLAYGAIN_TRACK_GAIN=-6.50 dB', '-metadata', 'REPLAYGAIN_TRACK_PEAK=0.316', '-metadata', 'REPLAYGAIN_ALBUM_GAIN=-4.25 dB', '-metadata', 'REPLAYGAIN_ALBUM_PEAK=0.5'];
  ffmpeg('-i', src, ...tags, path.join(media, 'a.flac'));
  ffmpeg('-i', src, ...tags, '-c:a', 'libvorbis', path.join(media, 'a.ogg'));
  ffmpeg('-i', src, ...tags, '-c:a', 'libmp3lame', path.join(media, 'a.mp3'));
  ffmpeg('-i', src, ...tags, '-id3v2_version', '3', '-c:a', 'libmp3lame', path.join(media, 'a23.mp3'));
  ffmpeg('-i', src, '-metadata', 'R128_TRACK_GAIN=-1280', '-c:a', 'libopus', path.join(media, 'a.opus'));
  ffmpeg('-i', src, ...tags, '-c:a', 'wavpack', path.join(media, 'a.wv'));
  ffmpeg('-i', src, ...tags, '-c:a', 'flac', path.join(media, 'a.mka'));
  // A FLAC whose Vorbis comment comes after 40 KiB of other metadata (as after a large cover):
  // past the decoder's 16 KiB prefix.
  const flac = fs.readFileSync(path.join(media, 'a.flac'));
  const streaminfoEnd = 4 + 4 + 34;
  const padding = Buffer.alloc(4 + 40_000);
  padding[0] = 1; // PADDING, not the last block
  padding.writeUIntBE(40_000, 1, 3);
  fs.writeFileSync(path.join(media, 'late.flac'), Buffer.concat([flac.subarray(0, streaminfoEnd), padding, flac.subarray(streaminfoEnd)]));
  // MP4: iTunes-style freeform atoms (----:com.apple.iTunes:replaygain_*), which ffmpeg's muxer
  // does not write; added to the ilst of an ALAC file here (its moov comes after mdat, so no
  // chunk offset moves).
  const m4a = path.join(media, 'plain.m4a');
  ffmpeg('-i', src, '-metadata', 'title=x', '-c:a', 'alac', m4a);
  fs.writeFileSync(path.join(media, 'a.m4a'), withFreeformAtoms(fs.readFileSync(m4a), {
    replaygain_track_gain: '-6.50 dB', replaygain_track_peak: '0.316', replaygain_album_gain: '-4.25 dB', replaygain_album_peak: '0.5',
  }));
});

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

function withFreeformAtoms(file: Buffer, tags: Record<string, string>): Buffer {
  const zero4 = Buffer.alloc(4);
  const atoms = Object.entries(tags).map(([name, value]) =>
    box('----', box('mean', zero4, Buffer.from('com.apple.iTunes')), box('name', zero4, Buffer.from(name)), box('data', Buffer.from([0, 0, 0, 1]), zero4, Buffer.from(value))),
  );
  const extra = Buffer.concat(atoms);
  // Path to ilst: moov > udta > meta (a full box: 4 bytes before its children) > ilst.
  const find = (buf: Buffer, from: number, to: number, type: string): number => {
    for (let at = from; at + 8 <= to; at += buf.readUInt32BE(at)) if (buf.toString('latin1', at + 4, at + 8) === type) return at;
    throw new Error(`no ${type} box`);
  };
  const moov = find(file, 0, file.length, 'moov');
  const udta = find(file, moov + 8, moov + file.readUInt32BE(moov), 'udta');
  const meta = find(file, udta + 8, udta + file.readUInt32BE(udta), 'meta');
  const ilst = find(file, meta + 12, meta + file.readUInt32BE(meta), 'ilst');
  const out = Buffer.from(file);
  for (const at of [moov, udta, meta, ilst]) out.writeUInt32BE(out.readUInt32BE(at) + extra.length, at);
  const end = ilst + file.readUInt32BE(ilst);
  return Buffer.concat([out.subarray(0, end), extra, out.subarray(end)]);
}

afterAll(async () => {
  for (const g of gens.values()) await g.unload();
  home?.cleanup();
});

function metadataOf(lib: string, typeId: string, file: string): Record<string, unknown> {
  const stream = openFileStream(file);
  const dec = createInstance(gens.get(lib) as PluginGeneration, 'decoder', typeId, '{}');
  try {
    dec.open(stream, { path: file, ext: path.extname(file).slice(1) });
    return JSON.parse(dec.metadataJson()) as Record<string, unknown>;
  } finally {
    dec.destroy();
    closeFileStream(stream);
  }
}

const full = { trackGainDb: -6.5, trackPeak: 0.316, albumGainDb: -4.25, albumPeak: 0.5 };

describe('ReplayGain in decoder metadata', () => {
  it.each(['a.flac', 'late.flac', 'a.ogg', 'a.mp3', 'a23.mp3'])('sndfile-decoder reports the tags of %s', (name) => {
    expect(replayGainFromDecoderMetadata(metadataOf('sndfile-decoder', 'sndfile', path.join(media, name)))).toEqual(full);
  });

  it('sndfile-decoder reports R128_TRACK_GAIN of an Opus file (as ReplayGain: +5 dB)', () => {
    const meta = metadataOf('sndfile-decoder', 'sndfile', path.join(media, 'a.opus'));
    expect(replayGainFromDecoderMetadata(meta).trackGainDb).toBe(0);
  });

  it.each(['a.wv', 'a.mka', 'a.m4a'])('ffmpeg-decoder reports the tags of %s', (name) => {
    expect(replayGainFromDecoderMetadata(metadataOf('ffmpeg-decoder', 'ffmpeg', path.join(media, name)))).toEqual(full);
  });

  it('an untagged file reports none', () => {
    const meta = metadataOf('sndfile-decoder', 'sndfile', path.join(media, 'src.wav'));
    expect(replayGainFromDecoderMetadata(meta)).toEqual({ trackGainDb: null, trackPeak: null, albumGainDb: null, albumPeak: null });
  });

  it.each(['a.flac', 'late.flac', 'a.mp3'])('the tag scan leaves the stream where libsndfile expects it: %s decodes whole', (name) => {
    const file = path.join(media, name);
    const stream = openFileStream(file);
    const dec = createInstance(gens.get('sndfile-decoder') as PluginGeneration, 'decoder', 'sndfile', '{}');
    try {
      dec.open(stream, { path: file, ext: path.extname(name).slice(1) });
      const buf = new Float32Array(4096 * 2);
      let frames = 0;
      for (let n = dec.read(buf, 4096); n > 0; n = dec.read(buf, 4096)) frames += n;
      expect(frames).toBe(Math.round(0.3 * 44100));
    } finally {
      dec.destroy();
      closeFileStream(stream);
    }
  });
});
