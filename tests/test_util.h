// Helpers shared by the Catch2 tests.
#pragma once
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/cuda.h"
#include "core/tensor.h"

namespace loom::test {

inline bool allclose(const std::vector<double>& a, const std::vector<double>& b, double atol = 1e-5,
                     double rtol = 1e-4, std::string* why = nullptr) {
  if (a.size() != b.size()) {
    if (why) *why = "sizes differ: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    bool same_inf = std::isinf(a[i]) && a[i] == b[i];
    if (both_nan || same_inf) continue;
    if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i]))) {
      if (why) {
        std::ostringstream os;
        os << "element " << i << ": " << a[i] << " vs " << b[i];
        *why = os.str();
      }
      return false;
    }
  }
  return true;
}

inline void check_close(const Tensor& a, const std::vector<double>& ref, double atol = 1e-5, double rtol = 1e-4) {
  std::string why;
  bool ok = allclose(a.to_vector(), ref, atol, rtol, &why);
  INFO(why);
  CHECK(ok);
}

inline void check_close(const Tensor& a, const Tensor& b, double atol = 1e-5, double rtol = 1e-4) {
  REQUIRE(a.sizes() == b.sizes());
  check_close(a, b.to_vector(), atol, rtol);
}

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

inline bool have_gpu() { return cuda::is_available(); }

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

#define LOOM_REQUIRE_GPU()                                                                          \
  do {                                                                                              \
    if (!::loom::cuda::built_with_cuda()) SKIP("loom was built without CUDA");                      \
    if (!::loom::cuda::is_available()) SKIP("no CUDA device available (cudaGetDeviceCount failed or returned 0)"); \
  } while (0)
