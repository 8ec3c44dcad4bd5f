// The plugin checker: one deliberately broken plugin per check fails (or warns) with the message
// that names the bug; the built-in plugins and the template pass --strict; a crash is reported
// with its step, its thread and a symbolized backtrace; the CLI's options and exit codes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckName, type CheckOptions, type CheckResult, checkPlugin, runChecker } from '../../tools/plugin-check.js';
import { startLrclibServer, type LrclibServer } from '../../tools/net-servers/lrclib-server.js';
import { badFixtureDir, builtinPluginDir, fixturePluginDir, repoRoot, templatePlugin } from '../paths.js';

const bugs = path.join(fixturePluginDir, 'checker-bugs');
const cli = path.join(repoRoot, 'dist', 'src-main', 'tools', 'plugin-check.js');

async function check(lib: string, opts: CheckOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  await checkPlugin(lib, (r) => void (r.progress ? null : results.push(r)), opts);
  return results;
}

const problems = (rs: CheckResult[]): CheckResult[] => rs.filter((r) => r.level === 'fail' || r.level === 'warn');

// fixture -> [the check to run, the level, the message it must produce]
const CASES: [string, CheckName, 'fail' | 'warn', RegExp][] = [
  ['no-notify', 'notify', 'fail', /^list_items left PENDING but never fired the notifier/],
  ['notify-twice', 'notify', 'fail', /^list_items fired the notifier 2 times for one op$/],
  ['notify-early', 'notify', 'fail', /^list_items fired the notifier while the op was still PENDING$/],
  ['cancel-ignored', 'cancel', 'fail', /^cancel ignored: the list_items op stayed PENDING \d+ ms after cancel$/],
  ['cancel-busy', 'cancel', 'fail', /^the list_items op reported CANCELLED but its work kept running: the plugin's threads were busy \d+ ms after cancel/],
  ['bad-json', 'items', 'fail', /^the list_items result is not JSON \(/],
  ['bad-items', 'items', 'fail', /^the list result does not match the item shape the host accepts: items\[0\]\.id is required/],
  ['slow-shutdown', 'shutdown', 'fail', /^shutdown took 1\d\d\d ms \(the limit is 1000 ms\)$/],
  ['leak', 'leaks', 'fail', /^memory grew by \d+ KiB per list_items op over \d+ ops$/],
  ['stream-bad', 'stream', 'fail', /^stream: read 4096 bytes to the end but size\(\) says 8192/],
  ['exports', 'exports', 'warn', /^exports 1 symbol beyond stellatune_plugin_entry: checker_bug_exported_helper$/],
  ['bad-default', 'schema', 'fail', /^the default config breaks the schema: limit must be ≥ 1$/],
  ['bad-schema', 'schema', 'fail', /^the config schema is not a valid JSON Schema: /],
  ['state-roundtrip', 'state', 'fail', /^import_state refused the state export_state gave \(\{"limit":10\}\): unexpected state format$/],
  ['plan-reject', 'config', 'fail', /^plan_update rejected a valid changed config \{"limit":11\}: only the default config is accepted$/],
];

let lrclib: LrclibServer;
let music: string;
beforeAll(async () => {
  lrclib = await startLrclibServer();
  music = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-check-music-'));
  fs.writeFileSync(path.join(music, 'tone.wav'), Buffer.alloc(20000, 1));
});
afterAll(async () => {
  await lrclib?.stop();
  fs.rmSync(music, { recursive: true, force: true });
});

describe('plugin:check', () => {
  it('the correct twin of the broken fixtures passes every check', async () => {
    const rs = await check(path.join(bugs, 'good.so'));
    expect(problems(rs)).toEqual([]);
    const passed = new Set(rs.filter((r) => r.level === 'pass').map((r) => r.check));
    for (const c of ['load', 'schema', 'config', 'state', 'notify', 'cancel', 'items', 'stream', 'leaks', 'threads', 'shutdown', 'exports'] as const) expect(passed).toContain(c);
  });

  it.each(CASES)('catches %s with its own message', async (name, only, level, message) => {
    const rs = await check(path.join(bugs, `${name}.so`), { only: [only], leakOps: 12 });
    const found = problems(rs);
    expect(found.map((r) => r.detail)).toContainEqual(expect.stringMatching(message));
    expect(found.find((r) => message.test(r.detail))!).toMatchObject({ level, check: only, fix: expect.any(String) });
  });

  it('reports a thread left running after shutdown (in a child: the thread never ends)', async () => {
    const run = await runChecker(path.join(bugs, 'thread-leak.so'), { only: ['threads'] });
    expect(run.exitCode).toBe(1);
    expect(problems(run.results).map((r) => r.detail)).toContainEqual(expect.stringMatching(/^1 thread still running after shutdown returned \(tid \d+\)$/));
  });

  it('reports a crash with the step, the thread and a symbolized backtrace', async () => {
    const run = await runChecker(path.join(bugs, 'crash.so'));
    expect(run.exitCode).toBe(3);
    expect(run.crash).toMatchObject({ signal: 'SIGSEGV', step: 'source/bug: notify', thread: expect.stringMatching(/^a plugin thread \(tid \d+/) });
    expect(run.crash!.backtrace[0]).toMatch(/^checker_bug_crash_in_work \(checker_bugs\.c:\d+\) in crash\.so\+0x[0-9a-f]+$/);
    expect(run.results.at(-1)).toMatchObject({ level: 'fail', check: 'crash', detail: expect.stringMatching(/^the plugin crashed the checker with SIGSEGV during source\/bug: notify, on a plugin thread/) });
  });

  it('the built-in plugins and the template pass --strict', async () => {
    const runs: [string, CheckOptions][] = [
      ...['eq-dsp', 'lrc-sidecar', 'sndfile-decoder', 'subsonic-source', 'wav-sink'].map((n): [string, CheckOptions] => [path.join(builtinPluginDir, `${n}.so`), {}]),
      [path.join(builtinPluginDir, 'lrclib-lyrics.so'), { config: { base_url: lrclib.url, timeout_ms: 5000 } }],
    ];
    for (const [lib, opts] of runs) {
      const rs = await check(lib, { ...opts, leakOps: 6 });
      expect({ lib: path.basename(lib), problems: problems(rs) }).toEqual({ lib: path.basename(lib), problems: [] });
      expect(rs.at(-1)!.check).toBe('threads');
    }
    // The template through the CLI path (child process), as its guide tells authors to run it;
    // its listed file is opened and read as a stream.
    const t = await runChecker(templatePlugin, { config: { folder: music, extensions: ['wav'] }, leakOps: 6 });
    expect(problems(t.results)).toEqual([]);
    expect(t.strictExit).toBe(0);
    expect(t.results.find((r) => r.check === 'stream' && r.level === 'pass')?.detail).toMatch(/^open_stream on a listed track: read 20000 bytes/);
  });

  it('fails a library built for another ABI with the reason', async () => {
    const results = await check(path.join(badFixtureDir, 'abi-v8.so'));
    expect(problems(results)).toEqual([expect.objectContaining({ level: 'fail', check: 'load', detail: expect.stringMatching(/^wrong_abi: built for plugin ABI 8/) })]);
  });

  it('the CLI: --help, --json, --strict, --only/--skip, and its exit codes', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/exit codes: 0 passed/);
    expect(run('/no/such/lib.so').status).toBe(2);
    expect(run(path.join(bugs, 'good.so'), '--only', 'nonsense').status).toBe(2);
    // A warning passes, --strict fails it.
    expect(run(path.join(bugs, 'exports.so'), '--only', 'exports').status).toBe(0);
    const strict = run(path.join(bugs, 'exports.so'), '--only', 'exports', '--strict', '--json');
    expect(strict.status).toBe(1);
    const report = JSON.parse(strict.stdout) as { exitCode: number; warnings: number; results: CheckResult[] };
    expect(report).toMatchObject({ exitCode: 1, warnings: 1 });
    expect(report.results.some((r) => r.check === 'exports' && r.level === 'warn')).toBe(true);
    // --skip leaves the check out; --config as JSON text; --request reaches the op.
    const skipped = run(path.join(bugs, 'exports.so'), '--skip', 'exports,leaks,cancel,stream,notify', '--strict', '--config', '{"limit":5}', '--request', '{"action":"browse"}');
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toMatch(/a changed config \{"limit":6\}/);
    expect(skipped.stdout).not.toMatch(/beyond stellatune_plugin_entry/);
    const badConfig = run(path.join(bugs, 'good.so'), '--only', 'schema', '--config', '{"limit":1000}');
    expect(badConfig.status).toBe(1);
    expect(badConfig.stdout).toMatch(/--config breaks the schema: limit must be ≤ 100/);
    expect(run(path.join(bugs, 'crash.so'), '--only', 'notify').status).toBe(3);
  });

  it('npx stellatune-plugin-check runs the package bin', () => {
    const r = spawnSync('npx', ['--no-install', 'stellatune-plugin-check', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: stellatune-plugin-check/);
  });
});
