// Test media for the ffmpeg-decoder tests, made at test setup from synthesised sources (nothing is
// committed): ffmpeg's encoders where Debian's ffmpeg has one (ALAC, WavPack, TTA, FLAC, AAC,
// WMA v2, AC-3, E-AC-3, DTS, Opus), Debian's jmac (libjmac-java) for Monkey's Audio, Debian's
// mpcenc (musepack-tools) for Musepack SV8, and src-main/tools/dsd-media.ts for DSF/DSDIFF.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeDff, writeDsf } from '../../tools/dsd-media.js';
import { ffmpeg, sox } from '../engine/helpers.js';

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export interface MediaFile {
  name: string;
  file: string;
  /** The PCM source it was encoded from (lossless formats decode to exactly this). */
  source: string;
  lossless: boolean;
}

/** Monkey's Audio from a WAV, with Debian's jmac (Java). */
export function encodeApe(wav: string, out: string): void {
  execFileSync('jmac', ['c2', wav, out], { stdio: 'pipe' });
}

/** Musepack SV8 from a WAV, with Debian's mpcenc. */
export function encodeMpc(wav: string, out: string): void {
  execFileSync('mpcenc', ['--silent', '--overwrite', wav, out], { stdio: 'pipe' });
}

/**
 * Writes the corpus into `dir`: every format of the issue from `seconds` of a 44.1 kHz stereo
 * 16-bit source (a chord over noise, so every sample differs), plus a 24-bit 48 kHz mono source
 * for ALAC and WavPack. AAC is encoded without perceptual noise substitution: its decoder fills
 * PNS bands from a random generator whose state depends on where decoding started, which would
 * make a seek differ from a decode from the start by design.
 */
export function makeCorpus(dir: string, seconds: number): MediaFile[] {
  fs.mkdirSync(dir, { recursive: true });
  const p = (n: string): string => path.join(dir, n);
  const src = p('src16.wav');
  // -R: repeatable noise and dither, so every run tests the same media.
  sox('-R', '-n', '-r', '44100', '-c', '2', '-b', '16', src, 'synth', String(seconds), 'sine', '440', 'sine', '1003', 'whitenoise', 'vol', '0.3');
  const src24 = p('src24.wav');
  sox('-R', '-n', '-r', '48000', '-c', '1', '-b', '24', src24, 'synth', String(seconds), 'sine', '300-3000', 'pinknoise', 'vol', '0.4');
  const out: MediaFile[] = [];
  const add = (name: string, source: string, lossless: boolean, make: (file: string) => void): void => {
    const file = p(name);
    make(file);
    out.push({ name, file, source, lossless });
  };
  const tags = ['-metadata', 'title=Tëst Title', '-metadata', 'artist=The Artist', '-metadata', 'album=An Album', '-metadata', 'track=7'];
  add('alac.m4a', src, true, (f) => ffmpeg('-i', src, ...tags, '-c:a', 'alac', f));
  add('alac24.m4a', src24, true, (f) => ffmpeg('-i', src24, '-c:a', 'alac', f));
  add('alac.caf', src, true, (f) => ffmpeg('-i', src, '-c:a', 'alac', f));
  add('a.wv', src, true, (f) => ffmpeg('-i', src, ...tags, '-c:a', 'wavpack', f));
  add('b24.wv', src24, true, (f) => ffmpeg('-i', src24, '-c:a', 'wavpack', f));
  add('a.tta', src, true, (f) => ffmpeg('-i', src, '-c:a', 'tta', f));
  add('flac.mka', src, true, (f) => ffmpeg('-i', src, ...tags, '-c:a', 'flac', f));
  if (hasCommand('jmac')) add('a.ape', src, true, (f) => encodeApe(src, f));
  add('aac.m4a', src, false, (f) => ffmpeg('-i', src, ...tags, '-c:a', 'aac', '-aac_pns', '0', '-b:a', '192k', f));
  add('a.wma', src, false, (f) => ffmpeg('-i', src, ...tags, '-c:a', 'wmav2', '-b:a', '160k', f));
  if (hasCommand('mpcenc')) add('a.mpc', src, false, (f) => encodeMpc(src, f));
  add('ac3.mka', src, false, (f) => ffmpeg('-i', src, '-c:a', 'ac3', f));
  add('eac3.mka', src, false, (f) => ffmpeg('-i', src, '-c:a', 'eac3', f));
  add('dts.mka', src, false, (f) => ffmpeg('-i', src, '-strict', '-2', '-c:a', 'dca', f));
  add('opus.webm', src, false, (f) => ffmpeg('-i', src, '-c:a', 'libopus', '-b:a', '128k', f));
  add('a.dsf', src, false, (f) => writeDsf(f, { seconds: Math.min(seconds, 2) }));
  add('a.dff', src, false, (f) => writeDff(f, { seconds: Math.min(seconds, 2) }));
  return out;
}
