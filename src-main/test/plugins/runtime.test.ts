// The plugin runtime end to end with real compiled plugins through koffi: discovery, capability
// listing, one op of each kind, every bad-library case, hot drop-in/replace/delete, and
// generations that outlive a reload while an instance still uses them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createInstance } from '../../plugins/instances.js';
import type { PluginGeneration } from '../../plugins/library.js';
import { PluginRegistry, type PluginStatus } from '../../plugins/registry.js';
import { fixtureEvents, makeTestHome, sleep, startControl, waitFor, type TestHome } from '../harness.js';
import { badFixtureDir, builtinPluginDir, fixturePlugin, libExt } from '../paths.js';

const FIXTURE_ID = 'dev.stellatune.fixture';
let home: TestHome;
let registry: PluginRegistry | null = null;

afterEach(async () => {
  await registry?.close();
  registry = null;
  home?.cleanup();
});

function newRegistry(h: TestHome, watch = false): PluginRegistry {
  registry = new PluginRegistry({
    folders: [
      { dir: h.paths.builtinPlugins, origin: 'builtin', watch: false },
      { dir: h.paths.userPlugins, origin: 'user', watch },
    ],
    dataRoot: h.paths.pluginData,
    shadowDir: h.paths.shadow,
    stableMs: 150,
    pollMs: 100,
  });
  return registry;
}

function byFile(list: PluginStatus[], file: string): PluginStatus | undefined {
  return list.find((p) => path.basename(p.path) === file);
}

describe('plugin discovery', () => {
  it('loads built-in and user plugins and lists their capabilities with schemas', async () => {
    home = makeTestHome({ builtins: true });
    home.install(fixturePlugin);
    const reg = newRegistry(home);
    await reg.start();
    const list = reg.list();
    const fixture = list.find((p) => p.pluginId === FIXTURE_ID);
    expect(fixture?.status).toBe('loaded');
    expect(fixture?.origin).toBe('user');
    const kinds = fixture!.capabilities.map((c) => `${c.kind}/${c.typeId}`).sort();
    expect(kinds).toEqual([
      'decoder/fixture-decoder',
      'dsp/fixture-gain',
      'lyrics/fixture-lyrics',
      'output/fixture-null',
      'source/fixture-source',
    ]);
    for (const c of fixture!.capabilities) {
      expect(c.configSchema).toMatchObject({ type: 'object' });
      expect(typeof c.defaultConfig).toBe('object');
    }
    expect(fixture!.capabilities.find((c) => c.kind === 'decoder')!.extensions).toContainEqual({ ext: 'wav', score: 10 });
    // Every built-in library in the build output loads.
    const builtins = list.filter((p) => p.origin === 'builtin');
    expect(builtins.length).toBe(fs.readdirSync(builtinPluginDir).filter((f) => f.endsWith(libExt)).length);
    for (const b of builtins) expect(b.status, `${b.path}: ${b.error?.message}`).toBe('loaded');
    expect(builtins.map((b) => b.pluginId)).toContain('dev.stellatune.lrc-sidecar');
  });

  it('refuses each kind of broken library with a structured reason and keeps the others', async () => {
    home = makeTestHome();
    home.install(fixturePlugin);
    const reg = newRegistry(home);
    await reg.start();
    // The broken libraries arrive after the good one (a duplicate id loses to the library that
    // already provides it).
    for (const f of fs.readdirSync(badFixtureDir)) if (f.endsWith(libExt)) home.install(path.join(badFixtureDir, f));
    fs.writeFileSync(path.join(home.paths.userPlugins, `readme-not-a-library${libExt}`), 'this is not an ELF file\n');
    fs.writeFileSync(path.join(home.paths.userPlugins, `truncated${libExt}`), fs.readFileSync(fixturePlugin).subarray(0, 4096));
    await reg.scan();
    const list = reg.list();
    const reasons = Object.fromEntries(list.map((p) => [path.basename(p.path), p.error?.code ?? p.status]));
    expect(reasons).toMatchObject({
      [`st-fixture${libExt}`]: 'loaded',
      [`readme-not-a-library${libExt}`]: 'not_a_library',
      [`truncated${libExt}`]: 'not_a_library',
      [`abi-v8${libExt}`]: 'wrong_abi',
      [`entry-null${libExt}`]: 'entry_null',
      [`no-entry${libExt}`]: 'missing_entry',
      [`metadata-malformed${libExt}`]: 'bad_metadata',
      [`metadata-oversized${libExt}`]: 'metadata_too_large',
      [`metadata-missing-fields${libExt}`]: 'bad_metadata',
      [`dup-id${libExt}`]: 'duplicate_id',
    });
    for (const p of list.filter((x) => x.status === 'failed')) {
      expect(p.error!.message.length).toBeGreaterThan(10);
      expect(p.capabilities).toEqual([]);
    }
    expect(byFile(list, `abi-v8${libExt}`)!.error!.message).toMatch(/ABI 8.*speaks 9/);
    expect(byFile(list, `dup-id${libExt}`)!.error!.message).toContain(FIXTURE_ID);
    // The good plugin still works after its broken neighbours were refused.
    const gen = reg.current(FIXTURE_ID)!;
    const out = createInstance(gen, 'output', 'fixture-null', '{}');
    expect(JSON.parse(out.listTargetsJson()).targets[0].id).toBe('null');
    out.destroy();
  });
});

describe('one call of each capability kind', () => {
  it('source, lyrics, decoder, dsp and output work end to end', async () => {
    home = makeTestHome();
    home.install(fixturePlugin);
    const cp = await startControl(home);
    try {
      const listed = (await cp.listItems(FIXTURE_ID, 'fixture-source', { action: 'search', query: '' })) as {
        items: { id: string; kind: string }[];
      };
      const track = listed.items.find((i) => i.kind === 'track')!;
      expect(track).toBeDefined();
      const lease = await cp.openStream(FIXTURE_ID, 'fixture-source', { ...track, duration_ms: 1000 });
      expect(lease.meta.ext).toBe('wav');

      const gen = cp.registry.current(FIXTURE_ID)!;
      const decoder = createInstance(gen, 'decoder', 'fixture-decoder', '{}');
      decoder.open(lease.stream, { ext: 'wav' });
      const info = decoder.info();
      expect(info).toMatchObject({ sampleRate: 44100, channels: 2, seekable: true });
      expect(info.durationFrames).toBe(44100);
      const block = new Float32Array(1024 * info.channels);
      let frames = 0;
      let peak = 0;
      const dsp = createInstance(gen, 'dsp', 'fixture-gain', JSON.stringify({ gain_db: -6 }), { sampleRate: 44100, channels: 2 });
      const out = createInstance(gen, 'output', 'fixture-null', '{}');
      const target = JSON.stringify(JSON.parse(out.listTargetsJson()).targets[0]);
      const spec = out.negotiate(target, { sampleRate: 44100, channels: 2 }).spec;
      out.open(target, spec);
      for (;;) {
        const n = decoder.read(block, 1024);
        if (n === 0) break;
        dsp.process(block, n);
        for (let i = 0; i < n * 2; i++) peak = Math.max(peak, Math.abs(block[i]!));
        expect(out.write(block, n)).toBe(n);
        frames += n;
      }
      expect(frames).toBe(44100);
      // The fixture tone peaks near 0.5 full scale; -6 dB halves it.
      expect(peak).toBeGreaterThan(0.2);
      expect(peak).toBeLessThan(0.3);
      expect(out.status().framesWritten).toBe(44100);
      out.close();
      for (const inst of [out, dsp, decoder]) inst.destroy();
      expect(cp.closeStream(lease)).toBe(true);

      const found = (await cp.searchLyrics(FIXTURE_ID, 'fixture-lyrics', { query: 'tone' })) as {
        candidates: { id: string }[];
      };
      expect(found.candidates.length).toBeGreaterThan(0);
      const lyrics = (await cp.fetchLyrics(FIXTURE_ID, 'fixture-lyrics', found.candidates[0])) as { synced_lrc: string };
      expect(lyrics.synced_lrc).toMatch(/^\[\d\d:\d\d\.\d\d\]/m);
      expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0 });
    } finally {
      await cp.close();
    }
  });
});

describe('hot plugging the user folder', () => {
  it('loads a dropped-in library, reloads a replaced one and disables a deleted one', async () => {
    home = makeTestHome();
    const reg = newRegistry(home, true);
    const seen: PluginStatus[] = [];
    reg.on('changed', (s) => seen.push(s));
    await reg.start();
    expect(reg.list()).toEqual([]);

    const file = home.install(fixturePlugin, `fixture-dropped${libExt}`);
    await waitFor(() => reg.current(FIXTURE_ID) !== null, 5000, 'the dropped library to load');
    const first = reg.current(FIXTURE_ID)!.leaseId;

    // Replace the file (new mtime and content): a new generation replaces the old one.
    await sleep(20);
    const bytes = fs.readFileSync(fixturePlugin);
    fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(64)]));
    await waitFor(() => (reg.current(FIXTURE_ID)?.leaseId ?? first) !== first, 5000, 'the replaced library to reload');
    await reg.settled();
    expect(reg.get(FIXTURE_ID)!.retiredGenerations).toBe(0);

    fs.rmSync(file);
    await waitFor(() => reg.current(FIXTURE_ID) === null, 5000, 'the deleted library to go');
    await reg.settled();
    expect(reg.list()).toEqual([]);
    expect(seen.some((s) => s.status === 'failed')).toBe(false);
  });

  it('does not load a half-written library', async () => {
    home = makeTestHome();
    const reg = newRegistry(home, true);
    const failures: PluginStatus[] = [];
    reg.on('changed', (s) => {
      if (s.status === 'failed') failures.push(s);
    });
    await reg.start();
    const bytes = fs.readFileSync(fixturePlugin);
    const file = path.join(home.paths.userPlugins, `slow-copy${libExt}`);
    // Write the library in pieces, each well within the stability window.
    const pieces = 4;
    const step = Math.ceil(bytes.length / pieces);
    for (let i = 0; i < pieces; i++) {
      fs.appendFileSync(file, bytes.subarray(i * step, (i + 1) * step));
      await sleep(60);
    }
    await waitFor(() => reg.current(FIXTURE_ID) !== null, 5000, 'the completed library to load');
    expect(failures).toEqual([]);
  });
});

describe('generations', () => {
  it('keeps a reloaded library mapped until its last instance is destroyed, then shuts it down', async () => {
    home = makeTestHome();
    home.install(fixturePlugin);
    const reg = newRegistry(home);
    await reg.start();
    const oldGen = reg.current(FIXTURE_ID)!;
    const dsp = createInstance(oldGen, 'dsp', 'fixture-gain', '{}', { sampleRate: 48000, channels: 2 });
    const unloaded: number[] = [];
    reg.on('unloaded', (_id, leaseId) => unloaded.push(leaseId));

    await reg.reload(FIXTURE_ID);
    const newGen: PluginGeneration = reg.current(FIXTURE_ID)!;
    expect(newGen.leaseId).toBeGreaterThan(oldGen.leaseId);
    expect(oldGen.state).toBe('retired');
    expect(reg.get(FIXTURE_ID)!.retiredGenerations).toBe(1);
    // The old generation still runs its instance.
    const samples = new Float32Array([0.5, -0.5]);
    dsp.process(samples, 1);
    expect(samples[0]).toBeCloseTo(0.5);
    expect(unloaded).toEqual([]);

    dsp.destroy();
    await reg.settled();
    expect(unloaded).toEqual([oldGen.leaseId]);
    expect(oldGen.state).toBe('unloaded');
    expect(reg.get(FIXTURE_ID)!.retiredGenerations).toBe(0);
    const events = fixtureEvents(home);
    expect(events.filter((e) => e.startsWith('shutdown'))).toHaveLength(1);
    expect(events.filter((e) => e.startsWith('entry'))).toHaveLength(2);
  });

  it('disable unloads, enable loads a new generation', async () => {
    home = makeTestHome();
    home.install(fixturePlugin);
    const reg = newRegistry(home);
    await reg.start();
    const first = reg.current(FIXTURE_ID)!.leaseId;
    expect((await reg.disable(FIXTURE_ID)).status).toBe('disabled');
    await reg.settled();
    expect(reg.current(FIXTURE_ID)).toBeNull();
    expect(reg.counts().generations).toBe(0);
    expect((await reg.enable(FIXTURE_ID)).status).toBe('loaded');
    expect(reg.current(FIXTURE_ID)!.leaseId).toBeGreaterThan(first);
  });
});
