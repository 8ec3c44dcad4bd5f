// The position feed calls each subscriber when the position crosses one of its steps, from a timer
// at the nearest step: not at display rate, and not at all while paused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { position } from './position.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  position.update(0, null, false);
  vi.useRealTimers();
});

describe('position feed', () => {
  it('calls a subscriber once per step while playing, and never while paused', () => {
    const seconds: number[] = [];
    const tenths: number[] = [];
    position.update(0, 60_000, true);
    const off1 = position.subscribe((ms) => seconds.push(ms));
    const off2 = position.subscribe((ms) => tenths.push(ms), 100);
    seconds.length = 0;
    tenths.length = 0;
    vi.advanceTimersByTime(5_010);
    // Once a second (not 60 times): each call in a new second, in order.
    expect(seconds.length).toBe(5);
    expect(new Set(seconds.map((ms) => Math.floor(ms / 1000))).size).toBe(seconds.length);
    expect(tenths.length).toBe(50);
    // Each call lands just after its step began.
    for (const ms of tenths) expect(ms % 100).toBeLessThan(20);

    position.setPlaying(false);
    seconds.length = 0;
    tenths.length = 0;
    vi.advanceTimersByTime(5_000);
    expect(seconds).toEqual([]);
    expect(tenths).toEqual([]);
    off1();
    off2();
  });

  it('calls every subscriber on an update from the main process, and stops at the end', () => {
    const calls: [number, number | null][] = [];
    position.update(0, 3_000, true);
    const off = position.subscribe((ms, dur) => calls.push([ms, dur]), () => 250);
    position.update(2_000, 3_000);
    expect(calls.at(-1)).toEqual([2_000, 3_000]);
    vi.advanceTimersByTime(2_000);
    // Clamped to the duration; no timer keeps running after it.
    expect(calls.at(-1)![0]).toBe(3_000);
    const n = calls.length;
    vi.advanceTimersByTime(2_000);
    expect(calls.length).toBe(n);
    expect(vi.getTimerCount()).toBe(0);
    off();
  });

  it('runs no timer without subscribers', () => {
    position.update(0, 60_000, true);
    const off = position.subscribe(() => {});
    expect(vi.getTimerCount()).toBe(1);
    off();
    expect(vi.getTimerCount()).toBe(0);
  });
});
