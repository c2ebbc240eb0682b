// Factories and the per-device generators.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/cuda.h"
#include "core/cuda_build.h"
#include "core/dispatch.h"
#include "core/op_cost.h"
#include "core/ops.h"
#include "core/philox.h"
#include "core/random.h"
#include "core/tensor.h"
#include "kernels/pointwise.h"
#include "kernels/random.h"

namespace loom {

namespace {

constexpr uint64_t kDefaultSeed = 67280421310721ULL;

struct Generators {
  std::mutex mu;
  uint64_t seed = kDefaultSeed;
  std::unordered_map<int, PhiloxState> states;  // key: -1 for CPU, device index for CUDA
};
Generators& generators() {
  static Generators g;
  return g;
}
int gen_key(Device d) { return d.is_cpu() ? -1 : d.index; }

void check_shape(const Shape& shape, const char* op) {
  for (auto s : shape) LOOM_CHECK(s >= 0, op, ": Trying to create tensor with negative dimension ", s, ": ", shape);
}

kernels::ElementwiseLoop flat_loop(int64_t n) {
  kernels::ElementwiseLoop l;
  l.ndim = 1;
  l.noperands = 1;
  l.numel = n;
  l.sizes[0] = n;
  l.strides[0][0] = 1;
  return l;
}

void fill_contiguous(Tensor& t, double v) {
  if (t.numel() == 0) return;
  auto loop = flat_loop(t.numel());
  on_device(
      t.device(), "fill", [&] { kernels::cpu::fill(t.dtype(), t.data_ptr(), v, loop); },
      [&](cudaStream_t stream) { kernels::cuda::fill(t.dtype(), t.data_ptr(), v, loop, stream); });
}

}  // namespace

PhiloxState philox_reserve(Device device, uint64_t n) {
  auto& g = generators();
  std::lock_guard<std::mutex> lock(g.mu);
  auto it = g.states.try_emplace(gen_key(device), PhiloxState{g.seed, 0}).first;
  PhiloxState s = it->second;
  it->second.offset += philox::blocks_for(n);
  return s;
}
PhiloxState get_rng_state(Device device) {
  auto& g = generators();
  std::lock_guard<std::mutex> lock(g.mu);
  return g.states.try_emplace(gen_key(device), PhiloxState{g.seed, 0}).first->second;
}
void set_rng_state(Device device, PhiloxState state) {
  auto& g = generators();
  std::lock_guard<std::mutex> lock(g.mu);
  g.states[gen_key(device)] = state;
}
void manual_seed(uint64_t seed) {
  auto& g = generators();
  std::lock_guard<std::mutex> lock(g.mu);
  g.seed = seed;
  g.states.clear();
}
uint64_t initial_seed() {
  auto& g = generators();
  std::lock_guard<std::mutex> lock(g.mu);
  return g.seed;
}

Tensor empty(const Shape& shape, const TensorOptions& opts) {
  check_shape(shape, "empty");
  if constexpr (!cuda::kBuiltWithCuda) {
    if (opts.device.is_cuda()) cuda::throw_no_cuda("empty");
  }
  // Sizes are checked before anything is allocated: a product that wraps
  // around would otherwise allocate a small buffer for a huge shape.
  int64_t n = 1, nbytes = 0;
  bool overflow = false;
  for (auto s : shape) overflow = overflow || __builtin_mul_overflow(n, s, &n);
  overflow = overflow || __builtin_mul_overflow(n, static_cast<int64_t>(itemsize(opts.dtype)), &nbytes);
  LOOM_CHECK_KIND(!overflow, ErrorKind::OutOfMemory, opts.device.str(), " out of memory: a ", dtype_name(opts.dtype),
                  " tensor of shape ", shape, " needs more than 2^63 bytes");
  // A shape with no elements can still have strides beyond int64 (sizes of
  // 0 count as 1 in them): those are refused too.
  Shape strides(shape.size());
  int64_t st = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = st;
    LOOM_CHECK(d == 0 || !__builtin_mul_overflow(st, std::max<int64_t>(shape[d], 1), &st), "empty: a tensor of shape ",
               shape, " has strides beyond the int64 range");
  }
  auto storage = Storage::allocate(static_cast<size_t>(nbytes), opts.device);
  Tensor t(std::make_shared<TensorImpl>(std::move(storage), shape, strides, 0, opts.dtype));
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor full(const Shape& shape, const Scalar& value, const TensorOptions& opts) {
  check_scalar_fits(value, opts.dtype, "full");
  Tensor t = empty(shape, opts.with_requires_grad(false));
  if (value.exact_as_double() || opts.dtype != DType::Int64) {
    fill_contiguous(t, value.to_double());
  } else if (t.numel() > 0) {  // an int64 beyond 2^53, which a double would round: copied exactly
    const int64_t i = value.to_int();
    t.copy_(from_blob(&i, {}, DType::Int64, opts.device));
  }
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}
Tensor zeros(const Shape& shape, const TensorOptions& opts) { return full(shape, Scalar(0.0), opts); }
Tensor ones(const Shape& shape, const TensorOptions& opts) { return full(shape, Scalar(1.0), opts); }
Tensor scalar_tensor(const Scalar& value, const TensorOptions& opts) { return full({}, value, opts); }

// arange of int64 bounds a double would round (beyond 2^53): the length as PyTorch computes it for
// int64, (end - start + step - sign(step)) / step in integer arithmetic, and the values
// start + i * step by exact int64 ops.
static Tensor arange_int64_exact(const Scalar& start, const Scalar& end, const Scalar& step,
                                 const TensorOptions& opts) {
  const __int128 s = start.to_int(), e = end.to_int(), st = step.to_int();
  LOOM_CHECK(st != 0, "arange: step must be nonzero");
  LOOM_CHECK((st > 0 && e >= s) || (st < 0 && e <= s),
             "arange: upper bound and larger bound inconsistent with step sign (start ", start.to_int(), ", end ",
             end.to_int(), ", step ", step.to_int(), ")");
  const __int128 n = (e - s + st - (st > 0 ? 1 : -1)) / st;
  LOOM_CHECK_VALUE(n < (__int128(1) << 53), "arange: ", static_cast<double>(n), " elements (start ", start.to_int(),
                   ", end ", end.to_int(), ", step ", step.to_int(), ") are more than a tensor can hold");
  Tensor t =
      arange(Scalar(int64_t(0)), Scalar(static_cast<int64_t>(n)), Scalar(int64_t(1)), opts.with_requires_grad(false));
  t.mul_(step).add_(start);
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& opts) {
  if (opts.dtype == DType::Int64 && !start.is_floating() && !end.is_floating() && !step.is_floating() &&
      (!start.exact_as_double() || !end.exact_as_double() || !step.exact_as_double()))
    return arange_int64_exact(start, end, step, opts);
  LOOM_OP_SCOPE(arange);
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  LOOM_CHECK(st != 0, "arange: step must be nonzero");
  LOOM_CHECK((st > 0 && e >= s) || (st < 0 && e <= s),
             "arange: upper bound and larger bound inconsistent with step sign (start ", s, ", end ", e, ", step ", st,
             ")");
  int64_t n = static_cast<int64_t>(std::ceil((e - s) / st));
  Tensor t = empty({n}, opts.with_requires_grad(false));
  loom_op_scope_.set_cost(double(n), cost_bytes(&t));
  if (n > 0) {
    on_device(
        t.device(), "arange", [&] { kernels::cpu::arange(t.dtype(), t.data_ptr(), n, s, st); },
        [&](cudaStream_t stream) { kernels::cuda::arange(t.dtype(), t.data_ptr(), n, s, st, stream); });
  }
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}
Tensor arange(const Scalar& end, const TensorOptions& opts) { return arange(Scalar(0), end, Scalar(1), opts); }
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step) {
  bool fl = start.is_floating() || end.is_floating() || step.is_floating();
  return arange(start, end, step, TensorOptions(fl ? default_dtype() : DType::Int64));
}
Tensor arange(const Scalar& end) { return arange(Scalar(0), end, Scalar(1)); }

Tensor linspace(double start, double end, int64_t steps, const TensorOptions& opts) {
  LOOM_OP_SCOPE(linspace);
  LOOM_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  Tensor t = empty({steps}, opts.with_requires_grad(false));
  loom_op_scope_.set_cost(2 * double(steps), cost_bytes(&t));
  if (steps > 0) {
    on_device(
        t.device(), "linspace", [&] { kernels::cpu::linspace(t.dtype(), t.data_ptr(), steps, start, end); },
        [&](cudaStream_t stream) { kernels::cuda::linspace(t.dtype(), t.data_ptr(), steps, start, end, stream); });
  }
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor eye(int64_t n, std::optional<int64_t> m_opt, const TensorOptions& opts) {
  int64_t m = m_opt.value_or(n);
  LOOM_CHECK(n >= 0 && m >= 0, "eye: n and m must be non-negative, got n=", n, ", m=", m);
  Tensor t = zeros({n, m}, opts.with_requires_grad(false));
  int64_t k = std::min(n, m);
  if (k > 0) {
    Tensor diag = t.as_strided({k}, {m + 1}, 0);
    diag.fill_(Scalar(1.0));
  }
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

namespace {
template <typename CpuFn, typename CudaFn>
Tensor random_tensor(const OpScope& scope, double flops_per_element, const Shape& shape, const TensorOptions& opts,
                     const char* op, CpuFn cpu_fn, CudaFn cuda_fn) {
  Tensor t = empty(shape, opts.with_requires_grad(false));
  int64_t n = t.numel();
  scope.set_cost(flops_per_element * double(n), cost_bytes(&t));  // Philox's integer work counts no FLOPs
  if (n > 0) {
    PhiloxState st = philox_reserve(t.device(), static_cast<uint64_t>(n));
    on_device(
        t.device(), op, [&] { cpu_fn(t, n, st); }, [&](cudaStream_t stream) { cuda_fn(t, n, st, stream); });
  }
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}
}  // namespace

Tensor rand(const Shape& shape, const TensorOptions& opts) {
  LOOM_OP_SCOPE(rand);
  LOOM_CHECK_TYPE(is_floating(opts.dtype), "rand: expected a floating dtype, got ", dtype_name(opts.dtype));
  return random_tensor(
      loom_op_scope_, 1, shape, opts, "rand",
      [](Tensor& t, int64_t n, PhiloxState s) {
        kernels::cpu::uniform(t.dtype(), t.data_ptr(), n, s.seed, s.offset, 0, 1);
      },
      [](Tensor& t, int64_t n, PhiloxState s, cudaStream_t stream) {
        kernels::cuda::uniform(t.dtype(), t.data_ptr(), n, s.seed, s.offset, 0, 1, stream);
      });
}

Tensor randn(const Shape& shape, const TensorOptions& opts) {
  LOOM_OP_SCOPE(randn);
  LOOM_CHECK_TYPE(is_floating(opts.dtype), "randn: expected a floating dtype, got ", dtype_name(opts.dtype));
  return random_tensor(
      loom_op_scope_, 4, shape, opts, "randn",  // Box-Muller: log, sqrt, cos, scale
      [](Tensor& t, int64_t n, PhiloxState s) {
        kernels::cpu::normal(t.dtype(), t.data_ptr(), n, s.seed, s.offset, 0, 1);
      },
      [](Tensor& t, int64_t n, PhiloxState s, cudaStream_t stream) {
        kernels::cuda::normal(t.dtype(), t.data_ptr(), n, s.seed, s.offset, 0, 1, stream);
      });
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, const TensorOptions& opts) {
  LOOM_OP_SCOPE(randint);
  LOOM_CHECK(high > low, "randint: random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
  // As PyTorch: [low, high - 1] must be representable (bool: 0 and 1; int32: its range).
  if (opts.dtype == DType::Bool)
    LOOM_CHECK(low >= 0 && high <= 2, "randint: for dtype bool, [low, high) must lie in [0, 2), got [", low, ", ", high,
               ")");
  if (opts.dtype == DType::Int32)
    LOOM_CHECK(low >= INT32_MIN && high - 1 <= INT32_MAX,
               "randint: for dtype int32, [low, high) must lie in the int32 range, got [", low, ", ", high, ")");
  return random_tensor(
      loom_op_scope_, 0, shape, opts, "randint",
      [low, high](Tensor& t, int64_t n, PhiloxState s) {
        kernels::cpu::randint(t.dtype(), t.data_ptr(), n, s.seed, s.offset, low, high);
      },
      [low, high](Tensor& t, int64_t n, PhiloxState s, cudaStream_t stream) {
        kernels::cuda::randint(t.dtype(), t.data_ptr(), n, s.seed, s.offset, low, high, stream);
      });
}

Tensor randperm(int64_t n, const TensorOptions& opts) {
  // Sort keys drawn from the generator: argsort of uniform keys on the CPU.
  LOOM_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  Tensor keys = rand({n}, TensorOptions(DType::Float64));
  const double* k = static_cast<const double*>(keys.data_ptr());
  Tensor out = empty({n}, TensorOptions(DType::Int64));
  int64_t* idx = static_cast<int64_t*>(out.data_ptr());
  if (n < (int64_t(1) << 32)) {
    // The keys are 32-bit draws times 2^-32: a stable LSD radix sort of (key bits << 32 | position) on the
    // key's four bytes gives the same order as the stable sort by key, in linear time.
    std::unique_ptr<uint64_t[]> a(new uint64_t[n]), b(new uint64_t[n]);
    for (int64_t i = 0; i < n; ++i) a[i] = static_cast<uint64_t>(k[i] * 4294967296.0) << 32 | static_cast<uint64_t>(i);
    for (int shift = 32; shift < 64; shift += 8) {
      int64_t count[257] = {};
      for (int64_t i = 0; i < n; ++i) ++count[((a[i] >> shift) & 255) + 1];
      for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
      for (int64_t i = 0; i < n; ++i) b[count[(a[i] >> shift) & 255]++] = a[i];
      a.swap(b);
    }
    for (int64_t i = 0; i < n; ++i) idx[i] = static_cast<int64_t>(a[i] & 0xffffffffu);
  } else {
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    std::stable_sort(idx, idx + n, [k](int64_t x, int64_t y) { return k[x] < k[y]; });
  }
  return out.to(opts.device, opts.dtype);
}

namespace {
TensorOptions like(const Tensor& t, const std::optional<TensorOptions>& o) {
  return o ? *o : TensorOptions(t.dtype(), t.device());
}
}  // namespace
Tensor empty_like(const Tensor& t, std::optional<TensorOptions> o) { return empty(t.sizes(), like(t, o)); }
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> o) { return zeros(t.sizes(), like(t, o)); }
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> o) { return ones(t.sizes(), like(t, o)); }
Tensor full_like(const Tensor& t, const Scalar& v, std::optional<TensorOptions> o) {
  return full(t.sizes(), v, like(t, o));
}
Tensor rand_like(const Tensor& t, std::optional<TensorOptions> o) { return rand(t.sizes(), like(t, o)); }
Tensor randn_like(const Tensor& t, std::optional<TensorOptions> o) { return randn(t.sizes(), like(t, o)); }

Tensor from_blob(const void* data, const Shape& shape, DType dtype, Device device) {
  Tensor host = empty(shape, TensorOptions(dtype));
  if (host.nbytes() > 0) std::memcpy(host.data_ptr(), data, host.nbytes());
  return device.is_cpu() ? host : host.to(device);
}

template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Device device) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  LOOM_CHECK(n == static_cast<int64_t>(data.size()), "from_vector: shape ", shape, " needs ", n, " values, got ",
             data.size());
  if constexpr (std::is_same<T, bool>::value) {
    std::vector<uint8_t> bytes(data.begin(), data.end());
    return from_blob(bytes.data(), shape, DType::Bool, device);
  } else {
    return from_blob(data.data(), shape, dtype_of<T>::value, device);
  }
}
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);

Tensor from_shared(std::shared_ptr<void> owner, void* data, const Shape& shape, const Shape& strides, DType dtype,
                   Device device) {
  LOOM_CHECK(shape.size() == strides.size(), "from_shared: shape ", shape, " and strides ", strides,
             " differ in length");
  // The storage spans from `data` to the furthest element (negative strides are rejected).
  int64_t extent = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    LOOM_CHECK(strides[d] >= 0, "from_shared: negative strides are not supported (strides ", strides, ")");
    if (shape[d] == 0) extent = 0;
    else if (extent > 0) extent += (shape[d] - 1) * strides[d];
  }
  std::shared_ptr<void> ptr(owner, data);
  auto storage = std::make_shared<Storage>(std::move(ptr), static_cast<size_t>(extent) * itemsize(dtype), device);
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, strides, 0, dtype));
}

}  // namespace loom
