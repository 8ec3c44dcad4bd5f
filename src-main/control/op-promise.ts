// The one layer that turns a plugin's async op (begin/poll/cancel/take/destroy) into a promise.
//
// It installs the notifier, polls once and then with backoff as a fallback (so a plugin that
// never notifies is only slower), enforces a deadline, honours an AbortSignal by cancelling the
// op, takes the result or the failure message, and destroys the op exactly once on every path.
// It never calls the op's blocking wait. When the caller has been answered (deadline or abort)
// but the plugin ignores cancel, the op becomes a "zombie": it keeps being watched at a slow pace
// and is destroyed when it finally leaves PENDING, or when its generation must unload.
import type { NativeOp, NativeStream, TakeResult } from '../plugins/instances.js';
import { registerNotifyListener } from '../plugins/host-callbacks.js';
import { Status } from '../plugins/abi.js';
import { ControlError } from './errors.js';
import { PluginResultTooLarge } from '../plugins/errors.js';

export type OpOutcome = 'completed' | 'failed' | 'timeout' | 'cancelled';

/** What a READY op yielded: JSON text, or a stream and its metadata JSON. */
export type OpResult = { kind: 'json'; json: string } | { kind: 'stream'; stream: NativeStream; meta: string };

export interface RunOpOptions<T> {
  /** Milliseconds until the op is cancelled and the caller gets a `timeout` error. */
  deadlineMs: number;
  signal?: AbortSignal;
  /**
   * Turns what the op yielded into the caller's value; may throw a ControlError to refuse it
   * (malformed or oversized JSON). A stream it accepts is the caller's to close.
   */
  accept: (result: OpResult) => T;
  pluginId: string;
  opName: string;
  /** Called once with the caller-visible outcome. */
  onOutcome?: (outcome: OpOutcome) => void;
  /** Called once, right after the op was destroyed. */
  onDestroyed?: () => void;
  /**
   * Called on every notifier call with the op's state at that moment (the plugin checker counts
   * them: none, two, or one while still PENDING are bugs the polling fallback would hide). With
   * it set, the notifier stays registered for `lateNotifyMs` after destroy to catch late calls.
   */
  onNotify?: (state: 'pending' | 'ready' | 'failed' | 'cancelled' | 'destroyed') => void;
  lateNotifyMs?: number;
  /** Called once with the op's state right after the notifier was installed (an op already done
   * by then never needs to notify). */
  onInstalled?: (state: 'pending' | 'ready' | 'failed' | 'cancelled') => void;
  /** A JSON result longer than this is refused by its length, before it is copied. */
  maxResultBytes?: number;
}

const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 250;
const ZOMBIE_POLL_MS = 1000;

/** A running op: the caller's promise, and a way to destroy the op early at unload time. */
export interface RunningOp<T> {
  readonly promise: Promise<T>;
  /** True while the op handle is alive (pending, or a zombie after the caller was answered). */
  readonly alive: boolean;
  /** Answers the caller with `cancelled` and cancels the op (which lives on until it ends). */
  cancel(message: string): void;
  /** Destroys the op now whatever its state (the ABI allows it); used before an unload. */
  forceDestroy(reason: 'unload' | 'disable'): void;
}

class OpWatcher<T> implements RunningOp<T> {
  readonly promise: Promise<T>;
  private resolve!: (value: T) => void;
  private reject!: (err: ControlError) => void;
  private settled = false;
  private destroyed = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private pollDelay = FIRST_POLL_MS;
  private readonly notifier: ReturnType<typeof registerNotifyListener>;
  private readonly onAbort = (): void => this.giveUp('cancelled', 'the caller cancelled the request');

  constructor(
    private readonly op: NativeOp,
    private readonly opts: RunOpOptions<T>,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.notifier = registerNotifyListener(() => {
      opts.onNotify?.(this.destroyed ? 'destroyed' : this.op.poll());
      this.check();
    });
    op.setNotifier(this.notifier.fn, this.notifier.userData);
    if (opts.onInstalled) opts.onInstalled(op.poll());
    this.deadlineTimer = setTimeout(
      () => this.giveUp('timeout', `${opts.opName} did not finish within ${opts.deadlineMs} ms`),
      opts.deadlineMs,
    );
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(this.onAbort);
      else opts.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.check();
  }

  get alive(): boolean {
    return !this.destroyed;
  }

  cancel(message: string): void {
    this.giveUp('cancelled', message);
  }

  forceDestroy(reason: 'unload' | 'disable'): void {
    if (this.destroyed) return;
    this.op.cancel();
    this.giveUp('cancelled', reason === 'disable' ? 'the plugin was disabled' : 'the plugin was unloaded');
    this.destroy();
  }

  /** Polls the op; finishes it when it left PENDING, else schedules the next poll. */
  private check(): void {
    if (this.destroyed) return;
    const state = this.op.poll();
    if (state === 'pending') {
      this.schedulePoll();
      return;
    }
    this.finish();
  }

  private schedulePoll(): void {
    if (this.pollTimer) return;
    const delay = this.settled ? ZOMBIE_POLL_MS : this.pollDelay;
    this.pollDelay = Math.min(this.pollDelay * 2, MAX_POLL_MS);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.check();
    }, delay);
  }

  private finish(): void {
    if (!this.settled) {
      let result: TakeResult<T>;
      try {
        result = this.take();
      } catch (err) {
        // The caller refused the result (malformed or oversized JSON): a failure of its own kind.
        const refusal =
          err instanceof PluginResultTooLarge
            ? new ControlError({ code: 'result_too_large', message: `${this.opts.opName} returned ${err.bytes} bytes (limit ${err.limit})`, pluginId: this.opts.pluginId, op: this.opts.opName })
            : err;
        if (refusal instanceof ControlError) {
          this.settle('failed', () => this.reject(refusal));
          this.destroy();
          return;
        }
        result = { ok: false, status: Status.INTERNAL, statusName: 'internal', message: (err as Error).message };
      }
      if (result.ok) {
        const value = result.value;
        this.settle('completed', () => this.resolve(value));
      } else if (result.status === Status.CANCELLED) {
        this.settle('cancelled', () =>
          this.reject(this.error('cancelled', result.message || `${this.opts.opName} was cancelled by the plugin`)),
        );
      } else {
        const r = result;
        this.settle('failed', () =>
          this.reject(
            new ControlError({
              code: 'plugin_error',
              message: r.message || `${this.opts.opName} failed: ${r.statusName}`,
              pluginId: this.opts.pluginId,
              op: this.opts.opName,
              status: r.statusName,
            }),
          ),
        );
      }
    }
    // A zombie's late result is not taken: destroying an untaken op frees it (and closes an
    // untaken stream) on the plugin side.
    this.destroy();
  }

  /** take_json or take_stream, by the op's kind, then the caller's accept. */
  private take(): TakeResult<T> {
    if (this.op.kind === 'stream') {
      const r = this.op.takeStream();
      return r.ok ? { ok: true, value: this.opts.accept({ kind: 'stream', stream: r.value.stream, meta: r.value.meta }) } : r;
    }
    const r = this.op.takeJson(this.opts.maxResultBytes);
    return r.ok ? { ok: true, value: this.opts.accept({ kind: 'json', json: r.value }) } : r;
  }

  /** Answers the caller now (deadline or abort) and cancels the op; the op lives on until done. */
  private giveUp(outcome: 'timeout' | 'cancelled', message: string): void {
    if (this.settled || this.destroyed) return;
    this.settle(outcome, () => this.reject(this.error(outcome, message)));
    this.op.cancel();
    this.check();
  }

  private settle(outcome: OpOutcome, deliver: () => void): void {
    if (this.settled) return;
    this.settled = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.opts.onOutcome?.(outcome);
    deliver();
  }

  private destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.op.destroy();
    if (this.opts.onNotify) setTimeout(() => this.notifier.release(), this.opts.lateNotifyMs ?? 300);
    else this.notifier.release();
    this.opts.onDestroyed?.();
  }

  private error(code: 'timeout' | 'cancelled', message: string): ControlError {
    return new ControlError({ code, message, pluginId: this.opts.pluginId, op: this.opts.opName });
  }
}

/** Runs `op` to completion as a promise (see the module comment). */
export function runOp<T>(op: NativeOp, opts: RunOpOptions<T>): RunningOp<T> {
  return new OpWatcher(op, opts);
}
