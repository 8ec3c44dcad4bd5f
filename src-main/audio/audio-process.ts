// The audio process: drains the shared PCM ring into PortAudio (naudiodon) or an OutputSink
// plugin. Started by the main process with child_process.fork, or as an Electron utilityProcess
// (then messages come through process.parentPort); this file imports nothing from Electron.
//
// PortAudio: naudiodon's stream blocks for seconds when starved, so the loop always writes a
// full chunk: ring data, topped up with silence when the ring runs dry (counted as an underrun
// when data was due). Position is published as the ring index of audio the device has taken.
// A stalled or failed device is reopened (falling back to the default device) and counted.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Naudiodon from 'naudiodon';
import type { AudioDevice, OutputChoice } from '../../src-shared/player-types.js';
import { createInstance, type OutputInstance } from '../plugins/instances.js';
import { installCrashGuard } from '../plugins/crash-guard.js';
import { PluginGeneration } from '../plugins/library.js';
import { Ctl32, Ctl64, PcmRing } from '../plugins/host-lib.js';
import { ownerTag } from '../plugins/stale-files.js';
import type { DeviceList, FromAudio, SinkPluginRef, ToAudio } from './protocol.js';

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
let shadowDir = '';
let dataRoot = '';

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
}

// ---- PortAudio -----------------------------------------------------------------------------------

const MAX_QUEUE = 3;

class PortAudioOutput implements Output {
  private io: Naudiodon.IoStreamWrite | null = null;
  private stopped = false;
  private readonly buffers: Buffer[] = [];
  private next = 0;
  /** Ring index after each written chunk, newest last (for the played position). */
  private readonly history: number[] = [];
  lastCallbackAt = 0;
  openedAt = 0;
  deviceName = '';
  latencyMs = 0;
  firstCallback: (() => void) | null = null;

  constructor(
    readonly format: Format,
    private readonly consumer: Consumer,
    private readonly deviceId: number,
    private readonly frames: number,
    private readonly onFormatChange: () => void,
    private readonly onFailure: (message: string) => void,
  ) {
    const bytes = frames * format.channels * 4;
    for (let i = 0; i < MAX_QUEUE + 3; i++) this.buffers.push(Buffer.alloc(bytes));
  }

  start(): void {
    const a = naudiodon();
    const devices = a.getDevices();
    const chosen = devices.find((d) => d.id === this.deviceId && d.maxOutputChannels > 0);
    this.io = a.AudioIO({
      outOptions: {
        channelCount: this.format.channels,
        sampleFormat: a.SampleFormatFloat32,
        sampleRate: this.format.sampleRate,
        deviceId: chosen ? chosen.id : -1,
        framesPerBuffer: this.frames,
        maxQueue: MAX_QUEUE,
        highwaterMark: this.frames * this.format.channels * 4,
        closeOnError: false,
      },
    });
    const info = chosen ?? devices.find((d) => d.maxOutputChannels > 0 && d.name === 'default') ?? devices.find((d) => d.maxOutputChannels > 0);
    this.deviceName = info?.name ?? 'default';
    this.latencyMs = ((MAX_QUEUE + 1) * this.frames * 1000) / this.format.sampleRate + (info?.defaultLowOutputLatency ?? 0) * 1000;
    this.io.on('error', (err: unknown) => this.onFailure(String(err)));
    this.io.start();
    this.openedAt = Date.now();
    this.lastCallbackAt = Date.now();
    this.pump();
  }

  private chunk(): Buffer | null {
    const r = this.consumer.r;
    const c = this.consumer;
    c.sync();
    const ch = this.format.channels;
    const want = this.frames * ch;
    const buf = this.buffers[this.next] as Buffer;
    this.next = (this.next + 1) % this.buffers.length;
    const f32 = new Float32Array(buf.buffer, buf.byteOffset, want);
    const paused = r.get32(Ctl32.PAUSED) === 1;
    let n = 0;
    if (!paused) {
      // Fill first, then the format word: data visible in the fill was written after any format
      // change it belongs to.
      const fill = r.fill;
      if (r.get32(Ctl32.FORMAT_SEQ) !== this.format.seq) {
        this.onFormatChange();
        return null;
      }
      c.noteFill(fill);
      n = r.read(f32, Math.min(want, fill - (fill % ch)), r.getF(Ctl32.VOLUME));
      if (n > 0) c.primed = true;
      if (n < want && c.producerActive && c.primed) r.add32(Ctl32.UNDERRUNS, 1);
    }
    if (n < want) f32.fill(0, n);
    this.history.push(r.readIndex);
    if (this.history.length > MAX_QUEUE + 2) this.history.shift();
    return buf;
  }

  private pump(): void {
    if (this.stopped || !this.io) return;
    const buf = this.chunk();
    if (!buf) return;
    this.io.write(buf, () => {
      if (this.stopped) return;
      this.lastCallbackAt = Date.now();
      const r = this.consumer.r;
      // The write returned: the native queue has room, so the chunk MAX_QUEUE before this one
      // has gone to the device.
      const k = this.history.length - 1 - MAX_QUEUE;
      if (k >= 0) r.set64(Ctl64.PLAYED_INDEX, this.history[k] as number);
      r.add32(Ctl32.HEARTBEAT, 1);
      if (this.firstCallback) {
        const cb = this.firstCallback;
        this.firstCallback = null;
        cb();
      }
      this.pump();
    });
  }

  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    const io = this.io;
    this.io = null;
    if (!io) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1500);
      try {
        io.abort(() => {
          clearTimeout(t);
          resolve();
        });
      } catch {
        clearTimeout(t);
        resolve();
      }
    });
  }
}

// ---- OutputSink plugins ---------------------------------------------------------------------------

const sinkGens = new Map<string, PluginGeneration>();
let nextLease = 1;

function sinkGen(ref: SinkPluginRef): PluginGeneration {
  let gen = sinkGens.get(ref.path);
  if (!gen) {
    gen = PluginGeneration.load(ref.path, { shadowDir, dataRoot, leaseId: nextLease++ });
    sinkGens.set(ref.path, gen);
  }
  return gen;
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
          const n = r.read(this.buf, Math.min(this.buf.length, fill - (fill % ch)), r.getF(Ctl32.VOLUME));
          if (n === 0) {
            const st = this.inst.status();
            if (c.producerActive && c.primed && this.lastQueued > 0 && st.queuedFrames === 0) r.add32(Ctl32.UNDERRUNS, 1);
            this.lastQueued = st.queuedFrames;
            this.publish(st.framesPlayed);
            r.waitData(ch, 2);
            break;
          }
          c.primed = true;
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
let choice: OutputChoice = { kind: 'portaudio', deviceId: null, bufferFrames: 1024 };
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
    const pa = new PortAudioOutput(
      fmt,
      c,
      fallback ? -1 : deviceFor(choice),
      choice.bufferFrames > 0 ? choice.bufferFrames : 1024,
      () => void reopen('format'),
      (m) => void deviceLost(m),
    );
    if (lossAt > 0) {
      pa.firstCallback = () => {
        const ms = Date.now() - lossAt;
        lossAt = 0;
        r.set32(Ctl32.LAST_RECOVERY_MS, ms);
        send({ type: 'device-recovered', recoveryMs: ms, fallback });
      };
    }
    output = pa;
    pa.start();
    r.set32(Ctl32.OUTPUT_LATENCY_US, Math.round(pa.latencyMs * 1000));
    send({ type: 'opened', kind: 'portaudio', sampleRate: fmt.sampleRate, channels: fmt.channels, latencyMs: pa.latencyMs, device: pa.deviceName });
  } else {
    if (!sinkRef) throw new Error('no sink plugin given');
    const sink = new SinkOutput(fmt, c, sinkRef, choice.target, 4096, () => void reopen('format'), (m) => void deviceLost(m));
    output = sink;
    sink.start();
    r.set32(Ctl32.OUTPUT_LATENCY_US, 0);
    send({ type: 'opened', kind: 'plugin', sampleRate: fmt.sampleRate, channels: fmt.channels, latencyMs: 0, device: `${sinkRef.pluginId}/${sinkRef.typeId}` });
  }
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
  watchdog = setInterval(() => {
    const o = output;
    if (!(o instanceof PortAudioOutput) || reopening) return;
    const now = Date.now();
    // A device that stops taking chunks (after its start-up stall) is treated as lost.
    if (now - o.openedAt > 4000 && now - o.lastCallbackAt > 2500) void deviceLost('the device stopped consuming audio');
  }, 500);
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
      shadowDir = path.join(msg.shadowDir, ownerTag());
      dataRoot = msg.dataRoot;
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
    case 'close':
      return reply(msg.id, async () => {
        if (watchdog) clearInterval(watchdog);
        await closeOutput();
        for (const gen of sinkGens.values()) await gen.unload();
        sinkGens.clear();
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
