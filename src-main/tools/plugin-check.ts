#!/usr/bin/env node
// plugin:check — the conformance checker for plugin authors.
//
//   npx stellatune-plugin-check path/to/my-plugin.so [options]     (or npm run plugin:check -- …)
//
// Loads the library the way the player does (shadow copy, entry, ABI and metadata checks), then
// exercises every capability: the schema is a JSON Schema and the default config passes it, plan /
// apply of a changed config, an export_state → import_state round trip; source and lyrics ops
// notify exactly once when they leave PENDING, honour cancel (and stop working), return JSON in
// the shape the host accepts, do not leak memory per op; a listed track opens as a stream that
// reads, seeks, tells and sizes consistently; DSP output stays finite; output sinks list targets;
// shutdown is quick and joins every plugin thread; nothing but the entry point is exported.
//
// The checks run in a child process with the host's crash guard, so a plugin that crashes is
// reported with the step, the thread and a symbolized backtrace instead of taking the checker
// down. Exit codes: 0 passed (warnings allowed), 1 a check failed (or warned, with --strict),
// 2 bad usage or no such library, 3 the plugin crashed the checker.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { schemaProblem, validateConfig } from '../control/config-schema.js';
import { listResultIssues } from '../control/list-result.js';
import { type OpResult, runOp } from '../control/op-promise.js';
import { type CrashRecord, describeCrashThread, installCrashGuard, readCrashRecords } from '../plugins/crash-guard.js';
import { PluginLoadError } from '../plugins/errors.js';
import {
  createInstance,
  DspInstance,
  LyricsInstance,
  type NativeInstance,
  type NativeOp,
  type NativeStream,
  OutputInstance,
  SourceInstance,
} from '../plugins/instances.js';
import { type CapabilityInfo, PluginGeneration } from '../plugins/library.js';
import { StreamReader } from '../plugins/stream-reader.js';

export type CheckLevel = 'pass' | 'info' | 'warn' | 'fail';

/** The checks, by the names --only and --skip take. */
export const CHECKS = {
  load: 'load the library, the entry, metadata and capability table',
  schema: 'the config schema is a JSON Schema and the default config passes it',
  config: 'plan/apply of the same and of a changed config',
  state: 'export_state → import_state round trip',
  notify: 'an op fires its notifier exactly once, after it left PENDING',
  cancel: 'cancel ends the op promptly and its work stops',
  items: 'list results are JSON in the shape the host accepts',
  stream: 'open_stream on a listed track: read, seek, tell, size, close',
  leaks: 'memory does not grow per op',
  threads: 'no thread of the plugin runs after shutdown',
  shutdown: 'shutdown returns within 1 s',
  exports: 'only stellatune_plugin_entry is exported',
  process: 'DSP, output and decoder basics',
} as const;
export type CheckName = keyof typeof CHECKS;

export interface CheckResult {
  level: CheckLevel;
  check: CheckName | 'crash';
  step: string;
  detail: string;
  /** How to fix it (fail and warn). */
  fix?: string;
  /** A marker of what runs next (not a result; the CLI uses it to name a crash's step). */
  progress?: true;
}

export interface CheckOptions {
  /** The config to create instances with (default: each capability's default config). */
  config?: Record<string, unknown>;
  /** The list_items / lyrics search request (default {} / {"query":"test"}). */
  request?: unknown;
  only?: CheckName[];
  skip?: CheckName[];
  /** Ops run for the leak check (default 24). */
  leakOps?: number;
  /** Shut down but never unmap the library (valgrind/ASan runs). */
  keepLoaded?: boolean;
  /** Running under valgrind (--valgrind): time limits are 10 times looser (everything runs some
   * 20-50 times slower) and memory per op is valgrind's to judge, not the RSS's. */
  underValgrind?: boolean;
}

type Report = (r: CheckResult) => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- process introspection (Linux: /proc/self/task) ---------------------------------------------

function threadIds(): Set<number> {
  try {
    return new Set(fs.readdirSync('/proc/self/task').map(Number));
  } catch {
    return new Set();
  }
}

/** CPU ticks (user + system) used so far by each of `tids` that still exists. */
function threadTicks(tids: Iterable<number>): number {
  let sum = 0;
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread ended
    }
  }
  return sum;
}

/** Starts libuv's pool threads now, so they do not count as the plugin's later. */
async function warmThreadPool(): Promise<void> {
  await Promise.all(Array.from({ length: 8 }, () => new Promise((r) => crypto.pbkdf2('x', 'y', 1, 8, 'sha256', r))));
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

// ---- ops ---------------------------------------------------------------------------------------

interface OpRun {
  /** When the caller was answered, ms after begin. */
  answeredMs: number;
  /** When the plugin let the op leave PENDING (it was destroyed), ms after begin; Infinity if not within the wait. */
  endedMs: number;
  json?: string;
  stream?: NativeStream;
  error?: { code: string; message: string };
  /** The op's state at each notifier call. */
  notifies: string[];
  /** The op's state when the notifier was installed. */
  installedState: string;
}

async function settleOp(op: NativeOp, opts: { deadlineMs: number; signal?: AbortSignal; waitEndMs?: number; lateNotifyMs?: number }): Promise<OpRun> {
  const t0 = performance.now();
  let ended!: (ms: number) => void;
  const endedAt = new Promise<number>((resolve) => (ended = resolve));
  const notifies: string[] = [];
  const run: OpRun = { answeredMs: 0, endedMs: Infinity, notifies, installedState: 'pending' };
  try {
    const r = await runOp<OpResult>(op, {
      deadlineMs: opts.deadlineMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      accept: (res) => res,
      pluginId: 'check',
      opName: 'op',
      onDestroyed: () => ended(performance.now() - t0),
      onNotify: (state) => notifies.push(state),
      onInstalled: (state) => (run.installedState = state),
      lateNotifyMs: (opts.lateNotifyMs ?? 0) + 20,
    }).promise;
    if (r.kind === 'json') run.json = r.json;
    else run.stream = r.stream;
  } catch (err) {
    run.error = { code: (err as { code?: string }).code ?? 'error', message: (err as Error).message };
  }
  run.answeredMs = performance.now() - t0;
  run.endedMs = await Promise.race([endedAt, sleep(opts.waitEndMs ?? 5000).then(() => Infinity)]);
  // Late notifier calls (a second one, or one after destroy) arrive within the grace period.
  if (opts.lateNotifyMs) await sleep(opts.lateNotifyMs);
  return run;
}

/** A config that differs from `base` in one property the schema describes, still valid. */
function changedConfig(schema: unknown, base: Record<string, unknown>): Record<string, unknown> | null {
  const props = (schema as { properties?: Record<string, Record<string, unknown>> })?.properties;
  if (!props) return null;
  for (const [key, p] of Object.entries(props)) {
    const cur = base[key] ?? p.default;
    let next: unknown;
    if (Array.isArray(p.enum)) next = p.enum.find((v) => JSON.stringify(v) !== JSON.stringify(cur));
    else if (p.type === 'boolean') next = !(cur === true);
    else if (p.type === 'integer' || p.type === 'number') {
      const step = p.type === 'integer' ? 1 : 0.5;
      const n = typeof cur === 'number' ? cur : typeof p.minimum === 'number' ? p.minimum : 0;
      next = typeof p.maximum === 'number' && n + step > p.maximum ? n - step : n + step;
    } else continue;
    if (next === undefined) continue;
    const candidate = { ...base, [key]: next };
    if (validateConfig(schema, candidate).length === 0) return candidate;
  }
  return null;
}

// ---- the checks --------------------------------------------------------------------------------

class Checker {
  /** Threads that existed before the library was loaded (everything else is the plugin's). */
  private hostThreads = new Set<number>();

  /** How much slower than native this run is allowed to be (valgrind). */
  private readonly slow: number;

  constructor(
    private readonly report: Report,
    private readonly opts: CheckOptions,
  ) {
    this.slow = opts.underValgrind ? 10 : 1;
  }

  enabled(c: CheckName): boolean {
    if (this.opts.only?.length && !this.opts.only.includes(c)) return c === 'load';
    const on = !this.opts.skip?.includes(c);
    // Tells the parent what runs now, so a crash names its step.
    if (on) this.report({ level: 'info', check: c, step: this.current, detail: '', progress: true });
    return on;
  }

  /** The capability (or phase) being checked. */
  private current = 'load';

  r(level: CheckLevel, check: CheckName, step: string, detail: string, fix?: string): void {
    this.report({ level, check, step, detail, ...(fix && level !== 'pass' && level !== 'info' ? { fix } : {}) });
  }

  async run(library: string): Promise<void> {
    const file = path.resolve(library);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-check-'));
    try {
      await this.runIn(file, home);
    } finally {
      if (!this.opts.keepLoaded) fs.rmSync(home, { recursive: true, force: true });
    }
  }

  private async runIn(file: string, home: string): Promise<void> {
    await warmThreadPool();
    const threadsBefore = threadIds();
    this.hostThreads = threadsBefore;
    let gen: PluginGeneration;
    try {
      this.r('info', 'load', 'load', `loading ${file}`);
      gen = PluginGeneration.load(file, {
        shadowDir: path.join(home, 'shadow'),
        dataRoot: path.join(home, 'data'),
        leaseId: 1,
        log: (_f, level, message) => this.r('info', 'load', 'log', `level ${level}: ${message}`),
      });
    } catch (err) {
      const e = err as PluginLoadError;
      this.r('fail', 'load', 'load', e instanceof PluginLoadError ? `${e.code}: ${e.message}` : String(err), 'the player refuses this library the same way');
      return;
    }
    const m = gen.metadata;
    this.r('pass', 'load', 'load', `${m.id} ${m.version} "${m.name}", ${gen.capabilities.length} capabilities`);
    if (gen.capabilities.length === 0) this.r('warn', 'load', 'load', 'the module declares no capability', 'list your capabilities in ST_SDK_PLUGIN');
    if (this.enabled('exports')) this.checkExports(file);

    for (const cap of gen.capabilities) await this.checkCapability(gen, cap);

    this.current = 'shutdown';
    this.report({ level: 'info', check: 'shutdown', step: 'shutdown', detail: '', progress: true });
    const t0 = performance.now();
    await gen.unload({ keepLoaded: true });
    const shutdownMs = performance.now() - t0;
    if (this.enabled('shutdown')) {
      if (shutdownMs > 1000 * this.slow) this.r('fail', 'shutdown', 'shutdown', `shutdown took ${shutdownMs.toFixed(0)} ms (the limit is ${1000 * this.slow} ms)`, 'the host unloads plugins on reload and quit; stop and join your threads without waiting on slow work');
      else this.r('pass', 'shutdown', 'shutdown', `shutdown returned in ${shutdownMs.toFixed(0)} ms`);
    }
    let leaked: number[] = [];
    if (this.enabled('threads') && threadsBefore.size > 0) {
      await sleep(100);
      leaked = [...threadIds()].filter((t) => !threadsBefore.has(t));
      if (leaked.length) {
        this.r('fail', 'threads', 'shutdown', `${leaked.length} thread${leaked.length > 1 ? 's' : ''} still running after shutdown returned (tid ${leaked.join(', ')})`, 'join every thread you started in your shutdown hook; the host unmaps your code next, and a running thread then crashes the player');
      } else this.r('pass', 'threads', 'shutdown', "shutdown joined the plugin's threads");
    }
    // A thread left running would jump into unmapped code: keep the library mapped then.
    if (!this.opts.keepLoaded && leaked.length === 0) gen.closeLibrary();
  }

  private checkExports(file: string): void {
    if (!/\.so$/i.test(file)) return;
    let out: string;
    try {
      out = execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      this.r('info', 'exports', 'exports', 'nm is not installed: exported symbols not checked');
      return;
    }
    const ignore = new Set(['stellatune_plugin_entry', '_init', '_fini', '__bss_start', '_edata', '_end']);
    const extra = out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 3 && /^[TDBRVWiu]$/.test(f[1]!) && !ignore.has(f[2]!))
      .map((f) => f[2]!);
    if (extra.length) {
      this.r('warn', 'exports', 'exports', `exports ${extra.length} symbol${extra.length > 1 ? 's' : ''} beyond stellatune_plugin_entry: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', …' : ''}`, 'build with -fvisibility=hidden (CMAKE_C_VISIBILITY_PRESET hidden) and mark only the entry ST_EXPORT; exported names can clash with other plugins');
    } else this.r('pass', 'exports', 'exports', 'only stellatune_plugin_entry is exported');
  }

  private async checkCapability(gen: PluginGeneration, cap: CapabilityInfo): Promise<void> {
    const step = `${cap.kind}/${cap.typeId}`;
    this.current = step;
    const schema = cap.configSchema;
    let config = (this.opts.config ?? cap.defaultConfig) as Record<string, unknown>;
    if (this.enabled('schema')) {
      const problem = schemaProblem(schema);
      if (problem) this.r('fail', 'schema', step, `the config schema is not a valid JSON Schema: ${problem}`, 'the host validates configs with it (draft 2020-12, or draft-07 with "$schema"); fix the schema text');
      else {
        if ((schema as { type?: unknown }).type !== 'object') this.r('warn', 'schema', step, 'the config schema should be {"type":"object", ...}', 'configs are JSON objects');
        const issues = validateConfig(schema, cap.defaultConfig);
        if (issues.length) this.r('fail', 'schema', step, `the default config breaks the schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, 'make default_config_json satisfy config_schema_json');
        else this.r('pass', 'schema', step, 'the schema compiles and the default config passes it');
        if (this.opts.config) {
          const given = validateConfig(schema, this.opts.config);
          if (given.length) this.r('fail', 'schema', step, `--config breaks the schema: ${given.map((i) => `${i.path} ${i.message}`).join('; ')}`);
        }
      }
    }
    if (typeof config !== 'object' || config === null) config = {};
    const configJson = JSON.stringify(config);
    let instance: NativeInstance & { destroy(): void };
    try {
      instance = createInstance(gen, cap.kind, cap.typeId, configJson, { sampleRate: 48000, channels: 2 });
      this.r('pass', 'load', step, 'create_instance with the config');
    } catch (err) {
      this.r('fail', 'load', step, `create_instance failed: ${(err as Error).message}`, 'an instance must be creatable with its default config');
      return;
    }
    try {
      if (this.enabled('config')) this.checkConfig(gen, cap, instance, config, step);
      if (this.enabled('state')) this.checkState(instance, step);
      if (instance instanceof SourceInstance || instance instanceof LyricsInstance) await this.checkOps(instance, step);
      else if (this.enabled('process')) this.checkProcess(instance, cap, step);
    } catch (err) {
      this.r('fail', 'process', step, (err as Error).message);
    }
    instance.destroy();
  }

  private checkConfig(gen: PluginGeneration, cap: CapabilityInfo, instance: NativeInstance, config: Record<string, unknown>, step: string): void {
    try {
      const same = instance.planConfigUpdate(JSON.stringify(config));
      if (same.mode === 'reject') this.r('fail', 'config', step, `plan_update rejected the config the instance runs with${same.reason ? ` (${same.reason})` : ''}`, 'the same config must plan as hot_apply or recreate');
      else this.r('pass', 'config', step, `plan for the same config: ${same.mode}`);
      const changed = changedConfig(cap.configSchema, config);
      if (!changed) {
        this.r('info', 'config', step, 'no property to change: plan/apply of a changed config not tried (pass --config)');
        return;
      }
      const text = JSON.stringify(changed);
      const plan = instance.planConfigUpdate(text);
      if (plan.mode === 'reject') {
        this.r('fail', 'config', step, `plan_update rejected a valid changed config ${text}${plan.reason ? `: ${plan.reason}` : ''}`, 'reject only configs the schema cannot express as invalid; anything the schema allows should hot-apply or recreate');
      } else if (plan.mode === 'hot_apply') {
        instance.applyConfigUpdate(text);
        this.r('pass', 'config', step, `a changed config ${text} planned hot_apply and applied`);
      } else {
        const again = createInstance(gen, cap.kind, cap.typeId, text, { sampleRate: 48000, channels: 2 });
        again.destroy();
        this.r('pass', 'config', step, `a changed config ${text} planned recreate; a new instance accepted it`);
      }
    } catch (err) {
      this.r('fail', 'config', step, `config update: ${(err as Error).message}`);
    }
  }

  private checkState(instance: NativeInstance, step: string): void {
    let state: string;
    try {
      state = instance.exportState();
    } catch (err) {
      this.r('fail', 'state', step, `export_state failed: ${(err as Error).message}`);
      return;
    }
    if (state) {
      try {
        JSON.parse(state);
      } catch {
        this.r('fail', 'state', step, `export_state gave text that is not JSON: ${state.slice(0, 80)}`, 'state is JSON text');
        return;
      }
    }
    try {
      instance.importState(state);
      this.r('pass', 'state', step, `export_state → import_state round trip (${state.length} bytes)`);
    } catch (err) {
      this.r('fail', 'state', step, `import_state refused the state export_state gave (${state.slice(0, 60)}): ${(err as Error).message}`, 'import_state must accept what export_state of the same version produced');
    }
  }

  private async checkOps(instance: SourceInstance | LyricsInstance, step: string): Promise<void> {
    const isSource = instance instanceof SourceInstance;
    const request = JSON.stringify(this.opts.request ?? (isSource ? {} : { query: 'test' }));
    const begin = (): NativeOp => (isSource ? instance.beginListItems(request) : instance.beginSearch(request));
    const opName = isSource ? 'list_items' : 'search';

    // One op to completion: notifier, result shape (not needed when only cancel is checked).
    const wanted = (c: CheckName): boolean => !this.opts.skip?.includes(c) && (!this.opts.only?.length || this.opts.only.includes(c));
    if (!(['notify', 'items', 'stream', 'leaks'] as const).some(wanted)) {
      if (this.enabled('cancel')) await this.checkCancel(begin, opName, step);
      return;
    }
    const notifyOn = this.enabled('notify');
    const done = await settleOp(begin(), { deadlineMs: 15000, lateNotifyMs: 150 });
    if (done.error?.code === 'timeout') {
      this.r('fail', 'notify', step, `${opName} with the request ${request} did not finish within 15 s`, 'an op must complete, fail or time out on its own');
      return;
    }
    if (notifyOn) {
      const early = done.notifies.filter((s) => s === 'pending').length;
      if (done.notifies.length === 0 && done.installedState !== 'pending') {
        this.r('info', 'notify', step, `${opName} completed before the notifier was installed: the notifier was not exercised`);
      } else if (done.notifies.length === 0) {
        this.r('fail', 'notify', step, `${opName} left PENDING but never fired the notifier (the host noticed only by polling, up to 250 ms late)`, 'call the notifier once from the thread that completes the op (the SDK does: do not pass ST_SDK_OP_NO_NOTIFY)');
      } else if (early > 0) {
        this.r('fail', 'notify', step, `${opName} fired the notifier while the op was still PENDING`, 'fire it only after the state changed to READY or FAILED');
      } else if (done.notifies.length > 1) {
        this.r('fail', 'notify', step, `${opName} fired the notifier ${done.notifies.length} times for one op`, 'fire it exactly once, when the op leaves PENDING');
      } else this.r('pass', 'notify', step, `${opName} fired the notifier once, after leaving PENDING (${done.answeredMs.toFixed(0)} ms)`);
    }
    let items: Record<string, unknown>[] = [];
    if (done.error) {
      this.r('warn', 'items', step, `${opName} with the request ${request} failed (${done.error.code}: ${done.error.message}); its result was not checked`, 'pass --request and/or --config so the checker exercises an op that works');
    } else if (done.json !== undefined) {
      // Parsed even when the items check is off: the stream check needs a listed track.
      const itemsOn = this.enabled('items');
      const r = (level: CheckLevel, detail: string, fix?: string): void => {
        if (itemsOn) this.r(level, 'items', step, detail, fix);
      };
      let doc: unknown;
      try {
        doc = JSON.parse(done.json);
      } catch (err) {
        r('fail', `the ${opName} result is not JSON (${(err as Error).message}): ${done.json.slice(0, 80)}`, 'return JSON text; building it with cJSON_PrintUnformatted and handing it over with st_sdk_str_copy_foreign avoids hand-made JSON');
      }
      if (doc !== undefined) {
        if (isSource) {
          const issues = listResultIssues(doc);
          if (issues.length) {
            r('fail', `the list result does not match the item shape the host accepts: ${issues.slice(0, 4).map((i) => `${i.path} ${i.message}`).join('; ')}`, 'see source.h: {"items":[{"id":…,"kind":"track"|"folder"|…,"title":…}],"next_offset":…}');
          } else {
            items = (doc as { items: Record<string, unknown>[] }).items;
            r('pass', `the list result matches the host's item shape (${items.length} items)`);
          }
        } else r('pass', 'the search result is JSON');
      }
    }

    if (this.enabled('cancel')) await this.checkCancel(begin, opName, step);
    if (isSource && this.enabled('stream')) await this.checkStream(instance, items, step);
    if (this.enabled('leaks') && !done.error) await this.checkLeaks(begin, opName, step);
  }

  private async checkCancel(begin: () => NativeOp, opName: string, step: string): Promise<void> {
    const ac = new AbortController();
    const running = settleOp(begin(), { deadlineMs: 15000, signal: ac.signal, waitEndMs: 5000 });
    await sleep(5);
    const workers = [...threadIds()].filter((t) => !this.hostThreads.has(t));
    const t0 = performance.now();
    ac.abort();
    // Time until the op leaves PENDING, and until the plugin's threads stop using the CPU.
    let last = threadTicks(workers);
    let quietSince = performance.now();
    let quietAt: number | null = null;
    const watchUntil = t0 + 2000 * this.slow;
    while (performance.now() < watchUntil) {
      await sleep(20);
      const ticks = threadTicks(workers);
      if (ticks !== last) {
        last = ticks;
        quietSince = performance.now();
      } else if (performance.now() - quietSince >= 60) {
        quietAt = quietSince;
        break;
      }
    }
    const c = await running;
    const busyMs = workers.length === 0 ? 0 : (quietAt ?? performance.now()) - t0;
    if (c.endedMs === Infinity) {
      this.r('fail', 'cancel', step, `cancel ignored: the ${opName} op was still PENDING 5 s after cancel`, 'cancel must move a PENDING op to CANCELLED at once (st_sdk_op_begin does, unless ST_SDK_OP_IGNORE_CANCEL)');
    } else if (!c.error && c.json !== undefined && c.endedMs < 10) {
      this.r('info', 'cancel', step, `the ${opName} op completed before cancel could reach it (${c.endedMs.toFixed(0)} ms)`);
    } else if (c.endedMs - 5 > 1000 * this.slow) {
      this.r('fail', 'cancel', step, `cancel ignored: the ${opName} op stayed PENDING ${(c.endedMs - 5).toFixed(0)} ms after cancel`, 'cancel must move a PENDING op to CANCELLED at once');
    } else if (busyMs > 250 * this.slow) {
      this.r('fail', 'cancel', step, `the ${opName} op reported CANCELLED but its work kept running: the plugin's threads were busy ${busyMs.toFixed(0)} ms after cancel (target 100 ms)`, 'check st_sdk_op_cancelled() in loops, sleep with st_sdk_op_sleep_ms, wait on st_sdk_op_cancel_fd');
    } else if (c.endedMs - 5 > 100 * this.slow || busyMs > 100 * this.slow) {
      this.r('warn', 'cancel', step, `a cancelled op left PENDING after ${Math.max(0, c.endedMs - 5).toFixed(0)} ms, work quiet after ${busyMs.toFixed(0)} ms (aim for < ${100 * this.slow} ms)`, 'wake the work on cancel');
    } else {
      this.r('pass', 'cancel', step, `a cancelled op left PENDING after ${Math.max(0, c.endedMs - 5).toFixed(0)} ms; its work was quiet after ${busyMs.toFixed(0)} ms`);
    }
  }

  private async checkStream(instance: SourceInstance, items: Record<string, unknown>[], step: string): Promise<void> {
    const track = items.find((i) => i.kind === undefined || i.kind === 'track');
    if (!track) {
      this.r('info', 'stream', step, 'no track listed: open_stream not tried (pass --request or --config that lists one)');
      return;
    }
    const run = await settleOp(instance.beginOpenStream(JSON.stringify(track)), { deadlineMs: 15000 });
    if (run.error || !run.stream) {
      this.r('fail', 'stream', step, `open_stream on the listed item ${JSON.stringify(track).slice(0, 80)} failed: ${run.error?.code}: ${run.error?.message}`, 'the host hands list items back to open_stream verbatim');
      return;
    }
    const stream = run.stream;
    try {
      const reader = new StreamReader(stream);
      const buf = new Uint8Array(65536);
      const chunks: Buffer[] = [];
      let total = 0;
      for (let n = reader.read(buf); n > 0 && total < 512 * 1024 * 1024; n = reader.read(buf)) {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        total += n;
      }
      const data = Buffer.concat(chunks);
      const problems: string[] = [];
      const size = reader.size();
      if (size && size.status === 0 && size.size !== total) problems.push(`read ${total} bytes to the end but size() says ${size.size}`);
      const tellEnd = reader.tell();
      if (tellEnd && tellEnd.status === 0 && tellEnd.pos !== total) problems.push(`tell() at the end is ${tellEnd.pos}, not ${total}`);
      const seekable = reader.seek(0, 0);
      if (seekable && seekable.status === 0) {
        const t = reader.tell();
        if (t && t.pos !== 0) problems.push(`tell() after seeking to 0 is ${t.pos}`);
        const first = new Uint8Array(Math.min(16, total));
        const n0 = first.length ? reader.read(first) : 0;
        if (n0 !== first.length || !Buffer.from(first).equals(data.subarray(0, first.length))) problems.push('the bytes after seeking to 0 differ from the first read');
        const mid = Math.floor(total / 2);
        const sm = reader.seek(mid, 0);
        if (sm && sm.status === 0) {
          const b = new Uint8Array(Math.min(16, total - mid));
          const n = b.length ? reader.read(b) : 0;
          if (n !== b.length || !Buffer.from(b).equals(data.subarray(mid, mid + b.length))) problems.push(`the bytes after seeking to the middle (${mid}) differ from the first read`);
        } else problems.push(`seek to the middle (${mid}) failed with status ${sm?.status}`);
        const past = reader.seek(total + 1000, 0);
        if (past && past.status === 0) {
          const n = reader.read(buf);
          if (n !== 0) problems.push(`reading after a seek past the end gave ${n} bytes, not 0`);
        }
      } else if (seekable) this.r('info', 'stream', step, 'the stream does not seek (status ' + seekable.status + ')');
      if (problems.length) this.r('fail', 'stream', step, `stream: ${problems.join('; ')}`, 'decoders rely on read/seek/tell/size agreeing (stream.h)');
      else this.r('pass', 'stream', step, `open_stream on a listed track: read ${total} bytes; seek to start, middle and past the end; tell and size agree`);
    } catch (err) {
      this.r('fail', 'stream', step, `stream: ${(err as Error).message}`);
    } finally {
      instance.closeStream(stream);
    }
  }

  private async checkLeaks(begin: () => NativeOp, opName: string, step: string): Promise<void> {
    const n = this.opts.leakOps ?? 24;
    const once = (): Promise<unknown> =>
      runOp(begin(), { deadlineMs: 15000, accept: (r) => (r.kind === 'stream' ? null : r.json.length), pluginId: 'check', opName }).promise.catch(() => 0);
    for (let i = 0; i < 4; i++) await once();
    if (this.opts.underValgrind) {
      // valgrind's allocator makes the RSS meaningless; its leak report judges instead.
      for (let i = 0; i < n; i++) await once();
      this.r('info', 'leaks', step, `${n} more ${opName} ops run for valgrind (its verdict is the valgrind line)`);
      return;
    }
    gc();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < n; i++) await once();
    gc();
    await sleep(20);
    const perOp = (process.memoryUsage().rss - before) / n;
    const kib = (perOp / 1024).toFixed(0);
    const how = 'free what each op allocates; run under valgrind (npx stellatune-plugin-check --valgrind) to find it';
    if (perOp > 256 * 1024) this.r('fail', 'leaks', step, `memory grew by ${kib} KiB per ${opName} op over ${n} ops`, how);
    else if (perOp > 64 * 1024) this.r('warn', 'leaks', step, `memory grew by ${kib} KiB per ${opName} op over ${n} ops`, how);
    else this.r('pass', 'leaks', step, `${n} ${opName} ops: memory stable (${kib} KiB per op)`);
  }

  private checkProcess(instance: NativeInstance, cap: CapabilityInfo, step: string): void {
    if (instance instanceof DspInstance) {
      const block = new Float32Array(512 * 2).map((_, i) => Math.sin(i / 10) * 0.5);
      instance.process(block, 512);
      if (block.some((v) => !Number.isFinite(v))) this.r('fail', 'process', step, 'process_f32 produced NaN or infinity');
      else this.r('pass', 'process', step, `process_f32 on a sine block (latency ${instance.latencyFrames()} frames)`);
    } else if (instance instanceof OutputInstance) {
      const targets = JSON.parse(instance.listTargetsJson() || '{}') as { targets?: unknown[] };
      if (!Array.isArray(targets.targets)) this.r('fail', 'process', step, 'list_targets_json must return {"targets":[...]}');
      else this.r('pass', 'process', step, `${targets.targets.length} targets`);
    } else {
      const exts = cap.extensions.map((e) => `${e.ext}:${e.score}`).join(', ');
      if (exts) this.r('pass', 'process', step, `extensions ${exts}`);
      else this.r('warn', 'process', step, 'the decoder claims no extension', 'list the extensions it decodes with a score');
    }
  }
}

/** Runs every enabled check on `library` in this process, reporting as it goes. */
export async function checkPlugin(library: string, report: (r: CheckResult) => void, opts: CheckOptions = {}): Promise<void> {
  await new Checker(report, opts).run(library);
}

// ---- the CLI: the checks in a child process ---------------------------------------------------------

export interface CheckRun {
  results: CheckResult[];
  exitCode: number;
  crash: CrashReport | null;
}

export interface CrashReport {
  signal: string;
  /** The checker step running when it crashed, and the plugin call, if known. */
  step: string;
  call: string | null;
  thread: string;
  backtrace: string[];
}

/** The compiled checker (the child must be JavaScript, also when this runs from TypeScript). */
function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return self;
  return path.resolve(path.dirname(self), '..', '..', 'dist', 'src-main', 'tools', 'plugin-check.js');
}

/** Frames as "function (file:line)" where addr2line can tell, else "library+offset". */
function symbolize(record: CrashRecord, shadowToOriginal: (p: string) => string): string[] {
  return record.frames.map((f) => {
    const lib = f.library ? shadowToOriginal(f.library) : null;
    let where = f.symbol ?? null;
    if (lib && fs.existsSync(lib) && !/\/node$/.test(lib)) {
      try {
        const out = execFileSync('addr2line', ['-f', '-C', '-e', lib, f.offset], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
        const fn = out[0]?.trim();
        const loc = out[1]?.trim();
        if (fn && fn !== '??') where = `${fn}${loc && !loc.startsWith('??') ? ` (${path.basename(loc.split(' ')[0]!)})` : ''}`;
      } catch {
        // no addr2line: offsets only
      }
    }
    return `${where ?? '??'} in ${lib ? path.basename(lib) : '?'}+${f.offset}`;
  });
}

/** Runs the checks in a child process and collects the results (also what the tests call). */
export async function runChecker(
  library: string,
  opts: CheckOptions = {},
  onResult?: (r: CheckResult) => void,
  how: { valgrind?: boolean } = {},
): Promise<CheckRun & { strictExit: number }> {
  const crashDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-check-crash-'));
  const results: CheckResult[] = [];
  const env = { ...process.env, STELLATUNE_CHECK_CRASH_DIR: crashDir };
  const childArgs = ['--child', path.resolve(library), JSON.stringify(opts)];
  const valgrindLog = path.join(crashDir, 'valgrind.xml');
  // Under valgrind the child is valgrind running node: spawned with the same IPC channel as a fork
  // (node finds it through NODE_CHANNEL_FD), so the results arrive the same way.
  const child: ChildProcess = how.valgrind
    ? spawn('valgrind', [...VALGRIND_ARGS, `--xml-file=${valgrindLog}`, '--log-file=/dev/null', process.execPath, '--expose-gc', childEntry(), ...childArgs], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
    : fork(childEntry(), childArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'], env });
  let progress: CheckResult | null = null;
  child.on('message', (r: CheckResult) => {
    if (r.progress) {
      progress = r;
      return;
    }
    results.push(r);
    onResult?.(r);
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (c, s) => resolve({ code: c, signal: s })),
  );
  let crash: CrashReport | null = null;
  if (signal || code !== 0) {
    const record = readCrashRecords(crashDir).at(-1) ?? null;
    const at = progress as CheckResult | null;
    const original = path.resolve(library);
    crash = {
      signal: record?.signal ?? signal ?? `exit ${code}`,
      step: at ? `${at.step}: ${at.check}` : 'load',
      call: record?.step && record.step !== 'idle' ? record.step : null,
      thread: record ? describeCrashThread(record) : 'unknown (no crash record)',
      backtrace: record ? symbolize(record, (p) => (p.includes(`${path.sep}shadow${path.sep}`) && p.endsWith(path.basename(original)) ? original : p)) : [],
    };
    const detail = `the plugin crashed the checker with ${crash.signal} during ${crash.step}${crash.call ? ` (in ${crash.call})` : ''}, on ${crash.thread}`;
    const r: CheckResult = { level: 'fail', check: 'crash', step: crash.step, detail, fix: `backtrace:\n      ${crash.backtrace.slice(0, 12).join('\n      ')}` };
    results.push(r);
    onResult?.(r);
  }
  if (how.valgrind) {
    for (const r of valgrindFindings(fs.existsSync(valgrindLog) ? fs.readFileSync(valgrindLog, 'utf8') : '', library)) {
      results.push(r);
      onResult?.(r);
    }
  }
  fs.rmSync(crashDir, { recursive: true, force: true });
  const fails = results.filter((r) => r.level === 'fail').length;
  const warns = results.filter((r) => r.level === 'warn').length;
  const exitCode = crash ? 3 : fails ? 1 : 0;
  return { results, exitCode, crash, strictExit: crash ? 3 : fails || warns ? 1 : 0 };
}

const HELP = `usage: stellatune-plugin-check <library.so|.dll|.dylib> [options]
       (in the repository: npm run plugin:check -- <library> [options])

Checks a StellaTune plugin library the way the player loads and uses it.

options:
  --config FILE|JSON   the config to create instances with (default: each capability's default)
  --request JSON       the list_items / lyrics search request (default {} / {"query":"test"})
  --json               print a machine-readable report instead of lines
  --strict             warnings fail too
  --only a,b           run only these checks        --skip a,b   skip these checks
  --leak-ops N         ops run for the leak check (default 24)
  --keep-loaded        never unmap the library (for valgrind/ASan: symbols stay resolvable)
  --valgrind           run the checks under valgrind --leak-check=full (slow)
  --help               this text

checks:
${Object.entries(CHECKS)
  .map(([k, v]) => `  ${k.padEnd(10)} ${v}`)
  .join('\n')}

exit codes: 0 passed (warnings allowed)   1 a check failed, or warned with --strict
            2 bad usage or no such library   3 the plugin crashed the checker`;

function parseJsonArg(value: string, what: string): unknown {
  const text = fs.existsSync(value) ? fs.readFileSync(value, 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is neither a file nor JSON: ${(err as Error).message}`);
  }
}

async function cli(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const opts = JSON.parse(argv[2] ?? '{}') as CheckOptions;
    const dir = process.env.STELLATUNE_CHECK_CRASH_DIR;
    if (dir) installCrashGuard(dir, 'checker');
    await checkPlugin(argv[1] ?? '', (r) => void process.send?.(r), opts);
    // Threads the plugin left running must not keep this process alive.
    process.exit(0);
  }
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      allowPositionals: true,
      options: {
        help: { type: 'boolean' },
        config: { type: 'string' },
        request: { type: 'string' },
        json: { type: 'boolean' },
        strict: { type: 'boolean' },
        only: { type: 'string' },
        skip: { type: 'string' },
        'leak-ops': { type: 'string' },
        'keep-loaded': { type: 'boolean' },
        valgrind: { type: 'boolean' },
      },
    });
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const library = positionals[0];
  if (!library) {
    console.error(HELP);
    return 2;
  }
  if (!fs.existsSync(library)) {
    console.error(`no such library: ${library}`);
    return 2;
  }
  const names = (v: string | undefined): CheckName[] | undefined => {
    if (!v) return undefined;
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((n) => !(n in CHECKS));
    if (bad.length) throw new Error(`unknown check ${bad.join(', ')} (checks: ${Object.keys(CHECKS).join(', ')})`);
    return list as CheckName[];
  };
  const opts: CheckOptions = {};
  try {
    if (values.config) {
      const c = parseJsonArg(values.config, '--config');
      if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('--config must be a JSON object');
      opts.config = c as Record<string, unknown>;
    }
    if (values.request) opts.request = parseJsonArg(values.request, '--request');
    const only = names(values.only);
    const skip = names(values.skip);
    if (only) opts.only = only;
    if (skip) opts.skip = skip;
    if (values['leak-ops']) opts.leakOps = Math.max(1, Number(values['leak-ops']) || 24);
    if (values['keep-loaded'] || values.valgrind) opts.keepLoaded = true;
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (values.valgrind) {
    if (!valgrindInstalled()) {
      console.error('valgrind is not installed (Debian: apt-get install valgrind)');
      return 2;
    }
    // Under valgrind everything runs some 20-50 times slower: a short leak run is enough.
    opts.leakOps ??= 4;
    opts.underValgrind = true;
  }

  const print = (r: CheckResult): void => {
    if (values.json) return;
    const mark = r.level === 'pass' ? 'ok  ' : r.level === 'info' ? '    ' : r.level === 'warn' ? 'WARN' : 'FAIL';
    console.log(`${mark} ${r.step.padEnd(22)} ${r.detail}`);
    if (r.fix) console.log(`     ${''.padEnd(22)} fix: ${r.fix}`);
  };
  const run = await runChecker(library, opts, print, { valgrind: values.valgrind === true });
  const fails = run.results.filter((r) => r.level === 'fail').length;
  const warns = run.results.filter((r) => r.level === 'warn').length;
  const exitCode = values.strict ? run.strictExit : run.exitCode;
  if (values.json) {
    console.log(JSON.stringify({ library: path.resolve(library), strict: values.strict === true, exitCode, fails, warnings: warns, crash: run.crash, results: run.results }, null, 2));
  } else {
    console.log(fails ? `\n${fails} failed, ${warns} warnings` : `\nall checks passed (${warns} warning${warns === 1 ? '' : 's'}${values.strict && warns ? ': --strict fails them' : ''})`);
  }
  return exitCode;
}

const VALGRIND_ARGS = ['--leak-check=full', '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite', '--num-callers=30', '--xml=yes'];

interface ValgrindError {
  kind: string;
  what: string;
  frames: { obj: string; fn: string; where: string }[];
}

const xmlText = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const xmlTag = (block: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(block);
  return m ? xmlText(m[1]!.trim()) : undefined;
};

/** The <error> records of valgrind's XML report (protocol 4): kind, message, stack. */
export function parseValgrindXml(xml: string): { finished: boolean; errors: ValgrindError[] } {
  const errors = [...xml.matchAll(/<error>([\s\S]*?)<\/error>/g)].map(([, b]) => ({
    kind: xmlTag(b!, 'kind') ?? '',
    what: xmlTag(b!, 'what') ?? xmlTag(xmlTag(b!, 'xwhat') ?? '', 'text') ?? (/<xwhat>\s*<text>([\s\S]*?)<\/text>/.exec(b!)?.[1] ?? ''),
    frames: [...(/<stack>([\s\S]*?)<\/stack>/.exec(b!)?.[1] ?? '').matchAll(/<frame>([\s\S]*?)<\/frame>/g)].map(([, f]) => {
      const file = xmlTag(f!, 'file');
      const line = xmlTag(f!, 'line');
      return { obj: xmlTag(f!, 'obj') ?? '', fn: xmlTag(f!, 'fn') ?? '???', where: file ? `${file}${line ? `:${line}` : ''}` : '' };
    }),
  }));
  return { finished: /<state>FINISHED<\/state>/.test(xml), errors };
}

/**
 * What valgrind says about the plugin: memory errors (invalid reads and writes, jumps on
 * uninitialised values, bad frees) and definitely lost blocks with a frame in the library are
 * failures; those that never touch it (node's, the host's) are not the author's and are only
 * counted. Frames name their object file even with debug info in the XML report; the library runs
 * from a shadow copy whose name ends with its own ("g1-…-name.so").
 */
export function valgrindFindings(xml: string, library: string): CheckResult[] {
  const name = path.basename(library);
  const { finished, errors } = parseValgrindXml(xml);
  const inLibrary = (obj: string): boolean => {
    const b = path.basename(obj);
    return b === name || b.endsWith(`-${name}`);
  };
  const mine = errors.filter((e) => e.frames.some((f) => inLibrary(f.obj)));
  const others = errors.length - mine.length;
  const stack = (e: ValgrindError): string =>
    e.frames
      .slice(0, 12)
      .map((f) => `${f.fn}${f.where ? ` (${f.where})` : ''} in ${path.basename(f.obj) || '?'}`)
      .join('\n      ');
  const out: CheckResult[] = [];
  for (const e of mine.slice(0, 8)) {
    const leak = e.kind.startsWith('Leak_');
    out.push({
      level: 'fail',
      check: 'leaks',
      step: 'valgrind',
      detail: leak ? e.what : `memory error in the plugin (${e.kind}): ${e.what}`,
      fix: `${leak ? 'free it on the path that allocated it' : 'fix the access'} (valgrind's stack):\n      ${stack(e)}`,
    });
  }
  if (mine.length > 8) out.push({ level: 'info', check: 'leaks', step: 'valgrind', detail: `${mine.length} valgrind reports in the plugin in all; the first 8 are shown` });
  if (!finished) {
    out.push({ level: 'warn', check: 'leaks', step: 'valgrind', detail: 'valgrind did not report a finished run (did the checker run to the end?)', fix: 'run the checker without --valgrind first' });
  } else if (mine.length === 0) {
    out.push({ level: 'pass', check: 'leaks', step: 'valgrind', detail: `no memory error and nothing definitely lost in ${name}${others ? ` (${others} report(s) outside the plugin, e.g. node's own, not counted)` : ''}` });
  }
  return out;
}

function valgrindInstalled(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Run as a program (also through the package's bin symlink), not when imported.
const realpath = (p: string): string => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};
if (process.argv[1] && realpath(fileURLToPath(import.meta.url)) === realpath(process.argv[1])) {
  process.exitCode = await cli(process.argv.slice(2));
}
