// An M4A (AAC) track streamed from supysonic: the Subsonic plugin's HTTP stream is the only way
// the ffmpeg decoder sees the bytes (its AVIOContext over the stream table, no path). First at the
// decoder level (decode and seek exactly, against the ffmpeg CLI's decode of the server's file),
// then through the engine to the paced PortAudio device.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decoderCandidates, openByContent } from '../../plugins/decoder-choice.js';
import { createInstance, type DecoderInstance } from '../../plugins/instances.js';
import type { PlayerEvent } from '../../../src-shared/player-types.js';
import { startSupysonic, type SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { ensurePulse, nextEvent, referencePcm, waitFor } from '../engine/helpers.js';
import { type Item, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';
import { SubsonicRig } from './subsonic-rig.js';

const M4A = { file: 'Cedar Lane/Harbor/01 Tide.m4a', title: 'Tide', artist: 'Cedar Lane', album: 'Harbor', track: 1, seconds: 6, freq: 523 };

let server: SupysonicServer;
const rig = new SubsonicRig();

beforeAll(async () => {
  ensurePulse();
  server = await startSupysonic({ library: [M4A] });
});

afterAll(async () => {
  await server?.stop();
});

afterEach(() => rig.teardown());

async function tideItem(): Promise<Item> {
  const tracks = await rig.albumTracks(server, 'Harbor');
  return tracks.find((t) => t.title === 'Tide')!;
}

function readAll(dec: DecoderInstance, channels: number): Float32Array {
  const buf = new Float32Array(4096 * channels);
  const parts: Float32Array[] = [];
  for (;;) {
    const n = dec.read(buf, 4096);
    if (n === 0) break;
    parts.push(buf.slice(0, n * channels));
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('an M4A streamed from Subsonic', () => {
  it('decodes and seeks exactly through the plugin stream', async () => {
    const item = await tideItem();
    const c = rig.control!;
    const ref = referencePcm(path.join(server.musicDir, M4A.file));
    const lease = await c.openStream(SUBSONIC, SUBSONIC_TYPE, item);
    try {
      const ext = String(lease.meta.ext ?? '');
      expect(ext).toBe('m4a');
      const opened = openByContent(
        lease.stream,
        decoderCandidates(c.registry.loaded(), ext),
        ext,
        (cand) => createInstance(cand.gen, 'decoder', cand.typeId, '{}'),
        (dec) => {
          dec.open(lease.stream, { ext });
          return dec.info();
        },
        (cand) => cand.typeId,
      );
      const dec = opened.decoder;
      try {
        expect(opened.cand.typeId).toBe('ffmpeg');
        expect(opened.info).toMatchObject({ sampleRate: 44100, channels: 2, seekable: true, durationFrames: 6 * 44100, encoderDelayFrames: 1024 });
        const full = readAll(dec, 2);
        expect(full.length).toBe(6 * 44100 * 2); // the CLI keeps the encoder padding; this decoder trims it
        let sum = 0;
        for (let i = 0; i < full.length; i++) sum += ((full[i] as number) - (ref[i] as number)) ** 2;
        expect(Math.sqrt(sum / full.length)).toBeLessThan(1e-5);
        // Seeks go back through the plugin's HTTP stream (Range requests).
        for (const ms of [4321, 1000]) {
          const frame = dec.seekMs(ms);
          expect(frame).toBe(Math.round(ms * 44.1));
          const after = readAll(dec, 2);
          expect(after.length).toBe(full.length - frame * 2);
          let d = 0;
          for (let i = 0; i < after.length; i++) d = Math.max(d, Math.abs((after[i] as number) - (full[frame * 2 + i] as number)));
          // AAC after a jump is the decode from the start to within rounding (a one-frame offset of
          // this 523 Hz tone would differ by ~0.009).
          expect(d).toBeLessThan(1e-4);
        }
      } finally {
        dec.destroy();
      }
    } finally {
      c.closeStream(lease);
    }
  });

  it('plays through the engine with the ffmpeg decoder, seeks, and ends, with 0 underruns', async () => {
    const item = await tideItem();
    const e = await rig.startEngine();
    const events: PlayerEvent[] = [];
    e.on('event', (ev) => events.push(ev));
    e.queueAdd([{ source: { kind: 'plugin', pluginId: SUBSONIC, typeId: SUBSONIC_TYPE, item: item as Record<string, unknown> }, title: 'Tide' }]);
    await e.play(0);
    await waitFor(() => e.status().positionMs > 300, 10_000, 'playback to start');
    expect(e.status().format).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2, streamPlugin: SUBSONIC });
    expect(e.status().format?.decoder).toMatch(/\/ffmpeg$/);
    await e.seek(4500);
    await waitFor(() => e.status().positionMs >= 4500, 5000, 'the seek to land');
    await nextEvent(e, 'ended', 10_000);
    expect(events.some((ev) => ev.type === 'track-error')).toBe(false);
    expect(e.metrics().underruns).toBe(0);
  });
});
