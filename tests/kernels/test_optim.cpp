// CPU optimizer kernels (sgd, adam) against naive references written here;
// [cuda] the multi-tensor CUDA kernels against the CPU twins.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <vector>

#include "kernels/optim.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::cast;
using loom::test::check_close;
using loom::test::dbl;
using loom::test::random_doubles;

TEST_CASE("cpu sgd and adam kernels vs reference", "[kernels][optim]") {
  const int64_t n = 1037;
  auto p0 = random_doubles(n, -1, 1, 5), g = random_doubles(n, -1, 1, 6), b0 = random_doubles(n, -1, 1, 7);
  {
    auto p = p0, buf = b0;
    kc::sgd_step(DType::Float64, p.data(), g.data(), buf.data(), n, 0.1, 0.9, 0.2, false, 0.01, false);
    for (int64_t i = 0; i < n; ++i) {
      const double d = g[i] + 0.01 * p0[i];
      const double nb = 0.9 * b0[i] + 0.8 * d;
      check_close(buf[i], nb, 1e-14, 1e-12);
      check_close(p[i], p0[i] - 0.1 * nb, 1e-14, 1e-12);
    }
  }
  {
    auto p = p0, m = b0, v = random_doubles(n, 0, 1, 8);
    auto v0 = v;
    kc::adam_step(DType::Float64, p.data(), g.data(), m.data(), v.data(), nullptr, n, 1e-2, 0.9, 0.99, 1e-8, 0.1, true,
                  2);
    for (int64_t i = 0; i < n; ++i) {
      const double pi = p0[i] * (1 - 1e-3);
      const double mi = 0.9 * b0[i] + 0.1 * g[i], vi = 0.99 * v0[i] + 0.01 * g[i] * g[i];
      const double ref = pi - 1e-2 / (1 - 0.81) * mi / (std::sqrt(vi) / std::sqrt(1 - 0.9801) + 1e-8);
      check_close(p[i], ref, 1e-13, 1e-11);
    }
  }
}

TEST_CASE("cpu adam kernel with amsgrad vs reference", "[kernels][optim]") {
  const int64_t n = 517;
  auto p0 = random_doubles(n, -1, 1, 15), g = random_doubles(n, -1, 1, 16), m0 = random_doubles(n, -1, 1, 17);
  auto v0 = random_doubles(n, 0, 1, 18), vm0 = random_doubles(n, 0, 1, 19);
  vm0[3] = NAN;  // a NaN maximum stays NaN (torch.maximum)
  auto p = p0, m = m0, v = v0, vm = vm0;
  kc::adam_step(DType::Float64, p.data(), g.data(), m.data(), v.data(), vm.data(), n, 1e-2, 0.9, 0.99, 1e-8, 0.1, false,
                3);
  for (int64_t i = 0; i < n; ++i) {
    const double gi = g[i] + 0.1 * p0[i];
    const double mi = 0.9 * m0[i] + 0.1 * gi, vi = 0.99 * v0[i] + 0.01 * gi * gi;
    const double vmax = std::isnan(vm0[i]) ? vm0[i] : std::max(vm0[i], vi);
    const double ref = p0[i] - 1e-2 / (1 - 0.729) * mi / (std::sqrt(vmax) / std::sqrt(1 - 0.970299) + 1e-8);
    if (i == 3) {
      CHECK(std::isnan(vm[i]));
      CHECK(std::isnan(p[i]));
      continue;
    }
    check_close(vm[i], vmax, 1e-14, 1e-14);
    check_close(p[i], ref, 1e-13, 1e-11);
    check_close(v[i], vi, 1e-14, 1e-14);
  }
}

#ifdef LOOM_WITH_CUDA
using loom::test::DevBuf;

TEST_CASE("cuda multi-tensor optimizer kernels match the CPU twins", "[kernels][optim][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  std::vector<int64_t> sizes{1, 1000, 70000, 131073};
  std::vector<std::vector<float>> p, g, m, v;
  for (size_t k = 0; k < sizes.size(); ++k) {
    p.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 30 + k)));
    g.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 40 + k)));
    m.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 50 + k)));
    v.push_back(cast<float>(random_doubles(sizes[k], 0, 1, 60 + k)));
  }
  std::vector<DevBuf<float>> P, G, Mb, Vb;
  std::vector<kg::TensorSlot> slots;
  std::vector<kg::ChunkRef> chunks;
  for (size_t k = 0; k < sizes.size(); ++k) {
    P.emplace_back(p[k]);
    G.emplace_back(g[k]);
    Mb.emplace_back(m[k]);
    Vb.emplace_back(v[k]);
    slots.push_back({{P[k].get(), G[k].get(), Mb[k].get(), Vb[k].get(), nullptr}, sizes[k]});
    for (int64_t s = 0; s < sizes[k]; s += kg::kChunkSize) chunks.push_back({static_cast<int32_t>(k), 0, s});
  }
  DevBuf<kg::TensorSlot> S(slots);
  DevBuf<kg::ChunkRef> Cb(chunks);
  kg::adam_step_multi(DType::Float32, S.get(), Cb.get(), static_cast<int64_t>(chunks.size()), 1e-3, 0.9, 0.999, 1e-8,
                      0.01, true, 3, nullptr);
  kg::sgd_step_multi(DType::Float32, S.get(), Cb.get(), static_cast<int64_t>(chunks.size()), 0.1, 0.9, 0.0, true, 0.01,
                     false, nullptr);
  for (size_t k = 0; k < sizes.size(); ++k) {
    kc::adam_step(DType::Float32, p[k].data(), g[k].data(), m[k].data(), v[k].data(), nullptr, sizes[k], 1e-3, 0.9,
                  0.999, 1e-8, 0.01, true, 3);
    // The SGD pass uses slot ptr[2] (exp_avg) as its momentum buffer.
    kc::sgd_step(DType::Float32, p[k].data(), g[k].data(), m[k].data(), sizes[k], 0.1, 0.9, 0.0, true, 0.01, false);
    check_close(P[k].host(), dbl(p[k]), 1e-6, 1e-5);
    check_close(Mb[k].host(), dbl(m[k]), 1e-6, 1e-5);
    check_close(Vb[k].host(), dbl(v[k]), 1e-7, 1e-5);
  }
}

TEST_CASE("cuda multi-tensor adam with amsgrad matches the CPU twin", "[kernels][optim][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  std::vector<int64_t> sizes{3, 70000};
  std::vector<std::vector<float>> p, g, m, v, vm;
  for (size_t k = 0; k < sizes.size(); ++k) {
    p.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 70 + k)));
    g.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 80 + k)));
    m.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 90 + k)));
    v.push_back(cast<float>(random_doubles(sizes[k], 0, 1, 100 + k)));
    vm.push_back(cast<float>(random_doubles(sizes[k], 0, 1, 110 + k)));
  }
  vm[0][1] = NAN;
  std::vector<DevBuf<float>> P, G, Mb, Vb, VMb;
  std::vector<kg::TensorSlot> slots;
  std::vector<kg::ChunkRef> chunks;
  for (size_t k = 0; k < sizes.size(); ++k) {
    P.emplace_back(p[k]);
    G.emplace_back(g[k]);
    Mb.emplace_back(m[k]);
    Vb.emplace_back(v[k]);
    VMb.emplace_back(vm[k]);
    slots.push_back({{P[k].get(), G[k].get(), Mb[k].get(), Vb[k].get(), VMb[k].get()}, sizes[k]});
    for (int64_t s = 0; s < sizes[k]; s += kg::kChunkSize) chunks.push_back({static_cast<int32_t>(k), 0, s});
  }
  DevBuf<kg::TensorSlot> S(slots);
  DevBuf<kg::ChunkRef> Cb(chunks);
  kg::adam_step_multi(DType::Float32, S.get(), Cb.get(), static_cast<int64_t>(chunks.size()), 1e-3, 0.9, 0.999, 1e-8,
                      0.01, false, 4, nullptr);
  for (size_t k = 0; k < sizes.size(); ++k) {
    kc::adam_step(DType::Float32, p[k].data(), g[k].data(), m[k].data(), v[k].data(), vm[k].data(), sizes[k], 1e-3, 0.9,
                  0.999, 1e-8, 0.01, false, 4);
    auto hp = P[k].host(), hvm = VMb[k].host();
    for (int64_t i = 0; i < sizes[k]; ++i) {
      if (std::isnan(vm[k][i])) {
        CHECK(std::isnan(hvm[i]));
        CHECK(std::isnan(hp[i]));
        continue;
      }
      check_close(hvm[i], vm[k][i], 1e-7, 1e-6);
      check_close(hp[i], p[k][i], 1e-6, 1e-5);
    }
  }
}
#else
TEST_CASE("cuda optimizer kernels match the CPU twins", "[kernels][optim][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
