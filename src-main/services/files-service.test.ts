// The files service: browsing shows folders and playable files only, expanding walks folders in
// natural order and skips what no decoder plays, never lists a FIFO as audio, ends on symlink
// loops and keeps the event loop turning through a folder of 100k entries.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesService } from './files-service.js';

let root: string;
const files = filesService(() => ['wav', 'flac']);
const ctx = { signal: new AbortController().signal };

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-files-'));
  fs.mkdirSync(path.join(root, 'Album B'));
  fs.mkdirSync(path.join(root, 'Album A', 'CD 1'), { recursive: true });
  fs.mkdirSync(path.join(root, '.hidden'));
  for (const f of ['Album A/10 ten.flac', 'Album A/2 two.flac', 'Album A/cover.jpg', 'Album A/CD 1/1 one.wav', 'Album B/x.WAV', 'loose.flac', 'notes.txt', '.hidden/h.wav']) {
    fs.writeFileSync(path.join(root, f), 'x');
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('files service', () => {
  it('browses folders first, then playable files, hiding dotfiles and other files', async () => {
    const r = await files.browse({ dir: root }, ctx);
    expect(r.dir).toBe(root);
    expect(r.parent).toBe(path.dirname(root));
    expect(r.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:Album A', 'dir:Album B', 'audio:loose.flac']);
  });

  it('lists files of the extensions asked for (playlists) as kind file, beside the audio', async () => {
    fs.writeFileSync(path.join(root, 'Mix.M3U8'), '#EXTM3U\n');
    fs.writeFileSync(path.join(root, 'old.m3u'), '');
    try {
      const r = await files.browse({ dir: root, extensions: ['m3u8', '.m3u'] }, ctx);
      expect(r.entries.slice(0, 2).map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:Album A', 'dir:Album B']);
      expect(r.entries.slice(2).map((e) => `${e.kind}:${e.name}`).sort()).toEqual(['audio:loose.flac', 'file:Mix.M3U8', 'file:old.m3u']);
      // Not asked for: not listed.
      expect((await files.browse({ dir: root }, ctx)).entries.some((e) => e.kind === 'file')).toBe(false);
    } finally {
      fs.rmSync(path.join(root, 'Mix.M3U8'));
      fs.rmSync(path.join(root, 'old.m3u'));
    }
  });

  it('expands folders recursively: files in natural order, then subfolders', async () => {
    const r = await files.expand({ paths: [path.join(root, 'Album A'), path.join(root, 'notes.txt')] }, ctx);
    expect(r.tracks.map((t) => t.title)).toEqual(['2 two', '10 ten', '1 one']);
    expect(r.tracks[2]!.source).toEqual({ kind: 'file', path: path.join(root, 'Album A', 'CD 1', '1 one.wav') });
    expect(r.skipped).toBe(1);
  });

  it('reports an unreadable folder as an io error', async () => {
    await expect(files.browse({ dir: path.join(root, 'missing') }, ctx)).rejects.toMatchObject({ code: 'io' });
  });

  it('stops when the call is cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(files.expand({ paths: [root] }, { signal: ac.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('files service against special files and big folders', () => {
  let odd: string;
  beforeAll(() => {
    odd = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-files-odd-'));
  });
  afterAll(() => fs.rmSync(odd, { recursive: true, force: true }));

  it('a symlink loop expanded recursively ends, with every file found once', async () => {
    const top = path.join(odd, 'loop');
    fs.mkdirSync(path.join(top, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(top, 'a', '1.wav'), 'x');
    fs.writeFileSync(path.join(top, 'a', 'b', '2.wav'), 'x');
    fs.symlinkSync('..', path.join(top, 'a', 'b', 'up')); // b/up -> a
    fs.symlinkSync(top, path.join(top, 'a', 'b', 'top')); // b/top -> the top folder
    fs.symlinkSync('1.wav', path.join(top, 'a', 'same.wav')); // the same file under another name
    const r = await files.expand({ paths: [top], recursive: true }, ctx);
    expect(r.tracks.map((t) => path.relative(top, (t.source as { path: string }).path)).sort()).toEqual(['a/1.wav', 'a/b/2.wav']);
  });

  it('FIFOs and sockets named *.wav are not listed as audio nor expanded into tracks', async () => {
    const dir = path.join(odd, 'special');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'real.wav'), 'x');
    execFileSync('mkfifo', [path.join(dir, 'pipe.wav')]);
    const server = net.createServer().listen(path.join(dir, 'socket.wav'));
    await new Promise((r) => server.once('listening', r));
    fs.symlinkSync('/dev/zero', path.join(dir, 'device.wav'));
    try {
      const listed = await files.browse({ dir }, ctx);
      expect(listed.entries.map((e) => e.name)).toEqual(['real.wav']);
      const r = await files.expand({ paths: [dir, path.join(dir, 'pipe.wav')] }, ctx);
      expect(r.tracks.map((t) => t.title)).toEqual(['real']);
      expect(r.skipped).toBe(1);
    } finally {
      server.close();
    }
  });

  it('expanding a folder of 100k entries keeps the event loop turning', async () => {
    // On tmpfs where there is one: 100k entries on a disk shared by the CI jobs take seconds to make.
    const base = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/stellatune-files-') : odd;
    const big = path.join(base, 'big');
    fs.mkdirSync(big);
    // Shuffled names, so the sort has work to do.
    const order = Array.from({ length: 100_000 }, (_, i) => i).sort(() => Math.random() - 0.5);
    // The 90k non-audio entries are hard links to one empty file (one system call each, so the
    // setup stays cheap); the 10k audio files are files of their own (each is found once).
    // (Two targets: a file system caps the links to one inode, ext4 at 65,000.)
    const blanks = [path.join(base, 'blank-a'), path.join(base, 'blank-b')];
    for (const b of blanks) fs.writeFileSync(b, '');
    for (const i of order) {
      if (i % 10 === 0) fs.writeFileSync(path.join(big, `track ${i}.wav`), '');
      else fs.linkSync(blanks[i % 2]!, path.join(big, `track ${i}.txt`));
    }
    const made = performance.now();
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const r = await files.expand({ paths: [big] }, ctx);
    histogram.disable();
    expect(r.tracks).toHaveLength(10_000);
    expect(r.tracks.slice(0, 3).map((t) => t.title)).toEqual(['track 0', 'track 10', 'track 20']);
    const maxMs = histogram.max / 1e6;
    console.log(`expand of 100k entries: longest event-loop block ${maxMs.toFixed(0)} ms (the expand took ${(performance.now() - made).toFixed(0)} ms)`);
    expect(maxMs).toBeLessThan(200);
    if (base !== odd) fs.rmSync(base, { recursive: true, force: true });
  });
});
