// LRC parsing for synced lyrics ("[mm:ss.xx]line"), shared by the lyrics service and the renderer.
// Tolerant: several time tags on one line, [offset:±ms], metadata tags and blank lines.
export interface LrcLine {
  timeMs: number;
  text: string;
}

const TIME_TAG = /\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]/g;
const OFFSET_TAG = /^\[offset:\s*([+-]?\d+)\s*\]/i;

export function parseLrc(source: string): LrcLine[] {
  let offset = 0;
  const lines: LrcLine[] = [];
  for (const raw of source.split(/\r?\n/)) {
    const m = OFFSET_TAG.exec(raw.trim());
    if (m) {
      offset = Number(m[1]);
      continue;
    }
    const times: number[] = [];
    let rest = raw;
    TIME_TAG.lastIndex = 0;
    let tag: RegExpExecArray | null;
    let consumed = 0;
    while ((tag = TIME_TAG.exec(raw)) !== null && tag.index === consumed) {
      const frac = tag[3] ?? '0';
      const fracMs = frac.length === 1 ? Number(frac) * 100 : frac.length === 2 ? Number(frac) * 10 : Number(frac);
      times.push(Number(tag[1]) * 60_000 + Number(tag[2]) * 1000 + fracMs);
      consumed = tag.index + tag[0].length;
    }
    if (times.length === 0) continue;
    rest = raw.slice(consumed).trim();
    // LRC's offset: positive shifts lyrics earlier.
    for (const t of times) lines.push({ timeMs: Math.max(0, t - offset), text: rest });
  }
  return lines.sort((a, b) => a.timeMs - b.timeMs);
}

/** Index of the line active at `positionMs` (-1 before the first line). Binary search. */
export function activeLine(lines: readonly LrcLine[], positionMs: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.timeMs <= positionMs) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
