// Typed facades over plugin instances and async ops. Pointers stay inside these classes; callers
// get strings, numbers and typed arrays. Each vtable is decoded once per generation.
//
// NativeOp is the raw op handle. Exactly one layer above this (src-main/control/op-promise.ts)
// turns it into a promise; nothing else calls its methods.
import koffi, { type TypeObject } from 'koffi';
import {
  type CapabilityKindCode,
  ConfigMode,
  fnOrNull,
  type NativeFn,
  OpKind,
  type Pointer,
  Proto,
  Status,
  statusName,
  StAsyncOpVtable,
  StConfigVtable,
  StDecoderInfo,
  StDecoderOpenArgs,
  StDecoderProbeArgs,
  StDecoderVtable,
  StDecoderVtableV9,
  StDspVtable,
  StInstanceArgs,
  StInstanceVtableBase,
  StLyricsVtable,
  StNegotiatedSpec,
  StOutputStatus,
  StOutputVtable,
  StSourceVtable,
  strIn,
  strOut,
  sizeOf,
  type RawStr,
} from './abi.js';
import { crashGuardActive, crashStep } from './crash-guard.js';
import { PluginCallError } from './errors.js';
import { type CapabilityKindName, kindCodes, type PluginGeneration } from './library.js';

type Slots = Record<string, Pointer | null>;

function requireFn(slots: Slots, name: string, proto: Parameters<typeof fnOrNull>[1], where: string): NativeFn {
  const fn = fnOrNull(slots[name] ?? null, proto);
  if (!fn) throw new PluginCallError(Status.UNSUPPORTED, 'unsupported', `${where}: ${name} is NULL`, name);
  return stepMarked(fn, name);
}

/** While the crash guard is on, each plugin call first tells it which call this thread is in, so
 * a crash record says "SIGSEGV in begin_list_items" (one short C call; none when the guard is off). */
function stepMarked(fn: NativeFn, step: string): NativeFn {
  if (!crashGuardActive()) return fn;
  const marked = ((...args: unknown[]) => {
    crashStep(step);
    return fn(...args);
  }) as NativeFn;
  marked.async = fn.async;
  return marked;
}

function check(status: number, call: string, message = ''): void {
  if (status !== Status.OK) throw new PluginCallError(status, statusName(status), message, call);
}

// ---- Async ops ---------------------------------------------------------------------------------

interface OpVtable {
  kind: number;
  poll: NativeFn;
  wait: NativeFn;
  cancel: NativeFn;
  setNotifier: NativeFn;
  takeJson: NativeFn | null;
  takeStream: NativeFn | null;
  destroy: NativeFn;
}

export type OpStateName = 'pending' | 'ready' | 'failed' | 'cancelled';
const opStateNames: OpStateName[] = ['pending', 'ready', 'failed', 'cancelled'];

/** The outcome of take_*: ok with a value, or the plugin's failure code and message. */
export type TakeResult<T> = { ok: true; value: T } | { ok: false; status: number; statusName: string; message: string };

/** A stream taken from an open_stream op: the raw pair the decode worker calls directly. */
export interface NativeStream {
  handle: Pointer;
  io: Pointer;
}

export class NativeOp {
  private destroyed = false;
  private taken = false;

  constructor(
    private readonly gen: PluginGeneration,
    private readonly handle: Pointer,
    private readonly vt: OpVtable,
  ) {}

  get kind(): 'json' | 'stream' {
    return this.vt.kind === OpKind.STREAM ? 'stream' : 'json';
  }

  /**
   * Blocks the calling thread until the op leaves PENDING or `timeoutMs` passes. Never used on
   * the event loop: it exists for the benchmark's "old way" baseline and for tools.
   */
  waitBlocking(timeoutMs: number): OpStateName {
    return opStateNames[this.vt.wait(this.handle, timeoutMs) as number] ?? 'failed';
  }

  poll(): OpStateName {
    return opStateNames[this.vt.poll(this.handle) as number] ?? 'failed';
  }

  cancel(): void {
    if (!this.destroyed) this.vt.cancel(this.handle);
  }

  setNotifier(fn: Pointer | null, userData: bigint): void {
    this.vt.setNotifier(this.handle, fn, userData);
  }

  /** Takes the JSON result; one over `maxBytes` throws PluginResultTooLarge, unread. */
  takeJson(maxBytes?: number): TakeResult<string> {
    if (!this.vt.takeJson) return { ok: false, status: Status.UNSUPPORTED, statusName: 'unsupported', message: 'take_json is NULL' };
    this.taken = true;
    const out = strOut();
    const status = this.vt.takeJson(this.handle, out) as number;
    const text = this.gen.takeString(out as RawStr, maxBytes);
    if (status !== Status.OK) return { ok: false, status, statusName: statusName(status), message: text };
    return { ok: true, value: text };
  }

  takeStream(): TakeResult<{ stream: NativeStream; meta: string }> {
    if (!this.vt.takeStream) return { ok: false, status: Status.UNSUPPORTED, statusName: 'unsupported', message: 'take_stream is NULL' };
    this.taken = true;
    const stream: { handle: Pointer | null; io: Pointer | null } = { handle: null, io: null };
    const out = strOut();
    const status = this.vt.takeStream(this.handle, stream, out) as number;
    const text = this.gen.takeString(out as RawStr);
    if (status !== Status.OK) return { ok: false, status, statusName: statusName(status), message: text };
    if (!stream.handle || !stream.io) {
      return { ok: false, status: Status.INTERNAL, statusName: 'internal', message: 'take_stream returned a NULL stream' };
    }
    return { ok: true, value: { stream: { handle: stream.handle, io: stream.io }, meta: text } };
  }

  get wasTaken(): boolean {
    return this.taken;
  }

  /** Releases the op; idempotent on the host side so the exactly-once rule holds by construction. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.vt.destroy(this.handle);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

function decodeOp(gen: PluginGeneration, raw: { handle: Pointer | null; vtable: Pointer | null }, call: string): NativeOp {
  if (!raw.handle || !raw.vtable) throw new PluginCallError(Status.INTERNAL, 'internal', `${call} returned no op`, call);
  const vtPtr = raw.vtable;
  const vt = gen.cachedVtable(`${vtPtr}:op`, () => {
    const s = koffi.decode(vtPtr, StAsyncOpVtable) as Slots & { struct_size: number; kind: number };
    if (s.struct_size < sizeOf(StAsyncOpVtable)) {
      throw new PluginCallError(Status.INTERNAL, 'internal', `op vtable struct_size ${s.struct_size} too small`, call);
    }
    return {
      kind: s.kind,
      poll: requireFn(s, 'poll', Proto.opPoll, 'op'),
      wait: requireFn(s, 'wait', Proto.opWait, 'op'),
      cancel: requireFn(s, 'cancel', Proto.opCancel, 'op'),
      setNotifier: requireFn(s, 'set_notifier', Proto.opSetNotifier, 'op'),
      takeJson: fnOrNull(s.take_json ?? null, Proto.opTakeJson),
      takeStream: fnOrNull(s.take_stream ?? null, Proto.opTakeStream),
      destroy: requireFn(s, 'destroy', Proto.opDestroy, 'op'),
    } satisfies OpVtable;
  });
  return new NativeOp(gen, raw.handle, vt);
}

// ---- Instances ----------------------------------------------------------------------------------

export type ConfigPlan = { mode: 'hot_apply' | 'recreate' | 'reject'; reason: string };

interface ConfigFns {
  plan: NativeFn;
  apply: NativeFn;
  exportState: NativeFn;
  importState: NativeFn;
}

/** What every instance has: identity, config updates, state transfer and destroy. */
export abstract class NativeInstance {
  private destroyed = false;
  private readonly config: ConfigFns | null;
  private readonly destroyFn: NativeFn;

  protected constructor(
    readonly gen: PluginGeneration,
    readonly kind: CapabilityKindName,
    readonly typeId: string,
    protected readonly handle: Pointer,
    base: Slots,
  ) {
    this.destroyFn = requireFn(base, 'destroy', Proto.destroy, `${kind} vtable`);
    const cfgPtr = base.config ?? null;
    this.config =
      cfgPtr && cfgPtr !== 0n
        ? gen.cachedVtable(`${cfgPtr}:config`, () => {
            const c = koffi.decode(cfgPtr, StConfigVtable) as Slots;
            return {
              plan: requireFn(c, 'plan_update', Proto.configPlan, 'config vtable'),
              apply: requireFn(c, 'apply_update', Proto.configApply, 'config vtable'),
              exportState: requireFn(c, 'export_state', Proto.configExport, 'config vtable'),
              importState: requireFn(c, 'import_state', Proto.configImport, 'config vtable'),
            };
          })
        : null;
  }

  get pluginId(): string {
    return this.gen.pluginId;
  }

  get leaseId(): number {
    return this.gen.leaseId;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  protected assertLive(call: string): void {
    if (this.destroyed) throw new PluginCallError(Status.STATE, 'state', `${call} on a destroyed instance`, call);
  }

  /** Asks how a new config would be applied. Instances without a config table always recreate. */
  planConfigUpdate(configJson: string): ConfigPlan {
    this.assertLive('plan_update');
    if (!this.config) return { mode: 'recreate', reason: 'the instance cannot update its config in place' };
    const mode = [0];
    const reason = strOut();
    const status = this.config.plan(this.handle, strIn(configJson), mode, reason) as number;
    const text = this.gen.takeString(reason as RawStr);
    check(status, 'plan_update', text);
    const m = mode[0];
    if (m === ConfigMode.HOT_APPLY) return { mode: 'hot_apply', reason: text };
    if (m === ConfigMode.REJECT) return { mode: 'reject', reason: text || 'rejected by the plugin' };
    return { mode: 'recreate', reason: text };
  }

  applyConfigUpdate(configJson: string): void {
    this.assertLive('apply_update');
    if (!this.config) throw new PluginCallError(Status.UNSUPPORTED, 'unsupported', 'no config table', 'apply_update');
    const err = strOut();
    const status = this.config.apply(this.handle, strIn(configJson), err) as number;
    check(status, 'apply_update', this.gen.takeString(err as RawStr));
  }

  /** The instance's state as JSON text, or '' when it has none (or no config table). */
  exportState(): string {
    this.assertLive('export_state');
    if (!this.config) return '';
    const state = strOut();
    const err = strOut();
    const status = this.config.exportState(this.handle, state, err) as number;
    const text = this.gen.takeString(state as RawStr);
    check(status, 'export_state', this.gen.takeString(err as RawStr));
    return text;
  }

  importState(stateJson: string): void {
    this.assertLive('import_state');
    if (!this.config || stateJson === '') return;
    const err = strOut();
    const status = this.config.importState(this.handle, strIn(stateJson), err) as number;
    check(status, 'import_state', this.gen.takeString(err as RawStr));
  }

  /** Destroys the instance and releases its generation; idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.destroyFn(this.handle);
    } finally {
      this.gen.release();
    }
  }
}

interface SourceFns {
  beginList: NativeFn;
  beginOpen: NativeFn;
  closeStream: NativeFn;
}

export class SourceInstance extends NativeInstance {
  private readonly fns: SourceFns;

  constructor(gen: PluginGeneration, typeId: string, handle: Pointer, vtable: Pointer) {
    const s = decodeInstanceVtable(gen, vtable, StSourceVtable);
    super(gen, 'source', typeId, handle, s.base);
    this.fns = gen.cachedVtable(`${vtable}:fns`, () => ({
      beginList: requireFn(s.slots, 'begin_list_items', Proto.beginJsonOp, 'source vtable'),
      beginOpen: requireFn(s.slots, 'begin_open_stream', Proto.beginJsonOp, 'source vtable'),
      closeStream: requireFn(s.slots, 'close_stream', Proto.closeStream, 'source vtable'),
    }));
  }

  beginListItems(requestJson: string): NativeOp {
    return this.beginOp(this.fns.beginList, 'begin_list_items', requestJson);
  }

  beginOpenStream(trackJson: string): NativeOp {
    return this.beginOp(this.fns.beginOpen, 'begin_open_stream', trackJson);
  }

  closeStream(stream: NativeStream): void {
    this.assertLive('close_stream');
    this.fns.closeStream(this.handle, stream.handle);
  }

  private beginOp(fn: NativeFn, call: string, json: string): NativeOp {
    this.assertLive(call);
    const out: { handle: Pointer | null; vtable: Pointer | null } = { handle: null, vtable: null };
    check(fn(this.handle, strIn(json), out) as number, call);
    return decodeOp(this.gen, out, call);
  }
}

export class LyricsInstance extends NativeInstance {
  private readonly fns: { search: NativeFn; fetch: NativeFn };

  constructor(gen: PluginGeneration, typeId: string, handle: Pointer, vtable: Pointer) {
    const s = decodeInstanceVtable(gen, vtable, StLyricsVtable);
    super(gen, 'lyrics', typeId, handle, s.base);
    this.fns = gen.cachedVtable(`${vtable}:fns`, () => ({
      search: requireFn(s.slots, 'begin_search', Proto.beginJsonOp, 'lyrics vtable'),
      fetch: requireFn(s.slots, 'begin_fetch', Proto.beginJsonOp, 'lyrics vtable'),
    }));
  }

  beginSearch(queryJson: string): NativeOp {
    return this.beginOp(this.fns.search, 'begin_search', queryJson);
  }

  beginFetch(trackJson: string): NativeOp {
    return this.beginOp(this.fns.fetch, 'begin_fetch', trackJson);
  }

  private beginOp(fn: NativeFn, call: string, json: string): NativeOp {
    this.assertLive(call);
    const out: { handle: Pointer | null; vtable: Pointer | null } = { handle: null, vtable: null };
    check(fn(this.handle, strIn(json), out) as number, call);
    return decodeOp(this.gen, out, call);
  }
}

export interface DecoderInfo {
  sampleRate: number;
  channels: number;
  durationFrames: number | null;
  seekable: boolean;
  lossless: boolean;
  encoderDelayFrames: number;
  encoderPaddingFrames: number;
}

/**
 * A decoder. read/seek are the data plane: they run on the decode worker, so the out-parameters
 * are preallocated typed arrays and a read allocates nothing.
 */
export class DecoderInstance extends NativeInstance {
  private readonly fns: {
    open: NativeFn;
    info: NativeFn;
    meta: NativeFn | null;
    read: NativeFn;
    seek: NativeFn | null;
    probe: NativeFn | null;
  };
  private readonly outFrames = new Uint32Array(1);
  private readonly outPos = new BigUint64Array(1);

  constructor(gen: PluginGeneration, typeId: string, handle: Pointer, vtable: Pointer) {
    // A plugin built before the probe slot has the shorter first-release layout: read the slot
    // only when its struct_size covers it (decoder.h).
    const s = decodeInstanceVtable(gen, vtable, StDecoderVtableV9);
    super(gen, 'decoder', typeId, handle, s.base);
    this.fns = gen.cachedVtable(`${vtable}:fns`, () => {
      const hasProbe = Number(s.base.struct_size as unknown) >= koffi.sizeof(StDecoderVtable);
      const probe = hasProbe ? ((koffi.decode(vtable, StDecoderVtable) as Slots).probe ?? null) : null;
      return {
        open: requireFn(s.slots, 'open', Proto.decoderOpen, 'decoder vtable'),
        info: requireFn(s.slots, 'get_info', Proto.decoderGetInfo, 'decoder vtable'),
        meta: fnOrNull(s.slots.get_metadata_json ?? null, Proto.decoderMetadata),
        read: requireFn(s.slots, 'read_f32', Proto.decoderRead, 'decoder vtable'),
        seek: fnOrNull(s.slots.seek_ms ?? null, Proto.decoderSeek),
        probe: fnOrNull(probe as Pointer | null, Proto.decoderProbe),
      };
    });
  }

  /** Whether the plugin scores content (decoder.h, "Choosing by content"). */
  get canProbe(): boolean {
    return this.fns.probe !== null;
  }

  /** The plugin's score (0..100) for media that begins with `head`; null without a probe slot. */
  probe(head: Uint8Array, ext: string): number | null {
    this.assertLive('probe');
    if (!this.fns.probe) return null;
    const score = this.fns.probe(this.handle, {
      struct_size: sizeOf(StDecoderProbeArgs),
      reserved: 0,
      head,
      head_len: head.length,
      ext: strIn(ext),
    }) as number;
    return Math.min(Math.max(score >>> 0, 0), 100);
  }

  /** Opens media read through `stream` (a plugin stream or the host's file stream). */
  open(stream: NativeStream, opts: { path?: string; ext?: string } = {}): void {
    this.assertLive('open');
    const err = strOut();
    const status = this.fns.open(
      this.handle,
      {
        struct_size: sizeOf(StDecoderOpenArgs),
        reserved: 0,
        path: strIn(opts.path ?? ''),
        ext: strIn(opts.ext ?? ''),
        stream: { handle: stream.handle, io: stream.io },
      },
      err,
    ) as number;
    check(status, 'decoder open', this.gen.takeString(err as RawStr));
  }

  info(): DecoderInfo {
    this.assertLive('get_info');
    const info = {
      struct_size: sizeOf(StDecoderInfo),
      flags: 0,
      spec: { sample_rate: 0, channels: 0, reserved: 0 },
      duration_frames: 0,
      encoder_delay_frames: 0,
      encoder_padding_frames: 0,
    };
    check(this.fns.info(this.handle, info) as number, 'get_info');
    const hasDuration = (info.flags & 2) !== 0;
    return {
      sampleRate: info.spec.sample_rate,
      channels: info.spec.channels,
      durationFrames: hasDuration ? Number(info.duration_frames) : null,
      seekable: (info.flags & 1) !== 0,
      lossless: (info.flags & 4) !== 0,
      encoderDelayFrames: info.encoder_delay_frames,
      encoderPaddingFrames: info.encoder_padding_frames,
    };
  }

  metadataJson(): string {
    this.assertLive('get_metadata_json');
    if (!this.fns.meta) return '{}';
    const out = strOut();
    const status = this.fns.meta(this.handle, out) as number;
    const text = this.gen.takeString(out as RawStr);
    check(status, 'get_metadata_json');
    return text || '{}';
  }

  /** Decodes into `out` (frames * channels floats); returns frames read, 0 at the end. */
  read(out: Float32Array, frames: number): number {
    const status = this.fns.read(this.handle, out, frames, this.outFrames) as number;
    if (status !== Status.OK) throw new PluginCallError(status, statusName(status), '', 'read_f32');
    return this.outFrames[0] as number;
  }

  /** Seeks; returns the frame where decoding resumes. */
  seekMs(positionMs: number): number {
    this.assertLive('seek_ms');
    if (!this.fns.seek) throw new PluginCallError(Status.UNSUPPORTED, 'unsupported', 'not seekable', 'seek_ms');
    check(this.fns.seek(this.handle, positionMs, this.outPos) as number, 'seek_ms');
    return Number(this.outPos[0]);
  }
}

export class DspInstance extends NativeInstance {
  private readonly fns: { process: NativeFn; reset: NativeFn | null; latency: NativeFn | null };

  constructor(gen: PluginGeneration, typeId: string, handle: Pointer, vtable: Pointer) {
    const s = decodeInstanceVtable(gen, vtable, StDspVtable);
    super(gen, 'dsp', typeId, handle, s.base);
    this.fns = gen.cachedVtable(`${vtable}:fns`, () => ({
      process: requireFn(s.slots, 'process_f32', Proto.dspProcess, 'dsp vtable'),
      reset: fnOrNull(s.slots.reset ?? null, Proto.dspReset),
      latency: fnOrNull(s.slots.latency_frames ?? null, Proto.dspLatency),
    }));
  }

  /** Processes `frames` interleaved frames of `samples` in place (realtime path). */
  process(samples: Float32Array, frames: number): void {
    this.fns.process(this.handle, samples, frames);
  }

  reset(): void {
    this.fns.reset?.(this.handle);
  }

  latencyFrames(): number {
    return this.fns.latency ? (this.fns.latency(this.handle) as number) : 0;
  }
}

export interface AudioSpec {
  sampleRate: number;
  channels: number;
}

export interface OutputStatus {
  running: boolean;
  framesWritten: number;
  framesPlayed: number;
  queuedFrames: number;
}

export class OutputInstance extends NativeInstance {
  private readonly fns: {
    listTargets: NativeFn;
    negotiate: NativeFn;
    open: NativeFn;
    write: NativeFn;
    status: NativeFn;
    flush: NativeFn | null;
    reset: NativeFn | null;
    close: NativeFn;
  };
  private readonly accepted = new Uint32Array(1);

  constructor(gen: PluginGeneration, typeId: string, handle: Pointer, vtable: Pointer) {
    const s = decodeInstanceVtable(gen, vtable, StOutputVtable);
    super(gen, 'output', typeId, handle, s.base);
    this.fns = gen.cachedVtable(`${vtable}:fns`, () => ({
      listTargets: requireFn(s.slots, 'list_targets_json', Proto.outputListTargets, 'output vtable'),
      negotiate: requireFn(s.slots, 'negotiate_spec', Proto.outputNegotiate, 'output vtable'),
      open: requireFn(s.slots, 'open', Proto.outputOpen, 'output vtable'),
      write: requireFn(s.slots, 'write_f32', Proto.outputWrite, 'output vtable'),
      status: requireFn(s.slots, 'query_status', Proto.outputQueryStatus, 'output vtable'),
      flush: fnOrNull(s.slots.flush ?? null, Proto.outputSimple),
      reset: fnOrNull(s.slots.reset ?? null, Proto.outputSimple),
      close: requireFn(s.slots, 'close', Proto.outputSimple, 'output vtable'),
    }));
  }

  listTargetsJson(): string {
    this.assertLive('list_targets_json');
    const out = strOut();
    const err = strOut();
    const status = this.fns.listTargets(this.handle, out, err) as number;
    const text = this.gen.takeString(out as RawStr);
    check(status, 'list_targets_json', this.gen.takeString(err as RawStr));
    return text;
  }

  negotiate(targetJson: string, desired: AudioSpec): { spec: AudioSpec; flags: number; preferredChunkFrames: number } {
    this.assertLive('negotiate_spec');
    const out = {
      struct_size: sizeOf(StNegotiatedSpec),
      flags: 0,
      spec: { sample_rate: 0, channels: 0, reserved: 0 },
      preferred_chunk_frames: 0,
      reserved: 0,
    };
    const err = strOut();
    const status = this.fns.negotiate(
      this.handle,
      strIn(targetJson),
      { sample_rate: desired.sampleRate, channels: desired.channels, reserved: 0 },
      out,
      err,
    ) as number;
    check(status, 'negotiate_spec', this.gen.takeString(err as RawStr));
    return {
      spec: { sampleRate: out.spec.sample_rate, channels: out.spec.channels },
      flags: out.flags,
      preferredChunkFrames: out.preferred_chunk_frames,
    };
  }

  open(targetJson: string, spec: AudioSpec): void {
    this.assertLive('open');
    const err = strOut();
    const status = this.fns.open(
      this.handle,
      strIn(targetJson),
      { sample_rate: spec.sampleRate, channels: spec.channels, reserved: 0 },
      err,
    ) as number;
    check(status, 'output open', this.gen.takeString(err as RawStr));
  }

  /** Writes interleaved frames; returns how many were accepted (realtime path). */
  write(samples: Float32Array, frames: number): number {
    const status = this.fns.write(this.handle, samples, frames, this.accepted) as number;
    if (status !== Status.OK) throw new PluginCallError(status, statusName(status), '', 'write_f32');
    return this.accepted[0] as number;
  }

  status(): OutputStatus {
    const s = { struct_size: sizeOf(StOutputStatus), running: 0, frames_written: 0, frames_played: 0, queued_frames: 0, reserved: 0 };
    check(this.fns.status(this.handle, s) as number, 'query_status');
    return {
      running: s.running !== 0,
      framesWritten: Number(s.frames_written),
      framesPlayed: Number(s.frames_played),
      queuedFrames: s.queued_frames,
    };
  }

  flush(): void {
    if (this.fns.flush) check(this.fns.flush(this.handle) as number, 'flush');
  }

  reset(): void {
    if (this.fns.reset) check(this.fns.reset(this.handle) as number, 'reset');
  }

  close(): void {
    check(this.fns.close(this.handle) as number, 'close');
  }
}

function decodeInstanceVtable(
  gen: PluginGeneration,
  vtable: Pointer,
  type: TypeObject,
): { base: Slots; slots: Slots } {
  return gen.cachedVtable(`${vtable}:slots`, () => {
    const v = koffi.decode(vtable, type) as Slots & { base: Slots & { struct_size: number } };
    const size = v.base.struct_size;
    if (size < koffi.sizeof(type)) {
      throw new PluginCallError(Status.INTERNAL, 'internal', `instance vtable struct_size ${size} < ${koffi.sizeof(type)}`, 'create_instance');
    }
    return { base: v.base, slots: v };
  });
}

export type AnyInstance = SourceInstance | LyricsInstance | DecoderInstance | DspInstance | OutputInstance;
export type InstanceOfKind<K extends CapabilityKindName> = {
  source: SourceInstance;
  lyrics: LyricsInstance;
  decoder: DecoderInstance;
  dsp: DspInstance;
  output: OutputInstance;
}[K];

const constructors = {
  source: SourceInstance,
  lyrics: LyricsInstance,
  decoder: DecoderInstance,
  dsp: DspInstance,
  output: OutputInstance,
} as const;

/**
 * Creates an instance of `kind/typeId` in generation `gen` with `configJson`. The generation is
 * retained until the instance is destroyed.
 */
export function createInstance<K extends CapabilityKindName>(
  gen: PluginGeneration,
  kind: K,
  typeId: string,
  configJson: string,
  spec: AudioSpec = { sampleRate: 0, channels: 0 },
): InstanceOfKind<K> {
  if (!gen.capability(kind, typeId)) {
    throw new PluginCallError(Status.NOT_FOUND, 'not_found', `${gen.pluginId} has no ${kind} capability "${typeId}"`, 'create_instance');
  }
  gen.retain();
  let created = false;
  try {
    crashStep('create_instance');
    const out: { handle: Pointer | null; vtable: Pointer | null } = { handle: null, vtable: null };
    const err = strOut();
    const code = kindCodes[kind] as CapabilityKindCode;
    const status = gen.createInstanceFn(
      {
        struct_size: koffi.sizeof(StInstanceArgs),
        kind: code,
        type_id: strIn(typeId),
        config_json: strIn(configJson),
        spec: { sample_rate: spec.sampleRate, channels: spec.channels, reserved: 0 },
      },
      out,
      err,
    ) as number;
    check(status, 'create_instance', gen.takeString(err as RawStr));
    if (!out.handle || !out.vtable) {
      throw new PluginCallError(Status.INTERNAL, 'internal', 'create_instance returned a NULL instance', 'create_instance');
    }
    const baseKind = koffi.decode(out.vtable, StInstanceVtableBase) as { kind: number };
    if (baseKind.kind !== code) {
      throw new PluginCallError(Status.INTERNAL, 'internal', `vtable kind ${baseKind.kind} != requested ${code}`, 'create_instance');
    }
    const Ctor = constructors[kind];
    const instance = new Ctor(gen, typeId, out.handle, out.vtable) as InstanceOfKind<K>;
    created = true;
    return instance;
  } finally {
    if (!created) gen.release();
  }
}

