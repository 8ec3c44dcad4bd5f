// The plugin template (native-plugins/template, org.example.folder-source) through the real
// control plane: it lists a real temporary folder (browse, paging, search, filters), opens a
// track as a stream whose bytes, seek, tell and size match the file, plans config changes, and
// keeps its state across a restart.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import type { StreamLease } from '../../control/owners.js';
import { fnOrNull, Proto, StIoVtable } from '../../plugins/abi.js';
import { makeTestHome, rejection, startControl, waitFor, type TestHome } from '../harness.js';
import { templatePlugin } from '../paths.js';

const ID = 'org.example.folder-source';
const TYPE = 'folder';

interface Item {
  id: string;
  kind: string;
  title: string;
  ext?: string;
  album?: string;
  size?: number;
}
interface Page {
  items: Item[];
  next_offset?: number;
}

let home: TestHome;
let music: string;
let cp: ControlPlane;

/** A deterministic, non-repeating byte pattern so a wrong offset shows. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

function put(rel: string, data: Buffer | string = 'x'): void {
  const file = path.join(music, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

beforeEach(async () => {
  music = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-music-'));
  put('Album A/01 First.flac', pattern(100_000));
  put('Album A/02 Second.MP3');
  put('Album A/cover.jpg');
  put('b.ogg');
  put('notes.txt');
  put('.hidden.flac');
  put('Nested/Deep/Needle Song.flac');
  put('Nested/other.wav');
  home = makeTestHome();
  home.install(templatePlugin);
  cp = await startControl(home);
  // No instance exists yet, so the config is stored and used when the first request creates one.
  expect(cp.applyConfig(ID, 'source', TYPE, { folder: music, extensions: ['flac', 'mp3', 'ogg', 'wav'] })).toEqual({
    outcome: 'stored',
  });
});

afterEach(async () => {
  await waitFor(() => cp.live().pendingOps === 0, 5000, 'pending ops to drain');
  expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0 });
  await cp.close();
  home.cleanup();
  fs.rmSync(music, { recursive: true, force: true });
});

const list = (request: unknown): Promise<Page> => cp.listItems(ID, TYPE, request) as Promise<Page>;
const brief = (page: Page): string[] => page.items.map((i) => `${i.kind}:${i.id}`);

/** Calls the stream's io table directly, as the decode worker does. */
function streamIo(lease: StreamLease) {
  const vt = koffi.decode(lease.stream.io, StIoVtable) as Record<'read' | 'seek' | 'tell' | 'size', bigint>;
  const read = fnOrNull(vt.read, Proto.ioRead)!;
  const seek = fnOrNull(vt.seek, Proto.ioSeek)!;
  const tell = fnOrNull(vt.tell, Proto.ioTell)!;
  const size = fnOrNull(vt.size, Proto.ioSize)!;
  const out = new BigUint64Array(1);
  const h = lease.stream.handle;
  return {
    read(n: number): Buffer {
      const buf = Buffer.alloc(n);
      expect(read(h, buf, n, out)).toBe(0);
      return buf.subarray(0, Number(out[0]));
    },
    seek(offset: number, whence: number): number | null {
      const status = seek(h, offset, whence, out) as number;
      return status === 0 ? Number(out[0]) : null;
    },
    tell(): number {
      expect(tell(h, out)).toBe(0);
      return Number(out[0]);
    },
    size(): number {
      expect(size(h, out)).toBe(0);
      return Number(out[0]);
    },
  };
}

describe('the folder-source template', () => {
  it('browses folders first, filters by extension and pages with offset/limit', async () => {
    expect(brief(await list({ action: 'browse' }))).toEqual(['folder:Album A', 'folder:Nested', 'track:b.ogg']);
    const album = await list({ action: 'browse', id: 'Album A' });
    expect(album.items).toEqual([
      { id: 'Album A/01 First.flac', kind: 'track', title: '01 First', ext: 'flac', size: 100_000, album: 'Album A' },
      { id: 'Album A/02 Second.MP3', kind: 'track', title: '02 Second', ext: 'mp3', size: 1, album: 'Album A' },
    ]);
    expect(album.next_offset).toBeUndefined();
    const first = await list({ action: 'browse', id: 'Album A', limit: 1 });
    expect(brief(first)).toEqual(['track:Album A/01 First.flac']);
    expect(first.next_offset).toBe(1);
    const second = await list({ action: 'browse', id: 'Album A', offset: first.next_offset, limit: 1 });
    expect(brief(second)).toEqual(['track:Album A/02 Second.MP3']);
    expect(second.next_offset).toBeUndefined();
  });

  it('searches names recursively, case-insensitively, with paging', async () => {
    expect(brief(await list({ action: 'search', query: 'needle' }))).toEqual(['track:Nested/Deep/Needle Song.flac']);
    const all = await list({ action: 'search', query: 'E' });
    // Depth first, in browse order (folders first, then by name); the extension is part of the name.
    expect(brief(all)).toEqual([
      'track:Album A/02 Second.MP3',
      'folder:Nested',
      'folder:Nested/Deep',
      'track:Nested/Deep/Needle Song.flac',
      'track:Nested/other.wav',
    ]);
    const page = await list({ action: 'search', query: 'e', limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.next_offset).toBe(2);
    expect(brief(page)).toEqual(brief(all).slice(0, 2));
  });

  it('refuses ids outside the folder, unknown actions and missing folders with the reason', async () => {
    const escape = await rejection(list({ action: 'browse', id: '../' }));
    expect(escape).toMatchObject({ code: 'plugin_error', status: 'invalid_arg' });
    const unknown = await rejection(list({ action: 'shuffle' }));
    expect(unknown).toMatchObject({ code: 'plugin_error', status: 'unsupported' });
    const missing = await rejection(list({ action: 'browse', id: 'No Such Folder' }));
    expect(missing).toMatchObject({ code: 'plugin_error', status: 'not_found' });
    expect(missing.message).toContain('No Such Folder');
    await expect(rejection(cp.openStream(ID, TYPE, { id: '../../etc/passwd', kind: 'track' }))).resolves.toMatchObject({
      status: 'invalid_arg',
    });
    // A FIFO named like a track is refused at once: a blocking open would hang the op and the
    // module's shutdown, which joins the worker.
    execFileSync('mkfifo', [path.join(music, 'Album A', 'pipe.flac')]);
    const t0 = Date.now();
    await expect(rejection(cp.openStream(ID, TYPE, { id: 'Album A/pipe.flac' }))).resolves.toMatchObject({ status: 'not_found' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(brief(await list({ action: 'browse', id: 'Album A' }))).not.toContain('track:Album A/pipe.flac');
  });

  it('opens a listed track as a stream whose bytes, seek, tell and size match the file', async () => {
    const [track] = (await list({ action: 'browse', id: 'Album A' })).items;
    const lease = await cp.openStream(ID, TYPE, track);
    try {
      expect(lease.meta).toEqual({ ext: 'flac', title: '01 First', size: 100_000 });
      const want = pattern(100_000);
      const io = streamIo(lease);
      expect(io.size()).toBe(100_000);
      const chunks: Buffer[] = [];
      for (let chunk = io.read(16_384); chunk.length > 0; chunk = io.read(16_384)) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(want)).toBe(true);
      expect(io.tell()).toBe(100_000);
      expect(io.seek(12_345, 0)).toBe(12_345);
      expect(io.read(100).equals(want.subarray(12_345, 12_445))).toBe(true);
      expect(io.seek(-10, 2)).toBe(99_990);
      expect(io.read(100).equals(want.subarray(99_990))).toBe(true);
      expect(io.seek(-1, 0)).toBeNull(); // before the start
      expect(io.tell()).toBe(100_000);
    } finally {
      expect(cp.closeStream(lease)).toBe(true);
    }
    await expect(rejection(cp.openStream(ID, TYPE, { id: 'Album A/gone.flac' }))).resolves.toMatchObject({ status: 'not_found' });
  });

  it('hot-applies a new folder, rejects a missing one with a reason, and keeps its state across a restart', async () => {
    await list({ action: 'browse', id: 'Nested' });
    const missing = path.join(music, 'not-here');
    const rejected = cp.applyConfig(ID, 'source', TYPE, { folder: missing });
    expect(rejected).toEqual({ outcome: 'rejected', reason: `${missing} is not a folder (or does not exist)` });
    expect(cp.applyConfig(ID, 'source', TYPE, { folder: path.join(music, 'Nested'), extensions: ['flac', 'wav'] })).toEqual({
      outcome: 'hot_applied',
    });
    expect(brief(await list({}))).toEqual(['folder:Deep', 'track:other.wav']);

    await list({ action: 'browse', id: 'Deep' });
    await cp.close();
    cp = await startControl(home);
    expect(JSON.parse(cp.settings.state(ID, 'source', TYPE))).toEqual({ last_folder: 'Deep' });
    // The restarted instance imported the state: "resume" lists the last folder browsed.
    expect(brief(await list({ action: 'browse', resume: true }))).toEqual(['track:Deep/Needle Song.flac']);
  });
});
