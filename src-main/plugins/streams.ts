// Stream io tables seen from the host side: a decoder candidate that refused a stream leaves it
// read part-way, so the next candidate needs it rewound; decoder choice by content reads the
// first bytes before any decoder opens it (decoder-choice.ts). Decoding the io vtable (a C struct
// of function pointers) is koffi work, so it lives here with the rest of the plugin runtime.
import koffi from 'koffi';
import { fnOrNull, type NativeFn, Proto, StIoVtable } from './abi.js';

interface IoFns {
  read: NativeFn | null;
  seek: NativeFn | null;
}
const ioCache = new Map<bigint, IoFns>();
const outCount = new BigUint64Array(1);

function ioFns(io: bigint): IoFns {
  let fns = ioCache.get(io);
  if (fns === undefined) {
    const vt = koffi.decode(io, StIoVtable) as { read: bigint | null; seek: bigint | null };
    fns = { read: fnOrNull(vt.read, Proto.ioRead), seek: fnOrNull(vt.seek, Proto.ioSeek) };
    ioCache.set(io, fns);
  }
  return fns;
}

/** Seeks the stream `handle` (read through the io table `io`) back to its start; false when it
 * cannot seek. */
export function rewindStream(handle: bigint, io: bigint): boolean {
  const seek = ioFns(io).seek;
  return seek !== null && (seek(handle, 0, 0, outCount) as number) === 0;
}

/**
 * The first `max` bytes of a seekable stream (fewer when it is shorter), the stream rewound
 * after; null when it cannot seek (its bytes could not be read again) or a read fails.
 */
export function readStreamHead(handle: bigint, io: bigint, max: number): Uint8Array | null {
  const { read, seek } = ioFns(io);
  if (!read || !seek || !rewindStream(handle, io)) return null;
  const head = new Uint8Array(max);
  let len = 0;
  while (len < head.length) {
    const status = read(handle, head.subarray(len), head.length - len, outCount) as number;
    const n = Number(outCount[0]);
    if (status !== 0) {
      rewindStream(handle, io);
      return null;
    }
    if (n === 0) break;
    len += Math.min(n, head.length - len);
  }
  return rewindStream(handle, io) ? head.subarray(0, len) : null;
}
