// CUDA pooling against the CPU twins through the front ends, one case per
// path of kernels/cuda/pool.cu: the 2x2 / stride 2 fast path with 16-byte and
// scalar accesses, the generic windows (padding, dilation, ceil_mode, odd
// sizes), the max backward gather with overlapping and non-overlapping
// windows, global and generic adaptive pooling (average and max), ties and
// NaN, float64; then
// the 64-bit index kernels (forced on small shapes) against the 32-bit ones,
// and the rule choosing between them.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "autograd/ops/pool.h"
#include "core/random.h"
#include "test_util.h"
#include "kernels/pool.h"

using namespace loom;

namespace {

const Device kGPU("cuda:0");

// A pooling op as (output, indices); indices undefined for the average pools.
using PoolFn = std::function<std::pair<Tensor, Tensor>(const Tensor&)>;

PoolFn max_fn(Dims k, Dims s = {}, Dims p = {0}, Dims d = {1}, bool ceil = false) {
  return [=](const Tensor& t) { return max_pool2d_with_indices(t, k, s, p, d, ceil); };
}
PoolFn avg_fn(Dims k, Dims s = {}, Dims p = {0}, bool ceil = false, bool include_pad = true) {
  return [=](const Tensor& t) { return std::make_pair(avg_pool2d(t, k, s, p, ceil, include_pad), Tensor()); };
}
PoolFn adaptive_fn(Dims out) {
  return [=](const Tensor& t) { return std::make_pair(adaptive_avg_pool2d(t, out), Tensor()); };
}
PoolFn adaptive_max_fn(Dims out) {
  return [=](const Tensor& t) { return adaptive_max_pool2d_with_indices(t, out); };
}

// t on the GPU; with `misalign` as a view one element into its buffer, so the
// data pointer is not 16-byte aligned and the kernels take their scalar variants.
Tensor to_gpu(const Tensor& t, bool misalign) {
  if (!misalign) return t.to(kGPU);
  const int64_t n = t.numel();
  Tensor buf = zeros({n + 1}, TensorOptions(t.dtype(), kGPU));
  buf.narrow(0, 1, n).copy_(t.reshape({n}));
  return buf.narrow(0, 1, n).reshape(t.sizes());
}

struct Pooled {
  Tensor y, idx, grad;
};

Pooled run(const PoolFn& f, const Tensor& x, const Tensor& seed) {
  Tensor leaf = x.detach().requires_grad_(true);
  auto [y, idx] = f(leaf);
  // The caching allocator hands this NaN-filled block to grad_in next: an
  // element the backward kernel fails to write shows up as NaN.
  full(x.sizes(), NAN, TensorOptions(x.dtype(), x.device()));
  y.backward(seed);
  return {y, idx, leaf.grad()};
}

// Forward values, saved indices (exactly) and input gradients, GPU vs CPU.
void compare(const PoolFn& f, const Tensor& x, bool misalign = false) {
  const Tensor seed = randn(f(x).first.sizes(), TensorOptions(x.dtype()));
  const Pooled c = run(f, x, seed), g = run(f, to_gpu(x, misalign), to_gpu(seed, misalign));
  test::check_close(g.y.cpu(), c.y, 1e-5, 1e-5);
  if (c.idx.defined()) CHECK(g.idx.cpu().to_vector() == c.idx.to_vector());
  test::check_close(g.grad.cpu(), c.grad, 1e-5, 1e-5);
}

Tensor ties(const Shape& s) { return randint(0, 3, s).to(DType::Float32); }
Tensor with_nans(const Shape& s) { return randn(s).masked_fill(rand(s).lt(0.15), NAN); }

}  // namespace

TEST_CASE("pooling CUDA matches the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(13);
  const Tensor x = randn({3, 5, 17, 13});
  compare(max_fn({2}), x);
  compare(max_fn({3}, {2}, {1}, {1}, true), x);
  compare(max_fn({3, 2}, {1, 2}, {1, 0}, {2, 1}), x);
  compare(avg_fn({3}, {2}, {1}), x);
  compare(avg_fn({3}, {2}, {1}, true, false), x);
  compare(adaptive_fn({5, 3}), x);
  compare(adaptive_fn({1}), x);
  compare(adaptive_fn({20, 15}), randn({2, 3, 7, 9}));
}

TEST_CASE("pooling CUDA 2x2 stride-2 fast path matches the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(21);
  for (const PoolFn& f : {max_fn({2}), avg_fn({2})}) {
    compare(f, randn({2, 3, 8, 12}));                                 // W % 4 == 0: 16-byte loads and stores
    compare(f, randn({2, 3, 8, 12}), true);                           // misaligned: the scalar variants
    compare(f, randn({2, 3, 6, 10}));                                 // W % 4 == 2, OW odd: scalar, a lone last output
    compare(f, randn({3, 2, 7, 9}));                                  // odd: fast forward, backward by the gather
    compare(f, randn({2, 3, 8, 12}, TensorOptions(DType::Float64)));  // double2 accesses
    compare(f, randn({2, 3, 6, 10}, TensorOptions(DType::Float64)));
    compare(f, randn({5, 12, 16}));  // unbatched
  }
  // ceil_mode with odd sizes: the last windows hang over the edge (generic kernels).
  compare(max_fn({2}, {2}, {0}, {1}, true), randn({2, 3, 7, 9}));
  compare(avg_fn({2}, {2}, {0}, true), randn({2, 3, 7, 9}));
  compare(avg_fn({2}, {2}, {0}, true, false), randn({2, 3, 7, 9}));
}

TEST_CASE("max_pool2d CUDA generic windows and backward gathers match the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(22);
  for (const Shape& s : {Shape{3, 5, 17, 13}, Shape{2, 2, 9, 16}}) {
    // Overlapping windows (stride < extent on some axis): gathers over several outputs.
    compare(max_fn({3}, {2}, {1}), randn(s));
    compare(max_fn({3}, {2}, {1}, {1}, true), randn(s));
    compare(max_fn({3}, {1}, {1}), randn(s));
    compare(max_fn({3, 2}, {3, 1}, {1, 0}), randn(s));
    compare(max_fn({2}, {1}, {1}, {2}), randn(s));
    // Non-overlapping windows: at most one covering output, gaps between windows.
    compare(max_fn({3}, {3}), randn(s));
    compare(max_fn({2}, {3}), randn(s));
    compare(max_fn({2}, {2}, {1}), randn(s));
    compare(max_fn({2}, {3}, {1}, {2}, true), randn(s));
    compare(max_fn({2, 3}, {2, 3}, {1, 0}), randn(s));
  }
  compare(max_fn({3}, {2}, {1}), randn({2, 3, 11, 10}, TensorOptions(DType::Float64)));
  compare(max_fn({2}, {3}), randn({2, 3, 11, 10}, TensorOptions(DType::Float64)));
}

TEST_CASE("avg_pool2d CUDA generic windows match the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(23);
  for (const Shape& s : {Shape{3, 5, 17, 13}, Shape{2, 2, 9, 16}})
    for (bool include_pad : {true, false}) {
      compare(avg_fn({3}, {2}, {1}, false, include_pad), randn(s));
      compare(avg_fn({3}, {2}, {1}, true, include_pad), randn(s));  // last window clipped by the input
      compare(avg_fn({3}, {3}, {1}, true, include_pad), randn(s));  // non-overlapping
      compare(avg_fn({3, 2}, {2, 1}, {1, 1}, false, include_pad), randn(s));
      compare(avg_fn({2}, {2}, {1}, false, include_pad), randn(s));  // 2x2 with padding: generic
    }
  compare(avg_fn({3}, {2}, {1}, true, false), randn({2, 3, 11, 10}, TensorOptions(DType::Float64)));
}

TEST_CASE("adaptive_avg_pool2d CUDA global and generic paths match the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(24);
  const auto global = adaptive_fn({1});
  compare(global, randn({3, 5, 8, 8}));        // 8 lanes per plane, 16-byte loads / stores
  compare(global, randn({3, 5, 8, 8}), true);  // misaligned: scalar, a warp per plane
  compare(global, randn({3, 5, 7, 9}));        // odd plane: scalar
  compare(global, randn({3, 5, 2, 2}));        // a lane per plane, a warp half empty
  compare(global, randn({2, 3, 3, 5}));        // 8 lanes per plane, scalar
  compare(global, randn({2, 3, 48, 50}));      // planes over 2048 elements: a block each
  compare(global, randn({1, 2, 45, 51}));
  compare(global, randn({3, 5, 8, 8}, TensorOptions(DType::Float64)));
  compare(global, randn({2, 3, 48, 50}, TensorOptions(DType::Float64)));
  compare(adaptive_fn({1, 3}), randn({2, 3, 8, 8}));
  compare(adaptive_fn({4}), randn({2, 3, 8, 8}));
  compare(adaptive_fn({3, 5}), randn({2, 3, 7, 11}, TensorOptions(DType::Float64)));
}

TEST_CASE("adaptive_max_pool2d CUDA matches the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(26);
  compare(adaptive_max_fn({3, 4}), randn({2, 3, 7, 9}));
  compare(adaptive_max_fn({1}), randn({3, 5, 17, 13}));
  compare(adaptive_max_fn({10, 13}), randn({2, 3, 7, 9}));  // windows overlap: the backward gathers several outputs
  compare(adaptive_max_fn({5, 5}), randn({2, 3, 5, 5}));    // one element per window
  compare(adaptive_max_fn({3, 5}), randn({2, 3, 7, 11}, TensorOptions(DType::Float64)));
  compare(adaptive_max_fn({4}), randn({3, 9, 10}));  // unbatched
  for (const auto& make : {std::function<Tensor(const Shape&)>(ties), std::function<Tensor(const Shape&)>(with_nans)}) {
    compare(adaptive_max_fn({3, 4}), make({2, 3, 7, 9}));
    compare(adaptive_max_fn({9, 11}), make({2, 3, 7, 9}));
  }
}

TEST_CASE("pooling CUDA ties and NaN follow the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(25);
  // Ties: the first maximum in window order wins; NaN: the first NaN wins.
  for (const auto& make : {std::function<Tensor(const Shape&)>(ties), std::function<Tensor(const Shape&)>(with_nans)}) {
    compare(max_fn({2}), make({2, 3, 8, 12}));
    compare(max_fn({2}), make({2, 3, 8, 12}), true);
    compare(max_fn({2}), make({2, 3, 7, 9}));
    compare(max_fn({3}, {2}, {1}), make({2, 3, 9, 11}));
    compare(max_fn({3}, {3}, {1}, {1}, true), make({2, 3, 9, 11}));
    compare(max_fn({3, 2}, {1, 2}, {1, 0}, {2, 1}), make({2, 3, 9, 11}));
  }
  compare(avg_fn({2}), with_nans({2, 3, 8, 12}));
  compare(avg_fn({3}, {2}, {1}), with_nans({2, 3, 9, 11}));
  compare(adaptive_fn({1}), with_nans({2, 3, 8, 8}));
  compare(adaptive_fn({3}), with_nans({2, 3, 8, 8}));
}

#ifdef LOOM_WITH_CUDA

namespace {

namespace kc = kernels::cuda;
using kernels::PoolParams;

PoolParams windowed(int64_t NC, int64_t H, int64_t W, int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil) {
  PoolParams p{};
  p.NC = NC, p.H = H, p.W = W, p.kh = k, p.kw = k, p.stride_h = s, p.stride_w = s;
  p.pad_h = pad, p.pad_w = pad, p.dil_h = dil, p.dil_w = dil;
  p.OH = kernels::pool_out_size(H, k, s, pad, dil, ceil);
  p.OW = kernels::pool_out_size(W, k, s, pad, dil, ceil);
  return p;
}

PoolParams adaptive(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  PoolParams p{};
  p.NC = NC, p.H = H, p.W = W, p.OH = OH, p.OW = OW;
  return p;
}

// Every kernel of `p` (max and avg pooling both ways, or adaptive pooling both
// ways) with the given index width, as host vectors.
std::vector<std::vector<double>> run_kernels(const PoolParams& p, bool is_adaptive, kc::PoolIndex ix) {
  manual_seed(31);
  const TensorOptions f32(DType::Float32, kGPU);
  const Tensor x = randn({p.NC, p.H, p.W}, f32), go = randn({p.NC, p.OH, p.OW}, f32);
  Tensor y = empty({p.NC, p.OH, p.OW}, f32), gin = empty({p.NC, p.H, p.W}, f32);
  auto stream = static_cast<cudaStream_t>(cuda::current_stream(0));
  Tensor idx = empty({p.NC, p.OH, p.OW}, TensorOptions(DType::Int64, kGPU));
  if (is_adaptive) {
    kc::adaptive_avg_pool2d_forward(DType::Float32, y.data_ptr(), x.data_ptr(), p, stream, ix);
    kc::adaptive_avg_pool2d_backward(DType::Float32, gin.data_ptr(), go.data_ptr(), p, stream, ix);
    std::vector<std::vector<double>> r = {y.to_vector(), gin.to_vector()};
    kc::adaptive_max_pool2d_forward(DType::Float32, y.data_ptr(), idx.data_ptr<int64_t>(), x.data_ptr(), p, stream, ix);
    kc::adaptive_max_pool2d_backward(DType::Float32, gin.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p, stream,
                                     ix);
    r.push_back(y.to_vector());
    r.push_back(idx.to_vector());
    r.push_back(gin.to_vector());
    return r;
  }
  kc::max_pool2d_forward(DType::Float32, y.data_ptr(), idx.data_ptr<int64_t>(), x.data_ptr(), p, stream, ix);
  kc::max_pool2d_backward(DType::Float32, gin.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p, stream, ix);
  std::vector<std::vector<double>> r = {y.to_vector(), idx.to_vector(), gin.to_vector()};
  for (bool include_pad : {true, false}) {
    kc::avg_pool2d_forward(DType::Float32, y.data_ptr(), x.data_ptr(), p, include_pad, stream, ix);
    kc::avg_pool2d_backward(DType::Float32, gin.data_ptr(), go.data_ptr(), p, include_pad, stream, ix);
    r.push_back(y.to_vector());
    r.push_back(gin.to_vector());
  }
  return r;
}

}  // namespace

TEST_CASE("pooling CUDA 64-bit index kernels match the 32-bit ones", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const PoolParams& p : {windowed(6, 8, 12, 2, 2, 0, 1, false), windowed(6, 7, 10, 2, 2, 0, 1, false),
                              windowed(6, 9, 11, 3, 2, 1, 1, true), windowed(6, 9, 11, 2, 3, 1, 2, false)}) {
    REQUIRE(kc::pool_fits_int32(p));
    CHECK(run_kernels(p, false, kc::PoolIndex::Int64) == run_kernels(p, false, kc::PoolIndex::Auto));
  }
  for (const PoolParams& p :
       {adaptive(6, 8, 8, 1, 1), adaptive(6, 7, 9, 1, 1), adaptive(6, 7, 9, 3, 4), adaptive(6, 7, 9, 10, 13)})
    CHECK(run_kernels(p, true, kc::PoolIndex::Int64) == run_kernels(p, true, kc::PoolIndex::Auto));
}

TEST_CASE("pool_fits_int32 takes 32-bit index math only when every size fits", "[pool]") {
  const int64_t k30 = int64_t(1) << 30, k28 = int64_t(1) << 28;
  CHECK(kc::pool_fits_int32(windowed(256 * 32, 64, 64, 2, 2, 0, 1, false)));
  CHECK(kc::pool_fits_int32(windowed(k30 / 4096, 64, 64, 3, 2, 1, 1, true)));  // 2^30 input elements
  CHECK_FALSE(kc::pool_fits_int32(windowed(k30 / 4096 + 1, 64, 64, 3, 2, 1, 1, true)));
  CHECK(kc::pool_fits_int32(adaptive(64, 512, 512, 7, 7)));
  CHECK_FALSE(kc::pool_fits_int32(adaptive(1, 1 << 15, 1, 1 << 15, 1)));  // (H + 1) * OH > 2^30
  // One limit at a time, from a geometry that fits.
  const PoolParams base = windowed(8, 64, 64, 3, 2, 1, 1, false);
  auto fits_with = [&](int64_t PoolParams::*field, int64_t v) {
    PoolParams p = base;
    p.*field = v;
    return kc::pool_fits_int32(p);
  };
  CHECK(fits_with(&PoolParams::stride_w, k28));
  CHECK_FALSE(fits_with(&PoolParams::stride_w, k28 + 1));
  CHECK_FALSE(fits_with(&PoolParams::kh, k28 + 1));
  CHECK_FALSE(fits_with(&PoolParams::pad_w, k28 + 1));
  CHECK_FALSE(fits_with(&PoolParams::dil_h, k28 + 1));
  CHECK(fits_with(&PoolParams::dil_w, k28 / 2));  // dil * (k - 1) == 2^28
  CHECK_FALSE(fits_with(&PoolParams::dil_w, k28 / 2 + 1));
  CHECK_FALSE(fits_with(&PoolParams::OW, k30 / (8 * 32) + 1));  // more than 2^30 outputs
  CHECK_FALSE(fits_with(&PoolParams::pad_h, k28));              // (H + 2 pad) (W + 2 pad) > 2^30
}

#endif  // LOOM_WITH_CUDA
