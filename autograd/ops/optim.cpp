// sgd_step_ / adam_step_ front ends: checks, then per-tensor CPU kernels or,
// on CUDA, one multi-tensor launch per dtype. The launch reads a table of
// {pointers, numel} slots and {slot, start} chunks that is built on the host
// and copied to a device buffer through the pinned staging of cuda::memcpy
// (non_blocking), so no per-tensor launches and no host synchronization.
#include "autograd/ops/optim.h"
#include "core/op_cost.h"

#include <cstring>
#include <map>

#include "autograd/ops/common.h"
#include "kernels/optim.h"

namespace loom {

namespace {

void check_list(const char* op, const char* what, const TensorList& params, const TensorList& list) {
  LOOM_CHECK(list.size() == params.size(), op, ": expected ", params.size(), " ", what, " (one per parameter), got ",
             list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Tensor& t = list[i];
    const Tensor& p = params[i];
    LOOM_CHECK(t.defined(), op, ": ", what, "[", i, "] is undefined");
    LOOM_CHECK(t.sizes() == p.sizes(), op, ": ", what, "[", i, "] has shape ", t.sizes(), " but parameter ", i,
               " has shape ", p.sizes());
    LOOM_CHECK_TYPE(t.dtype() == p.dtype(), op, ": ", what, "[", i, "] has dtype ", dtype_name(t.dtype()),
                    " but parameter ", i, " has dtype ", dtype_name(p.dtype()));
    LOOM_CHECK(t.device() == p.device(), op, ": ", what, "[", i, "] is on ", t.device().str(), " but parameter ", i,
               " is on ", p.device().str());
  }
}

void check_params(const char* op, const TensorList& params, std::initializer_list<const TensorList*> state) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    LOOM_CHECK(p.defined(), op, ": params[", i, "] is undefined");
    LOOM_CHECK_TYPE(is_floating(p.dtype()), op, ": params[", i, "] must be floating point, got ",
                    dtype_name(p.dtype()));
    LOOM_CHECK(p.is_contiguous(), op, ": params[", i, "] of shape ", p.sizes(), " must be contiguous");
    if (i > 0)
      LOOM_CHECK(p.device() == params[0].device(), op, ": all parameters must be on one device, got ",
                 params[0].device().str(), " and ", p.device().str());
    for (const TensorList* s : state)
      LOOM_CHECK((*s)[i].is_contiguous(), op, ": state tensor ", i, " of shape ", (*s)[i].sizes(),
                 " must be contiguous");
  }
}

// Groups the tensors by dtype and launches `launch(dtype, table, nslots,
// nchunks)` once per group, after copying its table to the device.
template <typename Launch>
void multi_tensor(const TensorList& params, const std::vector<const TensorList*>& lists, Launch&& launch) {
  namespace kg = kernels::cuda;
  const Device dev = params[0].device();
  std::map<DType, std::vector<size_t>> groups;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].numel() > 0) groups[params[i].dtype()].push_back(i);
  for (auto& [dt, idx] : groups) {
    std::vector<kg::TensorSlot> slots;
    std::vector<kg::ChunkRef> chunks;
    for (size_t i : idx) {
      kg::TensorSlot s{};
      s.ptr[0] = params[i].data_ptr();
      for (size_t k = 0; k < lists.size() && k + 1 < kg::kMaxTensorsPerSlot; ++k)
        s.ptr[k + 1] = (*lists[k]).empty() ? nullptr : (*lists[k])[i].data_ptr();
      s.numel = params[i].numel();
      const int32_t slot = static_cast<int32_t>(slots.size());
      slots.push_back(s);
      for (int64_t start = 0; start < s.numel; start += kg::kChunkSize) chunks.push_back({slot, 0, start});
    }
    const size_t bytes = slots.size() * sizeof(kg::TensorSlot) + chunks.size() * sizeof(kg::ChunkRef);
    std::vector<unsigned char> host(bytes);
    std::memcpy(host.data(), slots.data(), slots.size() * sizeof(kg::TensorSlot));
    std::memcpy(host.data() + slots.size() * sizeof(kg::TensorSlot), chunks.data(),
                chunks.size() * sizeof(kg::ChunkRef));
    Tensor table = ops::new_empty({static_cast<int64_t>(bytes)}, DType::Bool, dev);
    cuda::memcpy(table.data_ptr(), dev, host.data(), Device(), bytes, /*non_blocking=*/true);
    const auto* base = static_cast<const unsigned char*>(table.data_ptr());
    launch(dt, reinterpret_cast<const kg::TensorSlot*>(base),
           reinterpret_cast<const kg::ChunkRef*>(base + slots.size() * sizeof(kg::TensorSlot)),
           static_cast<int64_t>(chunks.size()), ops::stream_of(dev));
  }
}

void bump_all(const TensorList& ts) {
  for (const Tensor& t : ts) t.bump_version();
}

}  // namespace

void sgd_step_(TensorList params, TensorList grads, TensorList momentum_buffers, double lr, double momentum,
               double dampening, bool nesterov, double weight_decay, bool first_step) {
  OpScope scope(Op::optim_step, params);
  const char* op = "sgd_step_";
  check_list(op, "grads", params, grads);
  if (momentum != 0.0) check_list(op, "momentum_buffers", params, momentum_buffers);
  else
    LOOM_CHECK(momentum_buffers.empty() || momentum_buffers.size() == params.size(), op,
               ": expected no momentum buffers or one per parameter, got ", momentum_buffers.size());
  LOOM_CHECK_VALUE(!nesterov || (momentum > 0 && dampening == 0), op,
                   ": Nesterov momentum requires a momentum and zero dampening");
  if (momentum == 0.0) momentum_buffers.clear();
  if (scope.observed()) {  // per element: read param and grad (and the buffer), write param (and buffer)
    double n = 0, item = params.empty() ? 4 : double(params[0].element_size());
    for (const Tensor& t : params) n += double(t.numel());
    const double tensors = momentum_buffers.empty() ? 3 : 5;
    scope.set_cost(n * (momentum_buffers.empty() ? 2 : 5) + (weight_decay != 0 ? 2 * n : 0), n * tensors * item);
  }
  for (auto& g : grads) g = g.contiguous();
  check_params(op, params,
               momentum_buffers.empty() ? std::initializer_list<const TensorList*>{}
                                        : std::initializer_list<const TensorList*>{&momentum_buffers});
  if (params.empty()) return;
  autograd::NoGradGuard ng;
  ops::on_device(
      params[0].device(), op,
      [&] {
        for (size_t i = 0; i < params.size(); ++i)
          kernels::cpu::sgd_step(params[i].dtype(), params[i].data_ptr(), grads[i].data_ptr(),
                                 momentum_buffers.empty() ? nullptr : momentum_buffers[i].data_ptr(), params[i].numel(),
                                 lr, momentum, dampening, nesterov, weight_decay, first_step);
      },
      [&](cudaStream_t) {
        multi_tensor(params, {&grads, &momentum_buffers},
                     [&](DType dt, const kernels::cuda::TensorSlot* slots, const kernels::cuda::ChunkRef* chunks,
                         int64_t nchunks, cudaStream_t stream) {
                       kernels::cuda::sgd_step_multi(dt, slots, chunks, nchunks, lr, momentum, dampening, nesterov,
                                                     weight_decay, first_step, stream);
                     });
      });
  bump_all(params);
  bump_all(momentum_buffers);
}

void adam_step_(TensorList params, TensorList grads, TensorList exp_avgs, TensorList exp_avg_sqs, int64_t step,
                double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled, bool amsgrad,
                TensorList max_exp_avg_sqs) {
  OpScope scope(Op::optim_step, params);
  const char* op = decoupled ? "adamw_step_" : "adam_step_";
  LOOM_CHECK_VALUE(amsgrad || max_exp_avg_sqs.empty(), op,
                   ": max_exp_avg_sqs are amsgrad's state; pass amsgrad=True with them");
  LOOM_CHECK_VALUE(step >= 1, op, ": step must be >= 1 (the count after this update), got ", step);
  LOOM_CHECK_VALUE(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, op, ": betas must be in [0, 1), got (", beta1,
                   ", ", beta2, ")");
  check_list(op, "grads", params, grads);
  check_list(op, "exp_avgs", params, exp_avgs);
  check_list(op, "exp_avg_sqs", params, exp_avg_sqs);
  if (amsgrad) check_list(op, "max_exp_avg_sqs", params, max_exp_avg_sqs);
  if (scope.observed()) {  // per element: read param, grad and both moments, write param and both moments
    double n = 0, item = params.empty() ? 4 : double(params[0].element_size());
    for (const Tensor& t : params) n += double(t.numel());
    scope.set_cost(n * 14, n * 7 * item);  // ~14 FLOPs: two moment updates, sqrt, divide, decay, step
  }
  for (auto& g : grads) g = g.contiguous();
  if (amsgrad) check_params(op, params, {&exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs});
  else check_params(op, params, {&exp_avgs, &exp_avg_sqs});
  if (params.empty()) return;
  autograd::NoGradGuard ng;
  ops::on_device(
      params[0].device(), op,
      [&] {
        for (size_t i = 0; i < params.size(); ++i)
          kernels::cpu::adam_step(params[i].dtype(), params[i].data_ptr(), grads[i].data_ptr(), exp_avgs[i].data_ptr(),
                                  exp_avg_sqs[i].data_ptr(), amsgrad ? max_exp_avg_sqs[i].data_ptr() : nullptr,
                                  params[i].numel(), lr, beta1, beta2, eps, weight_decay, decoupled, step);
      },
      [&](cudaStream_t) {
        multi_tensor(params, {&grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs},
                     [&](DType dt, const kernels::cuda::TensorSlot* slots, const kernels::cuda::ChunkRef* chunks,
                         int64_t nchunks, cudaStream_t stream) {
                       kernels::cuda::adam_step_multi(dt, slots, chunks, nchunks, lr, beta1, beta2, eps, weight_decay,
                                                      decoupled, step, stream);
                     });
      });
  bump_all(params);
  bump_all(exp_avgs);
  bump_all(exp_avg_sqs);
  bump_all(max_exp_avg_sqs);
}

}  // namespace loom
