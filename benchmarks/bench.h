// The benchmark harness shared by the case files: JSON rows, the timers and
// the reporter. Case names, FLOP and byte formulas: shared/bench/SPEC.md.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bench {

// One JSON object printed on one line; values are encoded as they are added.
class Row {
 public:
  Row& str(const std::string& key, const std::string& value);
  Row& num(const std::string& key, double value);  // rounded to ~4 significant digits, never exponent form
  Row& fixed(const std::string& key, double value, int decimals);
  Row& integer(const std::string& key, int64_t value);
  Row& boolean(const std::string& key, bool value);
  Row& merge(const Row& other);
  std::string json() const;
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

std::string json_escape(const std::string& s);

struct Context {
  std::vector<std::string> filters;  // substrings; empty = every case
  int iters = 0;                     // --iters; 0 = each case's default
  std::FILE* out = nullptr;          // --out, besides stdout

  bool want(const std::string& name) const;
  int iters_or(int dflt) const { return iters > 0 ? iters : dflt; }
  void emit(const Row& row) const;
  // A timed result: ms (median) plus tflops = flops / ms / 1e9 and gbps =
  // bytes / ms / 1e6 where given (> 0), and any extra keys.
  void report(const std::string& name, double ms, double flops, double bytes, const Row& extra = Row(),
              const std::string& impl = "loom") const;
  void skip(const std::string& name, const std::string& reason) const;
  // Runs body() and turns an exception into an {"case", "impl", "error"} row,
  // so one failing case does not end the run. Skips cases the filter excludes.
  void run(const std::string& name, const std::function<void()>& body) const;
};

// Median milliseconds of `iters` timed calls after `warmup` untimed ones.
// CPU: steady_clock around each call (CPU ops are synchronous).
double time_cpu(const std::function<void()>& fn, int iters, int warmup);
// GPU: CUDA events recorded on the current stream around each call, waiting
// on the end event every iteration. Raises in a build without CUDA.
double time_gpu(const std::function<void()>& fn, int iters, int warmup);
// Peak device memory (MiB, peak_allocated_bytes) over one call of fn, which
// includes the tensors alive before the call (inputs, parameters, .grad).
double gpu_peak_mib(const std::function<void()>& fn);

// The counts of shared/bench/torch_cpu_reference.py and torch_reference.py:
// CPU cases 10 timed iterations after 2 warm-up ones on kCpuThreads threads,
// GPU cases 50 after 10 (a case file may use others where SPEC.md says so).
constexpr int kCpuThreads = 2;
constexpr int kCpuWarmup = 2, kCpuIters = 10;
constexpr int kGpuWarmup = 10, kGpuIters = 50;

// The impl of the composed forms (chains of generic ops, composed.cpp) that
// stay as a variant beside the fused kernels, which report impl "loom".
extern const char* const kComposed;

// {"threads": loom::get_num_threads()}, the extra key of the CPU rows.
Row cpu_extra();
// The current CUDA device, and tensor options on it.
loom::Device current_gpu();
loom::TensorOptions on_gpu(bool requires_grad = false);
// Whether the filter selects any of `names` (to skip a shared setup).
bool any_wanted(const Context& ctx, std::initializer_list<std::string> names);
// Times fn on the GPU and reports it with the peak device memory of one more call.
void timed(const Context& ctx, const std::string& name, const std::function<void()>& fn, double flops, double bytes,
           int iters = kGpuIters, int warmup = kGpuWarmup, Row extra = Row(), const std::string& impl = "loom");
// A case with a CPU and a GPU twin: on the GPU as timed() (kGpuIters after
// kGpuWarmup, with peak_mib), on the CPU time_cpu (kCpuIters after kCpuWarmup)
// with cpu_extra() before `extra`.
void timed_on(const Context& ctx, bool gpu, const std::string& name, const std::function<void()>& fn, double flops,
              double bytes, const Row& extra = Row());

// The case files (benchmarks/cases_<family>.cpp for the op families): CPU
// cases when gpu is false, GPU cases when true. main.cpp runs them in the
// order of kCaseFiles there.
void run_limits_cases(const Context& ctx, bool gpu);  // not a family: the copy ceiling, the eager dispatch cost
void run_matmul_cases(const Context& ctx, bool gpu);
void run_attention_cases(const Context& ctx, bool gpu);
void run_conv_cases(const Context& ctx, bool gpu);
void run_norm_cases(const Context& ctx, bool gpu);
void run_loss_cases(const Context& ctx, bool gpu);
void run_reduce_cases(const Context& ctx, bool gpu);
void run_pool_cases(const Context& ctx, bool gpu);
void run_fusion_cases(const Context& ctx, bool gpu);
void run_rnn_cases(const Context& ctx, bool gpu);
void run_e2e_cases(const Context& ctx, bool gpu);  // not a family: the CLIP-style dual encoders (multimodal/clip.h)
void run_pointwise_cases(const Context& ctx, bool gpu);  // one per op of the registry (core/ops.toml)
void run_softmax_cases(const Context& ctx, bool gpu);
void run_index_cases(const Context& ctx, bool gpu);
void run_sort_cases(const Context& ctx, bool gpu);
void run_upsample_cases(const Context& ctx, bool gpu);
void run_grid_cases(const Context& ctx, bool gpu);
void run_activation_cases(const Context& ctx, bool gpu);
void run_random_cases(const Context& ctx, bool gpu);
void run_embedding_cases(const Context& ctx, bool gpu);
void run_dropout_cases(const Context& ctx, bool gpu);
void run_optim_cases(const Context& ctx, bool gpu);
void run_view_cases(const Context& ctx, bool gpu);
void run_copy_cases(const Context& ctx, bool gpu);
void run_factory_cases(const Context& ctx, bool gpu);
// The cases of a family's general ops in the op registry (registry.cpp): its case file calls this.
void run_registry_cases(const Context& ctx, bool gpu, const std::string& family);

}  // namespace bench

// ---- composed ops shared by the CPU and GPU cases (composed.cpp): what a
// user writes today from loom's elementwise, reduction and matmul ops, until
// fused kernels exist.
namespace bench::composed {

// softmax(q kᵀ / sqrt(D)) v over [B, H, L, D]; `key_pad` (optional, bool,
// broadcastable to the scores [B, H, L, L]) is true where a key is padding.
loom::Tensor attention(const loom::Tensor& q, const loom::Tensor& k, const loom::Tensor& v,
                       const loom::Tensor& key_pad = loom::Tensor());

// (x - mean) / sqrt(var + eps) * w + b over the last dimension (biased var).
loom::Tensor layer_norm(const loom::Tensor& x, const loom::Tensor& w, const loom::Tensor& b, double eps = 1e-5);

// Mean cross-entropy of logits [N, V] with int64 labels [N]:
// -mean(log_softmax(logits)[i, label_i]).
loom::Tensor cross_entropy(const loom::Tensor& logits, const loom::Tensor& labels);

// One LSTM layer, batch-first, zero initial state, weights in PyTorch's
// layout (w_ih [4H, I], w_hh [4H, H], b_ih, b_hh [4H]; gates i, f, g, o) and
// PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H)).
struct LSTM {
  LSTM(int64_t input_size, int64_t hidden_size, loom::Device device);
  // x [B, T, I] -> output [B, T, H]: one x·W_ihᵀ for all steps, then per step
  // h·W_hhᵀ, sigmoid / tanh and the cell update.
  loom::Tensor forward(const loom::Tensor& x) const;
  int64_t I, H;
  loom::Tensor w_ih, w_hh, b_ih, b_hh;
};

// gated fusion: g = sigmoid([a; b] Wᵀ + c); out = g a + (1 - g) b
// (W [D, 2D], c [D], as nn.Linear(2D, D)).
loom::Tensor gated(const loom::Tensor& a, const loom::Tensor& b, const loom::Tensor& W, const loom::Tensor& c);
// FiLM: [gamma; beta] = b Wᵀ + c; out = gamma a + beta (W [2D, D], c [2D]).
loom::Tensor film(const loom::Tensor& a, const loom::Tensor& b, const loom::Tensor& W, const loom::Tensor& c);

// A leaf parameter initialised as nn.Linear does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
loom::Tensor uniform_param(const loom::Shape& shape, int64_t fan_in, loom::Device device);

}  // namespace bench::composed
