// Per-plugin persisted settings: enabled/disabled, the applied config of each capability, and the
// state each capability exported. One JSON file per plugin, written to a temp file and renamed,
// so a crash mid-write never leaves a torn file; the folder is the user's alone (0700, files 0600).
// Writes are asynchronous and coalesced: a change takes effect at once in memory, and the file
// follows off the main loop (a synchronous write there, on a busy disk, was a loop stall of its
// own during hot reloads); changes made in one turn of the loop become one write. `flush` waits for
// them; a process that exits before they land writes what is left synchronously on its way out.
// Config fields the capability's schema marks as secret go to a secret store instead (the OS
// keyring or 0600 files, see secret-vault.ts) and are merged back when the config is read; what
// leaves for the renderer has them masked (`forDisplay`), and log text has them scrubbed.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ControlError } from './errors.js';
import { FileSecretStore, isPlainObject, MIN_SCRUBBED_LENGTH, scrubSecrets, type SecretHolder } from './secret-store.js';

export interface PluginSettings {
  enabled: boolean;
  /** "kind/typeId" -> applied config. */
  configs: Record<string, unknown>;
  /** "kind/typeId" -> exported state JSON text. */
  states: Record<string, string>;
}

export function capabilityKey(kind: string, typeId: string): string {
  return `${kind}/${typeId}`;
}

const SAFE_ID = /^[a-z0-9][a-z0-9._-]*$/;

export interface PluginSettingsOptions {
  /** Where secret config fields are kept: a store, or the folder of a file store. */
  secrets?: SecretHolder;
  secretsDir?: string;
  /** The config fields of a capability that are secrets (from its config schema). */
  secretFields?: (pluginId: string, kind: string, typeId: string) => string[];
}

/** Stores with writes not yet on disk, for the exit handler (one handler for all of them). */
const unsavedStores = new Set<PluginSettingsStore>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const store of unsavedStores) store.flushSync();
  });
}

export class PluginSettingsStore {
  private readonly cache = new Map<string, PluginSettings>();
  readonly secrets: SecretHolder | null;
  /** Plugins whose settings changed since their file was last written (or began to be). */
  private readonly dirty = new Set<string>();
  /** Plugins whose file is being written now: not on disk until the rename has landed. */
  private readonly writing = new Set<string>();
  /** Plugins whose last write failed: written again with their next change, or at exit. */
  private readonly failed = new Set<string>();
  /** The write loop while it runs. */
  private writer: Promise<void> | null = null;
  /** Write errors since the last flush (a full disk): flush reports the last one. */
  private writeError: Error | null = null;
  /** Files written so far (each a temp file and a rename), for tests and diagnostics. */
  writes = 0;

  constructor(
    private readonly dir: string,
    private readonly opts: PluginSettingsOptions = {},
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    this.secrets = opts.secrets ?? (opts.secretsDir ? new FileSecretStore(opts.secretsDir) : null);
  }

  /** Ids of plugins saved as disabled (read at start-up, before plugins load). */
  disabledIds(): string[] {
    const ids: string[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (!this.get(id).enabled) ids.push(id);
    }
    return ids;
  }

  get(pluginId: string): PluginSettings {
    const hit = this.cache.get(pluginId);
    if (hit) return hit;
    let settings: PluginSettings = { enabled: true, configs: {}, states: {} };
    try {
      const raw = JSON.parse(fs.readFileSync(this.file(pluginId), 'utf8')) as Partial<PluginSettings>;
      settings = {
        enabled: raw.enabled !== false,
        configs: typeof raw.configs === 'object' && raw.configs ? raw.configs : {},
        states: typeof raw.states === 'object' && raw.states ? raw.states : {},
      };
    } catch {
      // missing or unreadable: defaults (a corrupt file is replaced on the next write)
    }
    this.cache.set(pluginId, settings);
    return settings;
  }

  config(pluginId: string, kind: string, typeId: string): unknown {
    const key = capabilityKey(kind, typeId);
    const stored = this.get(pluginId).configs[key];
    const secret = this.secrets?.get(pluginId, key);
    return secret && isPlainObject(stored) ? { ...stored, ...secret } : stored;
  }

  state(pluginId: string, kind: string, typeId: string): string {
    const key = capabilityKey(kind, typeId);
    const held = this.secrets?.get(pluginId, `state:${key}`)?.state;
    return typeof held === 'string' ? held : (this.get(pluginId).states[key] ?? '');
  }

  /** The secret fields of a capability that hold a value now. */
  storedSecretFields(pluginId: string, kind: string, typeId: string): string[] {
    const secret = this.secrets?.get(pluginId, capabilityKey(kind, typeId));
    return secret ? Object.keys(secret).filter((k) => secret[k] !== '' && secret[k] !== null && secret[k] !== undefined) : [];
  }

  /**
   * `config` as sent by the renderer, with the secret fields it left out (the form shows a stored
   * secret as "stored (unchanged)" and never has its value) filled from the store. A field sent,
   * even as "", replaces the stored one.
   */
  withKeptSecrets(pluginId: string, kind: string, typeId: string, config: Record<string, unknown>): Record<string, unknown> {
    const secret = this.secrets?.get(pluginId, capabilityKey(kind, typeId));
    if (!secret) return config;
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(secret)) if (!(k in config)) kept[k] = v;
    return Object.keys(kept).length ? { ...config, ...kept } : config;
  }

  /** Secret values on their way to a plugin, before they are stored: the plugin may log them while
   * it applies the config. */
  private readonly seen = new Set<string>();

  /** Makes the secret fields of `config` known to `scrub` (call before a plugin sees it). */
  noteSecrets(pluginId: string, kind: string, typeId: string, config: Record<string, unknown>): void {
    for (const k of this.opts.secretFields?.(pluginId, kind, typeId) ?? []) {
      const v = config[k];
      if (typeof v === 'string' && v.length >= MIN_SCRUBBED_LENGTH) this.seen.add(v);
    }
  }

  /** `text` with every secret this process knows replaced by ***. */
  scrub(text: string): string {
    const values = [...(this.secrets?.values() ?? []), ...this.seen];
    return values.length ? scrubSecrets(text, values) : text;
  }

  /** Until every change made so far is on disk, the secrets included (a keyring writes
   * asynchronously). Rejects with the last write error, if any (the change stays in memory and is
   * written again with the next one). */
  async flush(): Promise<void> {
    while (this.writer) await this.writer;
    await this.secrets?.flush();
    const err = this.writeError;
    this.writeError = null;
    if (err) throw err;
  }

  /** Writes every change not yet on disk, synchronously (the process is exiting). */
  flushSync(): void {
    for (const id of new Set([...this.writing, ...this.dirty, ...this.failed])) {
      const file = this.file(id);
      const tmp = `${file}.${process.pid}.exit.tmp`;
      try {
        fs.writeFileSync(tmp, JSON.stringify(this.get(id), null, 2), { mode: 0o600 });
        fs.renameSync(tmp, file);
        this.writes++;
      } catch {
        // nothing more can be done on the way out
      }
    }
    this.dirty.clear();
    this.writing.clear();
    this.failed.clear();
    unsavedStores.delete(this);
  }

  setEnabled(pluginId: string, enabled: boolean): void {
    this.update(pluginId, (s) => {
      s.enabled = enabled;
    });
  }

  setConfig(pluginId: string, kind: string, typeId: string, config: unknown): void {
    const key = capabilityKey(kind, typeId);
    let open = config;
    if (this.secrets && isPlainObject(config)) {
      const secretKeys = new Set(this.opts.secretFields?.(pluginId, kind, typeId) ?? []);
      const rest: Record<string, unknown> = {};
      const hidden: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(config)) (secretKeys.has(k) ? hidden : rest)[k] = v;
      // The secret first: a crash between the two writes must not leave it only in the settings.
      this.secrets.set(pluginId, key, hidden);
      open = rest;
    }
    this.update(pluginId, (s) => {
      s.configs[key] = open;
    });
  }

  setState(pluginId: string, kind: string, typeId: string, state: string): void {
    const key = capabilityKey(kind, typeId);
    // A plugin may put its credentials into the state it exports: such a state is kept with the
    // secrets, not in the settings file.
    const secret = this.secrets?.get(pluginId, key);
    const holdsSecret = secret !== undefined && Object.values(secret).some((v) => typeof v === 'string' && v.length >= 4 && state.includes(v));
    this.secrets?.set(pluginId, `state:${key}`, holdsSecret ? { state } : {});
    this.update(pluginId, (s) => {
      if (state === '' || holdsSecret) delete s.states[key];
      else s.states[key] = state;
    });
  }

  private update(pluginId: string, change: (s: PluginSettings) => void): void {
    this.file(pluginId); // an unsafe id throws here, before anything changes
    change(this.get(pluginId));
    this.dirty.add(pluginId);
    installExitHook();
    unsavedStores.add(this);
    this.writer ??= this.writeLoop();
  }

  /** Writes the changed plugins' files until none is left. One turn of the loop passes first, so
   * the changes of one dispatch (state, config, enabled) become one write. */
  private async writeLoop(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.dirty.size > 0) {
        const ids = [...this.dirty];
        this.dirty.clear();
        for (const id of ids) {
          this.writing.add(id);
          const file = this.file(id);
          const tmp = `${file}.${process.pid}.tmp`;
          try {
            // The text is taken now: a change made while this write runs marks the plugin dirty
            // again and is written next.
            await fsp.writeFile(tmp, JSON.stringify(this.get(id), null, 2), { mode: 0o600 });
            await fsp.rename(tmp, file);
            this.writes++;
            this.failed.delete(id);
          } catch (err) {
            this.writeError = err as Error;
            this.failed.add(id);
            await fsp.rm(tmp, { force: true }).catch(() => {});
          } finally {
            this.writing.delete(id);
          }
        }
      }
    } finally {
      this.writer = null;
      if (this.dirty.size === 0 && this.writing.size === 0 && this.failed.size === 0) unsavedStores.delete(this);
    }
  }

  private file(pluginId: string): string {
    if (!SAFE_ID.test(pluginId)) throw new ControlError({ code: 'invalid_argument', message: `unsafe plugin id for a file name: ${pluginId}`, pluginId });
    return path.join(this.dir, `${pluginId}.json`);
  }
}

