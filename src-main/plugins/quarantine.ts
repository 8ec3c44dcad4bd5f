// The quarantine book: library builds that crashed the player. At start the registry folds the
// crash records the guard wrote (crash-guard.ts) into this book, keyed by the build's fingerprint,
// and refuses to load a quarantined build until the user says "Enable anyway". Another build of
// the same plugin (another fingerprint) is tried again. A build that was let in and crashes again
// is quarantined again.
import fs from 'node:fs';
import path from 'node:path';
import { type CrashRecord, describeCrashThread, readCrashRecords } from './crash-guard.js';

export interface QuarantineEntry {
  fingerprint: string;
  pluginId: string | null;
  signal: string;
  /** The plugin call the crashing thread was in (begin_list_items, process_f32, …), if known. */
  step: string | null;
  thread: string;
  process: string;
  atMs: number;
  /** How many crash records named this build. */
  crashes: number;
}

interface BookFile {
  version: 1;
  entries: QuarantineEntry[];
  /** Builds the user let in despite a crash ("Enable anyway"). */
  allowed: string[];
}

export class QuarantineBook {
  private readonly entries = new Map<string, QuarantineEntry>();
  private readonly allowed = new Set<string>();

  /**
   * @param crashDir where the crash guard writes records (they are folded in and removed)
   * @param bookFile where the book persists
   */
  constructor(
    private readonly crashDir: string,
    private readonly bookFile: string,
    private readonly log?: (message: string) => void,
  ) {
    this.load();
    this.absorbRecords();
  }

  /** Folds new crash records into the book (at start; also usable after a child process died). */
  absorbRecords(): CrashRecord[] {
    const records = readCrashRecords(this.crashDir);
    const blamed = records.filter((r) => r.fingerprint);
    for (const r of blamed) {
      const fp = r.fingerprint!;
      const prev = this.entries.get(fp);
      this.entries.set(fp, {
        fingerprint: fp,
        pluginId: r.pluginId || prev?.pluginId || null,
        signal: r.signal,
        step: r.step && r.step !== 'idle' ? r.step : null,
        thread: describeCrashThread(r),
        process: r.process,
        atMs: r.timeMs,
        crashes: (prev?.crashes ?? 0) + 1,
      });
      // A build let in once and crashing again is quarantined again.
      this.allowed.delete(fp);
      this.log?.(`${r.pluginId || r.library} (${fp}) crashed the ${r.process} process with ${r.signal}${r.step ? ` in ${r.step}` : ''}; quarantined`);
    }
    if (records.length) {
      this.save();
      for (const r of records) fs.rmSync(r.file, { force: true });
    }
    return blamed;
  }

  /** The entry that keeps this build out, or null when it may load. */
  blocking(fingerprint: string): QuarantineEntry | null {
    if (this.allowed.has(fingerprint)) return null;
    return this.entries.get(fingerprint) ?? null;
  }

  entry(fingerprint: string): QuarantineEntry | null {
    return this.entries.get(fingerprint) ?? null;
  }

  /** "Enable anyway": this build may load from now on (until it crashes again). */
  allow(fingerprint: string): void {
    this.allowed.add(fingerprint);
    this.save();
  }

  private load(): void {
    try {
      const raw = JSON.parse(fs.readFileSync(this.bookFile, 'utf8')) as Partial<BookFile>;
      for (const e of raw.entries ?? []) if (e && typeof e.fingerprint === 'string') this.entries.set(e.fingerprint, e);
      for (const fp of raw.allowed ?? []) if (typeof fp === 'string') this.allowed.add(fp);
    } catch {
      // no book yet (or an unreadable one: start clean rather than refuse to start)
    }
  }

  private save(): void {
    const data: BookFile = { version: 1, entries: [...this.entries.values()], allowed: [...this.allowed] };
    fs.mkdirSync(path.dirname(this.bookFile), { recursive: true });
    const tmp = `${this.bookFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data, null, 2));
    fs.renameSync(tmp, this.bookFile);
  }
}
