// A structural check of a library file before it is handed to dlopen. glibc maps an ELF file's
// segments as its program headers describe them; a truncated file (an interrupted copy) then
// faults with SIGBUS inside dlopen and takes the whole process down. Reading the headers first
// turns that into a clear refusal.
import fs from 'node:fs';

const PT_LOAD = 1;
const ET_DYN = 3;

/** Returns why `file` cannot be a loadable library, or null if its structure is sound. */
export function checkLibraryFile(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    return `cannot open the file: ${(err as Error).message}`;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(64);
    const got = fs.readSync(fd, head, 0, 64, 0);
    if (got >= 2 && head[0] === 0x4d && head[1] === 0x5a) return null; // PE ("MZ"): Windows' loader checks it
    if (got >= 4 && [0xfeedfacf, 0xcffaedfe, 0xcafebabe, 0xbebafeca].includes(head.readUInt32BE(0))) return null; // Mach-O
    if (got < 52 || head.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF, PE or Mach-O file';
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    if (is64 && got < 64) return 'the ELF header is truncated';
    const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const addr = (b: Buffer, o: number): number =>
      is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o);
    if (u16(head, 16) !== ET_DYN) return 'the ELF file is not a shared object';
    const phoff = addr(head, is64 ? 32 : 28);
    const shoff = addr(head, is64 ? 40 : 32);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    const shentsize = u16(head, is64 ? 58 : 46);
    const shnum = u16(head, is64 ? 60 : 48);
    if (phnum === 0 || phoff + phnum * phentsize > size) return `the file is truncated (${size} bytes; program headers end past it)`;
    if (shoff !== 0 && shoff + shnum * shentsize > size) return `the file is truncated (${size} bytes; section headers end past it)`;
    const ph = Buffer.alloc(phnum * phentsize);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (u32(ph, o) !== PT_LOAD) continue;
      const offset = addr(ph, is64 ? o + 8 : o + 4);
      const filesz = addr(ph, is64 ? o + 32 : o + 16);
      if (offset + filesz > size) return `the file is truncated (${size} bytes; a loadable segment ends at ${offset + filesz})`;
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
