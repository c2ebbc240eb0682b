// conv2d through cuDNN (9.x, legacy convolution API): the second reference
// for loom's own kernels, a candidate of the conv autotuner and the
// "loom_cudnn" benchmark variant. Same meaning and layouts as
// kernels/conv.h (NCHW, cross-correlation, groups).
//
// Cache: one entry per problem (every ConvParams field, dtype, TF32 flag,
// device, and the options search / deterministic / workspace_limit). It holds
// the tensor and filter descriptors and, per pass, a convolution descriptor of
// its own (the math type may differ by pass), the chosen algorithm and its
// workspace size. A pass is chosen on its first call under its own mutex and
// never changes afterwards, so later calls are a lookup and the convolution.
// Entries are shared_ptrs, so cudnn_conv_cache_clear cannot pull one from
// under a running call. The map and the handles are leaked at exit rather
// than handed to cuDNN after the driver has shut down.
//
// Choice: a candidate must report SUCCESS, be CUDNN_DETERMINISTIC when asked,
// keep the precision asked for (TF32 off: CUDNN_FMA_MATH only; never the FP16
// down-conversion), and need at most the workspace limit with its own math
// type set. search = false: the first such in cuDNN's heuristic order
// (cudnnGet*Algorithm_v7, no trial runs). search = true: cudnnFind*AlgorithmEx
// times the algorithms on the caller's buffers (overwriting the output, which
// the chosen algorithm rewrites at once; the stream is synchronized first) in
// a workspace of min(limit, the most any algorithm needs); the fastest such
// that fits it. The pass's descriptor
// takes the winner's math type. Nothing fits: an error naming why.
//
// Workspace comes only from the caller's WorkspaceFn, at most once per call (a
// search lends its workspace to the run that follows). One cuDNN handle per
// device, used under a mutex (a handle is not for two threads at once) and
// bound to the caller's stream on every call.
//
// Compiled to stubs that raise where loom was built without cuDNN.
#include "core/error.h"
#include "kernels/conv.h"

#ifdef LOOM_WITH_CUDNN
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#endif

namespace loom::kernels::cuda {

#ifdef LOOM_WITH_CUDNN
namespace {

#define LOOM_CUDNN_CHECK(call)                                                                                       \
  do {                                                                                                               \
    cudnnStatus_t st_ = (call);                                                                                      \
    LOOM_CHECK(st_ == CUDNN_STATUS_SUCCESS, "cuDNN error ", cudnnGetErrorString(st_), " in ", #call, " (", __FILE__, \
               ":", __LINE__, ")");                                                                                  \
  } while (0)

constexpr int kPasses = 3;

int algo_count(ConvPass pass) {
  static const int counts[] = {CUDNN_CONVOLUTION_FWD_ALGO_COUNT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT};
  return counts[int(pass)];
}

// The enumerators of each pass without their CUDNN_CONVOLUTION_*_ALGO_ prefix.
const char* algo_name(ConvPass pass, int algo) {
  static const char* const fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
                                    "WINOGRAD",      "WINOGRAD_NONFUSED"};
  static const char* const data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* const filter[] = {"ALGO_0",    "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED",
                                       "FFT_TILING"};
  static_assert(sizeof(fwd) / sizeof(*fwd) == CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  static_assert(sizeof(data) / sizeof(*data) == CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  static_assert(sizeof(filter) / sizeof(*filter) == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
  static const char* const* names[] = {fwd, data, filter};
  return algo >= 0 && algo < algo_count(pass) ? names[int(pass)][algo] : "";
}

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1 << 20));
  return buf;
}

// Makes `device` current for the scope: cuDNN works on the current device.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    LOOM_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != device) LOOM_CUDA_CHECK(cudaSetDevice(device));
    else prev_ = -1;
  }
  ~DeviceScope() {
    if (prev_ >= 0) cudaSetDevice(prev_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int prev_ = -1;
};

struct DeviceHandle {
  std::mutex mu;
  cudnnHandle_t h = nullptr;
};

// Holds the device's handle, bound to `stream`, for the scope.
class HandleLock {
 public:
  HandleLock(int device, cudaStream_t stream) : dh_(slot(device)), lock_(dh_.mu) {
    if (!dh_.h) LOOM_CUDNN_CHECK(cudnnCreate(&dh_.h));
    LOOM_CUDNN_CHECK(cudnnSetStream(dh_.h, stream));
  }
  cudnnHandle_t get() const { return dh_.h; }

 private:
  static DeviceHandle& slot(int device) {
    static std::mutex mu;
    static auto* handles = new std::map<int, std::unique_ptr<DeviceHandle>>();  // leaked on purpose
    std::lock_guard<std::mutex> lock(mu);
    auto& s = (*handles)[device];
    if (!s) s = std::make_unique<DeviceHandle>();
    return *s;
  }
  DeviceHandle& dh_;
  std::lock_guard<std::mutex> lock_;
};

struct PassState {
  std::mutex mu;
  bool ready = false;  // algo, bytes and conv's math type are final
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = -1;
  size_t bytes = 0;
};

struct Entry {
  DType dt;
  ConvParams p;
  bool tf32;
  cudnnDataType_t type;
  cudnnMathType_t base_math;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, b = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  PassState pass[kPasses];

  Entry(DType dt_, const ConvParams& p_, bool tf32_) : dt(dt_), p(p_), tf32(tf32_) {}
  // Separate from the constructor so that a throw midway still runs ~Entry.
  void init() {
    LOOM_CHECK_TYPE(dt == DType::Float32 || dt == DType::Float64, "conv2d (cuDNN): expected float32 or float64, got ",
                    dtype_name(dt));
    for (int64_t v : {p.N, p.C, p.H, p.W, p.K, p.R, p.S, p.OH, p.OW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h,
                      p.dil_w, p.groups})
      LOOM_CHECK_VALUE(v >= 0 && v <= INT_MAX, "conv2d (cuDNN): ", shapes(), " has a size or parameter beyond ",
                       INT_MAX, ", which cuDNN's descriptors cannot hold");
    type = dt == DType::Float32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
    base_math = tf32 && type == CUDNN_DATA_FLOAT ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&b));
    LOOM_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    LOOM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, int(p.N), int(p.C), int(p.H), int(p.W)));
    LOOM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, int(p.N), int(p.K), int(p.OH), int(p.OW)));
    LOOM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(b, CUDNN_TENSOR_NCHW, type, 1, int(p.K), 1, 1));
    LOOM_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, int(p.K), int(p.Cg()), int(p.R), int(p.S)));
    for (PassState& ps : pass) {
      LOOM_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&ps.conv));
      LOOM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(ps.conv, int(p.pad_h), int(p.pad_w), int(p.stride_h),
                                                       int(p.stride_w), int(p.dil_h), int(p.dil_w),
                                                       CUDNN_CROSS_CORRELATION, type));
      LOOM_CUDNN_CHECK(cudnnSetConvolutionGroupCount(ps.conv, int(p.groups)));
      LOOM_CUDNN_CHECK(cudnnSetConvolutionMathType(ps.conv, base_math));
    }
  }
  ~Entry() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (b) cudnnDestroyTensorDescriptor(b);
    if (w) cudnnDestroyFilterDescriptor(w);
    for (PassState& ps : pass)
      if (ps.conv) cudnnDestroyConvolutionDescriptor(ps.conv);
  }
  std::string shapes() const {
    return ::loom::detail::str("input [", p.N, ", ", p.C, ", ", p.H, ", ", p.W, "], weight [", p.K, ", ", p.Cg(), ", ",
                               p.R, ", ", p.S, "], output [", p.N, ", ", p.K, ", ", p.OH, ", ", p.OW, "] (stride ",
                               p.stride_h, "x", p.stride_w, ", padding ", p.pad_h, "x", p.pad_w, ", dilation ", p.dil_h,
                               "x", p.dil_w, ", groups ", p.groups, ", ", dtype_name(dt),
                               dt == DType::Float32 ? (tf32 ? ", TF32 on)" : ", TF32 off)") : ")");
  }
  // alpha / beta are read as the compute type: double for float64, float otherwise.
  const void* one() const { return type == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&kOneD) : &kOneF; }
  const void* zero() const { return type == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&kZeroD) : &kZeroF; }
  static constexpr float kOneF = 1.f, kZeroF = 0.f;
  static constexpr double kOneD = 1.0, kZeroD = 0.0;
};

using Key = std::array<int64_t, 22>;

Key make_key(DType dt, const ConvParams& p, bool tf32, const CudnnConvOptions& opt, int device) {
  return {p.N,
          p.C,
          p.H,
          p.W,
          p.K,
          p.R,
          p.S,
          p.OH,
          p.OW,
          p.stride_h,
          p.stride_w,
          p.pad_h,
          p.pad_w,
          p.dil_h,
          p.dil_w,
          p.groups,
          int64_t(dt),
          tf32,
          device,
          opt.search,
          opt.deterministic,
          int64_t(opt.workspace_limit)};
}

struct Cache {
  std::mutex mu;
  std::map<Key, std::shared_ptr<Entry>> map;
};
Cache& cache() {
  static auto* c = new Cache();  // leaked on purpose: see the file comment
  return *c;
}

std::shared_ptr<Entry> lookup(DType dt, const ConvParams& p, bool tf32, const CudnnConvOptions& opt, int device) {
  const Key key = make_key(dt, p, tf32, opt, device);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.map.find(key);
  if (it != c.map.end()) return it->second;
  auto e = std::make_shared<Entry>(dt, p, tf32);
  e->init();  // host-only descriptor setup: cheap enough to hold the lock
  return c.map.emplace(key, std::move(e)).first->second;
}

// The pass's buffers in cuDNN's argument order: fwd (x, w -> y), bwd_data
// (w, dy -> dx), bwd_weight (x, dy -> dw).
struct Buffers {
  const void *a, *b;
  void* out;
};

// One row of cuDNN's perf results, whatever the pass.
struct Candidate {
  int algo;
  cudnnStatus_t status;
  float time;  // ms, from a search
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t math;
};

// Runs `query(capacity, &returned, results)` and flattens its results.
template <class Perf, class Query>
std::vector<Candidate> collect(int capacity, Query&& query) {
  std::vector<Perf> perf(capacity);
  int n = 0;
  query(capacity, &n, perf.data());
  std::vector<Candidate> out;
  for (int i = 0; i < std::min(n, capacity); ++i)
    out.push_back(
        {int(perf[i].algo), perf[i].status, perf[i].time, perf[i].memory, perf[i].determinism, perf[i].mathType});
  return out;
}

// Heuristics (find == nullptr) or timed trials on `find`'s buffers.
std::vector<Candidate> candidates(ConvPass pass, cudnnHandle_t h, const Entry& e, cudnnConvolutionDescriptor_t conv,
                                  const Buffers* find, void* ws, size_t ws_bytes) {
  int cap = 0;
  // Room for a tensor-core and a non-tensor-core row per algorithm, or more if cuDNN says so.
  const int floor = 2 * algo_count(pass);
  switch (pass) {
    case ConvPass::Forward:
      LOOM_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &cap));
      return collect<cudnnConvolutionFwdAlgoPerf_t>(std::max(cap, floor), [&](int n, int* got, auto* perf) {
        if (find)
          LOOM_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, e.x, find->a, e.w, find->b, conv, e.y, find->out,
                                                                  n, got, perf, ws, ws_bytes));
        else LOOM_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, e.x, e.w, conv, e.y, n, got, perf));
      });
    case ConvPass::BackwardData:
      LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &cap));
      return collect<cudnnConvolutionBwdDataAlgoPerf_t>(std::max(cap, floor), [&](int n, int* got, auto* perf) {
        if (find)
          LOOM_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, e.w, find->a, e.y, find->b, conv, e.x,
                                                                       find->out, n, got, perf, ws, ws_bytes));
        else LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, e.w, e.y, conv, e.x, n, got, perf));
      });
    case ConvPass::BackwardWeight:
      LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &cap));
      return collect<cudnnConvolutionBwdFilterAlgoPerf_t>(std::max(cap, floor), [&](int n, int* got, auto* perf) {
        if (find)
          LOOM_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, e.x, find->a, e.y, find->b, conv, e.w,
                                                                         find->out, n, got, perf, ws, ws_bytes));
        else LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, e.x, e.y, conv, e.w, n, got, perf));
      });
  }
  return {};
}

cudnnStatus_t workspace_size(ConvPass pass, cudnnHandle_t h, const Entry& e, cudnnConvolutionDescriptor_t conv,
                             int algo, size_t* bytes) {
  *bytes = 0;
  switch (pass) {
    case ConvPass::Forward:
      return cudnnGetConvolutionForwardWorkspaceSize(h, e.x, e.w, conv, e.y, cudnnConvolutionFwdAlgo_t(algo), bytes);
    case ConvPass::BackwardData:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(h, e.w, e.y, conv, e.x, cudnnConvolutionBwdDataAlgo_t(algo),
                                                          bytes);
    case ConvPass::BackwardWeight:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, e.x, e.y, conv, e.w,
                                                            cudnnConvolutionBwdFilterAlgo_t(algo), bytes);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

void* get_workspace(const WorkspaceFn& ws, size_t bytes, ConvPass pass) {
  LOOM_CHECK(ws, "conv2d (cuDNN): the ", conv_pass_name(pass), " pass needs ", mib(bytes),
             " of workspace but no workspace function was given");
  void* ptr = ws(bytes);
  LOOM_CHECK(ptr, "conv2d (cuDNN): the workspace function returned null for ", bytes, " bytes (", conv_pass_name(pass),
             " pass)");
  return ptr;
}

// Chooses the pass's algorithm (caller holds ps.mu, ps not ready). A search
// hands the workspace it obtained back through *got / *got_bytes.
void choose(ConvPass pass, const Entry& e, PassState& ps, const CudnnConvOptions& opt, int device, cudaStream_t stream,
            const Buffers& bufs, const WorkspaceFn& ws, void** got, size_t* got_bytes) {
  LOOM_CUDNN_CHECK(cudnnSetConvolutionMathType(ps.conv, e.base_math));  // a failed earlier choice may have changed it
  size_t limit = opt.workspace_limit;
  if (opt.search) {
    size_t largest = 0;
    {
      HandleLock h(device, stream);
      for (int a = 0; a < algo_count(pass); ++a) {
        size_t bytes = 0;
        if (workspace_size(pass, h.get(), e, ps.conv, a, &bytes) == CUDNN_STATUS_SUCCESS)
          largest = std::max(largest, bytes);
      }
    }
    limit = *got_bytes = std::min(limit, largest);
    if (limit) *got = get_workspace(ws, limit, pass);
    // The trials must see the inputs and the workspace as of this point of the stream.
    LOOM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  HandleLock h(device, stream);
  std::vector<Candidate> cands = candidates(pass, h.get(), e, ps.conv, opt.search ? &bufs : nullptr, *got, *got_bytes);
  if (opt.search)
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& l, const Candidate& r) {
      return l.status == CUDNN_STATUS_SUCCESS && (r.status != CUDNN_STATUS_SUCCESS || l.time < r.time);
    });
  const bool fma_only = e.base_math == CUDNN_FMA_MATH && e.type == CUDNN_DATA_FLOAT;
  int supported = 0, nondet = 0, math = 0, big = 0;
  size_t least = SIZE_MAX;
  for (const Candidate& c : cands) {
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    ++supported;
    if (opt.deterministic && c.determinism != CUDNN_DETERMINISTIC) {
      ++nondet;
      continue;
    }
    if (c.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION || (fma_only && c.math != CUDNN_FMA_MATH)) {
      ++math;
      continue;
    }
    LOOM_CUDNN_CHECK(cudnnSetConvolutionMathType(ps.conv, c.math));
    size_t bytes = 0;
    if (workspace_size(pass, h.get(), e, ps.conv, c.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (opt.search) bytes = std::max(bytes, c.memory);  // what the trial ran with
    if (bytes > limit) {
      ++big;
      least = std::min(least, bytes);
      continue;
    }
    ps.algo = c.algo;
    ps.bytes = bytes;
    ps.ready = true;
    return;
  }
  std::string why = "cuDNN supports no algorithm for it";
  if (supported)
    why = ::loom::detail::str("no ", opt.deterministic ? "deterministic " : "",
                              fma_only && math ? "FMA-math (TF32 off) " : "",
                              "algorithm within the workspace limit of ", mib(limit), " (of ", supported,
                              " supported: ", nondet, " non-deterministic, ", math, " of another math type, ", big,
                              " needing more workspace", big ? ", the least " + mib(least) : std::string(), ")");
  LOOM_THROW(::loom::ErrorKind::Runtime, "conv2d (cuDNN): no algorithm for the ", conv_pass_name(pass), " pass of ",
             e.shapes(), ": ", why);
}

struct Ready {
  cudnnConvolutionDescriptor_t conv;
  int algo;
  size_t bytes;
  void* ws;  // null when bytes == 0
};

// The pass's algorithm (chosen now if this is its first call) and its workspace.
Ready prepare(ConvPass pass, Entry& e, const CudnnConvOptions& opt, int device, cudaStream_t stream,
              const Buffers& bufs, const WorkspaceFn& ws) {
  PassState& ps = e.pass[int(pass)];
  void* got = nullptr;
  size_t got_bytes = 0;
  Ready r{};
  {
    std::lock_guard<std::mutex> lock(ps.mu);
    if (!ps.ready) choose(pass, e, ps, opt, device, stream, bufs, ws, &got, &got_bytes);
    r = {ps.conv, ps.algo, ps.bytes, nullptr};
  }
  if (r.bytes > 0) r.ws = r.bytes <= got_bytes ? got : get_workspace(ws, r.bytes, pass);
  return r;
}

}  // namespace

bool cudnn_available() { return true; }

void cudnn_conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias,
                          const ConvParams& p, bool allow_tf32, const CudnnConvOptions& opt, const WorkspaceFn& ws,
                          int device, cudaStream_t stream) {
  DeviceScope dev(device);
  auto e = lookup(dt, p, allow_tf32, opt, device);
  Ready r = prepare(ConvPass::Forward, *e, opt, device, stream, {in, weight, out}, ws);
  HandleLock h(device, stream);
  LOOM_CUDNN_CHECK(cudnnConvolutionForward(h.get(), e->one(), e->x, in, e->w, weight, r.conv,
                                           cudnnConvolutionFwdAlgo_t(r.algo), r.ws, r.bytes, e->zero(), e->y, out));
  if (bias) LOOM_CUDNN_CHECK(cudnnAddTensor(h.get(), e->one(), e->b, bias, e->one(), e->y, out));
}

void cudnn_conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                                 bool allow_tf32, const CudnnConvOptions& opt, const WorkspaceFn& ws, int device,
                                 cudaStream_t stream) {
  DeviceScope dev(device);
  auto e = lookup(dt, p, allow_tf32, opt, device);
  Ready r = prepare(ConvPass::BackwardData, *e, opt, device, stream, {weight, grad_out, grad_in}, ws);
  HandleLock h(device, stream);
  LOOM_CUDNN_CHECK(cudnnConvolutionBackwardData(h.get(), e->one(), e->w, weight, e->y, grad_out, r.conv,
                                                cudnnConvolutionBwdDataAlgo_t(r.algo), r.ws, r.bytes, e->zero(), e->x,
                                                grad_in));
}

void cudnn_conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                                  const ConvParams& p, bool allow_tf32, const CudnnConvOptions& opt,
                                  const WorkspaceFn& ws, int device, cudaStream_t stream) {
  DeviceScope dev(device);
  auto e = lookup(dt, p, allow_tf32, opt, device);
  Ready r = prepare(ConvPass::BackwardWeight, *e, opt, device, stream, {in, grad_out, grad_weight}, ws);
  HandleLock h(device, stream);
  LOOM_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h.get(), e->one(), e->x, in, e->y, grad_out, r.conv,
                                                  cudnnConvolutionBwdFilterAlgo_t(r.algo), r.ws, r.bytes, e->zero(),
                                                  e->w, grad_weight));
  if (grad_bias)
    LOOM_CUDNN_CHECK(cudnnConvolutionBackwardBias(h.get(), e->one(), e->y, grad_out, e->zero(), e->b, grad_bias));
}

void cudnn_conv_cache_clear() {
  std::map<Key, std::shared_ptr<Entry>> dropped;  // released after the lock
  std::lock_guard<std::mutex> lock(cache().mu);
  dropped.swap(cache().map);
}

std::string cudnn_conv_algo_name(ConvPass pass, DType dt, const ConvParams& p, bool allow_tf32,
                                 const CudnnConvOptions& opt, int device) {
  std::shared_ptr<Entry> e;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.map.find(make_key(dt, p, allow_tf32, opt, device));
    if (it == c.map.end()) return "";
    e = it->second;
  }
  PassState& ps = e->pass[int(pass)];
  std::lock_guard<std::mutex> lock(ps.mu);
  return ps.ready ? algo_name(pass, ps.algo) : "";
}

#else  // no cuDNN

bool cudnn_available() { return false; }

namespace {
[[noreturn]] void no_cudnn() {
  LOOM_THROW(::loom::ErrorKind::Runtime, "conv2d: the cuDNN backend was selected but loom was built without cuDNN");
}
}  // namespace

void cudnn_conv2d_forward(DType, void*, const void*, const void*, const void*, const ConvParams&, bool,
                          const CudnnConvOptions&, const WorkspaceFn&, int, cudaStream_t) {
  no_cudnn();
}
void cudnn_conv2d_backward_input(DType, void*, const void*, const void*, const ConvParams&, bool,
                                 const CudnnConvOptions&, const WorkspaceFn&, int, cudaStream_t) {
  no_cudnn();
}
void cudnn_conv2d_backward_weight(DType, void*, void*, const void*, const void*, const ConvParams&, bool,
                                  const CudnnConvOptions&, const WorkspaceFn&, int, cudaStream_t) {
  no_cudnn();
}
void cudnn_conv_cache_clear() {}
std::string cudnn_conv_algo_name(ConvPass, DType, const ConvParams&, bool, const CudnnConvOptions&, int) { return ""; }

#endif

}  // namespace loom::kernels::cuda
