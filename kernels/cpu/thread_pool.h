// The CPU kernels' thread pool. Workers spin briefly for new work and then
// sleep on a condition variable, so an oversubscribed machine (other
// processes, OpenBLAS's own threads) never loses time to busy-waiting
// threads, as OpenMP's default active wait policy does.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace loom::kernels::cpu {

// Runs f(0) .. f(n-1), f(0) on the calling thread; returns when all are done.
// Calls from inside a running task execute inline (no nesting). If tasks
// throw, the first exception is rethrown here after every task has finished.
void parallel_run(int n, const std::function<void(int)>& f);
int pool_threads();            // threads available to kernels, caller included
void set_pool_threads(int n);  // n >= 1
bool in_parallel_region();
// The kernels OpenBLAS runs on this CPU (its core name), and a note when loom
// replaced the generic ones OpenBLAS fell back to (see thread_pool.cpp).
std::string blas_core();

}  // namespace loom::kernels::cpu
