// The CPU kernels' thread pool: every task runs exactly once, regions follow
// each other without mixing, nested regions run inline.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/thread_pool.h"

using namespace loom::kernels::cpu;

TEST_CASE("thread pool runs each task once across many regions", "[core][threads]") {
  for (int threads : {1, 2, 3, 4}) {
    set_pool_threads(threads);
    CHECK(pool_threads() == threads);
    for (int region = 0; region < 2000; ++region) {
      int n = 1 + region % 7;
      std::vector<std::atomic<int>> hits(n);
      parallel_run(n, [&](int i) { hits[i].fetch_add(1); });
      for (int i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
    }
  }
  loom::set_num_threads(2);
  CHECK(loom::get_num_threads() == 2);
  CHECK_THROWS(loom::set_num_threads(0));
}

TEST_CASE("nested parallel regions run inline", "[core][threads]") {
  set_pool_threads(2);
  std::atomic<int> total{0};
  parallel_run(4, [&](int) {
    CHECK(in_parallel_region());
    parallel_run(3, [&](int) { total.fetch_add(1); });
  });
  CHECK(total.load() == 12);
  CHECK_FALSE(in_parallel_region());
}

TEST_CASE("a task that throws ends its region cleanly and the pool stays usable", "[core][threads]") {
  for (int threads : {2, 16}) {
    set_pool_threads(threads);
    for (int region = 0; region < 200; ++region) {
      const int n = 2 + region % 16, bad = region % n;
      std::vector<std::atomic<int>> hits(n);
      // Every task runs (none is abandoned mid-region), then the error reaches the caller.
      CHECK_THROWS_WITH(parallel_run(n,
                                     [&](int i) {
                                       hits[i].fetch_add(1);
                                       if (i == bad) throw std::runtime_error("task failed");
                                     }),
                        "task failed");
      for (int i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
      CHECK_FALSE(in_parallel_region());
    }
    std::atomic<int> total{0};
    parallel_run(8, [&](int) { total.fetch_add(1); });
    CHECK(total.load() == 8);
  }
  loom::set_num_threads(2);
}

TEST_CASE("OpenBLAS runs vector kernels on a CPU with AVX2 or AVX-512", "[core][threads]") {
  const std::string core = blas_core();
  INFO("blas_core: " << core);
  if (core == "not OpenBLAS") SKIP("the BLAS is not OpenBLAS");
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) SKIP("this CPU has no AVX2 with FMA");
  // OpenBLAS's generic cores (what it falls back to for a CPU it does not know)
  for (const char* generic : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                              "Northwood", "Banias", "Nano", "Opteron", "Athlon", "Barcelona"})
    CHECK(core.rfind(generic, 0) != 0);
}
