// The PlayerEngine of the main process: queue and transport on the event loop, the decode worker
// (worker_thread) for decoding and DSP, the audio process for output, and the shared PCM ring
// between them. This thread never touches PCM: it writes control words (seek, stop, pause,
// volume) into the ring header and reads the counters the audio process publishes there.
//
// Position.  The worker tells us where each track (and each seek) starts in the ring ("markers":
// ring sample index -> track frame); the audio process publishes the ring index that reached the
// device. The playing track and its position follow from the last marker at or before it, which
// is also how a gapless change to the next track is noticed.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AppPaths } from '../app-paths.js';
import { BEAT_MS, beat } from '../beat.js';
import type { ControlPlane } from '../control/control-plane.js';
import type { StreamLease } from '../control/owners.js';
import { decoderCandidates } from '../plugins/decoder-choice.js';
import { configInForce } from '../plugins/capability-host.js';
import type { PluginGeneration } from '../plugins/library.js';
import type {
  AudioDevice,
  EngineMetrics,
  OutputChoice,
  PlaybackState,
  PlayerEvent,
  PlayerStatus,
  QueueSnapshot,
  RepeatMode,
  TrackFormat,
  TrackInfo,
} from '../../src-shared/player-types.js';
import { DEFAULT_BUFFER_FRAMES } from '../../src-shared/player-types.js';
import type { DeviceList, DspPluginRef, FromAudio, SinkPluginRef } from '../audio/protocol.js';
import { AudioHost, type AudioSpawner } from './audio-host.js';
import { Command, Ctl32, Ctl64, PcmRing } from '../plugins/host-lib.js';
import { sweepStaleRings } from '../plugins/stale-files.js';
import { checkLocalTrackFile } from './local-file.js';
import type { NewTrack, PlayerEngine, PlayerEngineEvents, TrackUpdate } from './player-engine.js';
import { PlayQueue } from './play-queue.js';
import { runnableEntry } from './runnable.js';
import type { DecoderRefMsg, FromWorker, GenRef, StartedInfo, ToWorker, WorkerTrack } from '../decode-worker/protocol.js';
import {
  type AlbumPlace,
  albumPlaysInOrder,
  DEFAULT_REPLAY_GAIN,
  type LibraryGainInfo,
  type ReplayGainApplied,
  type ReplayGainSettings,
} from '../../src-shared/replay-gain.js';

export interface EngineOptions {
  control: ControlPlane;
  paths: AppPaths;
  /** The output to open at start (default: PortAudio's default device, 1024-frame buffers). */
  output?: OutputChoice;
  /** How the audio process is started (default: child_process.fork; the Electron shell passes
   * a utilityProcess spawner). */
  spawnAudio?: AudioSpawner;
  /** DSP chain by capability, in order (default: the built-in EQ when loaded). */
  dspChain?: { pluginId: string; typeId: string }[];
  /** Size of the shared PCM ring in milliseconds at 48 kHz stereo (default 1500). */
  ringMs?: number;
  /** Frames per decode block (default 2048). */
  blockFrames?: number;
  log?: (message: string) => void;
  /** What the library knows of a local file (ReplayGain tags, album and track number), or null
   * when it is not a library track. Looked up as a track goes to the decode worker. */
  libraryInfo?: (path: string) => LibraryGainInfo | null;
}

interface TokenInfo {
  token: number;
  entryId: string;
  lease: StreamLease | null;
  info: StartedInfo | null;
  /** The ReplayGain it plays at (from the worker; updated by setting changes). */
  replayGain: ReplayGainApplied | null;
}

interface Marker {
  token: number;
  ringIndex: number;
  startFrame: number;
  /** The track's own rate (startFrame counts its frames). */
  sampleRate: number;
  /** The format of its samples in the ring (after resampling / remixing). */
  ringRate: number;
  ringChannels: number;
  /** A flush marker (new play, seek): older audio was discarded. */
  flush: boolean;
}

const DEFAULT_CHAIN = [{ pluginId: 'dev.stellatune.eq', typeId: 'eq10' }];
/** The position check while playing, every other beat: 2 position events a second (the renderer
 * animates between them; each event costs a WebSocket write, which is most of what a playing
 * core does). A track change or the end is checked when the device reaches it, not at the next
 * tick. */
const TICK_MS = 2 * BEAT_MS;
/** A boundary is checked this long after the device should have reached it (the played index is
 * published once per device buffer). */
const BOUNDARY_SLACK_MS = 15;

/** An entry's album place from its own tags. */
function entryPlace(t: TrackInfo): AlbumPlace {
  return { album: t.album ?? null, albumArtist: t.albumArtist ?? null, trackNo: t.trackNo ?? null, discNo: t.discNo ?? null };
}

function extOf(name: string): string {
  const e = path.extname(name).toLowerCase();
  return e.startsWith('.') ? e.slice(1) : '';
}

export class StellaPlayerEngine extends EventEmitter<PlayerEngineEvents> implements PlayerEngine {
  private readonly control: ControlPlane;
  private readonly ring: PcmRing;
  private readonly worker: Worker;
  private readonly audio: AudioHost;
  private readonly log: (m: string) => void;

  private readonly q = new PlayQueue<TrackInfo>();
  private state: PlaybackState = 'stopped';
  private volume = 1;
  private output: OutputChoice;
  private rg: ReplayGainSettings = DEFAULT_REPLAY_GAIN;
  private readonly libraryInfo: ((path: string) => LibraryGainInfo | null) | undefined;

  private nextToken = 1;
  private readonly tokens = new Map<number, TokenInfo>();
  private markers: Marker[] = [];
  private playingToken: number | null = null;
  /** The token the worker decodes and the one it has queued next. */
  private decodeToken: number | null = null;
  private preloaded: { token: number; entryId: string } | null = null;
  /** The token the worker last ran dry after: a next track still opening for it is still wanted. */
  private ranDryAfter: number | null = null;
  private idleAt: number | null = null;
  private loadSeq = 0;
  /** Bumped by every stop and new play; the worker's reports carry the one they belong to, so a
   * report about the play before (still in flight when the listener pressed play again) is
   * dropped instead of stopping, seeking or ending the new one. */
  private workerEpoch = 0;
  private positionMs = 0;
  /** Where play() starts the current entry after cue() (a restored session). */
  private cuedAtMs: number | null = null;
  private seekingTo: number | null = null;
  private lastErrorEntryId: string | null = null;
  private consecutiveErrors = 0;
  private format: TrackFormat | null = null;
  private durationMs: number | null = null;

  private readonly workerGens = new Map<number, PluginGeneration>();
  private readonly chain: { pluginId: string; typeId: string }[];
  private blockP50 = 0;
  private blockP99 = 0;
  private outputLatencyMs: number | null = null;
  private outputDevice: string | null = null;
  private tick: NodeJS.Timeout | null = null;
  /** performance.now() when `tick` fires. */
  private tickDue = Infinity;
  private stopBeat: (() => void) | null = null;
  private closed = false;
  private readonly onRetired: (gen: PluginGeneration) => void;
  private readonly onActivated: (gen: PluginGeneration) => void;

  private constructor(opts: EngineOptions, ring: PcmRing, worker: Worker) {
    super();
    this.control = opts.control;
    this.ring = ring;
    this.worker = worker;
    this.log = opts.log ?? ((m) => console.warn(`[engine] ${m}`));
    this.output = opts.output ?? { kind: 'portaudio', deviceId: null, bufferFrames: DEFAULT_BUFFER_FRAMES };
    this.chain = opts.dspChain ?? DEFAULT_CHAIN;
    this.libraryInfo = opts.libraryInfo;
    this.audio = new AudioHost({
      ...(opts.spawnAudio ? { spawn: opts.spawnAudio } : {}),
      init: { type: 'init', ringName: ring.name, shadowDir: opts.paths.shadow, dataRoot: opts.paths.pluginData },
      onEvent: (m) => this.onAudioEvent(m),
      onRestart: () => void this.onAudioRestart(),
      log: this.log,
    });
    this.onRetired = (gen) => {
      if (this.workerGens.has(gen.leaseId)) this.postWorker({ type: 'retire', leaseId: gen.leaseId });
    };
    this.onActivated = (gen) => {
      if (this.chain.some((c) => c.pluginId === gen.pluginId)) this.sendChain();
    };
    this.control.registry.on('retired', this.onRetired);
    this.control.registry.on('activated', this.onActivated);
  }

  static async start(opts: EngineOptions): Promise<StellaPlayerEngine> {
    const ringMs = opts.ringMs ?? 1500;
    const capacity = Math.max(16384, Math.ceil((ringMs / 1000) * 48000 * 2));
    sweepStaleRings();
    const ring = PcmRing.create(`/stellatune-${process.pid}-${Date.now().toString(36)}`, capacity);
    ring.set32(Ctl32.SAMPLE_RATE, 44100);
    ring.set32(Ctl32.CHANNELS, 2);
    ring.set32(Ctl32.FORMAT_SEQ, 1);
    ring.setF(Ctl32.VOLUME, 1);
    ring.set32(Ctl32.FILL_MIN, 0xffffffff);
    const worker = new Worker(runnableEntry('decode-worker/decode-worker.js'));
    const engine = new StellaPlayerEngine(opts, ring, worker);
    try {
      await engine.init(opts.blockFrames ?? 2048);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  private async init(blockFrames: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the decode worker did not start within 10 s')), 10_000);
      const onMsg = (m: FromWorker): void => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.worker.off('message', onMsg);
          resolve();
        } else if (m.type === 'log') {
          clearTimeout(timer);
          reject(new Error(m.message));
        }
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    this.worker.on('message', (m: FromWorker) => this.onWorker(m));
    this.worker.on('error', (err) => this.log(`decode worker error: ${err.message}`));
    this.postWorker({ type: 'init', ringName: this.ring.name, blockFrames });
    this.postWorker({ type: 'replay-gain', settings: this.rg });
    await ready;
    await this.audio.start();
    await this.audio.request({ type: 'dsp-chain', chain: this.dspChainRefs() });
    try {
      await this.applyOutput(this.output);
    } catch (err) {
      // No usable device is not fatal: the engine runs and another output can be chosen.
      this.log(`cannot open the output: ${(err as Error).message}`);
    }
    this.stopBeat = beat.every(TICK_MS, () => this.onBeat());
    this.kickTick();
  }

  // ---- status ------------------------------------------------------------------------------------

  status(): PlayerStatus {
    return {
      state: this.state,
      current: this.q.current ?? null,
      index: this.q.index,
      format: this.format,
      positionMs: Math.round(this.refreshPosition()?.pos ?? this.positionMs),
      durationMs: this.durationMs,
      volume: this.volume,
      repeat: this.q.repeat,
      shuffle: this.q.shuffle,
      output: this.output,
      replayGain: this.playingToken !== null ? (this.tokens.get(this.playingToken)?.replayGain ?? null) : null,
    };
  }

  queue(): QueueSnapshot {
    return { tracks: [...this.q.entries], index: this.q.index };
  }

  metrics(): EngineMetrics {
    const cap = this.ring.capacity;
    const min = this.ring.get32(Ctl32.FILL_MIN);
    const lat = this.ring.get32(Ctl32.OUTPUT_LATENCY_US);
    return {
      underruns: this.ring.get32(Ctl32.UNDERRUNS),
      deviceLosses: this.ring.get32(Ctl32.DEVICE_LOSSES),
      lastRecoveryMs: this.ring.get32(Ctl32.DEVICE_LOSSES) > 0 ? this.ring.get32(Ctl32.LAST_RECOVERY_MS) : null,
      ringFill: this.ring.fill / cap,
      ringFillMin: min === 0xffffffff ? 1 : min / cap,
      ringCapacityFrames: Math.floor(cap / 2),
      outputLatencyMs: lat > 0 ? lat / 1000 : this.outputLatencyMs,
      outputDevice: this.outputDevice,
      blockLatencyP50: this.blockP50,
      blockLatencyP99: this.blockP99,
      dspBlockP50: this.ring.get32(Ctl32.DSP_BLOCK_P50_US) / 1000,
      dspBlockP99: this.ring.get32(Ctl32.DSP_BLOCK_P99_US) / 1000,
      outputBlockP50: this.ring.get32(Ctl32.OUTPUT_BLOCK_P50_US) / 1000,
      outputBlockP99: this.ring.get32(Ctl32.OUTPUT_BLOCK_P99_US) / 1000,
      audioProcessRestarts: this.audio.restarts,
    };
  }

  takeRingFillMin(): number | null {
    const min = this.ring.get32(Ctl32.FILL_MIN);
    this.ring.set32(Ctl32.FILL_MIN, 0xffffffff);
    return min === 0xffffffff ? null : min / this.ring.capacity;
  }

  /** Ring fill statistics since the last reset (average and minimum, 0..1). */
  ringStats(): { avg: number; min: number; samples: number } {
    const cap = this.ring.capacity;
    const n = this.ring.get64(Ctl64.FILL_COUNT);
    const min = this.ring.get32(Ctl32.FILL_MIN);
    return { avg: n > 0 ? this.ring.get64(Ctl64.FILL_SUM) / n / cap : 0, min: min === 0xffffffff ? 1 : min / cap, samples: n };
  }

  resetRingStats(): void {
    this.ring.set32(Ctl32.FILL_MIN, 0xffffffff);
    this.ring.set64(Ctl64.FILL_SUM, 0);
    this.ring.set64(Ctl64.FILL_COUNT, 0);
  }

  /** Process ids of the engine's processes (main, audio) for diagnostics and benchmarks. */
  processIds(): { main: number; audio: number | undefined } {
    return { main: process.pid, audio: this.audio.pid };
  }

  private emitEvent(e: PlayerEvent): void {
    this.emit('event', e);
  }

  private emitStatus(): void {
    this.kickTick();
    this.emitEvent({ type: 'status', status: this.status() });
  }

  private emitQueue(): void {
    this.emitEvent({ type: 'queue', queue: this.queue() });
  }

  // ---- transport -----------------------------------------------------------------------------------

  async play(index?: number): Promise<void> {
    const i = index ?? (this.q.index >= 0 ? this.q.index : 0);
    // A cued entry (a restored session) starts where it was left.
    const from = this.cuedAtMs !== null && i === this.q.index ? this.cuedAtMs : 0;
    this.cuedAtMs = null;
    // A track picked by hand starts a new shuffle round from it.
    this.q.select(i, index !== undefined);
    await this.startEntry(i, from);
  }

  async pause(): Promise<void> {
    if (this.state !== 'playing' && this.state !== 'loading') return;
    this.ring.set32(Ctl32.PAUSED, 1);
    this.state = 'paused';
    this.emitStatus();
  }

  async resume(): Promise<void> {
    if (this.state === 'paused') {
      this.ring.set32(Ctl32.PAUSED, 0);
      this.state = this.playingToken !== null || this.decodeToken !== null ? 'playing' : 'loading';
      this.emitStatus();
    } else if (this.state === 'stopped' && this.q.length > 0) {
      await this.play();
    }
  }

  async stop(): Promise<void> {
    this.cuedAtMs = null;
    this.loadSeq++;
    this.sendCommand(Command.STOP, this.decodeToken ?? 0, 0);
    this.resetPlayback();
    this.postWorker({ type: 'stop', epoch: this.workerEpoch });
    this.state = 'stopped';
    this.positionMs = 0;
    this.ring.set32(Ctl32.PAUSED, 0);
    this.emitStatus();
  }

  async seek(positionMs: number): Promise<void> {
    const ms = Math.max(0, Math.floor(positionMs));
    if (this.state === 'stopped' || this.q.index < 0) return;
    const t = this.playingToken !== null ? this.tokens.get(this.playingToken) : null;
    if (t && t.info?.seekable && this.decodeToken === this.playingToken) {
      this.seekingTo = ms;
      this.positionMs = ms;
      this.sendCommand(Command.SEEK, t.token, ms);
      this.emitEvent({ type: 'position', positionMs: ms, durationMs: this.durationMs });
      return;
    }
    await this.startEntry(this.q.index, ms);
  }

  async next(): Promise<void> {
    const i = this.q.following(this.q.index, true);
    if (i === null) return this.stop();
    await this.startEntry(i, 0);
  }

  async previous(): Promise<void> {
    if (this.positionMs > 3000 && this.state !== 'stopped') return this.seek(0);
    const i = this.q.preceding(this.q.index);
    if (i === null) return this.seek(0);
    await this.startEntry(i, 0);
  }

  setVolume(volume: number): void {
    this.volume = Math.min(1, Math.max(0, Number.isFinite(volume) ? volume : 1));
    this.ring.setF(Ctl32.VOLUME, this.volume);
    this.emitStatus();
  }

  setRepeat(mode: RepeatMode): void {
    this.q.setRepeat(mode);
    this.refreshPreload();
    this.emitStatus();
  }

  setShuffle(on: boolean): void {
    this.q.setShuffle(on);
    this.refreshPreload();
    this.emitStatus();
  }

  replayGain(): ReplayGainSettings {
    return this.rg;
  }

  setReplayGain(settings: ReplayGainSettings): void {
    this.rg = { ...settings };
    // The worker re-marks the tracks in the ring: heard within the output's buffer.
    this.postWorker({ type: 'replay-gain', settings: this.rg });
    this.emitStatus(); // saved with the session
  }

  // ---- ReplayGain inputs ---------------------------------------------------------------------------

  private libraryOf(entry: TrackInfo): LibraryGainInfo | null {
    if (entry.source.kind !== 'file' || !this.libraryInfo) return null;
    try {
      return this.libraryInfo(entry.source.path);
    } catch (err) {
      this.log(`library lookup: ${(err as Error).message}`);
      return null;
    }
  }

  /** Where an entry sits on its album: the library's record, else the entry's own tags (files
   * outside the library get theirs from the tag worker). */
  private albumPlace(entry: TrackInfo | undefined): AlbumPlace | null {
    if (!entry) return null;
    return this.libraryOf(entry) ?? entryPlace(entry);
  }

  /** The ReplayGain inputs of queue entry `entry`: the library's tags, and whether it plays as part
   * of its album in order (auto mode), judged by its neighbours in play order. */
  private replayGainInputs(entry: TrackInfo): NonNullable<WorkerTrack['replayGain']> {
    const i = this.q.indexOf(entry.id);
    const lib = this.libraryOf(entry);
    const cur = lib ?? entryPlace(entry);
    const p = i >= 0 ? this.q.preceding(i) : null;
    const n = i >= 0 ? this.q.following(i, true) : null;
    const prev = p !== null && p !== i ? this.albumPlace(this.q.at(p)) : null;
    const next = n !== null && n !== i ? this.albumPlace(this.q.at(n)) : null;
    return { tags: lib?.tags ?? null, albumInOrder: albumPlaysInOrder(prev, cur, next) };
  }

  // ---- queue ----------------------------------------------------------------------------------------

  private makeEntries(tracks: NewTrack[]): TrackInfo[] {
    return tracks.map((t) => ({ ...t, id: this.q.newId() }));
  }

  queueAdd(tracks: NewTrack[]): TrackInfo[] {
    return this.queueInsert(this.q.length, tracks);
  }

  queueInsert(index: number, tracks: NewTrack[]): TrackInfo[] {
    const made = this.makeEntries(tracks);
    this.q.insert(index, made);
    this.queueChanged();
    return made;
  }

  queueRemove(ids: string[]): void {
    const { removedCurrent } = this.q.remove(ids);
    this.queueChanged();
    if (removedCurrent && this.state !== 'stopped') {
      // The playing entry is gone: play what took its place, or stop at the end.
      if (this.q.index >= 0) void this.startEntry(this.q.index, 0);
      else void this.stop();
    }
  }

  queueMove(id: string, toIndex: number): void {
    this.q.move(id, toIndex);
    this.queueChanged();
  }

  queueClear(): void {
    this.q.clear();
    this.queueChanged();
  }

  queueUpdate(updates: TrackUpdate[]): void {
    let changed = false;
    let currentChanged = false;
    for (const u of updates) {
      const i = this.q.indexOf(u.id);
      const e = this.q.at(i);
      if (!e) continue;
      this.q.replace({ ...e, ...u.tags });
      changed = true;
      if (i === this.q.index) currentChanged = true;
    }
    if (!changed) return;
    this.emitQueue();
    if (currentChanged) {
      if (this.durationMs === null) this.durationMs = this.q.current?.durationMs ?? null;
      this.emitStatus();
    }
  }

  cue(index: number, positionMs: number): void {
    if (this.state !== 'stopped' || !this.q.at(index)) return;
    this.q.select(index);
    this.cuedAtMs = Math.max(0, positionMs);
    this.positionMs = this.cuedAtMs;
    this.durationMs = this.q.current?.durationMs ?? null;
    this.emitStatus();
  }

  private queueChanged(): void {
    this.refreshPreload();
    this.emitQueue();
  }

  // ---- outputs and DSP --------------------------------------------------------------------------

  async listDevices(): Promise<{ hostApis: string[]; devices: AudioDevice[] }> {
    return this.audio.request<DeviceList>({ type: 'list-devices' });
  }

  async listSinkTargets(pluginId: string, typeId: string): Promise<Record<string, unknown>[]> {
    return this.audio.request<Record<string, unknown>[]>({ type: 'list-targets', sink: this.sinkRef(pluginId, typeId) });
  }

  /** Asks an OutputSink plugin which format it would accept on `target` (audio process). */
  async negotiateSink(
    pluginId: string,
    typeId: string,
    target: Record<string, unknown>,
    spec: { sampleRate: number; channels: number },
  ): Promise<{ spec: { sampleRate: number; channels: number }; flags: number; preferredChunkFrames: number }> {
    return this.audio.request({ type: 'negotiate', sink: this.sinkRef(pluginId, typeId), target, sampleRate: spec.sampleRate, channels: spec.channels });
  }

  async setOutput(choice: OutputChoice): Promise<void> {
    await this.applyOutput(choice);
    this.output = choice;
    this.emitStatus();
  }

  private async applyOutput(choice: OutputChoice): Promise<void> {
    const sink = choice.kind === 'plugin' ? this.sinkRef(choice.pluginId, choice.typeId) : undefined;
    const format = await this.outputFormatFor(choice);
    // Tell the worker first: the next track is decoded for the output as it will run.
    this.postWorker({ type: 'output-format', format });
    await this.audio.request({ type: 'set-output', choice, sink }, 15_000);
    const r = this.ring;
    if (format && this.state === 'stopped' && r.fill === 0 && (r.get32(Ctl32.SAMPLE_RATE) !== format.sampleRate || r.get32(Ctl32.CHANNELS) !== format.channels)) {
      // Nothing plays: move the new output to its format now (it reopens once), so the first
      // track finds the device warm. Only after the switch: the old output must not see it.
      r.set32(Ctl32.SAMPLE_RATE, format.sampleRate);
      r.set32(Ctl32.CHANNELS, format.channels);
      r.add32(Ctl32.FORMAT_SEQ, 1);
    }
  }

  /** The one format the output runs at, or null when it follows each file (bit-perfect, or a
   * plugin sink without a rate of its own). */
  private async outputFormatFor(choice: OutputChoice): Promise<{ sampleRate: number; channels: number } | null> {
    if (choice.bitPerfect) return null;
    if (choice.sampleRate) return { sampleRate: choice.sampleRate, channels: 2 };
    if (choice.kind === 'plugin') return null;
    try {
      const { devices } = await this.listDevices();
      const dev = devices.find((d) => d.id === choice.deviceId) ?? devices.find((d) => d.isDefault) ?? devices[0];
      if (!dev) return null;
      return { sampleRate: Math.round(dev.defaultSampleRate) || 44100, channels: Math.max(1, Math.min(2, dev.maxOutputChannels)) };
    } catch {
      return null;
    }
  }

  private sinkRef(pluginId: string, typeId: string): SinkPluginRef {
    const gen = this.control.registry.current(pluginId);
    const cap = gen?.capability('output', typeId);
    if (!gen || !cap) throw new Error(`no output sink ${pluginId}/${typeId} is loaded`);
    const config = configInForce(this.control.settings.config(pluginId, 'output', typeId), cap);
    return { pluginId, typeId, path: gen.sourcePath, configJson: JSON.stringify(config) };
  }

  async setDspConfig(pluginId: string, typeId: string, config: unknown): Promise<'hot_applied' | 'recreated' | 'rejected'> {
    // The DSP chain runs in the audio process, after the ring: heard within the device latency.
    return this.audio.request<'hot_applied' | 'recreated' | 'rejected'>({ type: 'dsp-config', pluginId, typeId, configJson: JSON.stringify(config) });
  }

  private capabilityConfig(gen: PluginGeneration, kind: 'decoder' | 'dsp', typeId: string): string {
    return JSON.stringify(configInForce(this.control.settings.config(gen.pluginId, kind, typeId), gen.capability(kind, typeId)));
  }

  private genRef(gen: PluginGeneration): GenRef {
    if (!this.workerGens.has(gen.leaseId)) {
      gen.retain(); // released when the worker reports it detached
      this.workerGens.set(gen.leaseId, gen);
    }
    return { pluginId: gen.pluginId, leaseId: gen.leaseId, shadowPath: gen.shadowPath, sourcePath: gen.sourcePath, modulePointer: gen.modulePointer };
  }

  private dspChainRefs(): DspPluginRef[] {
    const chain: DspPluginRef[] = [];
    for (const c of this.chain) {
      const gen = this.control.registry.current(c.pluginId);
      if (!gen?.capability('dsp', c.typeId)) continue;
      chain.push({ pluginId: c.pluginId, typeId: c.typeId, path: gen.sourcePath, leaseKey: gen.leaseId, configJson: this.capabilityConfig(gen, 'dsp', c.typeId) });
    }
    return chain;
  }

  private sendChain(): void {
    this.audio.request({ type: 'dsp-chain', chain: this.dspChainRefs() }).catch((err: Error) => this.log(`dsp chain: ${err.message}`));
  }

  private decodersFor(ext: string): DecoderRefMsg[] {
    return decoderCandidates(this.control.registry.loaded(), ext).map((c) => ({
      gen: this.genRef(c.gen),
      typeId: c.typeId,
      configJson: this.capabilityConfig(c.gen, 'decoder', c.typeId),
      extScore: c.extScore,
    }));
  }

  // ---- tracks to the worker -----------------------------------------------------------------------

  private newToken(entry: TrackInfo): TokenInfo {
    const t: TokenInfo = { token: this.nextToken++, entryId: entry.id, lease: null, info: null, replayGain: null };
    this.tokens.set(t.token, t);
    return t;
  }

  /** Builds the worker's view of a track; plugin tracks get a StreamLease from their owner. */
  private async workerTrack(t: TokenInfo, entry: TrackInfo): Promise<WorkerTrack> {
    const src = entry.source;
    if (src.kind === 'file') {
      await checkLocalTrackFile(src.path);
      const ext = extOf(src.path);
      return { token: t.token, source: { kind: 'file', path: src.path }, ext, decoders: this.decodersFor(ext), replayGain: this.replayGainInputs(entry) };
    }
    const lease = await this.control.openStream(src.pluginId, src.typeId, src.item);
    t.lease = lease;
    const metaExt = typeof lease.meta.ext === 'string' ? lease.meta.ext : typeof src.item.ext === 'string' ? src.item.ext : '';
    const ext = metaExt.toLowerCase().replace(/^\./, '');
    return {
      token: t.token,
      source: { kind: 'stream', handle: lease.stream.handle, io: lease.stream.io, pluginId: src.pluginId },
      ext,
      decoders: this.decodersFor(ext),
      replayGain: this.replayGainInputs(entry),
    };
  }

  private releaseToken(token: number): void {
    const t = this.tokens.get(token);
    if (!t?.lease) return;
    const lease = t.lease;
    t.lease = null;
    try {
      this.control.closeStream(lease);
    } catch (err) {
      this.log(`closeStream failed: ${(err as Error).message}`);
    }
  }

  private resetPlayback(): void {
    this.workerEpoch++;
    this.markers = [];
    this.playingToken = null;
    this.decodeToken = null;
    this.preloaded = null;
    this.idleAt = null;
    this.seekingTo = null;
  }

  /** Plays queue entry `i` from `startMs`, replacing whatever the worker decodes. */
  private async startEntry(i: number, startMs: number): Promise<void> {
    const entry = this.q.at(i);
    if (!entry) throw new Error(`no queue entry ${i}`);
    this.cuedAtMs = null;
    const seq = ++this.loadSeq;
    // Opening a plugin stream can take a while: silence the old track now rather than let it
    // play on until the new one is ready.
    const stopFirst = entry.source.kind === 'plugin' && this.decodeToken !== null;
    if (stopFirst) this.sendCommand(Command.STOP, this.decodeToken ?? 0, 0);
    this.resetPlayback();
    if (stopFirst) this.postWorker({ type: 'stop', epoch: this.workerEpoch });
    this.lastErrorEntryId = null;
    this.q.select(i);
    this.state = 'loading';
    this.positionMs = startMs;
    this.seekingTo = startMs;
    this.durationMs = entry.durationMs ?? null;
    this.ring.set32(Ctl32.PAUSED, 0);
    this.emitStatus();
    const t = this.newToken(entry);
    let track: WorkerTrack;
    try {
      track = await this.workerTrack(t, entry);
    } catch (err) {
      this.tokens.delete(t.token);
      if (seq !== this.loadSeq) return;
      this.trackError(entry, 'open_failed', (err as Error).message);
      this.advanceAfterError(i);
      return;
    }
    if (seq !== this.loadSeq || this.closed) {
      this.releaseToken(t.token);
      this.tokens.delete(t.token);
      return;
    }
    this.decodeToken = t.token;
    this.postWorker({ type: 'load', track, startMs, epoch: this.workerEpoch });
  }

  /**
   * Opens `entry` as the worker's next track. It is marked as on its way first, so the queue does
   * not end during a slow stream open. A failed open is reported as a track error; a track that
   * `stillWanted` says was overtaken meanwhile has its token released.
   */
  private async openNext(
    entry: TrackInfo,
    stillWanted: () => boolean,
  ): Promise<{ kind: 'ready'; track: WorkerTrack } | { kind: 'failed' } | { kind: 'overtaken' }> {
    const t = this.newToken(entry);
    this.preloaded = { token: t.token, entryId: entry.id };
    let track: WorkerTrack;
    try {
      track = await this.workerTrack(t, entry);
    } catch (err) {
      this.tokens.delete(t.token);
      if (this.preloaded?.token === t.token) this.preloaded = null;
      this.trackError(entry, 'open_failed', (err as Error).message);
      return { kind: 'failed' };
    }
    if (!stillWanted() || this.preloaded?.token !== t.token) {
      // Not on its way any more: the end-of-queue check must not wait for it.
      if (this.preloaded?.token === t.token) this.preloaded = null;
      this.releaseToken(t.token);
      this.tokens.delete(t.token);
      return { kind: 'overtaken' };
    }
    return { kind: 'ready', track };
  }

  /** Hands queue entry `i` to an idle worker without a flush (after a failed track). */
  private async continueWith(i: number): Promise<void> {
    const entry = this.q.at(i);
    if (!entry) return;
    const seq = this.loadSeq;
    const r = await this.openNext(entry, () => seq === this.loadSeq && !this.closed);
    if (r.kind === 'ready') this.postWorker({ type: 'next', track: r.track });
    else if (r.kind === 'failed' && seq === this.loadSeq) this.advanceAfterError(i);
  }

  /** A track failed before the worker saw it: go on with the following one. */
  private advanceAfterError(i: number): void {
    this.consecutiveErrors++;
    const next = this.q.following(i, false);
    if (next === null || next === i || this.consecutiveErrors >= this.q.length) {
      this.state = 'stopped';
      this.emitStatus();
      return;
    }
    void this.startEntry(next, 0);
  }

  private trackError(entry: TrackInfo | undefined, code: string, message: string): void {
    if (entry) this.emitEvent({ type: 'track-error', track: entry, code, message });
  }

  /**
   * Queues the track after the one being decoded, for a gapless join. One that fails to open
   * (a missing file, a FIFO) is reported and passed over for the one after it (`after`).
   */
  private async preloadNext(after?: { entryId: string; forToken: number | null; attempts: number }): Promise<void> {
    // A retry keeps the token it was for: the worker may have run dry meanwhile.
    const forToken = after ? after.forToken : this.decodeToken;
    const decoding = forToken !== null ? this.tokens.get(forToken) : null;
    if (!after && !decoding) return;
    const from = this.q.indexOf(after?.entryId ?? decoding!.entryId);
    const i = from >= 0 ? this.q.following(from, false) : null;
    const entry = i !== null ? this.q.at(i) : undefined;
    if (this.preloaded && entry && this.preloaded.entryId === entry.id) return;
    const seq = this.loadSeq;
    const attempts = after?.attempts ?? 0;
    if (!entry) {
      if (this.preloaded) this.postWorker({ type: 'next', track: null });
      this.preloaded = null;
      return;
    }
    // A worker that ran dry while the next track was opening (a file check, a slow stream open)
    // continues with it when it arrives.
    const stillWanted = (): boolean =>
      seq === this.loadSeq && (forToken === this.decodeToken || (this.decodeToken === null && this.ranDryAfter === forToken));
    const r = await this.openNext(entry, stillWanted);
    if (r.kind === 'ready') this.postWorker({ type: 'next', track: r.track });
    else if (r.kind === 'failed' && stillWanted() && attempts + 1 < this.q.length) void this.preloadNext({ entryId: entry.id, forToken, attempts: attempts + 1 });
  }

  private refreshPreload(): void {
    if (this.decodeToken !== null) void this.preloadNext();
  }

  private sendCommand(cmd: number, token: number, arg: number): void {
    this.ring.set32(Ctl32.CMD, cmd);
    this.ring.set32(Ctl32.CMD_TOKEN, token);
    this.ring.set64(Ctl64.CMD_ARG, arg);
    this.ring.add32(Ctl32.CMD_SEQ, 1);
    // A worker with nothing left to decode polls slowly: tell it (this also wakes it from a wait
    // for ring space), so a seek in a track decoded to its end is answered now.
    this.postWorker({ type: 'command' });
  }

  private postWorker(msg: ToWorker): void {
    if (this.closed && msg.type !== 'close') return;
    this.worker.postMessage(msg);
    // The worker may sleep for ring space: wake it so the message is taken now.
    this.ring.wakeProducer();
  }

  // ---- worker and audio events ----------------------------------------------------------------------

  private onWorker(m: FromWorker): void {
    switch (m.type) {
      case 'started': {
        const t = this.tokens.get(m.token);
        // A track of the play before this one (its 'released' follows and closes its stream).
        if (!t || m.epoch !== this.workerEpoch) return;
        t.info = m.info;
        t.replayGain = m.info.replayGain;
        this.decodeToken = m.token;
        this.consecutiveErrors = 0;
        if (this.preloaded?.token === m.token) this.preloaded = null;
        const flush = this.markers.length === 0 || this.seekingTo !== null;
        this.addMarker({ token: m.token, ringIndex: m.ringIndex, startFrame: m.startFrame, sampleRate: m.info.sampleRate, ringRate: m.info.outSampleRate, ringChannels: m.info.outChannels, flush });
        if (this.state === 'loading') this.state = this.ring.get32(Ctl32.PAUSED) === 1 ? 'paused' : 'playing';
        if (flush) this.applyTrack(m.token);
        void this.preloadNext();
        return;
      }
      case 'seeked': {
        const t = this.tokens.get(m.token);
        if (!t?.info || m.epoch !== this.workerEpoch || m.token !== this.decodeToken) return;
        this.addMarker({ token: m.token, ringIndex: m.ringIndex, startFrame: m.startFrame, sampleRate: t.info.sampleRate, ringRate: t.info.outSampleRate, ringChannels: t.info.outChannels, flush: true });
        return;
      }
      case 'seek-miss':
        // The worker had finished the track: play it again from there. A miss about the play
        // before a stop / new play must not restart the new one (at the old seek's position).
        if (m.epoch !== this.workerEpoch || (m.token !== this.playingToken && m.token !== this.decodeToken)) return;
        if (this.q.index >= 0) void this.startEntry(this.q.index, m.positionMs);
        return;
      case 'finished':
        return;
      case 'track-error': {
        const t = this.tokens.get(m.token);
        const entry = t ? this.q.entries.find((e) => e.id === t.entryId) : undefined;
        this.trackError(entry, m.code, m.message);
        if (this.decodeToken === m.token) this.decodeToken = null;
        if (this.preloaded?.token === m.token) this.preloaded = null;
        if (t) this.lastErrorEntryId = t.entryId;
        this.consecutiveErrors++;
        return;
      }
      case 'released':
        this.releaseToken(m.token);
        if (!this.markers.some((x) => x.token === m.token) && this.preloaded?.token !== m.token) this.tokens.delete(m.token);
        return;
      case 'idle': {
        // The play before ran dry: says nothing about this one (which may still be loading).
        if (m.epoch !== this.workerEpoch) return;
        this.ranDryAfter = this.decodeToken;
        this.decodeToken = null;
        this.idleAt = m.ringIndex;
        this.kickTick();
        const errored = this.lastErrorEntryId;
        this.lastErrorEntryId = null;
        if (errored !== null && this.consecutiveErrors < Math.max(1, this.q.length)) {
          // The worker ran out of tracks because one failed: carry on after the failed one.
          const from = this.q.indexOf(errored);
          const i = from >= 0 ? this.q.following(from, false) : null;
          if (i !== null) {
            this.idleAt = null;
            void this.continueWith(i);
            return;
          }
        }
        if (this.markers.length === 0 && this.state === 'loading') {
          this.state = 'stopped';
          this.emitStatus();
        }
        return;
      }
      case 'stopped':
        return;
      case 'detached': {
        const gen = this.workerGens.get(m.leaseId);
        if (gen) {
          this.workerGens.delete(m.leaseId);
          gen.release();
        }
        return;
      }
      case 'replay-gain': {
        const t = this.tokens.get(m.token);
        if (!t) return;
        t.replayGain = m.applied;
        if (m.token === this.playingToken) this.emitStatus();
        return;
      }
      case 'stats':
        this.blockP50 = m.blockP50;
        this.blockP99 = m.blockP99;
        return;
      case 'log':
        this.log(m.message);
        return;
      case 'ready':
        return;
    }
  }

  private addMarker(m: Marker): void {
    if (m.flush) {
      this.markers = [];
      this.seekingTo = null;
      this.idleAt = null;
    }
    this.markers.push(m);
    this.kickTick();
  }

  /** Makes `token`'s entry the playing one (status, format, duration). */
  private applyTrack(token: number): void {
    const t = this.tokens.get(token);
    if (!t) return;
    this.playingToken = token;
    const i = this.q.indexOf(t.entryId);
    if (i >= 0) this.q.select(i);
    const info = t.info;
    if (info) {
      const lease = t.lease;
      this.format = {
        codec: info.codec,
        sampleRate: info.sampleRate,
        channels: info.channels,
        bitsPerSample: info.bitsPerSample,
        lossless: info.lossless,
        decoder: info.decoder,
        streamPlugin: lease ? lease.pluginId : undefined,
      };
      this.durationMs = info.durationFrames !== null ? (info.durationFrames / info.sampleRate) * 1000 : (this.q.at(i)?.durationMs ?? null);
      this.fillFromDecoder(t.entryId, info.metadata, this.durationMs);
    }
    this.emitStatus();
  }

  /** Tags only the decoder knows (a format the tag reader does not read, a plugin stream) fill in
   * what the entry lacks; tags it has are kept. */
  private fillFromDecoder(entryId: string, meta: Record<string, unknown>, durationMs: number | null): void {
    const e = this.q.at(this.q.indexOf(entryId));
    if (!e) return;
    const str = (k: string): string | undefined => (typeof meta[k] === 'string' && (meta[k] as string).trim() !== '' ? (meta[k] as string).trim() : undefined);
    const tags: TrackUpdate['tags'] = {};
    const untagged = e.artist === undefined && e.album === undefined;
    if (untagged && str('title')) tags.title = str('title');
    if (e.artist === undefined && str('artist')) tags.artist = str('artist');
    if (e.album === undefined && str('album')) tags.album = str('album');
    if (e.durationMs === undefined && durationMs !== null) tags.durationMs = Math.round(durationMs);
    if (Object.keys(tags).length === 0) return;
    this.q.replace({ ...e, ...tags });
    this.emitQueue();
  }

  /** Runs the position / track-change check within `ms`, or sooner if one is already due. */
  private kickTick(ms = 0): void {
    if (this.closed) return;
    const due = performance.now() + ms;
    if (this.tick && this.tickDue <= due) return;
    if (this.tick) clearTimeout(this.tick);
    this.tickDue = due;
    this.tick = setTimeout(() => {
      this.tick = null;
      this.tickDue = Infinity;
      this.runTick();
    }, ms);
    this.tick.unref();
  }

  /** The beat's tick: only while the device plays something (a pause, stop or new marker kicks). */
  private onBeat(): void {
    if (this.markers.length > 0 && this.state !== 'paused' && this.state !== 'stopped') this.runTick();
  }

  private runTick(): void {
    this.onTick();
    const ms = this.boundaryMs();
    if (ms !== null) this.kickTick(ms);
  }

  /** How soon the device reaches the next track's marker or the end, when that comes before the
   * next beat; else null. */
  private boundaryMs(): number | null {
    if (this.markers.length === 0 || this.state === 'paused' || this.state === 'stopped') return null;
    const m = this.markers[0] as Marker;
    const played = this.ring.get64(Ctl64.PLAYED_INDEX);
    let next = Infinity;
    const boundaries = [...this.markers.slice(1).map((x) => x.ringIndex), ...(this.idleAt !== null ? [this.idleAt] : [])];
    for (const b of boundaries) {
      // One already passed waits for a worker message (the next track), which kicks the tick.
      if (b <= played) continue;
      next = Math.min(next, ((b - played) / m.ringChannels / m.ringRate) * 1000 + BOUNDARY_SLACK_MS);
    }
    return next < TICK_MS ? next : null;
  }

  /** The device's position from the played index: the marker it is in (and its index), and the
   * position in that track; null when it has not reached the first marker yet. Updates positionMs. */
  private refreshPosition(): { m: Marker; mi: number; pos: number; played: number } | null {
    if (this.markers.length === 0) return null;
    const played = this.ring.get64(Ctl64.PLAYED_INDEX);
    let m: Marker | null = null;
    let mi = -1;
    for (let k = 0; k < this.markers.length; k++) {
      const x = this.markers[k] as Marker;
      if (x.ringIndex <= played) {
        m = x;
        mi = k;
      }
    }
    if (!m) {
      // The new start (play, seek) has not reached the device yet: show where it will start.
      const first = this.markers[0] as Marker;
      this.positionMs = (first.startFrame / first.sampleRate) * 1000;
      return null;
    }
    let pos = (m.startFrame / m.sampleRate + (played - m.ringIndex) / m.ringChannels / m.ringRate) * 1000;
    // Within the track the device is in (a status read between ticks may be past its marker).
    if (this.durationMs !== null && m.token === this.playingToken) pos = Math.min(pos, this.durationMs);
    this.positionMs = pos;
    return { m, mi, pos, played };
  }

  private onTick(): void {
    if (this.closed || this.markers.length === 0) return;
    const at = this.refreshPosition();
    if (!at) return;
    const { m, mi, pos, played } = at;
    // Every track the device reached since the last tick becomes current in turn (a fast sink
    // can pass several short tracks between two ticks; each gets its status event).
    for (let k = 0; k <= mi; k++) {
      const x = this.markers[k] as Marker;
      if (x.token !== this.playingToken) this.applyTrack(x.token);
    }
    if (mi > 0) {
      // Drop markers the device has passed; release tokens that no longer play.
      for (const old of this.markers.splice(0, mi)) {
        if (old.token !== m.token && !this.markers.some((x) => x.token === old.token)) {
          const t = this.tokens.get(old.token);
          if (t && !t.lease && this.decodeToken !== old.token) this.tokens.delete(old.token);
        }
      }
    }
    const shown = this.durationMs !== null ? Math.min(pos, this.durationMs) : pos;
    this.positionMs = shown;
    if (this.state === 'playing') this.emitEvent({ type: 'position', positionMs: Math.round(shown), durationMs: this.durationMs });
    // The end: everything decoded has been played and no next track is on its way to the worker
    // (a worker that ran dry before our "next" arrived continues when it does).
    if (this.idleAt !== null && played >= this.idleAt && this.decodeToken === null && this.preloaded === null && this.state !== 'stopped') {
      // Everything decoded has been played: the queue ended.
      if (this.durationMs !== null) this.positionMs = this.durationMs;
      this.emitEvent({ type: 'position', positionMs: Math.round(this.positionMs), durationMs: this.durationMs });
      this.markers = [];
      this.idleAt = null;
      this.playingToken = null;
      this.state = 'stopped';
      this.emitStatus();
      this.emitEvent({ type: 'ended' });
    }
  }

  private onAudioEvent(m: FromAudio): void {
    if (m.type === 'opened') {
      this.outputLatencyMs = m.latencyMs;
      this.outputDevice = m.device;
    }
    else if (m.type === 'log') this.log(`audio: ${m.message}`);
    else if (m.type === 'device-lost') this.log(`audio device lost: ${m.message}`);
  }

  /** The audio process was restarted: reopen the output and resume where playback was. */
  private async onAudioRestart(): Promise<void> {
    this.sendChain();
    try {
      await this.applyOutput(this.output);
    } catch (err) {
      this.log(`cannot reopen the output after a restart: ${(err as Error).message}`);
      // A sink plugin that is gone (quarantined after crashing the audio process): play on the
      // default device rather than not at all.
      if (this.output.kind === 'plugin') {
        this.output = { kind: 'portaudio', deviceId: null, bufferFrames: 1024 };
        await this.applyOutput(this.output).catch((e: Error) => this.log(`default output: ${e.message}`));
        this.emitStatus();
      }
    }
    if ((this.state === 'playing' || this.state === 'paused' || this.state === 'loading') && this.q.index >= 0) {
      const paused = this.state === 'paused';
      await this.startEntry(this.q.index, this.positionMs);
      if (paused) await this.pause();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tick) clearTimeout(this.tick);
    this.stopBeat?.();
    this.control.registry.off('retired', this.onRetired);
    this.control.registry.off('activated', this.onActivated);
    await this.audio.close().catch(() => {});
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Detach messages still arrive while the worker winds down.
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate().catch(() => 0);
    for (const t of this.tokens.values()) if (t.lease) this.releaseToken(t.token);
    this.tokens.clear();
    for (const gen of this.workerGens.values()) gen.release();
    this.workerGens.clear();
    this.ring.close();
  }
}
