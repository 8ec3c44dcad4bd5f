// koffi bindings of libstellatune_host (native-plugins/host/st_host.h): local files as stream io
// tables and the shared-memory PCM ring. Imported by every thread and process that touches the
// ring (main thread, decode worker, audio process); koffi declarations are per thread, so each
// gets its own copy. Only JS-owned Float32Arrays cross into C (memcpy), never koffi.view, which
// Electron forbids on external memory.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import koffi from 'koffi';
import type { DspInstance } from './instances.js';
import { repoRoot } from '../app-paths.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;

/** Control word slots of the ring header (ctl32 / ctl64). One list, shared by all sides. */
export const Ctl32 = {
  /** main -> worker: bumped after CMD/CMD_TOKEN/CMD_ARG were written. */
  CMD_SEQ: 0,
  CMD: 1,
  CMD_TOKEN: 2,
  /** main -> audio: 1 while paused. */
  PAUSED: 3,
  /** main -> audio: gain, IEEE-754 float bits. */
  VOLUME: 4,
  /** audio -> main: output underruns (ring empty while data was due). */
  UNDERRUNS: 5,
  /** worker -> audio: 1 while a track is being decoded (an empty ring is then an underrun). */
  PRODUCER_ACTIVE: 6,
  /** worker -> audio: the ring's PCM format; bumped only while the ring is drained. */
  FORMAT_SEQ: 7,
  SAMPLE_RATE: 8,
  CHANNELS: 9,
  /** audio -> main. */
  DEVICE_LOSSES: 10,
  LAST_RECOVERY_MS: 11,
  /** audio -> main: smallest fill (samples) seen while playing since main last reset it. */
  FILL_MIN: 12,
  /** audio -> main: output latency estimate, microseconds. */
  OUTPUT_LATENCY_US: 13,
  /** audio -> main: bumped by the output loop; a stuck value means a stuck loop. */
  HEARTBEAT: 14,
  /** audio -> main: per-block DSP and output work (pa_output.c), p50 / p99 over the last second, µs. */
  DSP_BLOCK_P50_US: 15,
  DSP_BLOCK_P99_US: 16,
  OUTPUT_BLOCK_P50_US: 17,
  OUTPUT_BLOCK_P99_US: 18,
} as const;

export const Ctl64 = {
  /** main -> worker: seek target, ms. */
  CMD_ARG: 0,
  /** audio -> main: the ring sample index that has reached the device (estimate). */
  PLAYED_INDEX: 1,
  /** audio -> main: running sum and count of fill samples while playing (for the average). */
  FILL_SUM: 2,
  FILL_COUNT: 3,
} as const;

export const Command = { NONE: 0, SEEK: 1, STOP: 2 } as const;

/** Where libstellatune_host lives: STELLATUNE_HOST_LIB, the packaged resources, or the build. */
export function hostLibraryPath(): string {
  if (process.env.STELLATUNE_HOST_LIB) return process.env.STELLATUNE_HOST_LIB;
  const name = process.platform === 'darwin' ? 'libstellatune_host.dylib' : process.platform === 'win32' ? 'stellatune_host.dll' : 'libstellatune_host.so';
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources) {
    const packaged = path.join(resources, 'host', name);
    if (fs.existsSync(packaged)) return packaged;
  }
  return path.join(repoRoot, 'native-plugins', 'build', 'host', name);
}

interface HostFns {
  fileOpen: Fn;
  fileClose: Fn;
  create: Fn;
  open: Fn;
  close: Fn;
  unlink: Fn;
  capacity: Fn;
  fill: Fn;
  space: Fn;
  writeIndex: Fn;
  readIndex: Fn;
  write: Fn;
  read: Fn;
  waitSpace: Fn;
  waitData: Fn;
  producerFlush: Fn;
  consumerSync: Fn;
  epoch: Fn;
  get32: Fn;
  set32: Fn;
  add32: Fn;
  get64: Fn;
  set64: Fn;
  wait32: Fn;
  getf: Fn;
  setf: Fn;
  wakeProducer: Fn;
  markGain: Fn;
  setMarkGain: Fn;
  gainAt: Fn;
  readGained: Fn;
  paOpen: Fn;
  paOpenPulse: Fn;
  paClose: Fn;
  paLatency: Fn;
  paFormatChanged: Fn;
  paCallbacks: Fn;
  paBlockTimes: Fn;
  paBlockCount: Fn;
  paState: Fn;
  paLock: Fn;
  paUnlock: Fn;
  paSetDsp: Fn;
  rsNew: Fn;
  rsProcess: Fn;
  rsDrain: Fn;
  rsFree: Fn;
  remix: Fn;
}

let fns: HostFns | null = null;

function host(): HostFns {
  if (fns) return fns;
  const lib = koffi.load(hostLibraryPath());
  // Stream out-parameter: two pointers, the layout of st_stream_t (named, used in the prototype).
  koffi.struct('st_host_stream_out_t', { handle: 'void *', io: 'void *' });
  const ring = 'void *';
  fns = {
    fileOpen: lib.func('int32_t st_host_file_open(const char *path, _Out_ st_host_stream_out_t *out)'),
    fileClose: lib.func('void st_host_file_close(void *handle)'),
    create: lib.func('st_pcm_ring_create', ring, ['const char *', 'uint32_t']),
    open: lib.func('st_pcm_ring_open', ring, ['const char *']),
    close: lib.func('st_pcm_ring_close', 'void', [ring]),
    unlink: lib.func('st_pcm_ring_unlink', 'int', ['const char *']),
    capacity: lib.func('st_pcm_ring_capacity', 'uint32_t', [ring]),
    fill: lib.func('st_pcm_ring_fill', 'uint32_t', [ring]),
    space: lib.func('st_pcm_ring_space', 'uint32_t', [ring]),
    writeIndex: lib.func('st_pcm_ring_write_index', 'uint64_t', [ring]),
    readIndex: lib.func('st_pcm_ring_read_index', 'uint64_t', [ring]),
    write: lib.func('st_pcm_ring_write', 'uint32_t', [ring, 'void *', 'uint32_t']),
    read: lib.func('st_pcm_ring_read', 'uint32_t', [ring, 'void *', 'uint32_t', 'float']),
    waitSpace: lib.func('st_pcm_ring_wait_space', 'int', [ring, 'uint32_t', 'uint32_t']),
    waitData: lib.func('st_pcm_ring_wait_data', 'int', [ring, 'uint32_t', 'uint32_t']),
    producerFlush: lib.func('st_pcm_ring_producer_flush', 'uint64_t', [ring]),
    consumerSync: lib.func('st_pcm_ring_consumer_sync', 'int', [ring, 'void *']),
    epoch: lib.func('st_pcm_ring_epoch', 'uint32_t', [ring]),
    get32: lib.func('st_pcm_ring_get32', 'uint32_t', [ring, 'uint32_t']),
    set32: lib.func('st_pcm_ring_set32', 'void', [ring, 'uint32_t', 'uint32_t']),
    add32: lib.func('st_pcm_ring_add32', 'uint32_t', [ring, 'uint32_t', 'uint32_t']),
    get64: lib.func('st_pcm_ring_get64', 'uint64_t', [ring, 'uint32_t']),
    set64: lib.func('st_pcm_ring_set64', 'void', [ring, 'uint32_t', 'uint64_t']),
    wait32: lib.func('st_pcm_ring_wait32', 'int', [ring, 'uint32_t', 'uint32_t', 'uint32_t']),
    getf: lib.func('st_pcm_ring_getf', 'float', [ring, 'uint32_t']),
    setf: lib.func('st_pcm_ring_setf', 'void', [ring, 'uint32_t', 'float']),
    wakeProducer: lib.func('st_pcm_ring_wake_producer', 'void', [ring]),
    markGain: lib.func('st_pcm_ring_mark_gain', 'uint32_t', [ring, 'uint64_t', 'float']),
    setMarkGain: lib.func('st_pcm_ring_set_mark_gain', 'int', [ring, 'uint32_t', 'float']),
    gainAt: lib.func('st_pcm_ring_gain_at', 'float', [ring, 'uint64_t']),
    readGained: lib.func('st_pcm_ring_read_gained', 'uint32_t', [ring, 'void *', 'uint32_t', 'uint32_t', 'void *']),
    paOpen: lib.func('st_pa_out_open', 'void *', ['const char *', ring, 'int32_t', 'uint32_t', 'char *', 'size_t']),
    paOpenPulse: lib.func('st_pa_out_open_pulse', 'void *', [ring, 'uint32_t', 'const char *', 'char *', 'size_t']),
    paClose: lib.func('st_pa_out_close', 'void', ['void *']),
    paLatency: lib.func('st_pa_out_latency', 'double', ['void *']),
    paFormatChanged: lib.func('st_pa_out_format_changed', 'uint32_t', ['void *']),
    paCallbacks: lib.func('st_pa_out_callbacks', 'uint32_t', ['void *']),
    paBlockTimes: lib.func('st_pa_out_block_times', 'uint32_t', ['void *', 'uint32_t *', 'uint32_t *', 'uint32_t', 'uint32_t']),
    paBlockCount: lib.func('st_pa_out_block_count', 'uint32_t', ['void *']),
    paState: lib.func('st_pa_out_state', 'uint32_t', ['void *']),
    paLock: lib.func('st_pa_out_lock', 'void', ['void *']),
    paUnlock: lib.func('st_pa_out_unlock', 'void', ['void *']),
    paSetDsp: lib.func('st_pa_out_set_dsp', 'int', ['void *', 'uint32_t', 'void **', 'void **']),
    rsNew: lib.func('st_resampler_new', 'void *', ['double', 'double', 'uint32_t', 'char *', 'size_t']),
    rsProcess: lib.func('st_resampler_process', 'uint32_t', ['void *', 'void *', 'uint32_t', 'void *', 'uint32_t', '_Out_ uint32_t *']),
    rsDrain: lib.func('st_resampler_drain', 'uint32_t', ['void *', 'void *', 'uint32_t']),
    rsFree: lib.func('st_resampler_free', 'void', ['void *']),
    remix: lib.func('st_remix', 'uint32_t', ['void *', 'uint32_t', 'uint32_t', 'void *', 'uint32_t']),
  };
  return fns;
}

/** A local file opened as a stream for a decoder (pointers stay bigint). */
export interface FileStream {
  handle: bigint;
  io: bigint;
}

/** Opens `file` through the host's io table; throws with the status code on failure. */
export function openFileStream(file: string): FileStream {
  const out: { handle: bigint | null; io: bigint | null } = { handle: null, io: null };
  const status = host().fileOpen(file, out) as number;
  if (status !== 0 || !out.handle || !out.io) {
    const why = status === 11 ? `no such file: ${file}` : status === 2 ? `not a regular file: ${file}` : `cannot open ${file} (status ${status})`;
    const err = new Error(why) as Error & { status: number };
    err.status = status;
    throw err;
  }
  return { handle: out.handle, io: out.io };
}

export function closeFileStream(stream: FileStream): void {
  host().fileClose(stream.handle);
}

function toNum(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * One side's mapping of the shared PCM ring. Indices are sample counts (interleaved); they only
 * grow, so a sample index names one sample for the life of the ring.
 */
export class PcmRing {
  private readonly epochBox = new Uint32Array(1);
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly ptr: bigint,
    private readonly owner: boolean,
  ) {}

  static create(name: string, capacitySamples: number): PcmRing {
    const ptr = host().create(name, capacitySamples) as bigint | null;
    if (!ptr) throw new Error(`cannot create PCM ring ${name}`);
    return new PcmRing(name, ptr, true);
  }

  static open(name: string): PcmRing {
    const ptr = host().open(name) as bigint | null;
    if (!ptr) throw new Error(`cannot open PCM ring ${name}`);
    const ring = new PcmRing(name, ptr, false);
    ring.epochBox[0] = ring.epoch;
    return ring;
  }

  get capacity(): number {
    return host().capacity(this.ptr) as number;
  }
  get fill(): number {
    return host().fill(this.ptr) as number;
  }
  get space(): number {
    return host().space(this.ptr) as number;
  }
  get writeIndex(): number {
    return toNum(host().writeIndex(this.ptr) as number | bigint);
  }
  get readIndex(): number {
    return toNum(host().readIndex(this.ptr) as number | bigint);
  }
  get epoch(): number {
    return host().epoch(this.ptr) as number;
  }

  /** Producer: copies up to `samples` from `src`; returns how many fit. */
  write(src: Float32Array, samples: number): number {
    return host().write(this.ptr, src, samples) as number;
  }

  /** Consumer: copies up to `samples` into `dst`, scaled by `gain`; returns how many. */
  read(dst: Float32Array, samples: number, gain = 1): number {
    return host().read(this.ptr, dst, samples, gain) as number;
  }

  /** Producer: from ring sample `startIndex` on, samples play scaled by `gain` (ReplayGain of the
   * track starting there); returns the mark's id for `setMarkGain`. */
  markGain(startIndex: number, gain: number): number {
    return host().markGain(this.ptr, BigInt(Math.max(0, Math.floor(startIndex))), gain) as number;
  }

  /** Any side: changes a mark's gain (a setting change); false if the mark is gone. */
  setMarkGain(markId: number, gain: number): boolean {
    return (host().setMarkGain(this.ptr, markId >>> 0, gain) as number) === 1;
  }

  /** The gain in force at ring sample `index`. */
  gainAt(index: number): number {
    return host().gainAt(this.ptr, BigInt(Math.max(0, Math.floor(index)))) as number;
  }

  /** Consumer: `read`, each frame scaled by its gain mark; `state` is a 4-float st_pcm_gain_state_t
   * kept between reads (set state[3] = 1 after a flush to start at the new gain without a ramp). */
  readGained(dst: Float32Array, samples: number, channels: number, state: Float32Array): number {
    return host().readGained(this.ptr, dst, samples, channels, state) as number;
  }

  /** Producer: blocks the calling thread up to `timeoutMs` for space. */
  waitSpace(samples: number, timeoutMs: number): boolean {
    return (host().waitSpace(this.ptr, samples, timeoutMs) as number) === 1;
  }

  /** Consumer: blocks the calling thread up to `timeoutMs` for data. */
  waitData(samples: number, timeoutMs: number): boolean {
    return (host().waitData(this.ptr, samples, timeoutMs) as number) === 1;
  }

  /** Producer: drops what is queued; returns the index where new data starts. */
  producerFlush(): number {
    return toNum(host().producerFlush(this.ptr) as number | bigint);
  }

  /** Consumer: applies a pending flush; true if one happened. */
  consumerSync(): boolean {
    return (host().consumerSync(this.ptr, this.epochBox) as number) === 1;
  }

  get32(slot: number): number {
    return host().get32(this.ptr, slot) as number;
  }
  set32(slot: number, value: number): void {
    host().set32(this.ptr, slot, value >>> 0);
  }
  add32(slot: number, delta = 1): number {
    return host().add32(this.ptr, slot, delta) as number;
  }
  get64(slot: number): number {
    return toNum(host().get64(this.ptr, slot) as number | bigint);
  }
  set64(slot: number, value: number): void {
    host().set64(this.ptr, slot, BigInt(Math.max(0, Math.floor(value))));
  }
  wait32(slot: number, expected: number, timeoutMs: number): boolean {
    return (host().wait32(this.ptr, slot, expected >>> 0, timeoutMs) as number) === 1;
  }
  getF(slot: number): number {
    return host().getf(this.ptr, slot) as number;
  }
  setF(slot: number, value: number): void {
    host().setf(this.ptr, slot, value);
  }

  /** Wakes the producer if it sleeps for space, so it sees a command now. */
  wakeProducer(): void {
    host().wakeProducer(this.ptr);
  }

  /** The mapping, for the C output (same module). */
  get nativePointer(): bigint {
    return this.ptr;
  }

  /** Unmaps; the creator also removes the name. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    host().close(this.ptr);
    if (this.owner) host().unlink(this.name);
  }
}

/** The libportaudio naudiodon ships (the same library its device listing uses). */
function portAudioLibrary(): string {
  const pkg = createRequire(import.meta.url).resolve('naudiodon/package.json');
  const name = process.platform === 'darwin' ? 'libportaudio.dylib' : process.platform === 'win32' ? 'portaudio_x64.dll' : 'libportaudio.so.2';
  // Packaged: the library is unpacked beside the asar archive (electron-builder.yml).
  return path.join(path.dirname(pkg), 'build', 'Release', name).replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`);
}

/**
 * The PortAudio output, run by PortAudio's callback in C (native-plugins/host/pa_output.c): it
 * consumes the ring, runs the DSP chain, applies volume and fades and publishes the position.
 */
export class PaOutput {
  private closed = false;
  private chain: DspInstance[] = [];

  private constructor(private readonly ptr: bigint) {}

  /** Opens and starts the stream at the ring's current format on `deviceId` (-1: default). */
  static open(ring: PcmRing, deviceId: number, framesPerBuffer: number): PaOutput {
    const err = Buffer.alloc(512);
    const ptr = host().paOpen(portAudioLibrary(), ring.nativePointer, deviceId, framesPerBuffer, err, err.length) as bigint | null;
    if (!ptr) throw new Error(err.toString('utf8', 0, Math.max(0, err.indexOf(0))) || 'cannot open the PortAudio stream');
    return new PaOutput(ptr);
  }

  /** The same output on a PulseAudio stream of its own (the default device where a PulseAudio
   * or PipeWire-pulse server answers); throws when there is no libpulse or no server. */
  static openPulse(ring: PcmRing, framesPerBuffer: number, appName: string): PaOutput {
    const err = Buffer.alloc(512);
    const ptr = host().paOpenPulse(ring.nativePointer, framesPerBuffer, appName, err, err.length) as bigint | null;
    if (!ptr) throw new Error(err.toString('utf8', 0, Math.max(0, err.indexOf(0))) || 'cannot open the PulseAudio stream');
    return new PaOutput(ptr);
  }

  get latencyMs(): number {
    return (host().paLatency(this.ptr) as number) * 1000;
  }

  /** True once the ring carries a format the stream was not opened for. */
  get formatChanged(): boolean {
    return (host().paFormatChanged(this.ptr) as number) === 1;
  }

  get callbacks(): number {
    return host().paCallbacks(this.ptr) as number;
  }

  /** Blocks the callback has timed so far (wraps at 2^32): the `since` of blockTimes. */
  get blockCount(): number {
    return host().paBlockCount(this.ptr) as number;
  }

  /** Per-block DSP and output work (ns) of the blocks after the first `since`, oldest first. */
  blockTimes(since: number): { dspNs: Uint32Array; outputNs: Uint32Array } {
    const cap = 1024;
    const dsp = new Uint32Array(cap);
    const out = new Uint32Array(cap);
    const n = host().paBlockTimes(this.ptr, dsp, out, cap, since >>> 0) as number;
    return { dspNs: dsp.subarray(0, n), outputNs: out.subarray(0, n) };
  }

  /** 'idle': stopped while nothing plays (it starts by itself when audio arrives);
   * 'start-failed': the device refused to start again. */
  get state(): 'running' | 'idle' | 'start-failed' {
    const s = host().paState(this.ptr) as number;
    return s === 1 ? 'running' : s === 0 ? 'idle' : 'start-failed';
  }

  /** Runs `fn` (DSP config calls, resets) while the callback is outside the DSP chain. */
  withDspLock<T>(fn: () => T): T {
    host().paLock(this.ptr);
    try {
      return fn();
    } finally {
      host().paUnlock(this.ptr);
    }
  }

  /** Hands the callback a new DSP chain; the previous instances are unused once this returns. */
  setDsp(chain: DspInstance[]): void {
    const refs = chain.map((d) => d.nativeRefs());
    const status = host().paSetDsp(this.ptr, refs.length, refs.map((r) => r.handle), refs.map((r) => r.vtable)) as number;
    if (status !== 0) throw new Error(`cannot set a DSP chain of ${chain.length}`);
    this.chain = chain;
  }

  get dspChain(): readonly DspInstance[] {
    return this.chain;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    host().paClose(this.ptr);
  }
}

/**
 * Converts a track's PCM to the output format: remix (mono -> stereo, 5.1 -> stereo) then
 * libsoxr very-high-quality resampling (native-plugins/host/resample.c). One per track, drained
 * at its end, so tracks at different rates join without a gap.
 */
export class FormatConverter {
  private rs: bigint | null = null;
  private mixed: Float32Array;
  private out: Float32Array;
  private readonly consumed = [0];

  constructor(
    readonly inRate: number,
    readonly inChannels: number,
    readonly outRate: number,
    readonly outChannels: number,
    maxFrames: number,
  ) {
    this.mixed = new Float32Array(maxFrames * outChannels);
    this.out = new Float32Array(Math.ceil((maxFrames * outRate) / inRate + 256) * outChannels);
    if (inRate !== outRate) this.rs = FormatConverter.open(inRate, outRate, outChannels);
  }

  private static open(inRate: number, outRate: number, channels: number): bigint {
    const err = Buffer.alloc(256);
    const rs = host().rsNew(inRate, outRate, channels, err, err.length) as bigint | null;
    if (!rs) throw Object.assign(new Error(err.toString('utf8', 0, Math.max(0, err.indexOf(0))) || 'cannot create a resampler'), { statusName: 'unsupported' });
    return rs;
  }

  /** Converts `frames` frames of `input`; returns the output view (valid until the next call). */
  process(input: Float32Array, frames: number): Float32Array {
    let src = input;
    if (this.inChannels !== this.outChannels) {
      host().remix(input, frames, this.inChannels, this.mixed, this.outChannels);
      src = this.mixed;
    }
    if (!this.rs) return src.subarray(0, frames * this.outChannels);
    const n = host().rsProcess(this.rs, src, frames, this.out, this.out.length / this.outChannels, this.consumed) as number;
    return this.out.subarray(0, n * this.outChannels);
  }

  /** The resampler's delayed output at the end of the track (empty once drained). */
  drain(): Float32Array {
    if (!this.rs) return this.out.subarray(0, 0);
    const n = host().rsDrain(this.rs, this.out, this.out.length / this.outChannels) as number;
    return this.out.subarray(0, n * this.outChannels);
  }

  /** Forgets the history (a seek). */
  reset(): void {
    if (!this.rs) return;
    host().rsFree(this.rs);
    this.rs = FormatConverter.open(this.inRate, this.outRate, this.outChannels);
  }

  close(): void {
    if (this.rs) host().rsFree(this.rs);
    this.rs = null;
  }
}
