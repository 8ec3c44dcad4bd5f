// The messages of the WebSocket transport (the browser shell). The method calls themselves are the
// contract's; this is only the envelope, plus cancel as a message of its own.
import type { RpcErrorData } from './rpc-error.js';
import { s, type Infer } from './schema.js';

export const clientMessage = s.tagged('t', {
  call: s.object({
    t: s.literal('call'),
    id: s.string({ min: 1, max: 64 }),
    service: s.string({ max: 64 }),
    method: s.string({ max: 64 }),
    params: s.optional(s.json()),
  }),
  cancel: s.object({ t: s.literal('cancel'), id: s.string({ min: 1, max: 64 }) }),
});
export type ClientMessage = Infer<typeof clientMessage>;

export type ServerMessage =
  | { t: 'reply'; id: string; ok: true; value: unknown }
  | { t: 'reply'; id: string; ok: false; error: RpcErrorData }
  | { t: 'event'; service: string; event: string; payload: unknown };

/** The path of the WebSocket endpoint; the per-launch token travels as ?token=. */
export const RPC_PATH = '/rpc';
/** The page asks this (its token in an X-StellaTune-Token header) when its connection drops: 204
 * while its launch runs, 401 once the player was restarted with a new token. */
export const LAUNCH_CHECK_PATH = '/launch-check';

/** A call's outcome as the Electron preload hands it over (errors stay structured data). */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: RpcErrorData };

/** The preload's API (window.stellatune), derived from the contract in src-preload. */
export interface BridgeApi {
  services: Record<string, Record<string, (params: unknown, callId: string) => Promise<CallReply>>>;
  cancel(callId: string): void;
  onEvent(listener: (service: string, event: string, payload: unknown) => void): () => void;
  /** The paths of files dropped on the window (the DOM's File objects; Electron's
   * webUtils.getPathForFile). */
  pathsOfFiles(files: readonly object[]): string[];
}
