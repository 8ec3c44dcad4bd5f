// Structured errors of the plugin runtime. Every failure that reaches a caller (and, later, the
// UI) carries a stable machine-readable code and a human-readable message.

export type PluginLoadErrorCode =
  | 'not_a_library' // dlopen refused the file
  | 'missing_entry' // no stellatune_plugin_entry symbol
  | 'wrong_abi' // module abi_version differs from ST_PLUGIN_API_VERSION
  | 'entry_null' // the entry returned NULL
  | 'bad_module' // struct_size too small, or a capability table that cannot be read
  | 'bad_metadata' // metadata JSON malformed or missing required fields
  | 'metadata_too_large' // metadata over ST_METADATA_MAX_BYTES
  | 'duplicate_id' // another library already provides this plugin id
  | 'quarantined' // this build crashed the player before (quarantine.ts)
  | 'io'; // the file could not be copied or read

export class PluginLoadError extends Error {
  constructor(
    readonly code: PluginLoadErrorCode,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'PluginLoadError';
  }

  toJSON(): { code: PluginLoadErrorCode; message: string; path: string } {
    return { code: this.code, message: this.message, path: this.path };
  }
}

/**
 * A plugin returned a string longer than the host accepts. It is refused by its length, before a
 * byte of it is copied: decoding 600 MB into a JS string costs gigabytes (and segfaults past V8's
 * string limit), which no result is worth.
 */
export class PluginResultTooLarge extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the plugin returned ${bytes} bytes (limit ${limit})`);
    this.name = 'PluginResultTooLarge';
  }
}

/** A failed call into a plugin: the ABI status code, its name and the plugin's message. */
export class PluginCallError extends Error {
  constructor(
    readonly status: number,
    readonly statusName: string,
    message: string,
    readonly call: string,
  ) {
    super(message || `${call} failed: ${statusName}`);
    this.name = 'PluginCallError';
  }
}
