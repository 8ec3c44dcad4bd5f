// The seed's first two metrics: how long the main event loop is blocked while plugin control
// calls run, and per plugin/op outcome counters of control requests.
import { RESOLUTION_MS, type LoopDelayWindow } from '../diagnostics/loop-delay.js';
import { stallMonitor, type StallMonitor } from '../diagnostics/stall-monitor.js';

export interface LoopDelaySnapshot {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Samples in the histogram. */
  count: number;
}

/** Event-loop delay as a 2 ms timer would see it (values in milliseconds, the period included),
 * from the stall monitor's callback timings (diagnostics/loop-delay.ts): no real timer wakes the
 * idle loop 500 times a second to sample it. */
export class EventLoopMonitor {
  private readonly window: LoopDelayWindow;

  constructor(private readonly monitor: StallMonitor = stallMonitor) {
    monitor.start();
    this.window = monitor.loopDelay.open();
  }

  snapshot(): LoopDelaySnapshot {
    this.monitor.loopDelay.catchUp(performance.now());
    const w = this.window;
    const ms = (blockMs: number): number => Math.round((RESOLUTION_MS + blockMs) * 1000) / 1000;
    if (w.count === 0) return { p50: 0, p99: 0, max: 0, mean: 0, count: 0 };
    return { p50: ms(w.blockAt(50)), p99: ms(w.blockAt(99)), max: ms(w.maxBlock), mean: ms(w.meanBlock), count: w.count };
  }

  reset(): void {
    this.monitor.loopDelay.catchUp(performance.now());
    this.window.reset();
  }

  close(): void {
    this.monitor.loopDelay.close(this.window);
  }
}

export type RequestOutcome = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'busy' | 'rejected';

export interface OpCounters {
  pluginId: string;
  op: string;
  completed: number;
  failed: number;
  timeout: number;
  cancelled: number;
  /** Refused at once because the owner's mailbox was full. */
  busy: number;
  /** Refused because the plugin was frozen, disabled or missing. */
  rejected: number;
}

/** Outcome counters per (plugin, op). */
export class ControlCounters {
  private readonly rows = new Map<string, OpCounters>();

  record(pluginId: string, op: string, outcome: RequestOutcome): void {
    const key = `${pluginId}\u0000${op}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { pluginId, op, completed: 0, failed: 0, timeout: 0, cancelled: 0, busy: 0, rejected: 0 };
      this.rows.set(key, row);
    }
    row[outcome]++;
  }

  snapshot(): OpCounters[] {
    return [...this.rows.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => a.pluginId.localeCompare(b.pluginId) || a.op.localeCompare(b.op));
  }

  /** Timeout rate (timeouts / requests that reached the plugin) per plugin/op. */
  static timeoutRate(row: OpCounters): number {
    const total = row.completed + row.failed + row.timeout + row.cancelled;
    return total === 0 ? 0 : row.timeout / total;
  }
}
