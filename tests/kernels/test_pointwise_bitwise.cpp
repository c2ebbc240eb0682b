// The CUDA bitwise kernels (BitAnd, BitOr, BitXor through binary and
// binary_scalar, BitNot through unary) against their CPU twins on bool, int32
// and int64 values over the whole range of each type: contiguous loops of odd
// lengths (vector body and scalar tail), a misaligned start (no vector path),
// and a [37, 129, 5] loop with a transposed and a broadcast operand. Results
// must match exactly; the shifts likewise on int32 and int64 with amounts past
// both ends. Floating dtypes are rejected on both devices. Without a
// device every test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>

#include "test_util.h"

#ifdef LOOM_WITH_CUDA

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"
#include "kernels/pointwise.h"

#include "test_cuda_util.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
namespace kc = loom::kernels::cuda;
namespace kcpu = loom::kernels::cpu;
using namespace loom::test;

namespace {

template <typename T>
std::vector<store_t<T>> random_bits(size_t n, std::mt19937_64& rng) {
  std::vector<store_t<T>> v(n);
  for (auto& x : v) {
    uint64_t r = rng();
    if constexpr (std::is_same_v<T, bool>) x = r & 1;
    else x = static_cast<T>(r);
  }
  return v;
}

const BinaryOp kOps[] = {BinaryOp::BitAnd, BinaryOp::BitOr, BinaryOp::BitXor};

template <typename T>
void run_type(std::mt19937_64& rng) {
  using H = store_t<T>;
  const DType dt = dtype_of<T>::value;
  struct Case {
    ElementwiseLoop loop3, loop2;
    int64_t offset;  // elements skipped at the start of every buffer
    std::string name;
  };
  std::vector<Case> cases;
  for (int64_t n : {int64_t(1), int64_t(3), int64_t(1021), N3})
    cases.push_back({contiguous_loop(n, 3), contiguous_loop(n, 2), 0, "contiguous n=" + std::to_string(n)});
  cases.push_back({contiguous_loop(1021, 3), contiguous_loop(1021, 2), 1, "misaligned n=1021"});
  cases.push_back({strided_loop(3), strided_loop(2), 0, "transposed and broadcast [37, 129, 5]"});
  for (const Case& c : cases) {
    const size_t n = static_cast<size_t>(c.loop3.numel) + c.offset;
    const size_t buf = std::max<size_t>(n, N3 + 1);
    auto a = random_bits<T>(buf, rng), b = random_bits<T>(buf, rng);
    DevBuf<H> da(a), db(b), dout(buf);
    H* ga = da.get() + c.offset;
    H* gb = db.get() + c.offset;
    H* go = dout.get() + c.offset;
    const size_t outn = static_cast<size_t>(c.loop3.numel);
    std::vector<H> ref(outn);
    for (BinaryOp op : kOps) {
      const std::string what = c.name + " " + dtype_name(dt) + " op " + std::to_string(int(op));
      kcpu::binary(op, dt, ref.data(), a.data() + c.offset, b.data() + c.offset, c.loop3);
      kc::binary(op, dt, go, ga, gb, c.loop3, stream());
      check_close(to_host<H>(go, outn), ref, 0, 0, "binary " + what);
      // The front end sends scalars that a double holds exactly (|s| <= 2^53).
      const double s = std::is_same_v<T, bool> ? 1.0 : std::is_same_v<T, int32_t> ? -1717986919.0 : -4503599627370497.0;
      kcpu::binary_scalar(op, dt, ref.data(), a.data() + c.offset, s, c.loop2);
      kc::binary_scalar(op, dt, go, ga, s, c.loop2, stream());
      check_close(to_host<H>(go, outn), ref, 0, 0, "binary_scalar " + what);
    }
    kcpu::unary(UnaryOp::BitNot, dt, ref.data(), a.data() + c.offset, c.loop2);
    kc::unary(UnaryOp::BitNot, dt, go, ga, c.loop2, stream());
    check_close(to_host<H>(go, outn), ref, 0, 0, c.name + " bitwise_not " + dtype_name(dt));
  }
}

// Shl / Shr: random values, shift amounts from -5 to twice the width (both out-of-range rules), against
// the CPU twin exactly, as tensors and as numbers.
template <typename T>
void run_shifts(std::mt19937_64& rng) {
  const DType dt = dtype_of<T>::value;
  const int64_t n = 4099;
  const int64_t width = int64_t(sizeof(T) * 8);
  auto a = random_bits<T>(size_t(n), rng);
  std::vector<T> b(static_cast<size_t>(n));
  for (auto& x : b) x = static_cast<T>(int64_t(rng() % uint64_t(2 * width + 6)) - 5);
  DevBuf<T> da(a), db(b), dout(static_cast<size_t>(n));
  std::vector<T> ref(static_cast<size_t>(n));
  const ElementwiseLoop L3 = contiguous_loop(n, 3), L2 = contiguous_loop(n, 2);
  for (BinaryOp op : {BinaryOp::Shl, BinaryOp::Shr}) {
    const std::string what = std::string(dtype_name(dt)) + (op == BinaryOp::Shl ? " <<" : " >>");
    kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L3);
    kc::binary(op, dt, dout.get(), da.get(), db.get(), L3, stream());
    check_close(to_host<T>(dout.get(), size_t(n)), ref, 0, 0, what);
    for (double sh : {0.0, 3.0, double(width - 1), double(width), -1.0}) {
      kcpu::binary_scalar(op, dt, ref.data(), a.data(), sh, L2);
      kc::binary_scalar(op, dt, dout.get(), da.get(), sh, L2, stream());
      check_close(to_host<T>(dout.get(), size_t(n)), ref, 0, 0, what + " " + std::to_string(sh));
    }
  }
}

}  // namespace

TEST_CASE("cuda shift kernels match cpu; bool and floating dtypes are rejected", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937_64 rng(5);
  run_shifts<int32_t>(rng);
  run_shifts<int64_t>(rng);
  auto L = contiguous_loop(4, 3);
  DevBuf<double> buf(8);
  double host[4] = {0, 0, 0, 0};
  for (DType dt : {DType::Bool, DType::Float32, DType::Float64})
    for (BinaryOp op : {BinaryOp::Shl, BinaryOp::Shr}) {
      CHECK_THROWS_AS(kc::binary(op, dt, buf.get(), buf.get(), buf.get(), L, stream()), loom::Error);
      CHECK_THROWS_AS(kcpu::binary(op, dt, host, host, host, L), loom::Error);
    }
}

TEST_CASE("cuda bitwise kernels match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937_64 rng(3);
  run_type<bool>(rng);
  run_type<int32_t>(rng);
  run_type<int64_t>(rng);
}

TEST_CASE("cuda and cpu bitwise kernels reject floating dtypes", "[cuda]") {
  LOOM_REQUIRE_GPU();
  auto L = contiguous_loop(4, 3);
  DevBuf<double> buf(8);
  double host[4] = {0, 0, 0, 0};
  for (DType dt : {DType::Float32, DType::Float64}) {
    for (BinaryOp op : kOps) {
      CHECK_THROWS_AS(kc::binary(op, dt, buf.get(), buf.get(), buf.get(), L, stream()), loom::Error);
      CHECK_THROWS_AS(kc::binary_scalar(op, dt, buf.get(), buf.get(), 1.0, L, stream()), loom::Error);
      CHECK_THROWS_AS(kcpu::binary(op, dt, host, host, host, L), loom::Error);
      CHECK_THROWS_AS(kcpu::binary_scalar(op, dt, host, host, 1.0, L), loom::Error);
    }
    CHECK_THROWS_AS(kc::unary(UnaryOp::BitNot, dt, buf.get(), buf.get(), L, stream()), loom::Error);
    CHECK_THROWS_AS(kcpu::unary(UnaryOp::BitNot, dt, host, host, L), loom::Error);
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda bitwise kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
