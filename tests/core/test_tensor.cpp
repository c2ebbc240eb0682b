// Tensor metadata, views, factories, printing, broadcasting and errors.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/ops.h"
#include "core/allocator.h"
#include "core/print.h"
#include "core/random.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

namespace {
Tensor seq(const Shape& shape, DType dt = DType::Float32) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), TensorOptions(dt)).reshape(shape);
}
}  // namespace

TEST_CASE("factories give the documented shapes, dtypes and values", "[core]") {
  auto z = zeros({2, 3});
  CHECK(z.sizes() == Shape{2, 3});
  CHECK(z.dtype() == DType::Float32);
  CHECK(z.is_contiguous());
  CHECK(z.strides() == Shape{3, 1});
  test::check_close(z, std::vector<double>(6, 0.0));
  test::check_close(ones({4}, DType::Int32), std::vector<double>(4, 1.0));
  test::check_close(full({2}, 2.5, DType::Float64), {2.5, 2.5});
  CHECK(full({2}, 2.5, DType::Float64).dtype() == DType::Float64);
  test::check_close(arange(5), {0, 1, 2, 3, 4});
  CHECK(arange(5).dtype() == DType::Int64);
  CHECK(arange(0.0, 1.0, 0.25).dtype() == DType::Float32);
  test::check_close(arange(0.0, 1.0, 0.25), {0, 0.25, 0.5, 0.75});
  test::check_close(linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1.0});
  test::check_close(eye(2, 3), {1, 0, 0, 0, 1, 0});
  CHECK(empty({0, 3}).numel() == 0);
  test::check_close(zeros_like(ones({3}, DType::Int64)), {0, 0, 0});
  CHECK(zeros_like(ones({3}, DType::Int64)).dtype() == DType::Int64);
  auto v = from_vector<double>({1, 2, 3, 4}, {2, 2});
  CHECK(v.dtype() == DType::Float64);
  test::check_close(v, {1, 2, 3, 4});
  CHECK(scalar_tensor(3, DType::Int64).dim() == 0);
  CHECK(scalar_tensor(3, DType::Int64).item<int64_t>() == 3);
  CHECK(test::error_kind([] { zeros({-1, 2}); }) == ErrorKind::Runtime);
}

TEST_CASE("random factories are reproducible and in range", "[core][random]") {
  manual_seed(123);
  auto a = rand({1000});
  auto n1 = randn({1001});
  manual_seed(123);
  auto b = rand({1000});
  auto n2 = randn({1001});
  test::check_close(a, b, 0, 0);
  test::check_close(n1, n2, 0, 0);
  CHECK(a.min().item<double>() >= 0.0);
  CHECK(a.max().item<double>() < 1.0);
  auto c = rand({1000});  // the generator moved on
  CHECK_FALSE(test::allclose(a.to_vector(), c.to_vector()));
  auto big = randn({200000}, DType::Float64);
  CHECK(std::fabs(big.mean().item<double>()) < 0.01);
  CHECK(std::fabs(big.std().item<double>() - 1.0) < 0.01);
  auto r = randint(3, 7, {10000});
  CHECK(r.dtype() == DType::Int64);
  CHECK(r.min().item<int64_t>() == 3);
  CHECK(r.max().item<int64_t>() == 6);
  auto p = randperm(50);
  auto sorted = p.to(DType::Float64).to_vector();
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  // randperm is the stable argsort of float64 uniform keys drawn from the generator (its radix sort must
  // give that order, ties included: 2^17 keys of 32 bits hold a few equal pairs).
  {
    const int64_t n = 131101;
    auto st0 = get_rng_state(Device());
    auto keys = rand({n}, DType::Float64).to_vector();
    set_rng_state(Device(), st0);
    auto perm = randperm(n);
    std::vector<int64_t> want(n);
    for (int64_t i = 0; i < n; ++i) want[i] = i;
    std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
    const int64_t* got = static_cast<const int64_t*>(perm.data_ptr());
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += got[i] != want[i];
    CHECK(bad == 0);
  }
  // The generator state can be saved and restored.
  auto st = get_rng_state(Device());
  auto x1 = randn({7});
  set_rng_state(Device(), st);
  test::check_close(randn({7}), x1, 0, 0);
}

TEST_CASE("views share storage and compute strides", "[core][view]") {
  auto x = seq({2, 3, 4});
  auto t = x.transpose(0, 2);
  CHECK(t.sizes() == Shape{4, 3, 2});
  CHECK(t.strides() == Shape{1, 4, 12});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.storage() == x.storage());
  auto p = x.permute({1, 2, 0});
  CHECK(p.sizes() == Shape{3, 4, 2});
  test::check_close(p.contiguous().select(0, 1).select(0, 2), {6, 18});
  auto s = x.slice(2, 1, 4, 2);
  CHECK(s.sizes() == Shape{2, 3, 2});
  test::check_close(s.select(0, 0).select(0, 0), {1, 3});
  auto n = x.narrow(1, 1, 2);
  CHECK(n.storage_offset() == 4);
  test::check_close(x.select(-1, -1).reshape({6}), {3, 7, 11, 15, 19, 23});
  auto e = seq({3, 1}).expand({2, 3, 4});
  CHECK(e.strides() == Shape{0, 1, 0});
  test::check_close(e.select(0, 1).select(1, 3), {0, 1, 2});
  CHECK(seq({1, 3, 1}).squeeze().sizes() == Shape{3});
  CHECK(seq({1, 3, 1}).squeeze(0).sizes() == Shape{3, 1});
  CHECK(seq({3}).unsqueeze(0).unsqueeze(-1).sizes() == Shape{1, 3, 1});
  CHECK(x.flatten(1).sizes() == Shape{2, 12});
  CHECK(x.flatten().sizes() == Shape{24});
  CHECK(x.view({4, -1}).sizes() == Shape{4, 6});
  CHECK(x.unflatten(2, {2, 2}).sizes() == Shape{2, 3, 2, 2});
  // reshape of a non-contiguous tensor copies only when it must.
  auto tv = x.transpose(1, 2).reshape({2, 4, 3});
  CHECK(tv.storage() == x.storage());
  auto tc = x.transpose(1, 2).reshape({8, 3});
  CHECK(tc.storage() != x.storage());
  test::check_close(tc.select(0, 1), {1, 5, 9});
  // Splits and chunks.
  auto parts = seq({10}).split(4);
  REQUIRE(parts.size() == 3);
  CHECK(parts[2].sizes() == Shape{2});
  auto ch = seq({10}).chunk(3);
  REQUIRE(ch.size() == 3);
  CHECK(ch[0].numel() == 4);
  auto ws = seq({6}).split_with_sizes({1, 2, 3});
  test::check_close(ws[2], {3, 4, 5});
  CHECK(seq({2, 3}).unbind(1).size() == 3);
  // as_strided: a sliding window.
  auto w = seq({6}).as_strided({4, 3}, {1, 1});
  test::check_close(w.select(0, 3), {3, 4, 5});
  // Writes through a view reach the base and bump the shared version.
  auto base = zeros({2, 2});
  auto v0 = base.version();
  base.select(0, 1).fill_(7.0);
  test::check_close(base, {0, 0, 7, 7});
  CHECK(base.version() > v0);
}

TEST_CASE("view errors name shapes and raise the documented kinds", "[core][errors]") {
  auto x = seq({2, 3});
  CHECK(test::error_kind([&] { x.transpose(0, 1).view({6}); }) == ErrorKind::Runtime);
  CHECK_THROWS_WITH(x.transpose(0, 1).view({6}), ContainsSubstring("reshape"));
  CHECK_THROWS_WITH(x.view({4, -1}), ContainsSubstring("invalid for input of size 6"));
  CHECK(test::error_kind([&] { x.select(2, 0); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { x.select(0, 5); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { x.sum({3}); }) == ErrorKind::Index);
  CHECK_THROWS_WITH(x.expand({4, 4}), ContainsSubstring("must match the existing size"));
  CHECK(test::error_kind([&] { x.permute({0, 0}); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { x.narrow(1, 2, 5); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { Tensor().sizes(); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { x.item(); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { x.data_ptr<double>(); }) == ErrorKind::Type);
  CHECK(test::error_kind([] { parse_dtype("float17"); }) == ErrorKind::Type);
  CHECK(test::error_kind([] { Device("tpu:0"); }) == ErrorKind::Runtime);
}

TEST_CASE("broadcasting follows NumPy rules", "[core][broadcast]") {
  CHECK(broadcast_shapes({3, 1, 5}, {4, 1}) == Shape{3, 4, 5});
  CHECK(broadcast_shapes({}, {2, 2}) == Shape{2, 2});
  CHECK_THROWS_WITH(broadcast_shapes({3, 2}, {4, 2}), ContainsSubstring("[3, 2]") && ContainsSubstring("[4, 2]"));
  auto a = seq({3, 1});
  auto b = seq({4});
  auto c = a + b;
  CHECK(c.sizes() == Shape{3, 4});
  test::check_close(c.select(0, 2), {2, 3, 4, 5});
}

TEST_CASE("dtype conversion and promotion", "[core][dtype]") {
  auto i = arange(4);
  CHECK((i + 1).dtype() == DType::Int64);
  CHECK((i + 1.5).dtype() == DType::Float32);
  CHECK((i / 2).dtype() == DType::Float32);
  test::check_close(i / 2, {0, 0.5, 1, 1.5});
  CHECK((i.to(DType::Int32) + i).dtype() == DType::Int64);
  CHECK((ones({2}) + ones({2}, DType::Float64)).dtype() == DType::Float64);
  // A 0-d tensor does not raise the dtype of the same category.
  CHECK((ones({2}) + scalar_tensor(1.0, DType::Float64)).dtype() == DType::Float32);
  auto f = from_vector<double>({-1.7, 0.2, 2.9}, {3});
  test::check_close(f.to(DType::Int64), {-1, 0, 2});
  test::check_close(f.to(DType::Bool), {1, 1, 1});
  test::check_close(from_vector<bool>({true, false}, {2}).to(DType::Float32), {1, 0});
  CHECK(i.gt(1).dtype() == DType::Bool);
  CHECK_THROWS(i.add_(0.5));  // float result into an int tensor
}

TEST_CASE("printing looks like PyTorch", "[core][print]") {
  CHECK(from_vector<float>({1, 2.5f}, {2}).str() == "tensor([1.0000, 2.5000])");
  CHECK(from_vector<float>({1, 2}, {2}).str() == "tensor([1., 2.])");
  CHECK(arange(3).str() == "tensor([0, 1, 2])");
  CHECK(from_vector<double>({1.5}, {1}).str() == "tensor([1.5000], dtype=loom.float64)");
  CHECK(scalar_tensor(3, DType::Int64).str() == "tensor(3)");
  CHECK(from_vector<bool>({true, false}, {2}).str() == "tensor([ True, False])");  // one width, as PyTorch
  CHECK(from_vector<float>({1, 2000}, {2}).str() == "tensor([1.0000e+00, 2.0000e+03])");
  CHECK(zeros({0, 3}).str() == "tensor([], size=(0, 3))");
  CHECK(zeros({0}, TensorOptions(DType::Int64)).str() == "tensor([], dtype=loom.int64)");
  CHECK(arange(30).str() ==
        "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
        "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])");
  PrintOptions saved = print_options();
  PrintOptions o = saved;
  o.precision = 2;
  o.sci_mode = 1;
  set_print_options(o);
  CHECK(from_vector<float>({1.5f}, {1}).str() == "tensor([1.50e+00])");
  set_print_options(saved);
  o.linewidth = 0;
  CHECK_THROWS_AS(set_print_options(o), Error);
  auto two = arange(4).reshape({2, 2});
  CHECK(two.str() == "tensor([[0, 1],\n        [2, 3]])");
  auto big = zeros({2000});
  CHECK_THAT(big.str(), ContainsSubstring("..."));
  auto g = ones({2}).requires_grad_();
  CHECK_THAT(g.str(), ContainsSubstring("requires_grad=True"));
  CHECK_THAT((g * 2).str(), ContainsSubstring("grad_fn=<MulBackward1>"));
}

TEST_CASE("CUDA tensors without a GPU raise a clear error", "[core][errors]") {
  if (cuda::is_available()) SKIP("a GPU is present");
  CHECK(cuda::device_count() == 0);
  CHECK_THROWS_WITH(zeros({2}, Device("cuda")), ContainsSubstring("CUDA"));
  CHECK_THROWS_WITH(ones({2}).to(Device("cuda")), ContainsSubstring("CUDA"));
}

TEST_CASE("the op list is complete and observable", "[core][ops]") {
  CHECK(std::string(op_name(Op::add)) == "add");
  CHECK(std::string(op_family(Op::matmul)) == "matmul");
  struct Counter : OpObserver {
    int enter = 0, exit = 0;
    std::vector<Op> seen;
    void on_enter(Op op) override {
      ++enter;
      seen.push_back(op);
    }
    void on_exit(Op) override { ++exit; }
  } counter;
  set_op_observer(&counter);
  auto y = ones({2}) + ones({2});
  (void)y;
  set_op_observer(nullptr);
  CHECK(counter.enter == counter.exit);
  CHECK(std::find(counter.seen.begin(), counter.seen.end(), Op::add) != counter.seen.end());
}

TEST_CASE("transposed copies (tiled path) keep every element in place", "[core][copy]") {
  for (Shape shape : {Shape{37, 45}, Shape{3, 70, 33}, Shape{2, 2, 64, 17}}) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    auto x = arange(n).reshape(shape);
    const int64_t nd = static_cast<int64_t>(shape.size());
    auto t = x.transpose(nd - 1, nd - 2);
    for (DType dt : {DType::Int64, DType::Float32, DType::Float64}) {
      auto c = t.to(dt).contiguous();  // converts, then the transpose copy
      auto d = t.contiguous().to(dt);  // transpose copy in int64
      auto cv = c.to_vector(), dv = d.to_vector();
      REQUIRE(cv == dv);
      // Slice 0 against index arithmetic on the last two dims.
      const int64_t rows = shape[nd - 1], cols = shape[nd - 2];
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) REQUIRE(cv[i * cols + j] == static_cast<double>(j * rows + i));
    }
  }
}

TEST_CASE("large host tensors reuse cached blocks", "[core][allocator]") {
  auto step = [] {
    auto a = randn({512, 1024});  // 2 MiB: cached
    auto b = (a * 2.0).relu().sum({0});
    (void)b;
  };
  step();
  auto before = cpu_memory_stats();
  for (int i = 0; i < 10; ++i) step();
  auto after = cpu_memory_stats();
  CHECK(after.num_device_allocs == before.num_device_allocs);
  CHECK(after.num_cache_hits > before.num_cache_hits);
  cpu_empty_cache();
  CHECK(cpu_memory_stats().reserved_bytes == cpu_memory_stats().allocated_bytes);
}

TEST_CASE("integer tensors print their exact values", "[core][print]") {
  Tensor t = from_vector<int64_t>({INT64_MAX, -5, INT64_MIN}, {3});
  CHECK(t.str() == "tensor([ 9223372036854775807,                   -5, -9223372036854775808])");
  CHECK(from_vector<int64_t>({(int64_t(1) << 53) + 1}, {}).str() == "tensor(9007199254740993)");
}

TEST_CASE("set_default_dtype: factories, Python-style scalars and integer promotion follow it", "[core][dtype]") {
  CHECK(default_dtype() == DType::Float32);
  struct Reset {
    ~Reset() { set_default_dtype(DType::Float32); }
  } reset;
  set_default_dtype(DType::Float64);
  CHECK(zeros({2}).dtype() == DType::Float64);
  CHECK(randn({2}).dtype() == DType::Float64);
  CHECK(TensorOptions().dtype == DType::Float64);
  CHECK(arange(Scalar(0.0), Scalar(1.0), Scalar(0.5)).dtype() == DType::Float64);
  CHECK(Scalar(1.5).default_dtype() == DType::Float64);
  Tensor i = arange(Scalar(int64_t(3)));
  CHECK(i.dtype() == DType::Int64);
  CHECK(i.mul(Scalar(1.5)).dtype() == DType::Float64);
  CHECK(i.div(i).dtype() == DType::Float64);
  CHECK(i.sqrt().dtype() == DType::Float64);
  CHECK(ones({2}).str().find("dtype") == std::string::npos);
  CHECK_THAT(ones({2}, TensorOptions(DType::Float32)).str(), ContainsSubstring("dtype=loom.float32"));
  CHECK_THROWS_AS(set_default_dtype(DType::Int64), Error);
  CHECK(default_dtype() == DType::Float64);
  set_default_dtype(DType::Float32);
  CHECK(zeros({2}).dtype() == DType::Float32);
}

TEST_CASE("int64 scalars beyond 2^53 stay exact (full, fill_, arange, scalar ops, clamp, masked_fill)",
          "[core][dtype]") {
  const int64_t big = (int64_t(1) << 53) + 1;  // a double rounds it to 2^53
  const TensorOptions i64(DType::Int64);
  auto values = [](const Tensor& t) {
    Tensor c = t.contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  using V = std::vector<int64_t>;
  CHECK(values(full({2}, Scalar(big), i64)) == V{big, big});
  CHECK(values(zeros({1}, i64).fill_(Scalar(big))) == V{big});
  CHECK(values(arange(Scalar(big), Scalar(big + 2), Scalar(int64_t(1)))) == V{big, big + 1});
  Tensor z = zeros({1}, i64);
  CHECK(values(z.add(Scalar(big))) == V{big});
  CHECK(values(zeros({1}, i64).add_(Scalar(big))) == V{big});
  CHECK(values(z.clamp(Scalar(big), std::nullopt)) == V{big});
  CHECK(values(z.masked_fill(full({1}, Scalar(true), TensorOptions(DType::Bool)), Scalar(big))) == V{big});
}
