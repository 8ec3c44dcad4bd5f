# System libraries. A missing one stops the build with one line naming the package to install.
find_package(PkgConfig QUIET)
find_package(Threads REQUIRED)

# st_require_pkg(<var> <pkg-config name> <debian package> <homebrew formula>)
function(st_require_pkg var module deb brew)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
  endif()
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "StellaTune needs ${module}: install it with `apt-get install ${deb}` (Debian/Ubuntu) or `brew install ${brew}` (macOS).")
  endif()
endfunction()
