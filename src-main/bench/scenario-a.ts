// bench:scenario-a — the seed's scenario A with the real network plugins. A track streams from a
// real Subsonic server (supysonic on 127.0.0.1) through the Subsonic plugin, the decode worker and
// PortAudio (PulseAudio null sink) while main fires continuous source list_items and lyrics
// search/fetch calls, several in flight, a share of them at a server that never answers (a hanging
// proxy; they end at their deadline). Prints underruns, main event-loop delay and the timeout rate.
// Prints figures; it is not a test. BENCH_SECONDS (default 60) sets the playing time.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ControlPlane } from '../control/control-plane.js';
import { makeScratchHome } from '../tools/scratch-home.js';
import type { ControlError } from '../control/errors.js';
import { StellaPlayerEngine } from '../engine/engine.js';
import { projectRoot } from '../engine/runnable.js';
import { startFaultProxy } from '../tools/net-servers/fault-proxy.js';
import { startLrclibServer } from '../tools/net-servers/lrclib-server.js';
import { defaultLibrary, startSupysonic } from '../tools/net-servers/supysonic.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const IN_FLIGHT = 12; // concurrent callers
const HANG_SHARE = 0.25; // of calls aimed at the hanging server
const DEADLINE_MS = 1500; // per call; a hung call ends here
const SUBSONIC = 'dev.stellatune.subsonic';
const LRCLIB = 'dev.stellatune.lrclib';

execFileSync(path.join(projectRoot, 'scripts', 'ensure-pulse.sh'), { stdio: 'inherit' });

console.log(`starting supysonic with a ${SECONDS + 5} s track…`);
const server = await startSupysonic({
  library: [
    ...defaultLibrary,
    { file: 'Bench/Long Play/01 Long Play.flac', title: 'Long Play', artist: 'Bench', album: 'Long Play', track: 1, seconds: SECONDS + 5, freq: 440 },
  ],
});
const lrclib = await startLrclibServer();
// Requests whose query says "hang" reach a server that accepts and never answers.
const subsonicProxy = await startFaultProxy({ port: server.port });
subsonicProxy.setRules([{ contains: 'query=hang', mode: { kind: 'hang' } }]);
const lrclibProxy = await startFaultProxy({ port: Number(new URL(lrclib.url).port) });
lrclibProxy.setRules([{ contains: 'hang', mode: { kind: 'hang' } }]);

const scratch = makeScratchHome({ prefix: 'stellatune-bench-scenario-a', builtins: true });
const { paths } = scratch;
const control = await ControlPlane.start({ paths, watchUserFolder: false, registry: { pollMs: 0 } });
control.applyConfig(SUBSONIC, 'source', 'subsonic', server.pluginConfig({ server_url: subsonicProxy.url }));
control.applyConfig(LRCLIB, 'lyrics', 'lrclib', { base_url: lrclibProxy.url, timeout_ms: 10_000 });
const engine = await StellaPlayerEngine.start({ control, paths, log: () => {} });

interface Item {
  id: string;
  kind: string;
  title?: string;
  [k: string]: unknown;
}
const found = (await control.listItems(SUBSONIC, 'subsonic', { action: 'search', query: 'Long Play' })) as { items: Item[] };
const longPlay = found.items.find((i) => i.kind === 'track' && i.title === 'Long Play');
if (!longPlay) throw new Error('the bench track is not on the server');
const albums = ((await control.listItems(SUBSONIC, 'subsonic', { action: 'albums' })) as { items: Item[] }).items;

engine.queueAdd([{ source: { kind: 'plugin', pluginId: SUBSONIC, typeId: 'subsonic', item: longPlay }, title: 'Long Play' }]);

// ---- the control load ------------------------------------------------------------------------

type CallKind = 'list' | 'search' | 'browse' | 'lyrics-search' | 'lyrics-fetch';
interface Tally {
  calls: number;
  ok: number;
  timeouts: number;
  errors: Map<string, number>;
  latencies: number[];
}
const tally = (): Tally => ({ calls: 0, ok: 0, timeouts: 0, errors: new Map(), latencies: [] });
const healthy = tally();
const hanging = tally();
const byKind = new Map<CallKind, number>();

function call(kind: CallKind, hang: boolean): Promise<unknown> {
  const opts = { deadlineMs: DEADLINE_MS };
  const album = albums[Math.floor(Math.random() * albums.length)] as Item;
  switch (kind) {
    case 'list':
      return control.listItems(SUBSONIC, 'subsonic', { action: 'albums', type: 'newest', limit: 20 }, opts);
    case 'search':
      return control.listItems(SUBSONIC, 'subsonic', { action: 'search', query: hang ? 'hang here' : 'Dawn' }, opts);
    case 'browse':
      return control.listItems(SUBSONIC, 'subsonic', { action: 'browse', id: album.id }, opts);
    case 'lyrics-search':
      return control.searchLyrics(LRCLIB, 'lrclib', { query: hang ? 'hang here' : 'aurora dawn' }, opts);
    case 'lyrics-fetch':
      return control.fetchLyrics(LRCLIB, 'lrclib', { title: hang ? 'hang' : 'Dawn', artist: 'Aurora Test', album: 'First Light', duration_ms: 4000 }, opts);
  }
}

let running = true;
const kinds: CallKind[] = ['list', 'search', 'browse', 'lyrics-search', 'lyrics-fetch'];
const hangable: CallKind[] = ['search', 'lyrics-search', 'lyrics-fetch'];
async function caller(): Promise<void> {
  while (running) {
    const hang = Math.random() < HANG_SHARE;
    const kind = hang ? (hangable[Math.floor(Math.random() * hangable.length)] as CallKind) : (kinds[Math.floor(Math.random() * kinds.length)] as CallKind);
    const t = hang ? hanging : healthy;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    t.calls++;
    const t0 = performance.now();
    try {
      await call(kind, hang);
      t.ok++;
      t.latencies.push(performance.now() - t0);
    } catch (err) {
      const e = err as ControlError;
      const key = `${e.code ?? 'error'}${e.status ? `/${e.status}` : ''}`;
      if (e.code === 'timeout') t.timeouts++;
      else t.errors.set(key, (t.errors.get(key) ?? 0) + 1);
    }
  }
}

await engine.play(0);
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    if (engine.status().state === 'playing' && engine.status().positionMs > 0) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
engine.resetRingStats();
control.loop.reset();
const underruns0 = engine.metrics().underruns;
const t0 = Date.now();
const callers = Array.from({ length: IN_FLIGHT }, () => caller());
let maxPending = 0;
const sampler = setInterval(() => {
  maxPending = Math.max(maxPending, control.live().pendingOps);
}, 50);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
running = false;
clearInterval(sampler);
await Promise.all(callers);
const wall = (Date.now() - t0) / 1000;
const m = engine.metrics();
const status = engine.status();
const fill = engine.ringStats();
const loop = control.loop.snapshot();

const pct = (n: number, d: number): string => (d > 0 ? `${((n / d) * 100).toFixed(1)} %` : 'n/a');
const p = (xs: number[], q: number): string => {
  if (xs.length === 0) return '?';
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number).toFixed(1);
};
const all = healthy.calls + hanging.calls;
console.log(`\nscenario A: ${wall.toFixed(1)} s of a Subsonic FLAC stream playing through ${status.output.kind} (PulseAudio null sink), position ${(status.positionMs / 1000).toFixed(1)} s`);
console.log(`load: ${all} control calls (${IN_FLIGHT} callers, up to ${maxPending} plugin ops pending at once; ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')})`);
console.log(`  healthy server: ${healthy.calls} calls, ${healthy.ok} ok, timeout rate ${pct(healthy.timeouts, healthy.calls)}, errors ${JSON.stringify(Object.fromEntries(healthy.errors))}, latency p50 ${p(healthy.latencies, 0.5)} ms p99 ${p(healthy.latencies, 0.99)} ms`);
console.log(`  hanging server: ${hanging.calls} calls, timeout rate ${pct(hanging.timeouts, hanging.calls)} (deadline ${DEADLINE_MS} ms), errors ${JSON.stringify(Object.fromEntries(hanging.errors))}`);
console.log(`  overall timeout rate: ${pct(healthy.timeouts + hanging.timeouts, all)}`);
console.log(`underruns: ${m.underruns - underruns0}   device losses: ${m.deviceLosses}   ring fill min ${(fill.min * 100).toFixed(1)} % avg ${(fill.avg * 100).toFixed(1)} %`);
console.log(`main event-loop delay: p50 ${loop.p50} ms p99 ${loop.p99} ms max ${loop.max} ms`);
console.log(`after the load: ${control.live().pendingOps} plugin ops pending, ${control.live().openStreams} open stream (the playing one)`);

await engine.close();
await control.close();
await subsonicProxy.stop();
await lrclibProxy.stop();
await lrclib.stop();
await server.stop();
scratch.cleanup();
