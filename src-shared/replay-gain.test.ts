import { describe, expect, it } from 'vitest';
import {
  albumPlaysInOrder,
  DEFAULT_REPLAY_GAIN,
  mergeReplayGainTags,
  NO_REPLAY_GAIN_TAGS,
  parseGainDb,
  parsePeak,
  parseR128Db,
  replayGainFor,
  replayGainFromDecoderMetadata,
  replayGainLabel,
  type ReplayGainSettings,
} from './replay-gain.js';

const tagged = { trackGainDb: -6, trackPeak: 0.5, albumGainDb: -4, albumPeak: 0.9 };
const on = (s: Partial<ReplayGainSettings>): ReplayGainSettings => ({ ...DEFAULT_REPLAY_GAIN, mode: 'track', ...s });

describe('replayGainFor', () => {
  it('off plays at unity whatever the tags', () => {
    expect(replayGainFor(DEFAULT_REPLAY_GAIN, tagged, true)).toEqual({ source: 'off', gainDb: 0, limited: false });
  });

  it('track / album / auto pick their tag', () => {
    expect(replayGainFor(on({ mode: 'track' }), tagged, true)).toMatchObject({ source: 'track', gainDb: -6 });
    expect(replayGainFor(on({ mode: 'album' }), tagged, false)).toMatchObject({ source: 'album', gainDb: -4 });
    expect(replayGainFor(on({ mode: 'auto' }), tagged, true)).toMatchObject({ source: 'album', gainDb: -4 });
    expect(replayGainFor(on({ mode: 'auto' }), tagged, false)).toMatchObject({ source: 'track', gainDb: -6 });
  });

  it('falls back to the other kind when the asked one is missing', () => {
    expect(replayGainFor(on({ mode: 'album' }), { ...tagged, albumGainDb: null, albumPeak: null }, true)).toMatchObject({ source: 'track', gainDb: -6 });
    expect(replayGainFor(on({ mode: 'track' }), { ...tagged, trackGainDb: null }, false)).toMatchObject({ source: 'album', gainDb: -4 });
  });

  it('adds the preamp to tagged files only; untagged files get the default gain', () => {
    expect(replayGainFor(on({ preampDb: 2 }), tagged, false).gainDb).toBe(-4);
    expect(replayGainFor(on({ preampDb: 2, untaggedDb: -3 }), NO_REPLAY_GAIN_TAGS, false)).toEqual({ source: 'untagged', gainDb: -3, limited: false });
  });

  it('limits the gain so that peak × gain stays at or below 1', () => {
    // +9 dB on a 0.5 peak would reach 1.41: limited to +6.02 dB.
    const a = replayGainFor(on({ preampDb: 15 }), tagged, false);
    expect(a.limited).toBe(true);
    expect(a.gainDb).toBeCloseTo(20 * Math.log10(2), 3);
    expect(0.5 * Math.pow(10, a.gainDb / 20)).toBeLessThanOrEqual(1 + 1e-12);
    // Without clipping prevention the gain stands.
    expect(replayGainFor(on({ preampDb: 15, preventClipping: false }), tagged, false)).toMatchObject({ gainDb: 9, limited: false });
    // No peak: nothing to limit by.
    expect(replayGainFor(on({ preampDb: 15 }), { ...tagged, trackPeak: null, albumPeak: null }, false)).toMatchObject({ gainDb: 9, limited: false });
  });
});

describe('tag parsing', () => {
  it('reads gain and peak strings as taggers write them', () => {
    expect(parseGainDb('-6.50 dB')).toBe(-6.5);
    expect(parseGainDb('+3.20 dB')).toBe(3.2);
    expect(parseGainDb('3,2')).toBe(3.2);
    expect(parseGainDb('loud')).toBeNull();
    expect(parseGainDb('1e400')).toBeNull();
    expect(parsePeak('0.988312')).toBe(0.988312);
    expect(parsePeak('-1')).toBeNull();
    expect(parsePeak('0')).toBeNull();
    expect(parseR128Db('-2560')).toBe(-5); // -10 dB vs -23 LUFS = -5 dB vs ReplayGain's -18 LUFS
    expect(parseR128Db('1.5')).toBeNull();
  });

  it('finds the keys in a decoder metadata object, any case', () => {
    const meta = { codec: 'flac', tags: { REPLAYGAIN_TRACK_GAIN: '-6.00 dB', replaygain_track_peak: '0.5', Replaygain_Album_Gain: '-4 dB', junk: 1 } };
    expect(replayGainFromDecoderMetadata(meta)).toEqual({ trackGainDb: -6, trackPeak: 0.5, albumGainDb: -4, albumPeak: null });
    expect(replayGainFromDecoderMetadata({ tags: { r128_track_gain: '512' } }).trackGainDb).toBe(7);
    expect(replayGainFromDecoderMetadata({ tags: 'nonsense' })).toEqual(NO_REPLAY_GAIN_TAGS);
  });

  it('merges field by field, the first source first', () => {
    const lib = { ...NO_REPLAY_GAIN_TAGS, trackGainDb: -1 };
    expect(mergeReplayGainTags(lib, tagged)).toEqual({ ...tagged, trackGainDb: -1 });
    expect(mergeReplayGainTags(null, undefined)).toEqual(NO_REPLAY_GAIN_TAGS);
  });
});

describe('album context (auto)', () => {
  const t = (trackNo: number | null, album = 'A', discNo: number | null = 1) => ({ album, trackNo, discNo });
  it('is in order when a neighbour is the previous or next track of the same album', () => {
    expect(albumPlaysInOrder(t(1), t(2), null)).toBe(true);
    expect(albumPlaysInOrder(null, t(2), t(3))).toBe(true);
    expect(albumPlaysInOrder(t(3), t(2), t(1))).toBe(false); // backwards
    expect(albumPlaysInOrder(t(1, 'B'), t(2), t(3, 'C'))).toBe(false); // other albums
    expect(albumPlaysInOrder(null, t(2), null)).toBe(false); // alone
    expect(albumPlaysInOrder(t(12, 'A', 1), t(1, 'A', 2), null)).toBe(true); // next disc
    expect(albumPlaysInOrder(t(null), t(null), null)).toBe(true); // unnumbered, in queue order
    expect(albumPlaysInOrder({ album: null }, { album: null }, null)).toBe(false);
  });
});

describe('replayGainLabel', () => {
  it('says the gain and where it came from', () => {
    expect(replayGainLabel({ source: 'track', gainDb: 3.2, limited: false })).toBe('RG +3.2 dB track');
    expect(replayGainLabel({ source: 'album', gainDb: -1, limited: true })).toBe('RG −1.0 dB album (limited)');
    expect(replayGainLabel({ source: 'off', gainDb: 0, limited: false })).toBe('');
  });
});
