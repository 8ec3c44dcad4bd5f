// Secrets from plugin configs (a Subsonic password): the config fields whose JSON Schema says
// `"format": "password"` or `"writeOnly": true`, and exported states that contain one. They are
// kept out of the settings files, out of every reply to the renderer and out of the logs.
//
// Where they live (see secret-vault.ts for the choice): the OS keyring when there is one (the
// freedesktop Secret Service in the browser shell), else — and as the fallback when the keyring
// fails — one JSON file per plugin in a folder only the user can enter (0700), each file readable
// only by the user (0600), written to a temp file and renamed like the settings. The Electron
// shell seals those files with safeStorage (a SecretCipher), so they are ciphertext at rest.
import fs from 'node:fs';
import path from 'node:path';

/** The top-level config fields a capability's schema marks as secret. */
export function secretFields(configSchema: unknown): string[] {
  if (typeof configSchema !== 'object' || configSchema === null) return [];
  const props = (configSchema as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null) return [];
  return Object.entries(props as Record<string, unknown>)
    .filter(([, p]) => typeof p === 'object' && p !== null && ((p as { format?: unknown }).format === 'password' || (p as { writeOnly?: unknown }).writeOnly === true))
    .map(([key]) => key);
}

/** "capability key" ("kind/typeId", or "state:kind/typeId") -> secret fields. */
export type PluginSecrets = Record<string, Record<string, unknown>>;

/** Encrypts secret files at rest (Electron's safeStorage); injected, the core never imports it. */
export interface SecretCipher {
  readonly name: string;
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

/** What the settings store needs of a secret store, whatever keeps the secrets. */
export interface SecretHolder {
  /** Where the secrets are kept, for the log line at start-up ("the Secret Service", …). */
  readonly backend: string;
  get(pluginId: string, key: string): Record<string, unknown> | undefined;
  /** Replaces one capability's secret fields (none: removes them). Takes effect at once for
   * `get`; a store that writes asynchronously finishes by `flush`. */
  set(pluginId: string, key: string, fields: Record<string, unknown>): void;
  /** Every secret string known to this process (loaded or set), for scrubbing logs. */
  values(): string[];
  flush(): Promise<void>;
}

/** Secrets shorter than this are not scrubbed from text: "***" for every "ab" would make logs
 * unreadable and hide little. */
export const MIN_SCRUBBED_LENGTH = 4;

export function secretStrings(all: Iterable<PluginSecrets>): string[] {
  const out = new Set<string>();
  for (const plugin of all) {
    for (const fields of Object.values(plugin)) {
      for (const v of Object.values(fields)) if (typeof v === 'string' && v.length >= MIN_SCRUBBED_LENGTH) out.add(v);
    }
  }
  return [...out];
}

/** `text` with every known secret value replaced by ***, also in the encodings a plugin puts
 * into a logged URL (percent-encoded, hex as Subsonic's "enc:" form). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    for (const form of new Set([s, encodeURIComponent(s), Buffer.from(s, 'utf8').toString('hex')])) {
      if (out.includes(form)) out = out.replaceAll(form, '***');
    }
  }
  return out;
}

const SAFE_FILE_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** One 0600 file per plugin in a 0700 folder, optionally sealed by a cipher. Synchronous. */
export class FileSecretStore implements SecretHolder {
  private readonly cache = new Map<string, PluginSecrets>();
  readonly backend: string;

  constructor(
    private readonly dir: string,
    private readonly cipher: SecretCipher | null = null,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and ignored for a folder that already exists.
    fs.chmodSync(dir, 0o700);
    this.backend = cipher ? `0600 files sealed with ${cipher.name}` : '0600 files in a 0700 folder';
  }

  /** The secret fields stored for one capability ("kind/typeId"), if any. */
  get(pluginId: string, key: string): Record<string, unknown> | undefined {
    return this.load(pluginId)[key];
  }

  set(pluginId: string, key: string, fields: Record<string, unknown>): void {
    const all = this.load(pluginId);
    if (Object.keys(fields).length === 0) {
      if (!(key in all)) return;
      delete all[key];
    } else {
      // Each config apply sets them again, mostly unchanged: the file is written only for a change
      // (a write and a rename on the event loop; QA scenario B saw one block it 155 ms off CPU,
      // the file system busy).
      if (key in all && JSON.stringify(all[key]) === JSON.stringify(fields)) return;
      all[key] = fields;
    }
    this.write(pluginId, all);
  }

  values(): string[] {
    return secretStrings(this.cache.values());
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Every plugin's secrets held in files (for moving them into the keyring). */
  loadAll(): Map<string, PluginSecrets> {
    const out = new Map<string, PluginSecrets>();
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (!SAFE_FILE_ID.test(id)) continue;
      const all = this.load(id);
      if (Object.keys(all).length > 0) out.set(id, all);
    }
    return out;
  }

  /** Replaces one plugin's file as a whole (empty: removes it). */
  write(pluginId: string, all: PluginSecrets): void {
    this.cache.set(pluginId, all);
    const file = this.file(pluginId);
    if (Object.keys(all).length === 0) {
      fs.rmSync(file, { force: true });
      return;
    }
    const text = JSON.stringify(all);
    const body = this.cipher ? JSON.stringify({ sealed: this.cipher.encrypt(text).toString('base64'), by: this.cipher.name }) : text;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  private load(pluginId: string): PluginSecrets {
    const hit = this.cache.get(pluginId);
    if (hit) return hit;
    let all: PluginSecrets = {};
    try {
      let raw = JSON.parse(fs.readFileSync(this.file(pluginId), 'utf8')) as unknown;
      // A sealed file; a plain one (written before a cipher was there) is read as it is and
      // sealed at its next write.
      if (isPlainObject(raw) && typeof raw.sealed === 'string') raw = this.cipher ? (JSON.parse(this.cipher.decrypt(Buffer.from(raw.sealed, 'base64'))) as unknown) : {};
      if (isPlainObject(raw)) all = raw as PluginSecrets;
    } catch {
      // none yet, or unreadable: no secrets
    }
    this.cache.set(pluginId, all);
    return all;
  }

  private file(pluginId: string): string {
    return path.join(this.dir, `${pluginId}.json`);
  }
}

/** The file store under its first name. */
export { FileSecretStore as SecretStore };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `config` without the fields `schema` marks as secret: what a reply to the renderer may show. */
export function withoutSecrets(config: unknown, schema: unknown): unknown {
  const hidden = secretFields(schema);
  if (!hidden.length || !isPlainObject(config)) return config;
  return Object.fromEntries(Object.entries(config).filter(([k]) => !hidden.includes(k)));
}
