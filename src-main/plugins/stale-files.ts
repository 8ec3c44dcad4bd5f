// What a killed or crashed core (or audio process) leaves behind, cleaned at the next start: its shadow copies of
// plugin libraries (every start copies each loaded library) and half-written `*.tmp` files.
// Two cores may run at once on one app home (a second window, a test beside a running app), so
// only what no live process owns is removed. Each core keeps its shadow copies in a folder named
// after its pid and the pid's start time (pids are reused; the pair is not), and writes its temp
// files as `<file>.<pid>.tmp`.
import fs from 'node:fs';
import path from 'node:path';

/** The kernel's start time of `pid` (Linux, clock ticks since boot), or null where unknown. */
function startTimeOf(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** This process's owner tag: `<pid>-<start time>` (or `<pid>-0` where the start time is unknown). */
export function ownerTag(pid = process.pid): string {
  return `${pid}-${startTimeOf(pid) ?? '0'}`;
}

/** Is the process that wrote `pid` (started at `start`, when known) still running? */
function ownerAlive(pid: number, start: string | null): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (start === null || start === '0') return true;
  const now = startTimeOf(pid);
  return now === null || now === start;
}

export interface SweepResult {
  shadowCopies: number;
  tempFiles: number;
}

/**
 * Removes shadow copies and temp files whose owner is gone. `shadowRoot` holds one folder per
 * core (`<pid>-<start>`; older builds put `g<lease>-<pid>-…` files there directly); `tempDirs`
 * hold `*.<pid>.tmp` files.
 */
export function sweepStaleFiles(shadowRoot: string, tempDirs: string[]): SweepResult {
  const result: SweepResult = { shadowCopies: 0, tempFiles: 0 };
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(shadowRoot, { withFileTypes: true });
  } catch {
    // no shadow folder yet
  }
  for (const d of entries) {
    const full = path.join(shadowRoot, d.name);
    const folder = d.isDirectory() ? /^(\d+)-(\d+)$/.exec(d.name) : null;
    const legacy = !d.isDirectory() ? /^g\d+-(\d+)-/.exec(d.name) : null;
    if (folder && !ownerAlive(Number(folder[1]), folder[2]!)) {
      result.shadowCopies += fs.readdirSync(full).length;
      fs.rmSync(full, { recursive: true, force: true });
    } else if (legacy && !ownerAlive(Number(legacy[1]), null)) {
      fs.rmSync(full, { force: true });
      result.shadowCopies++;
    }
  }
  for (const dir of tempDirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /\.(\d+)\.tmp$/.exec(name);
      if (m && !ownerAlive(Number(m[1]), null)) {
        fs.rmSync(path.join(dir, name), { force: true });
        result.tempFiles++;
      }
    }
  }
  return result;
}
