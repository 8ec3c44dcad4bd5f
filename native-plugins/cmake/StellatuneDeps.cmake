# System libraries. A missing one stops the build with one line naming the package to install.
find_package(PkgConfig QUIET)
find_package(Threads REQUIRED)

# st_require_pkg(<var> <pkg-config name> <debian package> <homebrew formula>)
function(st_require_pkg var module deb brew)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
  endif()
  if(NOT ${var}_FOUND)
    if(WIN32)
      message(FATAL_ERROR "StellaTune needs ${module} for Windows: build it with scripts/windows/build-deps.sh and pass its prefix in PKG_CONFIG_LIBDIR (see the README).")
    endif()
    message(FATAL_ERROR "StellaTune needs ${module}: install it with `apt-get install ${deb}` (Debian/Ubuntu) or `brew install ${brew}` (macOS).")
  endif()
  if(WIN32)
    # Windows plugins link their libraries statically (a plugin DLL imports only system DLLs):
    # the static flags bring the dependencies' own system libraries (ws2_32, crypt32, …) and
    # defines such as CURL_STATICLIB.
    set_property(TARGET PkgConfig::${var} PROPERTY INTERFACE_LINK_LIBRARIES ${${var}_STATIC_LDFLAGS})
    set_property(TARGET PkgConfig::${var} PROPERTY INTERFACE_COMPILE_OPTIONS ${${var}_STATIC_CFLAGS_OTHER})
  endif()
endfunction()
