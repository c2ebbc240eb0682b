// The autotuner: for a problem seen for the first time (a string key within a
// kernel family, e.g. "conv2d" / "fwd f32 N64 C64 ..."), time every candidate
// implementation once and remember the fastest; later calls are one hash
// lookup. Families (convolution today; attention tiles, norms, GEMM epilogues
// can use it the same way) supply the candidates and a timer; the cache is
// process-wide and can be listed, saved to and loaded from a JSON file, and
// cleared. Like torch.backends.cudnn.benchmark, but visible and reusable.
//
// Cost: each candidate runs once to warm up, then up to kReps timed runs; a
// candidate already 3x slower than the best after its first timed run is not
// repeated. A candidate that throws is recorded as failed and skipped. Once a
// problem has taken its time budget (budget_seconds(), 2 s by default) the
// remaining candidates are skipped, so families list their likeliest winners
// first. The seconds spent per problem are kept with its entry.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::autotune {

struct Candidate {
  std::string name;
  std::function<void()> run;
};

// Measures one run of a candidate for a problem, in milliseconds. Families
// pass theirs (CUDA events on the kernel's stream); tests install a fake one.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual double time_ms(const std::string& problem, const Candidate& c) = 0;
};

// Replaces every family's timer (nullptr: back to theirs). For tests.
void set_timer_override(std::shared_ptr<Timer> timer);

struct Timing {
  std::string name;
  double ms = -1;  // best timed run; < 0: failed
};

struct Entry {
  std::string family, problem;
  std::string choice;           // the fastest candidate's name
  std::vector<Timing> timings;  // every candidate, in the order timed (as saved, when loaded)
  double tuning_s = 0;          // wall time spent tuning this problem
  int skipped = 0;              // candidates not timed: the budget ran out
};

constexpr int kReps = 3;
// Tuning time allowed per problem (seconds, > 0).
void set_budget_seconds(double seconds);
double budget_seconds();

// The cached choice for (family, problem) if it is one of `candidates`;
// otherwise times them (with `timer`, or the override), caches and returns the
// fastest. Raises when every candidate fails (the last failure's message).
std::string choose(const std::string& family, const std::string& problem, const std::vector<Candidate>& candidates,
                   Timer& timer);

// The cache.
bool lookup(const std::string& family, const std::string& problem, Entry* out = nullptr);
// The hot path: only the cached choice's name.
bool cached_choice(const std::string& family, const std::string& problem, std::string* choice);
void put(const Entry& entry);                                // insert or replace (tests, and pinning a choice by hand)
std::vector<Entry> entries(const std::string& family = "");  // sorted by family, then problem
void clear(const std::string& family = "");
double tuning_seconds();  // total spent tuning in this process
std::string to_json(const std::string& family = "");
std::string to_text(const std::string& family = "");  // one line per problem: the table print shows
void save(const std::string& path, const std::string& family = "");
// Adds (replacing equal keys) the entries of a file written by save; raises on
// a missing or malformed file. Returns the number of entries read.
size_t load(const std::string& path);

}  // namespace loom::autotune
