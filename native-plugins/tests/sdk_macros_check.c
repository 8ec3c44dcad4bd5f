/* sdk_macros_check.c — a minimal plugin written with the SDK's descriptor macros; compiled (never
 * linked) as C11 and, through sdk_macros_check.cpp, as C++17, pedantic, warnings as errors. */
#include "st_sdk.h"

static const st_ext_score_t k_exts[] = {{"xyz", 50, 0, 0}};
static const st_capability_t k_decoder =
    ST_SDK_DECODER_CAPABILITY("check-decoder", "Check decoder", "{}", "{}", k_exts);
static const st_capability_t k_dsp = ST_SDK_CAPABILITY(ST_CAP_DSP, "check-dsp", "Check", "{}", "{}");
static const st_capability_t *const k_caps[] = {&k_decoder, &k_dsp};

static st_status_t check_create(const st_instance_args_t *args, st_instance_t *out_instance,
                                st_str_t *out_error) {
  (void)out_instance;
  return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "no instance of %.*s", (int)args->type_id.len,
                      args->type_id.ptr);
}

static st_status_t check_plan(void *handle, const st_str_t *new_config, st_config_mode_t *out_mode,
                              st_str_t *out_reason) {
  (void)handle;
  (void)new_config;
  (void)out_reason;
  *out_mode = ST_CONFIG_HOT_APPLY;
  return ST_OK;
}
static st_status_t check_apply(void *handle, const st_str_t *new_config, st_str_t *out_error) {
  (void)handle;
  (void)new_config;
  (void)out_error;
  return ST_OK;
}
/* The config vtable of a DSP instance (referenced so that -Werror sees it used). */
static const st_config_vtable_t k_config = ST_SDK_CONFIG_VTABLE(check_plan, check_apply);
const st_config_vtable_t *check_config_vtable(void);
const st_config_vtable_t *check_config_vtable(void) { return &k_config; }

static bool check_entry(const st_host_t *host) { return host != NULL; }
static void check_shutdown(void) {}

ST_SDK_PLUGIN_EX("{\"id\":\"dev.stellatune.check\",\"name\":\"Check\",\"version\":\"0\","
                 "\"abi_version\":9}",
                 k_caps, check_create, check_entry, check_shutdown)
