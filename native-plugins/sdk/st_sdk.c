/* placeholder */ typedef int st_sdk_placeholder_t;
