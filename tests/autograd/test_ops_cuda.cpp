// Ops on CUDA tensors against the same ops on the CPU (the CPU twins), forward
// and backward, on odd shapes, strided and broadcast inputs. Skipped with a
// reason where no GPU is present.
#include <catch2/catch_test_macros.hpp>

#include "core/random.h"
#include "test_util.h"

using namespace loom;

namespace {

const Device kGPU("cuda:0");

Tensor rleaf(const Shape& s, double lo = -2, double hi = 2) {
  return (rand(s) * (hi - lo) + lo).detach().requires_grad_(true);
}

}  // namespace

TEST_CASE("CUDA elementwise ops match the CPU", "[cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(11);
  auto x = rleaf({37, 129});
  auto pos = rleaf({37, 129}, 0.1, 3);
  for (auto f : std::vector<std::function<Tensor(const Tensor&)>>{
           [](const Tensor& t) { return t.neg(); }, [](const Tensor& t) { return t.abs(); },
           [](const Tensor& t) { return t.exp(); }, [](const Tensor& t) { return t.sin(); },
           [](const Tensor& t) { return t.cos(); }, [](const Tensor& t) { return t.tanh(); },
           [](const Tensor& t) { return t.sigmoid(); }, [](const Tensor& t) { return t.relu(); },
           [](const Tensor& t) { return t.gelu(); }, [](const Tensor& t) { return t.gelu("tanh"); },
           [](const Tensor& t) { return t.silu(); }, [](const Tensor& t) { return t.square(); },
           [](const Tensor& t) { return t.t().sign(); }}) {
    test::compare_gpu([f](const TensorList& in) { return f(in[0]); }, {x});
  }
  for (auto f : std::vector<std::function<Tensor(const Tensor&)>>{
           [](const Tensor& t) { return t.log(); }, [](const Tensor& t) { return t.sqrt(); },
           [](const Tensor& t) { return t.rsqrt(); }, [](const Tensor& t) { return t.reciprocal(); }}) {
    test::compare_gpu([f](const TensorList& in) { return f(in[0]); }, {pos});
  }
  auto b = rleaf({129});
  auto c = rleaf({37, 1}, 0.5, 2);
  test::compare_gpu([](const TensorList& t) { return t[0] + t[1]; }, {x, b});
  test::compare_gpu([](const TensorList& t) { return t[0] - t[1].unsqueeze(0); }, {x, b});
  test::compare_gpu([](const TensorList& t) { return t[0] * t[1]; }, {x, c});
  test::compare_gpu([](const TensorList& t) { return t[0] / t[1]; }, {x, c});
  test::compare_gpu([](const TensorList& t) { return t[0].pow(t[1]); }, {pos, c});
  test::compare_gpu([](const TensorList& t) { return t[0].maximum(t[1]); }, {x, b});
  test::compare_gpu([](const TensorList& t) { return t[0].minimum(t[1].t()); }, {rleaf({5, 7}), rleaf({7, 5})});
  test::compare_gpu([](const TensorList& t) { return (t[0] * 2.5 - 1.0) / 3.0; }, {x});
  test::compare_gpu([](const TensorList& t) { return 2.0 / t[0]; }, {pos});
  test::compare_gpu([](const TensorList& t) { return where(t[0].gt(0.0), t[0], t[1]); }, {x, b});
  test::compare_gpu([](const TensorList& t) { return t[0].clamp(-0.5, 0.7); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].masked_fill(t[0].lt(0.0), 3.0); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].eq(t[0]).to(DType::Float32); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].to(DType::Float64).to(DType::Int32).to(DType::Float32); },
                    {x});
  auto xi = randint(-50, 50, {33, 17});
  test::compare_gpu([](const TensorList& t) { return t[0] * 3 + t[0].abs(); }, {xi});
  test::compare_gpu([](const TensorList& t) { return t[0] / 7; }, {xi});
}

TEST_CASE("CUDA reductions match the CPU", "[cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(12);
  auto x = rleaf({13, 257, 5});
  test::compare_gpu([](const TensorList& t) { return t[0].sum(); }, {x}, 1e-3, 1e-4);
  test::compare_gpu([](const TensorList& t) { return t[0].sum({1}); }, {x}, 1e-3, 1e-4);
  test::compare_gpu([](const TensorList& t) { return t[0].mean({0, 2}, true); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].amax({1}); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].amin({2}); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].max(1).first; }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].max(1).second.to(DType::Float32); }, {x.detach()});
  test::compare_gpu([](const TensorList& t) { return t[0].argmin().to(DType::Float32); }, {x.detach()});
  test::compare_gpu([](const TensorList& t) { return t[0].var({1}); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].std({0, 1}, false); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].norm(2.0, {1}); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].logsumexp({1}); }, {x});
  test::compare_gpu([](const TensorList& t) { return t[0].prod({2}); }, {rleaf({13, 257, 5}, 0.5, 1.5)});
  test::compare_gpu([](const TensorList& t) { return t[0].transpose(0, 1).sum({1}); }, {x});
  auto big = rand({3000001});
  test::compare_gpu([](const TensorList& t) { return t[0].sum(); }, {big}, 1e-1, 1e-5);
}

TEST_CASE("CUDA matmul, softmax and indexing match the CPU", "[cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(13);
  set_allow_tf32(false);
  test::compare_gpu([](const TensorList& t) { return t[0].matmul(t[1]); }, {rleaf({67, 33}), rleaf({33, 45})}, 1e-3,
                    1e-3);
  test::compare_gpu([](const TensorList& t) { return t[0].matmul(t[1]); }, {rleaf({3, 17, 9}), rleaf({9, 5})}, 1e-3,
                    1e-3);
  test::compare_gpu([](const TensorList& t) { return t[0].matmul(t[1].transpose(-1, -2)); },
                    {rleaf({2, 1, 7, 9}), rleaf({3, 5, 9})}, 1e-3, 1e-3);
  test::compare_gpu([](const TensorList& t) { return t[0].softmax(-1); }, {rleaf({31, 1027})});
  test::compare_gpu([](const TensorList& t) { return t[0].log_softmax(1); }, {rleaf({7, 33, 5})});
  auto idx = randint(0, 129, {77});
  test::compare_gpu([idx](const TensorList& t) { return t[0].index_select(1, idx.to(t[0].device())); },
                    {rleaf({37, 129})});
  auto gidx = randint(0, 50, {21, 7});
  test::compare_gpu([gidx](const TensorList& t) { return t[0].gather(1, gidx.to(t[0].device())); }, {rleaf({21, 50})});
  test::compare_gpu(
      [gidx](const TensorList& t) {
        return zeros({21, 50}, TensorOptions(DType::Float32, t[0].device()))
            .scatter_add(1, gidx.to(t[0].device()), t[0]);
      },
      {rleaf({21, 7})}, 1e-4, 1e-4);
  test::compare_gpu([](const TensorList& t) { return cat({t[0], t[1].t()}, 0); }, {rleaf({3, 5}), rleaf({5, 4})});
  test::compare_gpu([](const TensorList& t) { return t[0].masked_select(t[0].gt(0.0)); }, {rleaf({9, 11})});
  auto bad = from_vector<int64_t>({0, 200}, {2}).to(kGPU);
  auto src = randn({4, 100}, TensorOptions(DType::Float32, kGPU));
  CHECK_THROWS_AS(
      [&] {
        src.index_select(1, bad);
        cuda::synchronize();
      }(),
      Error);
}

TEST_CASE("CUDA random numbers equal the CPU ones for the same seed", "[cuda]") {
  LOOM_REQUIRE_GPU();
  for (DType dt : {DType::Float32, DType::Float64}) {
    manual_seed(99);
    auto uc = rand({1001}, dt);
    auto nc = randn({1003}, dt);
    auto ic = randint(-5, 1000, {1002});
    manual_seed(99);
    auto ug = rand({1001}, TensorOptions(dt, kGPU));
    auto ng = randn({1003}, TensorOptions(dt, kGPU));
    auto ig = randint(-5, 1000, {1002}, TensorOptions(DType::Int64, kGPU));
    test::check_close(ug.cpu(), uc, 0, 0);
    test::check_close(ng.cpu(), nc, 0, 0);  // the normals too: core/philox.h's own log, sin, cos
    test::check_close(ig.cpu(), ic, 0, 0);
  }
}

TEST_CASE("tensor allocations reuse the CUDA cache in steady state", "[cuda]") {
  LOOM_REQUIRE_GPU();
  if (!loom::cuda::device_allocator(0).caching()) SKIP("LOOM_NO_CUDA_MEMORY_CACHING is set: the cache is off");
  auto step = [] {
    auto a = randn({256, 256}, TensorOptions(DType::Float32, kGPU)).requires_grad_();
    auto y = (a.matmul(a).relu() * 2.0).sum();
    y.backward();
  };
  step();
  cuda::synchronize();
  auto before = cuda::memory_stats(0);
  for (int i = 0; i < 10; ++i) step();
  cuda::synchronize();
  auto after = cuda::memory_stats(0);
  CHECK(after.num_device_allocs == before.num_device_allocs);
  CHECK(after.num_cache_hits > before.num_cache_hits);
  CHECK(after.peak_allocated_bytes >= after.allocated_bytes);
  cuda::empty_cache();
  CHECK(cuda::memory_stats(0).reserved_bytes <= after.reserved_bytes);
}

TEST_CASE("copies between host and device round-trip", "[cuda]") {
  LOOM_REQUIRE_GPU();
  auto x = randn({7, 9}, DType::Float64);
  test::check_close(x.to(kGPU).cpu(), x, 0, 0);
  test::check_close(x.t().to(kGPU).cpu(), x.t().contiguous(), 0, 0);
  auto g = zeros({9, 7}, TensorOptions(DType::Float32, kGPU));
  g.copy_(x.t());
  test::check_close(g.cpu(), x.t().contiguous(), 1e-6, 1e-6);
  auto nb = x.to(kGPU, true);
  cuda::synchronize();
  test::check_close(nb.cpu(), x, 0, 0);
  CHECK(x.to(kGPU).str().find("device='cuda:0'") != std::string::npos);
}
