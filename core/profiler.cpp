// The CPU profiler: a leaked Collector is the OpObserver while a Profiler
// records. Each thread appends to its own ThreadBuffer (found through a
// thread_local, registered once per recording), so recording threads never
// share a cache line; the buffer's mutex is only ever contended at stop().
//
// An OpScope keeps the observer it saw at entry, so an op that was running
// when recording stopped still calls on_exit afterwards: the Collector is
// never destroyed, and a closed buffer ignores it. Stop closes the ops still
// open at that instant.
#include "core/profiler.h"

#include "core/nvtx.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "core/allocator.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/tensor.h"

namespace loom::profiler {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct OpenFrame {
  size_t index;
  CpuAllocCounters at_enter;
  int64_t child_memory = 0;
};

struct ThreadBuffer {
  std::mutex mu;
  bool closed = false;
  int thread = 0;
  ProfilerOptions options;
  std::vector<Event> events;
  std::vector<OpenFrame> stack;
  std::vector<MemorySample> memory;
};

thread_local std::shared_ptr<ThreadBuffer> t_buffer;
thread_local uint64_t t_generation = 0;

class Collector final : public OpObserver {
 public:
  void on_enter(Op op) override { enter(op_name(op), "cpu_op", nullptr, 0); }
  void on_enter_inputs(Op op, const Tensor* const* inputs, size_t n) override {
    enter(op_name(op), "cpu_op", inputs, n);
  }
  void on_exit(Op) override {
    if (t_buffer) exit(*t_buffer);
  }

  // Returns the buffer the event went into (nullptr when not recording).
  ThreadBuffer* enter(const char* name, const char* category, const Tensor* const* inputs, size_t n) {
    ThreadBuffer* b = buffer();
    if (!b) return nullptr;
    std::lock_guard<std::mutex> lock(b->mu);
    if (b->closed) return nullptr;
    Event e;
    e.name = name;
    e.category = category;
    e.thread = b->thread;
    e.depth = static_cast<int>(b->stack.size());
    e.parent = b->stack.empty() ? -1 : static_cast<int64_t>(b->stack.back().index);
    if (b->options.record_shapes) {
      for (size_t i = 0; i < n; ++i) {
        const Tensor* t = inputs[i];
        const bool defined = t != nullptr && t->defined();
        e.input_shapes.push_back(defined ? t->shape() : std::vector<int64_t>{});
        e.input_dtypes.push_back(defined ? dtype_name(t->dtype()) : "");
      }
    }
    OpenFrame frame{b->events.size(), {}, 0};
    if (b->options.profile_memory) {
      frame.at_enter = cpu_thread_alloc_counters();
      b->memory.push_back({b->thread, now_ns(), cpu_live_bytes()});
    }
    b->stack.push_back(frame);
    // Taken last (and the end taken first in exit) so that the bookkeeping
    // above falls outside the measured interval as far as possible.
    e.start_ns = now_ns();
    b->events.push_back(std::move(e));
    return b;
  }

  void exit(ThreadBuffer& b) {
    const int64_t end = now_ns();
    std::lock_guard<std::mutex> lock(b.mu);
    // Empty: the op began before this recording (see the file comment).
    if (b.closed || b.stack.empty()) return;
    const OpenFrame frame = b.stack.back();
    b.stack.pop_back();
    Event& e = b.events[frame.index];
    e.end_ns = end;
    if (b.options.profile_memory) {
      const CpuAllocCounters c = cpu_thread_alloc_counters();
      const int64_t total = static_cast<int64_t>(c.allocated - frame.at_enter.allocated) -
                            static_cast<int64_t>(c.freed - frame.at_enter.freed);
      e.cpu_memory_usage = total;
      e.self_cpu_memory_usage = total - frame.child_memory;
      if (!b.stack.empty()) b.stack.back().child_memory += total;
      b.memory.push_back({b.thread, now_ns(), cpu_live_bytes()});
    }
  }

  void begin(const ProfilerOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    LOOM_CHECK(!active_, "profiler: another profiler is already recording; stop it before starting this one");
    options_ = options;
    buffers_.clear();
    generation_.fetch_add(1, std::memory_order_release);
    active_ = true;
    OpObserver* previous = set_op_observer(this);
    if (previous != nullptr) {
      set_op_observer(previous);
      active_ = false;
      LOOM_THROW(ErrorKind::Runtime, "profiler: another OpObserver is installed (set_op_observer); remove it first");
    }
  }

  // Stops recording and hands back the thread buffers, closed.
  std::vector<std::shared_ptr<ThreadBuffer>> end() {
    OpObserver* self = this;
    g_op_observer.compare_exchange_strong(self, nullptr);
    const int64_t stop = now_ns();
    std::vector<std::shared_ptr<ThreadBuffer>> buffers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_ = false;
      buffers.swap(buffers_);
    }
    for (auto& b : buffers) {
      std::lock_guard<std::mutex> lock(b->mu);
      b->closed = true;
      for (const OpenFrame& f : b->stack) b->events[f.index].end_ns = stop;
      b->stack.clear();
    }
    return buffers;
  }

  bool active() const { return g_op_observer.load(std::memory_order_relaxed) == this; }

 private:
  // A raw pointer: the thread_local shared_ptr keeps it alive, and copying
  // that on every op would add two atomic reference-count updates.
  ThreadBuffer* buffer() {
    const uint64_t g = generation_.load(std::memory_order_acquire);
    if (t_buffer && t_generation == g) return t_buffer.get();
    std::lock_guard<std::mutex> lock(mu_);
    if (!active_) return nullptr;
    auto b = std::make_shared<ThreadBuffer>();
    b->thread = static_cast<int>(buffers_.size()) + 1;
    b->options = options_;
    buffers_.push_back(b);
    t_buffer = b;
    t_generation = generation_.load(std::memory_order_relaxed);
    return b.get();
  }

  std::mutex mu_;  // guards the fields below
  bool active_ = false;
  ProfilerOptions options_;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  std::atomic<uint64_t> generation_{0};
};

// Leaked: an op still running when the process exits may call on_exit.
Collector& collector() {
  static Collector* c = new Collector;
  return *c;
}

std::string shapes_string(const std::vector<std::vector<int64_t>>& shapes) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shapes.size(); ++i) {
    s << (i ? ", [" : "[");
    for (size_t j = 0; j < shapes[i].size(); ++j) s << (j ? ", " : "") << shapes[i][j];
    s << ']';
  }
  s << ']';
  return s.str();
}

// Microseconds with exact nanosecond decimals, so nesting survives rounding.
std::string micros(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", ns < 0 ? "-" : "", static_cast<long long>(std::llabs(ns) / 1000),
                static_cast<long long>(std::llabs(ns) % 1000));
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// PyTorch's units: us below a millisecond, then ms, then s.
std::string format_time(double us) {
  char buf[32];
  if (us >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3fs", us / 1e6);
  else if (us >= 1e3)
    std::snprintf(buf, sizeof buf, "%.3fms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3fus", us);
  return buf;
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes), a = std::fabs(b);
  if (a >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f Gb", b / (1024.0 * 1024 * 1024));
  else if (a >= 1024.0 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f Mb", b / (1024.0 * 1024));
  else if (a >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.2f Kb", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld b", static_cast<long long>(bytes));
  return buf;
}

std::string format_percent(double part, double whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", whole > 0 ? 100.0 * part / whole : 0.0);
  return buf;
}

}  // namespace

Schedule::Action Schedule::at(int64_t step) const {
  if (step < skip_first) return Action::None;
  step -= skip_first;
  const int64_t cycle = wait + warmup + active;
  if (repeat > 0 && step / cycle >= repeat) return Action::None;
  const int64_t pos = step % cycle;
  if (pos < wait) return Action::None;
  if (pos < wait + warmup) return Action::Warmup;
  return pos < cycle - 1 ? Action::Record : Action::RecordAndSave;
}

void Schedule::check() const {
  LOOM_CHECK_VALUE(active >= 1 && wait >= 0 && warmup >= 0 && repeat >= 0 && skip_first >= 0,
                   "profiler schedule: active must be >= 1 and wait, warmup, repeat, skip_first >= 0; got wait=",
                   wait, " warmup=", warmup, " active=", active, " repeat=", repeat, " skip_first=", skip_first);
}

const std::vector<std::string>& sort_keys() {
  static const std::vector<std::string> keys = {
      "cpu_time_total", "self_cpu_time_total", "cpu_time", "count", "cpu_memory_usage", "self_cpu_memory_usage",
      "cuda_time_total", "self_cuda_time_total"};
  return keys;
}

Profiler::Profiler(ProfilerOptions options) : options_(options) {}

Profiler::~Profiler() {
  if (recording_) collector().end();
}

void Profiler::set_schedule(const Schedule& s) {
  LOOM_CHECK(!started_, "profiler: set_schedule() after start()");
  s.check();
  schedule_ = s;
  has_schedule_ = true;
}

void Profiler::set_on_trace_ready(std::function<void(Profiler&)> on_trace_ready) {
  on_trace_ready_ = std::move(on_trace_ready);
}

void Profiler::begin_recording() {
  collector().begin(options_);
  cpu_reset_peak_live_bytes();
  base_ns_ = now_ns();
  recording_ = true;
}

void Profiler::end_recording() {
  std::vector<std::shared_ptr<ThreadBuffer>> buffers = collector().end();
  recording_ = false;
  peak_memory_ = cpu_peak_live_bytes();
  events_.clear();
  memory_.clear();
  for (auto& b : buffers) {
    const int64_t offset = static_cast<int64_t>(events_.size());
    for (Event& e : b->events) {
      if (e.parent >= 0) e.parent += offset;
      events_.push_back(std::move(e));
    }
    memory_.insert(memory_.end(), b->memory.begin(), b->memory.end());
  }
  has_results_ = true;
  if (on_trace_ready_) on_trace_ready_(*this);
}

void Profiler::start() {
  LOOM_CHECK(!started_, "profiler: start() called twice without stop()");
  step_ = 0;
  if (!has_schedule_ || schedule_.at(0) == Schedule::Action::Record ||
      schedule_.at(0) == Schedule::Action::RecordAndSave)
    begin_recording();
  started_ = true;
}

void Profiler::step() {
  LOOM_CHECK(started_, "profiler: step() before start()");
  if (!has_schedule_) {
    ++step_;
    return;
  }
  const Schedule::Action previous = schedule_.at(step_++);
  const Schedule::Action current = schedule_.at(step_);
  if (previous == Schedule::Action::RecordAndSave) end_recording();
  if (!recording_ && (current == Schedule::Action::Record || current == Schedule::Action::RecordAndSave))
    begin_recording();
}

void Profiler::stop() {
  LOOM_CHECK(started_, "profiler: stop() before start()");
  started_ = false;
  if (recording_) end_recording();
}

void Profiler::check_results(const char* what) const {
  LOOM_CHECK(!recording_ && has_results_, "profiler: ", what,
             "() needs a finished recording: call it after stop() (or the profile context), or from on_trace_ready");
}

const std::vector<Event>& Profiler::events() const {
  check_results("events");
  return events_;
}

const std::vector<MemorySample>& Profiler::memory_samples() const {
  check_results("memory_samples");
  return memory_;
}

int64_t Profiler::peak_memory_bytes() const {
  check_results("peak_memory_bytes");
  return peak_memory_;
}

std::vector<EventAvg> Profiler::key_averages(bool group_by_input_shape) const {
  check_results("key_averages");
  std::vector<int64_t> child_ns(events_.size(), 0);
  for (const Event& e : events_)
    if (e.parent >= 0) child_ns[e.parent] += e.duration_ns();
  std::vector<EventAvg> rows;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    const std::string shapes = group_by_input_shape ? shapes_string(e.input_shapes) : "";
    const std::string key = e.name + '\0' + shapes;
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, rows.size()).first;
      rows.push_back(EventAvg{e.name, shapes});
    }
    EventAvg& r = rows[it->second];
    ++r.count;
    r.cpu_time_total += e.duration_ns() / 1e3;
    r.self_cpu_time_total += (e.duration_ns() - child_ns[i]) / 1e3;
    r.cpu_memory_usage += e.cpu_memory_usage;
    r.self_cpu_memory_usage += e.self_cpu_memory_usage;
  }
  for (EventAvg& r : rows) r.cpu_time = r.cpu_time_total / static_cast<double>(r.count);
  return rows;
}

std::string Profiler::table(const std::string& sort_by, int64_t row_limit, bool group_by_input_shape) const {
  const auto& keys = sort_keys();
  if (!sort_by.empty() && std::find(keys.begin(), keys.end(), sort_by) == keys.end()) {
    std::string valid;
    for (const auto& k : keys) valid += (valid.empty() ? "" : ", ") + k;
    LOOM_THROW(ErrorKind::Value, "profiler table: unknown sort_by '", sort_by, "'; valid keys: ", valid);
  }
  std::vector<EventAvg> rows = key_averages(group_by_input_shape);
  // No GPU timing yet: the CUDA keys sort by the CPU times they stand in for.
  auto value = [&](const EventAvg& r) -> double {
    if (sort_by == "cpu_time_total" || sort_by == "cuda_time_total") return r.cpu_time_total;
    if (sort_by == "self_cpu_time_total" || sort_by == "self_cuda_time_total") return r.self_cpu_time_total;
    if (sort_by == "cpu_time") return r.cpu_time;
    if (sort_by == "count") return static_cast<double>(r.count);
    if (sort_by == "cpu_memory_usage") return static_cast<double>(r.cpu_memory_usage);
    return static_cast<double>(r.self_cpu_memory_usage);
  };
  if (!sort_by.empty())
    std::stable_sort(rows.begin(), rows.end(), [&](const EventAvg& a, const EventAvg& b) { return value(a) > value(b); });

  double self_total = 0;
  for (const EventAvg& r : rows) self_total += r.self_cpu_time_total;
  if (row_limit >= 0 && static_cast<int64_t>(rows.size()) > row_limit) rows.resize(row_limit);

  constexpr size_t kNameMax = 55, kShapesMax = 80, kCol = 12;
  size_t name_w = 4, shapes_w = 12;
  for (const EventAvg& r : rows) {
    name_w = std::max(name_w, std::min(r.key.size(), kNameMax));
    shapes_w = std::max(shapes_w, std::min(r.input_shapes.size(), kShapesMax));
  }
  auto clip = [](const std::string& s, size_t w) { return s.size() <= w ? s : s.substr(0, w - 3) + "..."; };
  std::vector<std::pair<std::string, size_t>> header = {{"Name", name_w},          {"Self CPU %", kCol},
                                                        {"Self CPU", kCol},        {"CPU total %", kCol},
                                                        {"CPU total", kCol},       {"CPU time avg", kCol}};
  if (options_.profile_memory) {
    header.push_back({"CPU Mem", kCol});
    header.push_back({"Self CPU Mem", kCol});
  }
  header.push_back({"# of Calls", kCol});
  if (group_by_input_shape) header.push_back({"Input Shapes", shapes_w});

  std::ostringstream out;
  auto line = [&] {
    for (const auto& h : header) out << std::string(h.second, '-') << "  ";
    out << '\n';
  };
  auto cells = [&](const std::vector<std::string>& v) {
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t w = header[i].second;
      // Name and shapes read left to right; numbers line up on the right.
      const bool left = i == 0 || (group_by_input_shape && i + 1 == v.size());
      const std::string s = clip(v[i], w);
      const std::string pad(w - s.size(), ' ');
      out << (left ? s + pad : pad + s) << "  ";
    }
    out << '\n';
  };
  line();
  std::vector<std::string> titles;
  for (const auto& h : header) titles.push_back(h.first);
  cells(titles);
  line();
  for (const EventAvg& r : rows) {
    std::vector<std::string> v = {r.key,
                                  format_percent(r.self_cpu_time_total, self_total),
                                  format_time(r.self_cpu_time_total),
                                  format_percent(r.cpu_time_total, self_total),
                                  format_time(r.cpu_time_total),
                                  format_time(r.cpu_time)};
    if (options_.profile_memory) {
      v.push_back(format_bytes(r.cpu_memory_usage));
      v.push_back(format_bytes(r.self_cpu_memory_usage));
    }
    v.push_back(std::to_string(r.count));
    if (group_by_input_shape) v.push_back(r.input_shapes);
    cells(v);
  }
  line();
  out << "Self CPU time total: " << format_time(self_total) << '\n';
  if (options_.profile_memory) out << "Peak CPU memory (live bytes): " << format_bytes(peak_memory_) << '\n';
  return out.str();
}

void Profiler::export_chrome_trace(const std::string& path) const {
  check_results("export_chrome_trace");
  const long pid = static_cast<long>(getpid());
  std::ostringstream out;
  out << "{\"traceEvents\": [";
  bool first = true;
  auto sep = [&] {
    out << (first ? "\n" : ",\n");
    first = false;
  };
  for (const Event& e : events_) {
    sep();
    out << "{\"ph\": \"X\", \"cat\": \"" << e.category << "\", \"name\": " << json_string(e.name)
        << ", \"pid\": " << pid << ", \"tid\": " << e.thread << ", \"ts\": " << micros(e.start_ns - base_ns_)
        << ", \"dur\": " << micros(e.duration_ns()) << ", \"args\": {";
    if (options_.record_shapes) {
      out << "\"Input Dims\": " << shapes_string(e.input_shapes) << ", \"Input type\": [";
      for (size_t i = 0; i < e.input_dtypes.size(); ++i) out << (i ? ", " : "") << json_string(e.input_dtypes[i]);
      out << "]";
    }
    if (options_.profile_memory)
      out << (options_.record_shapes ? ", " : "") << "\"CPU Mem\": " << e.cpu_memory_usage
          << ", \"Self CPU Mem\": " << e.self_cpu_memory_usage;
    out << "}}";
  }
  for (const MemorySample& m : memory_) {
    sep();
    out << "{\"ph\": \"C\", \"name\": \"CPU Memory\", \"pid\": " << pid << ", \"tid\": " << m.thread
        << ", \"ts\": " << micros(m.ts_ns - base_ns_) << ", \"args\": {\"Total Allocated\": " << m.live_bytes << "}}";
  }
  out << "\n], \"displayTimeUnit\": \"ms\"}\n";

  const std::string tmp = path + ".tmp" + std::to_string(pid);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LOOM_CHECK(f.good(), "export_chrome_trace: cannot open ", tmp, " for writing: ", std::strerror(errno));
    const std::string s = out.str();
    f.write(s.data(), static_cast<std::streamsize>(s.size()));
    f.flush();
    if (!f.good()) {
      const int err = errno;
      std::remove(tmp.c_str());
      LOOM_THROW(ErrorKind::Runtime, "export_chrome_trace: writing ", tmp, " failed: ", std::strerror(err));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LOOM_THROW(ErrorKind::Runtime, "export_chrome_trace: cannot rename ", tmp, " to ", path, ": ", std::strerror(err));
  }
}

RecordFunction::RecordFunction(std::string name) : RecordFunction(name, "user_annotation") {}

RecordFunction::RecordFunction(const std::string& name, const char* category) {
  nvtx_ = nvtx_push(name.c_str());
  Collector& c = collector();
  // Held, so that exit() finds the buffer even if a new recording has
  // replaced this thread's one meanwhile.
  if (c.active() && c.enter(name.c_str(), category, nullptr, 0)) buffer_ = t_buffer;
}

bool observing() { return g_op_observer.load(std::memory_order_relaxed) != nullptr; }

RecordFunction::~RecordFunction() {
  if (buffer_) collector().exit(*static_cast<ThreadBuffer*>(buffer_.get()));
  if (nvtx_) nvtx_pop();
}

}  // namespace loom::profiler
