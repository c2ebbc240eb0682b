// The CPU profiler: op events with parents, shapes, user ranges, averages,
// the table, the Chrome trace, schedules, two threads, memory, and that
// stopping leaves no observer behind.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/nvtx.h"
#include "core/ops.h"
#include "core/profiler.h"
#include "core/tensor.h"

using namespace loom;
using profiler::Event;
using profiler::Profiler;
using profiler::ProfilerOptions;
using profiler::RecordFunction;

namespace {

std::vector<const Event*> named(const std::vector<Event>& events, const std::string& name) {
  std::vector<const Event*> out;
  for (const Event& e : events)
    if (e.name == name) out.push_back(&e);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// reshape of a transposed tensor copies: reshape -> contiguous (and view).
Tensor nested_work() { return ones({8, 16}).t().reshape({128}); }

}  // namespace

TEST_CASE("nested ops keep their parent and self time stays within total", "[profiler]") {
  Tensor x = ones({8, 16});
  Profiler prof;
  prof.start();
  Tensor y = x.t().reshape({128});
  prof.stop();
  CHECK(g_op_observer.load() == nullptr);

  const auto& events = prof.events();
  auto reshape = named(events, "reshape");
  auto contiguous = named(events, "contiguous");
  REQUIRE(reshape.size() == 1);
  REQUIRE(contiguous.size() == 1);
  const int64_t reshape_index = reshape[0] - events.data();
  CHECK(contiguous[0]->parent == reshape_index);
  CHECK(contiguous[0]->depth == reshape[0]->depth + 1);
  CHECK(contiguous[0]->start_ns >= reshape[0]->start_ns);
  CHECK(contiguous[0]->end_ns <= reshape[0]->end_ns);
  CHECK(reshape[0]->input_shapes.empty());  // record_shapes is off

  for (const auto& row : prof.key_averages()) {
    CHECK(row.self_cpu_time_total <= row.cpu_time_total);
    CHECK(row.self_cpu_time_total >= 0);
    if (row.key == "reshape") CHECK(row.self_cpu_time_total < row.cpu_time_total);
  }
}

TEST_CASE("record_shapes records input shapes and dtypes", "[profiler]") {
  Tensor a = ones({2, 3}), b = ones({3, 4});
  Profiler prof(ProfilerOptions{true, false});
  prof.start();
  Tensor c = matmul(a, b);
  Tensor d = cat({a, a}, 0);
  prof.stop();
  auto mm = named(prof.events(), "matmul");
  REQUIRE(!mm.empty());
  CHECK(mm[0]->input_shapes == std::vector<std::vector<int64_t>>{{2, 3}, {3, 4}});
  CHECK(mm[0]->input_dtypes == std::vector<std::string>{"float32", "float32"});
  auto ct = named(prof.events(), "cat");
  REQUIRE(ct.size() == 1);
  CHECK(ct[0]->input_shapes.size() == 2);

  bool found = false;
  for (const auto& row : prof.key_averages(true))
    if (row.key == "matmul" && row.input_shapes == "[[2, 3], [3, 4]]") found = true;
  CHECK(found);
  const std::string t = prof.table("cpu_time_total", 100, true);
  CHECK(t.find("Input Shapes") != std::string::npos);
  CHECK(t.find("[[2, 3], [3, 4]]") != std::string::npos);
}

TEST_CASE("record_function ranges are recorded as user annotations around ops", "[profiler]") {
  Profiler prof;
  prof.start();
  {
    RecordFunction outer("my_block");
    nested_work();
  }
  prof.stop();
  auto block = named(prof.events(), "my_block");
  REQUIRE(block.size() == 1);
  CHECK(std::string(block[0]->category) == "user_annotation");
  CHECK(block[0]->parent == -1);
  auto reshape = named(prof.events(), "reshape");
  REQUIRE(reshape.size() == 1);
  CHECK(reshape[0]->parent == block[0] - prof.events().data());
  // Off: a RecordFunction records nothing and costs nothing.
  { RecordFunction ignored("not_recorded"); }
  CHECK(named(prof.events(), "not_recorded").empty());
}

TEST_CASE("key_averages counts calls and the table names the ops", "[profiler]") {
  Tensor x = ones({4});
  Profiler prof;
  prof.start();
  for (int i = 0; i < 3; ++i) x = x + x;
  prof.stop();
  auto rows = prof.key_averages();
  auto it = std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.key == "add"; });
  REQUIRE(it != rows.end());
  CHECK(it->count == 3);
  CHECK(it->cpu_time == it->cpu_time_total / 3);
  for (const char* key : {"cpu_time_total", "self_cpu_time_total", "count", "cuda_time_total"}) {
    const std::string t = prof.table(key, 10);
    CHECK(t.find("add") != std::string::npos);
    CHECK(t.find("Self CPU %") != std::string::npos);
    CHECK(t.find("# of Calls") != std::string::npos);
  }
  CHECK_THROWS_AS(prof.table("bogus"), Error);
}

TEST_CASE("the Chrome trace is JSON with complete events nested by time", "[profiler]") {
  Profiler unfinished;
  unfinished.start();
  CHECK_THROWS_AS(unfinished.export_chrome_trace("never.json"), Error);
  unfinished.stop();

  Profiler prof(ProfilerOptions{true, true});
  prof.start();
  {
    RecordFunction r("quote\"d");
    nested_work();
  }
  prof.stop();
  const std::string path = "test_profiler_trace.json";
  prof.export_chrome_trace(path);
  const std::string s = read_file(path);
  std::remove(path.c_str());
  CHECK(s.rfind("{\"traceEvents\": [", 0) == 0);
  CHECK(s.find("\"ph\": \"X\"") != std::string::npos);
  CHECK(s.find("\"cat\": \"cpu_op\"") != std::string::npos);
  CHECK(s.find("\"cat\": \"user_annotation\"") != std::string::npos);
  CHECK(s.find("\"name\": \"quote\\\"d\"") != std::string::npos);
  CHECK(s.find("\"ph\": \"C\"") != std::string::npos);
  CHECK(s.find("\"Input Dims\"") != std::string::npos);
  // Balanced brackets outside strings: a cheap structural check (pytest
  // parses the same output with json.loads).
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    REQUIRE(depth >= 0);
  }
  CHECK(depth == 0);
  // Children lie inside their parents.
  const auto& ev = prof.events();
  for (const Event& e : ev) {
    if (e.parent < 0) continue;
    CHECK(e.start_ns >= ev[e.parent].start_ns);
    CHECK(e.end_ns <= ev[e.parent].end_ns);
  }
}

TEST_CASE("a schedule records exactly the active steps and reports each cycle", "[profiler]") {
  Profiler prof;
  prof.set_schedule({/*wait=*/1, /*warmup=*/1, /*active=*/2, /*repeat=*/2, /*skip_first=*/1});
  std::vector<std::vector<std::string>> cycles;
  prof.set_on_trace_ready([&](Profiler& p) {
    std::vector<std::string> names;
    for (const Event& e : p.events())
      if (std::string(e.category) == "user_annotation") names.push_back(e.name);
    cycles.push_back(names);
  });
  prof.start();
  for (int step = 0; step < 12; ++step) {
    { RecordFunction r("step" + std::to_string(step)); }
    prof.step();
  }
  prof.stop();
  // skip 0; cycle 1: wait 1, warmup 2, active 3-4; cycle 2: wait 5, warmup 6, active 7-8; then nothing.
  REQUIRE(cycles.size() == 2);
  CHECK(cycles[0] == std::vector<std::string>{"step3", "step4"});
  CHECK(cycles[1] == std::vector<std::string>{"step7", "step8"});
  CHECK(g_op_observer.load() == nullptr);

  Profiler bad;
  CHECK_THROWS_AS(bad.set_schedule({0, 0, 0, 0, 0}), Error);
}

TEST_CASE("an unfinished active cycle is reported at stop; repeat 0 cycles forever", "[profiler]") {
  Profiler prof;
  prof.set_schedule({0, 0, 2, 0, 0});
  int ready = 0;
  prof.set_on_trace_ready([&](Profiler&) { ++ready; });
  prof.start();
  for (int step = 0; step < 5; ++step) prof.step();
  prof.stop();
  CHECK(ready == 3);  // steps 0-1, 2-3, and 4 cut short by stop()
}

TEST_CASE("two threads profiled at once get their own tids and stacks", "[profiler]") {
  Profiler prof;
  prof.start();
  auto work = [](const char* name) {
    RecordFunction r(name);
    for (int i = 0; i < 20; ++i) nested_work();
  };
  std::thread t1(work, "thread_a"), t2(work, "thread_b");
  t1.join();
  t2.join();
  prof.stop();
  auto a = named(prof.events(), "thread_a"), b = named(prof.events(), "thread_b");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0]->thread != b[0]->thread);
  CHECK(named(prof.events(), "reshape").size() == 40);
  for (const Event& e : prof.events()) {
    if (e.name != "reshape") continue;
    REQUIRE(e.parent >= 0);
    const Event& p = prof.events()[e.parent];
    CHECK(p.thread == e.thread);
    CHECK((p.name == "thread_a" || p.name == "thread_b"));
  }
}

TEST_CASE("stop leaves no observer; one profiler records at a time", "[profiler]") {
  {
    Profiler a;
    a.start();
    CHECK(g_op_observer.load() != nullptr);
    Profiler b;
    CHECK_THROWS_AS(b.start(), Error);
    a.stop();
    CHECK(g_op_observer.load() == nullptr);
    b.start();  // free again
    // b is destroyed while recording: its destructor stops it.
  }
  CHECK(g_op_observer.load() == nullptr);
}

TEST_CASE("profile_memory counts the bytes an op allocates", "[profiler]") {
  Tensor x = ones({256, 256});  // 256 KiB of float32
  Profiler prof(ProfilerOptions{false, true});
  prof.start();
  Tensor y = x.t().contiguous();
  prof.stop();
  auto c = named(prof.events(), "contiguous");
  REQUIRE(c.size() == 1);
  CHECK(c[0]->cpu_memory_usage >= 256 * 256 * 4);
  CHECK(prof.peak_memory_bytes() >= 2 * 256 * 256 * 4);
  CHECK(!prof.memory_samples().empty());
  const std::string t = prof.table("cpu_memory_usage");
  CHECK(t.find("CPU Mem") != std::string::npos);
  CHECK(t.find("Kb") != std::string::npos);
}

TEST_CASE("emit_nvtx pushes a range per op and per RecordFunction, and excludes the profiler", "[profiler]") {
  if (!profiler::nvtx_available()) {
    CHECK_THROWS_WITH(profiler::EmitNvtx(), Catch::Matchers::ContainsSubstring("NVTX needs a build"));
    SKIP("no NVTX in this build (CPU-only, or the CUDA emulator)");
  }
  CHECK_FALSE(profiler::nvtx_enabled());
  {
    profiler::EmitNvtx on;
    CHECK(profiler::nvtx_enabled());
    CHECK(profiler::nvtx_depth() == 0);
    {
      profiler::RecordFunction r("user range");
      CHECK(profiler::nvtx_depth() == 1);
      Tensor y = ones({2, 3}).sum();
      CHECK(profiler::nvtx_depth() == 1);  // the op's range was pushed and popped
    }
    CHECK(profiler::nvtx_depth() == 0);
    profiler::Profiler prof;
    CHECK_THROWS_WITH(prof.start(), Catch::Matchers::ContainsSubstring("another OpObserver"));
    CHECK_THROWS_WITH(profiler::EmitNvtx(), Catch::Matchers::ContainsSubstring("already"));
  }
  CHECK_FALSE(profiler::nvtx_enabled());
  profiler::Profiler prof;
  prof.start();
  CHECK_THROWS_WITH(profiler::EmitNvtx(), Catch::Matchers::ContainsSubstring("another op observer"));
  prof.stop();
  profiler::EmitNvtx off(false);
  CHECK_FALSE(profiler::nvtx_enabled());
}

TEST_CASE("profiler records backward nodes as events under backward", "[profiler]") {
  profiler::Profiler prof;
  Tensor x = ones({4, 3}).requires_grad_(true);
  prof.start();
  {
    profiler::RecordFunction r("backward");
    (x * 2.0).sum().backward();
  }
  prof.stop();
  bool mul_backward = false, sum_backward = false;
  for (const auto& e : prof.events()) {
    if (e.name.rfind("MulBackward", 0) == 0) mul_backward = e.parent >= 0 && std::string(e.category) == "cpu_op";
    if (e.name.rfind("SumBackward", 0) == 0) sum_backward = e.parent >= 0;
  }
  CHECK(mul_backward);
  CHECK(sum_backward);
  CHECK_FALSE(profiler::observing());
}
