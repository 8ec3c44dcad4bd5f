// Starts and supervises the audio process: child_process.fork by default; the Electron shell
// injects a utilityProcess spawner (src-main/electron/), so nothing here knows about Electron.
// Requests are messages with ids; the process is restarted when it dies unexpectedly and
// `onRestart` lets the engine resume playback.
import { fork } from 'node:child_process';
import type { FromAudio, ToAudio } from '../audio/protocol.js';
import { runnableEntry } from './runnable.js';

/** The little that differs between a forked child and an Electron utility process. */
export interface AudioChild {
  readonly pid: number | undefined;
  post(msg: ToAudio): void;
  kill(): void;
}

/** Starts the audio process from its entry file and wires its messages and exit. */
export type AudioSpawner = (
  entry: string,
  on: { message: (msg: FromAudio) => void; exit: (code: number | null) => void; log: (text: string) => void },
) => AudioChild;

/** The plain-Node spawner: child_process.fork with the advanced (structured clone) channel. */
export const forkAudioProcess: AudioSpawner = (entry, on) => {
  const child = fork(entry, [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '8' },
  });
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString().trim();
    // ALSA prints its configuration probing to stderr; keep only what looks like ours.
    if (text && !text.startsWith('ALSA lib') && process.env.STELLATUNE_AUDIO_DEBUG) on.log(text);
  });
  child.on('message', (m) => on.message(m as FromAudio));
  child.on('exit', (code) => on.exit(code));
  return { pid: child.pid, post: (m) => child.send(m), kill: () => child.kill('SIGKILL') };
};
type ChildHandle = AudioChild;

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
export type AudioRequest = DistributiveOmit<Exclude<ToAudio, { type: 'init' }>, 'id'>;

export interface AudioHostOptions {
  /** How the process is started (default: child_process.fork). */
  spawn?: AudioSpawner;
  init: Extract<ToAudio, { type: 'init' }>;
  onEvent: (msg: FromAudio) => void;
  /** Called after an unexpected exit once the new process is ready. */
  onRestart: () => void;
  log: (message: string) => void;
}

export class AudioHost {
  private child: ChildHandle | null = null;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private closing = false;
  private readyWaiters: ((err?: Error) => void)[] = [];
  private readonly exits: number[] = [];
  restarts = 0;

  constructor(private readonly opts: AudioHostOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    await this.spawn();
  }

  request<T>(msg: AudioRequest, timeoutMs = 10_000): Promise<T> {
    const child = this.child;
    if (!child) return Promise.reject(new Error('the audio process is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`audio process did not answer ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      child.post({ ...msg, id } as ToAudio);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.request({ type: 'close' }, 3000);
    } catch {
      // it is killed below anyway
    }
    this.child?.kill();
    this.child = null;
  }

  private spawn(): Promise<void> {
    const entry = runnableEntry('audio/audio-process.js');
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the audio process did not start within 10 s')), 10_000);
      this.readyWaiters.push((err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
    const onMessage = (msg: FromAudio): void => this.onMessage(msg);
    const onExit = (code: number | null): void => this.onExit(handle, code);
    const spawn = this.opts.spawn ?? forkAudioProcess;
    const handle: ChildHandle = spawn(entry, { message: onMessage, exit: onExit, log: this.opts.log });
    this.child = handle;
    handle.post(this.opts.init);
    return ready;
  }

  private onMessage(msg: FromAudio): void {
    if (msg.type === 'ready') {
      for (const w of this.readyWaiters.splice(0)) w();
      return;
    }
    if (msg.type === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error ?? 'audio process error'));
      return;
    }
    this.opts.onEvent(msg);
  }

  private onExit(handle: ChildHandle, code: number | null): void {
    if (this.child !== handle) return;
    this.child = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('the audio process exited'));
      this.pending.delete(id);
    }
    const startingUp = this.readyWaiters.length > 0;
    for (const w of this.readyWaiters.splice(0)) w(new Error(`the audio process exited during start-up (${code ?? 'signal'})`));
    if (this.closing || startingUp) return;
    this.restarts++;
    // A process that keeps dying (a broken device driver, a crashing sink plugin) is restarted
    // with a growing delay instead of in a tight loop.
    const now = Date.now();
    this.exits.push(now);
    while (this.exits.length > 0 && now - (this.exits[0] as number) > 30_000) this.exits.shift();
    const delay = this.exits.length <= 2 ? 0 : Math.min(10_000, 250 * 2 ** (this.exits.length - 2));
    this.opts.log(`audio process exited (${code ?? 'signal'}); restarting${delay ? ` in ${delay} ms` : ''}`);
    setTimeout(() => {
      if (this.closing) return;
      this.spawn().then(
        () => this.opts.onRestart(),
        (err: Error) => this.opts.log(`audio process restart failed: ${err.message}`),
      );
    }, delay).unref();
  }
}
