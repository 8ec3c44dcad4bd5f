# The SDK stands alone: installed to a temporary prefix as a package, the template (copied out of
# the tree) configures with find_package(StellaTuneSDK), builds and passes its own test-kit test;
# the pkg-config file builds the same plugin without CMake.
#   cmake -DBUILD_DIR=… -DTEMPLATE_DIR=… -DWORK_DIR=… -P sdk_install_check.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${prefix})
file(GLOB_RECURSE config ${prefix}/*/StellaTuneSDKConfig.cmake)
file(GLOB_RECURSE pc ${prefix}/*/stellatune-sdk.pc)
if(NOT config OR NOT pc)
  message(FATAL_ERROR "the install lacks StellaTuneSDKConfig.cmake or stellatune-sdk.pc")
endif()

file(COPY ${TEMPLATE_DIR}/ DESTINATION ${WORK_DIR}/src)
run("configure the template" ${CMAKE_COMMAND} -S ${WORK_DIR}/src -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix})
if(NOT last_output MATCHES "using the installed StellaTuneSDK 9")
  message(FATAL_ERROR "the template did not use the installed package:\n${last_output}")
endif()
run("build the template" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run("the template's own test" ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR}/build --output-on-failure)

# pkg-config: the same sources, one compiler line.
get_filename_component(pc_dir ${pc} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run("pkg-config" pkg-config --cflags --libs stellatune-sdk libcjson)
separate_arguments(flags UNIX_COMMAND "${last_output}")
file(GLOB sources ${TEMPLATE_DIR}/*.c)
run("build with pkg-config flags" cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden ${sources} ${flags}
    -o ${WORK_DIR}/folder-source-pc.so)
message(STATUS "SDK package and pkg-config file: the template builds and passes its test")
