// Output devices and sinks (asked of the audio process through the engine) and the DSP configs
// (the EQ panel).
import type { ControlPlane } from '../control/control-plane.js';
import type { PlayerEngine } from '../engine/player-engine.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { withoutSecrets } from '../control/secret-store.js';
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
    devices: async () => ({ ...(await engine().listDevices()), opened: engine().metrics().outputDevice }),
    sinks: () => control.capabilities('output').map(ref),
    sinkTargets: ({ pluginId, typeId }) => engine().listSinkTargets(pluginId, typeId),
    current: () => engine().status().output,
    set: async ({ choice }) => {
      // A device or sink that does not exist is refused, not accepted and reported as current.
      if (choice.kind === 'portaudio') {
        const { hostApis, devices } = await engine().listDevices();
        if (choice.deviceId !== null && choice.deviceId !== -1 && !devices.some((d) => d.id === choice.deviceId && d.maxOutputChannels > 0)) {
          throw new RpcError({ code: 'not_found', message: `no output device ${choice.deviceId}` });
        }
        if (choice.hostApi !== undefined && !hostApis.includes(choice.hostApi)) {
          throw new RpcError({ code: 'not_found', message: `no audio host API ${choice.hostApi}` });
        }
      } else if (!control.capabilities('output').some((c) => c.pluginId === choice.pluginId && c.typeId === choice.typeId)) {
        throw new RpcError({ code: 'not_found', message: `no output sink ${choice.pluginId}/${choice.typeId} is loaded` });
      }
      return engine().setOutput(choice);
    },
    dsps: () => control.capabilities('dsp').map((c) => ({ ...ref(c), configSchema: c.configSchema ?? null, config: withoutSecrets(c.config ?? null, c.configSchema) ?? null })),
    applyDsp: ({ pluginId, typeId, config }) => applyDspConfig(control, engine(), pluginId, typeId, config),
  };
}
