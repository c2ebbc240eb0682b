# `cmake --install <build> --prefix P` installs loom for C++ users:
#   P/lib/libloom.so
#   P/include/loom/{core,kernels,autograd,nn,multimodal}/...  (included as "core/tensor.h")
#   P/lib/cmake/loom/loomConfig.cmake, loomConfigVersion.cmake, loomTargets.cmake
# so that a project does find_package(loom) and links loom::loom
# (examples/extension; the ctest `extension` builds it against this install).

# A wheel (scikit-build-core sets SKBUILD_STATE) ships libloom.so inside the
# Python package only (python/CMakeLists.txt): no lib/ or include/ in site-packages.
if(DEFINED SKBUILD_STATE)
  return()
endif()
# Emulator builds are not installable: their headers and kernels assume the
# emulator's fake CUDA runtime (emu/), which is there for testing, not an API.
if(LOOM_CUDA STREQUAL "EMU")
  install(CODE "message(FATAL_ERROR \"loom: a LOOM_CUDA=EMU build cannot be installed; install a CUDA or CPU build\")")
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(LOOM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/loom)

# The installed library finds its non-system dependencies (the CUDA toolkit's
# libraries) where it was linked against them.
set_target_properties(loom PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS loom EXPORT loomTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY core kernels autograd nn multimodal DESTINATION include/loom
        FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh" PATTERN "*.def")
# The headers generated from the op registry (core/ops.def, core/ops_functions.h,
# core/tensor_methods.inc).
install(DIRECTORY ${LOOM_GENERATED_DIR}/core DESTINATION include/loom FILES_MATCHING PATTERN "*.h" PATTERN "*.def"
        PATTERN "*.inc")
install(EXPORT loomTargets NAMESPACE loom:: DESTINATION ${LOOM_CMAKE_DIR})

configure_package_config_file(cmake/loomConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/loomConfig.cmake
                              INSTALL_DESTINATION ${LOOM_CMAKE_DIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/loomConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/loomConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/loomConfigVersion.cmake
        DESTINATION ${LOOM_CMAKE_DIR})

# ctest -L extension: install into the build tree, then build and run
# examples/extension against that install. Sanitized builds are left out: the
# extension would need the same -fsanitize flags and runtime.
if(LOOM_BUILD_TESTS AND NOT LOOM_SANITIZE)
  string(REPLACE ";" "," archs "${CMAKE_CUDA_ARCHITECTURES}")  # a list cannot cross add_test
  add_test(NAME extension COMMAND ${CMAKE_COMMAND}
           -DLOOM_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DLOOM_BUILD_DIR=${CMAKE_BINARY_DIR}
           -DLOOM_CMAKE_DIR=${LOOM_CMAKE_DIR} -DGENERATOR=${CMAKE_GENERATOR}
           -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
           -DCXX_COMPILER=${CMAKE_CXX_COMPILER} -DCUDA_COMPILER=${CMAKE_CUDA_COMPILER} -DCUDA_ARCHITECTURES=${archs}
           -P ${PROJECT_SOURCE_DIR}/tests/extension_test.cmake)
  set_tests_properties(extension PROPERTIES LABELS extension TIMEOUT 600)
endif()
