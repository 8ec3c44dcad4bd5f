// The listening session that survives a restart: the queue (with its tags), the current entry and
// position, volume, shuffle, repeat, the output, and the renderer's own bits (last view, the
// volume to unmute to) and settings (keep playing in the background).
//
// Two small JSON files in <home>/session/: `queue.json` (rewritten when the queue changes,
// debounced) and `player.json` (everything else; rewritten when the status changes and every
// second while playing, so a crash loses at most ~1 s of position). Each is written in the
// background to a temporary file, fsynced (not the once-a-second position writes) and renamed over the old one: whatever moment the process dies, the
// file on disk is the old one or the new one, never a mix. The current entry is named by index
// and by source, so a player.json newer than queue.json still finds it.
import fs from 'node:fs';
import path from 'node:path';
import type { NewTrack, PlayerEngine } from '../engine/player-engine.js';
import type { OutputChoice, PlayerEvent, PlayerStatus, RepeatMode, TrackInfo, TrackSource } from '../../src-shared/player-types.js';
import type { ReplayGainSettings } from '../../src-shared/replay-gain.js';

export const SESSION_VERSION = 1;

export interface SessionUi {
  /** The screen the renderer showed last. */
  view: string | null;
  /** The volume "unmute" returns to while muted (volume 0). */
  volumeBeforeMute: number | null;
}

export interface SessionSettings {
  /** Closing the browser shell's window leaves the core playing. */
  keepPlayingInBackground: boolean;
  /** A session that was playing when the player quit plays on at start (default: it comes
   * back paused at its position). */
  resumePlayback: boolean;
}

export interface SavedQueue {
  version: number;
  savedAt: number;
  tracks: NewTrack[];
}

export interface SavedPlayer {
  version: number;
  savedAt: number;
  index: number;
  /** The current entry's source, to find it if queue.json is older than this file. */
  currentSource: TrackSource | null;
  positionMs: number;
  wasPlaying: boolean;
  volume: number;
  repeat: RepeatMode;
  shuffle: boolean;
  output: OutputChoice | null;
  /** Absent in files of older versions: the defaults. */
  replayGain?: ReplayGainSettings;
  ui: SessionUi;
  settings: SessionSettings;
}

export interface SavedSession {
  queue: SavedQueue | null;
  player: SavedPlayer | null;
}

/** Writes `value` as JSON to `file` atomically (temp file, fsync, rename), off the event loop
 * (the libuv pool does the write and the fsync). `durable: false` leaves out the fsync: the file
 * still replaces the old one whole, and a crash of the process keeps it (the kernel has it); only
 * a power cut may lose it. */
export async function writeJsonAtomicAsync(file: string, value: unknown, durable = true): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  if (!durable) {
    await fs.promises.writeFile(tmp, JSON.stringify(value));
  } else {
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(value));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await fs.promises.rename(tmp, file);
}

/**
 * One session file written in the background: one write at a time (they share the temp name),
 * and a value saved while one is under way is written right after it (only the newest).
 */
class BackgroundFile {
  private writing = false;
  private next: (() => unknown) | null = null;
  private nextDurable = true;

  constructor(
    private readonly file: string,
    private readonly log: (m: string) => void,
  ) {}

  /** `make` is called when the write starts, so it captures the newest state. A write that is
   * not `durable` (the position saved every second) skips the fsync; a durable one still waiting
   * keeps it. */
  save(make: () => unknown, durable = true): void {
    this.nextDurable = this.next ? this.nextDurable || durable : durable;
    this.next = make;
    if (!this.writing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.next) {
      const make = this.next;
      const durable = this.nextDurable;
      this.next = null;
      try {
        await writeJsonAtomicAsync(this.file, make(), durable);
      } catch (err) {
        this.log(`could not save the session (${path.basename(this.file)}): ${(err as Error).message}`);
      }
    }
    this.writing = false;
  }

  /** The last write (shutdown): after the one under way, so an older value cannot land on top. */
  async saveLast(value: unknown): Promise<void> {
    this.next = null;
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    try {
      await writeJsonAtomicAsync(this.file, value);
    } catch (err) {
      this.log(`could not save the session (${path.basename(this.file)}): ${(err as Error).message}`);
    }
  }
}

function readJson(file: string, log: (m: string) => void): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    log(`ignoring a damaged ${path.basename(file)}: ${(err as Error).message}`);
    return null;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, lo: number, hi: number, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt);

function validSource(v: unknown): TrackSource | null {
  if (!isObj(v)) return null;
  if (v.kind === 'file' && typeof v.path === 'string' && v.path !== '') return { kind: 'file', path: v.path };
  if (v.kind === 'plugin' && typeof v.pluginId === 'string' && typeof v.typeId === 'string' && isObj(v.item)) return { kind: 'plugin', pluginId: v.pluginId, typeId: v.typeId, item: v.item };
  return null;
}

/** A saved track, checked field by field (a hand-edited or foreign file must not break the start). */
function validTrack(v: unknown): NewTrack | null {
  if (!isObj(v)) return null;
  const source = validSource(v.source);
  if (!source || typeof v.title !== 'string') return null;
  const t: NewTrack = { source, title: v.title.slice(0, 1024) };
  if (typeof v.artist === 'string') t.artist = v.artist.slice(0, 1024);
  if (typeof v.album === 'string') t.album = v.album.slice(0, 1024);
  if (typeof v.durationMs === 'number' && Number.isFinite(v.durationMs) && v.durationMs >= 0) t.durationMs = v.durationMs;
  return t;
}

function validReplayGain(v: unknown): ReplayGainSettings | null {
  if (!isObj(v)) return null;
  const modes = ['off', 'track', 'album', 'auto'] as const;
  const mode = modes.find((m) => m === v.mode);
  if (!mode) return null;
  return { mode, preampDb: num(v.preampDb, -15, 15, 0), untaggedDb: num(v.untaggedDb, -15, 15, 0), preventClipping: v.preventClipping !== false };
}

function validOutput(v: unknown): OutputChoice | null {
  if (!isObj(v)) return null;
  // The output format choice (bit-perfect, a fixed rate) comes back with the device.
  const format = {
    ...(typeof v.bitPerfect === 'boolean' ? { bitPerfect: v.bitPerfect } : {}),
    ...(typeof v.sampleRate === 'number' && Number.isInteger(v.sampleRate) && v.sampleRate >= 8000 && v.sampleRate <= 768000 ? { sampleRate: v.sampleRate } : {}),
  };
  if (v.kind === 'portaudio') {
    const bufferFrames = Math.round(num(v.bufferFrames, 64, 65536, 1024));
    const deviceId = typeof v.deviceId === 'number' && Number.isInteger(v.deviceId) && v.deviceId >= -1 ? v.deviceId : null;
    return { kind: 'portaudio', deviceId, bufferFrames, ...(typeof v.hostApi === 'string' ? { hostApi: v.hostApi } : {}), ...format };
  }
  if (v.kind === 'plugin' && typeof v.pluginId === 'string' && typeof v.typeId === 'string' && isObj(v.target)) return { kind: 'plugin', pluginId: v.pluginId, typeId: v.typeId, target: v.target, ...format };
  return null;
}

/** Reads the saved session; anything missing or damaged reads as null (a fresh start). */
export function readSession(dir: string, log: (m: string) => void = () => {}): SavedSession {
  const q = readJson(path.join(dir, 'queue.json'), log);
  const p = readJson(path.join(dir, 'player.json'), log);
  let queue: SavedQueue | null = null;
  if (isObj(q) && q.version === SESSION_VERSION && Array.isArray(q.tracks)) {
    queue = { version: SESSION_VERSION, savedAt: num(q.savedAt, 0, Number.MAX_SAFE_INTEGER, 0), tracks: q.tracks.map(validTrack).filter((t): t is NewTrack => t !== null) };
  }
  let player: SavedPlayer | null = null;
  if (isObj(p) && p.version === SESSION_VERSION) {
    const ui = isObj(p.ui) ? p.ui : {};
    const settings = isObj(p.settings) ? p.settings : {};
    player = {
      version: SESSION_VERSION,
      savedAt: num(p.savedAt, 0, Number.MAX_SAFE_INTEGER, 0),
      index: Math.round(num(p.index, -1, 1e9, -1)),
      currentSource: validSource(p.currentSource),
      positionMs: num(p.positionMs, 0, 1e10, 0),
      wasPlaying: p.wasPlaying === true,
      volume: num(p.volume, 0, 1, 1),
      repeat: p.repeat === 'all' || p.repeat === 'one' ? p.repeat : 'off',
      shuffle: p.shuffle === true,
      output: validOutput(p.output),
      ...(validReplayGain(p.replayGain) ? { replayGain: validReplayGain(p.replayGain) as ReplayGainSettings } : {}),
      ui: {
        view: typeof ui.view === 'string' && ui.view.length <= 64 ? ui.view : null,
        volumeBeforeMute: typeof ui.volumeBeforeMute === 'number' ? num(ui.volumeBeforeMute, 0, 1, 1) : null,
      },
      settings: { keepPlayingInBackground: settings.keepPlayingInBackground === true, resumePlayback: settings.resumePlayback === true },
    };
  }
  return { queue, player };
}

const sameSource = (a: TrackSource, b: TrackSource): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Where the saved current entry is in the restored queue (by index, else by source). */
export function restoredIndex(tracks: NewTrack[], player: SavedPlayer): number {
  const at = tracks[player.index];
  if (at && (!player.currentSource || sameSource(at.source, player.currentSource))) return player.index;
  if (player.currentSource) {
    const i = tracks.findIndex((t) => sameSource(t.source, player.currentSource as TrackSource));
    if (i >= 0) return i;
  }
  return tracks.length > 0 ? Math.min(Math.max(0, player.index), tracks.length - 1) : -1;
}

export interface SessionStateOptions {
  dir: string;
  log?: (message: string) => void;
  /** Debounce of queue writes (ms). */
  queueDelayMs?: number;
  /** How often the position is saved while playing (ms). */
  positionEveryMs?: number;
}

/** Keeps the session files current while the core runs. */
export class SessionState {
  private readonly dir: string;
  private readonly log: (m: string) => void;
  private engine: PlayerEngine | null = null;
  private queueTimer: NodeJS.Timeout | null = null;
  private playerTimer: NodeJS.Timeout | null = null;
  private lastPlayerWrite = 0;
  private readonly queueDelayMs: number;
  private readonly positionEveryMs: number;
  private ui: SessionUi = { view: null, volumeBeforeMute: null };
  private settingsValue: SessionSettings = { keepPlayingInBackground: false, resumePlayback: false };
  private readonly onEvent = (e: PlayerEvent): void => this.onEngineEvent(e);
  private readonly queueFile: BackgroundFile;
  private readonly playerFile: BackgroundFile;
  /** The session as found at start (before anything was restored). */
  readonly saved: SavedSession;
  private closed = false;

  constructor(opts: SessionStateOptions) {
    this.dir = opts.dir;
    this.log = opts.log ?? (() => {});
    this.queueDelayMs = opts.queueDelayMs ?? 300;
    this.positionEveryMs = opts.positionEveryMs ?? 1000;
    fs.mkdirSync(this.dir, { recursive: true });
    this.saved = readSession(this.dir, this.log);
    this.queueFile = new BackgroundFile(path.join(this.dir, 'queue.json'), this.log);
    this.playerFile = new BackgroundFile(path.join(this.dir, 'player.json'), this.log);
    if (this.saved.player) {
      this.ui = { ...this.saved.player.ui };
      this.settingsValue = { ...this.saved.player.settings };
    }
  }

  /** The output to open the engine with. */
  get savedOutput(): OutputChoice | null {
    return this.saved.player?.output ?? null;
  }

  get uiState(): SessionUi {
    return { ...this.ui };
  }

  get settings(): SessionSettings {
    return { ...this.settingsValue };
  }

  /** Puts the saved queue, current entry (cued at its position), volume, repeat and shuffle back
   * into `engine`, then follows its changes. With "resume playback on start" on, a session that
   * was playing when the player quit plays on from its position; says whether it did. */
  restoreInto(engine: PlayerEngine): boolean {
    const { queue, player } = this.saved;
    let cued = false;
    if (queue && queue.tracks.length > 0) {
      engine.queueAdd(queue.tracks);
      if (player) {
        const i = restoredIndex(queue.tracks, player);
        if (i >= 0) {
          engine.cue(i, player.positionMs);
          cued = true;
        }
      }
    }
    if (player) {
      engine.setVolume(player.volume);
      engine.setRepeat(player.repeat);
      engine.setShuffle(player.shuffle);
      if (player.replayGain) engine.setReplayGain(player.replayGain);
    }
    this.attach(engine);
    const resume = cued && player !== null && player.wasPlaying && this.settingsValue.resumePlayback;
    if (resume) void engine.resume().catch((err: Error) => this.log(`could not resume the last session's track: ${err.message}`));
    return resume;
  }

  attach(engine: PlayerEngine): void {
    this.engine?.off('event', this.onEvent);
    this.engine = engine;
    engine.on('event', this.onEvent);
  }

  setUi(patch: Partial<SessionUi>): void {
    this.ui = { ...this.ui, ...patch };
    this.schedulePlayer(0);
  }

  setSettings(patch: Partial<SessionSettings>): void {
    this.settingsValue = { ...this.settingsValue, ...patch };
    this.schedulePlayer(0);
  }

  private onEngineEvent(e: PlayerEvent): void {
    if (e.type === 'queue') this.scheduleQueue();
    else if (e.type === 'status') this.schedulePlayer(100);
    // The position every second: a crash of the process loses at most that; no fsync each time.
    else if (e.type === 'position' && Date.now() - this.lastPlayerWrite >= this.positionEveryMs) this.writePlayer(false);
  }

  private scheduleQueue(): void {
    if (this.queueTimer || this.closed) return;
    this.queueTimer = setTimeout(() => {
      this.queueTimer = null;
      this.writeQueue();
    }, this.queueDelayMs);
  }

  private schedulePlayer(delayMs: number): void {
    if (this.playerTimer || this.closed) return;
    this.playerTimer = setTimeout(() => {
      this.playerTimer = null;
      this.writePlayer();
    }, delayMs);
  }

  private queueValue(): SavedQueue | null {
    if (!this.engine) return null;
    return { version: SESSION_VERSION, savedAt: Date.now(), tracks: this.engine.queue().tracks.map(stripEntry) };
  }

  private writeQueue(): void {
    if (this.engine) this.queueFile.save(() => this.queueValue());
  }

  private writePlayer(durable = true): void {
    if (!this.engine) return;
    this.lastPlayerWrite = Date.now();
    this.playerFile.save(() => this.playerValue(), durable);
  }

  private playerValue(): SavedPlayer | null {
    if (!this.engine) return null;
    const st: PlayerStatus = this.engine.status();
    const saved: SavedPlayer = {
      version: SESSION_VERSION,
      savedAt: Date.now(),
      index: st.index,
      currentSource: st.current?.source ?? null,
      positionMs: st.current ? Math.round(st.positionMs) : 0,
      wasPlaying: st.state === 'playing' || st.state === 'loading',
      volume: st.volume,
      repeat: st.repeat,
      shuffle: st.shuffle,
      output: st.output,
      replayGain: this.engine.replayGain(),
      ui: this.ui,
      settings: this.settingsValue,
    };
    return saved;
  }

  /** Writes everything once more (a clean shutdown) and stops following the engine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queueTimer) clearTimeout(this.queueTimer);
    if (this.playerTimer) clearTimeout(this.playerTimer);
    this.queueTimer = this.playerTimer = null;
    this.engine?.off('event', this.onEvent);
    if (!this.engine) return;
    await Promise.all([this.queueFile.saveLast(this.queueValue()), this.playerFile.saveLast(this.playerValue())]);
  }
}

/** A queue entry as saved: its source and tags (entry ids and cover URLs belong to one run). */
function stripEntry(t: TrackInfo): NewTrack {
  const out: NewTrack = { source: t.source, title: t.title };
  if (t.artist !== undefined) out.artist = t.artist;
  if (t.album !== undefined) out.album = t.album;
  if (t.durationMs !== undefined) out.durationMs = t.durationMs;
  return out;
}
