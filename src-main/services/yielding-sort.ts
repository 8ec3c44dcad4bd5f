// A merge sort that gives the event loop a turn every few thousand comparisons: a folder of 100k
// entries sorted in natural order in one go blocks the core for a third of a second (the player's
// position, other clients' calls and plugin notifiers all wait). Stable, like Array.prototype.sort.

const COMPARISONS_PER_TURN = 4096;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sorts a copy of `items` by `cmp`, yielding to the event loop between slices of work. */
export async function sortYielding<T>(items: readonly T[], cmp: (a: T, b: T) => number, signal?: AbortSignal): Promise<T[]> {
  if (items.length <= 256) return [...items].sort(cmp);
  let budget = COMPARISONS_PER_TURN;
  const spend = async (n: number): Promise<void> => {
    budget -= n;
    if (budget > 0) return;
    budget = COMPARISONS_PER_TURN;
    await turn();
    signal?.throwIfAborted();
  };
  // Sorted runs of 256 (cheap enough to do in one go each), then bottom-up merges.
  const RUN = 256;
  let src: T[] = [];
  for (let i = 0; i < items.length; i += RUN) {
    const run = items.slice(i, i + RUN).sort(cmp);
    for (const x of run) src.push(x);
    await spend(RUN * 8);
  }
  let dst: T[] = new Array<T>(src.length);
  for (let width = RUN; width < src.length; width *= 2) {
    for (let lo = 0; lo < src.length; lo += 2 * width) {
      const mid = Math.min(lo + width, src.length);
      const hi = Math.min(lo + 2 * width, src.length);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        dst[k++] = cmp(src[j]!, src[i]!) < 0 ? src[j++]! : src[i++]!;
        if (--budget <= 0) await spend(0);
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  return src;
}
