// MPRIS (the Linux desktop's media player interface) on the session bus: desktop widgets, media
// keys and `playerctl` see StellaTune as a player and drive it. A thin mirror of the PlayerEngine:
// properties follow its status events, methods call its transport. Without a session bus (a
// headless server, CI, macOS, Windows) it logs one line and stays out of the way.
import dbus from 'dbus-next';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { PlayerEngine, NewTrack } from '../engine/player-engine.js';
import type { PlayerEvent, PlayerStatus, RepeatMode, TrackInfo } from '../../src-shared/player-types.js';

const { Interface } = dbus.interface;
const { Variant } = dbus;

const OBJECT_PATH = '/org/mpris/MediaPlayer2';
const NO_TRACK = '/org/mpris/MediaPlayer2/TrackList/NoTrack';
/** A position change larger than this between two reports (beyond elapsed time) is a seek. */
const SEEK_JUMP_MS = 1500;

export interface MprisOptions {
  engine: () => PlayerEngine;
  /** Bus name suffix: `org.mpris.MediaPlayer2.<name>` (default `stellatune.instance<pid>`). */
  name?: string;
  /** A URL desktop widgets can load for the track's cover (file:// or http://), if any. */
  artUrl?: (track: TrackInfo) => string | undefined;
  /** Raise: show the window (the shell decides what that means). */
  raise?: () => void;
  /** Quit: close the app. */
  quit?: () => void;
  log?: (message: string) => void;
  /** Session bus address (default: $DBUS_SESSION_BUS_ADDRESS). */
  busAddress?: string;
}

export interface MprisService {
  readonly busName: string;
  close(): Promise<void>;
}

/** D-Bus object paths allow [A-Za-z0-9_] only. */
function trackIdOf(t: TrackInfo | null): string {
  return t ? `/org/stellatune/track/${t.id.replace(/[^A-Za-z0-9_]/g, '_')}` : NO_TRACK;
}

const loopOf = (r: RepeatMode): string => (r === 'one' ? 'Track' : r === 'all' ? 'Playlist' : 'None');
const repeatOf = (loop: string): RepeatMode | null => (loop === 'Track' ? 'one' : loop === 'Playlist' ? 'all' : loop === 'None' ? 'off' : null);
const playbackOf = (s: PlayerStatus): string => (s.state === 'playing' || s.state === 'loading' ? 'Playing' : s.state === 'paused' ? 'Paused' : 'Stopped');
const us = (ms: number): bigint => BigInt(Math.max(0, Math.round(ms * 1000)));

function metadataOf(s: PlayerStatus, artUrl: MprisOptions['artUrl']): Record<string, InstanceType<typeof Variant>> {
  const t = s.current;
  const md: Record<string, InstanceType<typeof Variant>> = { 'mpris:trackid': new Variant('o', trackIdOf(t)) };
  if (!t) return md;
  md['xesam:title'] = new Variant('s', t.title);
  if (t.artist) md['xesam:artist'] = new Variant('as', [t.artist]);
  if (t.album) md['xesam:album'] = new Variant('s', t.album);
  const dur = s.durationMs ?? t.durationMs;
  if (dur !== undefined && dur !== null) md['mpris:length'] = new Variant('x', us(dur));
  if (t.source.kind === 'file') md['xesam:url'] = new Variant('s', `file://${encodeURI(t.source.path)}`);
  const art = artUrl?.(t);
  if (art) md['mpris:artUrl'] = new Variant('s', art);
  return md;
}

/** Starts the service, or returns null (after a log line) when there is no usable session bus. */
export async function startMpris(opts: MprisOptions): Promise<MprisService | null> {
  const log = opts.log ?? (() => {});
  const address = opts.busAddress ?? process.env.DBUS_SESSION_BUS_ADDRESS;
  if (!address) {
    log('MPRIS is off: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)');
    return null;
  }
  const busName = `org.mpris.MediaPlayer2.${opts.name ?? `stellatune.instance${process.pid}`}`;
  let bus: dbus.MessageBus;
  try {
    bus = dbus.sessionBus({ busAddress: address });
  } catch (err) {
    log(`MPRIS is off: cannot reach the session bus (${(err as Error).message})`);
    return null;
  }
  // A bus that goes away later (the desktop session ends) must not take the core with it; one that
  // never answers must not hold up the start.
  let broken = false;
  let failStart: (err: Error) => void = () => {};
  const startFailed = new Promise<never>((_resolve, reject) => (failStart = reject));
  startFailed.catch(() => {});
  bus.on('error', (err: Error) => {
    if (!broken) log(`MPRIS: the session bus failed (${err.message}); the service is off`);
    broken = true;
    failStart(err);
  });
  const startTimer = setTimeout(() => failStart(new Error('the session bus did not answer within 5 s')), 5000);
  const engine = opts.engine;
  let status = engine().status();
  let lastPos = { ms: status.positionMs, at: Date.now() };

  class RootIface extends Interface {
    get CanQuit(): boolean {
      return opts.quit !== undefined;
    }
    get CanRaise(): boolean {
      return opts.raise !== undefined;
    }
    get HasTrackList(): boolean {
      return false;
    }
    get Identity(): string {
      return 'StellaTune';
    }
    get DesktopEntry(): string {
      return 'stellatune';
    }
    get SupportedUriSchemes(): string[] {
      return ['file'];
    }
    get SupportedMimeTypes(): string[] {
      return ['audio/flac', 'audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/x-wav', 'audio/aiff', 'audio/opus'];
    }
    Raise(): void {
      opts.raise?.();
    }
    Quit(): void {
      opts.quit?.();
    }
  }
  RootIface.configureMembers({
    properties: {
      CanQuit: { signature: 'b', access: 'read' },
      CanRaise: { signature: 'b', access: 'read' },
      HasTrackList: { signature: 'b', access: 'read' },
      Identity: { signature: 's', access: 'read' },
      DesktopEntry: { signature: 's', access: 'read' },
      SupportedUriSchemes: { signature: 'as', access: 'read' },
      SupportedMimeTypes: { signature: 'as', access: 'read' },
    },
    methods: { Raise: {}, Quit: {} },
  });

  // Transport calls answer at once; a failure (empty queue, no audio) becomes a log line, since
  // MPRIS callers have no way to show it.
  const run = (what: string, p: Promise<unknown> | unknown): void => {
    void Promise.resolve(p).catch((err: Error) => log(`MPRIS ${what}: ${err.message}`));
  };

  class PlayerIface extends Interface {
    get PlaybackStatus(): string {
      return playbackOf(status);
    }
    get LoopStatus(): string {
      return loopOf(status.repeat);
    }
    set LoopStatus(v: string) {
      const r = repeatOf(v);
      if (r) engine().setRepeat(r);
    }
    get Rate(): number {
      return 1;
    }
    set Rate(_v: number) {
      // Only normal speed is offered (MinimumRate = MaximumRate = 1).
    }
    get Shuffle(): boolean {
      return status.shuffle;
    }
    set Shuffle(v: boolean) {
      engine().setShuffle(Boolean(v));
    }
    get Metadata(): Record<string, InstanceType<typeof Variant>> {
      return metadataOf(status, opts.artUrl);
    }
    get Volume(): number {
      return status.volume;
    }
    set Volume(v: number) {
      engine().setVolume(Math.min(1, Math.max(0, Number(v))));
    }
    get Position(): bigint {
      return us(engine().status().positionMs);
    }
    get MinimumRate(): number {
      return 1;
    }
    get MaximumRate(): number {
      return 1;
    }
    get CanGoNext(): boolean {
      return status.current !== null;
    }
    get CanGoPrevious(): boolean {
      return status.current !== null;
    }
    get CanPlay(): boolean {
      return engine().queue().tracks.length > 0;
    }
    get CanPause(): boolean {
      return status.current !== null;
    }
    get CanSeek(): boolean {
      return status.current !== null && status.durationMs !== null;
    }
    get CanControl(): boolean {
      return true;
    }
    Next(): void {
      run('Next', engine().next());
    }
    Previous(): void {
      run('Previous', engine().previous());
    }
    Pause(): void {
      run('Pause', engine().pause());
    }
    PlayPause(): void {
      const s = engine().status();
      run('PlayPause', s.state === 'playing' || s.state === 'loading' ? engine().pause() : engine().resume());
    }
    Stop(): void {
      run('Stop', engine().stop());
    }
    Play(): void {
      run('Play', engine().resume());
    }
    Seek(offsetUs: bigint): void {
      const s = engine().status();
      if (!s.current) return;
      const to = s.positionMs + Number(offsetUs) / 1000;
      // The spec: seeking past the end acts like Next; before the start, like 0.
      if (s.durationMs !== null && to >= s.durationMs) run('Seek', engine().next());
      else run('Seek', engine().seek(Math.max(0, to)));
    }
    SetPosition(trackId: string, positionUs: bigint): void {
      const s = engine().status();
      const ms = Number(positionUs) / 1000;
      if (trackId !== trackIdOf(s.current) || ms < 0 || (s.durationMs !== null && ms > s.durationMs)) return;
      run('SetPosition', engine().seek(ms));
    }
    OpenUri(uri: string): void {
      if (!uri.startsWith('file://')) throw new dbus.DBusError('org.mpris.MediaPlayer2.Player.Error.UnsupportedUri', `only file:// URIs are supported: ${uri}`);
      const file = fileURLToPath(uri);
      const track: NewTrack = { source: { kind: 'file', path: file }, title: path.basename(file, path.extname(file)) };
      const [added] = engine().queueAdd([track]);
      const index = added ? engine().queue().tracks.findIndex((t) => t.id === added.id) : -1;
      if (index >= 0) run('OpenUri', engine().play(index));
    }
    Seeked(positionUs: bigint): bigint {
      return positionUs;
    }
  }
  PlayerIface.configureMembers({
    properties: {
      PlaybackStatus: { signature: 's', access: 'read' },
      LoopStatus: { signature: 's', access: 'readwrite' },
      Rate: { signature: 'd', access: 'readwrite' },
      Shuffle: { signature: 'b', access: 'readwrite' },
      Metadata: { signature: 'a{sv}', access: 'read' },
      Volume: { signature: 'd', access: 'readwrite' },
      Position: { signature: 'x', access: 'read' },
      MinimumRate: { signature: 'd', access: 'read' },
      MaximumRate: { signature: 'd', access: 'read' },
      CanGoNext: { signature: 'b', access: 'read' },
      CanGoPrevious: { signature: 'b', access: 'read' },
      CanPlay: { signature: 'b', access: 'read' },
      CanPause: { signature: 'b', access: 'read' },
      CanSeek: { signature: 'b', access: 'read' },
      CanControl: { signature: 'b', access: 'read' },
    },
    methods: {
      Next: {},
      Previous: {},
      Pause: {},
      PlayPause: {},
      Stop: {},
      Play: {},
      Seek: { inSignature: 'x' },
      SetPosition: { inSignature: 'ox' },
      OpenUri: { inSignature: 's' },
    },
    signals: { Seeked: { signature: 'x' } },
  });

  const root = new RootIface('org.mpris.MediaPlayer2');
  const player = new PlayerIface('org.mpris.MediaPlayer2.Player');
  try {
    bus.export(OBJECT_PATH, root);
    bus.export(OBJECT_PATH, player);
    // DO_NOT_QUEUE: a second instance with the same name fails instead of waiting.
    const reply = await Promise.race([bus.requestName(busName, dbus.NameFlag.DO_NOT_QUEUE), startFailed]);
    clearTimeout(startTimer);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) throw new Error(`the name ${busName} is taken`);
  } catch (err) {
    clearTimeout(startTimer);
    if (!broken) log(`MPRIS is off: ${(err as Error).message}`);
    broken = true;
    try {
      bus.disconnect();
    } catch {
      // already gone
    }
    return null;
  }

  // Mirror status changes as PropertiesChanged (only what changed), and jumps of the position as
  // Seeked (clients interpolate Position from PlaybackStatus and Seeked).
  const onEvent = (e: PlayerEvent): void => {
    if (broken) return;
    if (e.type === 'status') {
      const before = { p: playbackOf(status), l: loopOf(status.repeat), s: status.shuffle, v: status.volume, md: JSON.stringify(metadataOf(status, opts.artUrl), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)), c: status.current !== null, seekable: status.durationMs !== null };
      const prevTrack = status.current?.id;
      status = e.status;
      const changed: Record<string, unknown> = {};
      if (playbackOf(status) !== before.p) changed.PlaybackStatus = playbackOf(status);
      if (loopOf(status.repeat) !== before.l) changed.LoopStatus = loopOf(status.repeat);
      if (status.shuffle !== before.s) changed.Shuffle = status.shuffle;
      if (status.volume !== before.v) changed.Volume = status.volume;
      const md = metadataOf(status, opts.artUrl);
      if (JSON.stringify(md, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) !== before.md) changed.Metadata = md;
      if ((status.current !== null) !== before.c) {
        changed.CanGoNext = changed.CanGoPrevious = changed.CanPause = status.current !== null;
      }
      if ((status.current !== null && status.durationMs !== null) !== (before.c && before.seekable)) changed.CanSeek = status.current !== null && status.durationMs !== null;
      changed.CanPlay = engine().queue().tracks.length > 0;
      Interface.emitPropertiesChanged(player, changed, []);
      if (status.current?.id !== prevTrack) lastPos = { ms: status.positionMs, at: Date.now() };
    } else if (e.type === 'position') {
      const now = Date.now();
      const expected = lastPos.ms + (status.state === 'playing' ? now - lastPos.at : 0);
      if (Math.abs(e.positionMs - expected) > SEEK_JUMP_MS) player.Seeked(us(e.positionMs));
      lastPos = { ms: e.positionMs, at: now };
    } else if (e.type === 'queue') {
      Interface.emitPropertiesChanged(player, { CanPlay: e.queue.tracks.length > 0 }, []);
    }
  };
  let current = engine();
  current.on('event', onEvent);
  log(`MPRIS: ${busName} on the session bus`);

  return {
    busName,
    async close() {
      current.off('event', onEvent);
      current = engine();
      try {
        if (!broken) await bus.releaseName(busName);
      } catch {
        // the bus is gone already
      }
      try {
        bus.disconnect();
      } catch {
        // already disconnected
      }
    },
  };
}
