// A control plane whose Subsonic plugin points at a supysonic server, plus a player engine on it
// made on demand: what the Subsonic playback tests share. teardown() closes what was made and
// waits until every stream the plugin opened is closed again.
import type { ControlPlane } from '../../control/control-plane.js';
import { createPlayerEngine, type StellaPlayerEngine } from '../../engine/index.js';
import type { SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { makeHome, startControl, waitFor, type EngineHome } from '../engine/helpers.js';
import { type Item, type ItemPage, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';

export class SubsonicRig {
  home: EngineHome | null = null;
  control: ControlPlane | null = null;
  engine: StellaPlayerEngine | null = null;

  /** A fresh home and control plane, then the tracks of the album titled `albumTitle`. */
  async albumTracks(server: SupysonicServer, albumTitle: string): Promise<Item[]> {
    this.home = makeHome();
    const control = (this.control = await startControl(this.home));
    control.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, server.pluginConfig());
    const albums = (await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'albums' })) as ItemPage;
    const album = albums.items.find((a) => a.title === albumTitle);
    if (!album) throw new Error(`supysonic has no album "${albumTitle}"`);
    return ((await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'browse', id: album.id })) as ItemPage).items;
  }

  async startEngine(): Promise<StellaPlayerEngine> {
    if (!this.control || !this.home) throw new Error('albumTracks() first');
    this.engine = (await createPlayerEngine({ control: this.control, paths: this.home.paths, log: () => {} })) as StellaPlayerEngine;
    return this.engine;
  }

  async teardown(): Promise<void> {
    await this.engine?.close();
    this.engine = null;
    const control = this.control;
    if (control) {
      await waitFor(() => control.live().openStreams === 0, 5000, 'the stream to close');
      await control.close();
    }
    this.control = null;
    this.home?.cleanup();
    this.home = null;
  }
}
