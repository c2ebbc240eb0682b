// The roofs of the profiler's roofline column: a device's peak arithmetic
// and its memory bandwidth.
// - GPU: peak FLOP/s from the device's properties (SM count x clock x the
//   FLOPs per SM per clock of its architecture, for FP32, TF32 tensor cores
//   and FP64); bandwidth from a device-to-device copy timed once per process.
// - CPU: cores x clock x the FLOPs per cycle of the widest vector FMA the CPU
//   has (AVX-512: 64 FP32, AVX2+FMA: 32, else 8); bandwidth from a memcpy on
//   every core, timed once per process.
// Either can be replaced by the user's own numbers (set_device_roof), e.g.
// from a data sheet or a STREAM run.
#pragma once
#include <string>

namespace loom::profiler {

struct DeviceRoof {
  std::string name;  // "NVIDIA H200", "CPU (2 cores, AVX-512, 2.9 GHz)"
  double fp32 = 0;   // FLOP/s
  double tf32 = 0;   // tensor-core TF32 FLOP/s (the CPU: = fp32)
  double fp64 = 0;
  double bandwidth = 0;          // bytes/s
  std::string peak_source;       // "device properties", "cpuid", "emulated sm_90", "user"
  std::string bandwidth_source;  // "measured copy", "user"

  // The peak for an Event's precision ("fp32", "tf32", "fp64"; "" -> fp32).
  double peak(const std::string& precision) const;
  // Achieved FLOP/s as a fraction of the roof at that arithmetic intensity;
  // with flops == 0 (copies), of the bandwidth. -1 if unknown.
  double fraction(double flops, double bytes, double seconds, const std::string& precision) const;
};

// device -1: the CPU; else a CUDA device. The first call per device measures
// its bandwidth (tens of milliseconds); later calls return the cached roof.
const DeviceRoof& device_roof(int device);
// Replaces the roof of a device (flops: the FP32 peak; tf32 / fp64 <= 0 keep
// the measured ones; bandwidth <= 0 keeps the measured one).
void set_device_roof(int device, double fp32_flops, double bandwidth, double tf32_flops = 0, double fp64_flops = 0);
void reset_device_roofs();  // forget user roofs and measurements

}  // namespace loom::profiler
