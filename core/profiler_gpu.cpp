// GPU timing sources of the profiler (core/profiler_gpu.h).
#include "core/profiler_gpu.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"

#if defined(LOOM_WITH_CUDA)
#include <cuda_runtime.h>
#endif
#if defined(LOOM_WITH_CUDA) && !defined(LOOM_CUDA_EMU)
#include <cupti_activity.h>
#include <dlfcn.h>
#define LOOM_HAVE_CUPTI 1
#endif

namespace loom::profiler::gpu {

namespace {

[[maybe_unused]] int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string env_mode() {
  const char* e = std::getenv("LOOM_PROFILER_CUDA");
  return e ? std::string(e) : std::string();
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Cupti: return "cupti";
    case Mode::Events: return "cuda_events";
    case Mode::Emulator: return "emulator";
    case Mode::Off: break;
  }
  return "off";
}

// ---- CUDA event pairs ------------------------------------------------------
#if defined(LOOM_WITH_CUDA)
namespace {

struct Pair {
  int device;
  cudaEvent_t start = nullptr, stop = nullptr;
  uint64_t op_id;
};

struct EventState {
  std::mutex mu;
  std::vector<Pair> pairs;
  std::vector<cudaEvent_t> pool;  // reused across recordings
  // Per device: an event known to have completed at host time ref_ns.
  std::vector<cudaEvent_t> ref;
  std::vector<int64_t> ref_ns;
};

EventState& events() {
  static EventState* s = new EventState;  // leaked: ops may still exit during shutdown
  return *s;
}

cudaEvent_t take_event(EventState& s) {
  if (!s.pool.empty()) {
    cudaEvent_t e = s.pool.back();
    s.pool.pop_back();
    return e;
  }
  cudaEvent_t e = nullptr;
  if (cudaEventCreate(&e) != cudaSuccess) return nullptr;
  return e;
}

bool events_begin() {
  EventState& s = events();
  std::lock_guard<std::mutex> lock(s.mu);
  s.pairs.clear();
  const int n = cuda::device_count();
  s.ref.assign(n, nullptr);
  s.ref_ns.assign(n, 0);
  int prev = 0;
  cudaGetDevice(&prev);
  // The one synchronization of this mode: each device's clock is tied to the
  // host's by an event that completes on an idle stream.
  for (int d = 0; d < n; ++d) {
    cudaSetDevice(d);
    cudaDeviceSynchronize();
    s.ref[d] = take_event(s);
    if (!s.ref[d]) return false;
    cudaEventRecord(s.ref[d], static_cast<cudaStream_t>(cuda::current_stream(d)));
    cudaEventSynchronize(s.ref[d]);
    s.ref_ns[d] = now_ns();
  }
  cudaSetDevice(prev);
  cudaGetLastError();
  return n > 0;
}

int64_t events_enter(uint64_t op_id, int device) {
  EventState& s = events();
  if (device < 0) device = cuda::current_device();
  std::lock_guard<std::mutex> lock(s.mu);
  if (device >= static_cast<int>(s.ref.size())) return -1;
  Pair p{device, take_event(s), take_event(s), op_id};
  if (!p.start || !p.stop) return -1;
  cudaEventRecord(p.start, static_cast<cudaStream_t>(cuda::current_stream(device)));
  s.pairs.push_back(p);
  return static_cast<int64_t>(s.pairs.size()) - 1;
}

void events_exit(int64_t token) {
  if (token < 0) return;
  EventState& s = events();
  std::lock_guard<std::mutex> lock(s.mu);
  if (token >= static_cast<int64_t>(s.pairs.size())) return;
  const Pair& p = s.pairs[token];
  cudaEventRecord(p.stop, static_cast<cudaStream_t>(cuda::current_stream(p.device)));
}

std::vector<Kernel> events_end() {
  EventState& s = events();
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<Kernel> out;
  for (const Pair& p : s.pairs) {
    float t0 = 0, t1 = 0;
    cudaEventSynchronize(p.stop);
    if (cudaEventElapsedTime(&t0, s.ref[p.device], p.start) != cudaSuccess ||
        cudaEventElapsedTime(&t1, s.ref[p.device], p.stop) != cudaSuccess) {
      cudaGetLastError();  // an op still open at stop: no end event was recorded
      continue;
    }
    Kernel k;
    k.op_id = p.op_id;
    k.event.start_ns = s.ref_ns[p.device] + static_cast<int64_t>(double(t0) * 1e6);
    k.event.end_ns = s.ref_ns[p.device] + static_cast<int64_t>(double(t1) * 1e6);
    k.event.device = p.device;
    k.event.stream = reinterpret_cast<int64_t>(cuda::current_stream(p.device));
    k.event.source = "cuda_events";
    out.push_back(std::move(k));
  }
  for (const Pair& p : s.pairs) {
    s.pool.push_back(p.start);
    s.pool.push_back(p.stop);
  }
  for (cudaEvent_t e : s.ref)
    if (e) s.pool.push_back(e);
  s.pairs.clear();
  s.ref.clear();
  return out;
}

}  // namespace
#endif

// ---- CUPTI -----------------------------------------------------------------
#ifdef LOOM_HAVE_CUPTI
namespace {

// The few CUPTI entry points loom uses, looked up in libcupti at run time:
// loom neither links nor requires it.
struct Cupti {
  bool loaded = false;
  CUptiResult (*enable)(CUpti_ActivityKind) = nullptr;
  CUptiResult (*disable)(CUpti_ActivityKind) = nullptr;
  CUptiResult (*register_callbacks)(CUpti_BuffersCallbackRequestFunc, CUpti_BuffersCallbackCompleteFunc) = nullptr;
  CUptiResult (*next_record)(uint8_t*, size_t, CUpti_Activity**) = nullptr;
  CUptiResult (*flush_all)(uint32_t) = nullptr;
  CUptiResult (*timestamp)(uint64_t*) = nullptr;
  CUptiResult (*push)(CUpti_ExternalCorrelationKind, uint64_t) = nullptr;
  CUptiResult (*pop)(CUpti_ExternalCorrelationKind, uint64_t*) = nullptr;

  std::mutex mu;  // guards the fields below (CUPTI calls back from its own thread)
  std::vector<std::pair<uint8_t*, size_t>> done;
  bool callbacks_registered = false;
  int64_t offset_ns = 0;  // steady clock minus CUPTI's clock
};

Cupti& cupti() {
  static Cupti* c = new Cupti;
  return *c;
}

template <typename F>
bool sym(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  return f != nullptr;
}

bool cupti_load() {
  Cupti& c = cupti();
  if (c.loaded) return true;
  void* lib = nullptr;
  for (const char* name : {"libcupti.so", "libcupti.so.13", "libcupti.so.12", "/usr/local/cuda/lib64/libcupti.so",
                           "/usr/local/cuda/extras/CUPTI/lib64/libcupti.so", "/usr/local/cuda/lib/libcupti.so"}) {
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
  }
  if (!lib) return false;
  c.loaded = sym(lib, "cuptiActivityEnable", c.enable) && sym(lib, "cuptiActivityDisable", c.disable) &&
             sym(lib, "cuptiActivityRegisterCallbacks", c.register_callbacks) &&
             sym(lib, "cuptiActivityGetNextRecord", c.next_record) && sym(lib, "cuptiActivityFlushAll", c.flush_all) &&
             sym(lib, "cuptiGetTimestamp", c.timestamp) && sym(lib, "cuptiActivityPushExternalCorrelationId", c.push) &&
             sym(lib, "cuptiActivityPopExternalCorrelationId", c.pop);
  return c.loaded;
}

constexpr size_t kBufferBytes = 8 << 20;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  Cupti& c = cupti();
  std::lock_guard<std::mutex> lock(c.mu);
  c.done.emplace_back(buffer, valid);
}

const CUpti_ActivityKind kKinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                     CUPTI_ACTIVITY_KIND_MEMSET, CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION};

bool cupti_begin() {
  if (!cupti_load()) return false;
  Cupti& c = cupti();
  if (!c.callbacks_registered) {
    if (c.register_callbacks(buffer_requested, buffer_completed) != CUPTI_SUCCESS) return false;
    c.callbacks_registered = true;
  }
  for (CUpti_ActivityKind k : kKinds)
    if (c.enable(k) != CUPTI_SUCCESS) {
      for (CUpti_ActivityKind j : kKinds) c.disable(j);
      return false;
    }
  uint64_t t = 0;
  c.timestamp(&t);
  c.offset_ns = now_ns() - static_cast<int64_t>(t);
  return true;
}

std::vector<Kernel> cupti_end() {
  Cupti& c = cupti();
  cudaDeviceSynchronize();  // the work launched while recording has finished
  c.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  for (CUpti_ActivityKind k : kKinds) c.disable(k);
  std::vector<std::pair<uint8_t*, size_t>> buffers;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    buffers.swap(c.done);
  }
  std::vector<Kernel> out;
  std::vector<std::pair<uint32_t, uint64_t>> external;  // correlation id -> op id
  for (auto& [buffer, valid] : buffers) {
    CUpti_Activity* r = nullptr;
    while (c.next_record(buffer, valid, &r) == CUPTI_SUCCESS) {
      Kernel k;
      KernelEvent& e = k.event;
      uint32_t correlation = 0;
      // The fields every record kind names alike; returns its correlation id.
      auto common = [&](const auto& a) {
        e.start_ns = static_cast<int64_t>(a.start) + c.offset_ns;
        e.end_ns = static_cast<int64_t>(a.end) + c.offset_ns;
        e.device = static_cast<int>(a.deviceId);
        e.stream = a.streamId;
        return a.correlationId;
      };
      if (r->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || r->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
        const auto* a = reinterpret_cast<const CUpti_ActivityKernel10*>(r);
        e.name = a->name ? a->name : "?";
        correlation = common(*a);
        e.grid[0] = a->gridX, e.grid[1] = a->gridY, e.grid[2] = a->gridZ;
        e.block[0] = a->blockX, e.block[1] = a->blockY, e.block[2] = a->blockZ;
        e.shared_mem = int64_t(a->staticSharedMemory) + int64_t(a->dynamicSharedMemory);
        e.registers = a->registersPerThread;
      } else if (r->kind == CUPTI_ACTIVITY_KIND_MEMCPY) {
        const auto* a = reinterpret_cast<const CUpti_ActivityMemcpy6*>(r);
        static const char* kinds[] = {"?",    "HtoD", "DtoH", "HtoA", "AtoH", "AtoA",
                                      "AtoD", "DtoA", "DtoD", "HtoH", "PtoP"};
        e.name = std::string("Memcpy ") + (a->copyKind < 11 ? kinds[a->copyKind] : "?");
        correlation = common(*a);
        e.bytes = static_cast<double>(a->bytes);
      } else if (r->kind == CUPTI_ACTIVITY_KIND_MEMSET) {
        const auto* a = reinterpret_cast<const CUpti_ActivityMemset4*>(r);
        e.name = "Memset";
        correlation = common(*a);
        e.bytes = static_cast<double>(a->bytes);
      } else if (r->kind == CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION) {
        const auto* a = reinterpret_cast<const CUpti_ActivityExternalCorrelation*>(r);
        if (a->externalKind == CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0)
          external.emplace_back(a->correlationId, a->externalId);
        continue;
      } else {
        continue;
      }
      e.source = "cupti";
      k.op_id = correlation;  // resolved through `external` below
      out.push_back(std::move(k));
    }
    std::free(buffer);
  }
  std::sort(external.begin(), external.end());
  for (Kernel& k : out) {
    const uint32_t corr = static_cast<uint32_t>(k.op_id);
    auto it = std::lower_bound(external.begin(), external.end(), std::make_pair(corr, uint64_t(0)));
    k.op_id = it != external.end() && it->first == corr ? it->second : ~0ull;
  }
  return out;
}

}  // namespace
#endif

// ---- the emulator ----------------------------------------------------------
namespace {
std::mutex g_sink_mu;
std::function<void(const KernelEvent&)> g_sink;
}  // namespace

void set_emulator_sink(std::function<void(const KernelEvent&)> sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  g_sink = std::move(sink);
}

#if defined(LOOM_CUDA_EMU) && defined(LOOM_EMU_LAUNCH_OBSERVER)
namespace {
void on_emulated_launch(const emu::LaunchRecord& r) {
  std::function<void(const KernelEvent&)> sink;
  {
    std::lock_guard<std::mutex> lock(g_sink_mu);
    sink = g_sink;
  }
  if (!sink) return;
  KernelEvent e;
  e.name = r.kernel.empty() ? std::string(r.where) : r.kernel;
  e.start_ns = r.start_ns;
  e.end_ns = r.end_ns;
  e.device = cuda::current_device();
  e.stream = reinterpret_cast<int64_t>(r.stream);
  e.grid[0] = r.grid.x, e.grid[1] = r.grid.y, e.grid[2] = r.grid.z;
  e.block[0] = r.block.x, e.block[1] = r.block.y, e.block[2] = r.block.z;
  e.shared_mem = static_cast<int64_t>(r.dynamic_smem) + (r.static_smem > 0 ? r.static_smem : 0);
  e.registers = r.registers;
  e.occupancy = r.occupancy;
  e.waves = r.waves;
  e.source = "emulator";
  sink(e);
}
}  // namespace
#endif

// ---- dispatch ----------------------------------------------------------------
Mode begin(const std::string& requested_in) {
  std::string requested = requested_in;
  if (requested == "auto" && !env_mode().empty()) requested = env_mode();
  if (requested == "off" || cuda::device_count() == 0) return Mode::Off;
#if defined(LOOM_CUDA_EMU) && defined(LOOM_EMU_LAUNCH_OBSERVER)
  if (requested == "auto" || requested == "emulator") {
    emu::set_launch_observer(on_emulated_launch);
    return Mode::Emulator;
  }
#endif
#ifdef LOOM_HAVE_CUPTI
  if ((requested == "auto" || requested == "cupti") && cupti_begin()) return Mode::Cupti;
#endif
#if defined(LOOM_WITH_CUDA)
  if (events_begin()) return Mode::Events;
#endif
  return Mode::Off;
}

int64_t op_enter(Mode m, uint64_t op_id, int device) {
#ifdef LOOM_HAVE_CUPTI
  if (m == Mode::Cupti) {
    cupti().push(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, op_id);
    return 0;
  }
#endif
#if defined(LOOM_WITH_CUDA)
  if (m == Mode::Events) return events_enter(op_id, device);
#endif
  return -1;
}

void op_exit(Mode m, int64_t token) {
#ifdef LOOM_HAVE_CUPTI
  if (m == Mode::Cupti) {
    uint64_t last = 0;
    cupti().pop(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last);
    return;
  }
#endif
#if defined(LOOM_WITH_CUDA)
  if (m == Mode::Events) events_exit(token);
#endif
}

std::vector<Kernel> end(Mode m) {
#ifdef LOOM_HAVE_CUPTI
  if (m == Mode::Cupti) return cupti_end();
#endif
#if defined(LOOM_WITH_CUDA)
  if (m == Mode::Events) return events_end();
#endif
#if defined(LOOM_CUDA_EMU) && defined(LOOM_EMU_LAUNCH_OBSERVER)
  if (m == Mode::Emulator) emu::set_launch_observer(nullptr);
#endif
  return {};
}

}  // namespace loom::profiler::gpu
