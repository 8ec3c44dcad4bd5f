// The `replayGain` service of the IPC contract (its own file; contract.ts lists it) and the
// ReplayGain schemas the player status uses: the settings (mode, preamp, the untagged default,
// clipping prevention), saved with the player's other output settings, and the gain the playing
// track plays at (the now-playing badge).
import type { ServiceSpec } from './contract.js';
import type { ReplayGainApplied, ReplayGainSettings } from './replay-gain.js';
import { type Infer, s } from './schema.js';

export const replayGainSettings = s.object({
  mode: s.enum(['off', 'track', 'album', 'auto']),
  preampDb: s.number({ min: -15, max: 15 }),
  untaggedDb: s.number({ min: -15, max: 15 }),
  preventClipping: s.boolean(),
});

export const replayGainApplied = s.object({
  source: s.enum(['off', 'untagged', 'track', 'album']),
  gainDb: s.number({ min: -100, max: 100 }),
  limited: s.boolean(),
});

export const replayGainContract = {
  methods: {
    get: { params: s.void(), result: replayGainSettings },
    /** Heard at once, also for the track playing and the one queued after it. */
    set: { params: s.object({ settings: replayGainSettings }), result: s.void() },
  },
  events: {},
} as const satisfies ServiceSpec;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<T extends true>(): T | void {}
assertSame<Same<Infer<typeof replayGainSettings>, ReplayGainSettings>>();
assertSame<Same<Infer<typeof replayGainApplied>, ReplayGainApplied>>();
