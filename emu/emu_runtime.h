// Internal to loom's CUDA emulator: what the files of its runtime share
// (emu_runtime.cpp: the fiber scheduler and launches; emu_runtime_api.cpp:
// the CUDA runtime API; emu_launch.cpp: launch records). The emulator's
// public headers are in include/.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>

namespace emu {

constexpr size_t kDefaultSmem = 48 * 1024;      // dynamic shared memory without cudaFuncSetAttribute
constexpr size_t kMaxSmemOptin = 227 * 1024;    // the most cudaFuncSetAttribute can allow
constexpr size_t kTotalMem = size_t(16) << 30;  // the emulated device's memory

// Per host thread (emu_runtime_api.cpp): the error the next cudaGetLastError
// returns, and the detail cudaGetErrorString gives for a failed launch.
extern thread_local cudaError_t t_last_error;
extern thread_local std::string t_failure;
// Records e (unless it is cudaSuccess) for cudaGetLastError; returns e.
cudaError_t set_error(cudaError_t e);

// The dynamic shared memory a launch may request: 48 KiB, or more when
// cudaFuncSetAttribute raised it for any kernel (launches name kernels through
// a call, not a pointer, so the check is against any kernel's attribute rather
// than this kernel's). emu_runtime_api.cpp.
size_t dynamic_smem_limit();

// emu_launch.cpp: fills a record's name (from the kernel's entry address, or
// `where` when null), resources and occupancy.
void complete_record(LaunchRecord& rec, const void* entry);

}  // namespace emu
