// Diagnostics: the control plane's metrics (event-loop delay, per plugin/op outcome counters, live
// op/stream/generation counts), the engine's (underruns, device losses, ring fill) and the
// transports'. The renderer polls snapshot() while the screen is open.
import type { ControlPlane } from '../control/control-plane.js';
import type { PlayerEngine } from '../engine/player-engine.js';
import type { AppInfo } from '../../src-shared/contract.js';
import type { ServiceHandlers } from './router.js';

export interface DiagnosticsDeps {
  control: ControlPlane;
  engine: () => PlayerEngine;
  engineRunning: () => boolean;
  transport: () => { connections: number; pendingCalls: number };
  info: () => AppInfo;
}

export function diagnosticsService(d: DiagnosticsDeps): ServiceHandlers<'diagnostics'> {
  return {
    info: () => d.info(),
    snapshot: () => {
      const m = d.control.metrics();
      return {
        at: Date.now(),
        eventLoop: m.eventLoop,
        ops: m.ops,
        live: m.live,
        plugins: m.plugins,
        engine: d.engineRunning() ? d.engine().metrics() : null,
        transport: d.transport(),
      };
    },
  };
}
