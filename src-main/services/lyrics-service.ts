// LyricsProvider search and fetch through the owner actors (cancellable, with deadlines); the
// fetched LRC is parsed here so every renderer gets timed lines.
import type { ControlPlane } from '../control/control-plane.js';
import type { LyricsCandidate } from '../../src-shared/contract.js';
import { parseLrc } from '../../src-shared/lrc.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ServiceHandlers } from './router.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined);

function normaliseCandidate(raw: Record<string, unknown>): LyricsCandidate {
  const c: LyricsCandidate = { synced: raw.synced === true, instrumental: raw.instrumental === true, raw };
  const id = str(raw.id);
  if (id) c.id = id;
  for (const k of ['title', 'artist', 'album'] as const) {
    const v = str(raw[k]);
    if (v) c[k] = v;
  }
  if (typeof raw.duration_ms === 'number' && raw.duration_ms >= 0) c.durationMs = raw.duration_ms;
  return c;
}

/** Lyrics queries use snake_case on the plugin side (lyrics.h). */
function toPluginQuery(q: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...q };
  if (typeof q.durationMs === 'number') {
    out.duration_ms = Math.round(q.durationMs);
    delete out.durationMs;
  }
  return out;
}

export function lyricsService(control: ControlPlane): ServiceHandlers<'lyrics'> {
  return {
    providers: () =>
      control.capabilities('lyrics').map((c) => ({ pluginId: c.pluginId, pluginName: c.pluginName, typeId: c.typeId, displayName: c.displayName })),

    search: async ({ pluginId, typeId, query, deadlineMs }, { signal }) => {
      const doc = await control.searchLyrics(pluginId, typeId, toPluginQuery(query), deadlineMs === undefined ? { signal } : { signal, deadlineMs });
      const list = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).candidates : undefined;
      if (!Array.isArray(list)) throw new RpcError({ code: 'malformed_result', message: 'search returned no "candidates" array', pluginId, op: 'search' });
      return {
        candidates: list.filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null && !Array.isArray(c)).map(normaliseCandidate),
      };
    },

    fetch: async ({ pluginId, typeId, track, deadlineMs }, { signal }) => {
      const doc = await control.fetchLyrics(pluginId, typeId, toPluginQuery(track), deadlineMs === undefined ? { signal } : { signal, deadlineMs });
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
        throw new RpcError({ code: 'malformed_result', message: 'fetch returned no object', pluginId, op: 'fetch' });
      }
      const d = doc as Record<string, unknown>;
      const lrc = typeof d.synced_lrc === 'string' && d.synced_lrc.trim() ? d.synced_lrc : null;
      const synced = lrc ? parseLrc(lrc) : null;
      const plain = typeof d.plain === 'string' && d.plain.trim() ? d.plain : synced ? synced.map((l: { text: string }) => l.text).join('\n') : null;
      const out = { synced: synced && synced.length > 0 ? synced : null, plain, instrumental: d.instrumental === true };
      const id = str(d.id);
      return id ? { id, ...out } : out;
    },
  };
}
