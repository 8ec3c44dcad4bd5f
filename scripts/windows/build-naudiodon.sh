#!/usr/bin/env bash
# Cross-builds naudiodon's Node-API addon (the audio process's PortAudio binding) for Windows x64
# with mingw-w64, against the installed naudiodon sources, this machine's Node-API headers and the
# PortAudio DLL that naudiodon ships for Windows. node.exe exports the Node-API functions: an
# import library for the ones the addon uses is made from their names.
#   scripts/windows/build-naudiodon.sh <out dir>   -> <out dir>/naudiodon.node, portaudio_x64.dll
set -euo pipefail
out=$(realpath -m "${1:?usage: build-naudiodon.sh <out dir>}")
repo=$(realpath "$(dirname "$0")/../..")
src=$repo/node_modules/naudiodon
headers=$(dirname "$(node -p 'process.execPath')")/../include/node
[ -f "$headers/node_api.h" ] || headers=/usr/include/node
triple=x86_64-w64-mingw32
mkdir -p "$out"
{
  echo "LIBRARY node.exe"
  echo "EXPORTS"
  grep -ho 'napi_[a-z0-9_]*(' "$src"/src/*.cc "$src"/src/*.h | tr -d '(' | sort -u
} >"$out/node.def"
$triple-dlltool -d "$out/node.def" -l "$out/libnode.a"
cp "$src/portaudio/bin/portaudio_x64.dll" "$out/"
$triple-g++-posix -O2 -std=c++17 -shared -o "$out/naudiodon.node" "$src"/src/*.cc \
  -I"$headers" -I"$src/portaudio/include" "-DNAPI_EXTERN=__declspec(dllimport)" \
  "$out/libnode.a" "$out/portaudio_x64.dll" -static -static-libgcc -static-libstdc++
