// Diagnostics: the control plane's metrics (event-loop delay, per plugin/op outcome counters, live
// op/stream/generation counts), the engine's (underruns, device losses, ring fill) and the
// transports'; the stall monitor's records and the one-hour history. The renderer polls snapshot()
// while the screen is open and reads history() when it opens.
import type { ControlPlane } from '../control/control-plane.js';
import type { DiagnosticsHistory } from '../diagnostics/history.js';
import type { StallMonitor } from '../diagnostics/stall-monitor.js';
import type { PlayerEngine } from '../engine/player-engine.js';
import type { AppInfo } from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ServiceHandlers } from './router.js';

export interface DiagnosticsDeps {
  control: ControlPlane;
  engine: () => PlayerEngine;
  engineRunning: () => boolean;
  transport: () => { connections: number; pendingCalls: number };
  info: () => AppInfo;
  stalls: StallMonitor;
  history: DiagnosticsHistory;
  /** diagnostics.testBlock answers only when true (STELLATUNE_TEST_HOOKS=1). */
  testHooks: boolean;
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
        stalls: d.stalls.count,
      };
    },
    history: ({ sinceMs }) => ({
      startedAt: d.history.startedAt,
      intervalMs: d.history.intervalMs,
      samples: d.history.list(sinceMs ?? 0),
      stalls: d.stalls.list().filter((s) => s.at + s.durationMs >= (sinceMs ?? 0)),
      stallCount: d.stalls.count,
      stallThresholdMs: d.stalls.thresholdMs,
    }),
    testBlock: ({ ms }) => {
      if (!d.testHooks) throw new RpcError({ code: 'unknown_method', message: 'no method diagnostics.testBlock' });
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // a deliberate busy block of the main loop
      }
    },
  };
}
