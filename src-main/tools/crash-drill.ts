// A crash drill: starts the real core (built-in plugins plus one extra folder) in this process and
// makes a crash fixture plugin fault, or reports what the registry made of the last crash. The
// crash-guard tests run it as a child process, since a faulting plugin kills the process it is in.
//
//   node dist/src-main/tools/crash-drill.js <home> <extra-plugin-dir> <action> [arg]
//     list | thread   list items of dev.stellatune.crash-list / -thread (control / plugin thread)
//     dsp <wav>       play <wav> with dev.stellatune.crash-dsp in the DSP chain (audio process)
//     output <wav>    play <wav> into dev.stellatune.crash-output (audio process)
//     decoder <file>  play <file> (a *.crash file) through dev.stellatune.crash-decoder (decode worker)
//     play <file>     play <file> and report the engine's state 1.5 s later
//     wasm            a WebAssembly out-of-bounds load under the installed guard, 200 times
//     status [file]   print the plugin list as JSON; with [file], "Enable anyway" on it first
//     items <id>      list items of source <id>/crash and print them
import { appPaths } from '../app-paths.js';
import { AppCore } from '../app-core.js';
import { crashGuardActive } from '../plugins/crash-guard.js';

const [home, extraDir, action, arg] = process.argv.slice(2);
if (!home || !extraDir || !action) {
  console.error('usage: crash-drill <home> <extra-plugin-dir> <action> [arg]');
  process.exit(2);
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const withEngine = action === 'dsp' || action === 'output' || action === 'decoder' || action === 'play';
const core = await AppCore.start({
  shell: 'browser',
  paths: appPaths(home),
  extraFolders: [{ dir: extraDir, origin: 'user', watch: false }],
  engine: withEngine ? (action === 'dsp' ? { dspChain: [{ pluginId: 'dev.stellatune.crash-dsp', typeId: 'crash' }] } : {}) : false,
  log: (m) => console.error(m),
});

const plugins = (): unknown[] =>
  core.control.listPlugins().map((p) => ({ path: p.path, status: p.status, pluginId: p.pluginId, error: p.error, quarantine: p.quarantine }));

async function play(file: string): Promise<void> {
  // Alone in the queue: the session of a crashed run may have restored its track.
  core.engine.queueClear();
  core.engine.queueAdd([{ source: { kind: 'file', path: file }, title: 'drill' }]);
  await core.engine.play(0);
}

switch (action) {
  case 'list':
  case 'thread': {
    print({ started: true });
    await core.control.listItems(`dev.stellatune.crash-${action}`, 'crash', { action: 'browse' }).catch((e: Error) => print({ error: e.message }));
    await sleep(3000);
    print({ survived: true });
    break;
  }
  case 'dsp':
    print({ started: true });
    await play(arg!);
    // The DSP chain runs in the audio process: it dies, this one lives on and plays on.
    await sleep(4000);
    print({ survived: true, status: core.engine.status().state, output: core.engine.status().output.kind, plugins: plugins() });
    break;
  case 'decoder':
    print({ started: true });
    await play(arg!);
    // The decode worker is a thread of this process: a fault there ends it all.
    await sleep(4000);
    print({ survived: true, status: core.engine.status().state });
    break;
  case 'play': {
    await play(arg!);
    await sleep(1500);
    const st = core.engine.status();
    print({ status: st.state, positionMs: st.positionMs, decoder: st.format?.decoder ?? null, codec: st.format?.codec ?? null, plugins: plugins() });
    break;
  }
  case 'output': {
    await core.engine.setOutput({ kind: 'plugin', pluginId: 'dev.stellatune.crash-output', typeId: 'crash', target: { id: 'void' } });
    print({ started: true });
    await play(arg!);
    // The audio process dies; this one lives on, quarantines the sink at once and plays on.
    await sleep(4000);
    print({ survived: true, status: core.engine.status().state, output: core.engine.status().output.kind, plugins: plugins() });
    break;
  }
  case 'wasm': {
    // (module (memory 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load))
    const bytes = Uint8Array.from([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 8, 1, 4, 108, 111, 97, 100, 0, 0, 10, 9, 1, 7, 0, 32, 0,
      40, 2, 0, 11,
    ]);
    // The main tsconfig has no DOM lib, where WebAssembly's types live.
    const wasm = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array): Promise<{ instance: { exports: Record<string, unknown> } }>; RuntimeError: new () => Error } }).WebAssembly;
    const { instance } = await wasm.instantiate(bytes);
    const load = instance.exports.load as (addr: number) => number;
    let traps = 0;
    for (let i = 0; i < 200; i++) {
      try {
        load(0x7fff0000);
      } catch (err) {
        if (err instanceof wasm.RuntimeError) traps++;
      }
    }
    print({ traps, inBounds: load(0), guard: crashGuardActive() });
    break;
  }
  case 'status':
    if (arg) await core.control.enableAnyway(arg).catch((e: Error) => print({ error: e.message }));
    print({ plugins: plugins() });
    break;
  case 'items': {
    const items = await core.control.listItems(arg!, 'crash', { action: 'browse' }).catch((e: Error) => ({ error: e.message }));
    print({ items });
    break;
  }
  default:
    console.error(`unknown action ${action}`);
}
await core.close();
process.exit(0);
