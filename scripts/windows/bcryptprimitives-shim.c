/* bcryptprimitives-shim.c — ProcessPrng for Wine 8, which has no bcryptprimitives.dll. The Rust
 * standard library (in rolldown's native binding, which vitest loads) imports ProcessPrng from it
 * on Windows 10+; this forwards to RtlGenRandom. Test tooling only: built by
 * scripts/windows/node-tests.sh next to the Windows node.exe, never shipped. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000u ? 0x10000000u : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
