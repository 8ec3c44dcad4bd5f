// The plugins screen's backend: every discovered library with its status and capabilities (with
// the config in force), enable/disable/reload, and config apply with the plan's outcome. DSP
// configs also go to the running engine, which hot-applies them on the decode thread.
import type { ControlPlane } from '../control/control-plane.js';
import type { PlayerEngine } from '../engine/player-engine.js';
import { withoutSecrets } from '../control/secret-store.js';
import { configInForce } from '../plugins/capability-host.js';
import type { PluginStatus } from '../plugins/registry.js';
import type { ConfigOutcomeView, PluginView } from '../../src-shared/contract.js';
import type { CoreEvents, ServiceHandlers } from './router.js';

export function pluginView(control: ControlPlane, st: PluginStatus): PluginView {
  return {
    path: st.path,
    origin: st.origin,
    status: st.status,
    pluginId: st.pluginId,
    metadata: st.metadata,
    capabilities: st.capabilities.map((c) => ({
      kind: c.kind,
      typeId: c.typeId,
      displayName: c.displayName,
      configSchema: c.configSchema ?? null,
      defaultConfig: c.defaultConfig ?? null,
      // Secret fields never leave the core: the form learns only that one is stored.
      config: withoutSecrets(configInForce(st.pluginId ? control.settings.config(st.pluginId, c.kind, c.typeId) : undefined, c), c.configSchema),
      storedSecrets: st.pluginId ? control.settings.storedSecretFields(st.pluginId, c.kind, c.typeId) : [],
      extensions: c.extensions,
    })),
    error: st.error ? { ...st.error, message: control.settings.scrub(st.error.message) } : null,
    leaseId: st.leaseId,
    retiredGenerations: st.retiredGenerations,
    quarantine: st.quarantine
      ? (({ fingerprint, signal, step, thread, process, atMs, crashes }) => ({ fingerprint, signal, step, thread, process, atMs, crashes }))(st.quarantine)
      : null,
  };
}

/** Hands a DSP config to the engine (hot-applied there when it can be) and stores it unless the
 * DSP rejected it: a rejected config must not reach the next DSP instance either. */
export async function applyDspConfig(
  control: ControlPlane,
  engine: PlayerEngine,
  pluginId: string,
  typeId: string,
  sent: Record<string, unknown>,
): Promise<ConfigOutcomeView> {
  const config = control.completeConfig(pluginId, 'dsp', typeId, sent);
  control.checkConfig(pluginId, 'dsp', typeId, config);
  const outcome = await engine.setDspConfig(pluginId, typeId, config);
  if (outcome === 'rejected') return { outcome, reason: 'the DSP refused the config' };
  control.settings.setConfig(pluginId, 'dsp', typeId, config);
  return { outcome };
}

export function pluginsService(control: ControlPlane, engine: () => PlayerEngine, events: CoreEvents): ServiceHandlers<'plugins'> {
  const list = (): PluginView[] => control.listPlugins().map((st) => pluginView(control, st));

  // Coalesce bursts (a reload changes several records) into one list event.
  let queued: NodeJS.Timeout | null = null;
  control.registry.on('changed', () => {
    if (queued) return;
    queued = setTimeout(() => {
      queued = null;
      events.emitEvent('plugins', 'didChangeList', list());
    }, 30);
  });

  const viewOf = (st: PluginStatus): PluginView => pluginView(control, st);

  return {
    list,
    enable: async ({ pluginId }) => viewOf(await control.enablePlugin(pluginId)),
    disable: async ({ pluginId }) => viewOf(await control.disablePlugin(pluginId)),
    reload: async ({ pluginId }) => viewOf(await control.reloadPlugin(pluginId)),
    enableAnyway: async ({ path }) => viewOf(await control.enableAnyway(path)),
    applyConfig: async ({ pluginId, kind, typeId, config }) => {
      if (kind === 'dsp') return applyDspConfig(control, engine(), pluginId, typeId, config);
      const r = control.applyConfig(pluginId, kind, typeId, config);
      return r.outcome === 'rejected' ? { outcome: 'rejected', reason: r.reason } : { outcome: r.outcome };
    },
  };
}
