// The autotuner (core/autotune.h) with a fake timer: it picks the fastest
// candidate, times a problem once, skips failing and far slower candidates,
// and its cache prints, saves, loads and clears.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <unistd.h>

#include "core/autotune.h"
#include "core/error.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

namespace {

// Scripted times per candidate name; counts the timed runs of each.
struct FakeTimer : autotune::Timer {
  std::map<std::string, double> ms;
  std::map<std::string, int> calls;
  double time_ms(const std::string&, const autotune::Candidate& c) override {
    ++calls[c.name];
    c.run();
    return ms.at(c.name);
  }
};

std::vector<autotune::Candidate> candidates(std::map<std::string, int>* runs, const std::vector<std::string>& names) {
  std::vector<autotune::Candidate> out;
  for (const auto& n : names) out.push_back({n, [runs, n] { ++(*runs)[n]; }});
  return out;
}

std::string temp_path(const char* name) {
  return std::string("/tmp/loom_test_autotune_") + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST_CASE("autotune picks the fastest candidate and times a problem once", "[autotune]") {
  autotune::clear();
  FakeTimer t;
  t.ms = {{"a", 2.0}, {"b", 0.5}, {"c", 1.0}};
  std::map<std::string, int> runs;
  const auto cands = candidates(&runs, {"a", "b", "c"});
  const double before = autotune::tuning_seconds();
  CHECK(autotune::choose("fam", "p1", cands, t) == "b");
  // Warm-up plus kReps timed runs each (none is 3x slower than the best when timed).
  CHECK(t.calls["a"] == autotune::kReps);
  CHECK(t.calls["b"] == autotune::kReps);
  CHECK(runs["a"] == 1 + autotune::kReps);
  CHECK(autotune::tuning_seconds() >= before);

  // Cached: no timing, no runs.
  CHECK(autotune::choose("fam", "p1", cands, t) == "b");
  CHECK(t.calls["b"] == autotune::kReps);
  CHECK(runs["b"] == 1 + autotune::kReps);

  autotune::Entry e;
  REQUIRE(autotune::lookup("fam", "p1", &e));
  CHECK(e.choice == "b");
  REQUIRE(e.timings.size() == 3);
  CHECK(e.timings[0].name == "a");
  CHECK(e.timings[0].ms == 2.0);
  CHECK(e.timings[1].ms == 0.5);
  CHECK_FALSE(autotune::lookup("fam", "p2"));
  std::string choice;
  CHECK(autotune::cached_choice("fam", "p1", &choice));
  CHECK(choice == "b");
  CHECK_FALSE(autotune::cached_choice("fam", "p2", &choice));
  autotune::clear();
}

TEST_CASE("autotune: slow candidates are timed once, failing ones are skipped", "[autotune]") {
  autotune::clear();
  FakeTimer t;
  t.ms = {{"fast", 1.0}, {"slow", 10.0}, {"broken", 0.1}};
  std::map<std::string, int> runs;
  std::vector<autotune::Candidate> cands = candidates(&runs, {"fast", "slow"});
  cands.push_back({"broken", [] { throw Error(ErrorKind::Runtime, "no kernel for this shape"); }});
  CHECK(autotune::choose("fam", "p", cands, t) == "fast");
  CHECK(t.calls["slow"] == 1);  // 10x the best after one timed run
  CHECK(t.calls["broken"] == 0);
  autotune::Entry e;
  REQUIRE(autotune::lookup("fam", "p", &e));
  CHECK(e.timings[2].name == "broken");
  CHECK(e.timings[2].ms < 0);
  CHECK_THAT(autotune::to_text("fam"), ContainsSubstring("broken failed"));

  std::vector<autotune::Candidate> all_broken = {{"x", [] { throw Error(ErrorKind::Runtime, "x is broken"); }}};
  CHECK_THROWS_WITH(autotune::choose("fam", "q", all_broken, t), ContainsSubstring("x is broken"));
  CHECK_THROWS_WITH(autotune::choose("fam", "q", {}, t), ContainsSubstring("no candidates"));
  autotune::clear();
}

TEST_CASE("autotune retunes when the cached choice is no longer a candidate; put pins a choice", "[autotune]") {
  autotune::clear();
  FakeTimer t;
  t.ms = {{"a", 1.0}, {"b", 2.0}, {"c", 3.0}};
  std::map<std::string, int> runs;
  CHECK(autotune::choose("fam", "p", candidates(&runs, {"a", "b"}), t) == "a");
  CHECK(autotune::choose("fam", "p", candidates(&runs, {"b", "c"}), t) == "b");
  autotune::put({"fam", "p", "c", {}, 0.0});
  CHECK(autotune::choose("fam", "p", candidates(&runs, {"b", "c"}), t) == "c");
  CHECK_THROWS_WITH(autotune::put({"", "p", "c", {}, 0.0}), ContainsSubstring("family"));
  autotune::clear();
}

TEST_CASE("autotune timer override replaces the family's timer", "[autotune]") {
  autotune::clear();
  FakeTimer family, fake;
  family.ms = {{"a", 1.0}, {"b", 2.0}};
  fake.ms = {{"a", 5.0}, {"b", 2.0}};
  auto shared = std::shared_ptr<autotune::Timer>(&fake, [](autotune::Timer*) {});
  autotune::set_timer_override(shared);
  std::map<std::string, int> runs;
  CHECK(autotune::choose("fam", "p", candidates(&runs, {"a", "b"}), family) == "b");
  CHECK(family.calls.empty());
  autotune::set_timer_override(nullptr);
  autotune::clear();
}

TEST_CASE("autotune cache: JSON save and load round trip, clear by family", "[autotune]") {
  autotune::clear();
  FakeTimer t;
  t.ms = {{"igemm128x64", 0.25}, {"cudnn", 0.5}, {"x", 1.0}};
  std::map<std::string, int> runs;
  const std::string odd = "fwd float32 N64 \"quoted\" \\ back\tslash";
  autotune::choose("conv2d", odd, candidates(&runs, {"igemm128x64", "cudnn"}), t);
  autotune::choose("conv2d", "p2", candidates(&runs, {"cudnn", "x"}), t);
  autotune::choose("other", "p", candidates(&runs, {"x"}), t);
  CHECK(autotune::entries().size() == 3);
  CHECK(autotune::entries("conv2d").size() == 2);

  const std::string path = temp_path("cache.json");
  autotune::save(path, "conv2d");
  autotune::clear("conv2d");
  CHECK(autotune::entries("conv2d").empty());
  CHECK(autotune::entries("other").size() == 1);
  CHECK(autotune::load(path) == 2);
  autotune::Entry e;
  REQUIRE(autotune::lookup("conv2d", odd, &e));
  CHECK(e.choice == "igemm128x64");
  REQUIRE(e.timings.size() == 2);
  CHECK(e.timings[1].name == "cudnn");
  CHECK(e.timings[1].ms == 0.5);
  // A loaded choice is used without timing.
  FakeTimer never;
  CHECK(autotune::choose("conv2d", "p2", candidates(&runs, {"cudnn", "x"}), never) == "cudnn");
  CHECK(never.calls.empty());
  CHECK_THAT(autotune::to_json(), ContainsSubstring("\"version\": 1"));
  std::remove(path.c_str());
  autotune::clear();
}

TEST_CASE("autotune load rejects missing and malformed files", "[autotune]") {
  autotune::clear();
  CHECK_THROWS_WITH(autotune::load("/nonexistent/loom_cache.json"), ContainsSubstring("cannot open"));
  const std::string path = temp_path("bad.json");
  for (const char* text : {"", "{", "[]", "{\"entries\": []}", "{\"version\": 2, \"entries\": []}",
                           "{\"version\": 1, \"entries\": [{\"family\": \"f\"}]}",
                           "{\"version\": 1, \"entries\": [{\"family\": \"f\", \"choice\": 3}]}",
                           "{\"version\": 1, \"entries\": []} trailing", "{\"version\": 1, \"bogus\": 1}"}) {
    INFO(text);
    std::ofstream(path) << text;
    try {
      autotune::load(path);
      FAIL("loaded a malformed file");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Value);
      CHECK_THAT(std::string(e.what()), ContainsSubstring(path));
    }
  }
  CHECK(autotune::entries().empty());  // nothing half-loaded
  std::ofstream(path) << "{\"version\": 1, \"entries\": []}";
  CHECK(autotune::load(path) == 0);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(autotune::save("/nonexistent/dir/cache.json"), ContainsSubstring("cannot open"));
}

TEST_CASE("autotune stops timing a problem when its budget is spent", "[autotune]") {
  autotune::clear();
  CHECK(autotune::budget_seconds() == 2.0);
  FakeTimer t;
  t.ms = {{"first", 5.0}, {"second", 1.0}, {"third", 0.5}};
  std::map<std::string, int> runs;
  autotune::set_budget_seconds(1e-12);  // spent by the first candidate
  CHECK(autotune::choose("fam", "p", candidates(&runs, {"first", "second", "third"}), t) == "first");
  autotune::Entry e;
  REQUIRE(autotune::lookup("fam", "p", &e));
  CHECK(e.skipped == 2);
  CHECK(e.timings.size() == 1);
  CHECK(runs.count("second") == 0);
  CHECK_THAT(autotune::to_text(), ContainsSubstring("2 skipped: budget reached"));
  CHECK_THAT(autotune::to_json(), ContainsSubstring("\"skipped\": 2"));
  CHECK_THROWS_WITH(autotune::set_budget_seconds(0), ContainsSubstring("positive"));
  autotune::set_budget_seconds(2.0);
  autotune::clear();
}
