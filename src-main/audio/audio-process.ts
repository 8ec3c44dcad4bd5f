// The audio process: drains the shared PCM ring through the DSP chain into PortAudio or an
// OutputSink plugin. Started by the main process with child_process.fork, or as an Electron
// utilityProcess (then messages come through process.parentPort); this file imports nothing from
// Electron.
//
// The DSP chain runs here, after the ring: a DSP change is heard within the device latency, not
// after the ring's second of decoded audio. PortAudio is driven by its callback in C (the
// ring, the DSP chain, volume, fades, position: src-main/plugins/host-lib.ts PaOutput); this
// event loop only opens, reconfigures and watches it. naudiodon lists the devices. A stalled or
// failed device is reopened (falling back to the default device) and counted.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Naudiodon from 'naudiodon';
import { type AudioDevice, DEFAULT_BUFFER_FRAMES, type OutputChoice } from '../../src-shared/player-types.js';
import { GenerationHost, HostedInstance } from '../plugins/capability-host.js';
import { installCrashGuard } from '../plugins/crash-guard.js';
import { createInstance, type DspInstance, type OutputInstance } from '../plugins/instances.js';
import { Ctl32, Ctl64, PaOutput, PcmRing } from '../plugins/host-lib.js';
import { ownerTag } from '../plugins/stale-files.js';
import type { DeviceList, DspPluginRef, FromAudio, SinkPluginRef, ToAudio } from './protocol.js';

type ParentPort = { postMessage(msg: unknown): void; on(ev: 'message', cb: (e: { data: unknown }) => void): void };
const parentPort = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;

function send(msg: FromAudio): void {
  if (parentPort) parentPort.postMessage(msg);
  else process.send?.(msg);
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  send({ type: 'log', level, message });
}

const requireCjs = createRequire(import.meta.url);
let na: typeof Naudiodon | null = null;
function naudiodon(): typeof Naudiodon {
  na ??= requireCjs('naudiodon') as typeof Naudiodon;
  return na;
}

// Output sink plugins run here: a crash in one is recorded like a crash in the main process.
if (process.env.STELLATUNE_CRASH_DIR) installCrashGuard(process.env.STELLATUNE_CRASH_DIR, 'audio', 'output');

let ring: PcmRing | null = null;

interface Format {
  seq: number;
  sampleRate: number;
  channels: number;
}

function ringFormat(r: PcmRing): Format {
  return { seq: r.get32(Ctl32.FORMAT_SEQ), sampleRate: r.get32(Ctl32.SAMPLE_RATE) || 44100, channels: r.get32(Ctl32.CHANNELS) || 2 };
}

/** Shared consumer bookkeeping for both output kinds. */
class Consumer {
  primed = false;
  private wasActive = false;

  constructor(readonly r: PcmRing) {}

  /** Applies a pending flush; after one, an empty ring is not an underrun until data arrives. */
  /** True if a flush was applied. */
  sync(): boolean {
    const flushed = this.r.consumerSync();
    if (flushed) this.primed = false;
    const active = this.r.get32(Ctl32.PRODUCER_ACTIVE) === 1;
    if (active && !this.wasActive) this.primed = false;
    this.wasActive = active;
    return flushed;
  }

  get producerActive(): boolean {
    return this.wasActive;
  }

  noteFill(fill: number): void {
    if (!this.wasActive) return;
    const min = this.r.get32(Ctl32.FILL_MIN);
    if (fill < min) this.r.set32(Ctl32.FILL_MIN, fill);
    this.r.set64(Ctl64.FILL_SUM, this.r.get64(Ctl64.FILL_SUM) + fill);
    this.r.set64(Ctl64.FILL_COUNT, this.r.get64(Ctl64.FILL_COUNT) + 1);
  }
}

interface Output {
  readonly format: Format;
  start(): void;
  /** `lost`: the device failed; release it without waiting for queued audio. */
  stop(lost?: boolean): Promise<void>;
  /** Runs DSP control calls (config, reset, destroy) between the output's process calls. */
  withDsp<T>(fn: () => T): T;
  /** Installs the chain the output runs from its next block on. */
  setDsp(chain: DspInstance[]): void;
}

// ---- PortAudio -----------------------------------------------------------------------------------

let pulseRefusalLogged = false;

class PortAudioOutput implements Output {
  private pa: PaOutput | null = null;
  private lastCallbacks = -1;
  private blocksSeen = 0;
  private lastBlockStatsAt = 0;
  lastCallbackAt = 0;
  openedAt = 0;
  deviceName = '';
  latencyMs = 0;
  firstCallback: (() => void) | null = null;

  constructor(
    readonly format: Format,
    private readonly r: PcmRing,
    private readonly deviceId: number,
    private readonly frames: number,
    private readonly onFormatChange: () => void,
  ) {}

  start(): void {
    const a = naudiodon();
    const devices = a.getDevices();
    const chosen = devices.find((d) => d.id === this.deviceId && d.maxOutputChannels > 0);
    this.blocksSeen = 0;
    // The default device (ALSA's "default" or "pulse" is PulseAudio where a server runs): a
    // PulseAudio stream of our own, a third of the CPU of PortAudio -> ALSA -> the pulse plugin.
    if ((!chosen || chosen.name === 'default' || chosen.name === 'pulse') && process.env.STELLATUNE_OUTPUT_DRIVER !== 'portaudio') {
      try {
        this.pa = PaOutput.openPulse(this.r, this.frames, 'StellaTune');
        this.deviceName = 'PulseAudio';
        this.latencyMs = this.pa.latencyMs;
        this.openedAt = Date.now();
        this.lastCallbackAt = Date.now();
        return;
      } catch (err) {
        if (!pulseRefusalLogged) log('warn', `PulseAudio stream not available (${(err as Error).message}): PortAudio plays instead`);
        pulseRefusalLogged = true;
      }
    }
    this.pa = PaOutput.open(this.r, chosen ? chosen.id : -1, this.frames);
    const info = chosen ?? devices.find((d) => d.maxOutputChannels > 0 && d.name === 'default') ?? devices.find((d) => d.maxOutputChannels > 0);
    this.deviceName = info?.name ?? 'default';
    this.latencyMs = this.pa.latencyMs + (this.frames * 1000) / this.format.sampleRate;
    this.openedAt = Date.now();
    this.lastCallbackAt = Date.now();
  }

  /** Called by the controller's watch timer: format changes, first callback, liveness. */
  watch(): void {
    const pa = this.pa;
    if (!pa) return;
    const state = pa.state;
    if (state === 'start-failed') {
      this.lastCallbackAt = 0; // the device is gone: the watchdog reopens it
      return;
    }
    // Stopped while nothing plays (pa_output.c's idle stop): no callbacks is no stall.
    if (state === 'idle') this.lastCallbackAt = Date.now();
    const n = pa.callbacks;
    if (n !== this.lastCallbacks) {
      this.lastCallbacks = n;
      this.lastCallbackAt = Date.now();
      if (n > 0 && this.firstCallback) {
        const cb = this.firstCallback;
        this.firstCallback = null;
        cb();
      }
    }
    if (pa.formatChanged) this.onFormatChange();
    if (Date.now() - this.lastBlockStatsAt >= 1000) this.publishBlockTimes(pa);
  }

  /** The last second's per-block DSP and output work, p50 / p99, into the ring for the engine's
   * metrics (a second without audio keeps the previous figures). */
  private publishBlockTimes(pa: PaOutput): void {
    this.lastBlockStatsAt = Date.now();
    const { dspNs, outputNs } = pa.blockTimes(this.blocksSeen);
    this.blocksSeen = (this.blocksSeen + dspNs.length) >>> 0;
    if (dspNs.length === 0) return;
    const us = (sorted: Uint32Array, q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000);
    const dsp = Uint32Array.from(dspNs).sort();
    const out = Uint32Array.from(outputNs).sort();
    this.r.set32(Ctl32.DSP_BLOCK_P50_US, us(dsp, 0.5));
    this.r.set32(Ctl32.DSP_BLOCK_P99_US, us(dsp, 0.99));
    this.r.set32(Ctl32.OUTPUT_BLOCK_P50_US, us(out, 0.5));
    this.r.set32(Ctl32.OUTPUT_BLOCK_P99_US, us(out, 0.99));
  }

  withDsp<T>(fn: () => T): T {
    return this.pa ? this.pa.withDspLock(fn) : fn();
  }

  setDsp(chain: DspInstance[]): void {
    this.pa?.setDsp(chain);
  }

  stop(): Promise<void> {
    const pa = this.pa;
    this.pa = null;
    pa?.close();
    return Promise.resolve();
  }
}

// ---- OutputSink plugins ---------------------------------------------------------------------------

let gens: GenerationHost | null = null;

function sinkGen(ref: SinkPluginRef) {
  return (gens as GenerationHost).load(ref.path);
}

function withSink<T>(ref: SinkPluginRef, fn: (inst: OutputInstance) => T): T {
  const inst = createInstance(sinkGen(ref), 'output', ref.typeId, ref.configJson);
  try {
    return fn(inst);
  } finally {
    inst.destroy();
  }
}

class SinkOutput implements Output {
  private inst: OutputInstance | null = null;
  private stopped = false;
  private readonly buf: Float32Array;
  private pending = 0; // samples in buf not yet accepted
  private pendingOff = 0;
  private segFrames = 0; // frames_played at the last flush
  private segRing = 0; // ring index at the last flush
  private lastQueued = 0;
  private readonly chunkFrames: number;
  private chain: DspInstance[] = [];
  /** ReplayGain marks applied as samples are read (st_pcm_gain_state_t; snap at the start). */
  private readonly trackGain = new Float32Array([1, 1, 0, 1]);

  constructor(
    readonly format: Format,
    private readonly consumer: Consumer,
    private readonly ref: SinkPluginRef,
    private readonly target: Record<string, unknown>,
    frames: number,
    private readonly onFormatChange: () => void,
    private readonly onFailure: (message: string) => void,
  ) {
    this.chunkFrames = frames;
    this.buf = new Float32Array(frames * format.channels);
  }

  latencyMs = 0;

  withDsp<T>(fn: () => T): T {
    return fn(); // the chain runs on this thread, between pump steps
  }

  setDsp(chain: DspInstance[]): void {
    this.chain = chain;
  }

  start(): void {
    const inst = createInstance(sinkGen(this.ref), 'output', this.ref.typeId, this.ref.configJson);
    try {
      const targetJson = JSON.stringify(this.target);
      const neg = inst.negotiate(targetJson, { sampleRate: this.format.sampleRate, channels: this.format.channels });
      if (neg.spec.sampleRate !== this.format.sampleRate || neg.spec.channels !== this.format.channels) {
        throw new Error(`the sink wants ${neg.spec.sampleRate} Hz x ${neg.spec.channels}; resampling is not supported`);
      }
      inst.open(targetJson, neg.spec);
    } catch (err) {
      inst.destroy();
      throw err;
    }
    this.inst = inst;
    this.segRing = this.consumer.r.readIndex;
    this.segFrames = 0;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    if (this.stopped || !this.inst) return;
    const r = this.consumer.r;
    const c = this.consumer;
    const ch = this.format.channels;
    const until = performance.now() + 5;
    let delay = 0;
    try {
      while (performance.now() < until) {
        if (c.sync()) {
          // A flush (seek, stop, new track): drop what the sink still queues and restart the
          // played-frames -> ring-index mapping at the new read index.
          this.pending = 0;
          this.inst.reset();
          for (const d of this.chain) d.reset();
          this.trackGain[3] = 1;
          this.segRing = r.readIndex;
          this.segFrames = this.inst.status().framesPlayed;
        }
        if (this.pending === 0) {
          if (r.get32(Ctl32.PAUSED) === 1) break;
          const fill = r.fill;
          if (r.get32(Ctl32.FORMAT_SEQ) !== this.format.seq) {
            this.onFormatChange();
            return;
          }
          c.noteFill(fill);
          const n = r.readGained(this.buf, Math.min(this.buf.length, fill - (fill % ch)), ch, this.trackGain);
          if (n === 0) {
            const st = this.inst.status();
            if (c.producerActive && c.primed && this.lastQueued > 0 && st.queuedFrames === 0) r.add32(Ctl32.UNDERRUNS, 1);
            this.lastQueued = st.queuedFrames;
            this.publish(st.framesPlayed);
            r.waitData(ch, 2);
            break;
          }
          c.primed = true;
          for (const d of this.chain) d.process(this.buf, n / ch);
          const gain = r.getF(Ctl32.VOLUME);
          if (gain !== 1) for (let i = 0; i < n; i++) (this.buf[i] as number) *= gain;
          this.pending = n;
          this.pendingOff = 0;
        }
        const frames = this.pending / ch;
        const accepted = this.inst.write(this.pendingOff === 0 ? this.buf : this.buf.subarray(this.pendingOff), frames);
        this.pendingOff += accepted * ch;
        this.pending -= accepted * ch;
        const st = this.inst.status();
        this.lastQueued = st.queuedFrames;
        this.publish(st.framesPlayed);
        if (accepted < frames) {
          delay = 4; // the sink is full (a paced target): come back when it has played some
          break;
        }
      }
    } catch (err) {
      this.onFailure((err as Error).message);
      return;
    }
    r.add32(Ctl32.HEARTBEAT, 1);
    if (delay > 0 || r.get32(Ctl32.PAUSED) === 1) setTimeout(() => this.pump(), delay || 10);
    else setImmediate(() => this.pump());
  }

  /** Maps the sink's played frames back to a ring index (data since the last flush is contiguous). */
  private publish(framesPlayed: number): void {
    const r = this.consumer.r;
    const idx = this.segRing + Math.max(0, framesPlayed - this.segFrames) * this.format.channels;
    r.set64(Ctl64.PLAYED_INDEX, Math.min(idx, r.readIndex));
  }

  async stop(lost = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const inst = this.inst;
    this.inst = null;
    if (!inst) return;
    try {
      if (!lost) inst.flush();
      inst.close();
    } catch (err) {
      log('warn', `closing the sink: ${(err as Error).message}`);
    } finally {
      inst.destroy();
    }
  }
}

// ---- the controller ---------------------------------------------------------------------------------

let consumer: Consumer | null = null;
let output: Output | null = null;
let choice: OutputChoice = { kind: 'portaudio', deviceId: null, bufferFrames: DEFAULT_BUFFER_FRAMES };
let sinkRef: SinkPluginRef | undefined;
let reopening: Promise<void> | null = null;
let lossAt = 0;
let watchdog: NodeJS.Timeout | null = null;

function deviceFor(c: Extract<OutputChoice, { kind: 'portaudio' }>): number {
  if (c.deviceId !== null && c.deviceId >= 0) return c.deviceId;
  if (c.hostApi) {
    const apis = naudiodon().getHostAPIs();
    const api = apis.HostAPIs.find((h) => h.name === c.hostApi);
    if (api && api.defaultOutput >= 0 && api.defaultOutput < 0xffffffff) return api.defaultOutput;
  }
  return -1;
}

function openOutput(fallback = false): void {
  const r = ring as PcmRing;
  const c = consumer as Consumer;
  const fmt = ringFormat(r);
  c.primed = false;
  if (choice.kind === 'portaudio') {
    const pa = new PortAudioOutput(fmt, r, fallback ? -1 : deviceFor(choice), choice.bufferFrames > 0 ? choice.bufferFrames : DEFAULT_BUFFER_FRAMES, () => void reopen('format'));
    if (lossAt > 0) {
      pa.firstCallback = () => {
        const ms = Date.now() - lossAt;
        lossAt = 0;
        r.set32(Ctl32.LAST_RECOVERY_MS, ms);
        send({ type: 'device-recovered', recoveryMs: ms, fallback });
      };
    }
    pa.start();
    output = pa;
    installDsp(pa, fmt);
    r.set32(Ctl32.OUTPUT_LATENCY_US, Math.round(pa.latencyMs * 1000));
    send({ type: 'opened', kind: 'portaudio', sampleRate: fmt.sampleRate, channels: fmt.channels, latencyMs: pa.latencyMs, device: pa.deviceName });
  } else {
    if (!sinkRef) throw new Error('no sink plugin given');
    const sink = new SinkOutput(fmt, c, sinkRef, choice.target, 4096, () => void reopen('format'), (m) => void deviceLost(m));
    installDsp(sink, fmt);
    output = sink;
    sink.start();
    r.set32(Ctl32.OUTPUT_LATENCY_US, 0);
    send({ type: 'opened', kind: 'plugin', sampleRate: fmt.sampleRate, channels: fmt.channels, latencyMs: 0, device: `${sinkRef.pluginId}/${sinkRef.typeId}` });
  }
}

// ---- the DSP chain (after the ring) ------------------------------------------------------------------

let dspRefs: DspPluginRef[] = [];
let dsp: HostedInstance<'dsp'>[] = [];
let dspSpec: { sampleRate: number; channels: number } | null = null;

const dspKey = (ref: DspPluginRef): string => `${ref.path}#${ref.leaseKey}`;

function sameSpec(a: { sampleRate: number; channels: number } | null, b: { sampleRate: number; channels: number }): boolean {
  return a !== null && a.sampleRate === b.sampleRate && a.channels === b.channels;
}

/** Gives `o` the chain for `spec`, reusing the running instances when the format is the same. */
function installDsp(o: Output, spec: { sampleRate: number; channels: number }, rebuild = false): void {
  if (!rebuild && sameSpec(dspSpec, spec)) {
    o.setDsp(dsp.map((h) => h.instance));
    return;
  }
  const fresh: HostedInstance<'dsp'>[] = [];
  for (const ref of dspRefs) {
    try {
      fresh.push(new HostedInstance((gens as GenerationHost).load(ref.path, dspKey(ref)), 'dsp', ref.typeId, ref.configJson, { sampleRate: spec.sampleRate, channels: spec.channels }));
    } catch (err) {
      log('warn', `dsp ${ref.pluginId}/${ref.typeId} unavailable: ${(err as Error).message}`);
    }
  }
  const old = dsp;
  dsp = fresh;
  dspSpec = { sampleRate: spec.sampleRate, channels: spec.channels };
  o.setDsp(fresh.map((h) => h.instance));
  // The output no longer runs the old instances once setDsp returned.
  o.withDsp(() => {
    for (const h of old) h.destroy();
  });
  (gens as GenerationHost).unloadIdle(new Set(dspRefs.map(dspKey)));
}

/** A DSP config through the host's policy; only an accepted config becomes the one in force. */
function applyDspConfig(pluginId: string, typeId: string, configJson: string): 'hot_applied' | 'recreated' | 'rejected' {
  const ref = dspRefs.find((x) => x.pluginId === pluginId && x.typeId === typeId);
  if (!ref) return 'rejected';
  const h = dsp.find((x) => x.pluginId === pluginId && x.typeId === typeId);
  let outcome: 'hot_applied' | 'recreated' | 'rejected';
  if (h) {
    const o = output;
    const retired: DspInstance[] = [];
    outcome = o ? o.withDsp(() => h.applyConfig(configJson, (old) => retired.push(old))) : h.applyConfig(configJson);
    if (o && retired.length > 0) {
      o.setDsp(dsp.map((x) => x.instance));
      o.withDsp(() => {
        for (const d of retired) d.destroy();
      });
    }
  } else {
    // No instance runs (no output open): a probe answers, so a refused config is refused now.
    const probe = new HostedInstance((gens as GenerationHost).load(ref.path, dspKey(ref)), 'dsp', typeId, ref.configJson, dspSpec ?? { sampleRate: 48000, channels: 2 });
    try {
      outcome = probe.applyConfig(configJson);
    } finally {
      probe.destroy();
    }
  }
  if (outcome !== 'rejected') ref.configJson = configJson;
  return outcome;
}

async function closeOutput(lost = false): Promise<void> {
  const o = output;
  output = null;
  if (o) await o.stop(lost).catch((err: unknown) => log('warn', `closing the output: ${(err as Error).message}`));
}

function reopen(why: 'format' | 'choice'): Promise<void> {
  reopening ??= (async () => {
    try {
      await closeOutput();
      openOutput();
    } catch (err) {
      log('error', `cannot open the output (${why}): ${(err as Error).message}`);
      if (choice.kind === 'portaudio') {
        try {
          openOutput(true);
        } catch (err2) {
          log('error', `the default device failed too: ${(err2 as Error).message}`);
        }
      }
    } finally {
      reopening = null;
    }
  })();
  return reopening;
}

async function deviceLost(message: string): Promise<void> {
  if (reopening) return;
  const r = ring as PcmRing;
  r.add32(Ctl32.DEVICE_LOSSES, 1);
  lossAt = Date.now();
  send({ type: 'device-lost', message });
  reopening = (async () => {
    await closeOutput(true);
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        openOutput(attempt > 0); // the same device first, then the default one
        if (output instanceof SinkOutput) {
          // A sink plugin is back once it accepted the open.
          const ms = Date.now() - lossAt;
          lossAt = 0;
          r.set32(Ctl32.LAST_RECOVERY_MS, ms);
          send({ type: 'device-recovered', recoveryMs: ms, fallback: attempt > 0 });
        }
        return;
      } catch (err) {
        log('warn', `reopen attempt ${attempt + 1} failed: ${(err as Error).message}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    }
  })().finally(() => {
    reopening = null;
  });
}

function startWatchdog(): void {
  // One slow timer: PortAudio runs in its callback; this only notices a format change, the first
  // callback after a recovery and a device that stopped calling back.
  watchdog = setInterval(() => {
    const o = output;
    if (!(o instanceof PortAudioOutput) || reopening) return;
    o.watch();
    const now = Date.now();
    if (now - o.openedAt > 4000 && now - o.lastCallbackAt > 2500) void deviceLost('the device stopped consuming audio');
  }, 200);
}

function listDevices(): DeviceList {
  const a = naudiodon();
  const apis = a.getHostAPIs();
  const defaultOut = apis.HostAPIs[apis.defaultHostAPI]?.defaultOutput ?? -1;
  const devices: AudioDevice[] = a
    .getDevices()
    .filter((d) => d.maxOutputChannels > 0)
    .map((d) => ({
      id: d.id,
      name: d.name,
      hostApi: d.hostAPIName,
      maxOutputChannels: d.maxOutputChannels,
      defaultSampleRate: d.defaultSampleRate,
      isDefault: d.id === defaultOut,
    }));
  return { hostApis: apis.HostAPIs.filter((h) => h.deviceCount > 0).map((h) => h.name), devices };
}

async function handle(msg: ToAudio): Promise<void> {
  const reply = (id: number, fn: () => unknown | Promise<unknown>): Promise<void> =>
    Promise.resolve()
      .then(fn)
      .then(
        (value) => send({ type: 'reply', id, ok: true, value }),
        (err: unknown) => send({ type: 'reply', id, ok: false, error: (err as Error)?.message ?? String(err) }),
      );
  switch (msg.type) {
    case 'init':
      ring = PcmRing.open(msg.ringName);
      // A folder of this process's own, which the next start removes if it was killed.
      gens = new GenerationHost({ shadowDir: path.join(msg.shadowDir, ownerTag()), dataRoot: msg.dataRoot });
      consumer = new Consumer(ring);
      ring.consumerSync();
      startWatchdog();
      send({ type: 'ready', pid: process.pid });
      return;
    case 'set-output':
      return reply(msg.id, async () => {
        const prevChoice = choice;
        const prevSink = sinkRef;
        choice = msg.choice;
        sinkRef = msg.sink;
        await reopening;
        await closeOutput();
        try {
          openOutput();
        } catch (err) {
          choice = prevChoice;
          sinkRef = prevSink;
          try {
            openOutput();
          } catch {
            // nothing plays until the next set-output
          }
          throw err;
        }
      });
    case 'list-devices':
      return reply(msg.id, () => listDevices());
    case 'list-targets':
      return reply(msg.id, () => {
        const json = withSink(msg.sink, (inst) => inst.listTargetsJson());
        const parsed = JSON.parse(json || '{"targets":[]}') as { targets?: unknown };
        return Array.isArray(parsed.targets) ? parsed.targets : [];
      });
    case 'negotiate':
      return reply(msg.id, () =>
        withSink(msg.sink, (inst) => inst.negotiate(JSON.stringify(msg.target), { sampleRate: msg.sampleRate, channels: msg.channels })),
      );
    case 'dsp-chain':
      return reply(msg.id, () => {
        dspRefs = msg.chain;
        if (output && dspSpec) installDsp(output, dspSpec, true);
        else {
          for (const h of dsp) h.destroy();
          dsp = [];
          dspSpec = null;
        }
      });
    case 'dsp-config':
      return reply(msg.id, () => applyDspConfig(msg.pluginId, msg.typeId, msg.configJson));
    case 'close':
      return reply(msg.id, async () => {
        if (watchdog) clearInterval(watchdog);
        await closeOutput();
        for (const h of dsp) h.destroy();
        dsp = [];
        await gens?.close();
        ring?.close();
        ring = null;
        setTimeout(() => process.exit(0), 20);
      });
  }
}

function onMessage(msg: ToAudio): void {
  handle(msg).catch((err: unknown) => {
    log('error', `${msg.type}: ${(err as Error)?.message ?? String(err)}`);
    // Without the ring there is nothing to do; exiting lets the parent see the failure.
    if (msg.type === 'init') setTimeout(() => process.exit(1), 20);
  });
}

if (parentPort) parentPort.on('message', (e) => onMessage(e.data as ToAudio));
else {
  process.on('message', (m) => onMessage(m as ToAudio));
  // The parent is gone: nothing can restart us or read the ring.
  process.on('disconnect', () => process.exit(0));
}
