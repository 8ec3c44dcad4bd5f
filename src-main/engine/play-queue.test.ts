import { describe, expect, it } from 'vitest';
import { PlayQueue } from './play-queue.js';

type E = { id: string; title: string };

/** A seeded generator, so shuffled orders are reproducible. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function make(n: number, random = seeded(7)): PlayQueue<E> {
  const q = new PlayQueue<E>(random);
  q.append(Array.from({ length: n }, (_, i) => ({ id: q.newId(), title: `t${i}` })));
  return q;
}

/** Follows the queue from the current entry until it ends (or `max` steps). */
function playOrder(q: PlayQueue<E>, max = 50): string[] {
  const out: string[] = [];
  let i: number | null = q.index;
  while (i !== null && out.length < max) {
    out.push(q.at(i)!.title);
    i = q.following(i, false);
  }
  return out;
}

describe('PlayQueue', () => {
  it('plays in order and ends with repeat off', () => {
    const q = make(3);
    q.select(0);
    expect(playOrder(q)).toEqual(['t0', 't1', 't2']);
    expect(q.following(2, true)).toBeNull();
    expect(q.preceding(0)).toBeNull();
  });

  it('repeat all wraps at both ends; repeat one stays unless the listener skips', () => {
    const q = make(3);
    q.setRepeat('all');
    expect(q.following(2, false)).toBe(0);
    expect(q.preceding(0)).toBe(2);
    q.setRepeat('one');
    expect(q.following(1, false)).toBe(1);
    expect(q.following(2, false)).toBe(2);
    expect(q.following(1, true)).toBe(2);
    expect(q.following(2, true)).toBe(0); // a skip past the end under repeat one wraps
  });

  it('keeps a stable shuffled order across moves', () => {
    const q = make(8);
    q.select(0);
    q.setShuffle(true);
    const before = playOrder(q);
    expect(before).toHaveLength(8);
    expect(new Set(before).size).toBe(8);
    expect(before[0]).toBe('t0'); // the current entry opens the round
    expect(before).not.toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
    q.move(q.entries[5]!.id, 1);
    q.move(q.entries[0]!.id, 7);
    expect(playOrder(q)).toEqual(before);
    expect(q.current?.title).toBe('t0');
  });

  it('shuffle with repeat all wraps to the start of the same round', () => {
    const q = make(4);
    q.select(2);
    q.setShuffle(true);
    q.setRepeat('all');
    const order = q.shuffleOrder;
    const last = q.indexOf(order[3]!);
    expect(q.following(last, false)).toBe(q.indexOf(order[0]!));
    expect(q.preceding(q.indexOf(order[0]!))).toBe(last);
  });

  it('an entry added while shuffled plays later in this round, the played ones stay played', () => {
    const q = make(5);
    q.select(0);
    q.setShuffle(true);
    const second = q.following(q.index, false)!;
    q.select(second);
    const [added] = [{ id: q.newId(), title: 'new' }];
    q.append([added!]);
    const rest = playOrder(q);
    expect(rest[0]).toBe(q.at(second)!.title);
    expect(rest).toContain('new');
    expect(rest).toHaveLength(5); // t0 was played before the current entry
  });

  it('play next puts entries right after the current one, shuffled or not', () => {
    const q = make(4);
    q.select(1);
    q.playNext([{ id: q.newId(), title: 'n1' }, { id: q.newId(), title: 'n2' }]);
    expect(playOrder(q).slice(0, 3)).toEqual(['t1', 'n1', 'n2']);
    q.setShuffle(true);
    q.playNext([{ id: q.newId(), title: 'n3' }]);
    expect(playOrder(q).slice(0, 2)).toEqual(['t1', 'n3']);
  });

  it('removing the playing entry makes its successor current', () => {
    const q = make(4);
    q.select(1);
    expect(q.remove([q.entries[1]!.id])).toEqual({ removedCurrent: true });
    expect(q.current?.title).toBe('t2');
    expect(q.remove([q.entries[0]!.id])).toEqual({ removedCurrent: false });
    expect(q.current?.title).toBe('t2');
    q.select(q.length - 1);
    q.remove([q.current!.id]);
    expect(q.current?.title).toBe('t2'); // the last one went: the new last is current
    q.remove(q.entries.map((e) => e.id));
    expect(q.index).toBe(-1);
    expect(q.following(-1, false)).toBeNull();
  });

  it('removing the playing entry while shuffled continues with the next one in the round', () => {
    const q = make(6);
    q.select(0);
    q.setShuffle(true);
    const order = [...q.shuffleOrder];
    q.remove([order[0]!]);
    expect(q.current?.id).toBe(order[1]);
    expect(q.shuffleOrder).toEqual(order.slice(1));
  });

  it('insert and move keep the current entry; bad ids and indexes are refused or clamped', () => {
    const q = make(3);
    q.select(1);
    q.insert(0, [{ id: q.newId(), title: 'a' }]);
    expect(q.current?.title).toBe('t1');
    expect(q.index).toBe(2);
    q.insert(99, [{ id: q.newId(), title: 'z' }]);
    expect(q.entries.at(-1)?.title).toBe('z');
    q.move(q.current!.id, -5);
    expect(q.index).toBe(0);
    expect(() => q.move('nope', 0)).toThrow(/no queue entry/);
    expect(() => q.select(42)).toThrow(/no queue entry 42/);
    q.clear();
    expect(() => q.select(0)).toThrow(/queue is empty/);
  });
});
