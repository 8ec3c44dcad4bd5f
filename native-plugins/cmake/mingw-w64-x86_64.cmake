# Cross-compiling the plugins, the SDK and the host helper to Windows x64 DLLs from Linux with
# Debian's mingw-w64 (POSIX thread model: winpthreads). Used by scripts/windows/build-plugins.sh:
#   cmake -S native-plugins -B build-win -DCMAKE_TOOLCHAIN_FILE=native-plugins/cmake/mingw-w64-x86_64.cmake \
#         -DCMAKE_PREFIX_PATH=<static Windows deps>
# ctest on the Linux side then runs each test executable under Wine (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(ST_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${ST_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${ST_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${ST_MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${ST_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
find_program(ST_WINE NAMES wine64 wine)
if(ST_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ST_WINE})
endif()
