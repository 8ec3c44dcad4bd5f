// bench:control — what the async control plane buys the main event loop.
//
// 1. N slow control calls (default 32, each taking DELAY ms in the plugin) in flight through the
//    owner actors: event-loop delay p50/p99/max while they run.
// 2. The same workload made the old way: each plugin call made directly and synchronously on the
//    main thread (begin + blocking wait), as a synchronous ABI would force.
// 3. The per-request overhead of the op layer for an instantly-completing op (requests/second),
//    sequential and with 32 in flight.
//
// Usage: npm run bench:control [-- --calls 32 --delay 200 --requests 3000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../control/control-plane.js';
import { createInstance } from '../plugins/instances.js';
import { repoRoot } from '../app-paths.js';
import { makeScratchHome } from '../tools/scratch-home.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '32' },
    delay: { type: 'string', default: '200' },
    requests: { type: 'string', default: '3000' },
  },
});
const CALLS = Number(values.calls);
const DELAY = Number(values.delay);
const REQUESTS = Number(values.requests);
const FX = 'dev.stellatune.fixture';
const fixture = path.join(repoRoot, 'native-plugins', 'build', 'fixtures', 'st-fixture.so');

interface LoopFigures {
  p50: number;
  p99: number;
  max: number;
  wallMs: number;
}

async function measureLoop(work: () => Promise<void>): Promise<LoopFigures> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // Let the histogram settle, then measure only the workload.
  await new Promise((r) => setTimeout(r, 50));
  h.enable();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5)); // one more sample after the last call
  h.disable();
  const ms = (ns: number): number => ns / 1e6;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), wallMs };
}

function fmt(f: LoopFigures): string {
  return `p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms  max ${f.max.toFixed(2)} ms  (wall ${f.wallMs.toFixed(0)} ms)`;
}

async function main(): Promise<void> {
  if (!fs.existsSync(fixture)) throw new Error(`build the native plugins first (missing ${fixture})`);
  const scratch = makeScratchHome({ prefix: 'stellatune-bench-control' });
  scratch.install(fixture);
  const cp = await ControlPlane.start({
    paths: scratch.paths,
    watchUserFolder: false,
  });
  try {
    const slow = { query: '', fixture: { mode: 'delay', delay_ms: DELAY } };
    console.log(`bench:control — ${CALLS} control calls of ${DELAY} ms each (fixture source list_items), ${os.cpus().length} cores`);

    // Warm up (instance creation, vtable decoding, plugin worker threads).
    await Promise.all(Array.from({ length: CALLS }, () => cp.listItems(FX, 'fixture-source', { query: '' })));

    const async = await measureLoop(async () => {
      await Promise.all(Array.from({ length: CALLS }, () => cp.listItems(FX, 'fixture-source', slow)));
    });

    const gen = cp.registry.current(FX)!;
    const direct = createInstance(gen, 'source', 'fixture-source', '{}');
    const blocking = await measureLoop(async () => {
      // The old way: one timer tick between calls, each call blocking the thread until done.
      for (let i = 0; i < CALLS; i++) {
        const op = direct.beginListItems(JSON.stringify(slow));
        op.waitBlocking(DELAY * 10);
        op.takeJson();
        op.destroy();
        await new Promise((r) => setImmediate(r));
      }
    });
    direct.destroy();

    console.log('');
    console.log(`event-loop delay while ${CALLS} slow calls run`);
    console.log(`  async ops via owners : ${fmt(async)}`);
    console.log(`  blocking direct calls: ${fmt(blocking)}`);
    console.log(
      `  ratio (blocking/async): p99 ${(blocking.p99 / async.p99).toFixed(1)}x  max ${(blocking.max / async.max).toFixed(1)}x`,
    );

    const instant = { query: '' };
    const t0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) await cp.listItems(FX, 'fixture-source', instant);
    const seqMs = performance.now() - t0;
    const t1 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next++ < REQUESTS) await cp.listItems(FX, 'fixture-source', instant);
      }),
    );
    const parMs = performance.now() - t1;
    console.log('');
    console.log(`op layer overhead, instantly-completing op (${REQUESTS} requests)`);
    console.log(`  sequential      : ${((REQUESTS / seqMs) * 1000).toFixed(0)} req/s  (${((seqMs / REQUESTS) * 1000).toFixed(0)} µs/request)`);
    console.log(`  32 in flight    : ${((REQUESTS / parMs) * 1000).toFixed(0)} req/s`);
    const row = cp.metrics().ops.find((r) => r.op === 'list_items');
    console.log(`  counters        : ${JSON.stringify(row)}`);
  } finally {
    await cp.close();
    scratch.cleanup();
  }
}

await main();
