// plugin:check — a conformance checker for plugin authors.
//
//   npm run plugin:check -- path/to/my-plugin.so
//
// Loads the library the way the player does (shadow copy, entry, ABI and metadata checks), then
// exercises every capability with its default config: schema and default config agree, instances
// create and destroy, config plan/export/import work, source and lyrics ops notify on completion
// and honour cancel promptly, DSP output stays finite, output sinks list targets, and shutdown
// joins the plugin's threads. The checks run in a child process, so a plugin that crashes is
// reported (with the step it crashed in) instead of taking the checker down.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../control/config-schema.js';
import { runOp } from '../control/op-promise.js';
import {
  createInstance,
  DspInstance,
  LyricsInstance,
  type NativeOp,
  OutputInstance,
  SourceInstance,
} from '../plugins/instances.js';
import { PluginGeneration } from '../plugins/library.js';
import { PluginLoadError } from '../plugins/errors.js';

export type CheckLevel = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  level: CheckLevel;
  step: string;
  detail: string;
}

type Report = (level: CheckLevel, step: string, detail?: string) => void;

/**
 * Runs an op through the host's op layer. `answeredMs` is when the caller got its answer,
 * `endedMs` when the plugin let the op leave PENDING (it was destroyed).
 */
async function settleOp(
  op: NativeOp,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<{ answeredMs: number; endedMs: number; error?: string }> {
  const t0 = performance.now();
  let ended!: () => void;
  const endedAt = new Promise<number>((resolve) => {
    ended = () => resolve(performance.now() - t0);
  });
  let error: string | undefined;
  try {
    await runOp(op, {
      deadlineMs,
      signal,
      // Only list/search ops are checked here: JSON results, nothing to close.
      accept: () => null,
      pluginId: 'check',
      opName: 'op',
      onDestroyed: () => ended(),
    }).promise;
  } catch (err) {
    error = `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`;
  }
  const answeredMs = performance.now() - t0;
  const endedMs = await Promise.race([endedAt, new Promise<number>((r) => setTimeout(() => r(Infinity), 5000))]);
  return { answeredMs, endedMs, error };
}

/** Runs every check on `library`, reporting as it goes. */
export async function checkPlugin(library: string, report: Report): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-check-'));
  let gen: PluginGeneration;
  try {
    report('pass', 'load', 'starting');
    gen = PluginGeneration.load(path.resolve(library), {
      shadowDir: path.join(home, 'shadow'),
      dataRoot: path.join(home, 'data'),
      leaseId: 1,
      log: (_f, level, message) => report('pass', 'log', `level ${level}: ${message}`),
    });
  } catch (err) {
    const e = err as PluginLoadError;
    report('fail', 'load', e instanceof PluginLoadError ? `${e.code}: ${e.message}` : String(err));
    fs.rmSync(home, { recursive: true, force: true });
    return;
  }
  const m = gen.metadata;
  report('pass', 'load', `${m.id} ${m.version} "${m.name}", ${gen.capabilities.length} capabilities`);
  if (gen.capabilities.length === 0) report('warn', 'capabilities', 'the module declares no capability');

  for (const cap of gen.capabilities) {
    const step = `${cap.kind}/${cap.typeId}`;
    const schema = cap.configSchema as Record<string, unknown>;
    if (schema.type !== 'object') report('warn', step, 'the config schema should be {"type":"object", ...}');
    const issues = validateConfig(cap.configSchema, cap.defaultConfig);
    if (issues.length) report('fail', step, `default config breaks the schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    const config = JSON.stringify(cap.defaultConfig);
    let instance;
    try {
      report('pass', step, 'create');
      instance = createInstance(gen, cap.kind, cap.typeId, config, { sampleRate: 48000, channels: 2 });
    } catch (err) {
      report('fail', step, `create_instance with the default config failed: ${(err as Error).message}`);
      continue;
    }
    try {
      const plan = instance.planConfigUpdate(config);
      report(plan.mode === 'reject' ? 'fail' : 'pass', step, `plan for the same config: ${plan.mode}${plan.reason ? ` (${plan.reason})` : ''}`);
      const state = instance.exportState();
      if (state) JSON.parse(state);
      instance.importState(state);
      report('pass', step, `export/import state round trip (${state.length} bytes)`);
    } catch (err) {
      report('fail', step, `config/state: ${(err as Error).message}`);
    }
    try {
      if (instance instanceof SourceInstance || instance instanceof LyricsInstance) {
        const begin = (): NativeOp =>
          instance instanceof SourceInstance ? instance.beginListItems('{}') : instance.beginSearch('{"query":"test"}');
        const done = await settleOp(begin(), 15000);
        if (done.error?.startsWith('timeout')) report('fail', step, 'an op with an empty request did not finish within 15 s');
        else report('pass', step, `op finished in ${done.answeredMs.toFixed(0)} ms${done.error ? ` (${done.error})` : ''}`);
        const ac = new AbortController();
        const cancelled = settleOp(begin(), 15000, ac.signal);
        ac.abort();
        const c = await cancelled;
        if (c.endedMs === Infinity) report('fail', step, 'a cancelled op was still PENDING 5 s later: honour cancel');
        else report(c.endedMs > 100 ? 'warn' : 'pass', step, `a cancelled op left PENDING after ${c.endedMs.toFixed(0)} ms (aim for < 100 ms)`);
      } else if (instance instanceof DspInstance) {
        const block = new Float32Array(512 * 2).map((_, i) => Math.sin(i / 10) * 0.5);
        instance.process(block, 512);
        if (block.some((v) => !Number.isFinite(v))) report('fail', step, 'process_f32 produced NaN or infinity');
        else report('pass', step, `process_f32 on a sine block (latency ${instance.latencyFrames()} frames)`);
      } else if (instance instanceof OutputInstance) {
        const targets = JSON.parse(instance.listTargetsJson() || '{}') as { targets?: unknown[] };
        if (!Array.isArray(targets.targets)) report('fail', step, 'list_targets_json must return {"targets":[...]}');
        else report('pass', step, `${targets.targets.length} targets`);
      } else {
        const exts = cap.extensions.map((e) => `${e.ext}:${e.score}`).join(', ');
        report(exts ? 'pass' : 'warn', step, exts ? `extensions ${exts}` : 'the decoder claims no extension');
      }
    } catch (err) {
      report('fail', step, (err as Error).message);
    }
    instance.destroy();
    report('pass', step, 'destroy');
  }
  const t0 = performance.now();
  await gen.unload();
  report('pass', 'shutdown', `shutdown joined the plugin's threads and the library unloaded in ${(performance.now() - t0).toFixed(0)} ms`);
  fs.rmSync(home, { recursive: true, force: true });
}

/** The CLI: forks itself to run the checks, so a crash is reported with its last step. */
async function cli(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const send = (r: CheckResult): void => void process.send?.(r);
    await checkPlugin(argv[1] ?? '', (level, step, detail = '') => send({ level, step, detail }));
    return 0;
  }
  const library = argv[0];
  if (!library) {
    console.error('usage: npm run plugin:check -- <library.so|.dll|.dylib>');
    return 2;
  }
  const results: CheckResult[] = [];
  const child = fork(fileURLToPath(import.meta.url), ['--child', library], { stdio: 'inherit' });
  child.on('message', (r: CheckResult) => {
    results.push(r);
    const mark = r.level === 'pass' ? 'ok  ' : r.level === 'warn' ? 'WARN' : 'FAIL';
    console.log(`${mark} ${r.step.padEnd(28)} ${r.detail}`);
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (c, s) => resolve({ code: c, signal: s })),
  );
  if (signal || code !== 0) {
    console.log(`FAIL the plugin crashed the process (${signal ?? `exit ${code}`}) during: ${results.at(-1)?.step ?? 'load'}`);
    return 1;
  }
  const fails = results.filter((r) => r.level === 'fail').length;
  const warns = results.filter((r) => r.level === 'warn').length;
  console.log(fails ? `\n${fails} failed, ${warns} warnings` : `\nall checks passed (${warns} warnings)`);
  return fails ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await cli(process.argv.slice(2));
}
