// loom's CUDA emulator: what a launch record says about a kernel besides its
// configuration (emu_device.h, docs/cuda-emu.md).
//
//  - Its name. The entry hook gives the kernel's address (emu_runtime.cpp);
//    the address is looked up in the ELF symbol table of the object that
//    holds it (.symtab: kernels live in anonymous namespaces, so they are
//    local symbols that dladdr does not see), and the symbol is demangled and
//    cut to what cu++filt prints for nvcc's symbol minus the return type and
//    parameter list, e.g.
//      loom::kernels::cuda::(anonymous namespace)::conv_bias_add_kernel<float>
//    which is how the ptxas table names it too.
//  - Its sm_90 resources, from the table generated at build time
//    (ptxas_resources.py), and the occupancy they allow.
#include <cuda_runtime.h>
#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "emu_runtime.h"

namespace emu {

// The generated table (emu_resources.cpp in the build tree); ends with a null name.
extern const KernelResources kKernelResources[];
extern const size_t kKernelResourcesCount;
extern const char* const kKernelResourcesSource;

namespace {

// ---------------------------------------------------------------- symbols

struct Symbol {
  uintptr_t start, end;  // file-relative (ET_DYN) or absolute (ET_EXEC) addresses
  std::string mangled;
};

// The function symbols of one ELF file, sorted by address.
struct SymbolFile {
  bool relative = true;  // ET_DYN: symbol values are offsets from the load address
  std::vector<Symbol> syms;
};

bool read_at(int fd, void* buf, size_t n, off_t off) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = pread(fd, static_cast<char*>(buf) + done, n - done, off + off_t(done));
    if (r <= 0) return false;
    done += size_t(r);
  }
  return true;
}

std::unique_ptr<SymbolFile> load_symbols(const std::string& path) {
  auto out = std::make_unique<SymbolFile>();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  Elf64_Ehdr eh;
  std::vector<Elf64_Shdr> sh;
  if (read_at(fd, &eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_shentsize == sizeof(Elf64_Shdr)) {
    out->relative = eh.e_type == ET_DYN;
    sh.resize(eh.e_shnum);
    if (!read_at(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), off_t(eh.e_shoff))) sh.clear();
  }
  for (const Elf64_Shdr& s : sh) {
    if (s.sh_type != SHT_SYMTAB || s.sh_link >= sh.size()) continue;
    const Elf64_Shdr& strs = sh[s.sh_link];
    std::vector<Elf64_Sym> syms(s.sh_size / sizeof(Elf64_Sym));
    std::vector<char> names(strs.sh_size + 1, '\0');
    if (!read_at(fd, syms.data(), syms.size() * sizeof(Elf64_Sym), off_t(s.sh_offset)) ||
        !read_at(fd, names.data(), strs.sh_size, off_t(strs.sh_offset)))
      break;
    for (const Elf64_Sym& y : syms) {
      if (ELF64_ST_TYPE(y.st_info) != STT_FUNC || y.st_value == 0 || y.st_name >= strs.sh_size) continue;
      out->syms.push_back(Symbol{uintptr_t(y.st_value), uintptr_t(y.st_value + std::max<uint64_t>(y.st_size, 1)),
                                 std::string(names.data() + y.st_name)});
    }
    break;
  }
  close(fd);
  std::sort(out->syms.begin(), out->syms.end(), [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

// The loaded object holding `addr`: its file and load bias.
struct Owner {
  std::string path;
  uintptr_t bias = 0;
};

bool find_owner(const void* addr, Owner* out) {
  struct Query {
    uintptr_t addr;
    Owner* out;
    bool found;
  } q{reinterpret_cast<uintptr_t>(addr), out, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* q = static_cast<Query*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          const uintptr_t lo = info->dlpi_addr + ph.p_vaddr, hi = lo + ph.p_memsz;
          if (q->addr < lo || q->addr >= hi) continue;
          // The main program has an empty name.
          q->out->path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
          q->out->bias = info->dlpi_addr;
          q->found = true;
          return 1;
        }
        return 0;
      },
      &q);
  return q.found;
}

std::mutex g_mu;
std::map<std::string, std::unique_ptr<SymbolFile>> g_files;

// The mangled name of the function at `addr`, or "".
std::string symbol_at(const void* addr) {
  Owner owner;
  if (!find_owner(addr, &owner)) return "";
  auto& file = g_files[owner.path];
  if (!file) file = load_symbols(owner.path);
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr) - (file->relative ? owner.bias : 0);
  auto it = std::upper_bound(file->syms.begin(), file->syms.end(), a,
                             [](uintptr_t v, const Symbol& s) { return v < s.start; });
  if (it == file->syms.begin()) return "";
  --it;
  return a < it->end ? it->mangled : "";
}

}  // namespace

// Demangled, without " [clone ...]" suffixes, the parameter list and a
// leading "void " (a function template's demangled name carries its return
// type; a kernel's is void).
std::string kernel_name_from_symbol(const std::string& mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string s = status == 0 && d ? d : mangled;
  std::free(d);
  for (size_t c; (c = s.rfind(" [clone ")) != std::string::npos && s.back() == ']';) s.erase(c);
  if (!s.empty() && s.back() == ')') {
    int depth = 0;
    for (size_t i = s.size(); i-- > 0;) {
      if (s[i] == ')') {
        ++depth;
      } else if (s[i] == '(' && --depth == 0) {
        s.erase(i);
        break;
      }
    }
  }
  if (s.compare(0, 5, "void ") == 0) s.erase(0, 5);
  return s;
}

namespace {

struct KernelInfo {
  std::string name;  // empty: unresolved
  bool have_resources = false;
  KernelResources res{};
};

std::unordered_map<const void*, KernelInfo> g_kernels;

const std::unordered_map<std::string, const KernelResources*>& resource_index() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, const KernelResources*>();
    for (const KernelResources* r = kKernelResources; r->name; ++r) (*m)[r->name] = r;
    return m;
  }();
  return *index;
}

}  // namespace

bool kernel_resources(const std::string& kernel, KernelResources* out) {
  const auto& index = resource_index();
  auto it = index.find(kernel);
  if (it == index.end()) return false;
  if (out) *out = *it->second;
  return true;
}

size_t kernel_resource_count() { return kKernelResourcesCount; }
const char* kernel_resource_source() { return kKernelResourcesSource; }

int sm90_blocks_per_sm(int threads, int registers, size_t smem_per_block) {
  constexpr int kWarpsPerSm = 64, kBlocksPerSm = 32, kSubPartitions = 4;
  constexpr int kRegsPerSubPartition = 65536 / kSubPartitions, kRegUnit = 256, kMaxRegsPerThread = 255;
  constexpr size_t kSmemPerSm = 228 * 1024, kReservedPerBlock = 1024, kMaxSmemPerBlock = 227 * 1024;
  constexpr size_t kSmemUnit = 128;
  if (threads <= 0 || registers <= 0) return -1;
  if (threads > 1024 || registers > kMaxRegsPerThread || smem_per_block > kMaxSmemPerBlock) return 0;
  const int warps = (threads + 31) / 32;
  // Registers are allocated per warp in units of 256, and a warp's registers
  // come from one of the SM's four sub-partitions.
  const int regs_per_warp = (registers * 32 + kRegUnit - 1) / kRegUnit * kRegUnit;
  const int warps_by_regs = kRegsPerSubPartition / regs_per_warp * kSubPartitions;
  if (warps * regs_per_warp > 65536) return 0;
  int blocks = std::min(kBlocksPerSm, kWarpsPerSm / warps);
  blocks = std::min(blocks, warps_by_regs / warps);
  const size_t smem = (smem_per_block + kSmemUnit - 1) / kSmemUnit * kSmemUnit + kReservedPerBlock;
  blocks = std::min<int>(blocks, int(kSmemPerSm / smem));
  return blocks;
}

// Fills the record's name and resources (emu_runtime.cpp calls it for every
// observed launch). Names are resolved once per kernel address.
void complete_record(LaunchRecord& rec, const void* entry) {
  KernelInfo info;
  if (entry) {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_kernels.find(entry);
    if (it == g_kernels.end()) {
      KernelInfo k;
      const std::string sym = symbol_at(entry);
      if (!sym.empty()) {
        k.name = kernel_name_from_symbol(sym);
        k.have_resources = kernel_resources(k.name, &k.res);
      }
      it = g_kernels.emplace(entry, std::move(k)).first;
    }
    info = it->second;
  }
  rec.kernel = info.name.empty() ? std::string(rec.where) : info.name;
  rec.registers = rec.static_smem = rec.local_bytes = rec.spill_bytes = rec.blocks_per_sm = -1;
  rec.occupancy = rec.waves = -1;
  if (!info.have_resources) return;
  rec.registers = info.res.registers;
  rec.static_smem = info.res.static_smem;
  rec.local_bytes = info.res.local_bytes;
  rec.spill_bytes = info.res.spill_bytes;
  const int threads = int(rec.block.x * rec.block.y * rec.block.z);
  rec.blocks_per_sm = sm90_blocks_per_sm(threads, rec.registers, size_t(rec.static_smem) + rec.dynamic_smem);
  if (rec.blocks_per_sm > 0) {
    rec.occupancy = rec.blocks_per_sm * ((threads + 31) / 32) / 64.0;
    const double blocks = double(rec.grid.x) * rec.grid.y * rec.grid.z;
    rec.waves = blocks / (double(kSmCount) * rec.blocks_per_sm);
  }
}

}  // namespace emu
