// The one harness for every op described in the registry (core/ops.toml, the
// generated core/op_table.h): the CPU kernel against the float64 reference,
// the CUDA kernel against its CPU twin, a float64 gradcheck, bad inputs
// (dtype, shape, device) raising a loom::Error that names the op, and the
// benchmark case. A failure names the op and what it lacks. Nothing here
// is per op: a new registry entry is tested by this file as it stands.
// Pointwise ops (`kind` "pointwise") and reductions (`kind` "reduce": every
// dim list of kReduceDims with and without keepdim against the float64 fold)
// have test cases of their own; a case skips the other kind's entries. General
// ops (`kind` "general": any signature) run `call` on their sample `inputs`
// against a float64 `ref` (C++ over loom ops and the loom::ref helpers of
// op_references.h), a gradcheck, their `bad` calls and the CUDA twin.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>

#include "core/op_table.h"
#include "op_references.h"
#include "test_util.h"

using namespace loom;
using loom::registry::Kind;
using loom::registry::op_table;
using loom::registry::OpEntry;
using loom::test::allclose;

namespace {

const DType kAllDTypes[] = {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64};

bool accepts(const OpEntry& op, DType dt) {
  return std::find(op.dtypes.begin(), op.dtypes.end(), dt) != op.dtypes.end();
}

// Input i of op: [5, 7] for the first; [7] for a second one (broadcast).
Shape sample_shape(int i) { return i == 0 ? Shape{5, 7} : Shape{7}; }

// Sample inputs of dtype dt: floats uniform in the op's domain; integers in
// [1, 4) (in every domain's reach: no log(0), no negative powers); bool true.
TensorList samples(const OpEntry& op, DType dt, uint64_t seed, Device device = Device()) {
  manual_seed(seed);
  TensorList in;
  for (int i = 0; i < op.inputs; ++i) {
    const auto [lo, hi] = i == 0 ? op.domain : op.domain_b;
    Tensor t;
    if (is_floating(dt)) t = rand(sample_shape(i), TensorOptions(DType::Float64)) * (hi - lo) + lo;
    else if (dt == DType::Bool) t = ones(sample_shape(i), TensorOptions(DType::Bool));
    else t = randint(1, 4, sample_shape(i), TensorOptions(dt));
    in.push_back(t.to(dt).to(device));
  }
  return in;
}

// The float64 reference of op on these inputs, over the broadcast shape.
std::vector<double> reference(const OpEntry& op, const TensorList& in, const Shape& out_shape) {
  std::vector<double> a = in[0].expand(out_shape).contiguous().to_vector(), b;
  if (op.inputs > 1) b = in[1].expand(out_shape).contiguous().to_vector();
  std::vector<double> want(a.size());
  for (size_t i = 0; i < a.size(); ++i) want[i] = op.ref(a[i], op.inputs > 1 ? b[i] : 0.0);
  return want;
}

std::string op_context(const OpEntry& op, const std::string& what) {
  std::ostringstream os;
  os << "op " << op.name << " (core/ops.toml): " << what;
  return os.str();
}

// Raises a loom::Error whose message contains the op's name.
bool raises_naming(const std::function<void()>& f, const std::string& name, std::string* got) {
  try {
    f();
  } catch (const Error& e) {
    *got = e.what();
    return got->find(name) != std::string::npos;
  }
  *got = "(no error)";
  return false;
}

}  // namespace

TEST_CASE("registry: every described op matches its float64 reference on the CPU", "[core][ops][registry]") {
  REQUIRE(!op_table().empty());
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Pointwise) continue;
    for (DType dt : kAllDTypes) {
      INFO(op_context(op, std::string("dtype ") + dtype_name(dt)));
      TensorList in = samples(op, dt, 1);
      if (!accepts(op, dt)) {
        std::string msg;
        const bool named = raises_naming([&] { op.call(in); }, op.error_name, &msg);
        INFO("a dtype outside `dtypes` must raise a loom::Error naming the op; got: " << msg);
        CHECK(named);
        continue;
      }
      Tensor y;
      try {
        y = op.call(in);
      } catch (const std::exception& e) {
        FAIL_CHECK(op_context(op, std::string("raised for an accepted dtype ") + dtype_name(dt) + ": " + e.what()));
        continue;
      }
      if (dt == DType::Bool) continue;  // bool arithmetic is logical (add = or): runs, no numeric reference
      const double tol = dt == DType::Float64 ? 1e-10 : 1e-5;
      std::string why;
      const bool ok = allclose(y.to_vector(), reference(op, in, y.sizes()), tol, tol, &why);
      INFO("the CPU result differs from the reference `ref`: " << why);
      CHECK(ok);
      if (is_floating(dt)) {
        // A strided (transposed) first input gives the same values.
        TensorList tin = in;
        tin[0] = in[0].t().contiguous().t();
        std::string why_t;
        const bool ok_t = allclose(op.call(tin).to_vector(), y.to_vector(), tol, tol, &why_t);
        INFO("a transposed input changes the result: " << why_t);
        CHECK(ok_t);
      }
    }
  }
}

TEST_CASE("registry: every differentiable op passes a float64 gradcheck", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Pointwise) continue;
    INFO(op_context(op, "gradcheck (the backward formula in autograd/ops, or `backward` in the registry)"));
    TensorList in = samples(op, DType::Float64, 2);
    for (auto& t : in) t = t.detach().requires_grad_(true);
    if (!op.differentiable) {
      CHECK_FALSE(op.call(in).requires_grad());
      continue;
    }
    if (!op.gradcheck) {  // a gradient it cannot give must raise, never come back as zero
      CHECK_THROWS_AS(op.call(in).sum().backward(), loom::Error);
      continue;
    }
    // A smaller sample keeps the Jacobian cheap: [3, 4] and a broadcast [4].
    TensorList small;
    for (int i = 0; i < op.inputs; ++i)
      small.push_back(in[i]
                          .detach()
                          .reshape({-1})
                          .narrow(0, 0, i == 0 ? 12 : 4)
                          .reshape(i == 0 ? Shape{3, 4} : Shape{4})
                          .clone()
                          .requires_grad_(true));
    loom::test::check_grad(op.call, small);
  }
}

TEST_CASE("registry: bad inputs raise an error naming the op", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Pointwise || op.inputs < 2) continue;
    INFO(op_context(op, "shapes [3, 4] and [5] must not broadcast"));
    const DType dt = op.dtypes.back();
    TensorList in{zeros({3, 4}, TensorOptions(dt)), zeros({5}, TensorOptions(dt))};
    std::string msg;
    const bool named = raises_naming([&] { op.call(in); }, op.error_name, &msg);
    INFO("got: " << msg);
    CHECK(named);
  }
}

TEST_CASE("registry: every described op has a benchmark case", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind == Kind::General) {
      INFO(op_context(op,
                      std::string("no benchmark case: give it `bench = [<one shape per input>]` (benchmarks/cases_") +
                          "<family>.cpp runs it through run_registry_cases)"));
      CHECK(op.bench_shapes.size() == op.samples.size());
    } else {
      INFO(op_context(op, std::string("no benchmark case: give it `bench = <elements>` (benchmarks/") +
                              (op.kind == Kind::Reduce ? "cases_reduce.cpp" : "cases_pointwise.cpp") + " runs it)"));
      CHECK(op.bench > 0);
    }
    INFO(op_context(op, "no device: `devices` must name cpu"));
    CHECK(op.cpu);
  }
}

TEST_CASE("registry: every CUDA op matches its CPU twin", "[cuda][registry]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Pointwise || !op.cuda) continue;
    for (DType dt : {DType::Float32, DType::Float64}) {
      if (!accepts(op, dt)) continue;
      INFO(op_context(op, std::string("CUDA against the CPU twin, dtype ") + dtype_name(dt)));
      TensorList in = samples(op, dt, 3);
      if (op.differentiable && op.gradcheck)
        for (auto& t : in) t = t.detach().requires_grad_(true);
      loom::test::compare_gpu(op.call, in, 1e-4, 1e-4);
    }
    // An integer input through the CUDA kernel (or the promotion in front of it).
    if (accepts(op, DType::Int64)) {
      INFO(op_context(op, "CUDA against the CPU twin, dtype int64"));
      TensorList in = samples(op, DType::Int64, 4);
      loom::test::compare_gpu(op.call, in, 1e-4, 1e-4);
    }
    if (op.inputs >= 2) {
      INFO(op_context(op, "a CPU and a CUDA input must raise naming the op"));
      TensorList in = samples(op, op.dtypes.back(), 5);
      in[1] = in[1].to(gpu);
      std::string msg;
      const bool named = raises_naming([&] { op.call(in); }, op.error_name, &msg);
      INFO("got: " << msg);
      CHECK(named);
    }
  }
}

// ---- reductions (kind = "reduce") ----

namespace {

// The dim lists every reduction runs over, on a [5, 7] input: every dim ({}),
// each one, both, and a negative dim.
const std::vector<Dims> kReduceDims = {{}, {0}, {1}, {0, 1}, {-1}};

std::string dims_text(const Dims& dims, bool keepdim) {
  std::ostringstream os;
  os << "dims {";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "}, keepdim " << (keepdim ? "true" : "false");
  return os.str();
}

// A sample of op of dtype dt: floats uniform in the op's domain; integers in
// [1, 4); bools random (both values in every slice of a [5, 7] sample, likely).
Tensor reduce_sample(const OpEntry& op, DType dt, uint64_t seed, const Shape& shape = {5, 7}) {
  manual_seed(seed);
  const auto [lo, hi] = op.domain;
  if (is_floating(dt)) return (rand(shape, TensorOptions(DType::Float64)) * (hi - lo) + lo).to(dt);
  if (dt == DType::Bool) return rand(shape, TensorOptions(DType::Float64)).lt(0.5);
  return randint(1, 4, shape, TensorOptions(dt));
}

// The shape of x reduced over dims (every dim when empty), with or without keepdim.
Shape reduced_shape(const Shape& in, const Dims& dims, bool keepdim) {
  const int64_t nd = static_cast<int64_t>(in.size());
  std::vector<bool> reduced(in.size(), dims.empty());
  for (int64_t d : dims) reduced[static_cast<size_t>(d < 0 ? d + nd : d)] = true;
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!reduced[i]) out.push_back(in[i]);
    else if (keepdim) out.push_back(1);
  return out;
}

// The float64 fold of op over x (2-d) for each output of the reduction over dims, in row-major order.
std::vector<double> reduce_reference(const OpEntry& op, const Tensor& x, const Dims& dims) {
  const int64_t rows = x.size(0), cols = x.size(1);
  const std::vector<double> v = x.contiguous().to_vector();
  bool r0 = dims.empty(), r1 = dims.empty();
  for (int64_t d : dims) (d == 0 || d == -2 ? r0 : r1) = true;
  std::vector<double> want;
  for (int64_t i = 0; i < (r0 ? 1 : rows); ++i)
    for (int64_t j = 0; j < (r1 ? 1 : cols); ++j) {
      std::vector<double> vals;
      for (int64_t a = r0 ? 0 : i; a < (r0 ? rows : i + 1); ++a)
        for (int64_t b = r1 ? 0 : j; b < (r1 ? cols : j + 1); ++b) vals.push_back(v[static_cast<size_t>(a * cols + b)]);
      want.push_back(op.fold(vals));
    }
  return want;
}

}  // namespace

TEST_CASE("registry: every reduction matches its float64 fold on the CPU", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Reduce) continue;
    REQUIRE(op.reduce_call);
    REQUIRE(op.fold != nullptr);
    for (DType dt : kAllDTypes) {
      const Tensor x = reduce_sample(op, dt, 11);
      if (!accepts(op, dt)) {
        INFO(op_context(op, std::string("dtype ") + dtype_name(dt) +
                                ": a dtype outside `dtypes` must raise a loom::Error naming the op"));
        std::string msg;
        const bool named = raises_naming([&] { op.reduce_call(x, {1}, false); }, op.error_name, &msg);
        INFO("got: " << msg);
        CHECK(named);
        continue;
      }
      const double tol = dt == DType::Float64 ? 1e-10 : 1e-5;
      for (const Dims& dims : kReduceDims)
        for (bool keepdim : {false, true}) {
          INFO(op_context(op, std::string("dtype ") + dtype_name(dt) + ", " + dims_text(dims, keepdim)));
          Tensor y;
          try {
            y = op.reduce_call(x, dims, keepdim);
          } catch (const std::exception& e) {
            FAIL_CHECK("raised for an accepted dtype: " << e.what());
            continue;
          }
          CHECK(y.sizes() == reduced_shape(x.sizes(), dims, keepdim));
          std::string why;
          const bool ok = allclose(y.to_vector(), reduce_reference(op, x, dims), tol, tol, &why);
          INFO("the CPU result differs from the fold `ref`: " << why);
          CHECK(ok);
          // A strided (transposed) input gives the same values.
          const Tensor xt = x.t().contiguous().t();
          std::string why_t;
          const bool ok_t = allclose(op.reduce_call(xt, dims, keepdim).to_vector(), y.to_vector(), tol, tol, &why_t);
          INFO("a transposed input changes the result: " << why_t);
          CHECK(ok_t);
        }
    }
  }
}

TEST_CASE("registry: every differentiable reduction passes a float64 gradcheck", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Reduce) continue;
    INFO(op_context(op, "gradcheck over dims {1} of a [3, 4] input (the backward in autograd/ops/reduce.cpp)"));
    Tensor x = reduce_sample(op, DType::Float64, 12, {3, 4}).requires_grad_(true);
    const auto f = [&op](const TensorList& t) { return op.reduce_call(t[0], {1}, false); };
    if (!op.differentiable) {
      CHECK_FALSE(f({x}).requires_grad());
      continue;
    }
    loom::test::check_grad(f, {x});
  }
}

TEST_CASE("registry: every CUDA reduction matches its CPU twin", "[cuda][registry]") {
  LOOM_REQUIRE_GPU();
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::Reduce || !op.cuda) continue;
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64}) {
      if (!accepts(op, dt)) continue;
      Tensor x = reduce_sample(op, dt, 13);
      if (op.differentiable && is_floating(dt)) x = x.detach().requires_grad_(true);
      for (const Dims& dims : kReduceDims)
        for (bool keepdim : {false, true}) {
          INFO(op_context(
              op, std::string("CUDA against the CPU twin, dtype ") + dtype_name(dt) + ", " + dims_text(dims, keepdim)));
          loom::test::compare_gpu([&](const TensorList& t) { return op.reduce_call(t[0], dims, keepdim); }, {x}, 1e-4,
                                  1e-4);
        }
    }
  }
}

// ---- general ops (kind = "general": `call` on the sample `inputs`, a float64 `ref`) ----

namespace {

using RefFn = std::function<Tensor(const TensorList&)>;

// The float64 references of the general ops (the registry's `ref`, generated).
const std::map<std::string, RefFn>& general_refs() {
  static const std::map<std::string, RefFn> refs = {
#include "core/op_refs.inc"
  };
  return refs;
}

// The sample inputs of a general op with the tested dtype dt (fixed inputs keep theirs).
TensorList general_samples(const OpEntry& op, DType dt, uint64_t seed, Device device = Device()) {
  manual_seed(seed);
  TensorList in;
  for (const auto& s : op.samples) {
    const DType d = s.fixed ? s.dtype : dt;
    Tensor t;
    if (is_floating(d)) t = (rand(s.shape, TensorOptions(DType::Float64)) * (s.hi - s.lo) + s.lo).to(d);
    else if (d == DType::Bool) t = rand(s.shape, TensorOptions(DType::Float64)).lt(0.5);
    else if (s.fixed) t = randint(static_cast<int64_t>(s.lo), static_cast<int64_t>(s.hi), s.shape, TensorOptions(d));
    else t = randint(1, 4, s.shape, TensorOptions(d));
    in.push_back(t.to(device));
  }
  return in;
}

// The inputs of the reference: floating tested-dtype inputs as float64; integer and bool ones
// (and fixed ones) as they are.
TensorList as_reference_inputs(const OpEntry& op, const TensorList& in) {
  TensorList out;
  for (size_t i = 0; i < in.size(); ++i)
    out.push_back(op.samples[i].fixed || !is_floating(in[i].dtype()) ? in[i].detach()
                                                                     : in[i].detach().to(DType::Float64));
  return out;
}

}  // namespace

TEST_CASE("registry: every general op matches its float64 reference on the CPU", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::General) continue;
    const auto ref = general_refs().find(op.name);
    INFO(op_context(op, "a general op needs `ref`"));
    REQUIRE(ref != general_refs().end());
    for (DType dt : kAllDTypes) {
      INFO(op_context(op, std::string("dtype ") + dtype_name(dt)));
      const TensorList in = general_samples(op, dt, 21);
      if (!accepts(op, dt)) {
        std::string msg;
        const bool named = raises_naming([&] { op.call(in); }, op.error_name, &msg);
        INFO("a dtype outside `dtypes` must raise a loom::Error naming the op; got: " << msg);
        CHECK(named);
        continue;
      }
      Tensor y, want;
      try {
        y = op.call(in);
      } catch (const std::exception& e) {
        FAIL_CHECK(op_context(op, std::string("raised for an accepted dtype ") + dtype_name(dt) + ": " + e.what()));
        continue;
      }
      want = ref->second(as_reference_inputs(op, in));
      INFO("the result's shape differs from the reference's");
      CHECK(y.sizes() == want.sizes());
      // float32 results (of float32 or integer inputs) within `tol`; float64 and integer ones to 1e-9.
      const double tol = y.dtype() == DType::Float32 ? op.tol : 1e-9;
      std::string why;
      const bool ok = allclose(y.contiguous().to_vector(), want.contiguous().to_vector(), tol, tol, &why);
      INFO("the CPU result differs from the reference `ref`: " << why);
      CHECK(ok);
    }
  }
}

TEST_CASE("registry: every differentiable general op passes a float64 gradcheck", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::General) continue;
    INFO(op_context(op, "gradcheck of `call` over its floating sample inputs (the backward in autograd/ops)"));
    // Ops without float64 (bitwise, one_hot): their last dtype, for the no-grad check.
    TensorList in = general_samples(op, accepts(op, DType::Float64) ? DType::Float64 : op.dtypes.back(), 22);
    for (size_t i = 0; i < in.size(); ++i)
      if (op.samples[i].grad && is_floating(in[i].dtype())) in[i] = in[i].detach().requires_grad_(true);
    if (!op.differentiable) {
      CHECK_FALSE(op.call(in).requires_grad());
      continue;
    }
    loom::test::check_grad(op.call, in);
  }
}

TEST_CASE("registry: bad calls of general ops raise an error naming the op", "[core][ops][registry]") {
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::General) continue;
    const TensorList in = general_samples(op, op.dtypes.back(), 23);
    for (const auto& [text, bad] : op.bad) {
      INFO(op_context(op, std::string("`") + text + "` must raise a loom::Error naming the op"));
      std::string msg;
      const bool named = raises_naming([&] { bad(in); }, op.error_name, &msg);
      INFO("got: " << msg);
      CHECK(named);
    }
  }
}

TEST_CASE("registry: every general CUDA op matches its CPU twin", "[cuda][registry]") {
  LOOM_REQUIRE_GPU();
  for (const OpEntry& op : op_table()) {
    if (op.kind != Kind::General || !op.cuda) continue;
    for (DType dt : kAllDTypes) {
      if (!accepts(op, dt)) continue;
      TensorList in = general_samples(op, dt, 24);
      if (std::find(op.cuda_dtypes.begin(), op.cuda_dtypes.end(), dt) == op.cuda_dtypes.end()) {
        INFO(op_context(op, std::string("dtype ") + dtype_name(dt) +
                                " is not in `cuda_dtypes`: on CUDA it must raise a loom::Error naming the op"));
        TensorList gin;
        for (const Tensor& t : in) gin.push_back(t.to(Device("cuda:0")));
        std::string msg;
        const bool named = raises_naming([&] { op.call(gin); }, op.error_name, &msg);
        INFO("got: " << msg);
        CHECK(named);
        continue;
      }
      INFO(op_context(op, std::string("CUDA against the CPU twin, dtype ") + dtype_name(dt)));
      if (op.differentiable && is_floating(dt))
        for (size_t i = 0; i < in.size(); ++i)
          if (op.samples[i].grad) in[i] = in[i].detach().requires_grad_(true);
      const double tol = dt == DType::Float32 ? op.tol : 1e-9;
      loom::test::compare_gpu(op.call, in, tol, tol);
    }
  }
}
