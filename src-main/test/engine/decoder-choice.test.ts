// Decoder choice by content through the real engine: the decode worker probes each local file and
// opens it with the decoder its bytes call for, whatever its name says. Short files played to the
// end on the paced device, one after the other (gapless), with the winning decoder checked.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlayerEvent, TrackFormat } from '../../../src-shared/player-types.js';
import { EngineRig, ensurePulse, ffmpeg, nextEvent, sox, waitFor } from './helpers.js';

const rig = new EngineRig();

beforeAll(() => {
  ensurePulse();
});

afterEach(() => rig.teardown());

describe('decoder choice in the decode worker', () => {
  it('plays a FLAC named .mp3, an extension-less M4A and an ALAC CAF, each with the decoder its content needs', async () => {
    await rig.startControl();
    const media = rig.media;
    const wav = path.join(media, 'src.wav');
    sox('-R', '-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', '1', 'sine', '440', 'vol', '0.4');
    const flacAsMp3 = path.join(media, 'really-flac.mp3');
    ffmpeg('-i', wav, '-c:a', 'flac', '-f', 'flac', flacAsMp3);
    const m4aNoExt = path.join(media, 'm4a-without-extension');
    ffmpeg('-i', wav, '-c:a', 'aac', '-f', 'ipod', m4aNoExt);
    const alacCaf = path.join(media, 'alac.caf');
    ffmpeg('-i', wav, '-c:a', 'alac', alacCaf);

    const e = await rig.start();
    const events: PlayerEvent[] = [];
    e.on('event', (ev) => events.push(ev));
    const formats: (TrackFormat | null)[] = [];
    e.on('event', (ev) => {
      if (ev.type === 'status' && ev.status.format && formats[formats.length - 1]?.codec !== ev.status.format.codec) formats.push(ev.status.format);
    });
    e.queueAdd([flacAsMp3, m4aNoExt, alacCaf].map((p) => ({ source: { kind: 'file' as const, path: p }, title: path.basename(p) })));
    await e.play(0);
    await nextEvent(e, 'ended', 15_000);
    await waitFor(() => formats.length >= 3, 2000, 'three formats');
    expect(events.filter((ev) => ev.type === 'track-error')).toEqual([]);
    expect(formats.map((f) => [f?.codec, f?.decoder])).toEqual([
      ['flac', 'dev.stellatune.sndfile/sndfile'],
      ['aac', 'dev.stellatune.ffmpeg/ffmpeg'],
      ['alac', 'dev.stellatune.ffmpeg/ffmpeg'],
    ]);
    expect(e.metrics().underruns).toBe(0);
  });
});
