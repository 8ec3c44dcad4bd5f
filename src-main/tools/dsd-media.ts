// DSD test media for the decoder tests and benchmarks: ffmpeg has no DSF or DSDIFF muxer, so
// these write the two containers (Sony's DSF 1.01, Philips' DSDIFF 1.5) around a 1-bit stream
// from a second-order sigma-delta modulator. Not a production encoder: just real, valid files.
import fs from 'node:fs';

/** 1-bit DSD samples (0/1 per sample) of a sum of sines, per channel. */
function sigmaDelta(dsdRate: number, seconds: number, channels: number, freqs: number[]): Uint8Array[] {
  const n = Math.floor(dsdRate * seconds);
  const out: Uint8Array[] = [];
  for (let c = 0; c < channels; c++) {
    const bits = new Uint8Array(n);
    let i1 = 0;
    let i2 = 0;
    let y = 0;
    const f = freqs[c % freqs.length] as number;
    for (let i = 0; i < n; i++) {
      const x = 0.4 * Math.sin((2 * Math.PI * f * i) / dsdRate) + 0.1 * Math.sin((2 * Math.PI * f * 2.5 * i) / dsdRate);
      i1 += x - y;
      i2 += i1 - y;
      const bit = i2 >= 0 ? 1 : 0;
      y = bit ? 1 : -1;
      bits[i] = bit;
    }
    out.push(bits);
  }
  return out;
}

/** Packs bits into bytes, least (DSF) or most (DSDIFF) significant bit first. */
function pack(bits: Uint8Array, lsbFirst: boolean, bytes: number): Buffer {
  const out = Buffer.alloc(bytes, 0x69); // 0x69: DSD idle pattern for any padding
  for (let b = 0; b < Math.ceil(bits.length / 8); b++) {
    let v = 0;
    for (let k = 0; k < 8; k++) {
      const bit = bits[b * 8 + k] ?? (k % 2);
      v |= bit << (lsbFirst ? k : 7 - k);
    }
    out[b] = v;
  }
  return out;
}

/** Writes a DSF file (DSD64 unless `dsdRate` says otherwise). */
export function writeDsf(file: string, opts: { seconds: number; channels?: number; dsdRate?: number; freqs?: number[] }): void {
  const channels = opts.channels ?? 2;
  const rate = opts.dsdRate ?? 2822400;
  const bits = sigmaDelta(rate, opts.seconds, channels, opts.freqs ?? [1000, 1500]);
  const block = 4096;
  const samples = bits[0]!.length;
  const blocks = Math.ceil(samples / 8 / block);
  const perChannel = bits.map((b) => pack(b, true, blocks * block));
  const data = Buffer.alloc(blocks * block * channels);
  for (let k = 0; k < blocks; k++) {
    for (let c = 0; c < channels; c++) perChannel[c]!.copy(data, (k * channels + c) * block, k * block, (k + 1) * block);
  }
  const dsd = Buffer.alloc(28);
  dsd.write('DSD ', 0, 'ascii');
  dsd.writeBigUInt64LE(28n, 4);
  dsd.writeBigUInt64LE(BigInt(28 + 52 + 12 + data.length), 12);
  dsd.writeBigUInt64LE(0n, 20);
  const fmt = Buffer.alloc(52);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeBigUInt64LE(52n, 4);
  fmt.writeUInt32LE(1, 12); // format version
  fmt.writeUInt32LE(0, 16); // DSD raw
  fmt.writeUInt32LE(channels === 1 ? 1 : channels === 2 ? 2 : 7, 20); // channel type
  fmt.writeUInt32LE(channels, 24);
  fmt.writeUInt32LE(rate, 28);
  fmt.writeUInt32LE(1, 32); // bits per sample: 1 = LSB first
  fmt.writeBigUInt64LE(BigInt(samples), 36);
  fmt.writeUInt32LE(block, 44);
  const head = Buffer.alloc(12);
  head.write('data', 0, 'ascii');
  head.writeBigUInt64LE(BigInt(12 + data.length), 4);
  fs.writeFileSync(file, Buffer.concat([dsd, fmt, head, data]));
}

function chunk(id: string, body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.write(id, 0, 'ascii');
  h.writeBigUInt64BE(BigInt(body.length), 4);
  return Buffer.concat([h, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** Writes a DSDIFF (.dff) file, uncompressed DSD. */
export function writeDff(file: string, opts: { seconds: number; channels?: number; dsdRate?: number; freqs?: number[] }): void {
  const channels = opts.channels ?? 2;
  const rate = opts.dsdRate ?? 2822400;
  const bits = sigmaDelta(rate, opts.seconds, channels, opts.freqs ?? [1000, 1500]);
  const bytes = Math.floor(bits[0]!.length / 8);
  const perChannel = bits.map((b) => pack(b, false, bytes));
  const data = Buffer.alloc(bytes * channels);
  for (let i = 0; i < bytes; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = perChannel[c]![i]!;
  const fver = Buffer.alloc(4);
  fver.writeUInt32BE(0x01050000, 0);
  const fs4 = Buffer.alloc(4);
  fs4.writeUInt32BE(rate, 0);
  const ids = ['SLFT', 'SRGT', 'C   ', 'LFE ', 'LS  ', 'RS  '];
  const chnl = Buffer.alloc(2 + 4 * channels);
  chnl.writeUInt16BE(channels, 0);
  for (let c = 0; c < channels; c++) chnl.write(ids[c] ?? 'C   ', 2 + 4 * c, 'ascii');
  const name = 'not compressed';
  const cmpr = Buffer.alloc(4 + 1 + name.length);
  cmpr.write('DSD ', 0, 'ascii');
  cmpr.writeUInt8(name.length, 4);
  cmpr.write(name, 5, 'ascii');
  const prop = chunk('PROP', Buffer.concat([Buffer.from('SND ', 'ascii'), chunk('FS  ', fs4), chunk('CHNL', chnl), chunk('CMPR', cmpr)]));
  const body = Buffer.concat([Buffer.from('DSD ', 'ascii'), chunk('FVER', fver), prop, chunk('DSD ', data)]);
  const frm = Buffer.alloc(12);
  frm.write('FRM8', 0, 'ascii');
  frm.writeBigUInt64BE(BigInt(body.length), 4);
  fs.writeFileSync(file, Buffer.concat([frm, body]));
}
