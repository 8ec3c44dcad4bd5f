// Which store keeps the plugins' secrets, chosen once at start-up:
//   - the OS keyring through @napi-rs/keyring (keyring-rs: the freedesktop Secret Service on Linux,
//     pinned so it never falls back to the kernel keyring, which forgets at reboot; the Keychain
//     on macOS; the Credential Manager on Windows), when asked for and it answers within a few
//     seconds. Chosen over libsecret's `secret-tool`: an in-process binding with no CLI to spawn
//     (a spawned `secret-tool store` would take the secret on stdin from a child process we
//     would have to supervise), prebuilt for every platform the app ships on, no system package;
//   - else the 0600 files (FileSecretStore), sealed with the shell's SecretCipher when it has one
//     (Electron's safeStorage).
// The keyring holds one entry per app home (service "StellaTune", account: the settings folder),
// its password the JSON of every plugin's secret fields, so one read at start-up loads them all
// and the keyring's calls (milliseconds each, over D-Bus) never run on a config read. Writes go
// out asynchronously, coalesced, in order; a write the keyring refuses falls back to the files,
// which the next start moves back into the keyring (as it moves secrets kept in files before).
import { FileSecretStore, type PluginSecrets, type SecretCipher, type SecretHolder, secretStrings } from './secret-store.js';

export interface SecretVaultOptions {
  /** The 0700 folder of the file store (also the keyring's fallback). */
  dir: string;
  /** Try the OS keyring first (the real shells; tests and `STELLATUNE_SECRETS=file` leave it off). */
  keyring?: boolean;
  /** Seals the files (Electron's safeStorage). */
  cipher?: SecretCipher;
  /** Names this home's keyring entry (default: `dir`). */
  account?: string;
  log?: (message: string) => void;
  /** How long the keyring may take to answer at start-up (a locked keyring may ask the user). */
  timeoutMs?: number;
}

export const KEYRING_SERVICE = 'StellaTune';

type KeyringModule = typeof import('@napi-rs/keyring');
type AsyncEntry = InstanceType<KeyringModule['AsyncEntry']>;

/** Opens the store the options and the machine allow (never throws: the files always work). */
export async function openSecretStore(opts: SecretVaultOptions): Promise<SecretHolder> {
  const files = new FileSecretStore(opts.dir, opts.cipher ?? null);
  const wanted = opts.keyring && process.env.STELLATUNE_SECRETS !== 'file';
  if (!wanted) return files;
  const why = await KeyringSecretStore.unavailable();
  if (why) {
    opts.log?.(`secrets: no OS keyring (${why}); kept in ${files.backend}`);
    return files;
  }
  try {
    return await KeyringSecretStore.open(files, opts);
  } catch (err) {
    opts.log?.(`secrets: the OS keyring did not answer (${(err as Error).message}); kept in ${files.backend}`);
    return files;
  }
}

export class KeyringSecretStore implements SecretHolder {
  readonly backend: string;
  private writing: Promise<void> | null = null;
  private dirty = false;
  /** Plugins whose secrets a refused write put into files (cleared once the keyring has them). */
  private readonly spilled = new Set<string>();

  private constructor(
    private readonly entry: AsyncEntry,
    private readonly all: Map<string, PluginSecrets>,
    private readonly files: FileSecretStore,
    private readonly log: ((message: string) => void) | undefined,
  ) {
    this.backend = process.platform === 'linux' ? 'the Secret Service (OS keyring)' : 'the OS keyring';
  }

  /** Why the keyring cannot be used here, or null. */
  static async unavailable(): Promise<string | null> {
    // Without a session bus, keyring-rs would try to autolaunch one (X11) and fail slowly.
    if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) return 'no D-Bus session bus';
    try {
      await import('@napi-rs/keyring');
      return null;
    } catch (err) {
      return `@napi-rs/keyring does not load here: ${(err as Error).message}`;
    }
  }

  static async open(files: FileSecretStore, opts: SecretVaultOptions): Promise<KeyringSecretStore> {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    const entry = new AsyncEntry(KEYRING_SERVICE, opts.account ?? opts.dir, { linux: { store: 'secret-service' } });
    const text = await entry.getPassword(AbortSignal.timeout(opts.timeoutMs ?? 5000));
    const all = new Map<string, PluginSecrets>();
    if (text) {
      try {
        const parsed = JSON.parse(text) as Record<string, PluginSecrets>;
        for (const [id, secrets] of Object.entries(parsed)) if (typeof secrets === 'object' && secrets !== null) all.set(id, secrets);
      } catch {
        opts.log?.('secrets: the keyring entry is not JSON; starting without secrets');
      }
    }
    const store = new KeyringSecretStore(entry, all, files, opts.log);
    // Secrets left in files (kept there before, or by a write the keyring refused) move in; the
    // files go once the keyring holds them.
    const inFiles = files.loadAll();
    if (inFiles.size > 0) {
      for (const [id, secrets] of inFiles) all.set(id, { ...all.get(id), ...secrets });
      await store.persist();
      if (!store.dirty) {
        for (const id of inFiles.keys()) files.write(id, {});
        opts.log?.(`secrets: moved the secrets of ${inFiles.size} plugin(s) from files into ${store.backend}`);
      }
    }
    return store;
  }

  get(pluginId: string, key: string): Record<string, unknown> | undefined {
    return this.all.get(pluginId)?.[key];
  }

  set(pluginId: string, key: string, fields: Record<string, unknown>): void {
    const mine = { ...this.all.get(pluginId) };
    if (Object.keys(fields).length === 0) {
      if (!(key in mine)) return;
      delete mine[key];
    } else mine[key] = fields;
    if (Object.keys(mine).length === 0) this.all.delete(pluginId);
    else this.all.set(pluginId, mine);
    this.dirty = true;
    this.writing ??= this.persist();
  }

  values(): string[] {
    return secretStrings(this.all.values());
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Writes the whole map until no change is left unwritten (changes during a write go out in
   * the next one). A refused write lands in the files instead, so nothing is lost. */
  private async persist(): Promise<void> {
    try {
      do {
        this.dirty = false;
        const snapshot = JSON.stringify(Object.fromEntries(this.all));
        try {
          if (this.all.size === 0) await this.entry.deletePassword();
          else await this.entry.setPassword(snapshot);
        } catch (err) {
          this.log?.(`secrets: the OS keyring refused a write (${(err as Error).message}); kept in ${this.files.backend} until it works again`);
          for (const [id, secrets] of this.all) {
            this.files.write(id, secrets);
            this.spilled.add(id);
          }
          this.dirty = true;
          return;
        }
      } while (this.dirty);
      for (const id of this.spilled) this.files.write(id, {});
      this.spilled.clear();
    } finally {
      this.writing = null;
    }
  }
}
