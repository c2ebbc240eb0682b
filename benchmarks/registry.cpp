// The benchmark cases the op registry gives (core/ops.toml, `kind` =
// "general", `bench` = one shape per input; the generated core/op_table.h):
// the op's `bench_call` (else `call`) forward on inputs of those shapes, fp32 (or
// the op's last dtype when it takes no float32: i64 for the bitwise ops; index
// and mask inputs keep their dtype and range), no grad. Each family's case file runs
// its ops' cases. Reported in TFLOP/s and GB/s of the minimum traffic as loom's
// profiler counts them for one call (core/op_cost.cpp: the registry's `cost`
// rule, or the front end's own), so the benchmark and the profiler's roofline
// column agree.
//   cpu/<family>/<dtype>/<op>/<shape>_<shape>...   2 threads, 10 iterations after 2 warm-up ones
//   <family>/<dtype>/<op>/<shape>_<shape>...       GPU, 50 iterations after 10 warm-up ones
// (a shape is written 4096x1024; ops whose inputs are 0-d dtype carriers, the
// factories and random ops, have no shape part). A view moves no data: its
// time is the op's own cost.
#include <algorithm>
#include <string>

#include "bench.h"
#include "core/op_table.h"
#include "core/profiler.h"

namespace bench {

using loom::Tensor;

namespace {

// The shapes joined: 4096x1024_1024; "" when every input is 0-d (a dtype and device carrier).
std::string shapes_text(const std::vector<loom::Shape>& shapes) {
  std::string out;
  bool all_0d = true;
  for (const auto& s : shapes) all_0d = all_0d && s.empty();
  if (all_0d) return out;
  for (size_t i = 0; i < shapes.size(); ++i) {
    out += i ? "_" : "";
    for (size_t d = 0; d < shapes[i].size(); ++d) out += (d ? "x" : "") + std::to_string(shapes[i][d]);
  }
  return out;
}

// The dtype of the benchmark: float32 when the op accepts it, else its last dtype (int64 for the bitwise ops).
loom::DType bench_dtype(const loom::registry::OpEntry& op) {
  for (loom::DType dt : op.dtypes)
    if (dt == loom::DType::Float32) return dt;
  return op.dtypes.back();
}

std::string dtype_tag(loom::DType dt) {
  switch (dt) {
    case loom::DType::Float32: return "fp32";
    case loom::DType::Float64: return "fp64";
    case loom::DType::Int32: return "i32";
    case loom::DType::Int64: return "i64";
    default: return "bool";
  }
}

// The benchmark inputs of op: the bench dtype for the tested-dtype ones (floats uniform in
// their range, integers in [0, 2^20)), fixed ones as in the samples.
loom::TensorList bench_inputs(const loom::registry::OpEntry& op, const loom::Device& dev) {
  loom::TensorList in;
  const loom::DType bdt = bench_dtype(op);
  for (size_t i = 0; i < op.samples.size(); ++i) {
    const auto& s = op.samples[i];
    const loom::DType dt = s.fixed ? s.dtype : bdt;
    const loom::Shape& shape = op.bench_shapes[i];
    Tensor t;
    if (loom::is_floating(dt)) t = (loom::rand(shape, loom::TensorOptions(dev)) * (s.hi - s.lo) + s.lo).to(dt);
    else if (dt == loom::DType::Bool) t = loom::rand(shape, loom::TensorOptions(dev)).lt(0.5);
    else if (s.fixed)
      t = loom::randint(static_cast<int64_t>(s.lo), static_cast<int64_t>(s.hi), shape, loom::TensorOptions(dt, dev));
    else t = loom::randint(0, int64_t{1} << 20, shape, loom::TensorOptions(dt, dev));
    in.push_back(t);
  }
  return in;
}

struct OpWork {
  double flops = 0, bytes = 0;  // 0: unknown (the row then has no tflops / gbps)
};

// The FLOPs and bytes of one call of the op, as loom's profiler counts them
// (core/op_cost.cpp, the rule `cost` of the registry; the front end's own for
// "declared"): summed over the op's outermost events in one profiled call.
OpWork profiled_work(const loom::registry::OpEntry& op, const loom::TensorList& in) {
  loom::profiler::ProfilerOptions opts;
  opts.roofline = false;
  loom::profiler::Profiler prof(opts);
  prof.start();
  { Tensor out = op.bench_call(in); }
  prof.stop();
  OpWork w;
  // Only the outermost events of the op: a front end may call itself (a reshape inside reshape).
  for (size_t i = 0; i < prof.events().size(); ++i) {
    const loom::profiler::Event& e = prof.events()[i];
    if (e.name != op.name) continue;
    bool nested = false;
    for (int64_t p = e.parent; p >= 0 && !nested; p = prof.events()[static_cast<size_t>(p)].parent)
      nested = prof.events()[static_cast<size_t>(p)].name == op.name;
    if (nested) continue;
    w.flops += std::max(e.flops, 0.0);
    w.bytes += std::max(e.bytes, 0.0);
  }
  return w;
}

}  // namespace

void run_registry_cases(const Context& ctx, bool gpu, const std::string& family) {
  for (const loom::registry::OpEntry& op : loom::registry::op_table()) {
    if (op.kind != loom::registry::Kind::General || op.family != family || op.bench_shapes.empty() ||
        (gpu ? !op.cuda : !op.cpu))
      continue;
    const std::string shapes = shapes_text(op.bench_shapes);
    const std::string name = std::string(gpu ? "" : "cpu/") + family + "/" + dtype_tag(bench_dtype(op)) + "/" +
                             op.name + (shapes.empty() ? "" : "/" + shapes);
    ctx.run(name, [&] {
      const loom::TensorList in = bench_inputs(op, gpu ? current_gpu() : loom::Device());
      const OpWork work = profiled_work(op, in);
      timed_on(
          ctx, gpu, name, [&] { Tensor out = op.bench_call(in); }, work.flops, work.bytes);
    });
  }
}

}  // namespace bench
