#!/usr/bin/env bash
# Builds the plugins' third-party libraries for Windows x64 as static mingw-w64 libraries, from
# Debian's own source packages (Debian ships no mingw builds of them): libcurl (Schannel TLS, no
# other external libraries), libsndfile (its built-in formats, no external codecs), cJSON.
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
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_TESTING=OFF "$@" >"$b.log" 2>&1 ||
    { tail -40 "$b.log"; return 1; }
  cmake --build "$b" -j"$jobs" >>"$b.log" 2>&1 && cmake --install "$b" >>"$b.log" 2>&1 ||
    { tail -40 "$b.log"; return 1; }
}

cmake_dep "$(src cjson)" "$work/build-cjson" -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF \
  -DENABLE_CUSTOM_COMPILER_FLAGS=OFF -DBUILD_SHARED_AND_STATIC_LIBS=OFF
cmake_dep "$(src libsndfile)" "$work/build-sndfile" -DENABLE_EXTERNAL_LIBS=OFF -DENABLE_MPEG=OFF \
  -DBUILD_PROGRAMS=OFF -DBUILD_EXAMPLES=OFF -DENABLE_CPACK=OFF -DINSTALL_PKGCONFIG_MODULE=ON \
  -DINSTALL_MANPAGES=OFF -DBUILD_REGTEST=OFF
cmake_dep "$(src curl)" "$work/build-curl" -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF \
  -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_LIBIDN2=OFF -DUSE_NGHTTP2=OFF \
  -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_DISABLE_LDAP=ON -DBUILD_CURL_EXE=OFF \
  -DENABLE_MANUAL=OFF -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none
# curl's CMake writes no -DCURL_STATICLIB into libcurl.pc; without it the headers declare
# dllimport functions that a static libcurl does not have.
sed -i 's/^Cflags: \(.*\)$/Cflags: \1 -DCURL_STATICLIB/' "$prefix/lib/pkgconfig/libcurl.pc"
echo "Windows deps in $prefix"
