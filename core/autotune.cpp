// The autotuner's cache and its JSON file format:
//   {"version": 1, "entries": [{"family": "conv2d", "problem": "...", "choice": "igemm128x64",
//     "tuning_s": 0.012, "skipped": 0, "timings": {"igemm128x64": 0.51, "cudnn": 0.62, "few": -1}}, ...]}
// The reader accepts exactly what the writer produces (objects, arrays,
// strings with escapes, numbers) and names the file and offset on any error.
#include "core/autotune.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/error.h"

namespace loom::autotune {

namespace {

std::mutex g_mu;
std::map<std::pair<std::string, std::string>, Entry> g_cache;
double g_tuning_s = 0;
double g_budget_s = 2.0;
std::shared_ptr<Timer> g_override;

std::string quote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += char(c);
    else if (c == '\n') o += "\\n";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else o += char(c);
  }
  return o + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A reader for the subset of JSON the writer emits.
class Reader {
 public:
  Reader(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void expect(char c) {
    skip_ws();
    if (i_ >= s_.size() || s_[i_] != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool consume(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  std::string string() {
    expect('"');
    std::string o;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        o += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      c = s_[i_++];
      if (c == 'n') o += '\n';
      else if (c == 'u') {
        if (i_ + 4 > s_.size()) fail("truncated \\u escape");
        const unsigned v = unsigned(std::stoul(s_.substr(i_, 4), nullptr, 16));
        if (v >= 0x80) fail("non-ASCII \\u escape");
        o += char(v);
        i_ += 4;
      } else o += c;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return o;
  }
  double number() {
    skip_ws();
    const char* begin = s_.c_str() + i_;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) fail("expected a number");
    i_ += size_t(end - begin);
    return v;
  }
  // The members of an object, one call of f(key) per member.
  template <typename F>
  void object(F&& f) {
    expect('{');
    if (consume('}')) return;
    do {
      const std::string key = string();
      expect(':');
      f(key);
    } while (consume(','));
    expect('}');
  }
  template <typename F>
  void array(F&& f) {
    expect('[');
    if (consume(']')) return;
    do f();
    while (consume(','));
    expect(']');
  }
  void end() {
    skip_ws();
    if (i_ != s_.size()) fail("trailing characters");
  }
  [[noreturn]] void fail(const std::string& what) const {
    LOOM_THROW(ErrorKind::Value, "autotune.load: ", path_, " is not an autotuner cache file: ", what, " at offset ",
               i_);
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  const std::string& s_;
  std::string path_;
  size_t i_ = 0;
};

bool in_family(const Entry& e, const std::string& family) { return family.empty() || e.family == family; }

}  // namespace

void set_budget_seconds(double seconds) {
  LOOM_CHECK_VALUE(seconds > 0 && std::isfinite(seconds),
                   "autotune.set_budget_seconds: expected a positive number, got ", seconds);
  std::lock_guard<std::mutex> lock(g_mu);
  g_budget_s = seconds;
}

double budget_seconds() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_budget_s;
}

void set_timer_override(std::shared_ptr<Timer> timer) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_override = std::move(timer);
}

std::string choose(const std::string& family, const std::string& problem, const std::vector<Candidate>& candidates,
                   Timer& timer) {
  LOOM_CHECK(!candidates.empty(), "autotune: no candidates for ", family, " problem ", problem);
  std::shared_ptr<Timer> override_timer;
  double budget = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_cache.find({family, problem});
    if (it != g_cache.end())
      for (const auto& c : candidates)
        if (c.name == it->second.choice) return c.name;
    override_timer = g_override;
    budget = g_budget_s;
  }
  Timer& t = override_timer ? *override_timer : timer;
  const auto start = std::chrono::steady_clock::now();
  Entry e;
  e.family = family, e.problem = problem;
  double best = INFINITY;
  std::string last_error;
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (const auto& c : candidates) {
    if (!e.choice.empty() && elapsed() > budget) {
      ++e.skipped;
      continue;
    }
    Timing tm{c.name, -1};
    try {
      c.run();  // warm-up: first-launch costs, caches, cuDNN's own search
      double ms = t.time_ms(problem, c);
      for (int r = 1; r < kReps && ms < 3 * best; ++r) ms = std::min(ms, t.time_ms(problem, c));
      tm.ms = ms;
      if (ms < best) best = ms, e.choice = c.name;
    } catch (const std::exception& ex) {
      last_error = c.name + ": " + ex.what();
    }
    e.timings.push_back(tm);
  }
  LOOM_CHECK(!e.choice.empty(), "autotune: every candidate failed for ", family, " problem ", problem,
             " (last: ", last_error, ")");
  e.tuning_s = elapsed();
  std::lock_guard<std::mutex> lock(g_mu);
  g_tuning_s += e.tuning_s;
  g_cache[{family, problem}] = e;
  return e.choice;
}

bool lookup(const std::string& family, const std::string& problem, Entry* out) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_cache.find({family, problem});
  if (it == g_cache.end()) return false;
  if (out) *out = it->second;
  return true;
}

bool cached_choice(const std::string& family, const std::string& problem, std::string* choice) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_cache.find({family, problem});
  if (it == g_cache.end()) return false;
  *choice = it->second.choice;
  return true;
}

void put(const Entry& entry) {
  LOOM_CHECK_VALUE(!entry.family.empty() && !entry.choice.empty(),
                   "autotune.put: an entry needs a family and a choice");
  std::lock_guard<std::mutex> lock(g_mu);
  g_cache[{entry.family, entry.problem}] = entry;
}

std::vector<Entry> entries(const std::string& family) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<Entry> out;
  for (const auto& kv : g_cache)
    if (in_family(kv.second, family)) out.push_back(kv.second);
  return out;
}

void clear(const std::string& family) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto it = g_cache.begin(); it != g_cache.end();)
    it = in_family(it->second, family) ? g_cache.erase(it) : std::next(it);
}

double tuning_seconds() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_tuning_s;
}

std::string to_json(const std::string& family) {
  std::ostringstream o;
  o << "{\"version\": 1, \"entries\": [";
  bool first = true;
  for (const auto& e : entries(family)) {
    o << (first ? "\n  " : ",\n  ") << "{\"family\": " << quote(e.family) << ", \"problem\": " << quote(e.problem)
      << ", \"choice\": " << quote(e.choice) << ", \"tuning_s\": " << number(e.tuning_s)
      << ", \"skipped\": " << e.skipped << ", \"timings\": {";
    for (size_t i = 0; i < e.timings.size(); ++i)
      o << (i ? ", " : "") << quote(e.timings[i].name) << ": " << number(e.timings[i].ms);
    o << "}}";
    first = false;
  }
  o << (first ? "]}\n" : "\n]}\n");
  return o.str();
}

std::string to_text(const std::string& family) {
  std::ostringstream o;
  for (const auto& e : entries(family)) {
    o << e.family << " | " << e.problem << " -> " << e.choice;
    if (!e.timings.empty()) {
      o << "  (";
      for (size_t i = 0; i < e.timings.size(); ++i) {
        o << (i ? ", " : "") << e.timings[i].name << " ";
        if (e.timings[i].ms < 0) o << "failed";
        else o << number(e.timings[i].ms) << " ms";
      }
      if (e.skipped) o << "; " << e.skipped << " skipped: budget reached";
      o << "; tuned in " << number(e.tuning_s) << " s)";
    }
    o << "\n";
  }
  return o.str();
}

void save(const std::string& path, const std::string& family) {
  const std::string text = to_json(family);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LOOM_CHECK(bool(f), "autotune.save: cannot open ", tmp, " for writing");
    f << text;
    f.close();
    LOOM_CHECK(bool(f), "autotune.save: writing ", tmp, " failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    LOOM_THROW(ErrorKind::Runtime, "autotune.save: cannot rename ", tmp, " onto ", path);
  }
}

size_t load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  LOOM_CHECK_VALUE(bool(f), "autotune.load: cannot open ", path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  Reader r(text, path);
  std::vector<Entry> read;
  bool versioned = false;
  r.object([&](const std::string& key) {
    if (key == "version") {
      if (r.number() != 1) r.fail("unsupported version");
      versioned = true;
    } else if (key == "entries") {
      r.array([&] {
        Entry e;
        r.object([&](const std::string& k) {
          if (k == "family") e.family = r.string();
          else if (k == "problem") e.problem = r.string();
          else if (k == "choice") e.choice = r.string();
          else if (k == "tuning_s") e.tuning_s = r.number();
          else if (k == "skipped") e.skipped = int(r.number());
          else if (k == "timings") r.object([&](const std::string& name) { e.timings.push_back({name, r.number()}); });
          else r.fail("unknown key \"" + k + "\"");
        });
        if (e.family.empty() || e.choice.empty()) r.fail("an entry without family or choice");
        read.push_back(std::move(e));
      });
    } else {
      r.fail("unknown key \"" + key + "\"");
    }
  });
  r.end();
  if (!versioned) r.fail("no version");
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto& e : read) g_cache[{e.family, e.problem}] = e;
  return read.size();
}

}  // namespace loom::autotune
