// loom's CUDA emulator, host side: the fiber scheduler that runs kernels, and
// launches (the CUDA runtime API around them is emu_runtime_api.cpp).
//
// A launch runs its blocks one after another on the calling host thread. A
// block is a set of fibers, one per CUDA thread: on x86-64 a fiber switch is
// a few instructions that swap the callee-saved registers and the stack
// pointer (emu_switch, below); elsewhere it is ucontext's swapcontext, which
// also saves the signal mask with a system call on every switch. The scheduler runs
// every runnable fiber until it blocks at a barrier or returns, in a shuffled
// order that changes from round to round (a missing __syncthreads then shows
// up as a wrong result instead of being hidden by a fixed order), and then
// releases the barriers that every live participant has reached. A barrier
// that can never complete (divergent __syncthreads, a shuffle that names an
// exited lane) fails the launch with a message naming the kernel, block and
// thread; so does a write past the dynamic shared memory. The failure is what
// the next cudaGetLastError returns, and cudaGetErrorString gives the detail.
//
// Launch records: with an observer installed (emu::set_launch_observer) every
// launch is reported after it ran; in dry run (emu::set_dry_run) it is
// reported instead of run. The kernel's address comes from the entry hook
// (__cyg_profile_func_enter, below): the first thread of the first block
// captures it, and in dry run a probe thread enters the kernel only as far as
// the hook, which leaves it before the body runs. emu_launch.cpp turns the
// address into a name and the name into sm_90 resources.
#include <cuda_runtime.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#define LOOM_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOOM_EMU_ASAN 1
#endif
#endif
#ifdef LOOM_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emu_runtime.h"

#if defined(__x86_64__) && !defined(LOOM_EMU_UCONTEXT)
#define LOOM_EMU_FAST_SWITCH 1
#endif

#ifdef LOOM_EMU_FAST_SWITCH
// emu_switch(from, to): saves the callee-saved registers, MXCSR and the x87
// control word on the current stack, stores the stack pointer in *from, loads
// `to` and restores what is saved there (System V x86-64 ABI: every other
// register is the caller's to save).
extern "C" void loom_emu_switch(void** from, void* to);
asm(R"(
  .pushsection .text
  .globl loom_emu_switch
  .hidden loom_emu_switch
  .type loom_emu_switch, @function
loom_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size loom_emu_switch, .-loom_emu_switch
  .popsection
)");

#endif

namespace emu {

// A suspended fiber, or the scheduler while a fiber runs.
#ifdef LOOM_EMU_FAST_SWITCH
// The stack pointer of the suspended context: its callee-saved registers, MXCSR
// and x87 control word are on its stack (emu_switch).
struct Context {
  void* sp = nullptr;
};
#else
struct Context {
  ucontext_t uc;
};
#endif

struct Fiber {
  enum State { kRunnable, kAtBlock, kAtWarp, kDone };
  Context ctx;
  char* stack = nullptr;
  uint3 tid{};
  int linear = 0;
  State state = kRunnable;
  unsigned warp_mask = 0;
};

thread_local Fiber* t_fiber = nullptr;
thread_local uint3 t_thread_idx{};
thread_local BlockState t_block{};
thread_local int t_entry_capture = 0;

namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr int kXchgBytes = 64;    // per lane: enough for an mma's A, B and C fragments
constexpr size_t kCanary = 4096;  // checked after each block

struct Runner {
  Context sched;
  std::vector<Fiber> fibers;
  std::vector<char*> stacks;
  std::vector<unsigned char> xchg;
  std::vector<unsigned char> smem;  // dynamic shared memory + canary
  size_t smem_bytes = 0;
  void (*body)(void*) = nullptr;
  void* ctx = nullptr;
  const char* where = "";
  bool failed = false;
  std::string why;
  std::mt19937 rng{12345};
  const void* entry = nullptr;  // the kernel's address, captured by the entry hook
  bool probing = false;         // dry run: leave the kernel at its entry
};
thread_local Runner t_run;

// Launch records: the observer and dry run, and one word that says whether
// either is on, so a launch without them pays one load.
std::atomic<LaunchObserver> g_observer{nullptr};
std::atomic<bool> g_dry_run{false};
constexpr unsigned kObserved = 1, kDry = 2;
std::atomic<unsigned> g_launch_flags{0};
// Nonzero while some thread waits for a kernel entry: the hook's first test.
std::atomic<int> g_hooks_armed{0};

void update_launch_flags() {
  g_launch_flags.store((g_observer.load() ? kObserved : 0) | (g_dry_run.load() ? kDry : 0));
}

// Under AddressSanitizer every stack switch is announced, so it tracks which
// stack is live (no false reports on fiber stacks, real ones still caught).
#ifdef LOOM_EMU_ASAN
thread_local const void* t_sched_stack = nullptr;
thread_local size_t t_sched_stack_size = 0;
void asan_enter_fiber(const Fiber& f, void** save) { __sanitizer_start_switch_fiber(save, f.stack, kStackBytes); }
void asan_back_in_scheduler(void* save) { __sanitizer_finish_switch_fiber(save, nullptr, nullptr); }
void asan_leave_fiber(void** save) { __sanitizer_start_switch_fiber(save, t_sched_stack, t_sched_stack_size); }
void asan_in_fiber(void* save) { __sanitizer_finish_switch_fiber(save, &t_sched_stack, &t_sched_stack_size); }
#else
void asan_enter_fiber(const Fiber&, void**) {}
void asan_back_in_scheduler(void*) {}
void asan_leave_fiber(void**) {}
void asan_in_fiber(void*) {}
#endif

void fiber_main();

#ifdef LOOM_EMU_FAST_SWITCH
// A new fiber's first switch returns here, with the stack aligned as after a call.
[[noreturn]] void fiber_start();

// Makes f start fiber_main at its first switch: a frame on its stack as
// emu_switch leaves one, with fiber_start as the return address, the current
// MXCSR and x87 control word, and zeros for the registers.
void prepare(Fiber& f) {
#ifdef LOOM_EMU_ASAN
  // A fiber leaves its stack by a switch, never by returning, so the redzones of the frames it had open stay
  // poisoned; the frame written below would land on them.
  __asan_unpoison_memory_region(f.stack, kStackBytes);
#endif
  auto top = (reinterpret_cast<uintptr_t>(f.stack) + kStackBytes) & ~uintptr_t(15);
  auto* w = reinterpret_cast<uint64_t*>(top);
  w[-1] = 0;                                         // fiber_start's (never used) return address
  w[-2] = reinterpret_cast<uint64_t>(&fiber_start);  // where emu_switch returns to
  for (int i = 3; i <= 8; ++i) w[-i] = 0;            // rbp, rbx, r12..r15
  uint32_t csr = 0;
  uint16_t cw = 0;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(csr), "=m"(cw));
  auto* fp = reinterpret_cast<unsigned char*>(&w[-9]);
  std::memcpy(fp, &csr, 4);
  std::memcpy(fp + 4, &cw, 2);
  f.ctx.sp = &w[-9];
}
void switch_to(Context& from, Context& to) { loom_emu_switch(&from.sp, to.sp); }
[[noreturn]] void jump_to(Context& to) {
  void* dead = nullptr;
  loom_emu_switch(&dead, to.sp);
  std::abort();
}
#else
void prepare(Fiber& f) {
  getcontext(&f.ctx.uc);
  f.ctx.uc.uc_stack.ss_sp = f.stack;
  f.ctx.uc.uc_stack.ss_size = kStackBytes;
  f.ctx.uc.uc_link = &t_run.sched.uc;
  makecontext(&f.ctx.uc, fiber_main, 0);
}
void switch_to(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
[[noreturn]] void jump_to(Context& to) {
  setcontext(&to.uc);
  std::abort();
}
#endif

void fail(const std::string& why) {
  Runner& r = t_run;
  if (!r.failed) {
    r.failed = true;
    char buf[160];
    std::snprintf(buf, sizeof buf, " (block %u,%u,%u thread %u,%u,%u)", t_block.block_idx.x, t_block.block_idx.y,
                  t_block.block_idx.z, t_thread_idx.x, t_thread_idx.y, t_thread_idx.z);
    r.why = why + buf;
  }
}

// Leaves the current fiber for the scheduler; returns when it is resumed.
void yield_to_scheduler() {
  Fiber* f = t_fiber;
  void* fake = nullptr;
  asan_leave_fiber(&fake);
  switch_to(f->ctx, t_run.sched);
  asan_in_fiber(fake);
}

// A fiber that fails never resumes: its stack is simply reused.
[[noreturn]] void abandon() {
  Fiber* f = t_fiber;
  f->state = Fiber::kDone;
  asan_leave_fiber(nullptr);  // this stack is dead
  jump_to(t_run.sched);
}

void fiber_main() {
  asan_in_fiber(nullptr);
  Runner& r = t_run;
  r.body(r.ctx);
  t_fiber->state = Fiber::kDone;
  asan_leave_fiber(nullptr);
  // ucontext: returns through uc_link to the scheduler
}

#ifdef LOOM_EMU_FAST_SWITCH
void fiber_start() {
  fiber_main();
  jump_to(t_run.sched);
}
#endif

int block_threads() { return int(t_block.block_dim.x * t_block.block_dim.y * t_block.block_dim.z); }

// Releases the warps whose barrier is complete; reports impossible ones.
bool release_warps() {
  Runner& r = t_run;
  const int n = int(r.fibers.size());
  bool released = false;
  for (int w0 = 0; w0 < n; w0 += 32) {
    const int w1 = std::min(n, w0 + 32);
    unsigned want = 0;
    bool any = false;
    for (int i = w0; i < w1; ++i)
      if (r.fibers[i].state == Fiber::kAtWarp) {
        want |= r.fibers[i].warp_mask;
        any = true;
      }
    if (!any) continue;
    bool complete = true;
    for (int l = 0; l < 32; ++l) {
      if (!(want >> l & 1u)) continue;
      const int i = w0 + l;
      if (i >= w1) {
        t_thread_idx = r.fibers[w0].tid;
        fail(std::string("warp-synchronous call with lane ") + std::to_string(l) +
             " in its mask, but the block has no such thread (block size " + std::to_string(n) + ")");
        return false;
      }
      const Fiber& f = r.fibers[i];
      if (f.state == Fiber::kDone) {
        t_thread_idx = f.tid;
        fail(std::string("warp-synchronous call waits for lane ") + std::to_string(l) + ", which has exited");
        return false;
      }
      if (f.state != Fiber::kAtWarp) complete = false;
    }
    if (!complete) continue;
    for (int i = w0; i < w1; ++i)
      if (r.fibers[i].state == Fiber::kAtWarp) r.fibers[i].state = Fiber::kRunnable;
    released = true;
  }
  return released;
}

void run_block() {
  Runner& r = t_run;
  const int n = block_threads();
  r.fibers.assign(n, Fiber{});
  while (int(r.stacks.size()) < n) r.stacks.push_back(static_cast<char*>(std::malloc(kStackBytes)));
  const unsigned bx = t_block.block_dim.x, by = t_block.block_dim.y;
  for (int i = 0; i < n; ++i) {
    Fiber& f = r.fibers[i];
    f.linear = i;
    f.tid = uint3{unsigned(i) % bx, (unsigned(i) / bx) % by, unsigned(i) / (bx * by)};
    f.stack = r.stacks[i];
    prepare(f);
  }
  if (r.smem_bytes) std::memset(r.smem.data(), 0xff, r.smem_bytes + kCanary);  // NaN-filled like garbage
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  for (;;) {
    std::shuffle(order.begin(), order.end(), r.rng);
    for (int i : order) {
      Fiber& f = r.fibers[i];
      if (f.state != Fiber::kRunnable) continue;
      t_fiber = &f;
      t_thread_idx = f.tid;
      void* fake = nullptr;
      asan_enter_fiber(f, &fake);
      switch_to(r.sched, f.ctx);
      asan_back_in_scheduler(fake);
      if (r.failed) return;
    }
    int live = 0, at_block = 0;
    for (const Fiber& f : r.fibers) {
      live += f.state != Fiber::kDone;
      at_block += f.state == Fiber::kAtBlock;
    }
    if (live == 0) break;
    if (release_warps()) continue;
    if (r.failed) return;
    if (at_block == live) {
      for (Fiber& f : r.fibers)
        if (f.state == Fiber::kAtBlock) f.state = Fiber::kRunnable;
      continue;
    }
    // Nothing can move: some threads wait at __syncthreads, others at a warp barrier.
    for (const Fiber& f : r.fibers)
      if (f.state == Fiber::kAtWarp) {
        t_thread_idx = f.tid;
        break;
      }
    fail("deadlock: some threads wait at __syncthreads while others wait at a warp-synchronous call");
    return;
  }
  if (r.smem_bytes) {
    for (size_t i = 0; i < kCanary; ++i)
      if (r.smem[r.smem_bytes + i] != 0xff) {
        t_thread_idx = uint3{0, 0, 0};
        fail("a thread wrote past the end of the dynamic shared memory (" + std::to_string(r.smem_bytes) +
             " bytes requested at launch)");
        return;
      }
  }
}

}  // namespace

void syncthreads() {
  Fiber* f = t_fiber;
  if (!f) trap("__syncthreads outside a kernel");
  f->state = Fiber::kAtBlock;
  yield_to_scheduler();
}

void syncwarp(unsigned mask) {
  Fiber* f = t_fiber;
  if (!f) trap("__syncwarp outside a kernel");
  if (!(mask >> (f->linear % 32) & 1u)) {
    fail("__syncwarp/shuffle called by a lane that is not in its own mask");
    abandon();
  }
  f->state = Fiber::kAtWarp;
  f->warp_mask = mask;
  yield_to_scheduler();
  if (t_run.failed) abandon();
}

int lane_id() { return t_fiber ? t_fiber->linear % 32 : 0; }

namespace {
// Deposits this lane's bytes in its warp's exchange slots and waits for the
// lanes of the mask; returns the warp's slots.
unsigned char* deposit(unsigned mask, const void* in, int bytes) {
  Fiber* f = t_fiber;
  unsigned char* slots = t_run.xchg.data() + size_t(f->linear / 32) * 32 * kXchgBytes;
  std::memcpy(slots + (f->linear % 32) * kXchgBytes, in, bytes);
  syncwarp(mask);
  return slots;
}
}  // namespace

void warp_exchange(unsigned mask, const void* in, void* out, int bytes, int src_lane) {
  const unsigned char* slots = deposit(mask, in, bytes);
  if (!(mask >> src_lane & 1u)) {
    fail("shuffle reads lane " + std::to_string(src_lane) + ", which is not in the mask");
    abandon();
  }
  std::memcpy(out, slots + src_lane * kXchgBytes, bytes);
  syncwarp(mask);  // nobody deposits again before every lane has read
}

void warp_gather(unsigned mask, const void* in, void* all, int bytes) {
  const unsigned char* slots = deposit(mask, in, bytes);
  for (int l = 0; l < 32; ++l) std::memcpy(static_cast<char*>(all) + l * bytes, slots + l * kXchgBytes, bytes);
  syncwarp(mask);
}

void* dynamic_smem() {
  Runner& r = t_run;
  return r.smem_bytes ? r.smem.data() : nullptr;
}

void trap(const char* why) {
  if (!t_fiber) {
    std::fprintf(stderr, "loom CUDA emulator: %s outside a kernel\n", why);
    std::abort();
  }
  fail(why);
  abandon();
}

namespace {
float tf32_bits(uint32_t u) { return __uint_as_float(u & 0xffffe000u); }
}  // namespace

void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
  struct Frag {
    uint32_t a[4], b[2];
  };
  static_assert(sizeof(Frag) <= kXchgBytes, "exchange slot");
  Frag mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}};
  Frag all[32];
  warp_gather(0xffffffffu, &mine, all, sizeof(Frag));
  // A (16x8, row-major fragments): lane = 4 * (row % 8) + (k % 4); a0: row < 8, k < 4;
  // a1: row >= 8, k < 4; a2: row < 8, k >= 4; a3: row >= 8, k >= 4.
  // B (8x8, column fragments): lane = 4 * n + (k % 4); b0: k < 4, b1: k >= 4.
  // C/D: c0,c1 at row = lane / 4, columns 2 * (lane % 4) + {0, 1}; c2,c3 at row + 8.
  auto A = [&](int row, int k) {
    return tf32_bits(all[4 * (row % 8) + k % 4].a[(row >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]);
  };
  auto B = [&](int k, int n) { return tf32_bits(all[4 * n + k % 4].b[k >= 4 ? 1 : 0]); };
  const int lane = lane_id(), gid = lane / 4, tig = lane % 4;
  for (int i = 0; i < 4; ++i) {
    const int row = gid + (i >= 2 ? 8 : 0), col = 2 * tig + (i & 1);
    float acc = c[i];
    for (int k = 0; k < 8; ++k) acc += A(row, k) * B(k, col);
    d[i] = acc;
  }
}

bool launch_begin(const char* where, const LaunchCfg& cfg) {
  const dim3 g = cfg.grid, b = cfg.block;
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (g.x == 0 || g.y == 0 || g.z == 0 || b.x == 0 || b.y == 0 || b.z == 0 || threads > 1024 || b.z > 64 ||
      g.y > 65535 || g.z > 65535 || g.x > 2147483647u) {
    t_failure = std::string("invalid launch configuration for ") + where + ": grid (" + std::to_string(g.x) + "," +
                std::to_string(g.y) + "," + std::to_string(g.z) + "), block (" + std::to_string(b.x) + "," +
                std::to_string(b.y) + "," + std::to_string(b.z) + ")";
    set_error(cudaErrorInvalidConfiguration);
    return false;
  }
  const size_t limit = dynamic_smem_limit();
  if (cfg.smem > limit) {
    t_failure = std::string("too many resources requested for launch of ") + where + ": " + std::to_string(cfg.smem) +
                " bytes of dynamic shared memory, the limit is " + std::to_string(limit) +
                (limit == kDefaultSmem ? " (raise it with cudaFuncSetAttribute)" : "");
    set_error(cudaErrorLaunchOutOfResources);
    return false;
  }
  return true;
}

namespace {

void execute_grid(const char* where, const LaunchCfg& cfg, void (*body)(void*), void* ctx, bool capture) {
  Runner& r = t_run;
  if (t_fiber) {
    std::fprintf(stderr, "loom CUDA emulator: kernel launched from inside a kernel (%s)\n", where);
    std::abort();
  }
  r.body = body;
  r.ctx = ctx;
  r.where = where;
  r.failed = false;
  r.why.clear();
  r.smem_bytes = cfg.smem;
  if (r.smem.size() < cfg.smem + kCanary) r.smem.resize(cfg.smem + kCanary);
  const size_t warps = (size_t(cfg.block.x) * cfg.block.y * cfg.block.z + 31) / 32;
  if (r.xchg.size() < warps * 32 * kXchgBytes) r.xchg.resize(warps * 32 * kXchgBytes);
  t_block.grid_dim = cfg.grid;
  t_block.block_dim = cfg.block;
  // The first thread of the first block to run captures the kernel's address.
  if (capture) {
    g_hooks_armed.fetch_add(1);
    t_entry_capture = 1;
  }
  for (unsigned z = 0; z < cfg.grid.z && !r.failed; ++z)
    for (unsigned y = 0; y < cfg.grid.y && !r.failed; ++y)
      for (unsigned x = 0; x < cfg.grid.x && !r.failed; ++x) {
        t_block.block_idx = uint3{x, y, z};
        run_block();
        t_entry_capture = 0;  // captured by now, or never (a kernel without hooks)
      }
  if (capture) g_hooks_armed.fetch_sub(1);
  t_entry_capture = 0;
  t_fiber = nullptr;
  if (r.failed) {
    t_failure = std::string("unspecified launch failure in ") + where + ": " + r.why;
    std::fprintf(stderr, "loom CUDA emulator: %s\n", t_failure.c_str());
    set_error(cudaErrorLaunchFailure);
  }
}

// Dry run: the kernel's address without running it. One fiber (thread 0 of
// block 0) calls the launch closure; the entry hook records the kernel's
// address on entry and abandons the fiber there, before the body's first
// statement. Only for launches compiled with hooks: without them the kernel
// would run for that thread.
const void* probe_entry(const char* where, const LaunchCfg& cfg, void (*body)(void*), void* ctx) {
  Runner& r = t_run;
  if (t_fiber) {
    std::fprintf(stderr, "loom CUDA emulator: kernel launched from inside a kernel (%s)\n", where);
    std::abort();
  }
  r.body = body;
  r.ctx = ctx;
  r.where = where;
  r.failed = false;
  r.entry = nullptr;
  r.probing = true;
  if (r.stacks.empty()) r.stacks.push_back(static_cast<char*>(std::malloc(kStackBytes)));
  r.fibers.assign(1, Fiber{});
  Fiber& f = r.fibers[0];
  f.stack = r.stacks[0];
  prepare(f);
  t_block.grid_dim = cfg.grid;
  t_block.block_dim = cfg.block;
  t_block.block_idx = uint3{0, 0, 0};
  g_hooks_armed.fetch_add(1);
  t_entry_capture = 1;
  t_fiber = &f;
  t_thread_idx = f.tid;
  void* fake = nullptr;
  asan_enter_fiber(f, &fake);
  switch_to(r.sched, f.ctx);
  asan_back_in_scheduler(fake);
  t_fiber = nullptr;
  t_entry_capture = 0;
  g_hooks_armed.fetch_sub(1);
  r.probing = false;
  return r.entry;
}

}  // namespace

void run_grid(const char* where, const LaunchCfg& cfg, void (*body)(void*), void* ctx, bool hooked) {
  const unsigned flags = g_launch_flags.load(std::memory_order_relaxed);
  if (flags == 0) {
    execute_grid(where, cfg, body, ctx, false);
    return;
  }
  const LaunchObserver observer = g_observer.load();
  const bool dry = flags & kDry;
  LaunchRecord rec{};
  rec.where = where;
  rec.grid = cfg.grid;
  rec.block = cfg.block;
  rec.dynamic_smem = cfg.smem;
  rec.stream = cfg.stream;
  rec.dry_run = dry;
  rec.start_ns = now_ns();
  const void* entry = nullptr;
  if (dry) {
    if (observer && hooked) entry = probe_entry(where, cfg, body, ctx);
    rec.end_ns = rec.start_ns;
  } else {
    t_run.entry = nullptr;
    execute_grid(where, cfg, body, ctx, observer && hooked);
    entry = t_run.entry;
    rec.end_ns = now_ns();
  }
  if (!observer) return;
  complete_record(rec, entry);
  observer(rec);
}

// The entry hook's second half: the capture itself.
__attribute__((no_instrument_function)) void entry_hook(void* fn) {
  if (t_entry_capture != 2 || !t_fiber) return;
  t_entry_capture = 0;
  t_run.entry = fn;
  if (t_run.probing) abandon();  // back to probe_entry: the kernel body never runs
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LaunchObserver set_launch_observer(LaunchObserver observer) {
  const LaunchObserver old = g_observer.exchange(observer);
  update_launch_flags();
  return old;
}

void set_dry_run(bool on) {
  g_dry_run.store(on);
  update_launch_flags();
}

bool dry_run() { return g_launch_flags.load(std::memory_order_relaxed) & kDry; }

void report_library_call(const char* where, const std::string& name, dim3 grid, dim3 block, cudaStream_t stream,
                         int64_t start_ns, int64_t end_ns) {
  const LaunchObserver observer = g_observer.load();
  if (!observer) return;
  LaunchRecord rec{};
  rec.where = where;
  rec.kernel = name;
  rec.grid = grid;
  rec.block = block;
  rec.stream = stream;
  rec.start_ns = start_ns;
  rec.end_ns = end_ns;
  rec.registers = rec.static_smem = rec.local_bytes = rec.spill_bytes = rec.blocks_per_sm = -1;
  rec.occupancy = rec.waves = -1;
  rec.library = true;
  rec.dry_run = dry_run();
  observer(rec);
}

}  // namespace emu

// The entry hook: kernel files of an EMU build are compiled with
// -finstrument-functions (their device functions exempt), so this runs at the
// entry of every kernel thread and of their host functions. Unless a launch
// waits for a kernel's address it costs one load.
extern "C" __attribute__((no_instrument_function)) void __cyg_profile_func_enter(void* fn, void*) {
  if (emu::g_hooks_armed.load(std::memory_order_relaxed) == 0) return;
  emu::entry_hook(fn);
}
extern "C" __attribute__((no_instrument_function)) void __cyg_profile_func_exit(void*, void*) {}
