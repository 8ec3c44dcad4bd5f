#!/usr/bin/env bash
# Builds the plugins' third-party libraries for Windows x64 as static mingw-w64 libraries, from
# Debian's own source packages (Debian ships no mingw builds of them): libcurl (HTTP(S) only,
# Schannel TLS, no other external libraries), libsndfile (its built-in formats, no external
# codecs), cJSON.
#   scripts/windows/build-deps.sh <scratch dir>   -> <scratch dir>/prefix (include/, lib/, lib/pkgconfig/)
# apt-get source runs through a private apt configuration with a deb-src entry, so the machine's
# own apt setup is left alone.
set -euo pipefail
work=$(realpath -m "${1:?usage: build-deps.sh <scratch dir>}")
prefix=$work/prefix
triple=x86_64-w64-mingw32
toolchain=$(realpath "$(dirname "$0")/../../native-plugins/cmake/mingw-w64-x86_64.cmake")
jobs=$(nproc)
mkdir -p "$work/src" "$prefix"

apt_dir=$work/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
. /etc/os-release
cat >"$apt_dir/sources.list" <<LIST
deb-src http://deb.debian.org/debian $VERSION_CODENAME main
deb-src http://deb.debian.org/debian-security $VERSION_CODENAME-security main
LIST
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
(cd "$work/src" && apt-get "${apt_opts[@]}" source -qq curl libsndfile cjson >/dev/null 2>&1)

src() { find "$work/src" -maxdepth 1 -mindepth 1 -type d -name "$1-*" | head -1; }
cmake_dep() { # <source dir> <build dir> <options…>
  local s=$1 b=$2
  shift 2
  cmake -S "$s" -B "$b" -G "Unix Makefiles" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_TESTING=OFF -DCMAKE_CROSSCOMPILING_EMULATOR= "$@" >"$b.log" 2>&1 ||
    { tail -40 "$b.log"; return 1; }
  cmake --build "$b" -j"$jobs" >>"$b.log" 2>&1 && cmake --install "$b" >>"$b.log" 2>&1 ||
    { tail -40 "$b.log"; return 1; }
}

# cJSON and libsndfile (CMake) in the background while curl builds with its own mingw makefile,
# lib/Makefile.mk, which needs no configure step (curl's CMake configure alone runs hundreds of
# compile checks).
(
  cmake_dep "$(src cjson)" "$work/build-cjson" -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF \
    -DENABLE_CUSTOM_COMPILER_FLAGS=OFF -DBUILD_SHARED_AND_STATIC_LIBS=OFF
  cmake_dep "$(src libsndfile)" "$work/build-sndfile" -DENABLE_EXTERNAL_LIBS=OFF -DENABLE_MPEG=OFF \
    -DBUILD_PROGRAMS=OFF -DBUILD_EXAMPLES=OFF -DENABLE_CPACK=OFF -DINSTALL_PKGCONFIG_MODULE=ON \
    -DINSTALL_MANPAGES=OFF -DBUILD_REGTEST=OFF
) &
cmake_deps=$!

curl_src=$(src curl)
mkdir -p "$curl_src/lib/obj"
# HTTP(S) only (all the plugins use): the other protocols compile to nothing, and LDAP would need
# wldap32. Flags through the environment, which the makefile's own += append to.
CFLAGS=-O2 CPPFLAGS=-DHTTP_ONLY make -C "$curl_src/lib" -f Makefile.mk -j"$jobs" \
  CC=$triple-gcc-posix AR=$triple-ar CFG=-schannel-sspi-ipv6 OBJ_DIR=obj libcurl.a >"$work/build-curl.log" 2>&1 || { tail -40 "$work/build-curl.log"; exit 1; }
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp -r "$curl_src/include/curl" "$prefix/include/"
cp "$curl_src/lib/libcurl.a" "$prefix/lib/"
version=$(sed -n 's/^#define LIBCURL_VERSION "\(.*\)"/\1/p' "$curl_src/include/curl/curlver.h")
# CURL_STATICLIB: without it the headers declare dllimport functions a static libcurl lacks.
cat >"$prefix/lib/pkgconfig/libcurl.pc" <<PC
prefix=$prefix
Name: libcurl
Description: Library to transfer files with URLs (static, Schannel)
Version: $version
Libs: -L\${prefix}/lib -lcurl -lws2_32 -lcrypt32 -lbcrypt -lsecur32 -ladvapi32
Cflags: -I\${prefix}/include -DCURL_STATICLIB
PC
wait "$cmake_deps"
echo "Windows deps in $prefix"
