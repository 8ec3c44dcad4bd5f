// Secrets from plugin configs (a Subsonic password): the config fields whose JSON Schema says
// `"format": "password"` or `"writeOnly": true`. They are kept out of the settings files and stored
// one JSON file per plugin in a folder only the user can enter (0700), each file readable only by
// the user (0600), written to a temp file and renamed like the settings. (Electron could put them
// in safeStorage; the browser shell has no keyring binding, so this is the store on both for now.)
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

type Secrets = Record<string, Record<string, unknown>>;

export class SecretStore {
  private readonly cache = new Map<string, Secrets>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and ignored for a folder that already exists.
    fs.chmodSync(dir, 0o700);
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
    } else all[key] = fields;
    const file = this.file(pluginId);
    if (Object.keys(all).length === 0) {
      fs.rmSync(file, { force: true });
      return;
    }
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  private load(pluginId: string): Secrets {
    const hit = this.cache.get(pluginId);
    if (hit) return hit;
    let all: Secrets = {};
    try {
      const raw = JSON.parse(fs.readFileSync(this.file(pluginId), 'utf8')) as unknown;
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) all = raw as Secrets;
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
