// User kernels through NVRTC (core/rtc.h). Compile: NVRTC with
// -arch=sm_XY to a cubin; the kernel's symbol comes from a name expression, so
// templates and C++ names work. Cache: in memory by key (FNV-1a of source,
// name, options, arch and NVRTC's version), and on disk as <key>.cubin (a
// small header: magic, lowered name, log; then the binary), written to a
// temporary file and renamed, ignored (and recompiled) when unreadable.
// Launch: the cubin is loaded per device with cudaLibraryLoadData on first
// use and launched with cudaLaunchKernel, so no driver-API library is linked.
// The parameter list is parsed from the source to check tensors (device,
// dtype) and to pass numbers with the width the kernel expects.
//
// On the CUDA emulator (-DLOOM_CUDA=EMU) the same front end (parsing, keys,
// memory cache, argument checks and packing) drives another back end
// (core/rtc_emu.cpp): the host compiler builds <key>.emu.so, loaded at
// compile time with dlopen, and launch() calls its trampoline, which runs the
// grid on the emulator before returning.
#include "core/rtc.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "core/cuda.h"
#include "core/error.h"
#include "core/profiler.h"

#ifdef LOOM_WITH_CUDA
#include <cuda_runtime.h>  // the CUDA emulator's (emu/include) in an EMU build
#ifdef LOOM_CUDA_EMU
#include "core/rtc_emu.h"
#else
#define LOOM_WITH_NVRTC 1
#include <nvrtc.h>
#endif
#endif

namespace loom::cuda {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Splits at commas outside (), <>, [] and {}.
std::vector<std::string> split_top(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(' || c == '<' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == '>' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Replaces whole identifiers.
std::string substitute(const std::string& s, const std::map<std::string, std::string>& subst) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (ident_char(s[i]) && !std::isdigit(static_cast<unsigned char>(s[i]))) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      const std::string id = s.substr(i, j - i);
      auto it = subst.find(id);
      out += it == subst.end() ? id : it->second;
      i = j;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// The dtype of a scalar type name, with qualifiers removed.
bool scalar_dtype(std::string t, DType* dt, KernelParam::Kind* kind) {
  for (const char* q : {"const", "volatile", "__restrict__", "__restrict", "signed"}) {
    const std::string w(q);
    for (size_t p; (p = t.find(w)) != std::string::npos;) t.erase(p, w.size());
  }
  std::string norm;
  for (char c : t)
    if (!std::isspace(static_cast<unsigned char>(c)) || (!norm.empty() && norm.back() != ' ')) norm += c;
  norm = trim(norm);
  struct Row {
    const char* name;
    DType dt;
    KernelParam::Kind kind;
  };
  static const Row rows[] = {
      {"float", DType::Float32, KernelParam::Kind::Float32},
      {"double", DType::Float64, KernelParam::Kind::Float64},
      {"int", DType::Int32, KernelParam::Kind::Int32},
      {"int32_t", DType::Int32, KernelParam::Kind::Int32},
      {"unsigned", DType::Int32, KernelParam::Kind::Int32},
      {"unsigned int", DType::Int32, KernelParam::Kind::Int32},
      {"uint32_t", DType::Int32, KernelParam::Kind::Int32},
      {"long", DType::Int64, KernelParam::Kind::Int64},
      {"long long", DType::Int64, KernelParam::Kind::Int64},
      {"int64_t", DType::Int64, KernelParam::Kind::Int64},
      {"unsigned long long", DType::Int64, KernelParam::Kind::Int64},
      {"uint64_t", DType::Int64, KernelParam::Kind::Int64},
      {"size_t", DType::Int64, KernelParam::Kind::Int64},
      {"bool", DType::Bool, KernelParam::Kind::Bool},
  };
  for (const auto& r : rows)
    if (norm == r.name) {
      *dt = r.dt;
      *kind = r.kind;
      return true;
    }
  return false;
}

std::mutex g_mu;
std::map<std::string, std::shared_ptr<RtcKernel>> g_memory;

}  // namespace

std::vector<KernelParam> rtc_parse_params(const std::string& source, const std::string& name) {
  const size_t lt = name.find('<');
  const std::string base = trim(name.substr(0, lt));
  std::vector<std::string> targs;
  if (lt != std::string::npos) {
    const size_t gt = name.rfind('>');
    LOOM_CHECK_VALUE(gt != std::string::npos && gt > lt, "compile_kernel: malformed kernel name '", name, "'");
    targs = split_top(name.substr(lt + 1, gt - lt - 1));
  }
  // The __global__ function named `base`: its declaration's parameter list, and
  // the template header right before it (if any).
  for (size_t at = source.find("__global__"); at != std::string::npos; at = source.find("__global__", at + 1)) {
    const size_t open = source.find('(', at);
    if (open == std::string::npos) break;
    size_t e = open;
    while (e > at && std::isspace(static_cast<unsigned char>(source[e - 1]))) --e;
    size_t b = e;
    while (b > at && ident_char(source[b - 1])) --b;
    if (source.substr(b, e - b) != base) continue;
    int depth = 0;
    size_t close = open;
    for (; close < source.size(); ++close) {
      if (source[close] == '(') ++depth;
      if (source[close] == ')' && --depth == 0) break;
    }
    LOOM_CHECK_VALUE(close < source.size(), "compile_kernel: unbalanced parentheses in the parameters of '", base, "'");
    std::map<std::string, std::string> subst;
    const size_t tpl = source.rfind("template", at);
    if (tpl != std::string::npos && source.find(';', tpl) > at && source.find('}', tpl) > at) {
      const size_t tb = source.find('<', tpl), te = source.find('>', tb);
      if (tb != std::string::npos && te != std::string::npos && te < at) {
        const auto tparams = split_top(source.substr(tb + 1, te - tb - 1));
        for (size_t i = 0; i < tparams.size() && i < targs.size(); ++i) {
          size_t k = tparams[i].size();
          while (k > 0 && !ident_char(tparams[i][k - 1])) --k;
          size_t j = k;
          while (j > 0 && ident_char(tparams[i][j - 1])) --j;
          subst[tparams[i].substr(j, k - j)] = targs[i];
        }
      }
    }
    std::vector<KernelParam> out;
    for (std::string p : split_top(source.substr(open + 1, close - open - 1))) {
      if (p == "void") continue;
      const size_t eq = p.find('=');
      if (eq != std::string::npos) p = trim(p.substr(0, eq));
      p = substitute(p, subst);
      KernelParam kp;
      size_t k = p.size();
      while (k > 0 && ident_char(p[k - 1])) --k;
      kp.name = p.substr(k);
      kp.type = trim(p.substr(0, k));
      if (kp.type.empty()) kp.type = kp.name, kp.name.clear();  // unnamed parameter
      const size_t star = kp.type.find('*');
      if (star != std::string::npos) {
        kp.kind = KernelParam::Kind::Pointer;
        KernelParam::Kind ignored;
        kp.pointee_known = scalar_dtype(kp.type.substr(0, star), &kp.pointee, &ignored);
      } else {
        DType dt;
        if (!scalar_dtype(kp.type, &dt, &kp.kind)) kp.kind = KernelParam::Kind::Other;
      }
      out.push_back(kp);
    }
    return out;
  }
  LOOM_THROW(ErrorKind::Value, "compile_kernel: no __global__ function named '", base, "' in the source");
}

KernelArg KernelArg::of(const Tensor& t) {
  KernelArg a;
  a.kind = Kind::Tensor;
  a.tensor = t;
  return a;
}
KernelArg KernelArg::of(int64_t v) {
  KernelArg a;
  a.kind = Kind::Int;
  a.i = v;
  return a;
}
KernelArg KernelArg::of(double v) {
  KernelArg a;
  a.kind = Kind::Float;
  a.f = v;
  return a;
}

std::string rtc_cache_dir() {
  if (const char* d = std::getenv("LOOM_CACHE_DIR"); d && *d) return std::string(d) + "/kernels";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/loom/kernels";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/loom/kernels";
  return "/tmp/loom-cache/kernels";
}

void rtc_clear_memory_cache() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_memory.clear();
}

RtcKernel::RtcKernel(std::string name, std::string lowered, std::string arch, std::string log, std::string cubin,
                     std::vector<KernelParam> params, std::string origin)
    : name_(std::move(name)),
      lowered_(std::move(lowered)),
      arch_(std::move(arch)),
      log_(std::move(log)),
      cubin_(std::move(cubin)),
      params_(std::move(params)),
      origin_(std::move(origin)) {}

void RtcKernel::set_cost(double flops, double bytes) {
  LOOM_CHECK_VALUE(flops >= 0 && bytes >= 0, "set_cost: flops and bytes must be non-negative, got ", flops, " and ",
                   bytes);
  flops_ = flops, bytes_ = bytes;
}

int RtcKernel::check_args(const std::vector<KernelArg>& args) const {
  if (args.size() != params_.size()) {
    std::string sig;
    for (size_t i = 0; i < params_.size(); ++i) sig += (i ? ", " : "") + params_[i].type + " " + params_[i].name;
    LOOM_THROW(ErrorKind::Value, "kernel ", name_, ": expected ", params_.size(), " arguments (", sig, "), got ",
               args.size());
  }
  int device = -1;
  for (size_t i = 0; i < args.size(); ++i) {
    const KernelParam& p = params_[i];
    const KernelArg& a = args[i];
    const std::string what = "kernel " + name_ + ": argument " + std::to_string(i) + " (" + p.type + " " + p.name + ")";
    switch (p.kind) {
      case KernelParam::Kind::Pointer: {
        LOOM_CHECK_TYPE(a.kind == KernelArg::Kind::Tensor, what, " expects a tensor");
        const Tensor& t = a.tensor;
        LOOM_CHECK_VALUE(t.defined() && t.device().is_cuda(), what, " expects a CUDA tensor, got one on ",
                         t.defined() ? t.device().str() : std::string("(undefined)"));
        LOOM_CHECK_TYPE(!p.pointee_known || t.dtype() == p.pointee, what, " expects ", dtype_name(p.pointee),
                        " data, got ", dtype_name(t.dtype()));
        LOOM_CHECK_VALUE(device < 0 || t.device().index == device, what, " is on cuda:", t.device().index,
                         " but an earlier tensor argument is on cuda:", device);
        device = t.device().index;
        break;
      }
      case KernelParam::Kind::Int32:
      case KernelParam::Kind::Int64:
      case KernelParam::Kind::Bool:
        LOOM_CHECK_TYPE(a.kind == KernelArg::Kind::Int, what, " expects an integer");
        if (p.kind == KernelParam::Kind::Int32)
          LOOM_CHECK_VALUE(a.i >= INT32_MIN && a.i <= int64_t(UINT32_MAX), what, ": ", a.i, " does not fit 32 bits");
        break;
      case KernelParam::Kind::Float32:
      case KernelParam::Kind::Float64:
        LOOM_CHECK_TYPE(a.kind != KernelArg::Kind::Tensor, what, " expects a number");
        break;
      case KernelParam::Kind::Other:
        LOOM_THROW(ErrorKind::Type, what, ": loom cannot pass a ", p.type,
                   " (supported: pointers, float, double, int, int64_t, bool)");
    }
  }
  return device;
}

#ifdef LOOM_WITH_CUDA

#ifdef LOOM_WITH_NVRTC
#define LOOM_NVRTC_CHECK(call)                                                               \
  do {                                                                                       \
    nvrtcResult r_ = (call);                                                                 \
    LOOM_CHECK(r_ == NVRTC_SUCCESS, "NVRTC error ", nvrtcGetErrorString(r_), " in ", #call); \
  } while (0)
#endif

bool rtc_available() { return true; }  // NVRTC, or the CUDA emulator's host compiler

std::string rtc_default_arch() {
  if (device_count() > 0) {
    int d = 0, major = 0, minor = 0;
    if (cudaGetDevice(&d) == cudaSuccess &&
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) == cudaSuccess &&
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) == cudaSuccess)
      return "sm_" + std::to_string(major * 10 + minor);
  }
  return "sm_90";
}

namespace {

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void make_dirs(const std::string& dir) {
  std::string partial;
  for (size_t p = 0; p != std::string::npos;) {
    p = dir.find('/', p + 1);
    partial = dir.substr(0, p);
    ::mkdir(partial.c_str(), 0755);
  }
}

#ifdef LOOM_WITH_NVRTC

constexpr const char* kMagic = "LOOMRTC1";

struct Compiled {
  std::string lowered, log, cubin;
};

bool read_disk(const std::string& path, Compiled* c) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::string magic;
  size_t nl = 0, nlog = 0, nbin = 0;
  if (!std::getline(f, magic) || magic != kMagic || !(f >> nl >> nlog >> nbin) || f.get() != '\n') return false;
  if (nl > (1u << 20) || nlog > (64u << 20) || nbin > (1u << 30)) return false;
  std::string buf(nl + nlog + nbin, '\0');
  if (!f.read(buf.data(), std::streamsize(buf.size()))) return false;
  c->lowered = buf.substr(0, nl);
  c->log = buf.substr(nl, nlog);
  c->cubin = buf.substr(nl + nlog);
  return !c->lowered.empty() && !c->cubin.empty();
}

void write_disk(const std::string& dir, const std::string& path, const Compiled& c) {
  // Best effort: a read-only home only costs a recompile next time.
  make_dirs(dir);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return;
    f << kMagic << '\n'
      << c.lowered.size() << ' ' << c.log.size() << ' ' << c.cubin.size() << '\n'
      << c.lowered << c.log << c.cubin;
    if (!f) {
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

Compiled run_nvrtc(const std::string& source, const std::string& name, const std::vector<std::string>& options,
                   const std::string& arch) {
  nvrtcProgram prog = nullptr;
  LOOM_NVRTC_CHECK(nvrtcCreateProgram(&prog, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr));
  struct Destroy {
    nvrtcProgram* p;
    ~Destroy() { nvrtcDestroyProgram(p); }
  } destroy{&prog};
  LOOM_NVRTC_CHECK(nvrtcAddNameExpression(prog, name.c_str()));
  std::vector<std::string> opts = {"-arch=" + arch, "-std=c++17"};
  opts.insert(opts.end(), options.begin(), options.end());
  std::vector<const char*> argv;
  for (const auto& o : opts) argv.push_back(o.c_str());
  const nvrtcResult r = nvrtcCompileProgram(prog, int(argv.size()), argv.data());
  size_t nlog = 0;
  LOOM_NVRTC_CHECK(nvrtcGetProgramLogSize(prog, &nlog));
  Compiled c;
  c.log.assign(nlog, '\0');
  LOOM_NVRTC_CHECK(nvrtcGetProgramLog(prog, c.log.data()));
  while (!c.log.empty() && (c.log.back() == '\0' || c.log.back() == '\n')) c.log.pop_back();
  LOOM_CHECK_VALUE(r == NVRTC_SUCCESS, "compile_kernel: ", name, " does not compile for ", arch, " (",
                   nvrtcGetErrorString(r), "):\n", c.log);
  const char* lowered = nullptr;
  LOOM_NVRTC_CHECK(nvrtcGetLoweredName(prog, name.c_str(), &lowered));
  c.lowered = lowered;
  size_t n = 0;
  LOOM_NVRTC_CHECK(nvrtcGetCUBINSize(prog, &n));
  c.cubin.assign(n, '\0');
  LOOM_NVRTC_CHECK(nvrtcGetCUBIN(prog, c.cubin.data()));
  return c;
}

#else  // the CUDA emulator

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return bool(f) || f.eof();
}

// The emulator's name for a launch ("where", in its messages and launch
// records): kept for the whole process, like the string literals that name
// loom's own launches, since a launch record may outlive the kernel object.
const char* launch_label(const std::string& name) {
  static std::mutex mu;
  static std::set<std::string> labels;
  std::lock_guard<std::mutex> lock(mu);
  return labels.insert(name + " (user kernel)").first->c_str();
}

bool writable_dir(const std::string& dir) {
  make_dirs(dir);
  return ::access(dir.c_str(), W_OK | X_OK) == 0;
}

// Compiles to a unique temporary name, loads it from there, then renames it
// into the cache: another process never sees a half-written file, and a
// loaded file is never overwritten in place. Returns the loaded trampoline.
detail::EmuEntry emu_compile_and_store(const std::string& source, const std::string& name,
                                       const std::vector<KernelParam>& params, const std::vector<std::string>& options,
                                       const std::string& arch, const std::string& final_path, std::string* log,
                                       std::string* binary) {
  static std::atomic<unsigned> serial{0};
  const std::string tmp = final_path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  *log = detail::emu_build(source, name, params, options, arch, tmp);
  std::string why;
  const detail::EmuEntry entry = detail::emu_load(tmp, &why);
  if (!entry) {
    std::remove(tmp.c_str());
    LOOM_THROW(ErrorKind::Runtime, "compile_kernel: the CUDA emulator cannot load the compiled ", name, ": ", why);
  }
  read_file(tmp, binary);
  if (!log->empty()) {  // the warnings, for a later disk hit
    const std::string log_tmp = tmp + ".log";
    std::ofstream f(log_tmp, std::ios::binary | std::ios::trunc);
    f << *log;
    f.close();
    if (!f || std::rename(log_tmp.c_str(), (final_path + ".log").c_str()) != 0) std::remove(log_tmp.c_str());
  }
  if (std::rename(tmp.c_str(), final_path.c_str()) != 0) std::remove(tmp.c_str());  // stays mapped
  return entry;
}

#endif

// More than the default 48 KiB of dynamic shared memory is an opt-in per kernel.
template <typename F>
cudaError_t opt_in_shared_memory(F* kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return cudaSuccess;
  if (bytes > size_t(INT32_MAX)) return cudaErrorInvalidValue;
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes));
}

}  // namespace

#ifdef LOOM_CUDA_EMU
struct RtcKernel::Loaded {
  detail::EmuEntry entry = nullptr;  // loaded by compile()
};
#else
struct RtcKernel::Loaded {
  std::mutex mu;
  std::map<int, std::pair<cudaLibrary_t, cudaKernel_t>> per_device;
};
#endif

RtcKernel::~RtcKernel() = default;  // loaded libraries stay until the process ends (as loom's own kernels)

std::shared_ptr<RtcKernel> RtcKernel::compile(const std::string& source, const std::string& name,
                                              const std::vector<std::string>& options, const std::string& arch_in) {
  LOOM_CHECK_VALUE(!name.empty(), "compile_kernel: the kernel name is empty");
  const std::string arch = arch_in.empty() ? rtc_default_arch() : arch_in;
  LOOM_CHECK_VALUE(arch.rfind("sm_", 0) == 0 && arch.size() > 3,
                   "compile_kernel: expected an architecture like "
                   "'sm_90', got '",
                   arch, "'");
  auto params = rtc_parse_params(source, name);
#ifdef LOOM_WITH_NVRTC
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  const std::string backend = std::to_string(major * 100 + minor);
#else
  // Never the key of a cubin: the emulator's binaries are host shared objects.
  const std::string backend = "emu-" + detail::emu_cache_tag();
#endif
  std::string key_text = source + '\0' + name + '\0' + arch + '\0' + backend;
  for (const auto& o : options) key_text += '\0' + o;
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(fnv1a(key_text)));
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_memory.find(key);
    if (it != g_memory.end()) {
      auto k = std::make_shared<RtcKernel>(name, it->second->lowered_, arch, it->second->log_, it->second->cubin_,
                                           params, "memory");
#ifdef LOOM_CUDA_EMU
      k->loaded_ = std::make_unique<Loaded>(*it->second->loaded_);
#endif
      return k;
    }
  }
  const std::string dir = rtc_cache_dir();
#ifdef LOOM_WITH_NVRTC
  const std::string path = dir + "/" + key + ".cubin";
  Compiled c;
  std::string origin = "disk";
  if (!read_disk(path, &c)) {
    c = run_nvrtc(source, name, options, arch);
    origin = "nvrtc";
    write_disk(dir, path, c);
  }
  auto k = std::make_shared<RtcKernel>(name, c.lowered, arch, c.log, c.cubin, params, origin);
#else
  // <key>.emu.so, loaded straight from the cache; a file that does not load
  // (damaged, or from an incompatible build) is compiled again and replaced.
  const std::string file = std::string(key) + ".emu.so";
  std::string origin = "disk", log, binary, why;
  detail::EmuEntry entry = nullptr;
  if (::access((dir + "/" + file).c_str(), R_OK) == 0 && (entry = detail::emu_load(dir + "/" + file, &why))) {
    read_file(dir + "/" + file, &binary);
    if (!read_file(dir + "/" + file + ".log", &log)) log.clear();
  } else {
    // The file has to go somewhere to be loaded: a private temporary
    // directory when the cache is read-only.
    const std::string out_dir = writable_dir(dir) ? dir : detail::emu_scratch_dir();
    entry = emu_compile_and_store(source, name, params, options, arch, out_dir + "/" + file, &log, &binary);
    origin = "compiler";
  }
  auto k = std::make_shared<RtcKernel>(name, detail::kEmuEntrySymbol, arch, log, binary, params, origin);
  k->loaded_ = std::make_unique<Loaded>();
  k->loaded_->entry = entry;
#endif
  std::lock_guard<std::mutex> lock(g_mu);
  g_memory[key] = k;
  return k;
}

void RtcKernel::launch(Dim3 grid, Dim3 block, const std::vector<KernelArg>& args, size_t shared_mem,
                       void* stream) const {
  profiler::RecordFunction range(name_);  // user kernels show in the profiler under their own name
  if (range.recording() && (flops_ > 0 || bytes_ > 0)) {
    // The declared cost feeds the roofline column; a double pointer makes it an FP64 kernel.
    bool fp64 = false;
    for (const auto& p : params_) fp64 = fp64 || (p.pointee_known && p.pointee == DType::Float64);
    range.set_cost(flops_, bytes_, fp64 ? "fp64" : "fp32");
  }
  int device = check_args(args);
  LOOM_CHECK(device_count() > 0, "kernel ", name_, ": no CUDA device is available to launch it on");
  if (device < 0) device = current_device();
  // Each argument in a slot of its parameter's width.
  std::vector<uint64_t> slots(args.size());
  std::vector<void*> ptrs(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    void* s = &slots[i];
    const KernelArg& a = args[i];
    switch (params_[i].kind) {
      case KernelParam::Kind::Pointer: *static_cast<void**>(s) = a.tensor.data_ptr(); break;
      case KernelParam::Kind::Int32: *static_cast<int32_t*>(s) = static_cast<int32_t>(a.i); break;
      case KernelParam::Kind::Int64: *static_cast<int64_t*>(s) = a.i; break;
      case KernelParam::Kind::Bool: *static_cast<bool*>(s) = a.i != 0; break;
      case KernelParam::Kind::Float32:
        *static_cast<float*>(s) = static_cast<float>(a.kind == KernelArg::Kind::Int ? double(a.i) : a.f);
        break;
      case KernelParam::Kind::Float64:
        *static_cast<double*>(s) = a.kind == KernelArg::Kind::Int ? double(a.i) : a.f;
        break;
      case KernelParam::Kind::Other: break;  // rejected by check_args
    }
    ptrs[i] = s;
  }
  cudaStream_t st = static_cast<cudaStream_t>(stream ? stream : current_stream(device));
#ifdef LOOM_CUDA_EMU
  // The emulator runs the whole grid inside this call, so the profiler range
  // above spans the kernel's execution, not just its launch.
  cudaError_t err = opt_in_shared_memory(loaded_->entry, shared_mem);
  if (err == cudaSuccess) {
    const unsigned dims[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    loaded_->entry(ptrs.data(), dims, shared_mem, st, launch_label(name_));
    err = cudaGetLastError();  // the emulator's failures, as after a real launch
  }
#else
  int prev = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&prev));
  LOOM_CUDA_CHECK(cudaSetDevice(device));
  struct Restore {
    int d;
    ~Restore() { cudaSetDevice(d); }
  } restore{prev};
  cudaKernel_t kernel = nullptr;
  {
    if (!loaded_) {
      std::lock_guard<std::mutex> lock(g_mu);
      if (!loaded_) loaded_ = std::make_unique<Loaded>();
    }
    std::lock_guard<std::mutex> lock(loaded_->mu);
    auto it = loaded_->per_device.find(device);
    if (it == loaded_->per_device.end()) {
      cudaLibrary_t lib = nullptr;
      LOOM_CUDA_CHECK(cudaLibraryLoadData(&lib, cubin_.data(), nullptr, nullptr, 0, nullptr, nullptr, 0));
      cudaKernel_t k = nullptr;
      LOOM_CUDA_CHECK(cudaLibraryGetKernel(&k, lib, lowered_.c_str()));
      it = loaded_->per_device.emplace(device, std::make_pair(lib, k)).first;
    }
    kernel = it->second.second;
  }
  cudaError_t err = opt_in_shared_memory(reinterpret_cast<const void*>(kernel), shared_mem);
  if (err == cudaSuccess)
    err = cudaLaunchKernel(reinterpret_cast<const void*>(kernel), dim3(grid.x, grid.y, grid.z),
                           dim3(block.x, block.y, block.z), ptrs.data(), shared_mem, st);
#endif
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // a refused launch must not fail the next unrelated check
    LOOM_THROW(ErrorKind::Runtime, "kernel ", name_, ": launch with grid (", grid.x, ", ", grid.y, ", ", grid.z,
               ") and block (", block.x, ", ", block.y, ", ", block.z, ")",
               shared_mem ? " and " + std::to_string(shared_mem) + " bytes of dynamic shared memory" : std::string(),
               " failed: ", cudaGetErrorString(err));
  }
}

#else  // no CUDA in this build

bool rtc_available() { return false; }
std::string rtc_default_arch() { return "sm_90"; }

std::shared_ptr<RtcKernel> RtcKernel::compile(const std::string& source, const std::string& name,
                                              const std::vector<std::string>&, const std::string&) {
  rtc_parse_params(source, name);  // source errors first, as with NVRTC
  LOOM_THROW(ErrorKind::Runtime, "compile_kernel: NVRTC is not available in this build (built without CUDA)");
}

struct RtcKernel::Loaded {};
RtcKernel::~RtcKernel() = default;

void RtcKernel::launch(Dim3, Dim3, const std::vector<KernelArg>& args, size_t, void*) const {
  check_args(args);
  LOOM_THROW(ErrorKind::Runtime, "kernel ", name_, ": NVRTC is not available in this build");
}

#endif

}  // namespace loom::cuda
