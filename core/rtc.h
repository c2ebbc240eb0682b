// User CUDA kernels compiled at run time with NVRTC: no rebuild of loom, no
// nvcc on the user's machine. A kernel is compiled once per (source, name,
// options, architecture) — cached in memory and on disk — and launched on
// loom tensors, whose device and dtype are checked against the kernel's
// parameter list (parsed from the source). Templates are instantiated by
// name: compile(source, "scale<float>").
//
// Compiling needs no GPU (the architecture defaults to the current device's,
// else sm_90), so the compile path, its errors and the cache are tested on
// any machine; launching needs one. In a build without CUDA every call raises
// a clear error.
//
// On the CUDA emulator (-DLOOM_CUDA=EMU, docs/cuda-emu.md) user kernels run
// too: compile() rewrites the source as the emulator rewrites loom's own
// kernels, compiles it with the host C++ compiler loom was built with into a
// shared object (a trampoline unpacks the arguments and runs the kernel
// through the emulator's launch machinery) and loads it; launch() runs the
// grid before returning, with the emulator's checks (configuration,
// barriers, shuffles, __trap). Options: -D, -U, -I and -std pass through; the
// rest of NVRTC's (-use_fast_math, -lineinfo, ...) concern device code
// generation and are ignored. origin() says "compiler" instead of "nvrtc";
// the disk cache keeps <key>.emu.so next to the cubins.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loom::cuda {

// One parameter of the kernel as written in its source.
struct KernelParam {
  enum class Kind { Pointer, Int32, Int64, Float32, Float64, Bool, Other };
  Kind kind = Kind::Other;
  std::string type;  // as written, template arguments substituted ("const float*")
  std::string name;
  // Pointers: the pointee's dtype when it is one of loom's (float, double,
  // int, int64_t / long long, bool), else unchecked.
  bool pointee_known = false;
  DType pointee = DType::Float32;
};

// A launch argument: a tensor (passed as its data pointer) or a number.
struct KernelArg {
  enum class Kind { Tensor, Int, Float };
  Kind kind = Kind::Int;
  Tensor tensor;
  int64_t i = 0;
  double f = 0;
  static KernelArg of(const Tensor& t);
  static KernelArg of(int64_t v);
  static KernelArg of(double v);
};

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

class RtcKernel {
 public:
  // Compiles `name` (a __global__ function of `source`, or a template
  // instantiation such as "scale<float>") with NVRTC for `arch` ("sm_90";
  // empty: the current device's, else sm_90). options: NVRTC's ("-use_fast_math",
  // "-DN=4"). Raises with NVRTC's log (the host compiler's on the emulator)
  // when the source does not compile.
  static std::shared_ptr<RtcKernel> compile(const std::string& source, const std::string& name,
                                            const std::vector<std::string>& options = {}, const std::string& arch = "");

  const std::string& name() const { return name_; }
  // The symbol in the binary (on the emulator: the trampoline's, loom_rtc_emu_launch).
  const std::string& lowered_name() const { return lowered_; }
  const std::string& arch() const { return arch_; }
  const std::string& log() const { return log_; }  // NVRTC's (the host compiler's) warnings
  const std::vector<KernelParam>& params() const { return params_; }
  size_t binary_size() const { return cubin_.size(); }  // the cubin (on the emulator: the shared object)
  // Where this compile came from: "nvrtc" (on the emulator "compiler"), "memory" or "disk".
  const std::string& origin() const { return origin_; }

  // Checks `args` against the parameter list (count, tensor vs number, CUDA
  // device, dtype), then launches on `stream` (nullptr: loom's current stream
  // of the tensors' device). Raises naming the kernel and the parameter.
  void launch(Dim3 grid, Dim3 block, const std::vector<KernelArg>& args, size_t shared_mem = 0,
              void* stream = nullptr) const;
  // The cost the profiler's roofline column uses for one launch.
  void set_cost(double flops, double bytes);
  double flops() const { return flops_; }
  double bytes() const { return bytes_; }

  RtcKernel(std::string name, std::string lowered, std::string arch, std::string log, std::string cubin,
            std::vector<KernelParam> params, std::string origin);
  ~RtcKernel();
  RtcKernel(const RtcKernel&) = delete;
  RtcKernel& operator=(const RtcKernel&) = delete;

 private:
  int check_args(const std::vector<KernelArg>& args) const;  // the device of the tensor arguments (-1: none)

  std::string name_, lowered_, arch_, log_, cubin_;
  std::vector<KernelParam> params_;
  std::string origin_;
  double flops_ = 0, bytes_ = 0;
  struct Loaded;
  mutable std::unique_ptr<Loaded> loaded_;  // the binary loaded per device, on first launch
};

// The architecture compile() uses by default: "sm_XY" of the current device, else "sm_90".
std::string rtc_default_arch();
// The disk cache: $LOOM_CACHE_DIR/kernels, else $XDG_CACHE_HOME/loom/kernels, else ~/.cache/loom/kernels.
std::string rtc_cache_dir();
void rtc_clear_memory_cache();
bool rtc_available();  // built with NVRTC, or for the CUDA emulator

// Parses the parameter list of kernel `name` ("f" or "f<float, 4>") in source
// (exposed for tests). Raises when no __global__ function of that name exists.
std::vector<KernelParam> rtc_parse_params(const std::string& source, const std::string& name);

}  // namespace loom::cuda
