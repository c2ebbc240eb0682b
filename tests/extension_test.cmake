# The ctest `extension` (registered in cmake/install.cmake): does an installed
# loom work for a project outside its tree? Installs this build into
# <build>/extension-test/prefix, configures examples/extension with
# -Dloom_DIR=<prefix>/lib/cmake/loom and the build's compilers and generator,
# builds it and runs it; any failing step, or a run not ending in
# "extension ok", fails the test. Everything is redone from scratch so that a
# header missing from the install cannot hide behind an earlier run.
cmake_minimum_required(VERSION 3.24)
set(work ${LOOM_BUILD_DIR}/extension-test)
file(REMOVE_RECURSE ${work})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "extension test: ${what} failed (${rc})")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

string(TIMESTAMP t0 "%s")
run_step("cmake --install" ${CMAKE_COMMAND} --install ${LOOM_BUILD_DIR} --prefix ${work}/prefix)

set(args -S ${LOOM_SOURCE_DIR}/examples/extension -B ${work}/build -G ${GENERATOR}
    -Dloom_DIR=${work}/prefix/${LOOM_CMAKE_DIR} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(MAKE_PROGRAM)
  list(APPEND args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CUDA_COMPILER)
  # "80;90" would split into two arguments here: it goes in an initial cache file.
  string(REPLACE "," ";" archs "${CUDA_ARCHITECTURES}")
  file(WRITE ${work}/cuda.cmake "set(CMAKE_CUDA_ARCHITECTURES \"${archs}\" CACHE STRING \"\")\n")
  list(APPEND args -DCMAKE_CUDA_COMPILER=${CUDA_COMPILER} -C ${work}/cuda.cmake)
endif()
run_step("configuring examples/extension" ${CMAKE_COMMAND} ${args})
message("${out}")
run_step("building examples/extension" ${CMAKE_COMMAND} --build ${work}/build)

run_step("running swish_extension" ${work}/build/swish_extension)
message("${out}")
if(NOT out MATCHES "extension ok")
  message(FATAL_ERROR "extension test: swish_extension did not print 'extension ok'")
endif()
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
message("extension test: passed in ${secs} s")
