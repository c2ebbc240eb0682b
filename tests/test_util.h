// The test kit shared by every Catch2 test:
//   - one tolerance API: is_close (one element), allclose (vectors, with the
//     count of bad elements and the first one), check_close (the Catch2 check
//     on scalars, vectors and tensors; it replaces Catch::Approx, see
//     kTightRtol); the element rule is
//     |got - want| <= atol + rtol * |want|, a NaN want needs a NaN got and an
//     infinite want the same infinity;
//   - the skip without a GPU: LOOM_REQUIRE_GPU() (Catch2 SKIP with the reason:
//     a CPU-only build, the driver's error, or no device);
//   - random data, gradient checks, error-message checks, CPU-vs-GPU runs.
// Device buffers for tests that call CUDA kernels on raw pointers:
// tests/test_cuda_util.h. Iteration spaces of the kernel tests:
// tests/kernels/test_kernel_util.h.
#pragma once
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/cuda.h"
#include "core/tensor.h"

namespace loom::test {

// ---------------------------------------------------------------- tolerances

// The defaults of allclose / check_close.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

// The tight scalar tolerance, rtol of 100 float epsilons (about 1.19e-5),
// for a double computed again by another route (a reference, a sum in another
// order): check_close(got, want, 0, kTightRtol) passes when
// |got - want| <= kTightRtol * |want| (a want of 0 needs a got of 0). It is
// the check of Catch::Approx(want) with no options, which the tests do not use:
// Approx(want).epsilon(e) is check_close(got, want, 0, e) and
// Approx(want).margin(m) passes within max(m, kTightRtol * |want|).
constexpr double kTightRtol = std::numeric_limits<float>::epsilon() * 100.0;

// One element: |got - want| <= atol + rtol * |want|; a NaN want needs a NaN
// got, an infinite want the same infinity.
inline bool is_close(double got, double want, double atol = kAtol, double rtol = kRtol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

namespace detail {

// Integers of one type with no tolerance compare exactly (int64 values past
// 2^53 would round together as doubles).
template <typename G, typename W>
bool element_close(const G& got, const W& want, double atol, double rtol) {
  if constexpr (std::is_integral_v<G> && std::is_same_v<G, W>)
    if (atol == 0 && rtol == 0) return got == want;
  return is_close(static_cast<double>(got), static_cast<double>(want), atol, rtol);
}

// Values as text: chars as numbers, floating point with every digit.
template <typename V>
void put(std::ostream& os, const V& v) {
  if constexpr (std::is_floating_point_v<V>) {
    const auto precision = os.precision(std::numeric_limits<V>::max_digits10);
    os << v;
    os.precision(precision);
  } else if constexpr (std::is_arithmetic_v<V>) {
    os << +v;
  } else {
    os << static_cast<double>(v);
  }
}

}  // namespace detail

// Every element of got close to the one of want (the sizes equal too). When
// not, *why (if given) says how many are not and which is first.
template <typename G, typename W = double>
bool allclose(const std::vector<G>& got, const std::vector<W>& want, double atol = kAtol, double rtol = kRtol,
              std::string* why = nullptr) {
  if (got.size() != want.size()) {
    if (why) *why = "sizes differ: " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
    return false;
  }
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!detail::element_close(got[i], want[i], atol, rtol) && bad++ == 0) first = i;
  if (bad && why) {
    std::ostringstream os;
    os << bad << " of " << want.size() << " elements outside atol " << atol << " rtol " << rtol << ", first at "
       << first << ": got ";
    detail::put(os, static_cast<G>(got[first]));
    os << " want ";
    detail::put(os, static_cast<W>(want[first]));
    *why = os.str();
  }
  return bad == 0;
}

// The Catch2 checks (CHECK: the test goes on after a failure); `what` names
// the comparison in the failure message.
template <typename G, typename W = double>
void check_close(const std::vector<G>& got, const std::vector<W>& want, double atol = kAtol, double rtol = kRtol,
                 const std::string& what = "") {
  std::string why;
  const bool ok = allclose(got, want, atol, rtol, &why);
  INFO((what.empty() ? "" : what + ": ") << why);
  CHECK(ok);
}

inline void check_close(double got, double want, double atol = kAtol, double rtol = kRtol,
                        const std::string& what = "") {
  std::ostringstream os;
  if (!what.empty()) os << what << ": ";
  os << "got ";
  detail::put(os, got);
  os << " want ";
  detail::put(os, want);
  os << " (atol " << atol << " rtol " << rtol << ")";
  INFO(os.str());
  CHECK(is_close(got, want, atol, rtol));
}

inline void check_close(const Tensor& got, const std::vector<double>& want, double atol = kAtol, double rtol = kRtol,
                        const std::string& what = "") {
  check_close(got.to_vector(), want, atol, rtol, what);
}

inline void check_close(const Tensor& got, const Tensor& want, double atol = kAtol, double rtol = kRtol,
                        const std::string& what = "") {
  REQUIRE(got.sizes() == want.sizes());
  check_close(got, want.to_vector(), atol, rtol, what);
}

// ---------------------------------------------------------------- data

// n doubles uniform in [lo, hi) from a fixed seed.
inline std::vector<double> random_doubles(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// The values of v in another element type (float inputs from double references).
template <typename T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// The values of v as doubles (device results against double references).
template <typename T>
std::vector<double> dbl(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// ---------------------------------------------------------------- autograd

inline void check_grad(const autograd::TensorFn& fn, const TensorList& inputs, double atol = 1e-5, double rtol = 1e-3) {
  auto r = autograd::gradcheck(fn, inputs, 1e-6, atol, rtol);
  INFO(r.message);
  CHECK(r.ok);
}

// A float64 CPU leaf requiring grad, values in [lo, hi).
inline Tensor leaf(const Shape& shape, double lo = -1.0, double hi = 1.0) {
  Tensor t = rand(shape, TensorOptions(DType::Float64)) * (hi - lo) + lo;
  return t.detach().requires_grad_(true);
}

// ---------------------------------------------------------------- GPU

// Why GPU tests cannot run here: a CPU-only build, the CUDA driver's error,
// or no device; "" when they can.
inline std::string gpu_unavailable_reason() { return cuda::unavailable_reason(); }

inline bool have_gpu() { return gpu_unavailable_reason().empty(); }

// ---------------------------------------------------------------- errors

// The message of the loom::Error that f raises (a test failure if it raises none).
inline std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a loom::Error");
  return "";
}

// f raises a loom::Error whose message contains every one of parts.
inline void check_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  const std::string msg = error_message(f);
  for (const auto& p : parts) CHECK_THAT(msg, Catch::Matchers::ContainsSubstring(p));
}

// The kind of loom::Error that f raises (a test failure if it raises none).
inline ErrorKind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("expected a loom::Error");
  return ErrorKind::Runtime;
}

// Runs f on CPU inputs and on copies of them on cuda:0, then compares the
// outputs and, when the output requires grad, the gradients of every input
// that requires grad after backward of the same random seed.
inline void compare_gpu(const std::function<Tensor(const TensorList&)>& f, const TensorList& cpu_inputs,
                        double atol = 1e-4, double rtol = 1e-4) {
  const Device gpu("cuda:0");
  // Fresh leaves on both sides: gradients of earlier calls must not accumulate into these.
  TensorList leaves, gpu_inputs;
  for (auto& t : cpu_inputs) {
    Tensor c = t.detach().clone(), g = t.detach().to(gpu);
    if (t.requires_grad()) {
      c.requires_grad_(true);
      g.requires_grad_(true);
    }
    leaves.push_back(c);
    gpu_inputs.push_back(g);
  }
  Tensor yc = f(leaves), yg = f(gpu_inputs);
  REQUIRE(yg.device() == gpu);
  check_close(yg.cpu(), yc, atol, rtol);
  if (!yc.requires_grad()) return;
  Tensor seed = randn(yc.sizes(), TensorOptions(yc.dtype()));
  yc.backward(seed);
  yg.backward(seed.to(gpu));
  for (size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].requires_grad()) check_close(gpu_inputs[i].grad().cpu(), leaves[i].grad(), atol, rtol);
}

}  // namespace loom::test

// Skips the running test case (Catch2 SKIP, exit code 4 for ctest) with the
// reason when no GPU test can run here.
#define LOOM_REQUIRE_GPU()                                                            \
  do {                                                                                \
    const std::string loom_gpu_skip_reason_ = ::loom::test::gpu_unavailable_reason(); \
    if (!loom_gpu_skip_reason_.empty()) SKIP(loom_gpu_skip_reason_);                  \
  } while (0)
