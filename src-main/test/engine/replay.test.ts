// Replaying after stop + clear + add, many times in a row: every time the track is heard (the
// device's played index moves past its start, so position events report it) and the engine's
// bookkeeping of the last round (markers, the worker's idle report, a track that ended) never
// holds the next one back. Some rounds end by seeking to the end (the queue ends), some are cut
// off while playing, and some get the round before's worker reports once more, late, as they
// arrive when the listener presses play while they are in flight.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StellaPlayerEngine } from '../../engine/index.js';
import { Ctl64 } from '../../plugins/host-lib.js';
import type { Worker } from 'node:worker_threads';
import type { FromWorker } from '../../decode-worker/protocol.js';
import { type EngineHome, EngineRig, ensurePulse, nextEvent, sox } from './helpers.js';

const rig = new EngineRig();
let home: EngineHome;
let engine: StellaPlayerEngine;

beforeAll(async () => {
  ensurePulse();
  engine = await rig.start();
  home = rig.home!;
});

afterAll(async () => {
  await rig.teardown();
});

/** What the engine knows, for a failure message. */
function engineState(): string {
  const e = engine as unknown as Record<string, unknown> & { ring: { writeIndex: number; readIndex: number; get64(slot: number): number } };
  return JSON.stringify({
    status: engine.status().state,
    markers: e.markers,
    decodeToken: e.decodeToken,
    playingToken: e.playingToken,
    preloaded: e.preloaded,
    idleAt: e.idleAt,
    seekingTo: e.seekingTo,
    write: e.ring.writeIndex,
    read: e.ring.readIndex,
    played: e.ring.get64(Ctl64.PLAYED_INDEX),
  });
}

it('stop, clear, add and play 60 times: each round is heard, whatever the round before was doing', async () => {
  const media = path.join(home.paths.home, 'replay');
  fs.mkdirSync(media, { recursive: true });
  const tone = path.join(media, 'two.flac');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', tone, 'synth', '2', 'sine', '440', 'vol', '0.4');
  // Shorter than the ring: decoded to its end (the worker idle) as soon as it starts.
  const short = path.join(media, 'short.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', short, 'synth', '0.8', 'sine', '660', 'vol', '0.4');
  const fail = (round: number) => (err: Error) => {
    throw new Error(`round ${round}: ${err.message}; ${engineState()}`);
  };
  const replay = async (file: string, round: number): Promise<Promise<unknown>> => {
    await engine.stop();
    engine.queueClear();
    engine.queueAdd([{ source: { kind: 'file', path: file }, title: `round ${round}` }]);
    const heard = nextEvent(engine, 'position', 5000, (e) => e.positionMs >= 150);
    await engine.play(0);
    return heard.catch(fail(round));
  };
  // Every report the real decode worker sent, by round: some rounds deliver the round before's
  // once more after the new play began, as a report still in flight at the stop would arrive.
  const worker = (engine as unknown as { worker: Worker }).worker;
  let reports: FromWorker[] = [];
  worker.on('message', (m: FromWorker) => reports.push(m));
  for (let round = 0; round < 60; round++) {
    const kind = round % 5;
    const before = reports;
    reports = [];
    const heard = await replay(kind === 3 ? short : tone, round);
    if (kind === 4) {
      // Late: the last round's "ran dry", "started" and "seeked", and the miss the worker sends
      // for a seek that finds its track decoded to the end.
      const late: FromWorker[] = before.filter((m) => m.type === 'idle' || m.type === 'started' || m.type === 'seeked');
      const lastStarted = late.filter((m): m is Extract<FromWorker, { type: 'started' }> => m.type === 'started').at(-1);
      if (lastStarted) late.push({ type: 'seek-miss', token: lastStarted.token, positionMs: 1900, epoch: lastStarted.epoch });
      expect(late.some((m) => m.type === 'idle')).toBe(true);
      for (const m of late) worker.emit('message', m);
    }
    if (kind === 2) {
      // Cut off before a sound: the next round's reports must not be taken for this one's.
      continue;
    }
    await heard;
    expect(engine.status().state, `round ${round}`).toBe('playing');
    // From the start, not from where a late report would have put it.
    expect(engine.status().positionMs, `round ${round}`).toBeLessThan(1500);
    if (kind === 0) {
      // To the very end (the clamp a seek past the end gets): the queue ends.
      const ended = nextEvent(engine, 'ended', 5000);
      await engine.seek(2000);
      await ended.catch(fail(round));
      expect(engine.status().state).toBe('stopped');
    } else if (kind === 1) {
      // A seek, and a new play while its reports are in flight.
      await engine.seek(1900);
    } else if (kind === 3) {
      // Decoded to its end already: a seek goes through the worker's miss, then a new play.
      await engine.seek(500);
    }
  }
  // The last round plays on to the end by itself.
  await nextEvent(engine, 'ended', 5000);
});
