// Output devices and sinks (asked of the audio process through the engine) and the DSP configs
// (the EQ panel).
import type { ControlPlane } from '../control/control-plane.js';
import type { PlayerEngine } from '../engine/player-engine.js';
import { applyDspConfig } from './plugins-service.js';
import type { ServiceHandlers } from './router.js';

export function outputService(control: ControlPlane, engine: () => PlayerEngine): ServiceHandlers<'output'> {
  const ref = (c: { pluginId: string; pluginName: string; typeId: string; displayName: string }) => ({
    pluginId: c.pluginId,
    pluginName: c.pluginName,
    typeId: c.typeId,
    displayName: c.displayName,
  });
  return {
    devices: () => engine().listDevices(),
    sinks: () => control.capabilities('output').map(ref),
    sinkTargets: ({ pluginId, typeId }) => engine().listSinkTargets(pluginId, typeId),
    current: () => engine().status().output,
    set: ({ choice }) => engine().setOutput(choice),
    dsps: () => control.capabilities('dsp').map((c) => ({ ...ref(c), configSchema: c.configSchema ?? null, config: c.config ?? null })),
    applyDsp: ({ pluginId, typeId, config }) => applyDspConfig(control, engine(), pluginId, typeId, config),
  };
}
