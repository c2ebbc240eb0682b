// loom_bench: the benchmark program. Prints one JSON line per case and
// implementation, in the format of shared/bench/SPEC.md:
//   {"case": "gemm/fp32/M4096_N4096_K4096", "impl": "loom", "ms": 2.9, "tflops": 47.1}
//
//   loom_bench [--cpu] [--gpu] [--filter SUBSTR]... [--iters N] [--out FILE] [--tune-cache FILE]
//   loom_bench --launch-report [--filter SUBSTR]...     (emulator builds, -DLOOM_CUDA=EMU)
//   loom_bench --profile SUBSTR [--cpu|--gpu] [--iters N]
//
// With neither --cpu nor --gpu, the CPU cases always run and the GPU cases run
// when loom::cuda::is_available(). The first line is a header describing the
// machine. This file holds the CLI, the JSON rows and the timers; the cases
// are in the case files: cases_<family>.cpp for the op families, and
// cases_e2e.cpp (end-to-end models) and cases_limits.cpp (the copy ceiling,
// the eager dispatch cost), which are not families.
//
// --launch-report runs the GPU cases on the CUDA emulator in dry run
// (docs/cuda-emu.md): every kernel launch is recorded, not executed, so the
// cases run at their full shapes in seconds, and each case prints its
// launches with their sm_90 registers, occupancy and waves on a 132-SM GPU,
// flagging those that fill less than half a wave.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#ifdef LOOM_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "bench.h"
#include "core/autotune.h"
#include "core/cuda.h"
#include "core/profiler.h"
#include "core/tensor.h"
#include "kernels/cpu/thread_pool.h"

namespace bench {

// ---------------------------------------------------------------- --profile

// --profile: after a case's timing, one more call runs under loom's profiler
// (GPU kernels included on the GPU) and its table, with the roofline column,
// is printed under the case's JSON row.
static bool g_profile = false;
static std::string g_profile_table;

static void profile_call(const std::function<void()>& fn, bool gpu) {
  loom::profiler::ProfilerOptions o;
  o.record_shapes = true;
  o.cuda = gpu;
  loom::profiler::Profiler prof(o);
  prof.start();
  fn();
  if (gpu) loom::cuda::synchronize();
  prof.stop();
  g_profile_table = prof.table(gpu ? "cuda_time_total" : "cpu_time_total", 25, /*group_by_input_shape=*/true);
}

// ---------------------------------------------------------------- launch report

// --launch-report: the timers run a case's function twice, unrecorded (the
// first call's one-time work: autotuning, workspaces) then recorded, and
// Context::report prints the recorded launches instead of a JSON row.
static bool g_launch_report = false;

#ifdef LOOM_CUDA_EMU
namespace {

std::mutex g_records_mu;
bool g_recording = false;
std::vector<emu::LaunchRecord> g_records;  // of the last recorded call

void on_launch(const emu::LaunchRecord& r) {
  std::lock_guard<std::mutex> lock(g_records_mu);
  if (g_recording) g_records.push_back(r);
}

void record_one_call(const std::function<void()>& fn) {
  fn();
  loom::cuda::synchronize();
  {
    std::lock_guard<std::mutex> lock(g_records_mu);
    g_records.clear();
    g_recording = true;
  }
  try {
    fn();
    loom::cuda::synchronize();
  } catch (...) {
    std::lock_guard<std::mutex> lock(g_records_mu);
    g_recording = false;
    throw;
  }
  std::lock_guard<std::mutex> lock(g_records_mu);
  g_recording = false;
}

// "loom::kernels::cuda::(anonymous namespace)::conv_bias_add_kernel<float>" -> "conv_bias_add_kernel<float>".
std::string short_name(std::string s) {
  for (const char* prefix : {"loom::kernels::cuda::", "(anonymous namespace)::"})
    for (size_t p; (p = s.find(prefix)) != std::string::npos;) s.erase(p, std::strlen(prefix));
  return s;
}

std::string dims(const dim3& d) { return std::to_string(d.x) + "x" + std::to_string(d.y) + "x" + std::to_string(d.z); }

// Less than half a wave of a 132-SM GPU. With unknown resources only a grid
// below 66 blocks is certain to be that (at least one block fits an SM).
bool underfills(const emu::LaunchRecord& r) {
  if (r.library) return false;  // nominal grid
  const double blocks = double(r.grid.x) * r.grid.y * r.grid.z;
  const int per_sm = r.blocks_per_sm > 0 ? r.blocks_per_sm : 1;
  return blocks < 0.5 * emu::kSmCount * per_sm;
}

struct Flagged {
  std::string kernel, grid, block;
  int blocks_per_sm;
  double waves;
  std::vector<std::string> cases;
};
std::vector<Flagged> g_flagged;
int g_case_errors = 0;

std::string fmt(const char* f, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void print_launches(const std::string& name, const std::string& impl) {
  std::vector<emu::LaunchRecord> recs;
  {
    std::lock_guard<std::mutex> lock(g_records_mu);
    recs.swap(g_records);
  }
  // Identical launches (kernel, grid, block, shared memory) are one row with a count.
  struct Row {
    const emu::LaunchRecord* r;
    int n;
  };
  std::vector<Row> rows;
  for (const auto& r : recs) {
    auto same = [&](const Row& x) {
      return x.r->kernel == r.kernel && x.r->dynamic_smem == r.dynamic_smem && dims(x.r->grid) == dims(r.grid) &&
             dims(x.r->block) == dims(r.block);
    };
    auto it = std::find_if(rows.begin(), rows.end(), same);
    if (it != rows.end()) ++it->n;
    else rows.push_back({&r, 1});
  }
  int flagged = 0;
  for (const Row& x : rows) flagged += underfills(*x.r);
  std::printf("\n== %s [%s]: %zu launches, %zu distinct, %d flagged\n", name.c_str(), impl.c_str(), recs.size(),
              rows.size(), flagged);
  if (rows.empty()) return;
  std::printf("  %4s  %-14s  %-11s  %7s  %4s  %5s  %6s  %4s  %7s  %-4s  %s\n", "n", "grid", "block", "smem", "regs",
              "local", "blk/SM", "occ", "waves", "flag", "kernel");
  for (const Row& x : rows) {
    const emu::LaunchRecord& r = *x.r;
    const std::string smem = r.static_smem >= 0 ? std::to_string(r.dynamic_smem + size_t(r.static_smem))
                                                : std::to_string(r.dynamic_smem) + (r.library ? "" : "+?");
    const bool low = underfills(r);
    std::printf("  %4d  %-14s  %-11s  %7s  %4s  %5s  %6s  %4s  %7s  %-4s  %s\n", x.n, dims(r.grid).c_str(),
                dims(r.block).c_str(), smem.c_str(), r.registers > 0 ? std::to_string(r.registers).c_str() : "-",
                r.local_bytes >= 0 ? std::to_string(r.local_bytes).c_str() : "-",
                r.blocks_per_sm >= 0 ? std::to_string(r.blocks_per_sm).c_str() : "-",
                r.occupancy >= 0 ? fmt("%.2f", r.occupancy).c_str() : "-",
                r.waves >= 0 ? fmt("%.3f", r.waves).c_str() : "-",
                r.library ? "lib"
                : low     ? "LOW"
                          : "",
                short_name(r.kernel).c_str());
    if (!low) continue;
    const std::string kernel = short_name(r.kernel), grid = dims(r.grid), block = dims(r.block);
    auto it = std::find_if(g_flagged.begin(), g_flagged.end(),
                           [&](const Flagged& f) { return f.kernel == kernel && f.grid == grid && f.block == block; });
    if (it == g_flagged.end())
      it = g_flagged.insert(g_flagged.end(), Flagged{kernel, grid, block, r.blocks_per_sm, r.waves, {}});
    const std::string c = name + " [" + impl + "]";
    if (std::find(it->cases.begin(), it->cases.end(), c) == it->cases.end()) it->cases.push_back(c);
  }
}

void print_summary() {
  std::printf("\n== flagged: %zu launch shapes fill less than half a wave of %d SMs\n", g_flagged.size(),
              emu::kSmCount);
  for (const Flagged& f : g_flagged) {
    std::string where = f.cases.front();
    if (f.cases.size() > 1) where += " and " + std::to_string(f.cases.size() - 1) + " more";
    std::printf("  %-60s grid %-12s block %-10s blk/SM %-3s waves %-6s in %s\n", f.kernel.c_str(), f.grid.c_str(),
                f.block.c_str(), f.blocks_per_sm >= 0 ? std::to_string(f.blocks_per_sm).c_str() : "-",
                f.waves >= 0 ? fmt("%.3f", f.waves).c_str() : "-", where.c_str());
  }
  if (g_case_errors) std::printf("\n%d case(s) failed in dry run (see above)\n", g_case_errors);
}

}  // namespace
#endif

// ---------------------------------------------------------------- JSON rows

std::string json_escape(const std::string& s) {
  std::string r;
  r.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\t': r += "\\t"; break;
      case '\r': r += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          r += buf;
        } else {
          r += c;
        }
    }
  }
  return r;
}

Row& Row::str(const std::string& key, const std::string& value) {
  fields_.emplace_back(key, "\"" + json_escape(value) + "\"");
  return *this;
}

Row& Row::fixed(const std::string& key, double value, int decimals) {
  if (!std::isfinite(value)) {
    fields_.emplace_back(key, "null");
    return *this;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  fields_.emplace_back(key, buf);
  return *this;
}

Row& Row::num(const std::string& key, double value) {
  // About four significant digits without exponent notation.
  const double a = std::fabs(value);
  const int decimals = a >= 1000 ? 1 : a >= 100 ? 2 : a >= 10 ? 3 : a >= 1 ? 4 : a >= 0.01 ? 5 : 7;
  return fixed(key, value, decimals);
}

Row& Row::integer(const std::string& key, int64_t value) {
  fields_.emplace_back(key, std::to_string(value));
  return *this;
}

Row& Row::boolean(const std::string& key, bool value) {
  fields_.emplace_back(key, value ? "true" : "false");
  return *this;
}

Row& Row::merge(const Row& other) {
  fields_.insert(fields_.end(), other.fields_.begin(), other.fields_.end());
  return *this;
}

std::string Row::json() const {
  std::string s = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) s += ", ";
    s += "\"" + json_escape(fields_[i].first) + "\": " + fields_[i].second;
  }
  return s + "}";
}

// ---------------------------------------------------------------- reporting

bool Context::want(const std::string& name) const {
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; });
}

void Context::emit(const Row& row) const {
  const std::string line = row.json();
  std::cout << line << std::endl;
  if (out) {
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
  }
}

void Context::report(const std::string& name, double ms, double flops, double bytes, const Row& extra,
                     const std::string& impl) const {
#ifdef LOOM_CUDA_EMU
  if (g_launch_report) {
    print_launches(name, impl);
    return;
  }
#endif
  Row r;
  r.str("case", name).str("impl", impl).num("ms", ms);
  if (flops > 0) r.num("tflops", flops / ms / 1e9);
  if (bytes > 0) r.num("gbps", bytes / ms / 1e6);
  r.merge(extra);
  emit(r);
  if (g_profile && !g_profile_table.empty()) {
    std::cout << "\n== profile of " << name << " (" << impl << "), one call\n" << g_profile_table << std::endl;
    g_profile_table.clear();
  }
}

void Context::skip(const std::string& name, const std::string& reason) const {
  if (!want(name)) return;
  if (g_launch_report) {
    std::printf("\n== %s: skipped (%s)\n", name.c_str(), reason.c_str());
    return;
  }
  emit(Row().str("case", name).str("impl", "loom").str("skipped", reason));
}

void Context::run(const std::string& name, const std::function<void()>& body) const {
  if (!want(name)) return;
  try {
    body();
  } catch (const std::exception& e) {
#ifdef LOOM_CUDA_EMU
    if (g_launch_report) {
      // Dry run executes no kernel: host code that reads device results sees garbage.
      std::printf("\n== %s: error in dry run: %s\n", name.c_str(), e.what());
      ++g_case_errors;
      return;
    }
#endif
    emit(Row().str("case", name).str("impl", "loom").str("error", e.what()));
  }
}

// ---------------------------------------------------------------- timers

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double time_cpu(const std::function<void()>& fn, int iters, int warmup) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  ms.reserve(iters);
  for (int i = 0; i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  if (g_profile) profile_call(fn, false);
  return median(std::move(ms));
}

#ifdef LOOM_WITH_CUDA
static void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

double time_gpu(const std::function<void()>& fn, int iters, int warmup) {
#ifdef LOOM_CUDA_EMU
  if (g_launch_report) {
    record_one_call(fn);
    return std::nan("");
  }
#endif
  const int dev = loom::cuda::current_device();
  for (int i = 0; i < warmup; ++i) fn();
  loom::cuda::synchronize(dev);
  // The stream is read after warm-up: ops launch on the current stream.
  auto stream = static_cast<cudaStream_t>(loom::cuda::current_stream(dev));
  cudaEvent_t start, stop;
  cuda_check(cudaEventCreate(&start), "cudaEventCreate");
  cuda_check(cudaEventCreate(&stop), "cudaEventCreate");
  std::vector<double> ms;
  ms.reserve(iters);
  try {
    for (int i = 0; i < iters; ++i) {
      cuda_check(cudaEventRecord(start, stream), "cudaEventRecord");
      fn();
      cuda_check(cudaEventRecord(stop, stream), "cudaEventRecord");
      cuda_check(cudaEventSynchronize(stop), "cudaEventSynchronize");
      float t = 0;
      cuda_check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
      ms.push_back(t);
    }
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  loom::cuda::synchronize(dev);  // raises device-side errors recorded by the kernels
  if (g_profile) profile_call(fn, true);
  return median(std::move(ms));
}

static std::string gpu_name() {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, loom::cuda::current_device()) != cudaSuccess) return "?";
  return p.name;
}
#else
double time_gpu(const std::function<void()>&, int, int) {
  throw std::runtime_error("time_gpu: loom_bench was built without CUDA");
}
static std::string gpu_name() { return ""; }
#endif

double gpu_peak_mib(const std::function<void()>& fn) {
  if (g_launch_report) return std::nan("");  // dry run: nothing to measure
  loom::cuda::synchronize();
  loom::cuda::reset_peak_memory_stats();
  fn();
  loom::cuda::synchronize();
  return loom::cuda::memory_stats().peak_allocated_bytes / double(1 << 20);
}

// ---------------------------------------------------------------- helpers of the case files

const char* const kComposed = "loom_composed";

Row cpu_extra() { return Row().integer("threads", loom::get_num_threads()); }

loom::Device current_gpu() { return loom::Device(loom::DeviceType::CUDA, loom::cuda::current_device()); }

loom::TensorOptions on_gpu(bool requires_grad) {
  return loom::TensorOptions(current_gpu()).with_requires_grad(requires_grad);
}

bool any_wanted(const Context& ctx, std::initializer_list<std::string> names) {
  for (const auto& n : names)
    if (ctx.want(n)) return true;
  return false;
}

void timed(const Context& ctx, const std::string& name, const std::function<void()>& fn, double flops, double bytes,
           int iters, int warmup, Row extra, const std::string& impl) {
  const double ms = time_gpu(fn, ctx.iters_or(iters), warmup);
  extra.fixed("peak_mib", gpu_peak_mib(fn), 1);
  ctx.report(name, ms, flops, bytes, extra, impl);
}

void timed_on(const Context& ctx, bool gpu, const std::string& name, const std::function<void()>& fn, double flops,
              double bytes, const Row& extra) {
  if (gpu) {
    timed(ctx, name, fn, flops, bytes, kGpuIters, kGpuWarmup, extra);
  } else {
    const double ms = time_cpu(fn, ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name, ms, flops, bytes, cpu_extra().merge(extra));
  }
}

// ---------------------------------------------------------------- the case files

// In the order of the output: the limits first, then the families, the
// end-to-end models, the pointwise ops (many small cases), then the families
// whose case files came later (appended, so the earlier order stays).
using CaseFile = void (*)(const Context&, bool);
const CaseFile kCaseFiles[] = {
    run_limits_cases,    run_matmul_cases,    run_rnn_cases,      run_attention_cases, run_norm_cases,
    run_loss_cases,      run_fusion_cases,    run_e2e_cases,      run_conv_cases,      run_pool_cases,
    run_reduce_cases,    run_pointwise_cases, run_softmax_cases,  run_index_cases,     run_random_cases,
    run_embedding_cases, run_dropout_cases,   run_optim_cases,    run_view_cases,      run_copy_cases,
    run_factory_cases,   run_sort_cases,      run_upsample_cases, run_grid_cases,      run_activation_cases};

// Runs every case file's CPU or GPU cases (pointwise only if with_pointwise),
// from the same state each time: seed 0, TF32 off, CPU on kCpuThreads threads,
// the GPU cache emptied after each file.
static void run_case_files(const Context& ctx, bool gpu, bool with_pointwise) {
  if (gpu) {
    loom::manual_seed(0);
    loom::set_allow_tf32(false);
  } else {
    loom::set_num_threads(kCpuThreads);
    loom::manual_seed(0);
  }
  for (CaseFile f : kCaseFiles) {
    if (f == run_pointwise_cases && !with_pointwise) continue;
    f(ctx, gpu);
    if (gpu) loom::cuda::empty_cache();
  }
}

}  // namespace bench

// ---------------------------------------------------------------- main

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(line.find_first_not_of(" \t", p + 1));
    }
  }
  return "unknown";
}

void usage(std::ostream& os) {
  os << "usage: loom_bench [--cpu] [--gpu] [--filter SUBSTR]... [--iters N] [--out FILE] [--tune-cache FILE]\n"
        "  --cpu / --gpu    run only these families (default: CPU always, GPU when available)\n"
        "  --filter SUBSTR  run the cases whose name contains SUBSTR (repeatable)\n"
        "  --iters N        timed iterations per case (default: 10 on the CPU, 50 on the GPU,\n"
        "                   20 for the copy and gemm cases)\n"
        "  --out FILE       also write the JSON lines to FILE\n"
        "  --tune-cache FILE  load the autotuner's cache from FILE if it exists, save it there at the end\n"
        "  --launch-report  (emulator builds) run the GPU cases once in dry run and print their kernel\n"
        "                   launches: grid, block, sm_90 registers, occupancy, waves on 132 SMs; flags\n"
        "                   launches filling < 50 % of one wave\n"
        "  --profile SUBSTR run the cases matching SUBSTR, then one more call of each under loom's profiler,\n"
        "                   printing its table (ops, GPU kernels with --gpu, the roofline column)\n";
}

#ifdef LOOM_CUDA_EMU
int run_launch_report(const bench::Context& ctx) {
  std::printf("loom_bench --launch-report: GPU cases in dry run on the CUDA emulator (kernels recorded, not run)\n");
  if (emu::kernel_resource_count())
    std::printf("sm_90 resources: %zu kernels from %s\n", emu::kernel_resource_count(), emu::kernel_resource_source());
  else
    std::printf("sm_90 resources: none in this build (%s); registers and occupancy unknown\n",
                emu::kernel_resource_source());
  std::printf("flag LOW: blocks < 0.5 x %d SMs x blocks/SM; lib: an emulated cuBLAS call (nominal grid)\n",
              emu::kSmCount);
  std::fflush(stdout);
  bench::g_launch_report = true;
  emu::set_launch_observer(bench::on_launch);
  emu::set_dry_run(true);
  bench::run_case_files(ctx, /*gpu=*/true, /*with_pointwise=*/false);
  emu::set_dry_run(false);
  emu::set_launch_observer(nullptr);
  bench::print_summary();
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  bench::Context ctx;
  bool cpu = false, gpu = false, launch_report = false;
  std::string out_path, tune_cache;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "loom_bench: " << flag << " needs a value\n";
        usage(std::cerr);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cpu") {
      cpu = true;
    } else if (a == "--gpu") {
      gpu = true;
    } else if (a == "--filter") {
      ctx.filters.push_back(value("--filter"));
    } else if (a == "--iters") {
      std::string v = value("--iters");
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (!end || *end || n <= 0) {
        std::cerr << "loom_bench: --iters expects a positive integer, got '" << v << "'\n";
        return 2;
      }
      ctx.iters = int(n);
    } else if (a == "--out") {
      out_path = value("--out");
    } else if (a == "--tune-cache") {
      tune_cache = value("--tune-cache");
    } else if (a == "--launch-report") {
      launch_report = true;
    } else if (a == "--profile") {
      ctx.filters.push_back(value("--profile"));
      bench::g_profile = true;
    } else if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "loom_bench: unknown argument '" << a << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (launch_report) {
#ifdef LOOM_CUDA_EMU
    return run_launch_report(ctx);
#else
    std::cerr << "loom_bench: --launch-report needs the CUDA emulator build (cmake -DLOOM_CUDA=EMU, see "
                 "docs/cuda-emu.md); on a GPU, use the profiler or Nsight Compute\n";
    return 2;
#endif
  }
  if (!cpu && !gpu) cpu = gpu = true;  // the default: GPU only where available
  if (!out_path.empty()) {
    ctx.out = std::fopen(out_path.c_str(), "w");
    if (!ctx.out) {
      std::cerr << "loom_bench: cannot open " << out_path << " for writing: " << std::strerror(errno) << "\n";
      return 2;
    }
  }

  if (!tune_cache.empty() && std::ifstream(tune_cache).good()) loom::autotune::load(tune_cache);
  const bool have_gpu = loom::cuda::is_available();
  bench::Row header;
  header.str("bench", "loom_bench")
      .boolean("built_with_cuda", loom::cuda::built_with_cuda())
      .boolean("cuda_available", have_gpu)
      .str("cpu", cpu_model())
      .integer("hardware_threads", std::thread::hardware_concurrency())
      .str("blas_core", loom::kernels::cpu::blas_core())
      .integer("cpu_threads", bench::kCpuThreads);
  if (have_gpu) header.str("device", bench::gpu_name()).integer("device_count", loom::cuda::device_count());
  ctx.emit(header);

  if (cpu) bench::run_case_files(ctx, /*gpu=*/false, /*with_pointwise=*/true);
  if (gpu) {
    if (have_gpu) {
      bench::run_case_files(ctx, /*gpu=*/true, /*with_pointwise=*/true);
    } else {
      const char* reason = loom::cuda::built_with_cuda() ? "loom::cuda::is_available() is false (no usable GPU)"
                                                         : "loom was built without CUDA";
      ctx.emit(bench::Row().str("skipped", "gpu").str("reason", reason));
    }
  }
  if (!tune_cache.empty()) loom::autotune::save(tune_cache);
  if (ctx.out) std::fclose(ctx.out);
  return 0;
}
