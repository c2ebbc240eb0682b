// What every kernel contract header (kernels/<family>.h) builds on.
//
// A family's header is its contract: the parameter structs and helpers both
// sides share, the CPU kernels (namespace loom::kernels::cpu, defined in
// kernels/cpu/<family>.cpp) and their CUDA twins (loom::kernels::cuda, in
// kernels/cuda/<family>*.cu). A CUDA twin takes the CPU kernel's arguments
// plus the stream it is enqueued on, and sometimes a device workspace or an
// error flag; where it has extra configuration (conv's ConvConfig, pool's
// index width) the header says so.
//
// The rules of the kernel layer:
// - raw pointers (storage offsets applied), sizes and element strides; no
//   Tensor, no autograd;
// - a kernel never allocates: scratch memory is lent by the caller, who asks
//   the matching *_workspace_bytes function for its size;
// - no CUDA launch synchronizes with the host; bad indices found on the device
//   set the per-device error flag the caller passes in, raised at the next
//   sync point (core/cuda.h check_async_errors).
//
// The headers compile without the CUDA toolkit: cudaStream_t is declared
// here exactly as the CUDA runtime declares it. In a build without CUDA the
// cuda:: functions are declared but not defined; front ends reach them only
// through ops::on_device (autograd/ops/common.h), which compiles the CUDA
// branch away.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

typedef struct CUstream_st* cudaStream_t;
