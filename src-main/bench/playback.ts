// bench:playback — 60 s of real-device playback (PortAudio -> ALSA -> PulseAudio null sink) of a
// fixture-plugin stream while main runs 32 concurrent slow control calls (list_items that take
// 500 ms) and reloads that same plugin every 2 s. Prints underruns, ring fill, the output latency
// estimate, main event-loop delay and CPU seconds per minute of playback of the engine's
// processes. Prints figures; it is not a test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../control/control-plane.js';
import { makeScratchHome } from '../tools/scratch-home.js';
import { StellaPlayerEngine } from '../engine/engine.js';
import { projectRoot } from '../engine/runnable.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
/** Seconds of playback without the control load first, for the engine's own CPU cost. */
const BASELINE = Number(process.env.BENCH_BASELINE_SECONDS ?? 15);
const SLOW_CALLS = 32;
const RELOAD_EVERY_MS = 2000;

execFileSync(path.join(projectRoot, 'scripts', 'ensure-pulse.sh'), { stdio: 'inherit' });

const scratch = makeScratchHome({ prefix: 'stellatune-bench-playback', builtins: true });
const { paths } = scratch;
scratch.install(path.join(projectRoot, 'native-plugins', 'build', 'fixtures', 'st-fixture.so'));

const FIXTURE = 'dev.stellatune.fixture';
const control = await ControlPlane.start({ paths, watchUserFolder: false, registry: { pollMs: 0 } });
const engine = await StellaPlayerEngine.start({ control, paths, log: () => {} });

function procCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return 0;
  }
}

engine.queueAdd([
  {
    source: { kind: 'plugin', pluginId: FIXTURE, typeId: 'fixture-source', item: { id: 'tone-440', freq: 440, duration_ms: (SECONDS + BASELINE) * 1000 } },
    title: 'fixture tone',
  },
]);

let running = true;
let calls = 0;
let callErrors = 0;
let reloads = 0;
const slowCall = async (): Promise<void> => {
  while (running) {
    try {
      await control.listItems(FIXTURE, 'fixture-source', { action: 'search', query: 'bench', fixture: { mode: 'delay', delay_ms: 500 } });
      calls++;
    } catch {
      callErrors++; // a reload in the middle may refuse or cancel a request: counted, not fatal
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};

await engine.play(0);
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    if (engine.status().state === 'playing' && engine.status().positionMs > 0) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
const audioPid = engine.processIds().audio as number;
const base0 = { main: process.cpuUsage(), audio: procCpuSeconds(audioPid), t: Date.now() };
await new Promise((r) => setTimeout(r, BASELINE * 1000));
const baseMain = process.cpuUsage(base0.main);
const baseAudio = procCpuSeconds(audioPid) - base0.audio;
const baseMinutes = (Date.now() - base0.t) / 60_000;
const baseUnderruns = engine.metrics().underruns;

engine.resetRingStats();
control.loop.reset();
const cpuMain0 = process.cpuUsage();
const cpuAudio0 = procCpuSeconds(audioPid);
const t0 = Date.now();
const workers = Array.from({ length: SLOW_CALLS }, () => slowCall());
const reloader = setInterval(() => {
  void control.reloadPlugin(FIXTURE).then(() => reloads++, () => {});
}, RELOAD_EVERY_MS);

await new Promise<void>((resolve) => engine.on('event', (e) => e.type === 'ended' && resolve()));
const wall = (Date.now() - t0) / 1000;
running = false;
clearInterval(reloader);
const cpuMain = process.cpuUsage(cpuMain0);
const cpuAudio = procCpuSeconds(audioPid) - cpuAudio0;
await Promise.all(workers);
const m = engine.metrics();
const fill = engine.ringStats();
const loop = control.loop.snapshot();
const minutes = wall / 60;
console.log(`baseline (${BASELINE} s, no control load): CPU per minute main ${((baseMain.user + baseMain.system) / 1e6 / baseMinutes).toFixed(2)} s, audio process ${(baseAudio / baseMinutes).toFixed(2)} s, underruns ${baseUnderruns}`);
console.log(`under load: ${wall.toFixed(1)} s of playback of a fixture stream on ${engine.status().output.kind} (PulseAudio null sink)`);
console.log(`load: ${calls} slow list_items completed (${SLOW_CALLS} in flight, 500 ms each), ${callErrors} refused/cancelled, ${reloads} plugin reloads`);
console.log(`underruns: ${m.underruns - baseUnderruns}   device losses: ${m.deviceLosses}   audio process restarts: ${m.audioProcessRestarts}`);
console.log(`ring: capacity ${m.ringCapacityFrames} frames (${((m.ringCapacityFrames / 44100) * 1000).toFixed(0)} ms at 44.1 kHz), fill min ${(fill.min * 100).toFixed(1)} % avg ${(fill.avg * 100).toFixed(1)} % (${fill.samples} samples)`);
console.log(`output latency estimate: ${m.outputLatencyMs?.toFixed(1) ?? '?'} ms   decode+DSP per block p50 ${m.blockLatencyP50.toFixed(3)} ms p99 ${m.blockLatencyP99.toFixed(3)} ms`);
console.log(`main event-loop delay: p50 ${loop.p50} ms p99 ${loop.p99} ms max ${loop.max} ms`);
console.log(`CPU per minute of playback: main process (event loop + decode worker) ${((cpuMain.user + cpuMain.system) / 1e6 / minutes).toFixed(2)} s, audio process ${(cpuAudio / minutes).toFixed(2)} s`);
await engine.close();
await control.close();
scratch.cleanup();
