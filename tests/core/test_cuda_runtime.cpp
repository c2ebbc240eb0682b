// The CUDA runtime of loom on device 0: memcpy between host, pinned and
// device memory (blocking and not), and the caching device allocator in a
// steady state. Without a device every test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>

#include "test_util.h"

#ifdef LOOM_WITH_CUDA

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/cuda.h"
#include "kernels/pointwise.h"

#include "test_cuda_util.h"
#include "kernels/test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
namespace lc = loom::cuda;           // runtime
namespace kc = loom::kernels::cuda;  // CUDA kernels
using namespace loom::test;

TEST_CASE("cuda memcpy round trips", "[cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu(DeviceType::CUDA, 0);
  std::vector<int32_t> h(100003), back(h.size()), back2(h.size());
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<int32_t>(i * 7 - 3);
  const size_t nb = h.size() * 4;
  auto d1 = lc::allocate(nb, 0), d2 = lc::allocate(nb, 0);
  lc::memcpy(d1.get(), gpu, h.data(), kCPU(), nb);
  lc::memcpy(d2.get(), gpu, d1.get(), gpu, nb);
  lc::memcpy(back.data(), kCPU(), d2.get(), gpu, nb);
  CHECK(back == h);
  // Non-blocking both ways through pinned staging; data usable after a sync.
  std::vector<int32_t> h2(h.rbegin(), h.rend());
  lc::memcpy(d1.get(), gpu, h2.data(), kCPU(), nb, true);
  std::fill(h2.begin(), h2.end(), 0);  // the copy must already own its data
  lc::memcpy(back2.data(), kCPU(), d1.get(), gpu, nb, true);
  lc::synchronize(0);
  CHECK(back2 == std::vector<int32_t>(h.rbegin(), h.rend()));
  // Pinned host memory and host-to-host.
  auto pinned = lc::allocate_pinned(nb);
  lc::memcpy(pinned.get(), kCPU(), d2.get(), gpu, nb, true);
  lc::synchronize(0);
  CHECK(std::memcmp(pinned.get(), h.data(), nb) == 0);
  std::vector<int32_t> h3(h.size());
  lc::memcpy(h3.data(), kCPU(), pinned.get(), kCPU(), nb);
  CHECK(h3 == h);
}

TEST_CASE("cuda caching allocator reaches a steady state", "[cuda]") {
  LOOM_REQUIRE_GPU();
  if (!loom::cuda::device_allocator(0).caching()) SKIP("LOOM_NO_CUDA_MEMORY_CACHING is set: the cache is off");
  const size_t sizes[] = {4, 1000, 100000, 3 << 20, 40 << 20};
  auto step = [&] {
    std::vector<std::shared_ptr<void>> live;
    for (size_t s : sizes) live.push_back(lc::allocate(s, 0));
    kc::fill(DType::Float32, live[2].get(), 1.0, contiguous_loop(25000, 1), stream());
  };
  step();
  lc::synchronize(0);
  auto before = lc::memory_stats(0);
  for (int i = 0; i < 50; ++i) step();
  lc::synchronize(0);
  auto after = lc::memory_stats(0);
  CHECK(after.num_device_allocs == before.num_device_allocs);
  CHECK(after.num_cache_hits >= before.num_cache_hits + 250);
  lc::empty_cache();
  CHECK(lc::memory_stats(0).reserved_bytes <= before.reserved_bytes);
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda runtime", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
