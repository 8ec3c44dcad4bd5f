// bench:decode — decode + EQ throughput of the engine's data path (the sndfile decoder plugin fed
// by the host file io table, then the eq10 DSP with all ten bands active), in multiples of
// realtime, for a generated 5-minute FLAC and MP3, next to `ffmpeg -i X -f f32le -` to /dev/null
// measured in the same run. Prints figures; it is not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeFileStream, openFileStream } from '../plugins/host-lib.js';
import { projectRoot } from '../engine/runnable.js';
import { createInstance } from '../plugins/instances.js';
import { PluginGeneration } from '../plugins/library.js';

const SECONDS = 300;
const BLOCK = 2048;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-bench-decode-'));
const plugins = path.join(projectRoot, 'native-plugins', 'build', 'plugins');

function gen(file: string, leaseId: number): PluginGeneration {
  return PluginGeneration.load(path.join(plugins, file), { shadowDir: path.join(work, 'shadow'), dataRoot: path.join(work, 'data'), leaseId });
}

const eqConfig = JSON.stringify({
  preamp_db: -6,
  bands: [31, 62, 125, 250, 500, 1000, 2000, 4000, 8000, 16000].map((f, i) => ({ freq_hz: f, gain_db: i % 2 === 0 ? 3 : -2, q: 1.2, type: 'peaking' })),
});

function stellatune(decGen: PluginGeneration, eqGen: PluginGeneration | null, file: string): { seconds: number; frames: number } {
  const t0 = process.hrtime.bigint();
  const stream = openFileStream(file);
  const dec = createInstance(decGen, 'decoder', 'sndfile', '{}');
  dec.open(stream, { path: file, ext: path.extname(file).slice(1) });
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
  dec.destroy();
  closeFileStream(stream);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, frames };
}

function ffmpegDecode(file: string): number {
  const devnull = fs.openSync('/dev/null', 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-threads', '1', '-i', file, '-f', 'f32le', '-'], { stdio: ['ignore', devnull, 'inherit'] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.closeSync(devnull);
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${file}`);
  return s;
}

console.log(`generating ${SECONDS} s test files in ${work} …`);
const wav = path.join(work, 'src.wav');
execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', String(SECONDS), 'pinknoise', 'sine', '440', 'vol', '0.3']);
const flac = path.join(work, 'bench.flac');
const mp3 = path.join(work, 'bench.mp3');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, flac]);
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '256k', mp3]);
fs.rmSync(wav);

const decGen = gen('sndfile-decoder.so', 1);
const eqGen = gen('eq-dsp.so', 2);
console.log('format  stellatune decode+EQ          ffmpeg -f f32le        ratio   (stellatune decode only)');
for (const file of [flac, mp3]) {
  stellatune(decGen, eqGen, file); // warm the page cache and the code paths
  const runs = [stellatune(decGen, eqGen, file), stellatune(decGen, eqGen, file)];
  const best = Math.min(...runs.map((r) => r.seconds));
  const audioSeconds = (runs[0]?.frames ?? 0) / 44100;
  const decodeOnly = Math.min(stellatune(decGen, null, file).seconds, stellatune(decGen, null, file).seconds);
  const ff = Math.min(ffmpegDecode(file), ffmpegDecode(file));
  const st = audioSeconds / best;
  const fx = audioSeconds / ff;
  const cell = (x: number, s: number): string => `${x.toFixed(0).padStart(5)}x realtime (${s.toFixed(2)} s)`.padEnd(23);
  console.log(`${path.extname(file).slice(1).padEnd(6)}  ${cell(st, best)}${cell(fx, ff)}${(st / fx).toFixed(2).padStart(5)}   (${(audioSeconds / decodeOnly).toFixed(0)}x)`);
}
await decGen.unload();
await eqGen.unload();
fs.rmSync(work, { recursive: true, force: true });
