// Device roofs for the profiler (core/roofline.h).
#include "core/roofline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"

#if defined(LOOM_WITH_CUDA)
#include <cuda_runtime.h>
#endif

namespace loom::profiler {

double DeviceRoof::peak(const std::string& precision) const {
  if (precision == "tf32") return tf32 > 0 ? tf32 : fp32;
  if (precision == "fp64") return fp64;
  return fp32;
}

double DeviceRoof::fraction(double flops, double bytes, double seconds, const std::string& precision) const {
  if (seconds <= 0 || flops < 0 || bytes < 0 || bandwidth <= 0) return -1;
  if (flops == 0) return bytes > 0 ? bytes / seconds / bandwidth : -1;
  const double p = peak(precision);
  if (p <= 0) return -1;
  // With no bytes (all on chip) the roof is the arithmetic peak.
  const double roof = bytes > 0 ? std::min(p, flops / bytes * bandwidth) : p;
  return flops / seconds / roof;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- CPU ----
bool cpu_flag(const std::string& flags, const char* f) {
  const std::string needle = std::string(" ") + f + " ";
  return (" " + flags + " ").find(needle) != std::string::npos;
}

DeviceRoof cpu_roof() {
  DeviceRoof r;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::string flags;
  double mhz = 0;
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = line.substr(line.find(':') + 1);
      if (mhz == 0 && line.rfind("cpu MHz", 0) == 0) mhz = std::atof(line.substr(line.find(':') + 1).c_str());
    }
  }
  // The nominal maximum where the kernel knows it; cpuinfo's figure is the current clock.
  {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
    double khz = 0;
    if (f >> khz && khz > 0) mhz = khz / 1e3;
  }
  if (mhz <= 0) mhz = 2000;
  const bool avx512 = cpu_flag(flags, "avx512f"), avx2 = cpu_flag(flags, "avx2") && cpu_flag(flags, "fma");
  // Two FMA pipes of the widest vector: 2 x lanes x 2 FLOPs per cycle.
  const double per_cycle = avx512 ? 64 : avx2 ? 32 : 8;
  r.fp32 = cores * mhz * 1e6 * per_cycle;
  r.tf32 = r.fp32;
  r.fp64 = r.fp32 / 2;
  char name[128];
  std::snprintf(name, sizeof name, "CPU (%u cores, %s, %.1f GHz)", cores,
                avx512 ? "AVX-512"
                : avx2 ? "AVX2+FMA"
                       : "SSE",
                mhz / 1e3);
  r.name = name;
  r.peak_source = "cpuid";

  // Bandwidth: every core copies its share of a 64 MiB buffer (read + write
  // counted); the best of a few rounds.
  const size_t total = size_t(64) << 20;
  std::unique_ptr<char[]> src(new char[total]), dst(new char[total]);
  std::memset(src.get(), 1, total);
  std::memset(dst.get(), 0, total);
  double best = 1e30;
  for (int round = 0; round < 4; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    const size_t share = total / cores;
    for (unsigned c = 0; c < cores; ++c)
      threads.emplace_back([&, c] { std::memcpy(dst.get() + c * share, src.get() + c * share, share); });
    for (auto& t : threads) t.join();
    best = std::min(best, seconds_since(t0));
  }
  r.bandwidth = 2.0 * double(total) / best;
  r.bandwidth_source = "measured copy";
  return r;
}

// ---- GPU ----
#if defined(LOOM_WITH_CUDA)
// FLOPs per SM per clock (dense): FP32 CUDA cores, TF32 tensor cores, FP64.
struct ArchRate {
  int cc;
  double fp32, tf32, fp64;
};
constexpr ArchRate kRates[] = {
    {70, 128, 128, 64},     // V100: no TF32 (FP32 stands in)
    {75, 128, 128, 4},      // T4
    {80, 128, 1024, 64},    // A100 (FP64 vector; tensor FP64 is twice that)
    {86, 256, 512, 4},      // A10 / RTX 30
    {89, 256, 512, 4},      // L4 / L40 / RTX 40
    {90, 256, 2048, 128},   // H100 / H200
    {100, 256, 4096, 128},  // B200
    {120, 256, 1024, 4},    // RTX 50
};

DeviceRoof gpu_roof(int device) {
  DeviceRoof r;
  int sms = 0, khz = 0, major = 0, minor = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device) != cudaSuccess || khz <= 0) {
    cudaGetLastError();
    khz = major >= 9 ? 1980000 : 1410000;  // no clock reported: an H100 / A100 boost clock
  }
  const int cc = major * 10 + minor;
  ArchRate rate = kRates[0];
  for (const ArchRate& a : kRates)
    if (a.cc <= cc) rate = a;
  const double per_sm = double(sms) * double(khz) * 1e3;
  r.fp32 = per_sm * rate.fp32;
  r.tf32 = per_sm * rate.tf32;
  r.fp64 = per_sm * rate.fp64;
  r.name = cuda::device_name(device);
#ifdef LOOM_CUDA_EMU
  r.peak_source = "emulated sm_90";
#else
  r.peak_source = "device properties";
#endif

  // Bandwidth: a device-to-device copy of 256 MiB (read + write counted),
  // timed with events; the best of a few. The emulator copies host memory:
  // a small buffer is enough to give it a (meaningless) number.
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(device);
#ifdef LOOM_CUDA_EMU
  const size_t bytes = size_t(4) << 20;
#else
  const size_t bytes = size_t(256) << 20;
#endif
  void *a = nullptr, *b = nullptr;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  double best = 0;
  if (cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess &&
      cudaEventCreate(&e0) == cudaSuccess && cudaEventCreate(&e1) == cudaSuccess) {
    cudaMemset(a, 0, bytes);
    for (int round = 0; round < 5; ++round) {
      cudaEventRecord(e0, nullptr);
      cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr);
      cudaEventRecord(e1, nullptr);
      cudaEventSynchronize(e1);
      float ms = 0;
      if (cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess && ms > 0)
        best = std::max(best, 2.0 * double(bytes) / (double(ms) * 1e-3));
    }
  }
  cudaGetLastError();
  if (e0) cudaEventDestroy(e0);
  if (e1) cudaEventDestroy(e1);
  if (a) cudaFree(a);
  if (b) cudaFree(b);
  cudaSetDevice(prev);
  // A host timing of the same copy where events give nothing (the emulator).
  if (best <= 0) best = 1e10;
  r.bandwidth = best;
  r.bandwidth_source = "measured copy";
  return r;
}
#endif

std::mutex g_mu;
std::map<int, DeviceRoof>& roofs() {
  static auto* m = new std::map<int, DeviceRoof>;
  return *m;
}

}  // namespace

const DeviceRoof& device_roof(int device) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = roofs().find(device);
  if (it != roofs().end()) return it->second;
  DeviceRoof r;
  if (device < 0) {
    r = cpu_roof();
  } else {
#if defined(LOOM_WITH_CUDA)
    LOOM_CHECK(device < cuda::device_count(), "profiler roofline: CUDA device ", device, " does not exist (",
               cuda::device_count(), " present)");
    r = gpu_roof(device);
#else
    LOOM_THROW(ErrorKind::Runtime, "profiler roofline: loom was built without CUDA");
#endif
  }
  return roofs().emplace(device, r).first->second;
}

void set_device_roof(int device, double fp32_flops, double bandwidth, double tf32_flops, double fp64_flops) {
  LOOM_CHECK_VALUE(fp32_flops > 0 || bandwidth > 0, "set_device_roof: give a positive peak FLOP/s or bandwidth, got ",
                   fp32_flops, " and ", bandwidth);
  DeviceRoof r = device_roof(device);  // the measured one, for what the user leaves out
  std::lock_guard<std::mutex> lock(g_mu);
  if (fp32_flops > 0) {
    r.fp32 = fp32_flops;
    r.peak_source = "user";
  }
  if (tf32_flops > 0) r.tf32 = tf32_flops;
  else if (device < 0 && fp32_flops > 0) r.tf32 = fp32_flops;  // a CPU has no TF32 of its own
  if (fp64_flops > 0) r.fp64 = fp64_flops;
  if (bandwidth > 0) {
    r.bandwidth = bandwidth;
    r.bandwidth_source = "user";
  }
  roofs()[device] = r;
}

void reset_device_roofs() {
  std::lock_guard<std::mutex> lock(g_mu);
  roofs().clear();
}

}  // namespace loom::profiler
