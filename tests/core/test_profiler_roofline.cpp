// The profiler's cost model and roofline column (core/op_cost.h,
// core/roofline.h), and its GPU side: kernels recorded per op (CUPTI on a
// GPU, the emulator's launch records, CUDA event pairs), their times in the
// table and their tracks and flow arrows in the Chrome trace.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops/conv.h"
#include "autograd/ops/fusion.h"
#include "autograd/ops/pool.h"
#include "core/cuda.h"
#include "core/error.h"
#include "core/op_cost.h"
#include "core/profiler.h"
#include "core/roofline.h"
#include "core/tensor.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using profiler::Event;
using profiler::Profiler;
using profiler::ProfilerOptions;

namespace {

const Event& only(const Profiler& prof, const std::string& name) {
  const Event* found = nullptr;
  int n = 0;
  for (const Event& e : prof.events())
    if (e.name == name) found = &e, ++n;
  INFO(name);
  REQUIRE(n == 1);
  return *found;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("matmul, broadcast add and views carry their FLOPs and bytes", "[profiler][roofline]") {
  Tensor a = ones({32, 64}), b = ones({64, 16}), c = ones({4, 1}), d = ones({1, 5});
  Profiler prof;
  prof.start();
  Tensor y = a.matmul(b);
  Tensor z = c + d;
  Tensor v = a.view({64, 32});
  prof.stop();
  const Event& mm = only(prof, "matmul");
  CHECK(mm.flops == 2.0 * 32 * 16 * 64);
  CHECK(mm.bytes == 4.0 * (32 * 64 + 64 * 16 + 32 * 16));
  CHECK(mm.device == -1);
  CHECK(mm.precision == "fp32");
  const Event& add = only(prof, "add");
  CHECK(add.flops == 20);
  CHECK(add.bytes == 4.0 * (4 + 5 + 20));
  int views = 0;
  for (const Event& e : prof.events())
    if (e.name == "view") {
      ++views;
      CHECK(e.flops == 0);
      CHECK(e.bytes == 0);
    }
  CHECK(views >= 1);
}

TEST_CASE("ops whose cost depends on arguments declare it in their front ends", "[profiler][roofline]") {
  Tensor x = ones({2, 3, 8, 8}), w = ones({4, 3, 3, 3}), bias = ones({4});
  Profiler prof;
  prof.start();
  Tensor y = conv2d(x, w, bias, {1}, {1});
  Tensor p = max_pool2d(y, {2});
  Tensor s = ones({10, 6}).index_select(1, from_vector(std::vector<int64_t>{0, 2, 4}, {3}));
  Tensor r = rand({5, 7});
  prof.stop();
  const Event& conv = only(prof, "conv2d");
  const double out = 2 * 4 * 8 * 8;
  CHECK(conv.flops == 2 * out * 27 + out);
  CHECK(conv.bytes == 4.0 * (2 * 3 * 64 + 4 * 27 + 4 + out));
  const Event& pool = only(prof, "max_pool2d");
  CHECK(pool.flops == (out / 4) * 4);
  CHECK(pool.bytes == 4.0 * out + (out / 4) * 4);  // without autograd: no int64 indices written
  const Event& sel = only(prof, "index_select");
  CHECK(sel.flops == 0);
  CHECK(sel.bytes == 3 * 8 + 2.0 * 3 * 10 * 4);
  const Event& rnd = only(prof, "rand");
  CHECK(rnd.flops == 35);
  CHECK(rnd.bytes == 35 * 4);
}

TEST_CASE("max_pool2d with autograd declares the int64 indices it writes", "[profiler][roofline]") {
  Tensor y = ones({2, 4, 8, 8}).requires_grad_(true);
  Profiler prof;
  prof.start();
  Tensor p = max_pool2d(y, {2});
  prof.stop();
  const double out = 2 * 4 * 8 * 8;
  const Event& pool = only(prof, "max_pool2d");
  CHECK(pool.flops == (out / 4) * 4);
  CHECK(pool.bytes == 4.0 * out + (out / 4) * (4 + 8));
}

TEST_CASE("every op of a small model has a known cost", "[profiler][roofline]") {
  Tensor x = rand({4, 3, 8, 8}), w = rand({6, 3, 3, 3}), lw = rand({10, 6 * 3 * 3}), lb = rand({10});
  Profiler prof;
  prof.start();
  Tensor h = conv2d(x, w).relu();
  h = max_pool2d(h, {2}).reshape({4, -1});
  Tensor logits = linear(h, lw, lb).softmax(-1);
  Tensor loss = logits.sum() + cat({logits, logits}).mean();
  prof.stop();
  for (const Event& e : prof.events()) {
    INFO(e.name);
    CHECK(e.flops >= 0);
    CHECK(e.bytes >= 0);
  }
}

TEST_CASE("the roofline fraction is of min(peak, intensity x bandwidth)", "[profiler][roofline]") {
  profiler::DeviceRoof r;
  r.fp32 = 1000, r.tf32 = 4000, r.fp64 = 500, r.bandwidth = 5;
  // Intensity 10 FLOP/byte: memory-bound roof 50 FLOP/s.
  CHECK(r.fraction(100, 10, 4, "fp32") == 0.5);
  // Intensity 1000: compute-bound at the peak of the precision.
  CHECK(r.fraction(1e6, 1000, 2000, "fp32") == 0.5);
  CHECK(r.fraction(1e6, 1000, 500, "tf32") == 0.5);
  CHECK(r.fraction(1e6, 1000, 4000, "fp64") == 0.5);
  // A copy (no FLOPs): the fraction of the bandwidth.
  CHECK(r.fraction(0, 10, 4, "") == 0.5);
  CHECK(r.fraction(-1, 10, 4, "fp32") == -1);
  CHECK(r.fraction(100, 10, 0, "fp32") == -1);
}

TEST_CASE("the CPU roof comes from cpuid and a measured copy; users can replace it", "[profiler][roofline]") {
  profiler::reset_device_roofs();
  const profiler::DeviceRoof& cpu = profiler::device_roof(-1);
  CHECK_THAT(cpu.name, ContainsSubstring("CPU"));
  CHECK(cpu.fp32 > 1e9);
  test::check_close(cpu.fp64, cpu.fp32 / 2, 0, test::kTightRtol);
  CHECK(cpu.bandwidth > 1e8);
  CHECK(cpu.bandwidth_source == "measured copy");

  profiler::set_device_roof(-1, 2e9, 1e9);
  const profiler::DeviceRoof& user = profiler::device_roof(-1);
  CHECK(user.fp32 == 2e9);
  CHECK(user.tf32 == 2e9);
  CHECK(user.bandwidth == 1e9);
  CHECK(user.peak_source == "user");
  CHECK(test::error_kind([] { profiler::set_device_roof(-1, 0, 0); }) == ErrorKind::Value);

  // A matmul that takes a measurable time: its row gets TFLOP/s, GB/s and a
  // fraction of the user's roof.
  Tensor a = rand({192, 192}), b = rand({192, 192});
  Profiler prof;
  prof.start();
  for (int i = 0; i < 3; ++i) a.matmul(b);
  prof.stop();
  profiler::EventAvg row;
  for (const auto& r : prof.key_averages())
    if (r.key == "matmul") row = r;
  REQUIRE(row.count == 3);
  CHECK(row.flops == 3 * 2.0 * 192 * 192 * 192);
  const double seconds = row.cpu_time_total * 1e-6;
  test::check_close(row.achieved_flops, row.flops / seconds, 0, test::kTightRtol);
  test::check_close(row.achieved_bandwidth, row.bytes / seconds, 0, test::kTightRtol);
  const double roof = std::min(2e9, row.flops / row.bytes * 1e9);
  test::check_close(row.roofline_fraction, row.flops / seconds / roof, 0, test::kTightRtol);
  const std::string table = prof.table("flops");
  CHECK_THAT(table, ContainsSubstring("TFLOP/s"));
  CHECK_THAT(table, ContainsSubstring("% of roof"));
  CHECK_THAT(table, ContainsSubstring("Roof of CPU"));
  CHECK_THAT(table, ContainsSubstring("(user)"));
  profiler::reset_device_roofs();
}

TEST_CASE("roofline columns can be turned off", "[profiler][roofline]") {
  ProfilerOptions o;
  o.roofline = false;
  Profiler prof(o);
  prof.start();
  ones({8, 8}).matmul(ones({8, 8}));
  prof.stop();
  CHECK_THAT(prof.table(), !ContainsSubstring("TFLOP/s"));
  CHECK(prof.key_averages()[0].roofline_fraction == -1);
}

TEST_CASE("a RecordFunction range carries the cost its owner declares", "[profiler][roofline]") {
  Profiler prof;
  prof.start();
  {
    profiler::RecordFunction r("my_kernel");
    CHECK(r.recording());
    r.set_cost(1e6, 4e3, "fp64");
  }
  prof.stop();
  const Event& e = only(prof, "my_kernel");
  CHECK(e.flops == 1e6);
  CHECK(e.bytes == 4e3);
  CHECK(e.precision == "fp64");
  profiler::RecordFunction off("not recording");
  CHECK_FALSE(off.recording());
  off.set_cost(1, 1);  // harmless
}

TEST_CASE("without CUDA activity no kernels are recorded and the table has no CUDA columns", "[profiler][roofline]") {
  Profiler prof;
  prof.start();
  ones({4}).exp();
  prof.stop();
  CHECK(prof.kernels().empty());
  CHECK(prof.cuda_timing_used() == "off");
  CHECK_THAT(prof.table(), !ContainsSubstring("Self CUDA"));
}

TEST_CASE("GPU kernels are recorded per op, timed, and drawn in the trace", "[profiler][cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  Tensor x = rand({2, 3, 16, 16}).to(gpu), w = rand({8, 3, 3, 3}).to(gpu), b = rand({8}).to(gpu);
  for (const char* timing : {"auto", "events"}) {
    INFO(timing);
    ProfilerOptions o;
    o.cuda = true;
    o.cuda_timing = timing;
    o.record_shapes = true;
    Profiler prof(o);
    prof.start();
    Tensor y = conv2d(x, w, b, {1}, {1}).relu();
    Tensor s = y.sum();
    cuda::synchronize();
    prof.stop();
    const std::string used = prof.cuda_timing_used();
    if (std::string(timing) == "events") CHECK(used == "cuda_events");
    else CHECK((used == "cupti" || used == "emulator" || used == "cuda_events"));
    const auto& kernels = prof.kernels();
    REQUIRE(!kernels.empty());
    for (const auto& k : kernels) {
      INFO(k.name);
      CHECK(k.end_ns >= k.start_ns);
      CHECK(k.source == used);
    }
    const Event& conv = only(prof, "conv2d");
    CHECK(conv.device == 0);
    CHECK(conv.cuda_ns > 0);
    CHECK(conv.flops > 0);
    bool conv_has_kernel = false;
    for (const auto& k : kernels) conv_has_kernel = conv_has_kernel || (k.op >= 0 && &prof.events()[k.op] == &conv);
    CHECK(conv_has_kernel);
    const std::string table = prof.table("cuda_time_total");
    CHECK_THAT(table, ContainsSubstring("Self CUDA"));
    CHECK_THAT(table, ContainsSubstring("timed by " + used));
    const std::string path = "loom_test_gpu_trace.json";
    prof.export_chrome_trace(path);
    const std::string trace = read_file(path);
    std::remove(path.c_str());
    CHECK_THAT(trace, ContainsSubstring("\"cat\": \"kernel\""));
    CHECK_THAT(trace, ContainsSubstring("\"ph\": \"f\""));
    CHECK_THAT(trace, ContainsSubstring("\"name\": \"GPU 0\""));
  }
}

TEST_CASE("backward nodes that launch kernels themselves carry a cost", "[profiler][roofline]") {
  Tensor x = rand({2, 3, 8, 8}), w = rand({4, 3, 3, 3}), b = rand({4});
  x.requires_grad_(true);
  w.requires_grad_(true);
  b.requires_grad_(true);
  Tensor loss = conv2d(x, w, b, {1}, {1}).sum();
  Profiler prof;
  prof.start();
  loss.backward();
  prof.stop();
  const Event& node = only(prof, "ConvolutionBackward0");
  const double out = 2 * 4 * 8 * 8, macs = out * 27;
  CHECK(node.flops == 2 * 2 * macs + out);
  CHECK(node.bytes == 4 * (out + 2 * 108 + 384 + 2 * 384 + 108));
  CHECK(node.precision == "fp32");
  // A node that only calls other ops declares nothing: they carry the cost.
  Tensor a = rand({4, 5}), c = rand({5, 3});
  a.requires_grad_(true);
  Tensor l2 = a.matmul(c).sum();
  Profiler p2;
  p2.start();
  l2.backward();
  p2.stop();
  CHECK(only(p2, "MmBackward0").flops == -1);
}
