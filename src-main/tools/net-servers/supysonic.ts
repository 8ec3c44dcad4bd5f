// A real Subsonic server for the network plugin tests and benchmarks: Debian's supysonic 0.7
// (apt: supysonic python3-waitress), started on a free 127.0.0.1 port over a music folder made
// with ffmpeg at run time (nothing committed), with its own sqlite DB and config in a temp folder.
//
// supysonic reads its config from ./supysonic.conf (among /etc/supysonic, ~/.supysonic and
// ~/.config/supysonic/supysonic.conf), so every command runs with the temp folder as cwd and HOME.
//   supysonic-cli user add <name> -p <password>;  supysonic-cli user setroles --admin <name>
//   supysonic-cli folder add <name> <path>;       supysonic-cli folder scan --foreground <name>
//   supysonic-server -S waitress -h 127.0.0.1 -p <port>
// supysonic has no token authentication (it stores salted password hashes): clients must send
// the password (p=enc:<hex>), i.e. the plugin's plain_password opt-in.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MusicTrack {
  /** Path below the music folder, e.g. "Aurora Test/First Light/01 Dawn.flac". */
  file: string;
  title: string;
  artist: string;
  album: string;
  track: number;
  seconds: number;
  /** Sine frequency, so tests can tell tracks apart. */
  freq: number;
}

/** The default library: three FLAC tracks on one album, two MP3 tracks on another. */
export const defaultLibrary: MusicTrack[] = [
  { file: 'Aurora Test/First Light/01 Dawn.flac', title: 'Dawn', artist: 'Aurora Test', album: 'First Light', track: 1, seconds: 4, freq: 440 },
  { file: 'Aurora Test/First Light/02 Noon.flac', title: 'Noon', artist: 'Aurora Test', album: 'First Light', track: 2, seconds: 3, freq: 550 },
  { file: 'Aurora Test/First Light/03 Dusk.flac', title: 'Dusk', artist: 'Aurora Test', album: 'First Light', track: 3, seconds: 3, freq: 660 },
  { file: 'Boreal Duo/Night Signals/01 Beacon.mp3', title: 'Beacon', artist: 'Boreal Duo', album: 'Night Signals', track: 1, seconds: 3, freq: 330 },
  { file: 'Boreal Duo/Night Signals/02 Static.mp3', title: 'Static', artist: 'Boreal Duo', album: 'Night Signals', track: 2, seconds: 3, freq: 770 },
];

export interface SupysonicServer {
  url: string;
  port: number;
  user: string;
  password: string;
  dir: string;
  musicDir: string;
  /** The plugin config that reaches this server (plain password: supysonic has no tokens). */
  pluginConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Calls the REST API directly (JSON), for setup and cross-checks. */
  api(method: string, params?: Record<string, string | string[]>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A small cover.jpg in each album folder, so the server reports cover art. */
function makeCovers(musicDir: string, tracks: MusicTrack[]): void {
  for (const dir of new Set(tracks.map((t) => path.dirname(path.join(musicDir, t.file))))) {
    execFileSync(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=navy:s=64x64', '-frames:v', '1', path.join(dir, 'cover.jpg')],
      { stdio: 'pipe' },
    );
  }
}

export function supysonicAvailable(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v supysonic-server && command -v supysonic-cli'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function makeTrack(musicDir: string, t: MusicTrack): void {
  const out = path.join(musicDir, t.file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const codec = out.endsWith('.mp3')
    ? ['-c:a', 'libmp3lame', '-b:a', '128k']
    : out.endsWith('.m4a')
      ? ['-c:a', 'aac', '-b:a', '160k', '-movflags', '+faststart']
      : ['-c:a', 'flac'];
  execFileSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `sine=frequency=${t.freq}:sample_rate=44100:duration=${t.seconds}`,
      '-ac', '2', ...codec,
      '-metadata', `title=${t.title}`, '-metadata', `artist=${t.artist}`, '-metadata', `album_artist=${t.artist}`,
      '-metadata', `album=${t.album}`, '-metadata', `track=${t.track}`,
      out,
    ],
    { stdio: 'pipe' },
  );
}

export async function startSupysonic(opts: { library?: MusicTrack[]; user?: string; password?: string } = {}): Promise<SupysonicServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-supysonic-'));
  const musicDir = path.join(dir, 'music');
  const user = opts.user ?? 'alice';
  const password = opts.password ?? 'pa ss:wörd';
  if (!supysonicAvailable()) {
    throw new Error('supysonic is not installed: apt-get install supysonic python3-waitress (Debian/Ubuntu)');
  }
  const library = opts.library ?? defaultLibrary;
  for (const t of library) makeTrack(musicDir, t);
  makeCovers(musicDir, library);
  fs.mkdirSync(path.join(dir, 'cache'));
  fs.writeFileSync(
    path.join(dir, 'supysonic.conf'),
    [
      '[base]',
      `database_uri = sqlite:///${path.join(dir, 'supysonic.db')}`,
      '[webapp]',
      `cache_dir = ${path.join(dir, 'cache')}`,
      'mount_webui = off',
      'log_level = WARNING',
      '[daemon]',
      `socket = ${path.join(dir, 'daemon.sock')}`,
      // Transcoding (the plugin's format/max_bitrate_kbps settings): ffmpeg to stdout.
      '[transcoding]',
      'transcoder = ffmpeg -v 0 -i %srcpath -ab %outratek -f %outfmt -',
      'default_transcode_target = mp3',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, HOME: dir, PYTHONDONTWRITEBYTECODE: '1' };
  const cli = (...args: string[]): string =>
    execFileSync('supysonic-cli', args, { cwd: dir, env, stdio: 'pipe', encoding: 'utf8' });
  cli('user', 'add', user, '-p', password);
  cli('user', 'setroles', '--admin', user);
  cli('folder', 'add', 'Library', musicDir);
  cli('folder', 'scan', '--foreground', 'Library');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('supysonic-server', ['-S', 'waitress', '-h', '127.0.0.1', '-p', String(port), '--threads', '8'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async (method: string, params: Record<string, string | string[]> = {}): Promise<Record<string, unknown>> => {
    const q = new URLSearchParams({ u: user, p: password, v: '1.12.0', c: 'stellatune-test', f: 'json' });
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
    const res = await fetch(`${url}/rest/${method}?${q.toString()}`);
    const body = (await res.json()) as { 'subsonic-response': Record<string, unknown> };
    return body['subsonic-response'];
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`supysonic-server exited: ${stderr}`);
    try {
      if ((await api('ping')).status === 'ok') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`supysonic-server did not answer on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    user,
    password,
    dir,
    musicDir,
    pluginConfig: (extra = {}) => ({ server_url: url, username: user, password, plain_password: true, timeout_ms: 5000, ...extra }),
    api,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
