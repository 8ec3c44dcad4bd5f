// The `session` service of the IPC contract (kept in its own file; contract.ts lists it): what
// the renderer keeps across restarts in the core's session files (the last screen, the volume to
// unmute to) and the "keep playing in the background" setting of the browser shell.
import type { ServiceSpec } from './contract.js';
import { type Infer, s } from './schema.js';

export const sessionUi = s.object({
  view: s.nullable(s.string({ max: 64 })),
  volumeBeforeMute: s.nullable(s.number({ min: 0, max: 1 })),
});

export const sessionView = s.object({
  ui: sessionUi,
  keepPlayingInBackground: s.boolean(),
  /** A session that was playing at quit plays on at start (off: it comes back paused). */
  resumePlayback: s.boolean(),
  /** A queue was brought back from the last run. */
  restored: s.boolean(),
});

export const sessionContract = {
  methods: {
    get: { params: s.void(), result: sessionView },
    setUi: {
      params: s.object({ view: s.optional(s.nullable(s.string({ min: 1, max: 64 }))), volumeBeforeMute: s.optional(s.nullable(s.number({ min: 0, max: 1 }))) }),
      result: s.void(),
    },
    setKeepPlayingInBackground: { params: s.object({ on: s.boolean() }), result: s.void() },
    setResumePlayback: { params: s.object({ on: s.boolean() }), result: s.void() },
  },
  events: {},
} as const satisfies ServiceSpec;

export type SessionView = Infer<typeof sessionView>;
