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

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "core/allocator.h"
#include "core/error.h"
#include "core/json.h"
#include "core/op_cost.h"
#include "core/ops.h"
#include "core/profiler_gpu.h"
#include "core/roofline.h"
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
  int64_t gpu_token = -1;  // profiler_gpu.h's op_enter
};

// Ops that run on tensor cores when TF32 is allowed: their roof is TF32's.
bool tensor_core_op(Op op) {
  switch (op) {
    case Op::matmul:
    case Op::conv2d:
    case Op::linear:
    case Op::linear2:
    case Op::attention:
    case Op::lstm:
    case Op::gru:
    case Op::lstm_cell:
    case Op::gru_cell:
    case Op::gated_fusion:
    case Op::film:
    case Op::bilinear_pool:
    case Op::clip_loss: return true;
    default: return false;
  }
}

// An event's id for the GPU sources: the recording (so that an id left on
// CUPTI's stack by an op still open at stop never matches a later one), its
// thread and its index there.
uint64_t pack_id(uint64_t generation, int thread, size_t index) {
  return ((generation & 0xffff) << 48) | ((uint64_t(thread) & 0xffff) << 32) | (uint64_t(index) & 0xffffffff);
}

struct ThreadBuffer {
  std::mutex mu;
  bool closed = false;
  int thread = 0;
  ProfilerOptions options;
  std::vector<Event> events;
  std::vector<OpenFrame> stack;
  std::vector<MemorySample> memory;
  std::vector<KernelEvent> kernels;  // emulator launches; op = index in this buffer's events
};

thread_local std::shared_ptr<ThreadBuffer> t_buffer;
thread_local uint64_t t_generation = 0;

class Collector final : public OpObserver {
 public:
  void on_enter(Op op) override { enter(op_name(op), "cpu_op", op, nullptr, 0); }
  void on_enter_inputs(Op op, const Tensor* const* inputs, size_t n) override {
    enter(op_name(op), "cpu_op", op, inputs, n);
  }
  void on_exit(Op) override {
    if (t_buffer) exit(*t_buffer);
  }
  void on_cost(Op, double flops, double bytes) override {
    ThreadBuffer* b = t_buffer.get();
    if (!b) return;
    std::lock_guard<std::mutex> lock(b->mu);
    if (b->closed || b->stack.empty()) return;
    Event& e = b->events[b->stack.back().index];
    e.flops = flops;
    e.bytes = bytes;
  }
  // RecordFunction::set_cost: the event at `index` of buffer b.
  void set_cost(ThreadBuffer& b, size_t index, double flops, double bytes, const std::string& precision) {
    std::lock_guard<std::mutex> lock(b.mu);
    if (b.closed || index >= b.events.size()) return;
    Event& e = b.events[index];
    e.flops = flops;
    e.bytes = bytes;
    e.precision = precision;
  }
  // An emulated launch: it belongs to the innermost event open on this thread.
  void on_kernel(const KernelEvent& k) {
    ThreadBuffer* b = buffer();
    if (!b) return;
    std::lock_guard<std::mutex> lock(b->mu);
    if (b->closed) return;
    b->kernels.push_back(k);
    b->kernels.back().op = b->stack.empty() ? -1 : static_cast<int64_t>(b->stack.back().index);
  }

  // Returns the buffer the event went into (nullptr when not recording).
  // op is Op::kCount for RecordFunction ranges.
  ThreadBuffer* enter(const char* name, const char* category, Op op, const Tensor* const* inputs, size_t n,
                      size_t* index = nullptr) {
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
    if (op != Op::kCount) {
      const OpCost c = default_op_cost(op, inputs, n);
      e.flops = c.flops;
      e.bytes = c.bytes;
      for (size_t i = 0; i < n; ++i) {
        const Tensor* t = inputs[i];
        if (t == nullptr || !t->defined()) continue;
        if (e.device < 0 && t->device().is_cuda()) e.device = t->device().index;
        if (e.precision.empty() && is_floating(t->dtype()))
          e.precision = t->dtype() == DType::Float64 ? "fp64" : tensor_core_op(op) && allow_tf32() ? "tf32" : "fp32";
      }
    }
    OpenFrame frame{b->events.size(), {}, 0};
    const gpu::Mode mode = static_cast<gpu::Mode>(gpu_mode_.load(std::memory_order_relaxed));
    if (mode == gpu::Mode::Cupti || mode == gpu::Mode::Events)
      frame.gpu_token = gpu::op_enter(mode, pack_id(t_generation, b->thread, frame.index), e.device);
    if (b->options.profile_memory) {
      frame.at_enter = cpu_thread_alloc_counters();
      b->memory.push_back({b->thread, now_ns(), cpu_live_bytes()});
    }
    b->stack.push_back(frame);
    // Taken last (and the end taken first in exit) so that the bookkeeping
    // above falls outside the measured interval as far as possible.
    e.start_ns = now_ns();
    if (index) *index = b->events.size();
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
    const gpu::Mode mode = static_cast<gpu::Mode>(gpu_mode_.load(std::memory_order_relaxed));
    if (mode == gpu::Mode::Cupti || mode == gpu::Mode::Events) gpu::op_exit(mode, frame.gpu_token);
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
  void set_gpu_mode(gpu::Mode m) { gpu_mode_.store(static_cast<int>(m), std::memory_order_relaxed); }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

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
  std::atomic<int> gpu_mode_{0};
};

// Leaked: an op still running when the process exits may call on_exit.
Collector& collector() {
  static Collector* c = new Collector;
  return *c;
}

}  // namespace

// "[[2, 3], [3]]": the shapes as key_averages and the trace print them
// (also used by profiler_output.cpp).
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
                   "profiler schedule: active must be >= 1 and wait, warmup, repeat, skip_first >= 0; got wait=", wait,
                   " warmup=", warmup, " active=", active, " repeat=", repeat, " skip_first=", skip_first);
}

const std::vector<std::string>& sort_keys() {
  static const std::vector<std::string> keys = {"cpu_time_total",  "self_cpu_time_total",  "cpu_time",
                                                "count",           "cpu_memory_usage",     "self_cpu_memory_usage",
                                                "cuda_time_total", "self_cuda_time_total", "flops"};
  return keys;
}

Profiler::Profiler(ProfilerOptions options) : options_(options) {}

Profiler::~Profiler() {
  if (!recording_) return;
  collector().end();
  collector().set_gpu_mode(gpu::Mode::Off);
  gpu::end(static_cast<gpu::Mode>(gpu_mode_));
  gpu::set_emulator_sink(nullptr);
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
  Collector& c = collector();
  c.begin(options_);
  // The GPU source starts before the first op can enter (begin() made the
  // collector the observer, but no buffer exists before its first event).
  const gpu::Mode mode = options_.cuda ? gpu::begin(options_.cuda_timing) : gpu::Mode::Off;
  if (mode == gpu::Mode::Emulator) gpu::set_emulator_sink([](const KernelEvent& k) { collector().on_kernel(k); });
  c.set_gpu_mode(mode);
  gpu_mode_ = static_cast<int>(mode);
  cpu_reset_peak_live_bytes();
  base_ns_ = now_ns();
  recording_ = true;
}

void Profiler::end_recording() {
  Collector& c = collector();
  const uint64_t generation = c.generation();
  std::vector<std::shared_ptr<ThreadBuffer>> buffers = c.end();
  const gpu::Mode mode = static_cast<gpu::Mode>(gpu_mode_);
  c.set_gpu_mode(gpu::Mode::Off);
  std::vector<gpu::Kernel> gpu_kernels = gpu::end(mode);
  if (mode == gpu::Mode::Emulator) gpu::set_emulator_sink(nullptr);
  cuda_timing_used_ = gpu::mode_name(mode);
  recording_ = false;
  peak_memory_ = cpu_peak_live_bytes();
  events_.clear();
  memory_.clear();
  kernels_.clear();
  std::unordered_map<int, int64_t> thread_offset;
  for (auto& b : buffers) {
    const int64_t offset = static_cast<int64_t>(events_.size());
    thread_offset[b->thread] = offset;
    for (Event& e : b->events) {
      if (e.parent >= 0) e.parent += offset;
      events_.push_back(std::move(e));
    }
    for (KernelEvent& k : b->kernels) {
      if (k.op >= 0) k.op += offset;
      kernels_.push_back(std::move(k));
    }
    memory_.insert(memory_.end(), b->memory.begin(), b->memory.end());
  }
  // CUPTI's and the event pairs' kernels name their event by its packed id.
  for (gpu::Kernel& g : gpu_kernels) {
    KernelEvent& k = g.event;
    k.op = -1;
    if (g.op_id != ~0ull && (g.op_id >> 48) == (generation & 0xffff)) {
      auto it = thread_offset.find(static_cast<int>((g.op_id >> 32) & 0xffff));
      const int64_t index = it == thread_offset.end() ? -1 : it->second + static_cast<int64_t>(g.op_id & 0xffffffff);
      if (index >= 0 && index < static_cast<int64_t>(events_.size())) k.op = index;
    }
    if (mode == gpu::Mode::Events && k.op < 0) continue;  // a pair of an op that was still open
    if (k.name.empty() && k.op >= 0) k.name = events_[k.op].name;
    kernels_.push_back(std::move(k));
  }
  std::stable_sort(kernels_.begin(), kernels_.end(),
                   [](const KernelEvent& a, const KernelEvent& b) { return a.start_ns < b.start_ns; });
  // GPU time per event. Kernels count for the event that launched them
  // (self) and for all its ancestors (total); events are stored parents
  // first, so one backward pass adds children into parents. Event pairs
  // measure an op with its children: total is the pair, self what its
  // children's pairs leave.
  for (const KernelEvent& k : kernels_) {
    if (k.op < 0) continue;
    Event& e = events_[k.op];
    e.self_cuda_ns += k.duration_ns();
    if (e.device < 0) e.device = k.device;
  }
  if (mode == gpu::Mode::Events) {
    for (Event& e : events_) e.cuda_ns = e.self_cuda_ns;
    for (const Event& e : events_)
      if (e.parent >= 0) events_[e.parent].self_cuda_ns -= e.cuda_ns;
    for (Event& e : events_) e.self_cuda_ns = std::max<int64_t>(0, e.self_cuda_ns);
  } else {
    for (Event& e : events_) e.cuda_ns = e.self_cuda_ns;
    for (size_t i = events_.size(); i-- > 0;)
      if (events_[i].parent >= 0) events_[events_[i].parent].cuda_ns += events_[i].cuda_ns;
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

const std::vector<KernelEvent>& Profiler::kernels() const {
  check_results("kernels");
  return kernels_;
}

const std::string& Profiler::cuda_timing_used() const {
  check_results("cuda_timing_used");
  return cuda_timing_used_;
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
      EventAvg row;
      row.key = e.name;
      row.input_shapes = shapes;
      rows.push_back(row);
    }
    EventAvg& r = rows[it->second];
    if (r.count == 0) {
      r.device = e.device;
      r.precision = e.precision;
    }
    ++r.count;
    r.cpu_time_total += e.duration_ns() / 1e3;
    r.self_cpu_time_total += (e.duration_ns() - child_ns[i]) / 1e3;
    r.cpu_memory_usage += e.cpu_memory_usage;
    r.self_cpu_memory_usage += e.self_cpu_memory_usage;
    r.cuda_time_total += e.cuda_ns / 1e3;
    r.self_cuda_time_total += e.self_cuda_ns / 1e3;
    if (e.device >= 0 && r.device < 0) r.device = e.device;
    if (e.flops >= 0 && e.bytes >= 0) {
      r.flops = std::max(0.0, r.flops) + e.flops;
      r.bytes = std::max(0.0, r.bytes) + e.bytes;
    }
  }
  for (EventAvg& r : rows) {
    r.cpu_time = r.cpu_time_total / static_cast<double>(r.count);
    r.cuda_time = r.cuda_time_total / static_cast<double>(r.count);
    if (!options_.roofline || r.flops < 0) continue;
    // On a GPU the kernels' time; an op on CUDA tensors whose kernels were
    // not timed gets no roofline (its CPU time is only the launch).
    const double us = r.device >= 0 ? r.cuda_time_total : r.cpu_time_total;
    if (us <= 0) continue;
    const double seconds = us * 1e-6;
    r.achieved_flops = r.flops / seconds;
    r.achieved_bandwidth = r.bytes / seconds;
    r.roofline_fraction = device_roof(r.device).fraction(r.flops, r.bytes, seconds, r.precision);
  }
  return rows;
}

RecordFunction::RecordFunction(std::string name) : RecordFunction(name, "user_annotation") {}

RecordFunction::RecordFunction(const std::string& name, const char* category) {
  nvtx_ = nvtx_push(name.c_str());
  Collector& c = collector();
  // Held, so that exit() finds the buffer even if a new recording has
  // replaced this thread's one meanwhile.
  if (c.active() && c.enter(name.c_str(), category, Op::kCount, nullptr, 0, &index_)) buffer_ = t_buffer;
}

void RecordFunction::set_cost(double flops, double bytes, const std::string& precision) {
  if (buffer_) collector().set_cost(*static_cast<ThreadBuffer*>(buffer_.get()), index_, flops, bytes, precision);
}

bool observing() { return g_op_observer.load(std::memory_order_relaxed) != nullptr; }

RecordFunction::~RecordFunction() {
  if (buffer_) collector().exit(*static_cast<ThreadBuffer*>(buffer_.get()));
  if (nvtx_) nvtx_pop();
}

}  // namespace loom::profiler
