// Internal to core/rtc.cpp: the CUDA emulator's back end for user kernels
// (core/rtc_emu.cpp, built with -DLOOM_CUDA=EMU only). A user kernel becomes a
// host shared object: its source, rewritten like loom's own .cu files, plus a
// trampoline that runs it through the emulator's launch machinery.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "core/rtc.h"

namespace loom::cuda::detail {

// The trampoline every emulated user kernel exports (its "lowered name"):
// args as for cudaLaunchKernel (one pointer per parameter, to a value of the
// parameter's width), dims = grid x, y, z then block x, y, z. Failures are
// left for cudaGetLastError, as after a real launch.
using EmuEntry = void (*)(void* const* args, const unsigned* dims, size_t shared_mem, void* stream, const char* where);
constexpr const char* kEmuEntrySymbol = "loom_rtc_emu_launch";

// What else an emulated binary depends on besides the kernel's source and
// options (the emulator's headers, the host compiler), for the cache key.
const std::string& emu_cache_tag();

// Rewrites `extern __shared__ T name[];` to the emulator's dynamic shared
// memory, keeping line numbers (emu/rewrite_launches.py's rewrite_smem).
std::string emu_rewrite_smem(const std::string& source);

// The translation unit compiled for kernel `name` (exposed for tests).
std::string emu_translation_unit(const std::string& source, const std::string& name,
                                 const std::vector<KernelParam>& params);

// Compiles kernel `name` to the shared object `so_path` with the host
// compiler. Returns the compiler's warnings; raises with its log on failure.
std::string emu_build(const std::string& source, const std::string& name, const std::vector<KernelParam>& params,
                      const std::vector<std::string>& options, const std::string& arch, const std::string& so_path);

// Loads `so_path` and finds its trampoline; nullptr (and why) if it cannot.
EmuEntry emu_load(const std::string& so_path, std::string* why);

// A directory the emulator may write shared objects to when the cache
// directory is not writable: a private temporary one, removed at exit.
const std::string& emu_scratch_dir();

}  // namespace loom::cuda::detail
