// bench:decode — decode and decode + EQ throughput of the engine's data path for every format the
// built-in decoders read: the decoder chosen by content (plugins/decoder-choice.ts) fed by the host
// file io table, then the eq10 DSP with all ten bands active. Beside each, in the same run, the
// ffmpeg CLI on the same file with `-threads 1`: a plain decode to f32le, and a decode through ten
// `equalizer` filters (the same bands, gains and Q) plus the same preamp. Figures in multiples of
// realtime, and the ratio stellatune / ffmpeg (above 1: faster). Prints figures; it is not a test.
//   npm run bench:decode [-- --seconds N] [-- --only m4a-aac,ape]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../engine/runnable.js';
import { decoderCandidates, openByContent } from '../plugins/decoder-choice.js';
import { closeFileStream, openFileStream } from '../plugins/host-lib.js';
import { createInstance, type DecoderInstance } from '../plugins/instances.js';
import { PluginGeneration } from '../plugins/library.js';
import { writeDff, writeDsf } from '../tools/dsd-media.js';

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const SECONDS = Number(argValue('--seconds') ?? 300);
const ONLY = argValue('--only')?.split(',');
const BLOCK = 2048;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-bench-decode-'));
const plugins = path.join(projectRoot, 'native-plugins', 'build', 'plugins');

function gen(file: string, leaseId: number): PluginGeneration {
  return PluginGeneration.load(path.join(plugins, file), { shadowDir: path.join(work, 'shadow'), dataRoot: path.join(work, 'data'), leaseId });
}

const bands = [31, 62, 125, 250, 500, 1000, 2000, 4000, 8000, 16000].map((f, i) => ({ freq_hz: f, gain_db: i % 2 === 0 ? 3 : -2, q: 1.2, type: 'peaking' }));
const PREAMP_DB = -6;
const eqConfig = JSON.stringify({ preamp_db: PREAMP_DB, bands });
// The same filter in ffmpeg: one peaking `equalizer` per band (width as Q), and the preamp.
const ffmpegEq = [`volume=${PREAMP_DB}dB`, ...bands.map((b) => `equalizer=f=${b.freq_hz}:t=q:w=${b.q}:g=${b.gain_db}`)].join(',');

const decoderGens: PluginGeneration[] = [];

function openDecoder(file: string): { dec: DecoderInstance; typeId: string; close: () => void } {
  const stream = openFileStream(file);
  const ext = path.extname(file).slice(1);
  const opened = openByContent(
    stream,
    decoderCandidates(decoderGens, ext),
    ext,
    (c) => createInstance(c.gen, 'decoder', c.typeId, '{}'),
    (dec) => {
      dec.open(stream, { path: file, ext });
      return dec.info();
    },
    (c) => c.typeId,
  );
  return {
    dec: opened.decoder,
    typeId: opened.cand.typeId,
    close: () => {
      opened.decoder.destroy();
      closeFileStream(stream);
    },
  };
}

function stellatune(eqGen: PluginGeneration | null, file: string): { seconds: number; audioSeconds: number; decoder: string } {
  const t0 = process.hrtime.bigint();
  const { dec, typeId, close } = openDecoder(file);
  const info = dec.info();
  const eq = eqGen ? createInstance(eqGen, 'dsp', 'eq10', eqConfig, { sampleRate: info.sampleRate, channels: info.channels }) : null;
  const buf = new Float32Array(BLOCK * info.channels);
  let frames = 0;
  for (;;) {
    const n = dec.read(buf, BLOCK);
    if (n === 0) break;
    eq?.process(buf, n);
    frames += n;
  }
  eq?.destroy();
  close();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, audioSeconds: frames / info.sampleRate, decoder: typeId };
}

function ffmpegRun(file: string, filter: string | null): number {
  const devnull = fs.openSync('/dev/null', 'w');
  const args = ['-hide_banner', '-loglevel', 'error', '-threads', '1', '-filter_threads', '1', '-i', file];
  if (filter) args.push('-af', filter);
  args.push('-f', 'f32le', '-c:a', 'pcm_f32le', '-');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ffmpeg', args, { stdio: ['ignore', devnull, 'inherit'] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.closeSync(devnull);
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${file}`);
  return s;
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ff = (...args: string[]): void => {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
};

console.log(`generating ${SECONDS} s test files in ${work} …`);
const wav = path.join(work, 'src.wav');
execFileSync('sox', ['-R', '-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', String(SECONDS), 'pinknoise', 'sine', '440', 'vol', '0.3']);
const p = (n: string): string => path.join(work, n);
const formats: { name: string; file: string; make: () => void }[] = [
  { name: 'flac', file: p('a.flac'), make: () => ff('-i', wav, p('a.flac')) },
  { name: 'mp3', file: p('a.mp3'), make: () => ff('-i', wav, '-c:a', 'libmp3lame', '-b:a', '256k', p('a.mp3')) },
  { name: 'm4a-alac', file: p('alac.m4a'), make: () => ff('-i', wav, '-c:a', 'alac', p('alac.m4a')) },
  { name: 'm4a-aac', file: p('aac.m4a'), make: () => ff('-i', wav, '-c:a', 'aac', '-b:a', '256k', p('aac.m4a')) },
  { name: 'wma', file: p('a.wma'), make: () => ff('-i', wav, '-c:a', 'wmav2', '-b:a', '192k', p('a.wma')) },
  { name: 'wavpack', file: p('a.wv'), make: () => ff('-i', wav, '-c:a', 'wavpack', p('a.wv')) },
  { name: 'tta', file: p('a.tta'), make: () => ff('-i', wav, '-c:a', 'tta', p('a.tta')) },
  { name: 'mka-flac', file: p('flac.mka'), make: () => ff('-i', wav, '-c:a', 'flac', p('flac.mka')) },
  { name: 'mka-ac3', file: p('ac3.mka'), make: () => ff('-i', wav, '-c:a', 'ac3', p('ac3.mka')) },
  { name: 'webm-opus', file: p('opus.webm'), make: () => ff('-i', wav, '-c:a', 'libopus', '-b:a', '160k', p('opus.webm')) },
  ...(has('jmac') ? [{ name: 'ape', file: p('a.ape'), make: () => void execFileSync('jmac', ['c2', wav, p('a.ape')], { stdio: 'pipe' }) }] : []),
  ...(has('mpcenc') ? [{ name: 'musepack', file: p('a.mpc'), make: () => void execFileSync('mpcenc', ['--silent', wav, p('a.mpc')], { stdio: 'pipe' }) }] : []),
  // DSD64 decodes to 352.8 kHz: a fifth of the length keeps the run short (figures are per audio second).
  { name: 'dsf', file: p('a.dsf'), make: () => writeDsf(p('a.dsf'), { seconds: Math.max(5, SECONDS / 5) }) },
  { name: 'dff', file: p('a.dff'), make: () => writeDff(p('a.dff'), { seconds: Math.max(5, SECONDS / 5) }) },
];
const selected = formats.filter((f) => !ONLY || ONLY.includes(f.name));
for (const f of selected) f.make();
fs.rmSync(wav);

decoderGens.push(gen('sndfile-decoder.so', 1), gen('ffmpeg-decoder.so', 2));
const eqGen = gen('eq-dsp.so', 3);
const x = (audio: number, s: number): string => `${(audio / s).toFixed(0).padStart(5)}x`;
console.log(
  `${'format'.padEnd(10)} ${'decoder'.padEnd(8)} ${'decode'.padStart(7)} ${'ffmpeg'.padStart(7)} ${'ratio'.padStart(6)}   ` +
    `${'decode+EQ'.padStart(9)} ${'ffmpeg+10eq'.padStart(11)} ${'ratio'.padStart(6)}`,
);
for (const f of selected) {
  stellatune(eqGen, f.file); // warm the page cache and the code paths
  const dec = [stellatune(null, f.file), stellatune(null, f.file)];
  const withEq = [stellatune(eqGen, f.file), stellatune(eqGen, f.file)];
  const audio = dec[0]!.audioSeconds;
  const bestDec = Math.min(...dec.map((r) => r.seconds));
  const bestEq = Math.min(...withEq.map((r) => r.seconds));
  const ffDec = Math.min(ffmpegRun(f.file, null), ffmpegRun(f.file, null));
  const ffEq = Math.min(ffmpegRun(f.file, ffmpegEq), ffmpegRun(f.file, ffmpegEq));
  console.log(
    `${f.name.padEnd(10)} ${dec[0]!.decoder.padEnd(8)} ${x(audio, bestDec).padStart(7)} ${x(audio, ffDec).padStart(7)} ${(ffDec / bestDec).toFixed(2).padStart(6)}   ` +
      `${x(audio, bestEq).padStart(9)} ${x(audio, ffEq).padStart(11)} ${(ffEq / bestEq).toFixed(2).padStart(6)}`,
  );
}
for (const g of decoderGens) await g.unload();
await eqGen.unload();
fs.rmSync(work, { recursive: true, force: true });
