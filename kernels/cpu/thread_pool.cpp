#include "kernels/cpu/thread_pool.h"

#include <cblas.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace loom::kernels::cpu {

namespace {

thread_local bool t_in_region = false;

// OpenBLAS runs single-threaded, always: the kernels call it from the pool's
// threads (one product, or one block of one, per thread). Its own workers would
// otherwise spin for the cores for a while after each product, slowing the
// pool's next region. Set when libloom loads (after OpenBLAS's initialization).
const bool g_serial_blas = [] {
  openblas_set_num_threads(1);
  return true;
}();

}  // namespace
}  // namespace loom::kernels::cpu

// OpenBLAS builds for several CPUs at once (DYNAMIC_ARCH, as Debian's) pick
// their kernels from the CPU's family and model when they load. A model newer
// than the library (an Emerald Rapids Xeon under OpenBLAS 0.3.21) falls back
// to the generic "Prescott" SSE3 kernels: a 1024^3 sgemm runs 4.5x slower
// there than on the library's own AVX-512 kernels. These entry points (not in
// cblas.h) re-run that choice; weak, so another BLAS links and loads too.
extern "C" {
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
}

namespace loom::kernels::cpu {
namespace {

// The kernels OpenBLAS falls back to for a CPU it does not know: none of them
// uses AVX2 or AVX-512.
bool generic_core(const std::string& name) {
  for (const char* g : {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                        "northwood", "banias", "nano", "opteron", "opteron_sse3", "athlon", "barcelona", "unknown"})
    if (strcasecmp(name.c_str(), g) == 0) return true;
  return false;
}

// The OpenBLAS kernels this CPU can run at its best, or null if it has neither
// AVX-512 (F, BW, DQ, VL: the SkylakeX kernels) nor AVX2 with FMA (Haswell).
const char* best_core() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SKYLAKEX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "HASWELL";
  return nullptr;
}

std::string g_blas_core_note;

// When OpenBLAS chose generic kernels for a CPU with AVX2 or AVX-512, choose
// again with OPENBLAS_CORETYPE set for the call (and removed after). A user's
// own OPENBLAS_CORETYPE is left as it is.
const bool g_blas_core = [] {
  if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return false;
  const std::string found = openblas_get_corename();
  if (std::getenv("OPENBLAS_CORETYPE") || !generic_core(found)) return false;
  const char* best = best_core();
  if (!best) return false;
  setenv("OPENBLAS_CORETYPE", best, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  g_blas_core_note = "OpenBLAS chose its " + found + " kernels for this CPU; loom selected " + openblas_get_corename();
  openblas_set_num_threads(1);
  return true;
}();

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int n, const std::function<void(int)>& f) {
    std::lock_guard<std::mutex> serial(run_mu_);  // one region at a time
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &f;
      njobs_ = n;
      next_.store(1, std::memory_order_relaxed);
      done_.store(0, std::memory_order_relaxed);
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    cv_work_.notify_all();
    t_in_region = true;
    run_task(0);
    int finished = 1 + drain();
    t_in_region = false;
    done_.fetch_add(finished - 1, std::memory_order_acq_rel);
    // Wait for the tasks other threads took, and for every worker that joined
    // this region to leave it (so none can touch the next region's state).
    auto finished_all = [&] { return done_.load(std::memory_order_acquire) >= n - 1 && active_ == 0; };
    for (int spin = 0; spin < 4000; ++spin) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (finished_all()) {
          finish_locked();
          return;
        }
      }
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_done_.wait(lock, finished_all);
    finish_locked();
  }

 private:
  // A task that throws (std::bad_alloc of a scratch buffer, say) must not
  // end a worker thread (std::terminate) nor leave the region early while
  // other threads still run `f`: the first exception is kept and rethrown by
  // run() on the calling thread once every task has finished.
  void run_task(int i) {
    try {
      (*job_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
  void finish_locked() {
    job_ = nullptr;
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lock(error_mu_);
      std::swap(e, error_);
    }
    if (e) std::rethrow_exception(e);
  }

  // Takes and runs tasks until none are left; returns how many it ran.
  int drain() {
    int ran = 0;
    for (;;) {
      int i = next_.fetch_add(1, std::memory_order_acq_rel);
      if (i >= njobs_) return ran;
      run_task(i);
      ++ran;
    }
  }

  // Before sleeping, a worker watches for the next region for a short while:
  // an op's kernels, and an RNN's steps, follow one another within
  // microseconds, and waking a sleeping thread costs tens of them. Short, so
  // an idle pool leaves the cores to others (the pause instruction between
  // looks, no busy OS yield).
  void await_work(uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 0; published_.load(std::memory_order_acquire) == seen; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return;
    }
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      await_work(seen);
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        if (!job_) continue;
        ++active_;
      }
      t_in_region = true;
      int ran = drain();
      t_in_region = false;
      done_.fetch_add(ran, std::memory_order_acq_rel);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      cv_done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_, run_mu_, error_mu_;
  std::exception_ptr error_;
  std::condition_variable cv_work_, cv_done_;
  static constexpr int kSpinMicros = 50;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> published_{0};  // generation_, readable without the lock
  bool stop_ = false;
  const std::function<void(int)>* job_ = nullptr;
  int njobs_ = 0;
  int active_ = 0;  // workers inside the current region (guarded by mu_)
  std::atomic<int> next_{0};
  std::atomic<int> done_{0};
};

std::mutex g_pool_mu;
std::shared_ptr<Pool>& pool_slot() {
  static std::shared_ptr<Pool> pool;
  return pool;
}

std::shared_ptr<Pool> get_pool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  auto& p = pool_slot();
  if (!p) p = std::make_shared<Pool>(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return p;
}

}  // namespace

void parallel_run(int n, const std::function<void(int)>& f) {
  if (n <= 0) return;
  if (n == 1 || t_in_region) {
    for (int i = 0; i < n; ++i) f(i);
    return;
  }
  get_pool()->run(n, f);
}

int pool_threads() { return get_pool()->threads(); }

void set_pool_threads(int n) {
  LOOM_CHECK_VALUE(n >= 1, "set_num_threads: expected a positive number of threads, got ", n);
  std::lock_guard<std::mutex> lock(g_pool_mu);
  auto& p = pool_slot();
  if (p && p->threads() == n) return;
  p = std::make_shared<Pool>(n);
}

bool in_parallel_region() { return t_in_region; }

std::string blas_core() {
  (void)g_blas_core;
  std::string name = openblas_get_corename ? openblas_get_corename() : "not OpenBLAS";
  return g_blas_core_note.empty() ? name : name + " (" + g_blas_core_note + ")";
}

}  // namespace loom::kernels::cpu
