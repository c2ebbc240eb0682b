// max_pool3d / avg_pool3d: the CPU kernels through the front ends against a
// float64 reference written here (windows enumerated directly, gradients by
// the chain rule per window) on odd shapes with stride, padding, dilation,
// ceil_mode, count_include_pad and divisor_override; then the CUDA kernels
// against the CPU twins (values, indices exactly, gradients), ties, NaN,
// float64 and the 64-bit index kernels forced on small shapes.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "autograd/ops/pool.h"
#include "core/random.h"
#include "kernels/pool.h"
#include "test_util.h"

using namespace loom;

namespace {

struct Cfg {
  Dims k, s, p, d;
  bool ceil = false, include_pad = true;
  std::optional<int64_t> divisor;
};

int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  return kernels::pool_out_size(n, k, s, p, d, ceil);
}
int64_t at(const Dims& v, int a) { return v.size() == 1 ? v[0] : v[size_t(a)]; }

// (values, flat argmax) or (means), and d(sum(y * seed))/dx, in double.
struct Ref {
  std::vector<double> y, grad;
  std::vector<double> idx;
};
Ref reference(const Tensor& x, const Tensor& seed, const Cfg& c, bool max) {
  const int64_t NC = x.size(0) * x.size(1), D = x.size(2), H = x.size(3), W = x.size(4);
  const Dims s = c.s.empty() ? c.k : c.s, d = c.d.empty() ? Dims{1} : c.d;
  int64_t O[3], N[3] = {D, H, W};
  for (int a = 0; a < 3; ++a) O[a] = out_size(N[a], at(c.k, a), at(s, a), at(c.p, a), at(d, a), c.ceil);
  const std::vector<double> vx = x.to_vector(), vs = seed.to_vector();
  Ref r;
  r.grad.assign(vx.size(), 0.0);
  size_t o = 0;
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t od = 0; od < O[0]; ++od)
      for (int64_t oh = 0; oh < O[1]; ++oh)
        for (int64_t ow = 0; ow < O[2]; ++ow, ++o) {
          const int64_t oo[3] = {od, oh, ow};
          int64_t lo[3], hi[3], padded = 1, inside = 1;
          for (int a = 0; a < 3; ++a) {
            lo[a] = oo[a] * at(s, a) - at(c.p, a);
            const int64_t end = std::min(lo[a] + at(c.k, a), N[a] + at(c.p, a));
            padded *= end - lo[a];
            inside *= std::min(end, N[a]) - std::max<int64_t>(lo[a], 0);
          }
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t arg = -1;
          std::vector<int64_t> cells;
          for (int64_t i = 0; i < at(c.k, 0); ++i)
            for (int64_t j = 0; j < at(c.k, 1); ++j)
              for (int64_t l = 0; l < at(c.k, 2); ++l) {
                const int64_t id = lo[0] + i * at(d, 0), ih = lo[1] + j * at(d, 1), iw = lo[2] + l * at(d, 2);
                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t flat = (id * H + ih) * W + iw;
                const double v = vx[size_t(nc * D * H * W + flat)];
                if (arg < 0 || v > best || (std::isnan(v) && !std::isnan(best))) best = v, arg = flat;
                sum += v;
                cells.push_back(nc * D * H * W + flat);
              }
          if (max) {
            r.y.push_back(best);
            r.idx.push_back(double(arg));
            if (arg >= 0) r.grad[size_t(nc * D * H * W + arg)] += vs[o];
          } else {
            const double div = double(c.divisor ? *c.divisor : (c.include_pad ? padded : inside));
            r.y.push_back(sum / div);
            for (int64_t e : cells) r.grad[size_t(e)] += vs[o] / div;
          }
        }
  return r;
}

std::pair<Tensor, Tensor> apply(const Tensor& x, const Cfg& c, bool max) {
  if (max) return max_pool3d_with_indices(x, c.k, c.s, c.p, c.d.empty() ? Dims{1} : c.d, c.ceil);
  return {avg_pool3d(x, c.k, c.s, c.p, c.ceil, c.include_pad, c.divisor), Tensor()};
}

void check_cpu(const Tensor& x, const Cfg& c, bool max) {
  Tensor leaf = x.detach().requires_grad_(true);
  auto [y, idx] = apply(leaf, c, max);
  const Tensor seed = randn(y.sizes(), TensorOptions(x.dtype()));
  y.backward(seed);
  const Ref r = reference(x, seed, c, max);
  const double tol = x.dtype() == DType::Float64 ? 1e-12 : 1e-5;
  test::check_close(y, r.y, tol, tol);
  if (max) CHECK(idx.to_vector() == r.idx);
  test::check_close(leaf.grad(), r.grad, tol, tol);
}

const std::vector<Cfg>& max_cfgs() {
  static const std::vector<Cfg> c = {
      {{2}, {}, {0}, {}},         {{3}, {2}, {1}, {}},  {{3, 2, 3}, {2, 2, 1}, {1, 0, 1}, {}},
      {{3}, {2}, {1}, {1}, true}, {{2}, {1}, {1}, {2}}, {{2, 3, 2}, {3, 1, 2}, {1, 1, 0}, {2, 1, 1}, true},
  };
  return c;
}
const std::vector<Cfg>& avg_cfgs() {
  static const std::vector<Cfg> c = {
      {{2}, {}, {0}, {}},
      {{3}, {2}, {1}, {}},
      {{3}, {2}, {1}, {}, false, false},
      {{3}, {2}, {1}, {}, true, true},
      {{3}, {2}, {1}, {}, true, false},
      {{3, 2, 3}, {2, 2, 1}, {1, 0, 1}, {}, false, true, 7},
      {{2}, {3}, {1}, {}, true, false},
  };
  return c;
}

}  // namespace

TEST_CASE("max_pool3d and avg_pool3d CPU kernels match a reference", "[pool]") {
  manual_seed(31);
  for (const Shape& s : {Shape{2, 3, 5, 7, 6}, Shape{1, 2, 4, 4, 4}, Shape{3, 1, 7, 5, 9}}) {
    for (const Cfg& c : max_cfgs()) check_cpu(randn(s), c, true);
    for (const Cfg& c : avg_cfgs()) check_cpu(randn(s), c, false);
  }
  check_cpu(randn({2, 3, 5, 7, 6}, TensorOptions(DType::Float64)), max_cfgs()[2], true);
  check_cpu(randn({2, 3, 5, 7, 6}, TensorOptions(DType::Float64)), avg_cfgs()[5], false);
  // ties (the first maximum in (d, h, w) order) and NaN (the first NaN wins)
  for (const Cfg& c : {max_cfgs()[0], max_cfgs()[1]}) {  // the 2x2x2 stride-2 path and the general one
    check_cpu(randint(0, 3, {2, 2, 5, 5, 5}).to(DType::Float32), c, true);
    check_cpu(randn({2, 2, 5, 5, 5}).masked_fill(rand({2, 2, 5, 5, 5}).lt(0.15), NAN), c, true);
    check_cpu(randint(0, 3, {1, 2, 4, 6, 22}).to(DType::Float64), c, true);
  }
  // wide rows: the 8-, 4- and 2-output blocks of the general forward
  check_cpu(randn({1, 2, 3, 4, 45}), {{2, 2, 3}, {1, 2, 2}, {0, 1, 1}, {1, 1, 2}}, true);
  // unbatched [C, D, H, W]
  auto [y, i] = max_pool3d_with_indices(randn({3, 4, 6, 6}), {2});
  CHECK(y.sizes() == Shape{3, 2, 3, 3});
  CHECK(avg_pool3d(randn({3, 4, 6, 6}), {2}).sizes() == Shape{3, 2, 3, 3});
}

TEST_CASE("max_pool3d and avg_pool3d reject bad arguments", "[pool]") {
  const Tensor x = randn({2, 3, 4, 5, 6});
  test::check_error([&] { max_pool3d(x, {2, 2}); }, {"max_pool3d", "kernel_size", "three"});
  test::check_error([&] { max_pool3d(x, {3}, {1}, {2}); }, {"max_pool3d", "pad should be at most half"});
  test::check_error([&] { max_pool3d(x.flatten(0, 2), {2}, {}, {0}, {1}); }, {"max_pool3d", "4D", "5D"});
  test::check_error([&] { avg_pool3d(x, {2}, {0}); }, {"avg_pool3d", "positive"});
  test::check_error([&] { avg_pool3d(x, {2}, {}, {0}, false, true, 0); }, {"avg_pool3d", "divisor must be not zero"});
  test::check_error([&] { avg_pool3d(x, {5}); }, {"avg_pool3d", "too small"});
  test::check_error([&] { max_pool3d(randint(0, 3, {1, 1, 2, 2, 2}), {2}); }, {"max_pool3d", "floating point"});
}

namespace {

const Device kGPU("cuda:0");

struct Pooled {
  Tensor y, idx, grad;
};

Pooled run(const std::function<std::pair<Tensor, Tensor>(const Tensor&)>& f, const Tensor& x, const Tensor& seed) {
  Tensor leaf = x.detach().requires_grad_(true);
  auto [y, idx] = f(leaf);
  // A NaN-filled block the allocator hands to grad_in next: an element the
  // backward fails to write shows up as NaN.
  full(x.sizes(), NAN, TensorOptions(x.dtype(), x.device()));
  y.backward(seed);
  return {y, idx, leaf.grad()};
}

void compare(const Cfg& c, bool max, const Tensor& x) {
  const auto f = [&](const Tensor& t) { return apply(t, c, max); };
  const Tensor seed = randn(f(x).first.sizes(), TensorOptions(x.dtype()));
  const Pooled cpu = run(f, x, seed), gpu = run(f, x.to(kGPU), seed.to(kGPU));
  test::check_close(gpu.y.cpu(), cpu.y, 1e-6, 1e-6);
  if (max) CHECK(gpu.idx.cpu().to_vector() == cpu.idx.to_vector());
  // The gathers add in the CPU's order: the same bits.
  test::check_close(gpu.grad.cpu(), cpu.grad, 0, 0);
}

}  // namespace

TEST_CASE("cuda max_pool3d and avg_pool3d match the CPU", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(32);
  for (const Shape& s : {Shape{2, 3, 5, 7, 6}, Shape{3, 1, 7, 5, 9}}) {
    for (const Cfg& c : max_cfgs()) compare(c, true, randn(s));
    for (const Cfg& c : avg_cfgs()) compare(c, false, randn(s));
  }
  compare(max_cfgs()[2], true, randn({2, 3, 5, 7, 6}, TensorOptions(DType::Float64)));
  compare(avg_cfgs()[5], false, randn({2, 3, 5, 7, 6}, TensorOptions(DType::Float64)));
  compare(max_cfgs()[0], true, randint(0, 3, {2, 2, 5, 5, 5}).to(DType::Float32));
  compare(max_cfgs()[1], true, randint(0, 3, {2, 2, 5, 5, 5}).to(DType::Float32));
  compare(max_cfgs()[1], true, randn({2, 2, 5, 5, 5}).masked_fill(rand({2, 2, 5, 5, 5}).lt(0.15), NAN));
  compare(max_cfgs()[0], true, randn({3, 4, 6, 6}));  // unbatched
}

#ifdef LOOM_WITH_CUDA
TEST_CASE("cuda max_pool3d and avg_pool3d: the 64-bit index kernels agree with the 32-bit ones", "[pool][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(33);
  kernels::Pool3dParams p{};
  p.NC = 6, p.D = 5, p.H = 7, p.W = 6, p.kd = 3, p.kh = 2, p.kw = 3, p.sd = 2, p.sh = 2, p.sw = 1;
  p.pd = 1, p.ph = 0, p.pw = 1, p.dd = 1, p.dh = 1, p.dw = 1;
  p.OD = out_size(5, 3, 2, 1, 1, false), p.OH = out_size(7, 2, 2, 0, 1, false), p.OW = out_size(6, 3, 1, 1, 1, false);
  const Tensor x = randn({p.NC, p.D, p.H, p.W}).to(kGPU), go = randn({p.NC, p.OD, p.OH, p.OW}).to(kGPU);
  const TensorOptions f32(DType::Float32, kGPU), i64(DType::Int64, kGPU);
  const auto stream = static_cast<cudaStream_t>(cuda::current_stream(0));
  using kernels::cuda::PoolIndex;
  Tensor y[2], idx[2], gmax[2], yavg[2], gavg[2];
  for (int w = 0; w < 2; ++w) {
    const PoolIndex pi = w == 0 ? PoolIndex::Auto : PoolIndex::Int64;
    y[w] = empty(go.sizes(), f32), idx[w] = empty(go.sizes(), i64), yavg[w] = empty(go.sizes(), f32);
    gmax[w] = empty(x.sizes(), f32), gavg[w] = empty(x.sizes(), f32);
    kernels::cuda::max_pool3d_forward(DType::Float32, y[w].data_ptr(), idx[w].data_ptr<int64_t>(), x.data_ptr(), p,
                                      stream, pi);
    kernels::cuda::max_pool3d_backward(DType::Float32, gmax[w].data_ptr(), go.data_ptr(), idx[w].data_ptr<int64_t>(), p,
                                       stream, pi);
    kernels::cuda::avg_pool3d_forward(DType::Float32, yavg[w].data_ptr(), x.data_ptr(), p, false, 0, stream, pi);
    kernels::cuda::avg_pool3d_backward(DType::Float32, gavg[w].data_ptr(), go.data_ptr(), p, false, 0, stream, pi);
  }
  test::check_close(y[1].cpu(), y[0].cpu(), 0, 0);
  CHECK(idx[1].cpu().to_vector() == idx[0].cpu().to_vector());
  test::check_close(gmax[1].cpu(), gmax[0].cpu(), 0, 0);
  test::check_close(yavg[1].cpu(), yavg[0].cpu(), 0, 0);
  test::check_close(gavg[1].cpu(), gavg[0].cpu(), 0, 0);
}
#endif  // LOOM_WITH_CUDA
