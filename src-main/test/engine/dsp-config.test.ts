// DSP configs through the real engine: a config the DSP rejects is neither stored nor used by
// the next DSP instance; a config that needs a new instance is applied without stopping playback.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import type { StellaPlayerEngine } from '../../engine/index.js';
import { applyDspConfig } from '../../services/plugins-service.js';
import { EngineRig, ensurePulse, nextEvent, readWav, sleep, sox, waitFor } from './helpers.js';

const FIXTURE = 'dev.stellatune.fixture';
const GAIN = 'fixture-gain';

const rig = new EngineRig();

beforeAll(() => ensurePulse());

afterEach(() => rig.teardown());

async function setup(): Promise<{ e: StellaPlayerEngine; cp: ControlPlane; media: string }> {
  const e = await rig.start({ fixtures: true, engine: { dspChain: [{ pluginId: FIXTURE, typeId: GAIN }] } });
  return { e, cp: rig.control!, media: rig.media };
}

function peak(samples: Float32Array, from = 0, to = samples.length): number {
  let p = 0;
  for (let i = from; i < to; i++) p = Math.max(p, Math.abs(samples[i] as number));
  return p;
}

describe('DSP config policy', () => {
  it('never stores nor uses a config the DSP rejects', async () => {
    const { e, cp, media } = await setup();
    expect(await applyDspConfig(cp, e, FIXTURE, GAIN, { gain_db: -6 })).toEqual({ outcome: 'hot_applied' });
    expect(cp.settings.config(FIXTURE, 'dsp', GAIN)).toEqual({ gain_db: -6 });
    // Rejected before anything played (no DSP instance yet) and again while one runs.
    const refused = await applyDspConfig(cp, e, FIXTURE, GAIN, { gain_db: -30, reject: 'too quiet' });
    expect(refused.outcome).toBe('rejected');
    expect(cp.settings.config(FIXTURE, 'dsp', GAIN)).toEqual({ gain_db: -6 });

    const tone = path.join(media, 'tone.wav');
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', tone, 'synth', '0.5', 'sine', '440', 'vol', '0.5');
    const tone48 = path.join(media, 'tone48.wav');
    sox('-n', '-r', '48000', '-c', '2', '-b', '16', tone48, 'synth', '0.5', 'sine', '440', 'vol', '0.5');
    const out = path.join(media, 'out.wav');
    await e.setOutput({ kind: 'plugin', pluginId: 'dev.stellatune.wav-sink', typeId: 'wav-file', target: { id: out, name: 'test', file: out } });
    e.queueAdd([{ source: { kind: 'file', path: tone }, title: 'tone' }]);
    await e.play(0);
    await nextEvent(e, 'ended', 10_000);
    expect((await applyDspConfig(cp, e, FIXTURE, GAIN, { gain_db: -40, reject: 'no' })).outcome).toBe('rejected');
    expect(cp.settings.config(FIXTURE, 'dsp', GAIN)).toEqual({ gain_db: -6 });
    await e.setOutput({ kind: 'portaudio', deviceId: null, bufferFrames: 1024 });
    const first = readWav(out);
    // 0.5 at -6 dB.
    expect(peak(first.samples)).toBeCloseTo(0.5 * 10 ** (-6 / 20), 2);

    // A new format builds a new DSP instance: it gets the last accepted config, not the rejected one.
    const out2 = path.join(media, 'out2.wav');
    await e.setOutput({ kind: 'plugin', pluginId: 'dev.stellatune.wav-sink', typeId: 'wav-file', target: { id: out2, name: 'test', file: out2 } });
    e.queueClear();
    e.queueAdd([{ source: { kind: 'file', path: tone48 }, title: 'tone48' }]);
    await e.play(0);
    await nextEvent(e, 'ended', 10_000);
    await e.setOutput({ kind: 'portaudio', deviceId: null, bufferFrames: 1024 });
    expect(peak(readWav(out2).samples)).toBeCloseTo(0.5 * 10 ** (-6 / 20), 2);
  });

  it('a config that needs a new instance is applied while the track keeps playing', async () => {
    const { e, cp, media } = await setup();
    const f = path.join(media, 'four.flac');
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', f, 'synth', '4', 'sine', '440', 'vol', '0.4');
    const errors: string[] = [];
    e.on('event', (ev) => {
      if (ev.type === 'track-error') errors.push(ev.message);
    });
    e.queueAdd([{ source: { kind: 'file', path: f }, title: 'four' }]);
    await e.play(0);
    await waitFor(() => e.status().positionMs > 600, 10_000, 'playback');
    expect(await applyDspConfig(cp, e, FIXTURE, GAIN, { gain_db: -3, recreate: true })).toEqual({ outcome: 'recreated' });
    expect(cp.settings.config(FIXTURE, 'dsp', GAIN)).toEqual({ gain_db: -3, recreate: true });
    const at = e.status().positionMs;
    await sleep(700);
    expect(e.status().state).toBe('playing');
    expect(e.status().positionMs).toBeGreaterThan(at + 400);
    expect(errors).toEqual([]);
    expect(e.metrics().underruns).toBe(0);
  });
});
