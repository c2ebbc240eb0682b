// Whether this build has CUDA, as a constant the compiler can fold: front ends
// test it with `if constexpr`, so a build without CUDA compiles the CUDA
// branches away (ops::on_device, core/dispatch.h). It is the only header whose
// text depends on LOOM_WITH_CUDA: code that does not include it compiles to the
// same preprocessed text in the CPU-only, CUDA and emulator builds, so the
// builds share those objects through ccache. Elsewhere, ask at run time
// (cuda::built_with_cuda(), core/cuda.h).
#pragma once

namespace loom::cuda {

// True in a build with CUDA (the emulator's included).
#ifdef LOOM_WITH_CUDA
inline constexpr bool kBuiltWithCuda = true;
#else
inline constexpr bool kBuiltWithCuda = false;
#endif

}  // namespace loom::cuda
