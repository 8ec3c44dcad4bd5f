// The one capability-instance host, used by every process that runs plugin instances (the main
// process's owners, the decode worker, the audio process). It answers three questions the same
// way everywhere:
//   - which generation an instance belongs to (a worker thread attaches to main's load; another
//     process loads its own copy of the library),
//   - which config is in force (the saved one, else the capability's default, else {}),
//   - how a new config is carried out: the instance plans it, then it is hot-applied, applied by
//     recreating the instance (state exported from the old one into the new), or rejected.
// A rejected config changes nothing: it is neither used by this instance nor remembered for the
// next one, and callers store a config only when the outcome is not 'rejected'.
import { type AudioSpec, type ConfigPlan, createInstance, type InstanceOfKind } from './instances.js';
import { type CapabilityKindName, PluginGeneration } from './library.js';

export type ConfigOutcomeName = 'hot_applied' | 'recreated' | 'rejected';

/** The config in force: `saved` (what the user applied), else the capability's default, else {}. */
export function configInForce(saved: unknown, capability: { defaultConfig?: unknown } | null | undefined): unknown {
  return saved ?? capability?.defaultConfig ?? {};
}

/** What the policy needs of an instance. */
export interface Reconfigurable {
  planConfigUpdate(configJson: string): ConfigPlan;
  applyConfigUpdate(configJson: string): void;
  exportState(): string;
}

export type ConfigDecision<I> =
  | { outcome: 'hot_applied'; instance: I }
  | { outcome: 'recreated'; instance: I; state: string }
  | { outcome: 'rejected'; reason: string };

/**
 * Plans `configJson` on `instance` and carries the plan out. On 'recreated' the new instance is
 * returned and the caller retires the old one (it may still have work in flight); on 'rejected'
 * nothing was touched.
 */
export function reconfigure<I extends Reconfigurable>(
  instance: I,
  configJson: string,
  recreate: (configJson: string, stateJson: string) => I,
): ConfigDecision<I> {
  const plan = instance.planConfigUpdate(configJson);
  if (plan.mode === 'reject') return { outcome: 'rejected', reason: plan.reason || 'rejected by the plugin' };
  if (plan.mode === 'hot_apply') {
    instance.applyConfigUpdate(configJson);
    return { outcome: 'hot_applied', instance };
  }
  let state = '';
  try {
    state = instance.exportState();
  } catch {
    // A plugin that cannot export its state starts the new instance fresh.
  }
  return { outcome: 'recreated', instance: recreate(configJson, state), state };
}

/** A plugin generation as another thread or process names it. */
export interface GenerationRef {
  pluginId: string;
  leaseId: number;
  shadowPath: string;
  sourcePath: string;
  /** The module table's address; only meaningful inside the process that loaded it. */
  modulePointer: bigint;
}

interface HeldGen {
  gen: PluginGeneration;
  retired: boolean;
}

/**
 * The generations a worker thread or a separate process runs instances of. Generations are
 * attached (same process: main's load) or loaded (another process: its own shadow copy); a
 * generation main has retired is let go once its last instance here is destroyed.
 */
export class GenerationHost {
  private readonly held = new Map<number, HeldGen>();
  private readonly loadedByPath = new Map<string, PluginGeneration>();
  private nextOwnLease = 1;

  constructor(private readonly opts: { onDetached?: (leaseId: number) => void; shadowDir?: string; dataRoot?: string } = {}) {}

  /** The same-process generation `ref` names (a worker thread's view of main's load). */
  attach(ref: GenerationRef): PluginGeneration {
    const hit = this.held.get(ref.leaseId);
    if (hit) return hit.gen;
    const gen = PluginGeneration.attach(ref.shadowPath, ref.modulePointer, ref.leaseId, ref.sourcePath);
    const entry: HeldGen = { gen, retired: false };
    this.held.set(ref.leaseId, entry);
    gen.onIdle(() => {
      if (entry.retired) this.detach(entry);
    });
    return gen;
  }

  /** This process's own generation of the library at `libraryPath` (loaded once). */
  load(libraryPath: string): PluginGeneration {
    let gen = this.loadedByPath.get(libraryPath);
    if (!gen) {
      if (!this.opts.shadowDir || !this.opts.dataRoot) throw new Error('this generation host cannot load libraries');
      gen = PluginGeneration.load(libraryPath, { shadowDir: this.opts.shadowDir, dataRoot: this.opts.dataRoot, leaseId: this.nextOwnLease++ });
      this.loadedByPath.set(libraryPath, gen);
    }
    return gen;
  }

  /** Main retired generation `leaseId`: let it go once nothing here uses it. */
  retire(leaseId: number): void {
    const entry = this.held.get(leaseId);
    if (!entry) {
      // Offered (e.g. as a decoder candidate) but never attached: main may let it go.
      this.opts.onDetached?.(leaseId);
      return;
    }
    entry.retired = true;
    if (entry.gen.refs === 0) this.detach(entry);
  }

  private detach(entry: HeldGen): void {
    if (!this.held.delete(entry.gen.leaseId)) return;
    void entry.gen.unload().finally(() => this.opts.onDetached?.(entry.gen.leaseId));
  }

  /** Lets every generation go (shutdown). */
  async close(): Promise<void> {
    for (const entry of [...this.held.values()]) this.detach(entry);
    for (const gen of this.loadedByPath.values()) await gen.unload().catch(() => {});
    this.loadedByPath.clear();
  }
}

/**
 * One running capability instance with the config in force. `configJson` only ever holds a
 * config the instance accepted, so a recreate (new track format, reload) uses the last good one.
 */
export class HostedInstance<K extends CapabilityKindName> {
  private inst: InstanceOfKind<K>;
  private config: string;

  constructor(
    readonly gen: PluginGeneration,
    readonly kind: K,
    readonly typeId: string,
    configJson: string,
    readonly spec: AudioSpec = { sampleRate: 0, channels: 0 },
  ) {
    this.config = configJson;
    this.inst = createInstance(gen, kind, typeId, configJson, spec);
  }

  get instance(): InstanceOfKind<K> {
    return this.inst;
  }

  get configJson(): string {
    return this.config;
  }

  get pluginId(): string {
    return this.gen.pluginId;
  }

  /** Applies a new config by the plan; the old instance of a recreate is destroyed at once
   * (hosted instances run hard-sync calls only, nothing is in flight between calls). */
  applyConfig(configJson: string): ConfigOutcomeName {
    const r = reconfigure(this.inst, configJson, (json, state) => {
      const fresh = createInstance(this.gen, this.kind, this.typeId, json, this.spec);
      try {
        if (state) fresh.importState(state);
      } catch {
        // state is advisory
      }
      return fresh;
    });
    if (r.outcome === 'rejected') return 'rejected';
    if (r.outcome === 'recreated') {
      const old = this.inst;
      this.inst = r.instance;
      old.destroy();
    }
    this.config = configJson;
    return r.outcome;
  }

  destroy(): void {
    this.inst.destroy();
  }
}
