// Per-plugin persisted settings: enabled/disabled, the applied config of each capability, and the
// state each capability exported. One JSON file per plugin, written to a temp file and renamed,
// so a crash mid-write never leaves a torn file.
import fs from 'node:fs';
import path from 'node:path';

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

export class PluginSettingsStore {
  private readonly cache = new Map<string, PluginSettings>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
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
    return this.get(pluginId).configs[capabilityKey(kind, typeId)];
  }

  state(pluginId: string, kind: string, typeId: string): string {
    return this.get(pluginId).states[capabilityKey(kind, typeId)] ?? '';
  }

  setEnabled(pluginId: string, enabled: boolean): void {
    this.update(pluginId, (s) => {
      s.enabled = enabled;
    });
  }

  setConfig(pluginId: string, kind: string, typeId: string, config: unknown): void {
    this.update(pluginId, (s) => {
      s.configs[capabilityKey(kind, typeId)] = config;
    });
  }

  setState(pluginId: string, kind: string, typeId: string, state: string): void {
    this.update(pluginId, (s) => {
      if (state === '') delete s.states[capabilityKey(kind, typeId)];
      else s.states[capabilityKey(kind, typeId)] = state;
    });
  }

  private update(pluginId: string, change: (s: PluginSettings) => void): void {
    const s = this.get(pluginId);
    change(s);
    const file = this.file(pluginId);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s, null, 2));
    fs.renameSync(tmp, file);
  }

  private file(pluginId: string): string {
    if (!SAFE_ID.test(pluginId)) throw new Error(`unsafe plugin id for a file name: ${pluginId}`);
    return path.join(this.dir, `${pluginId}.json`);
  }
}
