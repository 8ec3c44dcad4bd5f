// A ReplayGain setting change is heard at once, not after the ring drains: the decode worker
// re-marks the gains of the tracks already in the ring and the audio process applies them from
// its next buffer. Through the real audio path to a private PulseAudio null sink, heard on its
// monitor (as the DSP-change test).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StellaPlayerEngine } from '../../engine/index.js';
import { SinkMonitor } from '../../bench/sink-monitor.js';
import { DEFAULT_REPLAY_GAIN } from '../../../src-shared/replay-gain.js';
import { type EngineHome, EngineRig, ffmpeg, nextEvent, PrivateSink, sleep, sox, waitFor } from './helpers.js';

const rig = new EngineRig();
let home: EngineHome;
let engine: StellaPlayerEngine;
let monitor: SinkMonitor;
let sink: PrivateSink | null = null;

beforeAll(async () => {
  sink = new PrivateSink('rg');
  monitor = sink.monitor;
  engine = await rig.start({ engine: { dspChain: [] } });
  home = rig.home!;
});

afterAll(async () => {
  await rig.teardown();
  sink?.close();
});

describe('ReplayGain on the real device path', () => {
  it('a mode change is heard within 100 ms and the status reports the gain used', async () => {
    const media = path.join(home.paths.home, 'media');
    fs.mkdirSync(media, { recursive: true });
    const wav = path.join(media, 'loud.wav');
    const f = path.join(media, 'loud.flac');
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', '10', 'sine', '440', 'vol', '0.8');
    ffmpeg('-i', wav, '-metadata', 'REPLAYGAIN_TRACK_GAIN=-12.00 dB', '-metadata', 'REPLAYGAIN_TRACK_PEAK=0.8', f);
    engine.queueAdd([{ source: { kind: 'file', path: f }, title: 'loud' }]);
    await engine.play(0);
    await waitFor(() => engine.status().positionMs > 800, 10_000, 'playback');
    expect(engine.status().replayGain).toEqual({ source: 'off', gainDb: 0, limited: false });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const badge = nextEvent(engine, 'status', 2000, (e) => e.status.replayGain?.source === 'track');
      const t = SinkMonitor.now();
      engine.setReplayGain({ ...DEFAULT_REPLAY_GAIN, mode: 'track' });
      // 0.8 at -12 dB is 0.2: the first 5 ms window below 0.5 is the change arriving.
      const d = await monitor.firstWindow(t, (peak) => peak < 0.5, 5, 2000);
      expect(d).not.toBeNull();
      delays.push(d as number);
      expect((await badge).status.replayGain).toEqual({ source: 'track', gainDb: -12, limited: false });
      engine.setReplayGain(DEFAULT_REPLAY_GAIN);
      await sleep(400);
    }
    // The median of five: one change can meet a descheduled audio thread on a loaded machine.
    const median = [...delays].sort((a, b) => a - b)[2] as number;
    expect(median, `delays ${delays.map((d) => d.toFixed(0)).join(', ')} ms`).toBeLessThan(100);
    expect(engine.metrics().underruns).toBe(0);
  });
});
