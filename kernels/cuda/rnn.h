// CUDA twins of the LSTM / GRU pointwise step kernels (kernels/cuda/rnn.cu):
// the same argument structs and meaning as kernels/cpu/rnn.h (device
// pointers; lengths, when given, is a device int64 array). Enqueued on
// `stream`; nothing synchronizes.
#pragma once
#include <cuda_runtime_api.h>

#include "kernels/cpu/rnn.h"

namespace loom::kernels::cuda {

void rnn_step_forward(RnnCell cell, DType dt, const RnnStepForward& a, cudaStream_t stream);
void rnn_step_backward(RnnCell cell, DType dt, const RnnStepBackward& a, cudaStream_t stream);

}  // namespace loom::kernels::cuda
