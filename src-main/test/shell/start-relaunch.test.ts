// `npm start` (scripts/start.mjs) relaunches a crashed Electron app once: the crash record the
// crash guard wrote makes the next start quarantine the plugin, so the relaunch comes up without
// it. No Electron binary can be installed here, so a stand-in executable plays the app: it
// records each launch, and dies by SIGSEGV as many times as it is told to.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

let dir: string | null = null;

afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** Runs start.mjs with a stand-in Electron that crashes on its first `crashes` launches. */
async function runStart(crashes: number): Promise<{ code: number | null; out: string; launches: string[] }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-relaunch-'));
  const log = path.join(dir, 'launches');
  const app = path.join(dir, 'electron');
  fs.writeFileSync(
    app,
    ['#!/bin/sh', `echo "$*" >> '${log}'`, `n=$(wc -l < '${log}')`, `if [ "$n" -le ${crashes} ]; then kill -SEGV $$; fi`, 'exit 0', ''].join('\n'),
    { mode: 0o755 },
  );
  const proc = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.mjs'), '--flag'], {
    env: { ...process.env, STELLATUNE_ELECTRON_BINARY: app, STELLATUNE_SHELL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  return { code, out, launches: fs.readFileSync(log, 'utf8').trim().split('\n') };
}

describe('npm start with Electron', () => {
  it('relaunches the app once after a crash, with the same arguments', async () => {
    const r = await runStart(1);
    expect(r.out).toContain('The player app crashed (SIGSEGV); restarting it once.');
    expect(r.launches).toEqual([`${repoRoot} --flag`, `${repoRoot} --flag`]);
    expect(r.code).toBe(0);
  });

  it('ends the run after a second crash instead of looping', async () => {
    const r = await runStart(5);
    expect(r.launches).toHaveLength(2);
    expect(r.code).toBe(1);
  });

  it('does not relaunch an app that exits normally', async () => {
    const r = await runStart(0);
    expect(r.launches).toHaveLength(1);
    expect(r.out).not.toContain('restarting');
    expect(r.code).toBe(0);
  });
});
