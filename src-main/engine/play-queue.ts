// The play queue, pure: entries in order, the current entry, repeat and shuffle, and what plays
// after or before an entry. No I/O and no timers, so the engine, the detached engine (playback
// unavailable) and the unit tests share one implementation.
//
// Shuffle keeps one shuffled order of entry ids. It is stable: moving entries in the visible
// queue does not reshuffle it, an added entry takes a random place among those not yet played in
// this round, and a removed one simply leaves it. A new round starts when shuffle is turned on
// or a track is picked by hand; the picked or current entry comes first.
import type { RepeatMode } from '../../src-shared/player-types.js';

export class PlayQueue<T extends { id: string }> {
  private items: T[] = [];
  private cur = -1;
  private order: string[] = [];
  private nextNo = 1;
  repeat: RepeatMode = 'off';
  shuffle = false;

  constructor(private readonly random: () => number = Math.random) {}

  /** A fresh entry id ("q1", "q2", ...), unique for this queue. */
  newId(): string {
    return `q${this.nextNo++}`;
  }

  get entries(): readonly T[] {
    return this.items;
  }

  get length(): number {
    return this.items.length;
  }

  /** The current entry's index (-1: none). */
  get index(): number {
    return this.cur;
  }

  get current(): T | undefined {
    return this.items[this.cur];
  }

  at(i: number): T | undefined {
    return this.items[i];
  }

  indexOf(id: string): number {
    return this.items.findIndex((e) => e.id === id);
  }

  /** The shuffled order (ids), empty when shuffle is off. */
  get shuffleOrder(): readonly string[] {
    return this.order;
  }

  /** Makes entry `i` current. `byHand`: a listener's pick, which starts a new shuffle round. */
  select(i: number, byHand = false): void {
    if (!this.items[i]) throw new Error(this.items.length === 0 ? 'the queue is empty' : `no queue entry ${i}`);
    this.cur = i;
    if (byHand && this.shuffle) this.reshuffle();
  }

  setShuffle(on: boolean): void {
    this.shuffle = on;
    this.reshuffle();
  }

  setRepeat(mode: RepeatMode): void {
    this.repeat = mode;
  }

  /** Inserts `entries` at `index` (clamped); the current entry stays current. */
  insert(index: number, entries: T[]): void {
    const at = Math.min(Math.max(0, Math.floor(Number.isFinite(index) ? index : this.items.length)), this.items.length);
    const currentId = this.current?.id;
    this.items.splice(at, 0, ...entries);
    this.reindex(currentId);
    if (this.shuffle) {
      const curPos = currentId ? this.order.indexOf(currentId) : -1;
      for (const e of entries) {
        // A random place after the current one: it plays in this round.
        const lo = curPos + 1;
        const pos = lo + Math.floor(this.random() * (this.order.length - lo + 1));
        this.order.splice(pos, 0, e.id);
      }
    }
  }

  append(entries: T[]): void {
    this.insert(this.items.length, entries);
  }

  /** Inserts `entries` to play right after the current entry (also in the shuffled order). */
  playNext(entries: T[]): void {
    const currentId = this.current?.id;
    this.items.splice(this.cur + 1, 0, ...entries);
    this.reindex(currentId);
    if (this.shuffle) {
      const curPos = currentId ? this.order.indexOf(currentId) : -1;
      this.order.splice(curPos + 1, 0, ...entries.map((e) => e.id));
    }
  }

  /**
   * Removes entries. When the current entry is among them, the entry that took its place (or the
   * last one, or none) becomes current and `removedCurrent` is true.
   */
  remove(ids: string[]): { removedCurrent: boolean } {
    const drop = new Set(ids);
    const oldIndex = this.cur;
    const currentId = this.current?.id;
    let successorId: string | undefined;
    if (currentId !== undefined && drop.has(currentId)) {
      if (this.shuffle) {
        const pos = this.order.indexOf(currentId);
        successorId = this.order.slice(pos + 1).find((id) => !drop.has(id));
      }
    }
    this.items = this.items.filter((e) => !drop.has(e.id));
    this.order = this.order.filter((id) => !drop.has(id));
    const removedCurrent = currentId !== undefined && drop.has(currentId);
    if (!removedCurrent) this.reindex(currentId);
    else if (successorId !== undefined) this.cur = this.indexOf(successorId);
    else this.cur = this.items.length === 0 ? -1 : this.shuffle && this.order.length > 0 ? this.indexOf(this.order[0] as string) : Math.min(oldIndex, this.items.length - 1);
    return { removedCurrent };
  }

  /** Moves entry `id` to `toIndex` (clamped); the shuffled order is unchanged. */
  move(id: string, toIndex: number): void {
    const from = this.indexOf(id);
    if (from < 0) throw new Error(`no queue entry ${id}`);
    const currentId = this.current?.id;
    const [entry] = this.items.splice(from, 1);
    const to = Math.min(Math.max(0, Math.floor(toIndex)), this.items.length);
    this.items.splice(to, 0, entry as T);
    this.reindex(currentId);
  }

  clear(): void {
    this.items = [];
    this.order = [];
    this.cur = -1;
  }

  /** The index played after entry `from` (null: the end). `manual`: a listener's "next", which
   * leaves a repeated-one track. */
  following(from: number, manual: boolean): number | null {
    const n = this.items.length;
    if (n === 0) return null;
    if (this.repeat === 'one' && !manual && from >= 0 && from < n) return from;
    if (this.shuffle && this.order.length === n) {
      const id = this.items[from]?.id;
      let nextPos = (id ? this.order.indexOf(id) : -1) + 1;
      if (nextPos >= n) {
        if (this.repeat === 'off') return null;
        nextPos = 0;
      }
      return this.indexOf(this.order[nextPos] as string);
    }
    const i = from + 1;
    if (i < n) return i;
    return this.repeat === 'off' ? null : 0;
  }

  /** The index played before entry `from` (null: none). */
  preceding(from: number): number | null {
    const n = this.items.length;
    if (n === 0) return null;
    if (this.shuffle && this.order.length === n) {
      const pos = this.order.indexOf(this.items[from]?.id ?? '');
      if (pos <= 0) return this.repeat === 'all' ? this.indexOf(this.order[n - 1] as string) : null;
      return this.indexOf(this.order[pos - 1] as string);
    }
    if (from > 0) return from - 1;
    return this.repeat === 'all' ? n - 1 : null;
  }

  private reindex(currentId: string | undefined): void {
    this.cur = currentId ? this.indexOf(currentId) : -1;
  }

  private reshuffle(): void {
    if (!this.shuffle) {
      this.order = [];
      return;
    }
    const cur = this.current?.id;
    const rest = this.items.map((e) => e.id).filter((id) => id !== cur);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j] as string, rest[i] as string];
    }
    this.order = cur ? [cur, ...rest] : rest;
  }
}
