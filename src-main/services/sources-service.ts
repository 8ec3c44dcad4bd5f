// SourceCatalog browsing. Requests go to the plugin's owner actor with the caller's AbortSignal,
// so cancelling the call in the UI cancels the plugin op; the plugin's loosely shaped JSON
// (source.h) is normalised into the contract's items here, and anything unusable is reported as
// malformed_result rather than passed on.
import type { ControlPlane } from '../control/control-plane.js';
import { listResultIssues } from '../control/list-result.js';
import type { SourceItem } from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ServiceHandlers } from './router.js';

const DEFAULT_ACTIONS = [
  { action: 'search', label: 'Search', query: true },
  { action: 'browse', label: 'Browse', query: false },
];

export function catalogActions(schema: unknown): { action: string; label: string; query: boolean }[] {
  const declared = typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>)['x-stellatune-actions'] : undefined;
  if (!Array.isArray(declared)) return DEFAULT_ACTIONS;
  const out = declared
    .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && typeof (a as Record<string, unknown>).action === 'string')
    .map((a) => ({ action: String(a.action), label: typeof a.label === 'string' ? a.label : String(a.action), query: a.query === true }));
  return out.length > 0 ? out : DEFAULT_ACTIONS;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

export function normaliseItem(raw: Record<string, unknown>): SourceItem {
  const id = str(raw.id) ?? '';
  const item: SourceItem = { id, kind: str(raw.kind) ?? 'track', title: str(raw.title) ?? str(raw.name) ?? id, raw };
  const artist = str(raw.artist);
  const album = str(raw.album);
  const duration = num(raw.duration_ms) ?? num(raw.durationMs);
  if (artist) item.artist = artist;
  if (album) item.album = album;
  if (duration !== undefined) item.durationMs = duration;
  return item;
}

export function sourcesService(control: ControlPlane): ServiceHandlers<'sources'> {
  return {
    catalogs: () =>
      control.capabilities('source').map((c) => ({
        pluginId: c.pluginId,
        pluginName: c.pluginName,
        typeId: c.typeId,
        displayName: c.displayName,
        actions: catalogActions(c.configSchema),
      })),

    list: async ({ pluginId, typeId, request, deadlineMs }, { signal }) => {
      const doc = await control.listItems(pluginId, typeId, request, deadlineMs === undefined ? { signal } : { signal, deadlineMs });
      const items = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).items : undefined;
      if (!Array.isArray(items)) {
        throw new RpcError({ code: 'malformed_result', message: 'list_items returned no "items" array', pluginId, op: 'list_items' });
      }
      const issues = listResultIssues(doc);
      if (issues.length > 0) {
        const what = issues.slice(0, 3).map((i) => `${i.path} ${i.message}`).join('; ');
        throw new RpcError({ code: 'malformed_result', message: `list_items result does not match source.h: ${what}`, pluginId, op: 'list_items' });
      }
      const next = num((doc as Record<string, unknown>).next_offset);
      return {
        items: items.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null && !Array.isArray(i)).map(normaliseItem),
        nextOffset: next === undefined ? null : Math.floor(next),
      };
    },
  };
}
