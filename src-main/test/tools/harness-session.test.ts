// scripts/harness-session.mjs: the test harness runs in a session of its own at autogroup nice 10
// (the terminal's session keeps its priority), its exit code comes back, and a signal sent to the
// wrapper reaches it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

const wrapper = path.join(repoRoot, 'scripts', 'harness-session.mjs');
const linux = process.platform === 'linux';
const autogroups = linux && fs.existsSync('/proc/self/autogroup');

describe('harness-session', () => {
  it.runIf(linux)('runs the command in a new session, at autogroup nice 10 where the kernel has autogroups', () => {
    // The child prints its session id and its autogroup after a moment (the wrapper writes it just after the spawn).
    const script = "setTimeout(() => { const s = require('fs').readFileSync('/proc/self/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); let g = ''; try { g = require('fs').readFileSync('/proc/self/autogroup', 'utf8').trim(); } catch {} console.log(JSON.stringify({ sid: Number(f[3]), pid: process.pid, group: g })); }, 300)";
    const r = spawnSync(process.execPath, [wrapper, process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { sid: number; pid: number; group: string };
    expect(out.sid).toBe(out.pid); // a session leader
    const mine = fs.readFileSync('/proc/self/stat', 'utf8');
    expect(out.sid).not.toBe(Number(mine.slice(mine.lastIndexOf(')') + 2).split(' ')[3]));
    if (autogroups) expect(out.group).toMatch(/nice 10$/);
    // This process's own autogroup is untouched.
    if (autogroups) expect(fs.readFileSync('/proc/self/autogroup', 'utf8')).not.toMatch(/nice 10$/);
  });

  it('passes the exit code back, and 127 for a command that does not exist', () => {
    const r = spawnSync(process.execPath, [wrapper, process.execPath, '-e', 'process.exit(3)'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    const missing = spawnSync(process.execPath, [wrapper, 'no-such-command-stellatune'], { encoding: 'utf8' });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/no-such-command-stellatune/);
    const none = spawnSync(process.execPath, [wrapper], { encoding: 'utf8' });
    expect(none.status).toBe(2);
  });

  it.runIf(linux)('passes SIGTERM on to the command, which ends', async () => {
    const p = spawn(process.execPath, [wrapper, process.execPath, '-e', "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve) => p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    }));
    p.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
    expect(out).toContain('got SIGTERM');
    expect(code).toBe(7);
  });
});
