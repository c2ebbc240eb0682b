// loom_bench: the benchmark program. Prints one JSON line per case and
// implementation, in the format of shared/bench/SPEC.md:
//   {"case": "gemm/fp32/M4096_N4096_K4096", "impl": "loom", "ms": 2.9, "tflops": 47.1}
//
//   loom_bench [--cpu] [--gpu] [--filter SUBSTR]... [--iters N] [--out FILE] [--tune-cache FILE]
//
// With neither --cpu nor --gpu, the CPU cases always run and the GPU cases run
// when loom::cuda::is_available(). The first line is a header describing the
// machine. This file holds the CLI, the JSON rows and the timers; the cases
// are in cpu_cases.cpp and gpu_cases.cpp.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

#ifdef LOOM_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "bench.h"
#include "core/autotune.h"
#include "core/cuda.h"
#include "core/tensor.h"

namespace bench {

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
  Row r;
  r.str("case", name).str("impl", impl).num("ms", ms);
  if (flops > 0) r.num("tflops", flops / ms / 1e9);
  if (bytes > 0) r.num("gbps", bytes / ms / 1e6);
  r.merge(extra);
  emit(r);
}

void Context::skip(const std::string& name, const std::string& reason) const {
  if (!want(name)) return;
  emit(Row().str("case", name).str("impl", "loom").str("skipped", reason));
}

void Context::run(const std::string& name, const std::function<void()>& body) const {
  if (!want(name)) return;
  try {
    body();
  } catch (const std::exception& e) {
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
  return median(std::move(ms));
}

#ifdef LOOM_WITH_CUDA
static void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

double time_gpu(const std::function<void()>& fn, int iters, int warmup) {
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
  loom::cuda::synchronize();
  loom::cuda::reset_peak_memory_stats();
  fn();
  loom::cuda::synchronize();
  return loom::cuda::memory_stats().peak_allocated_bytes / double(1 << 20);
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
        "  --tune-cache FILE  load the autotuner's cache from FILE if it exists, save it there at the end\n";
}

}  // namespace

int main(int argc, char** argv) {
  bench::Context ctx;
  bool cpu = false, gpu = false;
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
    } else if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "loom_bench: unknown argument '" << a << "'\n";
      usage(std::cerr);
      return 2;
    }
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
      .integer("cpu_threads", 2);
  if (have_gpu) header.str("device", bench::gpu_name()).integer("device_count", loom::cuda::device_count());
  ctx.emit(header);

  using Family = void (*)(const bench::Context&, bool);
  const Family families[] = {bench::run_conv_cases, bench::run_rnn_cases, bench::run_attention_cases,
                             bench::run_norm_cases, bench::run_fusion_cases, bench::run_pool_cases};
  if (cpu) {
    bench::run_cpu_cases(ctx);
    for (Family f : families) f(ctx, false);
  }
  if (gpu) {
    if (have_gpu) {
      bench::run_gpu_cases(ctx);
      for (Family f : families) f(ctx, true);
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
