// The shared beat: periodic work of different periods runs in the same wake-ups, a period that
// is not a whole number of beats gets its own timer, and a stopped subscriber never runs again.
import { describe, expect, it } from 'vitest';
import { BEAT_MS, beat, every } from '../../beat.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the shared beat', () => {
  it('runs a 1 s subscriber in the same loop turn as a beat subscriber, and stops', async () => {
    const turns: { fast: number[]; slow: number[] } = { fast: [], slow: [] };
    let turn = 0;
    // A new loop turn increments `turn` (a macrotask scheduled by each fast run).
    const stopFast = beat.every(BEAT_MS, () => {
      turns.fast.push(turn);
      setImmediate(() => turn++);
    });
    const stopSlow = every(4 * BEAT_MS, () => turns.slow.push(turn));
    await sleep(9 * BEAT_MS + 100);
    stopFast();
    stopSlow();
    expect(turns.fast.length).toBeGreaterThanOrEqual(8);
    expect(turns.slow.length).toBeGreaterThanOrEqual(2);
    // Each slow run happened in a turn in which a fast run happened too: one wake-up for both.
    for (const t of turns.slow) expect(turns.fast).toContain(t);
    const ran = turns.fast.length + turns.slow.length;
    await sleep(2 * BEAT_MS);
    expect(turns.fast.length + turns.slow.length).toBe(ran);
  });

  it('gives a period that is not a whole number of beats its own timer', async () => {
    expect(beat.fits(100)).toBe(false);
    expect(() => beat.every(100, () => {})).toThrow(/not a multiple/);
    let n = 0;
    const stop = every(40, () => n++);
    await sleep(220);
    stop();
    expect(n).toBeGreaterThanOrEqual(3);
    const at = n;
    await sleep(100);
    expect(n).toBe(at);
  });

  it('keeps beating for the others when one subscriber throws', async () => {
    const errors: unknown[] = [];
    const onErr = (e: unknown): void => void errors.push(e);
    process.on('uncaughtException', onErr);
    let n = 0;
    const stopBad = beat.every(BEAT_MS, () => {
      throw new Error('bad subscriber');
    });
    const stopGood = beat.every(BEAT_MS, () => n++);
    try {
      await sleep(3 * BEAT_MS + 100);
    } finally {
      stopBad();
      stopGood();
      process.off('uncaughtException', onErr);
    }
    expect(n).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });
});
