// The host functions plugins call back into: log and the async-op notifier.
//
// Each is registered with koffi once per thread and dispatches on its user-data integer, so the
// number of live koffi callbacks stays constant however many plugins and ops exist. A call from a
// plugin thread is relayed by koffi to this thread's event loop and blocks that plugin thread
// until the JS function has run, so both functions only record and return.
import koffi from 'koffi';
import { Proto, type Pointer } from './abi.js';

export type LogSink = (level: number, message: string) => void;
export type NotifyListener = () => void;

const logSinks = new Map<bigint, LogSink>();
const notifyListeners = new Map<bigint, NotifyListener>();
let logFn: Pointer | null = null;
let notifyFn: Pointer | null = null;
let nextLogId = 1n;
let nextNotifyId = 1n;

function onLog(hostData: Pointer | null, level: number, message: Pointer | null, len: number | bigint): void {
  const sink = logSinks.get(hostData ?? 0n);
  if (!sink) return;
  const n = Number(len);
  const text = message && n > 0 ? koffi.decode.string(message, Math.min(n, 16384)) : '';
  sink(level, text);
}

function onNotify(userData: Pointer | null): void {
  const listener = notifyListeners.get(userData ?? 0n);
  if (!listener) return;
  // Fired at most once per op; run the listener after the relay returns so the plugin thread is
  // released before any follow-up native call.
  queueMicrotask(listener);
}

/** The registered log function pointer and a host_data value routed to `sink`. */
export function registerLogSink(sink: LogSink): { fn: Pointer; hostData: bigint; release: () => void } {
  logFn ??= koffi.register(onLog, koffi.pointer(Proto.logCallback));
  const id = nextLogId++;
  logSinks.set(id, sink);
  return { fn: logFn, hostData: id, release: () => logSinks.delete(id) };
}

/** The registered notifier function pointer and a user_data value routed to `listener`. */
export function registerNotifyListener(listener: NotifyListener): {
  fn: Pointer;
  userData: bigint;
  release: () => void;
} {
  notifyFn ??= koffi.register(onNotify, koffi.pointer(Proto.notifyCallback));
  const id = nextNotifyId++;
  notifyListeners.set(id, listener);
  return { fn: notifyFn, userData: id, release: () => notifyListeners.delete(id) };
}

/** Live notifier registrations (for leak checks in tests). */
export function pendingNotifyListeners(): number {
  return notifyListeners.size;
}
