// Which decoder opens a track: by content first, by extension second (decoder.h, "Choosing by
// content"). The main thread lists every loaded decoder with its extension score for the track
// (decoderCandidates); the decode worker reads the first bytes of the stream, asks each decoder's
// probe for a score, and opens them in that order until one accepts (openByContent). Both halves
// live here so the rule is written once.
import { DecoderProbe, type Pointer } from './abi.js';
import type { DecoderInstance } from './instances.js';
import type { PluginGeneration } from './library.js';
import { readStreamHead as readHead, rewindStream } from './streams.js';

/** A decoder capability and how well its extension table matches the track (0: no match). */
export interface ExtensionCandidate {
  gen: PluginGeneration;
  typeId: string;
  extScore: number;
}

/**
 * Every decoder of the loaded generations with its extension score for `ext` (an exact entry
 * wins over "*"), best first. Decoders that do not claim the extension stay in the list with
 * score 0: their probe may still recognise the content.
 */
export function decoderCandidates(gens: Iterable<PluginGeneration>, ext: string): ExtensionCandidate[] {
  const out: ExtensionCandidate[] = [];
  for (const gen of gens) {
    for (const cap of gen.capabilities) {
      if (cap.kind !== 'decoder') continue;
      const exact = cap.extensions.find((e) => e.ext === ext);
      const any = cap.extensions.find((e) => e.ext === '*');
      out.push({ gen, typeId: cap.typeId, extScore: exact?.score ?? any?.score ?? 0 });
    }
  }
  return out.sort((a, b) => b.extScore - a.extScore);
}

// ---- the stream's first bytes -------------------------------------------------------------------

/**
 * The first bytes of a seekable stream (up to DecoderProbe.BYTES), the stream rewound after; null
 * when it cannot seek (its bytes could not be read again) or a read fails.
 */
export function readStreamHead(stream: { handle: Pointer; io: Pointer }): Uint8Array | null {
  return readHead(stream.handle, stream.io, DecoderProbe.BYTES);
}

// ---- ordering and opening -----------------------------------------------------------------------

/** One decoder's standing for a track: its probe score (or the neutral one) and extension score. */
export interface Ranked<C> {
  cand: C;
  decoder: DecoderInstance;
  probeScore: number;
  /** Whether the score came from the plugin's probe (false: no slot, or nothing to probe). */
  probed: boolean;
  extScore: number;
}

/**
 * Orders decoders for a track: probe score first (a decoder without a probe slot counts as
 * NEUTRAL when its extension matches), extension score on ties, list order after that. Decoders
 * with neither a positive probe nor an extension match are left out; those whose probe said 0
 * but whose extension matches stay, last.
 */
export function rankDecoders<C extends { extScore: number }>(
  entries: { cand: C; decoder: DecoderInstance }[],
  head: Uint8Array | null,
  ext: string,
): { ranked: Ranked<C>[]; dropped: { cand: C; decoder: DecoderInstance }[] } {
  const ranked: (Ranked<C> & { order: number })[] = [];
  const dropped: { cand: C; decoder: DecoderInstance }[] = [];
  entries.forEach((e, order) => {
    let score: number | null = null;
    if (head && head.length > 0 && e.decoder.canProbe) {
      try {
        score = e.decoder.probe(head, ext);
      } catch {
        score = 0; // a probe that fails is a probe that says no
      }
    }
    const probed = score !== null;
    const probeScore = score ?? (e.cand.extScore > 0 ? DecoderProbe.NEUTRAL : 0);
    if (probeScore === 0 && e.cand.extScore === 0) dropped.push(e);
    else ranked.push({ cand: e.cand, decoder: e.decoder, probeScore, probed, extScore: e.cand.extScore, order });
  });
  ranked.sort((a, b) => b.probeScore - a.probeScore || b.extScore - a.extScore || a.order - b.order);
  return { ranked, dropped };
}

export interface OpenedTrack<C, I> {
  cand: C;
  decoder: DecoderInstance;
  info: I;
  /** The order the decoders were tried in, with each one's scores (diagnostics, tests). */
  tried: { cand: C; probeScore: number; extScore: number; error?: string }[];
}

/**
 * Opens a track with the best decoder for its content. `create` makes a decoder instance for a
 * candidate; `accept` opens it on the stream and returns its info (throws to refuse). The stream
 * is rewound before each attempt. Every instance that is not returned is destroyed. Throws an
 * error listing every attempt when no decoder opens the track.
 */
export function openByContent<C extends { extScore: number }, I>(
  stream: { handle: Pointer; io: Pointer },
  candidates: readonly C[],
  ext: string,
  create: (cand: C) => DecoderInstance,
  accept: (decoder: DecoderInstance) => I,
  describe: (cand: C) => string,
): OpenedTrack<C, I> {
  const failures: string[] = [];
  const entries: { cand: C; decoder: DecoderInstance }[] = [];
  for (const cand of candidates) {
    try {
      entries.push({ cand, decoder: create(cand) });
    } catch (err) {
      if (cand.extScore > 0) failures.push(`${describe(cand)}: ${(err as Error).message}`);
    }
  }
  const head = entries.some((e) => e.decoder.canProbe) ? readStreamHead(stream) : null;
  const { ranked, dropped } = rankDecoders(entries, head, ext);
  for (const d of dropped) d.decoder.destroy();
  const tried: OpenedTrack<C, I>['tried'] = [];
  for (let i = 0; i < ranked.length; i++) {
    const r = ranked[i] as Ranked<C>;
    try {
      const info = accept(r.decoder);
      for (const rest of ranked.slice(i + 1)) rest.decoder.destroy();
      tried.push({ cand: r.cand, probeScore: r.probeScore, extScore: r.extScore });
      return { cand: r.cand, decoder: r.decoder, info, tried };
    } catch (err) {
      const message = (err as Error).message || String(err);
      tried.push({ cand: r.cand, probeScore: r.probeScore, extScore: r.extScore, error: message });
      failures.push(`${describe(r.cand)}: ${message}`);
      r.decoder.destroy();
      try {
        rewindStream(stream.handle, stream.io);
      } catch {
        // a stream that cannot rewind fails the remaining candidates on its own
      }
    }
  }
  const why = failures.length > 0 ? failures.join('; ') : `no decoder handles ${ext ? `".${ext}"` : 'this content'}`;
  throw Object.assign(new Error(why), { statusName: 'decode', tried });
}
