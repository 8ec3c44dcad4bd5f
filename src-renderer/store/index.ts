// The one bound store, built from the slices; plus the wiring of contract events to actions.
import { create } from 'zustand';
import type { ContractClient } from '../../src-shared/contract.js';
import { setApi } from './api.js';
import { createMusicLibrarySlice } from './library.js';
import { position } from './position.js';
import {
  type AppState,
  createDiagnosticsSlice,
  createLibrarySlice,
  createLyricsSlice,
  createOutputSlice,
  createPlaybackSlice,
  createPluginsSlice,
  createQueueSlice,
  createSourcesSlice,
  createUiSlice,
  trackFailureText,
} from './slices.js';

export const createAppStore = () =>
  create<AppState>()((...a) => ({
    ...createUiSlice(...a),
    ...createPlaybackSlice(...a),
    ...createQueueSlice(...a),
    ...createLibrarySlice(...a),
    ...createMusicLibrarySlice(...a),
    ...createPluginsSlice(...a),
    ...createSourcesSlice(...a),
    ...createLyricsSlice(...a),
    ...createOutputSlice(...a),
    ...createDiagnosticsSlice(...a),
  }));

export const useStore = createAppStore();
export type AppStore = typeof useStore;

/** Subscribes the store to the core's events and loads the initial state. */
export async function bindStore(client: ContractClient, store: AppStore = useStore): Promise<() => void> {
  setApi(client);
  const s = store.getState;
  let lastCaps = '';
  const offs = [
    client.player.onDidChangeStatus((st) => s().applyStatus(st)),
    client.player.onDidChangePosition((p) => position.update(p.positionMs, p.durationMs)),
    client.player.onDidFailTrack((e) => {
      const f = trackFailureText(e.track, e.code, e.message);
      s().notify('error', f.text, f.details);
    }),
    client.queue.onDidChange((q) => s().applyQueue(q)),
    client.library.onDidProgress((p) => s().applyScanProgress(p)),
    client.library.onDidChange((c) => s().applyLibraryChange(c.what)),
    client.playlists.onDidChange(() => void s().refreshPlaylists().catch(() => {})),
    client.plugins.onDidChangeList((list) => {
      s().applyPlugins(list);
      // Capabilities follow the plugins: asked for again when a plugin's status or capabilities
      // changed, not when it was only reloaded (a new generation of the same plugin).
      const caps = JSON.stringify(list.map((p) => [p.pluginId, p.status, p.capabilities]));
      if (caps === lastCaps) return;
      lastCaps = caps;
      void s().refreshCatalogs().catch(() => {});
      void s().refreshLyricsProviders().catch(() => {});
      void s().refreshDsps().catch(() => {});
    }),
  ];
  await refreshAll(store);
  return () => offs.forEach((off) => off());
}

/** Loads everything the screens show (at start and after a reconnect). */
export async function refreshAll(store: AppStore = useStore): Promise<void> {
  const s = store.getState;
  await Promise.allSettled([
    s().loadInfo(),
    s().loadSession(),
    s().refreshStatus(),
    s().refreshQueue(),
    s().refreshPlugins(),
    s().refreshCatalogs(),
    s().refreshLyricsProviders(),
    s().refreshDsps(),
    s().loadLibrary(),
  ]);
}

export { position };
export type { AppState };
