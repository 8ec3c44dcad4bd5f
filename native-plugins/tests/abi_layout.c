/* abi_layout — prints the C layout of every ABI struct and the ABI's constants as JSON:
 *   {"api_version":9,"pointer_size":8,
 *    "structs":{"st_str_t":{"size":16,"align":8,"fields":{"ptr":0,"len":8}},…},
 *    "constants":{"ST_OK":0,…},"strings":{"ST_PLUGIN_ENTRY_SYMBOL":"stellatune_plugin_entry"}}
 * The TypeScript tests compare their koffi declarations with it; abi_layout_check.cmake proves the
 * lists below cover every struct, field and numeric constant of the headers.
 * Usage: abi_layout [output.json]   (stdout without an argument) */
#include <stddef.h>
#include <stdio.h>

#include "stellatune.h"

static FILE *out;
static int first_struct = 1;
static int first_field;
static int first_constant = 1;

static void struct_begin(const char *name, size_t size, size_t align) {
  fprintf(out, "%s\n    \"%s\": {\"size\": %zu, \"align\": %zu, \"fields\": {", first_struct ? "" : ",",
          name, size, align);
  first_struct = 0;
  first_field = 1;
}

static void field(const char *name, size_t offset) {
  fprintf(out, "%s\"%s\": %zu", first_field ? "" : ", ", name, offset);
  first_field = 0;
}

static void struct_end(void) { fprintf(out, "}}"); }

static void constant(const char *name, unsigned long long value) {
  fprintf(out, "%s\n    \"%s\": %llu", first_constant ? "" : ",", name, value);
  first_constant = 0;
}

#define S(T) struct_begin(#T, sizeof(T), _Alignof(T))
#define F(T, f) field(#f, offsetof(T, f))
#define E() struct_end()
#define C(name) constant(#name, (unsigned long long)(name))

static void structs(void) {
  S(st_str_t); F(st_str_t, ptr); F(st_str_t, len); E();
  S(st_audio_spec_t); F(st_audio_spec_t, sample_rate); F(st_audio_spec_t, channels);
  F(st_audio_spec_t, reserved); E();

  S(st_io_vtable_t); F(st_io_vtable_t, struct_size); F(st_io_vtable_t, reserved);
  F(st_io_vtable_t, read); F(st_io_vtable_t, seek); F(st_io_vtable_t, tell);
  F(st_io_vtable_t, size); E();
  S(st_stream_t); F(st_stream_t, handle); F(st_stream_t, io); E();

  S(st_config_vtable_t); F(st_config_vtable_t, struct_size); F(st_config_vtable_t, reserved);
  F(st_config_vtable_t, plan_update); F(st_config_vtable_t, apply_update);
  F(st_config_vtable_t, export_state); F(st_config_vtable_t, import_state); E();

  S(st_host_t); F(st_host_t, abi_version); F(st_host_t, struct_size); F(st_host_t, host_data);
  F(st_host_t, log); F(st_host_t, data_dir); E();
  S(st_ext_score_t); F(st_ext_score_t, ext); F(st_ext_score_t, score);
  F(st_ext_score_t, reserved0); F(st_ext_score_t, reserved1); E();
  S(st_capability_t); F(st_capability_t, struct_size); F(st_capability_t, kind);
  F(st_capability_t, type_id); F(st_capability_t, display_name);
  F(st_capability_t, config_schema_json); F(st_capability_t, default_config_json);
  F(st_capability_t, decoder_exts); F(st_capability_t, decoder_ext_count);
  F(st_capability_t, reserved); E();
  S(st_instance_args_t); F(st_instance_args_t, struct_size); F(st_instance_args_t, kind);
  F(st_instance_args_t, type_id); F(st_instance_args_t, config_json); F(st_instance_args_t, spec);
  E();
  S(st_instance_vtable_base_t); F(st_instance_vtable_base_t, struct_size);
  F(st_instance_vtable_base_t, kind); F(st_instance_vtable_base_t, config);
  F(st_instance_vtable_base_t, destroy); E();
  S(st_instance_t); F(st_instance_t, handle); F(st_instance_t, vtable); E();
  S(st_module_t); F(st_module_t, abi_version); F(st_module_t, struct_size);
  F(st_module_t, metadata_json); F(st_module_t, capability_count); F(st_module_t, reserved);
  F(st_module_t, capabilities); F(st_module_t, create_instance); F(st_module_t, shutdown);
  F(st_module_t, free_mem); E();

  S(st_async_op_vtable_t); F(st_async_op_vtable_t, struct_size); F(st_async_op_vtable_t, kind);
  F(st_async_op_vtable_t, poll); F(st_async_op_vtable_t, wait); F(st_async_op_vtable_t, cancel);
  F(st_async_op_vtable_t, set_notifier); F(st_async_op_vtable_t, take_json);
  F(st_async_op_vtable_t, take_stream); F(st_async_op_vtable_t, destroy); E();
  S(st_async_op_t); F(st_async_op_t, handle); F(st_async_op_t, vtable); E();

  S(st_source_vtable_t); F(st_source_vtable_t, base); F(st_source_vtable_t, begin_list_items);
  F(st_source_vtable_t, begin_open_stream); F(st_source_vtable_t, close_stream); E();
  S(st_lyrics_vtable_t); F(st_lyrics_vtable_t, base); F(st_lyrics_vtable_t, begin_search);
  F(st_lyrics_vtable_t, begin_fetch); E();

  S(st_decoder_open_args_t); F(st_decoder_open_args_t, struct_size);
  F(st_decoder_open_args_t, reserved); F(st_decoder_open_args_t, path);
  F(st_decoder_open_args_t, ext); F(st_decoder_open_args_t, stream); E();
  S(st_decoder_info_t); F(st_decoder_info_t, struct_size); F(st_decoder_info_t, flags);
  F(st_decoder_info_t, spec); F(st_decoder_info_t, duration_frames);
  F(st_decoder_info_t, encoder_delay_frames); F(st_decoder_info_t, encoder_padding_frames); E();
  S(st_decoder_vtable_t); F(st_decoder_vtable_t, base); F(st_decoder_vtable_t, open);
  F(st_decoder_vtable_t, get_info); F(st_decoder_vtable_t, get_metadata_json);
  F(st_decoder_vtable_t, read_f32); F(st_decoder_vtable_t, seek_ms);
  F(st_decoder_vtable_t, probe); E();
  S(st_decoder_probe_args_t); F(st_decoder_probe_args_t, struct_size);
  F(st_decoder_probe_args_t, reserved); F(st_decoder_probe_args_t, head);
  F(st_decoder_probe_args_t, head_len); F(st_decoder_probe_args_t, ext); E();

  S(st_dsp_vtable_t); F(st_dsp_vtable_t, base); F(st_dsp_vtable_t, process_f32);
  F(st_dsp_vtable_t, reset); F(st_dsp_vtable_t, latency_frames); E();

  S(st_negotiated_spec_t); F(st_negotiated_spec_t, struct_size); F(st_negotiated_spec_t, flags);
  F(st_negotiated_spec_t, spec); F(st_negotiated_spec_t, preferred_chunk_frames);
  F(st_negotiated_spec_t, reserved); E();
  S(st_output_status_t); F(st_output_status_t, struct_size); F(st_output_status_t, running);
  F(st_output_status_t, frames_written); F(st_output_status_t, frames_played);
  F(st_output_status_t, queued_frames); F(st_output_status_t, reserved); E();
  S(st_output_vtable_t); F(st_output_vtable_t, base); F(st_output_vtable_t, list_targets_json);
  F(st_output_vtable_t, negotiate_spec); F(st_output_vtable_t, open);
  F(st_output_vtable_t, write_f32); F(st_output_vtable_t, query_status);
  F(st_output_vtable_t, flush); F(st_output_vtable_t, reset); F(st_output_vtable_t, close); E();
}

static void constants(void) {
  C(ST_PLUGIN_API_VERSION); C(ST_METADATA_MAX_BYTES);
  C(ST_OK); C(ST_ERR_INVALID_ARG); C(ST_ERR_UNSUPPORTED); C(ST_ERR_IO); C(ST_ERR_DECODE);
  C(ST_ERR_INTERNAL); C(ST_ERR_CANCELLED); C(ST_ERR_TIMEOUT); C(ST_ERR_BUSY); C(ST_ERR_NOT_READY);
  C(ST_ERR_NETWORK); C(ST_ERR_NOT_FOUND); C(ST_ERR_AUTH); C(ST_ERR_STATE); C(ST_ERR_PLUGIN_BASE);
  C(ST_LOG_ERROR); C(ST_LOG_WARN); C(ST_LOG_INFO); C(ST_LOG_DEBUG);
  C(ST_CAP_DECODER); C(ST_CAP_DSP); C(ST_CAP_SOURCE_CATALOG); C(ST_CAP_LYRICS_PROVIDER);
  C(ST_CAP_OUTPUT_SINK);
  C(ST_CONFIG_HOT_APPLY); C(ST_CONFIG_RECREATE); C(ST_CONFIG_REJECT);
  C(ST_SEEK_SET); C(ST_SEEK_CUR); C(ST_SEEK_END);
  C(ST_OP_PENDING); C(ST_OP_READY); C(ST_OP_FAILED); C(ST_OP_CANCELLED);
  C(ST_OP_KIND_JSON); C(ST_OP_KIND_STREAM);
  C(ST_DECODER_SEEKABLE); C(ST_DECODER_HAS_DURATION); C(ST_DECODER_LOSSLESS);
  C(ST_DECODER_PROBE_BYTES); C(ST_DECODER_PROBE_CERTAIN); C(ST_DECODER_PROBE_NEUTRAL);
  C(ST_DECODER_VTABLE_SIZE_WITH_PROBE);
  C(ST_NEGOTIATE_EXACT); C(ST_NEGOTIATE_CHANGED_RATE); C(ST_NEGOTIATE_CHANGED_CHANNELS);
}

int main(int argc, char **argv) {
  out = stdout;
  if (argc > 1 && (out = fopen(argv[1], "w")) == NULL) {
    perror(argv[1]);
    return 1;
  }
  fprintf(out, "{\n  \"api_version\": %u,\n  \"pointer_size\": %zu,\n  \"structs\": {",
          ST_PLUGIN_API_VERSION, sizeof(void *));
  structs();
  fprintf(out, "\n  },\n  \"constants\": {");
  constants();
  fprintf(out, "\n  },\n  \"strings\": {\n    \"ST_PLUGIN_ENTRY_SYMBOL\": \"%s\"\n  }\n}\n",
          ST_PLUGIN_ENTRY_SYMBOL);
  return (out != stdout && fclose(out) != 0) ? 1 : 0;
}
