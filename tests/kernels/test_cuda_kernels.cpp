// Every CUDA kernel against its CPU twin on random inputs with odd shapes
// (37 x 129 x 5: no tile multiples), through contiguous, strided (transposed)
// and broadcast loops, checked by |gpu - ref| <= atol + rtol * |ref|. Also:
// Philox CPU == CUDA, the device index-error flag, copies, and the caching
// allocator in steady state. Without a device every test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>

#include "test_util.h"

#ifdef LOOM_WITH_CUDA

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cuda/kernels.h"
#include "test_cuda_util.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
namespace lc = loom::cuda;            // runtime
namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins
using namespace loom::test;

namespace {

template <typename T>
std::vector<store_t<T>> random_vec(size_t n, std::mt19937& rng, double lo = -2, double hi = 2) {
  std::vector<store_t<T>> v(n);
  std::uniform_real_distribution<double> d(lo, hi);
  for (auto& x : v) {
    double r = d(rng);
    if constexpr (std::is_same_v<T, bool>) x = r > 0;
    else if constexpr (std::is_integral_v<T>) x = static_cast<T>(std::floor(r));
    else x = static_cast<T>(r);
  }
  return v;
}

template <typename T>
double tol() {
  return std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-12 : 0;
}

// Elements each operand of strided_loop needs.
int64_t operand_size(int op) { return op == 2 ? D1 : N3; }

// Reduction of a contiguous input of `shape` over the dims flagged in `red`;
// the output is contiguous over the kept dims.
ReduceLoop reduce_loop(const std::vector<int64_t>& shape, const std::vector<bool>& red) {
  ReduceLoop L;
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) strides[d] = s, s *= shape[d];
  L.out_ndim = 0, L.red_ndim = 0, L.out_numel = 1, L.red_numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (red[d]) {
      L.red_sizes[L.red_ndim] = shape[d], L.red_strides[L.red_ndim++] = strides[d], L.red_numel *= shape[d];
    } else {
      L.out_sizes[L.out_ndim] = shape[d], L.in_out_strides[L.out_ndim++] = strides[d], L.out_numel *= shape[d];
    }
  }
  if (L.out_ndim == 0) L.out_ndim = 1, L.out_sizes[0] = 1, L.in_out_strides[0] = 0;
  if (L.red_ndim == 0) L.red_ndim = 1, L.red_sizes[0] = 1, L.red_strides[0] = 0;
  int64_t os = 1;
  for (int d = L.out_ndim - 1; d >= 0; --d) L.out_strides[d] = os, os *= L.out_sizes[d];
  return L;
}

}  // namespace

TEST_CASE("cuda unary matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(1);
  auto run = [&](auto tag, const std::vector<UnaryOp>& ops, double lo) {
    using T = decltype(tag);
    for (auto L : {contiguous_loop(N3, 2), strided_loop(2)}) {
      auto x = random_vec<T>(N3, rng, lo, 3);
      auto dx = to_device(x);
      DevBuf<T> dy(N3);
      for (UnaryOp op : ops) {
        std::vector<T> ref(N3);
        kcpu::unary(op, dtype_of<T>::value, ref.data(), x.data(), L);
        kc::unary(op, dtype_of<T>::value, dy.get(), dx.get(), L, stream());
        check_close(to_host<T>(dy, N3), ref, tol<T>(), tol<T>(), "unary op " + std::to_string(int(op)));
      }
      std::vector<uint8_t> ref(N3);
      kcpu::unary(UnaryOp::LogicalNot, dtype_of<T>::value, ref.data(), x.data(), L);
      kc::unary(UnaryOp::LogicalNot, dtype_of<T>::value, dy.get(), dx.get(), L, stream());
      check_close(to_host<uint8_t>(dy, N3), ref, 0, 0, "logical_not");
    }
  };
  std::vector<UnaryOp> all = {UnaryOp::Neg,    UnaryOp::Abs,         UnaryOp::Sign,         UnaryOp::Exp,
                              UnaryOp::Log,    UnaryOp::Sqrt,        UnaryOp::Rsqrt,        UnaryOp::Reciprocal,
                              UnaryOp::Sin,    UnaryOp::Cos,         UnaryOp::Tanh,         UnaryOp::Sigmoid,
                              UnaryOp::Relu,   UnaryOp::GeluErf,     UnaryOp::GeluTanh,     UnaryOp::Silu,
                              UnaryOp::Square, UnaryOp::GeluErfGrad, UnaryOp::GeluTanhGrad, UnaryOp::SiluGrad};
  std::vector<UnaryOp> ints = {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Relu, UnaryOp::Square};
  run(float{}, all, -3);  // log/sqrt of negatives: NaN on both
  run(double{}, all, -3);
  run(int32_t{}, ints, -3);
  run(int64_t{}, ints, -3);
  CHECK_THROWS_AS(kc::unary(UnaryOp::Exp, DType::Int32, nullptr, nullptr, contiguous_loop(1, 2), stream()),
                  loom::Error);
}

TEST_CASE("cuda binary, binary_scalar, where, clamp, masked_fill match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(2);
  const std::vector<BinaryOp> ops = {BinaryOp::Add, BinaryOp::Sub,     BinaryOp::Mul,     BinaryOp::Div,
                                     BinaryOp::Pow, BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Eq,
                                     BinaryOp::Ne,  BinaryOp::Lt,      BinaryOp::Le,      BinaryOp::Gt,
                                     BinaryOp::Ge,  BinaryOp::RSub,    BinaryOp::RDiv,    BinaryOp::RPow};
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (bool strided : {false, true}) {
      auto L = strided ? strided_loop(3) : contiguous_loop(N3, 3);
      auto a = random_vec<T>(N3, rng, -4, 4), b = random_vec<T>(N3, rng, -4, 4);
      auto da = to_device(a), db = to_device(b);
      DevBuf<T> dout(N3);
      for (BinaryOp op : ops) {
        std::string what = std::string(strided ? "strided" : "contig") + " binary op " + std::to_string(int(op));
        if (is_comparison(op)) {
          std::vector<uint8_t> ref(N3);
          kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L);
          kc::binary(op, dt, dout.get(), da.get(), db.get(), L, stream());
          check_close(to_host<uint8_t>(dout, N3), ref, 0, 0, what);
        } else {
          std::vector<T> ref(N3);
          kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L);
          kc::binary(op, dt, dout.get(), da.get(), db.get(), L, stream());
          check_close(to_host<T>(dout, N3), ref, tol<T>(), tol<T>(), what);
        }
      }
      auto L2 = L;
      L2.noperands = 2;
      for (BinaryOp op : ops) {
        for (double s : {2.0, 2.5, -1.0}) {
          std::string what = "binary_scalar op " + std::to_string(int(op)) + " s=" + std::to_string(s);
          if (is_comparison(op)) {
            std::vector<uint8_t> ref(N3);
            kcpu::binary_scalar(op, dt, ref.data(), a.data(), s, L2);
            kc::binary_scalar(op, dt, dout.get(), da.get(), s, L2, stream());
            check_close(to_host<uint8_t>(dout, N3), ref, 0, 0, what);
          } else {
            std::vector<T> ref(N3);
            kcpu::binary_scalar(op, dt, ref.data(), a.data(), s, L2);
            kc::binary_scalar(op, dt, dout.get(), da.get(), s, L2, stream());
            check_close(to_host<T>(dout, N3), ref, tol<T>(), tol<T>(), what);
          }
        }
      }
      // clamp (both, one, no bounds) over the transposed operand.
      for (int bounds = 0; bounds < 4; ++bounds) {
        std::vector<T> ref(N3);
        kcpu::clamp(dt, ref.data(), a.data(), bounds & 1, -1.5, bounds & 2, 2.5, L2);
        kc::clamp(dt, dout.get(), da.get(), bounds & 1, -1.5, bounds & 2, 2.5, L2, stream());
        check_close(to_host<T>(dout, N3), ref, 0, 0, "clamp");
      }
      // where: cond transposed, a broadcast, b contiguous.
      auto L4 = strided ? strided_loop(4) : contiguous_loop(N3, 4);
      auto cond = random_vec<bool>(N3, rng);
      auto dcond = to_device(cond);
      std::vector<T> ref(N3);
      kcpu::where(dt, ref.data(), reinterpret_cast<const bool*>(cond.data()), a.data(), b.data(), L4);
      kc::where(dt, dout.get(), reinterpret_cast<const bool*>(dcond.get()), da.get(), db.get(), L4, stream());
      check_close(to_host<T>(dout, N3), ref, 0, 0, "where");
      // masked_fill in place on a copy of b.
      auto db2 = to_device(b);
      std::vector<T> ref2 = b;
      kcpu::masked_fill(dt, ref2.data(), reinterpret_cast<const bool*>(cond.data()), 7.0, L2);
      kc::masked_fill(dt, db2.get(), reinterpret_cast<const bool*>(dcond.get()), 7.0, L2, stream());
      check_close(to_host<T>(db2, N3), ref2, 0, 0, "masked_fill");
    }
  };
  run(float{});
  run(double{});
  run(int32_t{});
  run(int64_t{});
}

TEST_CASE("cuda copy, fill, arange, linspace match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(3);
  auto L = strided_loop(2);
  auto src = random_vec<double>(N3, rng, -1e10, 1e10);
  src[5] = NAN;
  auto dsrc = to_device(src);
  DevBuf<double> dst(N3);
  auto check_copy = [&](auto tag) {
    using D = decltype(tag);
    std::vector<store_t<D>> ref(N3);
    kcpu::copy(dtype_of<D>::value, ref.data(), DType::Float64, src.data(), L);
    kc::copy(dtype_of<D>::value, dst.get(), DType::Float64, dsrc.get(), L, stream());
    check_close(to_host<store_t<D>>(dst, N3), ref, 0, 0, std::string("copy to ") + dtype_name(dtype_of<D>::value));
  };
  check_copy(float{});
  check_copy(int32_t{});
  check_copy(int64_t{});
  check_copy(bool{});
  check_copy(double{});
  // Contiguous same-dtype copy (memcpy path) and fill on a strided output.
  kc::copy(DType::Float64, dst.get(), DType::Float64, dsrc.get(), contiguous_loop(N3, 2), stream());
  check_close(to_host<double>(dst, N3), src, 0, 0, "contiguous copy");
  std::vector<float> ref(N3, 0.f);
  auto dref = to_device(ref);
  ElementwiseLoop F = strided_loop(2);
  for (int d = 0; d < 3; ++d) F.strides[0][d] = F.strides[1][d];
  F.noperands = 1;
  kcpu::fill(DType::Float32, ref.data(), 3.25, F);
  kc::fill(DType::Float32, dref.get(), 3.25, F, stream());
  check_close(to_host<float>(dref, N3), ref, 0, 0, "fill");

  for (int64_t n : {int64_t(1), int64_t(2), int64_t(1001)}) {
    std::vector<double> r1(n), r2(n);
    DevBuf<double> d(n);
    kcpu::arange(DType::Float64, r1.data(), n, -3.5, 0.25);
    kc::arange(DType::Float64, d.get(), n, -3.5, 0.25, stream());
    check_close(to_host<double>(d, n), r1, 0, 0, "arange");
    kcpu::linspace(DType::Float64, r2.data(), n, -1.0, 7.0);
    kc::linspace(DType::Float64, d.get(), n, -1.0, 7.0, stream());
    check_close(to_host<double>(d, n), r2, 0, 0, "linspace");
    std::vector<int64_t> r3(n);
    kcpu::arange(DType::Int64, r3.data(), n, 5, 3);
    kc::arange(DType::Int64, d.get(), n, 5, 3, stream());
    check_close(to_host<int64_t>(d, n), r3, 0, 0, "arange int64");
  }
}

TEST_CASE("cuda reductions match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(4);
  const std::vector<int64_t> shape = {D0, D1, D2};
  const std::vector<std::vector<bool>> reds = {
      {false, true, false}, {false, false, true}, {true, false, false}, {true, true, true}, {false, true, true}};
  auto run = [&](auto tag, const std::vector<ReduceOp>& ops) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    auto x = random_vec<T>(N3, rng, -3, 3);
    auto dx = to_device(x);
    for (const auto& red : reds) {
      auto L = reduce_loop(shape, red);
      DevBuf<T> dout(L.out_numel);
      for (ReduceOp op : ops) {
        for (double p : std::vector<double>{2.0, 1.0, 0.0, 3.0, INFINITY, -INFINITY}) {
          if (op != ReduceOp::Norm && p != 2.0) continue;
          std::vector<T> ref(L.out_numel);
          kcpu::reduce(op, dt, ref.data(), x.data(), L, p);
          kc::reduce(op, dt, dout.get(), dx.get(), L, p, stream());
          double t = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-11 : 0;
          if (op == ReduceOp::Prod) t = std::is_integral_v<T> ? 0 : 1e-4;
          check_close(to_host<T>(dout, L.out_numel), ref, t, t, "reduce op " + std::to_string(int(op)));
        }
      }
    }
  };
  run(float{}, {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::LogSumExp, ReduceOp::Norm});
  run(double{}, {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min, ReduceOp::LogSumExp,
                 ReduceOp::Norm});
  run(int32_t{}, {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min});
  run(int64_t{}, {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min});

  // A full reduction large enough for the split (two-kernel) schedule.
  const int64_t big = (int64_t(1) << 22) + 7;
  auto xb = random_vec<float>(big, rng, -1, 1);
  auto dxb = to_device(xb);
  auto Lb = reduce_loop({big}, {true});
  DevBuf<double> dout(1);
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::LogSumExp}) {
    std::vector<float> ref(1);
    kcpu::reduce(op, DType::Float32, ref.data(), xb.data(), Lb, 2);
    kc::reduce(op, DType::Float32, dout.get(), dxb.get(), Lb, 2, stream());
    check_close(to_host<float>(dout, 1), ref, 1e-4, 1e-5, "big reduce op " + std::to_string(int(op)));
  }
}

TEST_CASE("cuda arg_reduce and var_mean match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(5);
  const std::vector<int64_t> shape = {D0, D1, D2};
  for (const auto& red :
       std::vector<std::vector<bool>>{{false, true, false}, {false, false, true}, {true, true, true}}) {
    auto L = reduce_loop(shape, red);
    // Few distinct values: many ties, so the first-occurrence rule matters.
    auto xi = random_vec<int32_t>(N3, rng, -3, 3);
    auto xf = random_vec<float>(N3, rng, -3, 3);
    for (auto& v : xf) v = std::round(v);
    xf[7 * D2 + 3] = NAN;
    xf[1000] = NAN;
    auto dxi = to_device(xi);
    auto dxf = to_device(xf);
    DevBuf<double> dv(L.out_numel);   // int32 values, then the variance
    DevBuf<int64_t> di(L.out_numel);  // indices, then the mean
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      std::vector<int32_t> vi(L.out_numel);
      std::vector<int64_t> ii(L.out_numel);
      kcpu::arg_reduce(op, DType::Int32, vi.data(), ii.data(), xi.data(), L);
      kc::arg_reduce(op, DType::Int32, dv.get(), di.get(), dxi.get(), L, stream());
      check_close(to_host<int32_t>(dv, L.out_numel), vi, 0, 0, "arg values int32");
      check_close(to_host<int64_t>(di, L.out_numel), ii, 0, 0, "arg indices int32");
      std::vector<float> vf(L.out_numel);
      kcpu::arg_reduce(op, DType::Float32, vf.data(), ii.data(), xf.data(), L);
      kc::arg_reduce(op, DType::Float32, nullptr, di.get(), dxf.get(), L, stream());
      check_close(to_host<int64_t>(di, L.out_numel), ii, 0, 0, "arg indices float with NaN");
    }
    auto xd = random_vec<double>(N3, rng, -3, 3);
    auto dxd = to_device(xd);
    for (int64_t correction : {0, 1}) {
      std::vector<double> var(L.out_numel), mean(L.out_numel);
      kcpu::var_mean(DType::Float64, var.data(), mean.data(), xd.data(), L, correction);
      kc::var_mean(DType::Float64, dv.get(), di.get(), dxd.get(), L, correction, stream());
      check_close(to_host<double>(dv, L.out_numel), var, 1e-12, 1e-10, "var");
      check_close(to_host<double>(di, L.out_numel), mean, 1e-12, 1e-10, "mean");
    }
  }
}

TEST_CASE("cuda softmax and backward match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(6);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (auto dims : std::vector<std::array<int64_t, 3>>{{37, 129, 1}, {37, 5, 129}, {3, 5000, 1}, {1, 7, 1}}) {
      int64_t n = dims[0] * dims[1] * dims[2];
      auto x = random_vec<T>(n, rng, -8, 8), g = random_vec<T>(n, rng, -1, 1);
      auto dx = to_device(x), dg = to_device(g);
      DevBuf<T> dy(n), dgi(n);
      for (bool log : {false, true}) {
        std::vector<T> y(n), gi(n);
        kcpu::softmax(dt, y.data(), x.data(), dims[0], dims[1], dims[2], log);
        kc::softmax(dt, dy.get(), dx.get(), dims[0], dims[1], dims[2], log, stream());
        check_close(to_host<T>(dy, n), y, tol<T>(), tol<T>() * 10, log ? "log_softmax" : "softmax");
        kcpu::softmax_backward(dt, gi.data(), g.data(), y.data(), dims[0], dims[1], dims[2], log);
        kc::softmax_backward(dt, dgi.get(), dg.get(), dy.get(), dims[0], dims[1], dims[2], log, stream());
        check_close(to_host<T>(dgi, n), gi, tol<T>() * 10, tol<T>() * 10, "softmax_backward");
      }
    }
  };
  run(float{});
  run(double{});
}

TEST_CASE("cuda gemm matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(7);
  const int64_t m = 37, n = 129, k = 53, batch = 3;
  auto run = [&](auto tag, bool tf32, double t) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        int64_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
        auto a = random_vec<T>(batch * m * k, rng), b = random_vec<T>(batch * k * n, rng);
        auto c = random_vec<T>(batch * m * n, rng);
        auto da = to_device(a), db = to_device(b), dc = to_device(c);
        kcpu::gemm(dt, ta, tb, m, n, k, 1.5, a.data(), lda, m * k, b.data(), ldb, k * n, 0.5, c.data(), ldc, m * n,
                   batch);
        kc::gemm(dt, ta, tb, m, n, k, 1.5, da.get(), lda, m * k, db.get(), ldb, k * n, 0.5, dc.get(), ldc, m * n, batch,
                 tf32, stream());
        check_close(to_host<T>(dc, batch * m * n), c, t, t,
                    "gemm ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
      }
  };
  run(double{}, false, 1e-11);
  run(float{}, false, 1e-4);
  run(float{}, true, 1e-1);  // TF32: ~10-bit mantissa products
  try {
    kc::gemm(DType::Int64, false, false, 1, 1, 1, 1, nullptr, 1, 1, nullptr, 1, 1, 0, nullptr, 1, 1, 1, false,
             stream());
    FAIL("expected a type error");
  } catch (const loom::Error& e) {
    CHECK(e.kind() == ErrorKind::Type);
    CHECK(std::string(e.what()).find("int64") != std::string::npos);
  }
}

TEST_CASE("cuda index_select, gather, scatter_add match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(8);
  int* flag = lc::device_error_flag(0);
  // index_select over the middle dim of [37, 129, 5].
  auto x = random_vec<float>(N3, rng);
  auto dx = to_device(x);
  std::vector<int64_t> idx(41);
  for (auto& v : idx) v = std::uniform_int_distribution<int64_t>(0, D1 - 1)(rng);
  auto didx = to_device(idx);
  std::vector<float> ref(D0 * 41 * D2);
  REQUIRE(kcpu::index_select(DType::Float32, ref.data(), x.data(), idx.data(), 41, D0, D1, D2) == -1);
  DevBuf<float> dout(ref.size());
  kc::index_select(DType::Float32, dout.get(), dx.get(), didx.get(), 41, D0, D1, D2, flag, stream());
  check_close(to_host<float>(dout, ref.size()), ref, 0, 0, "index_select");
  lc::check_async_errors(0);

  // gather / scatter_add along dim 1 over an index of shape [37, 129, 5]
  // (self / input [37, 129, 5] too, so the dim stride is 5).
  ElementwiseLoop L = strided_loop(3);
  for (int d = 0; d < 3; ++d) L.strides[1][d] = L.strides[0][d], L.strides[2][d] = L.strides[0][d];
  ElementwiseLoop G = L;  // gather: 0 out, 1 in (dim stride 0), 2 index
  G.strides[1][1] = 0;
  ElementwiseLoop S = L;  // scatter: 0 self (dim stride 0), 1 src, 2 index
  S.strides[0][1] = 0;
  std::vector<int64_t> gi(N3);
  for (auto& v : gi) v = std::uniform_int_distribution<int64_t>(0, D1 - 1)(rng);
  auto dgi = to_device(gi);
  std::vector<float> gref(N3);
  REQUIRE(kcpu::gather(DType::Float32, gref.data(), x.data(), gi.data(), G, D2, D1) == -1);
  DevBuf<float> dg(N3);
  kc::gather(DType::Float32, dg.get(), dx.get(), dgi.get(), G, D2, D1, flag, stream());
  check_close(to_host<float>(dg, N3), gref, 0, 0, "gather");

  auto run_scatter = [&](auto tag) {
    using T = decltype(tag);
    auto self = random_vec<T>(N3, rng), src = random_vec<T>(N3, rng);
    auto dself = to_device(self), dsrc = to_device(src);
    REQUIRE(kcpu::scatter_add(dtype_of<T>::value, self.data(), src.data(), gi.data(), S, D2, D1) == -1);
    kc::scatter_add(dtype_of<T>::value, dself.get(), dsrc.get(), dgi.get(), S, D2, D1, flag, stream());
    check_close(to_host<T>(dself, N3), self, std::is_integral_v<T> ? 0 : 1e-4, 1e-5, "scatter_add");
  };
  run_scatter(float{});
  run_scatter(double{});
  run_scatter(int32_t{});
  run_scatter(int64_t{});
  lc::check_async_errors(0);

  // A bad index: the flag is raised as IndexError at the next check, then cleared.
  gi[100] = D1;
  auto dbad = to_device(gi);
  auto self = random_vec<float>(N3, rng);
  auto dself = to_device(self);
  kc::scatter_add(DType::Float32, dself.get(), dx.get(), dbad.get(), S, D2, D1, flag, stream());
  try {
    lc::check_async_errors(0);
    FAIL("expected an index error");
  } catch (const loom::Error& e) {
    CHECK(e.kind() == ErrorKind::Index);
  }
  check_close(to_host<float>(dself, N3), self, 0, 0, "scatter_add leaves self untouched on a bad index");
  gi[100] = -1;
  auto dneg = to_device(gi);
  kc::gather(DType::Float32, dg.get(), dx.get(), dneg.get(), G, D2, D1, flag, stream());
  CHECK_THROWS_AS(lc::synchronize(0), loom::Error);
  lc::check_async_errors(0);  // cleared
}

TEST_CASE("cuda random matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  for (int64_t n : {int64_t(1), int64_t(6), int64_t(12345)}) {
    for (uint64_t offset : {uint64_t(0), uint64_t(17)}) {
      const uint64_t seed = 0x1234abcdULL;
      DevBuf<double> d(n);
      std::vector<float> uf(n);
      kcpu::uniform(DType::Float32, uf.data(), n, seed, offset, -2, 3);
      kc::uniform(DType::Float32, d.get(), n, seed, offset, -2, 3, stream());
      CHECK(to_host<float>(d, n) == uf);
      std::vector<double> ud(n);
      kcpu::uniform(DType::Float64, ud.data(), n, seed, offset, 0, 1);
      kc::uniform(DType::Float64, d.get(), n, seed, offset, 0, 1, stream());
      CHECK(to_host<double>(d, n) == ud);
      std::vector<int64_t> ri(n);
      kcpu::randint(DType::Int64, ri.data(), n, seed, offset, -5, 1000);
      kc::randint(DType::Int64, d.get(), n, seed, offset, -5, 1000, stream());
      CHECK(to_host<int64_t>(d, n) == ri);
      std::vector<double> nd(n);
      kcpu::normal(DType::Float64, nd.data(), n, seed, offset, 1.0, 2.0);
      kc::normal(DType::Float64, d.get(), n, seed, offset, 1.0, 2.0, stream());
      check_close(to_host<double>(d, n), nd, 1e-12, 0, "normal float64");
      std::vector<float> nf(n);
      kcpu::normal(DType::Float32, nf.data(), n, seed, offset, 0.0, 1.0);
      kc::normal(DType::Float32, d.get(), n, seed, offset, 0.0, 1.0, stream());
      check_close(to_host<float>(d, n), nf, 1e-6, 1e-6, "normal float32");
    }
  }
}

TEST_CASE("cuda memcpy round trips", "[cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu(DeviceType::CUDA, 0);
  std::vector<int32_t> h(100003), back(h.size()), back2(h.size());
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<int32_t>(i * 7 - 3);
  const size_t nb = h.size() * 4;
  auto d1 = lc::allocate(nb, 0), d2 = lc::allocate(nb, 0);
  lc::memcpy(d1.get(), gpu, h.data(), kCPU(), nb);
  lc::memcpy(d2.get(), gpu, d1.get(), gpu, nb);
  lc::memcpy(back.data(), kCPU(), d2.get(), gpu, nb);
  CHECK(back == h);
  // Non-blocking both ways through pinned staging; data usable after a sync.
  std::vector<int32_t> h2(h.rbegin(), h.rend());
  lc::memcpy(d1.get(), gpu, h2.data(), kCPU(), nb, true);
  std::fill(h2.begin(), h2.end(), 0);  // the copy must already own its data
  lc::memcpy(back2.data(), kCPU(), d1.get(), gpu, nb, true);
  lc::synchronize(0);
  CHECK(back2 == std::vector<int32_t>(h.rbegin(), h.rend()));
  // Pinned host memory and host-to-host.
  auto pinned = lc::allocate_pinned(nb);
  lc::memcpy(pinned.get(), kCPU(), d2.get(), gpu, nb, true);
  lc::synchronize(0);
  CHECK(std::memcmp(pinned.get(), h.data(), nb) == 0);
  std::vector<int32_t> h3(h.size());
  lc::memcpy(h3.data(), kCPU(), pinned.get(), kCPU(), nb);
  CHECK(h3 == h);
}

TEST_CASE("cuda caching allocator reaches a steady state", "[cuda]") {
  LOOM_REQUIRE_GPU();
  if (!loom::cuda::device_allocator(0).caching()) SKIP("LOOM_NO_CUDA_MEMORY_CACHING is set: the cache is off");
  const size_t sizes[] = {4, 1000, 100000, 3 << 20, 40 << 20};
  auto step = [&] {
    std::vector<std::shared_ptr<void>> live;
    for (size_t s : sizes) live.push_back(lc::allocate(s, 0));
    kc::fill(DType::Float32, live[2].get(), 1.0, contiguous_loop(25000, 1), stream());
  };
  step();
  lc::synchronize(0);
  auto before = lc::memory_stats(0);
  for (int i = 0; i < 50; ++i) step();
  lc::synchronize(0);
  auto after = lc::memory_stats(0);
  CHECK(after.num_device_allocs == before.num_device_allocs);
  CHECK(after.num_cache_hits >= before.num_cache_hits + 250);
  lc::empty_cache();
  CHECK(lc::memory_stats(0).reserved_bytes <= before.reserved_bytes);
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
