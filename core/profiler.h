// The profiler (PyTorch's torch.profiler, C++ side). While a Profiler is
// recording it is the global OpObserver (core/ops.h): every op front end and
// every RecordFunction range becomes an Event with its thread, steady-clock
// start and end, its parent on the same thread (a per-thread stack), its cost
// (FLOPs and minimum bytes, core/op_cost.h) and, when asked, the input shapes
// and the bytes cpu_allocate handed out and got back during the call. With
// CUDA activity on, the GPU work of each event is recorded too (CUPTI, CUDA
// event pairs or the emulator's launch records: core/profiler_gpu.h) as
// KernelEvents that point at the event that launched them. Each thread
// appends to its own buffer; the buffers are merged when recording stops.
// From the events: key_averages (per name, or per name and shapes), a
// PyTorch-style table with a roofline column, and a Chrome trace.
//
//   loom::profiler::Profiler prof({/*record_shapes=*/true});
//   prof.start();
//   { loom::profiler::RecordFunction r("forward"); y = model.forward(x); }
//   prof.stop();
//   std::cout << prof.table("self_cpu_time_total", 10);
//   prof.export_chrome_trace("trace.json");
//
// One profiler records at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::profiler {

struct Event {
  std::string name;
  const char* category = "cpu_op";  // or "user_annotation"
  int thread = 0;                   // 1, 2, ... in the order threads first recorded
  int64_t start_ns = 0;             // steady clock
  int64_t end_ns = 0;
  int depth = 0;        // 0 at the top of its thread's stack
  int64_t parent = -1;  // index in events() of the enclosing event, -1 at the top
  // With record_shapes: one entry per tensor input, an undefined one as [].
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<std::string> input_dtypes;
  // With profile_memory: bytes allocated minus bytes freed during the call,
  // children included (total) and not (self).
  int64_t cpu_memory_usage = 0;
  int64_t self_cpu_memory_usage = 0;
  // The call's work (core/op_cost.h); -1 when unknown (user ranges, nodes
  // that declare none).
  double flops = -1;
  double bytes = -1;
  // The device its tensor inputs live on: -1 for the CPU, else the CUDA index.
  int device = -1;
  // Which peak the roofline compares with: "fp32", "tf32" (matmul-like ops
  // while TF32 is allowed), "fp64", or "" (no floating-point inputs).
  std::string precision;
  // GPU time of the kernels this event launched itself (self) and with its
  // children's (total); 0 without CUDA activity.
  int64_t self_cuda_ns = 0;
  int64_t cuda_ns = 0;

  int64_t duration_ns() const { return end_ns - start_ns; }
};

// A kernel, copy or memset on a GPU (or, in the emulator build, an emulated
// launch; with CUDA event timing, one entry per op).
struct KernelEvent {
  std::string name;
  int64_t start_ns = 0;  // steady clock, as Event
  int64_t end_ns = 0;
  int device = 0;
  int64_t stream = 0;
  int64_t op = -1;  // index in events() of the event that launched it; -1: none
  unsigned grid[3] = {0, 0, 0};
  unsigned block[3] = {0, 0, 0};
  int64_t shared_mem = -1;  // bytes per block (static + dynamic); -1 unknown
  int registers = -1;       // per thread; -1 unknown
  double occupancy = -1;    // resident warps / max warps per SM (emulator: sm_90's); -1 unknown
  double waves = -1;        // blocks / (SMs * resident blocks per SM); -1 unknown
  double bytes = -1;        // copies and memsets: bytes moved
  const char* source = "";  // "cupti", "cuda_events" or "emulator"

  int64_t duration_ns() const { return end_ns - start_ns; }
};

// A sample of the process's live CPU bytes, for the trace's memory track.
struct MemorySample {
  int thread = 0;
  int64_t ts_ns = 0;
  int64_t live_bytes = 0;
};

// One row of key_averages(); times in microseconds as in PyTorch.
struct EventAvg {
  std::string key;
  std::string input_shapes;  // "[[2, 3], [3]]" when grouped by shape, else ""
  int64_t count = 0;
  double cpu_time_total = 0;       // inclusive
  double self_cpu_time_total = 0;  // exclusive of child events
  double cpu_time = 0;             // average inclusive time per call
  int64_t cpu_memory_usage = 0;
  int64_t self_cpu_memory_usage = 0;
  double cuda_time_total = 0;       // GPU time of the kernels of these calls and their children
  double self_cuda_time_total = 0;  // of the kernels these calls launched themselves
  double cuda_time = 0;             // average per call
  // Summed over the calls with a known cost; flops < 0: no call had one.
  double flops = -1;
  double bytes = -1;
  int device = -1;        // of the first call
  std::string precision;  // of the first call
  // Roofline (computed by key_averages from the time the calls took: GPU
  // time on a GPU, CPU total time on the CPU): achieved FLOP/s and bytes/s,
  // and the fraction of the device's roof at this arithmetic intensity
  // (min(peak FLOP/s, intensity * bandwidth)); -1 when unknown.
  double achieved_flops = -1;
  double achieved_bandwidth = -1;
  double roofline_fraction = -1;
};

struct ProfilerOptions {
  bool record_shapes = false;
  bool profile_memory = false;
  // Record GPU work (PyTorch's ProfilerActivity.CUDA): how, "auto" (the
  // emulator's records in an emulator build, else CUPTI, else CUDA events;
  // LOOM_PROFILER_CUDA overrides), "cupti", "events" or "off". Nothing is
  // recorded on a machine without a GPU.
  bool cuda = false;
  std::string cuda_timing = "auto";
  // Add the roofline columns to table() (they need the device's peaks:
  // roofline.h measures the copy bandwidth once per process on first use).
  bool roofline = true;
};

// PyTorch's schedule: skip_first steps, then cycles of wait, warmup and
// active steps; repeat cycles (0: forever). Only active steps record.
struct Schedule {
  int64_t wait = 0, warmup = 0, active = 1, repeat = 0, skip_first = 0;
  enum class Action { None, Warmup, Record, RecordAndSave };
  Action at(int64_t step) const;
  void check() const;  // raises (value) unless active >= 1 and the rest >= 0
};

class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {});
  ~Profiler();  // stops recording if still on
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Without a schedule: start() records until stop(). With one, start() is
  // step 0 and step() advances; on_trace_ready runs at the end of each active
  // cycle with that cycle's events in place. Warmup steps record nothing: on
  // the CPU there is no tracer start-up cost for them to absorb yet.
  // on_trace_ready also runs at stop() when it ends a recording, as in PyTorch.
  void set_schedule(const Schedule& schedule);
  void set_on_trace_ready(std::function<void(Profiler&)> on_trace_ready);
  void start();
  void step();
  void stop();
  bool recording() const { return recording_; }

  // The events of the last finished recording, parents before children.
  // Raises (runtime) while recording and before anything was recorded.
  const std::vector<Event>& events() const;
  const std::vector<MemorySample>& memory_samples() const;
  // The GPU work of the last recording, in start order.
  const std::vector<KernelEvent>& kernels() const;
  // How GPU work was timed in the last recording: "off", "cupti",
  // "cuda_events" or "emulator".
  const std::string& cuda_timing_used() const;
  // The process's peak of live CPU bytes during the last recording.
  int64_t peak_memory_bytes() const;

  std::vector<EventAvg> key_averages(bool group_by_input_shape = false) const;
  // sort_by: "" (order of first appearance), cpu_time_total, self_cpu_time_total,
  // cpu_time, count, cpu_memory_usage, self_cpu_memory_usage, cuda_time_total,
  // self_cuda_time_total. row_limit < 0: all rows.
  std::string table(const std::string& sort_by = "", int64_t row_limit = 100, bool group_by_input_shape = false) const;
  // Chrome trace event format; written to a temporary file, then renamed.
  void export_chrome_trace(const std::string& path) const;

  const ProfilerOptions& options() const { return options_; }

 private:
  void begin_recording();
  void end_recording();
  void check_results(const char* what) const;

  ProfilerOptions options_;
  bool has_schedule_ = false;
  Schedule schedule_;
  std::function<void(Profiler&)> on_trace_ready_;
  bool started_ = false;
  int64_t step_ = 0;
  bool recording_ = false;
  bool has_results_ = false;
  std::vector<Event> events_;
  std::vector<MemorySample> memory_;
  std::vector<KernelEvent> kernels_;
  std::string cuda_timing_used_ = "off";
  int gpu_mode_ = 0;  // profiler_gpu.h's Mode of the recording in progress
  int64_t peak_memory_ = 0;
  int64_t base_ns_ = 0;  // start of the last recording: the trace's time zero
};

// A profiler records or NVTX ranges are emitted: callers that would build a
// name only for them (the autograd engine's node names) check this first.
bool observing();

// The valid sort keys, for error messages and the Python binding.
const std::vector<std::string>& sort_keys();

// A user range, recorded like an op (category "user_annotation") while a
// profiler records on this thread's process, and an NVTX range while
// emit_nvtx is on (core/nvtx.h); free otherwise.
class RecordFunction {
 public:
  explicit RecordFunction(std::string name);
  // Another category: the autograd engine records each backward node as
  // "cpu_op" (named like PyTorch's, e.g. ConvolutionBackward0).
  RecordFunction(const std::string& name, const char* category);
  ~RecordFunction();
  RecordFunction(const RecordFunction&) = delete;
  RecordFunction& operator=(const RecordFunction&) = delete;
  // The range's work for the roofline column (a user kernel's declared cost;
  // a backward node's), as OpScope::set_cost does for ops.
  void set_cost(double flops, double bytes, const std::string& precision = "fp32");
  bool recording() const { return buffer_ != nullptr; }

 private:
  std::shared_ptr<void> buffer_;  // the thread buffer it opened an event in
  size_t index_ = 0;              // the event's index there
  bool nvtx_ = false;             // pushed an NVTX range
};

}  // namespace loom::profiler
