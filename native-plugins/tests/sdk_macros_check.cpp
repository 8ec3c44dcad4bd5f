// The same plugin skeleton as C++17 (see sdk_macros_check.c).
#include "sdk_macros_check.c"
