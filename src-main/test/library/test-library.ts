// The tests' music folder, generated at setup: ID3v2.3 Latin-1 and ID3v2.4 UTF-16 MP3s, Vorbis
// comments (FLAC, Ogg), MP4 atoms, accented and CJK names, a two-disc album, a compilation,
// embedded and folder covers, and files that are not audio at all.
import fs from 'node:fs';
import path from 'node:path';
import { makeTemplates, solidPicture, writeFlac, writeMp3, writeWithFfmpeg } from '../../tools/music-corpus.js';

export interface TestLibrary {
  root: string;
  templates: ReturnType<typeof makeTemplates>;
  /** How many files should be read as tracks. */
  trackCount: number;
  corrupt: string[];
}

export async function makeTestLibrary(dir: string, templatesDir: string): Promise<TestLibrary> {
  const t = makeTemplates(templatesDir);
  const mp3 = fs.readFileSync(t.mp3);
  const flac = fs.readFileSync(t.flac);
  const red = await solidPicture([200, 30, 30], 'png');
  const blue = await solidPicture([30, 30, 200], 'jpeg');
  const root = path.join(dir, 'Music');

  // ID3v2.3, Latin-1 text, embedded cover.
  writeMp3(path.join(root, 'Björk', 'Homogenic', '01 Jóga.mp3'), mp3, { title: 'Jóga', artist: 'Björk', album: 'Homogenic', track: '1/2', year: '1997', genre: 'Electronic', replayGainTrack: '-6.50 dB' }, { version: 3, encoding: 0, picture: red });
  writeMp3(path.join(root, 'Björk', 'Homogenic', '02 Hunter.mp3'), mp3, { title: 'Hunter', artist: 'Björk', album: 'Homogenic', track: '2/2', year: '1997', genre: 'Electronic' }, { version: 3, encoding: 0, picture: red });
  // ID3v2.4, UTF-16, CJK.
  writeMp3(path.join(root, '坂本龍一', 'async', '01 東京の夜.mp3'), mp3, { title: '東京の夜', artist: '坂本龍一', album: 'async', track: '1', year: '2017', genre: 'Ambient', composer: '坂本龍一' }, { version: 4, encoding: 1 });
  // Vorbis comments in FLAC: a two-disc album with a folder cover on each disc.
  for (const disc of [1, 2]) {
    const d = path.join(root, 'Ensemble', 'Double Album', `CD${disc}`);
    for (const n of [2, 1]) {
      writeFlac(path.join(d, `0${n} Part ${disc}.${n}.flac`), flac, { title: `Part ${disc}.${n}`, artist: 'Ensemble', albumArtist: 'Ensemble', album: 'Double Album', track: String(n), disc: `${disc}/2`, year: '2001', genre: 'Classical', mbTrackId: `00000000-0000-0000-0000-00000000000${disc}` });
    }
    fs.writeFileSync(path.join(d, 'cover.jpg'), blue.data);
  }
  // Ogg Vorbis with a folder.png cover.
  writeWithFfmpeg(path.join(root, 'Ogg Band', 'Forest', '01 Trees.ogg'), t.ogg, { title: 'Trees', artist: 'Ogg Band', album: 'Forest', track: '1', year: '2010', genre: 'Folk' });
  fs.writeFileSync(path.join(root, 'Ogg Band', 'Forest', 'folder.png'), red.data);
  // MP4 atoms: a compilation of several artists (one "feat.").
  writeWithFfmpeg(path.join(root, 'Compilations', 'Summer Hits', '01 Sun.m4a'), t.m4a, { title: 'Sun', artist: 'Alpha', albumArtist: 'Various Artists', album: 'Summer Hits', track: '1', compilation: true, year: '2020', genre: 'Pop' });
  writeWithFfmpeg(path.join(root, 'Compilations', 'Summer Hits', '02 Sea.m4a'), t.m4a, { title: 'Sea', artist: 'Beta feat. Gamma', albumArtist: 'Various Artists', album: 'Summer Hits', track: '2', compilation: true, year: '2020', genre: 'Pop' });
  // Not audio, though named so.
  const broken = path.join(root, 'Broken');
  fs.mkdirSync(broken, { recursive: true });
  const corrupt = [path.join(broken, 'garbage.mp3'), path.join(broken, 'truncated.flac')];
  fs.writeFileSync(corrupt[0]!, 'this is not an mp3 file at all\n'.repeat(20));
  fs.writeFileSync(corrupt[1]!, Buffer.from('fLaC\u0000\u0000'));
  return { root, templates: t, trackCount: 10, corrupt };
}
