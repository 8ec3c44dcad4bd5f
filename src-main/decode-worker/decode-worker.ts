// The decode worker (a worker_thread of the main process): for the current track it reads the
// stream (a plugin stream lease or a local file through the host io table), decodes and writes
// float32 PCM into the shared ring, all synchronously on this thread. The DSP chain runs after
// the ring, in the audio process. Seek and stop arrive as control words in the ring header
// (checked between blocks; main wakes this thread when it sleeps for space); track changes
// arrive as messages, applied between blocks. No PCM ever goes back to the main thread.
import { parentPort } from 'node:worker_threads';
import { GenerationHost } from '../plugins/capability-host.js';
import { openByContent } from '../plugins/decoder-choice.js';
import { createInstance, type DecoderInfo, type DecoderInstance } from '../plugins/instances.js';
import { closeFileStream, Command, Ctl32, Ctl64, type FileStream, FormatConverter, openFileStream, PcmRing } from '../plugins/host-lib.js';
import type { FromWorker, StartedInfo, ToWorker, WorkerTrack } from './protocol.js';
import { attachCrashGuard } from '../plugins/crash-guard.js';
import {
  dbToGain,
  DEFAULT_REPLAY_GAIN,
  mergeReplayGainTags,
  type ReplayGainApplied,
  replayGainFor,
  replayGainFromDecoderMetadata,
  type ReplayGainSettings,
  type ReplayGainTags,
} from '../../src-shared/replay-gain.js';

if (!parentPort) throw new Error('decode-worker must run as a worker thread');
const port = parentPort;
// The main thread installed the guard for this process; decoders and DSPs called here are marked.
if (process.env.STELLATUNE_CRASH_DIR) attachCrashGuard('decode-worker');
const post = (msg: FromWorker): void => port.postMessage(msg);

interface Active {
  track: WorkerTrack;
  decoder: DecoderInstance;
  info: DecoderInfo;
  file: FileStream | null;
  /** The ring must drain before this track's format can be announced. */
  awaitingFormat: boolean;
  /** The ring's format for this track, and the converter to it (null: the file's own). */
  out: { sampleRate: number; channels: number };
  conv: FormatConverter | null;
  /** ReplayGain inputs, kept for re-marking after a seek. */
  gainTags: ReplayGainTags;
  albumInOrder: boolean;
}

/** The output's format when it runs at one (resampling), or null to follow each file. */
let outputFormat: { sampleRate: number; channels: number } | null = null;


let ring: PcmRing | null = null;
let blockFrames = 2048;
let buf = new Float32Array(2048 * 8);
const gens = new GenerationHost({ onDetached: (leaseId) => post({ type: 'detached', leaseId }) });
let current: Active | null = null;
let pendingNext: WorkerTrack | null = null;
let lastCmdSeq = 0;
/** The play (main's 'load' / 'stop') the worker's reports belong to. */
let epoch = 0;
let loopScheduled = false;
let closing = false;
const blockTimes: number[] = [];
let lastStats = Date.now();

function errText(err: unknown): { code: string; message: string } {
  const e = err as { statusName?: string; code?: string; message?: string };
  return { code: e.statusName ?? (typeof e.code === 'string' ? e.code : 'error'), message: e.message ?? String(err) };
}

// ---- streams ------------------------------------------------------------------------------------

/** Opens a track with the decoder its content calls for (decoder-choice.ts). */
function openTrack(track: WorkerTrack): Active {
  let file: FileStream | null = null;
  let handle: bigint;
  let io: bigint;
  if (track.source.kind === 'file') {
    file = openFileStream(track.source.path);
    handle = file.handle;
    io = file.io;
  } else {
    handle = track.source.handle;
    io = track.source.io;
  }
  const path = track.source.kind === 'file' ? track.source.path : '';
  try {
    const opened = openByContent(
      { handle, io },
      track.decoders,
      track.ext,
      (cand) => createInstance(gens.attach(cand.gen), 'decoder', cand.typeId, cand.configJson),
      (decoder) => {
        decoder.open({ handle, io }, { path, ext: track.ext });
        const info = decoder.info();
        if (!(info.sampleRate > 0) || !(info.channels > 0) || info.channels > 8) {
          throw Object.assign(new Error(`decoder reported ${info.sampleRate} Hz x ${info.channels}`), { statusName: 'decode' });
        }
        return info;
      },
      (cand) => `${cand.gen.pluginId}/${cand.typeId}`,
    );
    const out = outputFormat ?? { sampleRate: opened.info.sampleRate, channels: opened.info.channels };
    return { track, decoder: opened.decoder, info: opened.info, file, awaitingFormat: false, out, conv: null, gainTags: mergeReplayGainTags(), albumInOrder: false };
  } catch (err) {
    if (file) closeFileStream(file);
    throw err;
  }
}

/** Ends the current track's use of its decoder and stream. */
function closeCurrent(): void {
  const a = current;
  if (!a) return;
  current = null;
  a.conv?.close();
  a.decoder.destroy();
  if (a.file) closeFileStream(a.file);
  post({ type: 'released', token: a.track.token });
}

function dropPendingNext(): void {
  if (pendingNext) post({ type: 'released', token: pendingNext.token });
  pendingNext = null;
}

// ---- ReplayGain -----------------------------------------------------------------------------------
// Each track's gain is marked in the ring where its audio starts, before its first sample is
// written; the audio process scales the samples as it reads them (st_pcm_ring_read_gained), so the
// gain changes exactly at a gapless join. Tracks still in the ring are remembered here so a
// setting change re-marks them at once (heard within the device buffer, not after the ring).

let rgSettings: ReplayGainSettings = DEFAULT_REPLAY_GAIN;

interface LiveGain {
  token: number;
  markId: number;
  startIndex: number;
  tags: ReplayGainTags;
  albumInOrder: boolean;
}
const liveGains: LiveGain[] = [];

function markGain(token: number, startIndex: number, tags: ReplayGainTags, albumInOrder: boolean, flushed: boolean): ReplayGainApplied {
  const r = ring as PcmRing;
  if (flushed) liveGains.length = 0; // everything before a flush is discarded
  const applied = replayGainFor(rgSettings, tags, albumInOrder);
  const markId = r.markGain(startIndex, dbToGain(applied.gainDb));
  // Forget tracks the output has read past (the next one's mark is behind the read index).
  const read = r.readIndex;
  while (liveGains.length > 1 && (liveGains[1] as LiveGain).startIndex <= read) liveGains.shift();
  if (liveGains.length > 12) liveGains.splice(0, liveGains.length - 12);
  const last = liveGains[liveGains.length - 1];
  if (last && last.token === token) liveGains.pop(); // a seek re-marks the same track
  liveGains.push({ token, markId, startIndex, tags, albumInOrder });
  return applied;
}

function applyReplayGainSettings(settings: ReplayGainSettings): void {
  rgSettings = settings;
  const r = ring as PcmRing;
  for (const g of liveGains) {
    const applied = replayGainFor(rgSettings, g.tags, g.albumInOrder);
    if (r.setMarkGain(g.markId, dbToGain(applied.gainDb))) post({ type: 'replay-gain', token: g.token, applied });
  }
}

// ---- tracks ------------------------------------------------------------------------------------

function metadataOf(decoder: DecoderInstance): Record<string, unknown> {
  try {
    const m = JSON.parse(decoder.metadataJson()) as unknown;
    return m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Makes `track` current: opens it (falling through decoders), seeks, flushes the ring if asked,
 * and announces where its audio starts in the ring. On failure reports a track error and goes on
 * with the pending next track.
 */
function startTrack(track: WorkerTrack, startMs: number, flush: boolean): void {
  const r = ring as PcmRing;
  let t: WorkerTrack | null = track;
  let seekMs = startMs;
  let doFlush = flush;
  while (t) {
    let active: Active;
    try {
      active = openTrack(t);
    } catch (err) {
      const e = errText(err);
      post({ type: 'track-error', token: t.token, code: e.code, message: e.message });
      post({ type: 'released', token: t.token });
      t = pendingNext;
      pendingNext = null;
      seekMs = 0;
      continue;
    }
    let startFrame = 0;
    if (seekMs > 0 && active.info.seekable) {
      try {
        startFrame = active.decoder.seekMs(seekMs);
      } catch {
        startFrame = 0;
      }
    }
    const flushed = doFlush;
    const ringIndex = doFlush ? r.producerFlush() : r.writeIndex;
    doFlush = false;
    const spec = { sampleRate: active.info.sampleRate, channels: active.info.channels };
    const out = active.out;
    if (out.sampleRate !== spec.sampleRate || out.channels !== spec.channels) {
      try {
        active.conv = new FormatConverter(spec.sampleRate, spec.channels, out.sampleRate, out.channels, blockFrames);
      } catch (err) {
        post({ type: 'log', message: `cannot convert ${spec.sampleRate} Hz x ${spec.channels}: ${errText(err).message}` });
        active.out = spec; // play it at its own format (the output reopens)
      }
    }
    active.awaitingFormat = r.get32(Ctl32.SAMPLE_RATE) !== active.out.sampleRate || r.get32(Ctl32.CHANNELS) !== active.out.channels;
    current = active;
    const meta = metadataOf(active.decoder);
    // The library's tags first (the engine looked them up), then what the decoder read.
    active.gainTags = mergeReplayGainTags(t.replayGain?.tags, replayGainFromDecoderMetadata(meta));
    active.albumInOrder = t.replayGain?.albumInOrder ?? false;
    const replayGain = markGain(t.token, ringIndex, active.gainTags, active.albumInOrder, flushed);
    r.set32(Ctl32.PRODUCER_ACTIVE, 1);
    const dec = t.decoders.find((d) => d.gen.leaseId === active.decoder.leaseId && d.typeId === active.decoder.typeId);
    const info: StartedInfo = {
      sampleRate: spec.sampleRate,
      channels: spec.channels,
      durationFrames: active.info.durationFrames,
      seekable: active.info.seekable,
      lossless: active.info.lossless,
      codec: typeof meta.codec === 'string' ? meta.codec : t.ext || 'pcm',
      bitsPerSample: typeof meta.bits_per_sample === 'number' ? meta.bits_per_sample : undefined,
      decoder: dec ? `${dec.gen.pluginId}/${dec.typeId}` : active.decoder.typeId,
      metadata: meta,
      outSampleRate: active.out.sampleRate,
      outChannels: active.out.channels,
      replayGain,
    };
    post({ type: 'started', token: t.token, ringIndex, startFrame, info, epoch });
    return;
  }
  r.set32(Ctl32.PRODUCER_ACTIVE, 0);
  post({ type: 'idle', ringIndex: r.writeIndex, epoch });
}

function finishCurrent(): void {
  const r = ring as PcmRing;
  const token = current?.track.token ?? -1;
  closeCurrent();
  post({ type: 'finished', token, ringIndex: r.writeIndex });
  const next = pendingNext;
  pendingNext = null;
  if (next) startTrack(next, 0, false);
  else {
    r.set32(Ctl32.PRODUCER_ACTIVE, 0);
    post({ type: 'idle', ringIndex: r.writeIndex, epoch });
  }
}

function stopAll(): void {
  const r = ring as PcmRing;
  closeCurrent();
  dropPendingNext();
  r.set32(Ctl32.PRODUCER_ACTIVE, 0);
  const at = r.producerFlush();
  liveGains.length = 0; // the flush discarded their audio
  post({ type: 'stopped', ringIndex: at });
}

function checkCommand(): void {
  const r = ring as PcmRing;
  const seq = r.get32(Ctl32.CMD_SEQ);
  if (seq === lastCmdSeq) return;
  lastCmdSeq = seq;
  const cmd = r.get32(Ctl32.CMD);
  const token = r.get32(Ctl32.CMD_TOKEN);
  if (cmd === Command.SEEK) {
    const ms = r.get64(Ctl64.CMD_ARG);
    if (!current || current.track.token !== token || !current.info.seekable) {
      post({ type: 'seek-miss', token, positionMs: ms, epoch });
      return;
    }
    let frame: number;
    try {
      frame = current.decoder.seekMs(ms);
    } catch {
      post({ type: 'seek-miss', token, positionMs: ms, epoch });
      return;
    }
    current.conv?.reset();
    const ringIndex = r.producerFlush();
    markGain(token, ringIndex, current.gainTags, current.albumInOrder, true);
    r.set32(Ctl32.PRODUCER_ACTIVE, 1);
    post({ type: 'seeked', token, ringIndex, startFrame: frame, epoch });
  } else if (cmd === Command.STOP) {
    if (current && current.track.token === token) stopAll();
  }
}

// ---- the loop ------------------------------------------------------------------------------------

function recordBlock(ms: number): void {
  blockTimes.push(ms);
  // The last ~10 s of blocks: enough for a p99, and a small sort once a second.
  if (blockTimes.length > 512) blockTimes.splice(0, 256);
  const now = Date.now();
  if (now - lastStats >= 1000 && blockTimes.length > 0) {
    lastStats = now;
    const sorted = [...blockTimes].sort((a, b) => a - b);
    const pick = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    post({ type: 'stats', blockP50: pick(0.5), blockP99: pick(0.99) });
    // Figures of the last second (as the output callback's are), not of the last few minutes: a
    // window's seconds then each say what happened in them.
    blockTimes.length = 0;
  }
}

type Step = 'progress' | 'wait' | 'idle';

/** Writes the resampler's tail at a track's end, so the next track joins without a gap. */
function drainInto(r: PcmRing, conv: FormatConverter): void {
  for (let tail = conv.drain(); tail.length > 0; tail = conv.drain()) {
    let off = 0;
    while (off < tail.length) {
      const n = r.write(off === 0 ? tail : tail.subarray(off), tail.length - off);
      off += n;
      if (off < tail.length && !r.waitSpace(tail.length - off, 200) && closing) return;
    }
  }
}

function step(): Step {
  const r = ring as PcmRing;
  checkCommand();
  const a = current;
  if (!a) return 'idle';
  if (a.awaitingFormat) {
    // A new format is announced only once the consumer has taken every sample of the old one.
    if (r.fill > 0) {
      r.waitSpace(r.capacity, 20);
      return 'wait';
    }
    r.set32(Ctl32.SAMPLE_RATE, a.out.sampleRate);
    r.set32(Ctl32.CHANNELS, a.out.channels);
    r.add32(Ctl32.FORMAT_SEQ, 1);
    a.awaitingFormat = false;
  }
  // Room for a block after conversion (an upsampled block is longer).
  const want = Math.ceil((blockFrames * a.out.sampleRate) / a.info.sampleRate + 256) * a.out.channels;
  if (r.space < want) {
    // Sleep until a quarter of the ring is free, then refill it in one burst: a few wakeups a
    // second instead of one per device buffer. Main wakes this thread for commands and messages
    // (postWorker), so the timeout is only a backstop.
    r.waitSpace(Math.max(want, Math.floor(r.capacity / 4)), 1000);
    return 'wait';
  }
  const t0 = performance.now();
  let frames: number;
  try {
    frames = a.decoder.read(buf, blockFrames);
  } catch (err) {
    const e = errText(err);
    post({ type: 'track-error', token: a.track.token, code: e.code, message: `read failed: ${e.message || e.code}` });
    finishCurrent();
    return 'progress';
  }
  if (frames === 0) {
    if (a.conv) drainInto(r, a.conv);
    finishCurrent();
    return 'progress';
  }
  const pcm = a.conv ? a.conv.process(buf, frames) : buf.subarray(0, frames * a.info.channels);
  recordBlock(performance.now() - t0);
  r.write(pcm, pcm.length);
  return 'progress';
}

function loop(): void {
  loopScheduled = false;
  idleTimer = null;
  if (closing || !ring) return;
  const until = performance.now() + 15;
  let s: Step = 'progress';
  try {
    while (s === 'progress' && performance.now() < until) s = step();
  } catch (err) {
    // A plugin call that throws (not a status code) ends the track, not the worker.
    const token = current?.track.token;
    post({ type: 'log', message: `decode worker: ${errText(err).message}` });
    if (token !== undefined) {
      post({ type: 'track-error', token, code: 'internal', message: errText(err).message });
      try {
        finishCurrent();
      } catch {
        current = null;
      }
    }
    s = 'progress';
  }
  loopScheduled = true;
  // Idle: poll the control words slowly; messages kick the loop at once.
  if (s === 'idle') idleTimer = setTimeout(loop, 500);
  else setImmediate(loop);
}

let idleTimer: NodeJS.Timeout | null = null;

function kick(): void {
  if (idleTimer) {
    clearTimeout(idleTimer);
    idleTimer = null;
    loopScheduled = false;
  }
  if (!loopScheduled) {
    loopScheduled = true;
    setImmediate(loop);
  }
}

port.on('message', (msg: ToWorker) => {
  try {
    switch (msg.type) {
      case 'init':
        ring = PcmRing.open(msg.ringName);
        lastCmdSeq = ring.get32(Ctl32.CMD_SEQ);
        blockFrames = msg.blockFrames;
        buf = new Float32Array(blockFrames * 8);
        post({ type: 'ready' });
        break;
      case 'load':
        epoch = msg.epoch;
        closeCurrent();
        // A next track queued for what played before is not this one's (main queues its own).
        dropPendingNext();
        lastCmdSeq = (ring as PcmRing).get32(Ctl32.CMD_SEQ); // a load supersedes older commands
        startTrack(msg.track, msg.startMs, true);
        break;
      case 'next':
        dropPendingNext();
        pendingNext = msg.track;
        if (!current && pendingNext) {
          // The previous track already ended (the ring is idle): continue without a flush.
          const t = pendingNext;
          pendingNext = null;
          startTrack(t, 0, false);
        }
        break;
      case 'stop':
        epoch = msg.epoch;
        stopAll();
        break;
      case 'command':
        break; // the loop (kicked below) reads the control word
      case 'output-format':
        // From the next track on (the playing one keeps its conversion until it ends).
        outputFormat = msg.format;
        break;
      case 'retire':
        gens.retire(msg.leaseId);
        break;
      case 'replay-gain':
        applyReplayGainSettings(msg.settings);
        break;
      case 'close':
        closing = true;
        closeCurrent();
        dropPendingNext();
        void gens.close();
        ring?.set32(Ctl32.PRODUCER_ACTIVE, 0);
        ring?.close();
        ring = null;
        setTimeout(() => port.close(), 10);
        return;
    }
  } catch (err) {
    post({ type: 'log', message: `decode worker: ${msg.type} failed: ${errText(err).message}` });
  }
  kick();
});
