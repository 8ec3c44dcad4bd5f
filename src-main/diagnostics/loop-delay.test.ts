import { describe, expect, it, vi } from 'vitest';
import { LoopDelayClock } from './loop-delay.js';

// The clock is fed synthetic callback spans; performance.now() only matters for open().
describe('LoopDelayClock', () => {
  it('counts a 2 ms timer that fires on time while the loop is idle, and one held back per busy span', () => {
    vi.spyOn(performance, 'now').mockReturnValue(0);
    const clock = new LoopDelayClock();
    const w = clock.open(); // the virtual timer is due at 2, 4, 6…
    clock.catchUp(10); // idle until 10: due times 2..10 fired on time
    expect(w.count).toBe(5);
    expect(w.blocks).toEqual([]);
    // A 7 ms callback from 11 to 18: the timer due at 12 fires at 18 (a 6 ms block), then 20, 22…
    clock.begin(11);
    clock.end(18);
    clock.catchUp(23);
    expect(w.blocks).toEqual([6]);
    expect(w.idle).toBe(5 + 2); // 20 and 22
    // Callbacks back to back form one span: the timer due at 24 waits for both.
    clock.begin(23.5);
    clock.end(26);
    clock.begin(26.02);
    clock.end(30);
    clock.catchUp(30.5);
    expect(w.blocks).toEqual([6, 6]);
    // A short callback between two due times holds nothing back.
    clock.begin(32.2);
    clock.end(33.5);
    clock.catchUp(34.1);
    expect(w.blocks).toEqual([6, 6]);
    expect(w.blockAt(50)).toBe(0);
    expect(w.maxBlock).toBe(6);
    expect(w.atOrBelow(5)).toBe(w.idle);
    expect(w.count).toBe(w.idle + 2);
    vi.restoreAllMocks();
  });

  it('percentiles pool the idle samples (block 0) with the blocks', () => {
    vi.spyOn(performance, 'now').mockReturnValue(0);
    const clock = new LoopDelayClock();
    const w = clock.open();
    let t = 0;
    for (let i = 0; i < 10; i++) {
      // ~200 ms idle, then a 10 ms callback: a due time falls in its first 2 ms
      t += 200;
      clock.begin(t);
      clock.end(t + 10);
      t += 10;
    }
    clock.catchUp(t + 1);
    expect(w.blocks.length).toBe(10);
    expect(w.blocks.every((b) => b > 8 - 1e-9 && b <= 10)).toBe(true);
    expect(w.count).toBeGreaterThan(1000);
    expect(w.blockAt(50)).toBe(0);
    expect(w.blockAt(99.9)).toBeGreaterThanOrEqual(8);
    expect(w.meanBlock).toBeCloseTo(w.blocks.reduce((a, b) => a + b, 0) / w.count);
    w.reset();
    expect(w.count).toBe(0);
    clock.close(w);
    expect(clock.active).toBe(false);
    vi.restoreAllMocks();
  });

  it('a span the hook never saw end (the hook was disabled inside it) does not freeze the windows', () => {
    vi.spyOn(performance, 'now').mockReturnValue(0);
    const clock = new LoopDelayClock();
    const w = clock.open();
    clock.begin(1);
    clock.catchUp(50); // inside a span: nothing is settled yet
    expect(w.count).toBe(0);
    clock.resync(60);
    expect(w.count).toBeGreaterThan(0);
    expect(w.blocks).toEqual([60 - 2]);
    vi.restoreAllMocks();
  });
});
