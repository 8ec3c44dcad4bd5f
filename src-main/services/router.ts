// The main-side half of the contract: validates every call against src-shared/contract.ts,
// dispatches it to the service handler with an AbortSignal, validates the result, and turns every
// failure into a structured RpcError. Both transports (ipcMain in Electron, the WebSocket server
// of the browser shell) go through a RouterSession: one per connected renderer, which keys
// pending calls by the caller's call id so that a cancel message aborts the right signal, and
// aborts everything when the renderer goes away.
import { EventEmitter } from 'node:events';
import {
  contract,
  findMethod,
  normaliseParams,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type ServiceName,
  type EventName,
  type EventPayload,
  type MethodSpec,
} from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { validate } from '../../src-shared/schema.js';
import type { CallReply } from '../../src-shared/wire.js';
import { ControlError } from '../control/errors.js';
import { stallMonitor } from '../diagnostics/stall-monitor.js';
import { PluginCallError, PluginLoadError, PluginResultTooLarge } from '../plugins/errors.js';

export interface CallContext {
  /** Aborted when the caller cancels or disconnects. */
  signal: AbortSignal;
}

export type ServiceHandlers<S extends ServiceName> = {
  [M in MethodName<S>]: (params: ParamsOf<S, M>, ctx: CallContext) => Promise<ResultOf<S, M>> | ResultOf<S, M>;
};

export type ContractHandlers = { [S in ServiceName]: ServiceHandlers<S> };

/** Maps anything a service throws to the error the caller sees. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof ControlError) return RpcError.from(err.toJSON());
  if (err instanceof PluginLoadError) {
    const notFound = /^no plugin with id/.test(err.message);
    return new RpcError({ code: notFound ? 'not_found' : 'plugin_error', message: err.message, status: err.code });
  }
  if (err instanceof PluginResultTooLarge) return new RpcError({ code: 'result_too_large', message: err.message });
  if (err instanceof PluginCallError) {
    return new RpcError({ code: 'plugin_error', message: err.message, status: err.statusName, op: err.call });
  }
  if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall) {
    return new RpcError({ code: 'io', message: err.message });
  }
  return RpcError.from(err);
}

export interface RouterOptions {
  /** Called for results that do not match the contract (a bug on the serving side). */
  onContractViolation?: (where: string, message: string) => void;
  /** Replaces the secrets the core knows in error messages (a plugin's error may quote its
   * password) before they reach a renderer. */
  scrub?: (text: string) => string;
}

export interface CoreEventMap {
  event: [service: ServiceName, event: string, payload: unknown];
  error: [err: Error];
}

/** Events of every service, validated against the contract before they reach a transport. */
export class CoreEvents extends EventEmitter<CoreEventMap> {
  emitEvent<S extends ServiceName, E extends EventName<S>>(service: S, event: E, payload: EventPayload<S, E>): void {
    const schema = (contract[service].events as Record<string, Parameters<typeof validate>[0]>)[event];
    if (!schema) throw new Error(`no event ${service}.${event} in the contract`);
    const r = validate(schema, payload, { path: `${service}.${event}`, unknownKeys: 'strip' });
    if (!r.ok) {
      this.emit('error', new Error(`event ${service}.${event} does not match the contract: ${r.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`));
      return;
    }
    this.emit('event', service, event, r.value ?? null);
  }
}

export class ContractRouter {
  private readonly sessions = new Set<RouterSession>();

  constructor(
    private readonly handlers: ContractHandlers,
    private readonly opts: RouterOptions = {},
  ) {
    // Every method of the contract must have a handler, and nothing else may be served.
    const missing: string[] = [];
    for (const service of Object.keys(contract) as ServiceName[]) {
      const impl = handlers[service] as Record<string, unknown> | undefined;
      for (const name of Object.keys(contract[service].methods)) {
        if (typeof impl?.[name] !== 'function') missing.push(`${service}.${name}`);
      }
      for (const name of Object.keys(impl ?? {})) {
        if (!(name in contract[service].methods)) missing.push(`${service}.${name} (not in the contract)`);
      }
    }
    if (missing.length > 0) throw new Error(`contract handlers missing or extra: ${missing.join(', ')}`);
  }

  /** One call, validated in and out. Throws RpcError. The stall monitor names what it causes. */
  call(service: string, name: string, params: unknown, signal: AbortSignal): Promise<unknown> {
    return stallMonitor.dispatch(`rpc ${service}.${name}`, () => this.callUnnamed(service, name, params, signal));
  }

  private async callUnnamed(service: string, name: string, params: unknown, signal: AbortSignal): Promise<unknown> {
    const spec = findMethod(service, name);
    if (!spec) throw new RpcError({ code: 'unknown_method', message: `no method ${service}.${name}` });
    const input = validate(spec.params, normaliseParams(spec, params), { path: 'params', unknownKeys: 'reject' });
    if (!input.ok) {
      throw new RpcError({
        code: 'invalid_argument',
        message: `${service}.${name}: ${input.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
        issues: input.issues,
      });
    }
    if (signal.aborted) throw new RpcError({ code: 'cancelled', message: `${service}.${name} was cancelled` });
    const impl = (this.handlers[service as ServiceName] as Record<string, (p: unknown, c: CallContext) => unknown>)[name]!;
    let value: unknown;
    try {
      value = await impl.call(this.handlers[service as ServiceName], input.value, { signal });
    } catch (err) {
      const e = toRpcError(err);
      const scrubbed = this.opts.scrub?.(e.message);
      throw scrubbed === undefined || scrubbed === e.message ? e : new RpcError({ ...e.toJSON(), message: scrubbed });
    }
    return this.checkResult(service, name, spec, value);
  }

  private checkResult(service: string, name: string, spec: MethodSpec, value: unknown): unknown {
    const out = validate(spec.result, value, { path: 'result', unknownKeys: 'strip' });
    if (!out.ok) {
      const message = out.issues.map((i) => `${i.path} ${i.message}`).join('; ');
      this.opts.onContractViolation?.(`${service}.${name}`, message);
      throw new RpcError({ code: 'internal', message: `${service}.${name} returned a result outside the contract: ${message}` });
    }
    return out.value ?? null;
  }

  /** A connected renderer (an Electron webContents, a WebSocket). */
  openSession(label: string): RouterSession {
    const session = new RouterSession(this, label, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  get connections(): number {
    return this.sessions.size;
  }

  get pendingCalls(): number {
    let n = 0;
    for (const s of this.sessions) n += s.pending;
    return n;
  }
}


export class RouterSession {
  private readonly calls = new Map<string, AbortController>();
  private closed = false;

  constructor(
    private readonly router: ContractRouter,
    readonly label: string,
    private readonly onClose: () => void,
  ) {}

  get pending(): number {
    return this.calls.size;
  }

  /** Runs a call; never throws (the reply carries the error). `callId` is the caller's. */
  async call(callId: string, service: string, name: string, params: unknown): Promise<CallReply> {
    if (this.closed) return { ok: false, error: { code: 'disconnected', message: 'the session is closed' } };
    const controller = new AbortController();
    const key = String(callId);
    const duplicate = this.calls.has(key);
    if (!duplicate) this.calls.set(key, controller);
    try {
      if (duplicate) throw new RpcError({ code: 'invalid_argument', message: `call id ${key} is already pending` });
      return { ok: true, value: await this.router.call(service, name, params, controller.signal) };
    } catch (err) {
      return { ok: false, error: toRpcError(err).toJSON() };
    } finally {
      if (!duplicate) this.calls.delete(key);
    }
  }

  /** The caller's cancel message: aborts the call's signal (the owner actor cancels the plugin op). */
  cancel(callId: string): boolean {
    const c = this.calls.get(String(callId));
    if (!c) return false;
    c.abort(new RpcError({ code: 'cancelled', message: 'cancelled by the caller' }));
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.calls.values()) c.abort(new RpcError({ code: 'cancelled', message: 'the caller disconnected' }));
    this.calls.clear();
    this.onClose();
  }
}

export { contract };
export type { ServiceName };
