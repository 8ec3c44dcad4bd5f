# The C tests of the built-in plugins: one executable per plugin that dlopens the built plugin
# through tests/include/plugin_harness.h (like the host does) and runs the case named by its first
# argument, registered as one ctest test per case.

set(ST_TEST_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../tests/include)

# st_add_plugin_tests(<plugin> CASES <cases…> [SOURCES <files…>] [ARGS <args…>]
#                     [PROPERTIES <property value…>])
# Registers the test `<id>.<case>` for each case, running `<id>_test <case> <plugin file> <args…>`
# with the given test properties, where <id> is the plugin's target name as a C identifier
# (eq-dsp: eq_dsp). The first call builds <id>_test from SOURCES (default <id>_test.c) with the
# harness on its include path, linked with cJSON; its malloc is exported so that the plugin's
# allocations are counted. Later calls for the same plugin only add cases.
function(st_add_plugin_tests plugin)
  cmake_parse_arguments(ARG "" "" "CASES;SOURCES;ARGS;PROPERTIES" ${ARGN})
  string(MAKE_C_IDENTIFIER ${plugin} id)
  set(exe ${id}_test)
  if(NOT TARGET ${exe})
    if(NOT ARG_SOURCES)
      set(ARG_SOURCES ${exe}.c)
    endif()
    add_executable(${exe} ${ARG_SOURCES})
    target_include_directories(${exe} PRIVATE ${ST_INCLUDE_DIR} ${ST_TEST_INCLUDE_DIR})
    target_compile_options(${exe} PRIVATE ${ST_WARNINGS})
    target_link_libraries(${exe} PRIVATE PkgConfig::CJSON ${CMAKE_DL_LIBS} m)
    set_target_properties(${exe} PROPERTIES ENABLE_EXPORTS ON)
    add_dependencies(${exe} ${plugin})
  endif()
  foreach(c ${ARG_CASES})
    add_test(NAME ${id}.${c} COMMAND ${exe} ${c} $<TARGET_FILE:${plugin}> ${ARG_ARGS})
    if(ARG_PROPERTIES)
      set_tests_properties(${id}.${c} PROPERTIES ${ARG_PROPERTIES})
    endif()
  endforeach()
endfunction()
