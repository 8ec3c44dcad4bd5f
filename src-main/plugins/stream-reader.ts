// Synchronous access to a plugin stream's io table (stream.h) for tools that inspect streams on
// the calling thread: the plugin checker reads a stream to the end, seeks and compares tell and
// size. (The decode worker has its own binding on its thread; koffi declarations are per thread.)
import koffi from 'koffi';
import { fnOrNull, type NativeFn, Proto, StIoVtable } from './abi.js';
import type { NativeStream } from './instances.js';

export class StreamReader {
  private readonly fns: { read: NativeFn; seek: NativeFn | null; tell: NativeFn | null; size: NativeFn | null };
  private readonly u64 = new BigUint64Array(1);
  private readonly sz = new BigUint64Array(1);

  constructor(readonly stream: NativeStream) {
    const vt = koffi.decode(stream.io, StIoVtable) as Record<string, bigint | null>;
    const read = fnOrNull(vt.read ?? null, Proto.ioRead);
    if (!read) throw new Error('the stream io table has no read function');
    this.fns = {
      read,
      seek: fnOrNull(vt.seek ?? null, Proto.ioSeek),
      tell: fnOrNull(vt.tell ?? null, Proto.ioTell),
      size: fnOrNull(vt.size ?? null, Proto.ioSize),
    };
  }

  /** Reads up to buf.length bytes; returns the count (0 at the end) or throws with the status. */
  read(buf: Uint8Array): number {
    const status = this.fns.read(this.stream.handle, buf, buf.length, this.sz) as number;
    if (status !== 0) throw Object.assign(new Error(`read returned status ${status}`), { status });
    return Number(this.sz[0]);
  }

  /** Seeks (whence 0 set, 1 cur, 2 end); returns the new position, or null when unsupported. */
  seek(offset: number, whence: 0 | 1 | 2): { status: number; pos: number } | null {
    if (!this.fns.seek) return null;
    const status = this.fns.seek(this.stream.handle, BigInt(offset), whence, this.u64) as number;
    return { status, pos: Number(this.u64[0]) };
  }

  tell(): { status: number; pos: number } | null {
    if (!this.fns.tell) return null;
    const status = this.fns.tell(this.stream.handle, this.u64) as number;
    return { status, pos: Number(this.u64[0]) };
  }

  size(): { status: number; size: number } | null {
    if (!this.fns.size) return null;
    const status = this.fns.size(this.stream.handle, this.u64) as number;
    return { status, size: Number(this.u64[0]) };
  }
}
