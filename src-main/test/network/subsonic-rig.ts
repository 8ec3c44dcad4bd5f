// The Subsonic playback tests' rig: the engine rig whose Subsonic plugin points at a supysonic
// server, and the tracks of one of its albums.
import type { SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { EngineRig } from '../engine/helpers.js';
import { type Item, type ItemPage, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';

export class SubsonicRig extends EngineRig {
  /** A fresh home and control plane, then the tracks of the album titled `albumTitle`. */
  async albumTracks(server: SupysonicServer, albumTitle: string): Promise<Item[]> {
    const control = await this.startControl();
    control.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, server.pluginConfig());
    const albums = (await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'albums' })) as ItemPage;
    const album = albums.items.find((a) => a.title === albumTitle);
    if (!album) throw new Error(`supysonic has no album "${albumTitle}"`);
    return ((await control.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'browse', id: album.id })) as ItemPage).items;
  }

  startEngine(): ReturnType<EngineRig['start']> {
    return this.start();
  }
}
