// The diagnostics history and stall records as they cross the contract (schemas and types).
// Shared by the core (which keeps them), the renderer (charts, "Save report") and the QA suite.
import { type Infer, s } from './schema.js';

const ms = s.number({ min: 0 });
const count = s.int({ min: 0 });

export const opsDelta = s.object({
  pluginId: s.string(),
  completed: count,
  failed: count,
  timeout: count,
  cancelled: count,
  busy: count,
  rejected: count,
});

export const historySample = s.object({
  at: s.number(),
  /** That second's main-loop block time (event-loop delay beyond the 2 ms sampling period), ms;
   * buckets: sample counts per DELAY_BUCKET_EDGES_MS bucket. */
  loop: s.object({ p50: ms, p99: ms, max: ms, count, buckets: s.array(count, { max: 64 }) }),
  /** The core's main thread in that second (Linux schedstat): ms on a CPU, and ms runnable but
   * waiting for one (the machine busy with other work). A block is only the core's own when the
   * thread was on the CPU for it. */
  mainThread: s.optional(s.nullable(s.object({ cpuMs: ms, waitMs: ms }))),
  /** The machine's steal time in that second, summed over its CPUs (a virtual machine's host
   * running other guests; Linux), ms, or null. */
  machineStealMs: s.optional(s.nullable(ms)),
  /** Plugin calls that ended in that second, per plugin and outcome. */
  ops: s.array(opsDelta),
  underruns: count,
  deviceLosses: count,
  ringFill: s.nullable(s.number({ min: 0, max: 1 })),
  ringFillMin: s.nullable(s.number({ min: 0, max: 1 })),
  blockLatencyP99: s.nullable(ms),
  /** The output callback's per-block DSP and output work, p99 over that second, ms. */
  dspBlockP99: s.optional(s.nullable(ms)),
  outputBlockP99: s.optional(s.nullable(ms)),
  pendingOps: count,
  openStreams: count,
  liveInstances: count,
  loadedGenerations: count,
  stalls: count,
});

export const stallRecord = s.object({
  at: s.number(),
  durationMs: ms,
  callback: s.string(),
  context: s.nullable(s.string()),
  sections: s.array(s.object({ label: s.string(), ms })),
  profile: s.nullable(s.array(s.object({ frame: s.string(), ms }))),
  /** Main-thread CPU time and run-queue wait over the stall (Linux), or null. */
  cpuMs: s.nullable(ms),
  waitMs: s.nullable(ms),
});

export const diagnosticsHistory = s.object({
  startedAt: s.number(),
  intervalMs: count,
  samples: s.array(historySample),
  stalls: s.array(stallRecord),
  /** Stalls ever seen (the list keeps the latest). */
  stallCount: count,
  stallThresholdMs: ms,
});

export type HistorySample = Infer<typeof historySample>;
export type OpsDelta = Infer<typeof opsDelta>;
export type StallRecord = Infer<typeof stallRecord>;
export type DiagnosticsHistoryView = Infer<typeof diagnosticsHistory>;
