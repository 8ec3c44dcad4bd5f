// The files service: browsing shows folders and playable files only, expanding walks folders in
// natural order and skips what no decoder plays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
