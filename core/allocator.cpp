// CPU allocation and the caching allocator.
//
// Size classes (round_size): requests below 1 MiB round up to a multiple of
// 512 bytes, larger ones to a multiple of 2 MiB. Small classes keep waste
// under 512 bytes per tensor; large ones make blocks of neighbouring sizes
// interchangeable so a training step whose shapes vary a little still hits
// the cache. Every cached block is handed out only for a request whose rounded
// size is at least half the block's size, so a small tensor never pins a huge
// block (and the small and large classes never mix).
//
// Blocks are never split or merged: a block is one backend allocation. That
// keeps free() O(log n) and the bookkeeping obvious; the 2x rule bounds the
// waste that splitting would otherwise recover.
#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/error.h"

namespace loom {

namespace {
constexpr size_t kCpuAlignment = 64;
constexpr size_t kSmallLimit = size_t(1) << 20;  // 1 MiB
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t(2) << 20;  // 2 MiB

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }
}  // namespace

namespace {

struct HostBackend : CachingAllocator::Backend {
  void* raw_alloc(size_t nbytes) override { return std::aligned_alloc(kCpuAlignment, round_up(nbytes, kCpuAlignment)); }
  void raw_free(void* ptr) override { std::free(ptr); }
  const char* name() const override { return "CPU"; }
};

// Large host blocks are cached: glibc serves them with mmap, so every fresh
// one costs page faults on first touch (~10 % of a layer_norm step). Leaked on
// purpose, like the device allocators, so that tensors released during static
// destruction still find it.
constexpr size_t kCpuCacheMin = size_t(1) << 20;
CachingAllocator& host_cache() {
  static CachingAllocator* cache = new CachingAllocator(std::make_unique<HostBackend>());
  return *cache;
}

thread_local CpuAllocCounters t_counters;
std::atomic<int64_t> g_live_bytes{0};
std::atomic<int64_t> g_peak_live_bytes{0};

void count_alloc(size_t nbytes) {
  t_counters.allocated += nbytes;
  const int64_t live =
      g_live_bytes.fetch_add(static_cast<int64_t>(nbytes), std::memory_order_relaxed) + static_cast<int64_t>(nbytes);
  int64_t peak = g_peak_live_bytes.load(std::memory_order_relaxed);
  while (live > peak && !g_peak_live_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
}
void count_free(size_t nbytes) {
  t_counters.freed += nbytes;
  g_live_bytes.fetch_sub(static_cast<int64_t>(nbytes), std::memory_order_relaxed);
}

}  // namespace

CpuAllocCounters cpu_thread_alloc_counters() { return t_counters; }
int64_t cpu_live_bytes() { return g_live_bytes.load(std::memory_order_relaxed); }
int64_t cpu_peak_live_bytes() { return g_peak_live_bytes.load(std::memory_order_relaxed); }
void cpu_reset_peak_live_bytes() { g_peak_live_bytes.store(cpu_live_bytes(), std::memory_order_relaxed); }

std::shared_ptr<void> cpu_allocate(size_t nbytes) {
  if (nbytes >= kCpuCacheMin) {
    void* p = host_cache().allocate(nbytes, nullptr);
    count_alloc(nbytes);
    return std::shared_ptr<void>(p, [nbytes](void* q) {
      count_free(nbytes);
      host_cache().free(q);
    });
  }
  // aligned_alloc needs a size that is a multiple of the alignment; a zero
  // request still gets a real (unique, freeable) pointer.
  size_t size = round_up(nbytes == 0 ? 1 : nbytes, kCpuAlignment);
  LOOM_CHECK_KIND(size >= nbytes, ErrorKind::OutOfMemory, "cpu_allocate: ", nbytes, " bytes is too large");
  void* p = std::aligned_alloc(kCpuAlignment, size);
  LOOM_CHECK_KIND(p != nullptr, ErrorKind::OutOfMemory, "CPU out of memory: tried to allocate ", nbytes, " bytes");
  count_alloc(nbytes);
  return std::shared_ptr<void>(p, [nbytes](void* q) {
    count_free(nbytes);
    std::free(q);
  });
}

MemoryStats cpu_memory_stats() { return host_cache().stats(); }
void cpu_empty_cache() { host_cache().empty_cache(); }

CachingAllocator::CachingAllocator(std::unique_ptr<Backend> backend) : backend_(std::move(backend)) {}

CachingAllocator::~CachingAllocator() {
  // Live blocks are left alone: a tensor may still point at one, and its
  // deleter must not run into freed memory. Cached blocks go back.
  std::lock_guard<std::mutex> lock(mu_);
  try {
    release_cached_locked();
  } catch (...) {
  }
}

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes == 0) return kSmallRound;
  if (nbytes < kSmallLimit) return round_up(nbytes, kSmallRound);
  return round_up(nbytes, kLargeRound);
}

void* CachingAllocator::allocate(size_t nbytes, void* stream) {
  // Without caching every block has its exact size, so a memory checker sees
  // an access one element past the end.
  size_t size = caching_ ? round_size(nbytes) : (nbytes ? nbytes : 1);
  LOOM_CHECK_KIND(size >= nbytes, ErrorKind::OutOfMemory, backend_->name(), " allocator: ", nbytes,
                  " bytes is too large");
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.num_alloc_requests;

  auto pool_it = caching_ ? pools_.find(stream) : pools_.end();
  if (pool_it != pools_.end()) {
    auto& pool = pool_it->second;
    auto it = pool.lower_bound(size);  // best fit: the smallest block that is big enough
    if (it != pool.end() && it->first / 2 <= size) {
      void* ptr = it->second;
      pool.erase(it);
      auto node = cached_.extract(ptr);
      Block block = node.mapped();
      live_.emplace(ptr, block);
      ++stats_.num_cache_hits;
      stats_.allocated_bytes += block.size;
      if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
      return ptr;
    }
  }

  void* ptr = backend_->raw_alloc(size);
  if (ptr == nullptr && !cached_.empty()) {
    release_cached_locked();
    ptr = backend_->raw_alloc(size);
  }
  if (ptr == nullptr) {
    ++stats_.num_ooms;
    LOOM_THROW(ErrorKind::OutOfMemory, backend_->name(), " out of memory: tried to allocate ", nbytes, " bytes (", size,
               " rounded); loom holds ", stats_.reserved_bytes, " bytes reserved, of which ", stats_.allocated_bytes,
               " bytes are in use; the backend reports ", backend_->free_bytes(), " bytes free");
  }
  live_.emplace(ptr, Block{ptr, size, stream});
  ++stats_.num_device_allocs;
  stats_.allocated_bytes += size;
  stats_.reserved_bytes += size;
  if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
  if (stats_.reserved_bytes > stats_.peak_reserved_bytes) stats_.peak_reserved_bytes = stats_.reserved_bytes;
  return ptr;
}

void CachingAllocator::free(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto node = live_.extract(ptr);
  LOOM_CHECK_VALUE(!node.empty(), backend_->name(), " allocator: free of pointer ", ptr,
                   " that this allocator did not hand out (or that was already freed)");
  Block block = node.mapped();
  stats_.allocated_bytes -= block.size;
  if (!caching_) {
    backend_->raw_free(ptr);
    stats_.reserved_bytes -= block.size;
    ++stats_.num_device_frees;
    return;
  }
  // The block goes back to the pool of the stream it was allocated on: work
  // queued on that stream is ordered before any later use from the same pool.
  pools_[block.stream].emplace(block.size, ptr);
  cached_.emplace(ptr, block);
}

std::shared_ptr<void> CachingAllocator::allocate_shared(size_t nbytes, void* stream) {
  void* ptr = allocate(nbytes, stream);
  return std::shared_ptr<void>(ptr, [this](void* p) { free(p); });
}

void CachingAllocator::set_caching(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  caching_ = on;
  if (!on) release_cached_locked();
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& entry : cached_) {
    backend_->raw_free(entry.first);
    stats_.reserved_bytes -= entry.second.size;
    ++stats_.num_device_frees;
  }
  cached_.clear();
  pools_.clear();
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

}  // namespace loom
