// The error every contract call rejects with, on every transport. It is plain data when it crosses
// a process boundary ({code, message, ...}) and is rebuilt as an RpcError on the calling side, so
// the UI can tell a timeout from a busy plugin from a malformed call.
import type { SchemaIssue } from './schema.js';

export type RpcErrorCode =
  // from the control plane (src-main/control/errors.ts)
  | 'timeout'
  | 'cancelled'
  | 'busy'
  | 'frozen'
  | 'disabled'
  | 'not_found'
  | 'plugin_error'
  | 'malformed_result'
  | 'result_too_large'
  | 'invalid_argument' // the call does not match the contract (see `issues`), or a service refused it
  // from the transports and services
  | 'unknown_method'
  | 'unavailable' // the service cannot do this now (e.g. no audio engine)
  | 'failed_precondition' // a valid call the current state does not allow (e.g. play with an empty queue)
  | 'unauthorized'
  | 'disconnected' // the transport went away while the call was pending
  | 'io' // a file-system operation failed
  | 'internal';

export interface RpcErrorData {
  code: RpcErrorCode;
  message: string;
  pluginId?: string;
  op?: string;
  /** ABI status name for plugin_error. */
  status?: string;
  /** Validation issues for invalid_argument. */
  issues?: SchemaIssue[];
}

const CODES: ReadonlySet<string> = new Set<RpcErrorCode>([
  'timeout', 'cancelled', 'busy', 'frozen', 'disabled', 'not_found', 'plugin_error', 'malformed_result',
  'result_too_large', 'invalid_argument', 'unknown_method', 'unavailable', 'failed_precondition', 'unauthorized', 'disconnected',
  'io', 'internal',
]);

export class RpcError extends Error {
  readonly code: RpcErrorCode;
  readonly pluginId?: string;
  readonly op?: string;
  readonly status?: string;
  readonly issues?: SchemaIssue[];

  constructor(data: RpcErrorData) {
    super(data.message);
    this.name = 'RpcError';
    this.code = data.code;
    if (data.pluginId !== undefined) this.pluginId = data.pluginId;
    if (data.op !== undefined) this.op = data.op;
    if (data.status !== undefined) this.status = data.status;
    if (data.issues !== undefined) this.issues = data.issues;
  }

  toJSON(): RpcErrorData {
    const out: RpcErrorData = { code: this.code, message: this.message };
    if (this.pluginId !== undefined) out.pluginId = this.pluginId;
    if (this.op !== undefined) out.op = this.op;
    if (this.status !== undefined) out.status = this.status;
    if (this.issues !== undefined) out.issues = this.issues;
    return out;
  }

  /** Rebuilds an error that crossed a transport (or wraps anything else as `internal`). */
  static from(value: unknown): RpcError {
    if (value instanceof RpcError) return value;
    if (typeof value === 'object' && value !== null) {
      const v = value as Record<string, unknown>;
      if (typeof v.code === 'string' && CODES.has(v.code) && typeof v.message === 'string') {
        const data: RpcErrorData = { code: v.code as RpcErrorCode, message: v.message };
        if (typeof v.pluginId === 'string') data.pluginId = v.pluginId;
        if (typeof v.op === 'string') data.op = v.op;
        if (typeof v.status === 'string') data.status = v.status;
        if (Array.isArray(v.issues)) data.issues = v.issues as SchemaIssue[];
        return new RpcError(data);
      }
    }
    const message = value instanceof Error ? value.message : String(value);
    return new RpcError({ code: 'internal', message });
  }
}

/** A short sentence for the UI. */
export function describeError(err: unknown): string {
  const e = RpcError.from(err);
  switch (e.code) {
    case 'timeout':
      return `The plugin did not answer in time (${e.message}).`;
    case 'cancelled':
      return 'Cancelled.';
    case 'busy':
      return 'The plugin is busy with too many requests; try again shortly.';
    case 'disabled':
      return `The plugin is disabled or not loaded${e.pluginId ? ` (${e.pluginId})` : ''}.`;
    case 'invalid_argument':
      return e.issues?.length ? `Invalid request: ${e.issues.map((i) => `${i.path} ${i.message}`).join('; ')}` : e.message;
    case 'malformed_result':
      return `The plugin returned a malformed answer: ${e.message}`;
    case 'disconnected':
      return 'Lost the connection to the player core.';
    default:
      return e.message;
  }
}
