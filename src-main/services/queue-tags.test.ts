// Queue tags from the tag worker: every file entry gets its tags, duration and cover soon after it
// is added, in a few queue events however many files came at once; bad files are noted, not fatal.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlayerEvent } from '../../src-shared/player-types.js';
import { DetachedEngine } from './detached-engine.js';
import { QueueTags } from './queue-tags.js';

let dir: string;
let tags: QueueTags | null = null;
afterEach(async () => {
  await tags?.close();
  tags = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('queue tags', () => {
  it('tags 300 entries added at once, in a few queue events, with folder covers', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-qtags-'));
    const album = path.join(dir, 'Björk — Homogenic');
    fs.mkdirSync(album);
    const template = path.join(dir, 'template.flac');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-metadata', 'title=Jóga', '-metadata', 'artist=Björk', '-metadata', 'album=Homogenic', '-metadata', 'album_artist=Björk', '-metadata', 'track=3/10', '-metadata', 'disc=2/2', template]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=64x64', '-frames:v', '1', path.join(album, 'folder.jpg')]);
    const files = Array.from({ length: 300 }, (_, i) => path.join(album, `${String(i).padStart(3, '0')}.flac`));
    for (const f of files) fs.copyFileSync(template, f);
    fs.writeFileSync(path.join(album, 'zz-broken.flac'), Buffer.alloc(1000, 7));

    const engine = new DetachedEngine('test');
    const events: PlayerEvent[] = [];
    engine.on('event', (e) => events.push(e));
    const logs: string[] = [];
    tags = new QueueTags({ engine, coversDir: path.join(dir, 'art'), coverUrl: (f) => `/art/${path.basename(f)}`, log: (m) => logs.push(m) });
    engine.queueAdd([...files, path.join(album, 'zz-broken.flac')].map((f) => ({ source: { kind: 'file' as const, path: f }, title: path.basename(f, '.flac') })));
    const before = events.filter((e) => e.type === 'queue').length;
    const t0 = Date.now();
    await tags.idle();
    const elapsed = Date.now() - t0;

    const q = engine.queue().tracks;
    expect(q.slice(0, 300).every((t) => t.title === 'Jóga' && t.artist === 'Björk' && t.album === 'Homogenic' && t.durationMs === 2000)).toBe(true);
    // The album place too (ReplayGain's auto mode judges files outside the library by it).
    expect(q[0]).toMatchObject({ albumArtist: 'Björk', trackNo: 3, discNo: 2 });
    // One cached copy of the folder cover, shared by every entry of the folder (the damaged file too).
    const covers = fs.readdirSync(path.join(dir, 'art'));
    expect(covers).toHaveLength(1);
    expect(covers[0]).toMatch(/^[0-9a-f]{40}\.jpg$/);
    expect(new Set(q.map((t) => t.cover))).toEqual(new Set([`/art/${covers[0]}`]));
    expect(tags.artUrl(q[0]!)).toBe(`file://${path.join(dir, 'art', covers[0]!)}`);
    // The damaged file keeps its name as title, and is noted.
    expect(q[300]).toMatchObject({ title: 'zz-broken' });
    expect(q[300]!.artist).toBeUndefined();
    expect(logs.some((m) => m.startsWith('no tags in zz-broken.flac'))).toBe(true);
    // Ten batches of answers, but at most one queue event per 250 ms (and never one per batch).
    const queueEvents = events.filter((e) => e.type === 'queue').length - before;
    expect(queueEvents).toBeGreaterThanOrEqual(1);
    expect(queueEvents).toBeLessThanOrEqual(Math.min(10, Math.ceil(elapsed / 250) + 1));
  }, 60_000);
});
