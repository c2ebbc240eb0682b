// CachingAllocator against a host-memory backend that counts raw allocations
// and can refuse them past a byte quota, plus cpu_allocate.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/error.h"

using loom::CachingAllocator;

namespace {

struct Counters {
  int allocs = 0;
  int frees = 0;
  size_t held = 0;
};

class HostBackend : public CachingAllocator::Backend {
 public:
  HostBackend(Counters* c, size_t quota = SIZE_MAX) : c_(c), quota_(quota) {}
  void* raw_alloc(size_t nbytes) override {
    if (c_->held + nbytes > quota_) return nullptr;
    void* p = std::malloc(nbytes);
    if (p) {
      ++c_->allocs;
      c_->held += nbytes;
      sizes_.push_back({p, nbytes});
    }
    return p;
  }
  void raw_free(void* p) override {
    for (auto it = sizes_.begin(); it != sizes_.end(); ++it) {
      if (it->first == p) {
        c_->held -= it->second;
        sizes_.erase(it);
        break;
      }
    }
    ++c_->frees;
    std::free(p);
  }
  size_t free_bytes() override { return quota_ == SIZE_MAX ? 0 : quota_ - c_->held; }
  const char* name() const override { return "host-test"; }

 private:
  Counters* c_;
  size_t quota_;
  std::vector<std::pair<void*, size_t>> sizes_;
};

void* stream_a() { return reinterpret_cast<void*>(uintptr_t(0x10)); }
void* stream_b() { return reinterpret_cast<void*>(uintptr_t(0x20)); }

}  // namespace

TEST_CASE("round_size classes", "[core][allocator]") {
  CHECK(CachingAllocator::round_size(0) == 512);
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::round_size((1 << 20) - 1) == (1 << 20));
  CHECK(CachingAllocator::round_size(1 << 20) == (2 << 20));
  CHECK(CachingAllocator::round_size((2 << 20) + 1) == (4 << 20));
}

TEST_CASE("steady state makes no new raw allocations", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  const size_t sizes[] = {4, 1000, 4096, 70000, 3 << 20};
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<void*> ptrs;
    for (size_t s : sizes) {
      void* p = alloc.allocate(s, nullptr);
      REQUIRE(p != nullptr);
      static_cast<char*>(p)[s - 1] = 1;  // the block really is that large
      ptrs.push_back(p);
    }
    for (void* p : ptrs) alloc.free(p);
  }
  CHECK(c.allocs == 5);
  auto st = alloc.stats();
  CHECK(st.num_device_allocs == 5);
  CHECK(st.num_alloc_requests == 500);
  CHECK(st.num_cache_hits == 495);
  CHECK(st.allocated_bytes == 0);
}

TEST_CASE("blocks are not shared between streams", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  void* p = alloc.allocate(1000, stream_a());
  alloc.free(p);
  void* q = alloc.allocate(1000, stream_b());
  CHECK(q != p);
  CHECK(c.allocs == 2);
  void* r = alloc.allocate(1000, stream_a());
  CHECK(r == p);
  CHECK(c.allocs == 2);
  alloc.free(q);
  alloc.free(r);
}

TEST_CASE("best fit and the 2x rule", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  void* big = alloc.allocate(8 << 20, nullptr);
  void* mid = alloc.allocate(4 << 20, nullptr);
  alloc.free(big);
  alloc.free(mid);
  // 3 MiB rounds to 4 MiB: the 4 MiB block fits best.
  void* p = alloc.allocate(3 << 20, nullptr);
  CHECK(p == mid);
  // 2 MiB may not take the 8 MiB block (more than twice its size).
  void* q = alloc.allocate(2 << 20, nullptr);
  CHECK(q != big);
  CHECK(c.allocs == 3);
  // A small request never takes a large block.
  void* s = alloc.allocate(100, nullptr);
  CHECK(s != big);
  alloc.free(p);
  alloc.free(q);
  alloc.free(s);
}

TEST_CASE("stats track allocated, reserved and peaks", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  void* a = alloc.allocate(1000, nullptr);     // 1024
  void* b = alloc.allocate(3 << 20, nullptr);  // 4 MiB
  auto st = alloc.stats();
  CHECK(st.allocated_bytes == 1024 + (4 << 20));
  CHECK(st.reserved_bytes == 1024 + (4 << 20));
  CHECK(st.num_device_allocs == 2);
  alloc.free(b);
  st = alloc.stats();
  CHECK(st.allocated_bytes == 1024);
  CHECK(st.reserved_bytes == 1024 + (4 << 20));
  CHECK(st.peak_allocated_bytes == 1024 + (4 << 20));
  alloc.reset_peak_stats();
  st = alloc.stats();
  CHECK(st.peak_allocated_bytes == 1024);
  CHECK(st.peak_reserved_bytes == 1024 + (4 << 20));
  alloc.free(a);
}

TEST_CASE("empty_cache returns cached blocks to the backend", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  void* a = alloc.allocate(1000, nullptr);
  void* b = alloc.allocate(5000, stream_a());
  void* live = alloc.allocate(200, nullptr);
  alloc.free(a);
  alloc.free(b);
  alloc.empty_cache();
  CHECK(c.frees == 2);
  auto st = alloc.stats();
  CHECK(st.num_device_frees == 2);
  CHECK(st.reserved_bytes == 512);
  CHECK(st.allocated_bytes == 512);
  alloc.free(live);
}

TEST_CASE("free of null is a no-op, of an unknown pointer an error", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  alloc.free(nullptr);
  int x = 0;
  CHECK_THROWS_AS(alloc.free(&x), loom::Error);
  void* p = alloc.allocate(10, nullptr);
  alloc.free(p);
  CHECK_THROWS_AS(alloc.free(p), loom::Error);  // double free
}

TEST_CASE("allocate_shared frees on release", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  {
    auto p = alloc.allocate_shared(100, nullptr);
    CHECK(alloc.stats().allocated_bytes == 512);
  }
  CHECK(alloc.stats().allocated_bytes == 0);
  CHECK(alloc.stats().reserved_bytes == 512);
}

TEST_CASE("out of memory releases the cache and retries once", "[core][allocator]") {
  Counters c;
  // Room for two 4 MiB blocks.
  CachingAllocator alloc(std::make_unique<HostBackend>(&c, size_t(8) << 20));
  void* a = alloc.allocate(4 << 20, stream_a());
  void* b = alloc.allocate(4 << 20, stream_a());
  alloc.free(a);
  alloc.free(b);
  // Stream B cannot reuse them; the backend is full until the cache is released.
  void* p = alloc.allocate(6 << 20, stream_b());
  REQUIRE(p != nullptr);
  CHECK(c.frees == 2);
  auto st = alloc.stats();
  CHECK(st.num_ooms == 0);
  CHECK(st.reserved_bytes == size_t(6) << 20);

  // Nothing left to release: a clear error naming the sizes.
  try {
    alloc.allocate(5000000, stream_b());
    FAIL("expected an out-of-memory error");
  } catch (const loom::Error& e) {
    CHECK(e.kind() == loom::ErrorKind::OutOfMemory);
    std::string msg = e.what();
    CHECK(msg.find("5000000") != std::string::npos);
    CHECK(msg.find(std::to_string(size_t(6) << 20)) != std::string::npos);  // held by loom
    CHECK(msg.find(std::to_string(size_t(2) << 20)) != std::string::npos);  // backend free bytes
  }
  CHECK(alloc.stats().num_ooms == 1);
  alloc.free(p);
}

TEST_CASE("with caching off, blocks have their exact size and are freed at once", "[core][allocator]") {
  Counters c;
  CachingAllocator alloc(std::make_unique<HostBackend>(&c));
  void* keep = alloc.allocate(4096, nullptr);
  alloc.free(keep);  // cached
  CHECK(c.frees == 0);
  alloc.set_caching(false);  // releases the cache
  CHECK(c.frees == 1);
  CHECK_FALSE(alloc.caching());
  void* p = alloc.allocate(1000, nullptr);
  CHECK(c.held == 1000);  // not rounded up to a size class
  CHECK(alloc.stats().allocated_bytes == 1000);
  alloc.free(p);
  CHECK(c.frees == 2);
  CHECK(c.held == 0);
  CHECK(alloc.stats().reserved_bytes == 0);
  void* q = alloc.allocate(1000, nullptr);
  CHECK(c.allocs == 3);  // no reuse
  alloc.free(q);
}

TEST_CASE("cpu_allocate is 64-byte aligned", "[core][allocator]") {
  for (size_t n : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(1000), size_t(1) << 20}) {
    auto p = loom::cpu_allocate(n);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p.get()) % 64 == 0);
    if (n) static_cast<char*>(p.get())[n - 1] = 7;
  }
}
