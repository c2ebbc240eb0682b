// User kernels on the CUDA emulator (core/rtc_emu.h; -DLOOM_CUDA=EMU only).
//
// There is no device compiler to call, so a user kernel takes the road loom's
// own kernels take in this build (docs/cuda-emu.md): its source gets the one
// rewrite user kernels need from emu/rewrite_launches.py (extern
// __shared__ arrays become the emulator's dynamic shared memory; user kernels
// contain no <<<>>> launches), is wrapped into a translation unit that
// includes the emulator's headers, and is compiled with the host C++ compiler
// loom was built with into a shared object. The rewrite is ported to C++
// because Python may be missing where loom runs. The translation unit ends
// with an extern "C" trampoline that unpacks cudaLaunchKernel-style arguments
// by the parsed parameter list and runs the kernel through emu::launch, so
// configuration checks, barriers, shuffles and failures behave exactly as for
// loom's own kernels. The shared object links libloom (where the emulator
// lives), which both resolves its symbols when loom itself was loaded
// privately (the Python module) and turns a call to something the emulator
// lacks into a compile error instead of a failed load.
#ifdef LOOM_CUDA_EMU

#include "core/rtc_emu.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

#ifndef LOOM_EMU_INCLUDE_DIR
#error "LOOM_EMU_INCLUDE_DIR (the emulator's headers, emu/include) is set by CMakeLists.txt"
#endif
#ifndef LOOM_EMU_CXX
#define LOOM_EMU_CXX "c++"
#endif
#ifndef LOOM_EMU_CXX_FLAGS
#define LOOM_EMU_CXX_FLAGS ""
#endif

extern char** environ;

namespace loom::cuda::detail {

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

size_t skip_space(const std::string& s, size_t i) {
  while (i < s.size() && space(s[i])) ++i;
  return i;
}

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool read_text(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The sanitizer flags loom was built with: an ASan build (docs/cuda-emu.md,
// "Memory errors") then checks the user kernel's accesses as well. Other
// flags of loom's build (-O2, -march, -Werror, ...) are not the kernel's business.
std::vector<std::string> sanitizer_flags() {
  std::vector<std::string> out;
  for (const auto& w : split_words(LOOM_EMU_CXX_FLAGS))
    if (w.rfind("-fsanitize", 0) == 0 || w.rfind("-fno-sanitize", 0) == 0 || w == "-fno-omit-frame-pointer")
      out.push_back(w);
  return out;
}

// libloom's path, to link the kernel against; empty if loom is not a shared library.
std::string libloom_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&emu_cache_tag), &info) && info.dli_fname) {
    const std::string p = info.dli_fname;
    if (p.find(".so") != std::string::npos) return p;
  }
  return "";
}

// NVRTC options that mean something to the host compiler: macros, include
// paths and the language standard. Everything else NVRTC accepts
// (-use_fast_math, -lineinfo, -G, -maxrregcount=N, -arch=..., ...) concerns
// device code generation and is ignored: the emulator computes with the
// host's floating point either way.
std::vector<std::string> host_options(const std::vector<std::string>& options) {
  std::vector<std::string> out;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& o = options[i];
    bool taken = false;
    for (const char* flag : {"-D", "-U", "-I"}) {
      if (o == flag && i + 1 < options.size()) {  // "-D", "N=4" as two entries
        out.push_back(o + options[++i]);
        taken = true;
      } else if (o.size() > 2 && o.compare(0, 2, flag) == 0) {
        out.push_back(o);
        taken = true;
      }
      if (taken) break;
    }
    if (taken) continue;
    for (auto [longer, flag] : {std::pair<const char*, const char*>{"--define-macro=", "-D"},
                                {"--undefine-macro=", "-U"},
                                {"--include-path=", "-I"},
                                {"--std=", "-std="},
                                {"-std=", "-std="}}) {
      const size_t n = std::strlen(longer);
      if (o.size() > n && o.compare(0, n, longer) == 0) {
        out.push_back(flag + o.substr(n));
        break;
      }
    }
  }
  return out;
}

// Runs argv with stdout and stderr into log_path; returns the wait status, or -1 (errno set).
int run_process(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const bool path_search = args[0].find('/') == std::string::npos;
  const int rc = path_search ? posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ)
                             : posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

std::string line_directive(const std::string& file) {
  std::string out = "#line 1 \"";
  for (char c : file) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"\n";
}

}  // namespace

const std::string& emu_cache_tag() {
  // The headers are read once: a changed emulator (another layout of its
  // launch state, say) then never loads a stale shared object from the disk cache.
  static const std::string tag = [] {
    std::string text = std::string("loom-rtc-emu-1\n") + LOOM_EMU_CXX + '\n' + LOOM_EMU_CXX_FLAGS + '\n';
    std::vector<std::string> names;
    if (DIR* d = ::opendir(LOOM_EMU_INCLUDE_DIR)) {
      while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') names.push_back(e->d_name);
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string body;
      read_text(std::string(LOOM_EMU_INCLUDE_DIR) + "/" + n, &body);
      text += n + '\n' + body + '\0';
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(text)));
    return std::string(hex);
  }();
  return tag;
}

std::string emu_rewrite_smem(const std::string& s) {
  std::string out;
  size_t pos = 0;
  for (size_t at = s.find("extern"); at != std::string::npos; at = s.find("extern", at + 1)) {
    if (at < pos || (at > 0 && ident_char(s[at - 1])) || (at + 6 < s.size() && ident_char(s[at + 6]))) continue;
    size_t i = skip_space(s, at + 6);
    if (s.compare(i, 10, "__shared__") != 0 || (i + 10 < s.size() && ident_char(s[i + 10]))) continue;
    i = skip_space(s, i + 10);
    if (s.compare(i, 9, "__align__") == 0) {  // __align__(16): the emulator's buffer is 256-byte aligned
      size_t j = skip_space(s, i + 9);
      if (j >= s.size() || s[j] != '(') continue;
      for (int depth = 0; j < s.size(); ++j) {
        if (s[j] == '(') ++depth;
        if (s[j] == ')' && --depth == 0) break;
      }
      if (j >= s.size()) continue;
      i = skip_space(s, j + 1);
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos) break;
    // What is left must be "T name[]".
    const std::string decl = s.substr(i, semi - i);
    size_t e = decl.size();
    while (e > 0 && space(decl[e - 1])) --e;
    if (e == 0 || decl[e - 1] != ']') continue;
    for (--e; e > 0 && space(decl[e - 1]);) --e;
    if (e == 0 || decl[e - 1] != '[') continue;
    for (--e; e > 0 && space(decl[e - 1]);) --e;
    const size_t name_end = e;
    while (e > 0 && ident_char(decl[e - 1])) --e;
    if (e == name_end) continue;
    const std::string var = decl.substr(e, name_end - e);
    std::string type;
    for (size_t k = 0; k < e; ++k) {  // whitespace runs (newlines too) become one space
      if (space(decl[k])) {
        if (!type.empty() && type.back() != ' ') type += ' ';
      } else {
        type += decl[k];
      }
    }
    while (!type.empty() && type.back() == ' ') type.pop_back();
    const auto type_char = [](char c) { return ident_char(c) || std::strchr(" :*<>,", c) != nullptr; };
    if (type.empty() || !(std::isalpha(static_cast<unsigned char>(type[0])) || type[0] == '_') ||
        !std::all_of(type.begin(), type.end(), type_char))
      continue;
    out.append(s, pos, at - pos);
    out += type + "* " + var + " = reinterpret_cast<" + type + "*>(::emu::dynamic_smem());";
    out.append(size_t(std::count(s.begin() + at, s.begin() + semi, '\n')), '\n');  // later lines keep their numbers
    pos = semi + 1;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string emu_translation_unit(const std::string& source, const std::string& name,
                                 const std::vector<KernelParam>& params) {
  std::ostringstream tu;
  tu << "// loom: the user kernel " << name << " for the CUDA emulator (core/rtc_emu.cpp)\n"
     << "#include <cuda_runtime.h>\n"
     << line_directive(name + ".cu")  // messages name the kernel's source as NVRTC's do
     << emu_rewrite_smem(source);
  if (!source.empty() && source.back() != '\n') tu << '\n';
  tu << line_directive(kEmuEntrySymbol) << "namespace loom_rtc_emu {\n"
     << "// A tensor's data pointer, converting to the pointer type the parameter has.\n"
     << "struct AnyPtr {\n"
     << "  void* p;\n"
     << "  template <typename T>\n"
     << "  operator T*() const { return static_cast<T*>(p); }\n"
     << "};\n"
     << "}  // namespace loom_rtc_emu\n"
     << "extern \"C\" __attribute__((visibility(\"default\"))) void " << kEmuEntrySymbol
     << "(void* const* a, const unsigned* d, size_t smem, void* stream, const char* where) {\n";
  // A parameter loom cannot pass: the kernel compiles (as with NVRTC), but
  // launch() rejects it before calling here, so there is nothing to unpack.
  for (const auto& p : params)
    if (p.kind == KernelParam::Kind::Other) {
      tu << "}\n";
      return tu.str();
    }
  tu << "  ::emu::launch(where, ::emu::LaunchCfg(dim3(d[0], d[1], d[2]), dim3(d[3], d[4], d[5]), smem,\n"
     << "                                      static_cast<cudaStream_t>(stream)),\n"
     << "                [&](auto&... a_) { " << name << "(a_...); }";
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string slot = "a[" + std::to_string(i) + "]";
    tu << ",\n                ";
    switch (params[i].kind) {
      case KernelParam::Kind::Pointer:
        tu << "::loom_rtc_emu::AnyPtr{*static_cast<void* const*>(" << slot << ")}";
        break;
      case KernelParam::Kind::Int32: tu << "*static_cast<const int32_t*>(" << slot << ")"; break;
      case KernelParam::Kind::Int64: tu << "*static_cast<const int64_t*>(" << slot << ")"; break;
      case KernelParam::Kind::Float32: tu << "*static_cast<const float*>(" << slot << ")"; break;
      case KernelParam::Kind::Float64: tu << "*static_cast<const double*>(" << slot << ")"; break;
      case KernelParam::Kind::Bool: tu << "*static_cast<const bool*>(" << slot << ")"; break;
      case KernelParam::Kind::Other: break;  // returned above
    }
  }
  tu << ");\n}\n";
  return tu.str();
}

std::string emu_build(const std::string& source, const std::string& name, const std::vector<KernelParam>& params,
                      const std::vector<std::string>& options, const std::string& arch, const std::string& so_path) {
  const std::string src_path = so_path + ".cpp", log_path = so_path + ".log";
  {
    std::ofstream f(src_path, std::ios::binary | std::ios::trunc);
    f << emu_translation_unit(source, name, params);
    f.close();
    if (!f) {
      std::remove(src_path.c_str());
      LOOM_THROW(ErrorKind::Runtime, "compile_kernel: cannot write ", src_path, " for the CUDA emulator");
    }
  }
  std::vector<std::string> args = {LOOM_EMU_CXX,
                                   "-std=c++17",
                                   "-O1",
                                   "-shared",
                                   "-fPIC",
                                   "-fvisibility=hidden",
                                   "-Wno-unknown-pragmas",
                                   "-DLOOM_CUDA_EMU=1",
                                   "-I" LOOM_EMU_INCLUDE_DIR};
  for (auto& o : host_options(options)) args.push_back(o);
  for (auto& f : sanitizer_flags()) args.push_back(f);
  args.insert(args.end(), {"-o", so_path, src_path});
  if (const std::string lib = libloom_path(); !lib.empty()) args.insert(args.end(), {lib, "-Wl,--no-undefined"});
  const int status = run_process(args, log_path);
  const int err = errno;
  std::string log;
  read_text(log_path, &log);
  std::remove(src_path.c_str());
  std::remove(log_path.c_str());
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.pop_back();
  if (status < 0)
    LOOM_THROW(ErrorKind::Runtime, "compile_kernel: cannot run the host compiler ", LOOM_EMU_CXX,
               " for the CUDA emulator: ", std::strerror(err));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::remove(so_path.c_str());
    const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    LOOM_THROW(ErrorKind::Value, "compile_kernel: ", name, " does not compile for ", arch,
               " (host compiler for the "
               "CUDA emulator, ",
               how, "):\n", log);
  }
  return log;
}

EmuEntry emu_load(const std::string& so_path, std::string* why) {
  void* h = ::dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = ::dlerror();
    *why = e ? e : "dlopen failed";
    return nullptr;
  }
  void* sym = ::dlsym(h, kEmuEntrySymbol);
  if (!sym) {
    *why = std::string("no ") + kEmuEntrySymbol + " in " + so_path;
    ::dlclose(h);  // unloaded, so that a rebuilt file at this path is really loaded
    return nullptr;
  }
  // Never closed: kernels stay loaded until the process ends, as cubins do.
  return reinterpret_cast<EmuEntry>(sym);
}

const std::string& emu_scratch_dir() {
  struct Scratch {
    std::string path;
    Scratch() {
      const char* t = std::getenv("TMPDIR");
      std::string tmpl = std::string(t && *t ? t : "/tmp") + "/loom-rtc-emu-XXXXXX";
      if (::mkdtemp(tmpl.data())) path = tmpl;
    }
    ~Scratch() {  // the loaded shared objects stay mapped after their files are gone
      if (path.empty()) return;
      if (DIR* d = ::opendir(path.c_str())) {
        while (const dirent* e = ::readdir(d))
          if (e->d_name[0] != '.') std::remove((path + "/" + e->d_name).c_str());
        ::closedir(d);
      }
      ::rmdir(path.c_str());
    }
  };
  static Scratch scratch;
  LOOM_CHECK(!scratch.path.empty(),
             "compile_kernel: the CUDA emulator needs a writable directory for compiled "
             "kernels: neither the cache directory nor a temporary one is writable");
  return scratch.path;
}

}  // namespace loom::cuda::detail

#endif  // LOOM_CUDA_EMU
