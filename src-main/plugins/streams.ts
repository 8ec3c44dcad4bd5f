// Stream io tables seen from the host side: a decoder candidate that refused a stream leaves it
// read part-way, so the next candidate needs it rewound. Decoding the io vtable (a C struct of
// function pointers) is koffi work, so it lives here with the rest of the plugin runtime.
import koffi from 'koffi';
import { fnOrNull, type NativeFn, Proto, StIoVtable } from './abi.js';

const ioSeekCache = new Map<bigint, NativeFn | null>();
const seekOut = new BigUint64Array(1);

/** Seeks the stream `handle` (read through the io table `io`) back to its start. */
export function rewindStream(handle: bigint, io: bigint): void {
  let seek = ioSeekCache.get(io);
  if (seek === undefined) {
    const vt = koffi.decode(io, StIoVtable) as { seek: bigint | null };
    seek = fnOrNull(vt.seek, Proto.ioSeek);
    ioSeekCache.set(io, seek);
  }
  seek?.(handle, 0, 0, seekOut);
}
