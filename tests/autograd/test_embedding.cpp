// embedding (values, padding_idx, errors, gradients with repeated indices),
// plus a [cuda] comparison with the CPU.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/embedding.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;
using test::leaf;

namespace {
const Device kGPU("cuda:0");
}

TEST_CASE("embedding gathers rows", "[embedding]") {
  manual_seed(20);
  Tensor w = randn({6, 3});
  Tensor idx = from_vector<int64_t>({1, 5, 1, 0, 2, 2}, {2, 3});
  Tensor y = embedding(idx, w);
  CHECK(y.sizes() == Shape{2, 3, 3});
  check_close(y.reshape({6, 3}), w.index_select(0, idx.reshape({6})), 0, 0);
  check_close(embedding(idx.to(DType::Int32), w), y, 0, 0);
  CHECK(embedding(zeros({0}, TensorOptions(DType::Int64)), w).sizes() == Shape{0, 3});
  CHECK_THROWS_WITH(embedding(from_vector<int64_t>({6}, {1}), w), ContainsSubstring("index 6 is out of range"));
  CHECK_THROWS_WITH(embedding(idx, w, 6), ContainsSubstring("padding_idx"));
  CHECK_THROWS_WITH(embedding(idx.to(DType::Float32), w), ContainsSubstring("int64"));
  CHECK_THROWS_WITH(embedding(idx, randn({6})), ContainsSubstring("num_embeddings, embedding_dim"));
}

TEST_CASE("embedding backward: repeated indices, padding_idx", "[embedding]") {
  manual_seed(21);
  Tensor idx = from_vector<int64_t>({1, 5, 1, 0, 2, 2, 5}, {7});
  Tensor w = randn({6, 3}).requires_grad_(true);
  Tensor g = randn({7, 3});
  embedding(idx, w, -1).backward(g);  // -1 counts from the end: row 5
  Tensor ref = zeros({6, 3}).scatter_add(0, idx.unsqueeze(1).expand({7, 3}), g);
  std::vector<double> r = ref.to_vector();
  for (int j = 0; j < 3; ++j) r[5 * 3 + j] = 0;
  check_close(w.grad(), r);
  auto wd = leaf({6, 3});
  check_grad([&](const TensorList& t) { return embedding(idx, t[0]); }, {wd});
  check_grad(
      [&](const TensorList& t) {
        return embedding(idx.view({7, 1}), t[0], 3);
      },
      {wd});  // row 3 unused: its zero grad is exact
  // Double backward through the create_graph composition.
  Tensor gg = randn({7, 3}, TensorOptions(DType::Float64));
  check_grad(
      [&](const TensorList& t) {
        autograd::EnableGradGuard eg;
        Tensor y = embedding(idx, t[0], 4) * t[0].sum();
        auto gr = autograd::grad({y}, {t[0]}, {gg}, true, true);
        return (gr[0] * gr[0]).sum();
      },
      {wd});
}

TEST_CASE("CUDA embedding matches the CPU", "[embedding][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(24);
  Tensor idx = randint(0, 37, {5, 41});
  for (int64_t D : {1, 3, 129}) {
    Tensor w = randn({37, D});
    Tensor wc = w.clone().requires_grad_(true), wg = w.to(kGPU).requires_grad_(true);
    Tensor yc = embedding(idx, wc, 4), yg = embedding(idx.to(kGPU), wg, 4);
    check_close(yg.cpu(), yc, 0, 0);
    Tensor g = randn(yc.sizes());
    yc.backward(g);
    yg.backward(g.to(kGPU));
    check_close(wg.grad().cpu(), wc.grad(), 1e-5, 1e-5);
  }
}
