// Allocators. CPU memory is 64-byte aligned host memory. Device memory goes
// through CachingAllocator: freed blocks are kept in per-stream pools keyed by
// rounded size and handed out again, so a steady-state training step makes no
// cudaMalloc/cudaFree calls. The caching logic is written against a Backend so
// the CPU tests exercise it with a host-memory backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace loom {

std::shared_ptr<void> cpu_allocate(size_t nbytes);
struct MemoryStats;
// Host blocks of 1 MiB and more go through a CachingAllocator (no page faults
// in steady state); these report on and release that cache.
MemoryStats cpu_memory_stats();
void cpu_empty_cache();

// What cpu_allocate hands out and gets back (requested bytes, both paths).
// Per thread, so the profiler can attribute bytes to the op running on that
// thread without contention; process-wide for the live total and its peak.
struct CpuAllocCounters {
  uint64_t allocated = 0;
  uint64_t freed = 0;
};
CpuAllocCounters cpu_thread_alloc_counters();
int64_t cpu_live_bytes();
int64_t cpu_peak_live_bytes();     // since the last reset
void cpu_reset_peak_live_bytes();  // peak := live now

struct MemoryStats {
  size_t allocated_bytes = 0;       // handed out to tensors now (rounded sizes)
  size_t reserved_bytes = 0;        // held from the backend (allocated + cached)
  size_t peak_allocated_bytes = 0;  // since the last reset_peak
  size_t peak_reserved_bytes = 0;
  uint64_t num_device_allocs = 0;   // backend allocations made (cudaMalloc calls)
  uint64_t num_device_frees = 0;    // backend frees made
  uint64_t num_alloc_requests = 0;  // allocate() calls
  uint64_t num_cache_hits = 0;      // requests served from the cache
  uint64_t num_ooms = 0;
};

class CachingAllocator {
 public:
  struct Backend {
    virtual ~Backend() = default;
    virtual void* raw_alloc(size_t nbytes) = 0;  // nullptr when out of memory
    virtual void raw_free(void* ptr) = 0;
    virtual size_t free_bytes() { return 0; }  // for error messages
    virtual const char* name() const = 0;      // "CUDA", "host"
  };

  explicit CachingAllocator(std::unique_ptr<Backend> backend);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // A block usable on `stream` (an opaque stream handle; nullptr = default).
  // When the backend fails, cached blocks are released and the call retried
  // once; then an OutOfMemory loom::Error states requested, held and free bytes.
  void* allocate(size_t nbytes, void* stream);
  void free(void* ptr);
  // The same as allocate, returning an owning pointer that frees on release.
  std::shared_ptr<void> allocate_shared(size_t nbytes, void* stream);
  void empty_cache();  // return every cached (unused) block to the backend
  MemoryStats stats() const;
  void reset_peak_stats();

  static size_t round_size(size_t nbytes);

  // With caching off, blocks go straight to and from the backend at their
  // exact size (LOOM_NO_CUDA_MEMORY_CACHING=1 for device memory, to run under
  // a memory checker). Stats are kept either way.
  void set_caching(bool on);
  bool caching() const { return caching_; }

 private:
  struct Block {
    void* ptr;
    size_t size;
    void* stream;
  };
  void release_cached_locked();

  std::unique_ptr<Backend> backend_;
  mutable std::mutex mu_;
  // stream -> (size -> blocks): best fit within the stream's pool.
  std::map<void*, std::multimap<size_t, void*>> pools_;
  std::unordered_map<void*, Block> live_;    // handed out
  std::unordered_map<void*, Block> cached_;  // sitting in a pool
  MemoryStats stats_;
  bool caching_ = true;
};

}  // namespace loom
