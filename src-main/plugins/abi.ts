// The koffi declarations of the StellaTune plugin ABI v9 (native-plugins/include/stellatune/).
//
// This is the only module that names C types. koffi registers type names per thread, so each
// thread that imports this module (the main thread, the decode worker) gets its own copy of the
// declarations; pointers cross threads as bigint. A test compares every struct declared here with
// the C compiler's sizeof/offsetof (native-plugins/tests/abi_layout.c).
import koffi, { type TypeObject } from 'koffi';

/** A C function made callable by koffi. `async` runs it on libuv's thread pool. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeFn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

export const ST_PLUGIN_API_VERSION = 9;
export const ST_PLUGIN_ENTRY_SYMBOL = 'stellatune_plugin_entry';
export const ST_METADATA_MAX_BYTES = 65536;

export const Status = {
  OK: 0,
  INVALID_ARG: 1,
  UNSUPPORTED: 2,
  IO: 3,
  DECODE: 4,
  INTERNAL: 5,
  CANCELLED: 6,
  TIMEOUT: 7,
  BUSY: 8,
  NOT_READY: 9,
  NETWORK: 10,
  NOT_FOUND: 11,
  AUTH: 12,
  STATE: 13,
} as const;

const statusNames = new Map<number, string>(
  Object.entries(Status).map(([name, code]) => [code, name.toLowerCase()]),
);

/** A readable name for an ABI status code ("not_found", "plugin_1003"). */
export function statusName(code: number): string {
  return statusNames.get(code) ?? (code >= 1000 ? `plugin_${code}` : `status_${code}`);
}

export const CapabilityKind = {
  DECODER: 1,
  DSP: 2,
  SOURCE_CATALOG: 3,
  LYRICS_PROVIDER: 4,
  OUTPUT_SINK: 5,
} as const;
export type CapabilityKindCode = (typeof CapabilityKind)[keyof typeof CapabilityKind];

export const OpState = { PENDING: 0, READY: 1, FAILED: 2, CANCELLED: 3 } as const;
export const OpKind = { JSON: 1, STREAM: 2 } as const;
export const ConfigMode = { HOT_APPLY: 1, RECREATE: 2, REJECT: 3 } as const;
export const LogLevel = { ERROR: 1, WARN: 2, INFO: 3, DEBUG: 4 } as const;
export const DecoderFlags = { SEEKABLE: 1, HAS_DURATION: 2, LOSSLESS: 4 } as const;
/** decoder.h, "Choosing by content". */
export const DecoderProbe = { BYTES: 65536, CERTAIN: 100, NEUTRAL: 50 } as const;
export const SeekWhence = { SET: 0, CUR: 1, END: 2 } as const;

/** A raw native pointer. Only the plugin runtime (src-main/plugins) handles these. */
export type Pointer = bigint;

// ---- Structs ----------------------------------------------------------------------------------

// Output strings keep their pointer (the host frees it with the module's free_mem); input strings
// are borrowed, so koffi may marshal a JS string into a temporary buffer for the call.
export const StStr = koffi.struct('st_str_t', { ptr: 'void *', len: 'size_t' });
export const StStrIn = koffi.struct('st_str_in_t', { ptr: 'const char *', len: 'size_t' });
export const StAudioSpec = koffi.struct('st_audio_spec_t', {
  sample_rate: 'uint32_t',
  channels: 'uint16_t',
  reserved: 'uint16_t',
});

export const StIoVtable = koffi.struct('st_io_vtable_t', {
  struct_size: 'uint32_t',
  reserved: 'uint32_t',
  read: 'void *',
  seek: 'void *',
  tell: 'void *',
  size: 'void *',
});
export const StStream = koffi.struct('st_stream_t', { handle: 'void *', io: 'void *' });

export const StAsyncOpVtable = koffi.struct('st_async_op_vtable_t', {
  struct_size: 'uint32_t',
  kind: 'uint32_t',
  poll: 'void *',
  wait: 'void *',
  cancel: 'void *',
  set_notifier: 'void *',
  take_json: 'void *',
  take_stream: 'void *',
  destroy: 'void *',
});
export const StAsyncOp = koffi.struct('st_async_op_t', { handle: 'void *', vtable: 'void *' });

export const StConfigVtable = koffi.struct('st_config_vtable_t', {
  struct_size: 'uint32_t',
  reserved: 'uint32_t',
  plan_update: 'void *',
  apply_update: 'void *',
  export_state: 'void *',
  import_state: 'void *',
});

export const StHost = koffi.struct('st_host_t', {
  abi_version: 'uint32_t',
  struct_size: 'uint32_t',
  host_data: 'void *',
  log: 'void *',
  data_dir: 'void *',
});

export const StExtScore = koffi.struct('st_ext_score_t', {
  ext: 'const char *',
  score: 'uint16_t',
  reserved0: 'uint16_t',
  reserved1: 'uint32_t',
});

export const StCapability = koffi.struct('st_capability_t', {
  struct_size: 'uint32_t',
  kind: 'uint32_t',
  type_id: 'const char *',
  display_name: 'const char *',
  config_schema_json: 'const char *',
  default_config_json: 'const char *',
  decoder_exts: 'void *',
  decoder_ext_count: 'uint32_t',
  reserved: 'uint32_t',
});

export const StInstanceArgs = koffi.struct('st_instance_args_t', {
  struct_size: 'uint32_t',
  kind: 'uint32_t',
  type_id: StStrIn,
  config_json: StStrIn,
  spec: StAudioSpec,
});

export const StInstanceVtableBase = koffi.struct('st_instance_vtable_base_t', {
  struct_size: 'uint32_t',
  kind: 'uint32_t',
  config: 'void *',
  destroy: 'void *',
});
export const StInstance = koffi.struct('st_instance_t', { handle: 'void *', vtable: 'void *' });

export const StModule = koffi.struct('st_module_t', {
  abi_version: 'uint32_t',
  struct_size: 'uint32_t',
  metadata_json: 'void *',
  capability_count: 'uint32_t',
  reserved: 'uint32_t',
  capabilities: 'void *',
  create_instance: 'void *',
  shutdown: 'void *',
  free_mem: 'void *',
});

export const StSourceVtable = koffi.struct('st_source_vtable_t', {
  base: StInstanceVtableBase,
  begin_list_items: 'void *',
  begin_open_stream: 'void *',
  close_stream: 'void *',
});
export const StLyricsVtable = koffi.struct('st_lyrics_vtable_t', {
  base: StInstanceVtableBase,
  begin_search: 'void *',
  begin_fetch: 'void *',
});

export const StDecoderOpenArgs = koffi.struct('st_decoder_open_args_t', {
  struct_size: 'uint32_t',
  reserved: 'uint32_t',
  path: StStrIn,
  ext: StStrIn,
  stream: StStream,
});
export const StDecoderInfo = koffi.struct('st_decoder_info_t', {
  struct_size: 'uint32_t',
  flags: 'uint32_t',
  spec: StAudioSpec,
  duration_frames: 'uint64_t',
  encoder_delay_frames: 'uint32_t',
  encoder_padding_frames: 'uint32_t',
});
export const StDecoderProbeArgs = koffi.struct('st_decoder_probe_args_t', {
  struct_size: 'uint32_t',
  reserved: 'uint32_t',
  head: 'void *',
  head_len: 'size_t',
  ext: StStrIn,
});
/** The decoder vtable as the first ABI 9 release laid it out (plugins built then end here). */
export const StDecoderVtableV9 = koffi.struct('st_decoder_vtable_v9_t', {
  base: StInstanceVtableBase,
  open: 'void *',
  get_info: 'void *',
  get_metadata_json: 'void *',
  read_f32: 'void *',
  seek_ms: 'void *',
});
/** The current decoder vtable: the probe slot, read only when base.struct_size covers it. */
export const StDecoderVtable = koffi.struct('st_decoder_vtable_t', {
  base: StInstanceVtableBase,
  open: 'void *',
  get_info: 'void *',
  get_metadata_json: 'void *',
  read_f32: 'void *',
  seek_ms: 'void *',
  probe: 'void *',
});

export const StDspVtable = koffi.struct('st_dsp_vtable_t', {
  base: StInstanceVtableBase,
  process_f32: 'void *',
  reset: 'void *',
  latency_frames: 'void *',
});

export const StNegotiatedSpec = koffi.struct('st_negotiated_spec_t', {
  struct_size: 'uint32_t',
  flags: 'uint32_t',
  spec: StAudioSpec,
  preferred_chunk_frames: 'uint32_t',
  reserved: 'uint32_t',
});
export const StOutputStatus = koffi.struct('st_output_status_t', {
  struct_size: 'uint32_t',
  running: 'uint32_t',
  frames_written: 'uint64_t',
  frames_played: 'uint64_t',
  queued_frames: 'uint32_t',
  reserved: 'uint32_t',
});
export const StOutputVtable = koffi.struct('st_output_vtable_t', {
  base: StInstanceVtableBase,
  list_targets_json: 'void *',
  negotiate_spec: 'void *',
  open: 'void *',
  write_f32: 'void *',
  query_status: 'void *',
  flush: 'void *',
  reset: 'void *',
  close: 'void *',
});

/** Every struct above by its C name, for the layout test. */
export const abiStructs: Record<string, TypeObject> = {
  st_str_t: StStr,
  st_audio_spec_t: StAudioSpec,
  st_io_vtable_t: StIoVtable,
  st_stream_t: StStream,
  st_async_op_vtable_t: StAsyncOpVtable,
  st_async_op_t: StAsyncOp,
  st_config_vtable_t: StConfigVtable,
  st_host_t: StHost,
  st_ext_score_t: StExtScore,
  st_capability_t: StCapability,
  st_instance_args_t: StInstanceArgs,
  st_instance_vtable_base_t: StInstanceVtableBase,
  st_instance_t: StInstance,
  st_module_t: StModule,
  st_source_vtable_t: StSourceVtable,
  st_lyrics_vtable_t: StLyricsVtable,
  st_decoder_open_args_t: StDecoderOpenArgs,
  st_decoder_info_t: StDecoderInfo,
  st_decoder_vtable_t: StDecoderVtable,
  st_decoder_probe_args_t: StDecoderProbeArgs,
  st_dsp_vtable_t: StDspVtable,
  st_negotiated_spec_t: StNegotiatedSpec,
  st_output_status_t: StOutputStatus,
  st_output_vtable_t: StOutputVtable,
};

// ---- Function prototypes ----------------------------------------------------------------------
// Out parameters that koffi should marshal back are `_Out_`; realtime paths instead pass typed
// arrays as pointers (zero-copy, no per-call allocation).

export const Proto = {
  entry: koffi.proto('void *st_plugin_entry_fn(void *host)'),
  logCallback: koffi.proto('void st_log_fn(void *host_data, uint32_t level, void *message, size_t len)'),
  notifyCallback: koffi.proto('void st_op_notify_fn(void *user_data)'),
  freeMem: koffi.proto('void st_free_mem_fn(void *ptr)'),
  shutdown: koffi.proto('void st_shutdown_fn(void)'),
  createInstance: koffi.proto(
    'int32_t st_create_instance_fn(const st_instance_args_t *args, _Out_ st_instance_t *out_instance, _Out_ st_str_t *out_error)',
  ),
  destroy: koffi.proto('void st_destroy_fn(void *handle)'),

  opPoll: koffi.proto('uint32_t st_op_poll_fn(void *handle)'),
  opWait: koffi.proto('uint32_t st_op_wait_fn(void *handle, uint32_t timeout_ms)'),
  opCancel: koffi.proto('void st_op_cancel_fn(void *handle)'),
  opSetNotifier: koffi.proto('void st_op_set_notifier_fn(void *handle, void *notify, void *user_data)'),
  opTakeJson: koffi.proto('int32_t st_op_take_json_fn(void *handle, _Out_ st_str_t *out_json)'),
  opTakeStream: koffi.proto(
    'int32_t st_op_take_stream_fn(void *handle, _Out_ st_stream_t *out_stream, _Out_ st_str_t *out_json)',
  ),
  opDestroy: koffi.proto('void st_op_destroy_fn(void *handle)'),

  configPlan: koffi.proto(
    'int32_t st_config_plan_fn(void *handle, const st_str_in_t *new_config, _Out_ uint32_t *out_mode, _Out_ st_str_t *out_reason)',
  ),
  configApply: koffi.proto(
    'int32_t st_config_apply_fn(void *handle, const st_str_in_t *new_config, _Out_ st_str_t *out_error)',
  ),
  configExport: koffi.proto(
    'int32_t st_config_export_fn(void *handle, _Out_ st_str_t *out_state, _Out_ st_str_t *out_error)',
  ),
  configImport: koffi.proto(
    'int32_t st_config_import_fn(void *handle, const st_str_in_t *state, _Out_ st_str_t *out_error)',
  ),

  beginJsonOp: koffi.proto(
    'int32_t st_begin_json_op_fn(void *handle, const st_str_in_t *request_json, _Out_ st_async_op_t *out_op)',
  ),
  closeStream: koffi.proto('void st_close_stream_fn(void *handle, void *stream_handle)'),

  ioRead: koffi.proto('int32_t st_io_read_fn(void *handle, void *buf, size_t len, void *out_read)'),
  ioSeek: koffi.proto(
    'int32_t st_io_seek_fn(void *handle, int64_t offset, uint32_t whence, void *out_pos)',
  ),
  ioTell: koffi.proto('int32_t st_io_tell_fn(void *handle, void *out_pos)'),
  ioSize: koffi.proto('int32_t st_io_size_fn(void *handle, void *out_size)'),

  decoderOpen: koffi.proto(
    'int32_t st_decoder_open_fn(void *handle, const st_decoder_open_args_t *args, _Out_ st_str_t *out_error)',
  ),
  decoderGetInfo: koffi.proto(
    'int32_t st_decoder_get_info_fn(void *handle, _Inout_ st_decoder_info_t *out_info)',
  ),
  decoderMetadata: koffi.proto(
    'int32_t st_decoder_metadata_fn(void *handle, _Out_ st_str_t *out_json)',
  ),
  decoderRead: koffi.proto(
    'int32_t st_decoder_read_fn(void *handle, void *out, uint32_t frames, void *out_frames)',
  ),
  decoderSeek: koffi.proto(
    'int32_t st_decoder_seek_fn(void *handle, uint64_t position_ms, void *out_position_frames)',
  ),
  decoderProbe: koffi.proto('uint32_t st_decoder_probe_fn(void *handle, const st_decoder_probe_args_t *args)'),

  dspProcess: koffi.proto('void st_dsp_process_fn(void *handle, void *samples, uint32_t frames)'),
  dspReset: koffi.proto('void st_dsp_reset_fn(void *handle)'),
  dspLatency: koffi.proto('uint32_t st_dsp_latency_fn(void *handle)'),

  outputListTargets: koffi.proto(
    'int32_t st_output_list_targets_fn(void *handle, _Out_ st_str_t *out_json, _Out_ st_str_t *out_error)',
  ),
  outputNegotiate: koffi.proto(
    'int32_t st_output_negotiate_fn(void *handle, const st_str_in_t *target_json, const st_audio_spec_t *desired, _Inout_ st_negotiated_spec_t *out_spec, _Out_ st_str_t *out_error)',
  ),
  outputOpen: koffi.proto(
    'int32_t st_output_open_fn(void *handle, const st_str_in_t *target_json, const st_audio_spec_t *spec, _Out_ st_str_t *out_error)',
  ),
  outputWrite: koffi.proto(
    'int32_t st_output_write_fn(void *handle, void *samples, uint32_t frames, void *out_accepted)',
  ),
  outputQueryStatus: koffi.proto(
    'int32_t st_output_query_status_fn(void *handle, _Inout_ st_output_status_t *out_status)',
  ),
  outputSimple: koffi.proto('int32_t st_output_simple_fn(void *handle)'),
} as const;

/** Turns a function pointer into a callable, or null when the slot is empty. */
export function fnOrNull(ptr: Pointer | null, proto: TypeObject): NativeFn | null {
  if (ptr === null || ptr === 0n) return null;
  return koffi.decode(ptr, proto) as NativeFn;
}

/** A borrowed input string for a `const st_str_t *` parameter. */
export function strIn(text: string): { ptr: string; len: number } {
  return { ptr: text, len: Buffer.byteLength(text, 'utf8') };
}

/** An empty output string slot for an `_Out_ st_str_t *` parameter. */
export function strOut(): { ptr: Pointer | null; len: number | bigint } {
  return { ptr: null, len: 0 };
}

export type RawStr = { ptr: Pointer | null; len: number | bigint };

/** Decodes (without freeing) a plugin-returned string. */
export function readStr(raw: RawStr): string {
  if (raw.ptr === null || raw.ptr === 0n) return '';
  const len = Number(raw.len);
  if (len === 0) return '';
  return koffi.decode.string(raw.ptr, len);
}

/** The size in bytes of a declared struct. */
export function sizeOf(type: TypeObject): number {
  return koffi.sizeof(type);
}
