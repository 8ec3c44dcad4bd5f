// The output's own PulseAudio stream (pa_output.c's PulseAudio driver) on its own, over a ring
// this test fills: it opens idle, starts primed when audio arrives and is heard on a private null
// sink's monitor, publishes the played position up to the last sample, stops again once nothing
// plays, and a server that does not answer is refused at once with a clear error (the audio
// process then uses PortAudio).
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkMonitor } from '../../bench/sink-monitor.js';
import { Ctl32, Ctl64, PaOutput, PcmRing } from '../../plugins/host-lib.js';
import { PrivateSink, sleep, waitFor } from './helpers.js';

let sink: PrivateSink;
let ring: PcmRing;
let keepalive: ChildProcess;

beforeAll(async () => {
  sink = new PrivateSink('pulse_out');
  // Silence into the sink keeps it running like a device (a suspended sink's monitor has no
  // clock to time the first sound by). A new null sink starts with a second of latency and only
  // comes down to the keepalive's once what it rendered before has played.
  keepalive = spawn('pacat', ['--playback', `--device=${process.env.PULSE_SINK}`, '--latency-msec=30', '--raw', '/dev/zero'], { stdio: 'ignore' });
  await sleep(1500);
  ring = PcmRing.create(`/stellatune-pulse-test-${process.pid}`, 48000 * 2 * 2);
  ring.set32(Ctl32.SAMPLE_RATE, 48000);
  ring.set32(Ctl32.CHANNELS, 2);
  ring.setF(Ctl32.VOLUME, 1);
});

afterAll(() => {
  keepalive.kill();
  ring.close();
  sink.close();
});

describe("the output's PulseAudio driver", () => {
  it('refuses a server that does not answer, quickly and with the reason', () => {
    const saved = process.env.PULSE_SERVER;
    process.env.PULSE_SERVER = 'unix:/nonexistent/stellatune/native';
    const t0 = Date.now();
    try {
      expect(() => PaOutput.openPulse(ring, 512, 'StellaTune test')).toThrow(/PulseAudio/);
    } finally {
      if (saved === undefined) delete process.env.PULSE_SERVER;
      else process.env.PULSE_SERVER = saved;
    }
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('opens idle, starts primed when audio arrives, plays it all, and stops again when nothing plays', async () => {
    const out = PaOutput.openPulse(ring, 512, 'StellaTune test');
    try {
      expect(out.state).toBe('idle');
      await sleep(300);
      expect(out.state).toBe('idle'); // nothing to play: no stream running, no wake-ups
      // 0.5 s of a 0.5-amplitude square wave.
      const frames = 24000;
      const pcm = Float32Array.from({ length: frames * 2 }, (_, i) => ((i >> 6) & 1 ? 0.5 : -0.5));
      const t = SinkMonitor.now();
      ring.set32(Ctl32.PRODUCER_ACTIVE, 1);
      expect(ring.write(pcm, pcm.length)).toBe(pcm.length);
      const heard = await sink.monitor.sound(t, 0.1, 2000);
      expect(heard, 'the first sound').not.toBeNull();
      // Heard while this write is fresh (the latency figure itself is bench:responsiveness's).
      expect(heard as number).toBeLessThan(1000);
      expect(out.state).toBe('running');
      ring.set32(Ctl32.PRODUCER_ACTIVE, 0);
      // Everything written is played: the played index reaches the last sample.
      await waitFor(() => ring.get64(Ctl64.PLAYED_INDEX) >= ring.writeIndex, 3000, 'the played index at the end');
      expect(ring.get32(Ctl32.UNDERRUNS)).toBe(0);
      // Idle again a little after the last sound (IDLE_STOP_MS).
      await waitFor(() => out.state === 'idle', 3000, 'the idle stop');
      const calls = out.callbacks;
      await sleep(300);
      expect(out.callbacks).toBe(calls);
    } finally {
      out.close();
    }
  });
});
