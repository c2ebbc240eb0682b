// Process-wide switches.
#include <atomic>
#include <omp.h>

#include "core/tensor.h"

namespace loom {

namespace {
std::atomic<bool> g_allow_tf32{false};
}

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow); }
bool allow_tf32() { return g_allow_tf32.load(); }

void set_num_threads(int n) {
  LOOM_CHECK_VALUE(n > 0, "set_num_threads: expected a positive number of threads, got ", n);
  omp_set_num_threads(n);
}
int get_num_threads() { return omp_get_max_threads(); }

}  // namespace loom
