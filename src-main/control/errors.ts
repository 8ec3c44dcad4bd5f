// Structured errors of the control plane. They cross IPC as plain objects ({code, message, ...}),
// so a caller can tell a timeout from a busy owner from a plugin's own failure.

export type ControlErrorCode =
  | 'timeout' // the request's deadline passed; the plugin op was cancelled
  | 'cancelled' // the caller aborted, or the plugin reported the op cancelled
  | 'busy' // the owner's mailbox is full
  | 'frozen' // the plugin is being reloaded or reconfigured
  | 'disabled' // the plugin is disabled or not loaded
  | 'not_found' // no such plugin or capability
  | 'plugin_error' // the plugin failed the op (status + message)
  | 'malformed_result' // the plugin returned JSON that does not parse or has the wrong shape
  | 'result_too_large' // the plugin returned more than the host accepts
  | 'invalid_argument'; // the request itself is malformed

export interface ControlErrorData {
  code: ControlErrorCode;
  message: string;
  pluginId?: string;
  op?: string;
  /** ABI status name for plugin_error ("not_found", "network", …). */
  status?: string;
}

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  readonly pluginId?: string;
  readonly op?: string;
  readonly status?: string;

  constructor(data: ControlErrorData) {
    super(data.message);
    this.name = 'ControlError';
    this.code = data.code;
    this.pluginId = data.pluginId;
    this.op = data.op;
    this.status = data.status;
  }

  toJSON(): ControlErrorData {
    return { code: this.code, message: this.message, pluginId: this.pluginId, op: this.op, status: this.status };
  }
}
