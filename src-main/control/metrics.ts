// The seed's first two metrics: how long the main event loop is blocked while plugin control
// calls run, and per plugin/op outcome counters of control requests.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelaySnapshot {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Samples in the histogram. */
  count: number;
}

/** Event-loop delay histogram (perf_hooks); values in milliseconds. */
export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;

  // 20 ms: the sampling timer wakes the main loop at this rate; a 2 ms one cost more CPU than
  // playback itself, and blocks that matter (tens of ms) still show at 20.
  constructor(resolutionMs = 20) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  snapshot(): LoopDelaySnapshot {
    const h = this.histogram;
    const ms = (ns: number): number => Math.round((ns / 1e6) * 1000) / 1000;
    if (h.count === 0) return { p50: 0, p99: 0, max: 0, mean: 0, count: 0 };
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), count: h.count };
  }

  reset(): void {
    this.histogram.reset();
  }

  close(): void {
    this.histogram.disable();
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
