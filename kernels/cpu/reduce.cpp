// Reductions: out[o] = reduce_r in[o, r] over a ReduceLoop (sum, mean, prod,
// max, min, logsumexp, p-norm), arg max/min with int64 indices, and variance
// with mean.
//
// Each op is an accumulator with step(x, r) (one element at reduced position
// r), row(p, stride, n, r0) (a run of the innermost reduced dim; the simple
// ops give it a simd loop) and merge(other) (combine partial results, the
// other covering later positions). One driver, three schedules:
//  - column: the innermost kept dim is contiguous in the input and the
//    reduced dims are not (a sum over the batch of [N, C]): keep a row of
//    accumulators and stream the input row by row, instead of striding down
//    each column (when there are fewer column blocks than threads, the
//    threads split the reduced range and merge their rows);
//  - per output: enough outputs to keep every thread busy;
//  - split: few outputs (a full sum): each thread reduces a slice of the
//    reduced range, then the partials merge in order.
// Float32 sums, means, norms and variances accumulate in double. Integer
// sums and products wrap. Max/min propagate NaN; arg max/min return the
// first occurrence, and the first NaN beats any number (PyTorch).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>
#include "core/error.h"
#include "kernels/reduce.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// double for floats; uint64 for integers, whose wrap-around is defined.
template <typename T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

template <typename T>
T from_acc(acc_t<T> v) {
  if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v);
  else return static_cast<T>(static_cast<int64_t>(v));
}

// sum f(x[i]) in double over a unit-stride run: 32 lanes (8 vectors of 4 doubles), so that the adds do not
// wait on each other's latency as one vector accumulator would; the lanes are added in a fixed order.
template <typename T, typename F>
LOOM_CPU_CLONES double sum_lanes(const T* x, int64_t n, F f) {
  constexpr int kLanes = 32;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) acc[l] += f(static_cast<double>(x[i + l]));
  }
  for (int l = 0; i < n; ++i, ++l) acc[l] += f(static_cast<double>(x[i]));
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

// The product of a unit-stride run in acc_t<T>, in lanes as sum_lanes (integers wrap: the same product).
template <typename T>
LOOM_CPU_CLONES acc_t<T> prod_lanes(const T* x, int64_t n) {
  constexpr int kLanes = 32;
  acc_t<T> acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = 1;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) acc[l] *= acc_t<T>(x[i + l]);
  }
  for (int l = 0; i < n; ++i, ++l) acc[l] *= acc_t<T>(x[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] *= acc[l + w];
  return acc[0];
}

struct Identity {
  double operator()(double a) const { return a; }
};

template <typename T>
struct SumAcc {
  acc_t<T> v = 0;
  void step(T x, int64_t) { v += acc_t<T>(x); }
  void row(const T* p, int64_t s, int64_t n, int64_t) {
    acc_t<T> t = 0;
    if constexpr (std::is_floating_point_v<T>) {
      if (s == 1) {
        v += sum_lanes(p, n, Identity{});
        return;
      }
    }
    if (s == 1) {
#pragma omp simd reduction(+ : t)
      for (int64_t i = 0; i < n; ++i) t += acc_t<T>(p[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) t += acc_t<T>(p[i * s]);
    }
    v += t;
  }
  void merge(const SumAcc& o) { v += o.v; }
  T result(int64_t) const { return from_acc<T>(v); }
};

template <typename T>
struct MeanAcc : SumAcc<T> {
  void merge(const MeanAcc& o) { this->v += o.v; }
  T result(int64_t n) const { return static_cast<T>(this->v / static_cast<double>(n)); }
};

template <typename T>
struct ProdAcc {
  acc_t<T> v = 1;
  void step(T x, int64_t) { v *= acc_t<T>(x); }
  void row(const T* p, int64_t s, int64_t n, int64_t) {
    if (s == 1 && n >= 64) {
      v *= prod_lanes(p, n);
      return;
    }
    for (int64_t i = 0; i < n; ++i) v *= acc_t<T>(p[i * s]);
  }
  void merge(const ProdAcc& o) { v *= o.v; }
  T result(int64_t) const { return from_acc<T>(v); }
};

// The max (kMax) or min of a unit-stride run folded into *v, in lanes (as sum_lanes); returns whether the run
// holds a NaN (flagged separately, so the comparisons stay branch-free).
template <typename T, bool kMax>
LOOM_CPU_CLONES bool extreme_run(const T* x, int64_t n, T* v) {
  constexpr int kLanes = 32;
  if (n < 2 * kLanes) {  // a short run: the lanes would cost more than they save
    T t = *v;
    int any = 0;
    for (int64_t i = 0; i < n; ++i) {
      t = kMax ? (x[i] > t ? x[i] : t) : (x[i] < t ? x[i] : t);
      any |= x[i] != x[i];
    }
    *v = t;
    return any != 0;
  }
  T acc[kLanes];
  int bad[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    acc[l] = *v;
    bad[l] = 0;
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) {
      const T a = x[i + l];
      acc[l] = kMax ? (a > acc[l] ? a : acc[l]) : (a < acc[l] ? a : acc[l]);
      bad[l] |= a != a;
    }
  }
  for (int l = 0; i < n; ++i, ++l) {
    const T a = x[i];
    acc[l] = kMax ? (a > acc[l] ? a : acc[l]) : (a < acc[l] ? a : acc[l]);
    bad[l] |= a != a;
  }
  T t = acc[0];
  int any = bad[0];
  for (int l = 1; l < kLanes; ++l) {
    t = kMax ? (acc[l] > t ? acc[l] : t) : (acc[l] < t ? acc[l] : t);
    any |= bad[l];
  }
  *v = t;
  return any != 0;
}

// Max (kMax) or min of the numbers. A NaN sticks in v (no comparison with it is true), so the accumulator
// is one value and a row of them (the column schedule) vectorizes; runs use extreme_run and its NaN flag.
template <typename T, bool kMax>
struct ExtremeAcc {
  static constexpr T kLowest =
      std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  static constexpr T kHighest =
      std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  T v = kMax ? kLowest : kHighest;
  void step(T x, int64_t) { v = (kMax ? x > v : x < v) || x != x ? x : v; }
  void row(const T* p, int64_t s, int64_t n, int64_t) {
    if (s == 1) {
      if (extreme_run<T, kMax>(p, n, &v)) v = std::numeric_limits<T>::quiet_NaN();
    } else {
      for (int64_t i = 0; i < n; ++i) step(p[i * s], 0);
    }
  }
  void merge(const ExtremeAcc& o) { step(o.v, 0); }
  T result(int64_t) const { return v; }
};

// The log-sum-exp of one run of n values (stride st) as (max, sum of exp(x - max)):
// a max pass, then a pass of exp_fast (vectorized for float, in the x86-64-v3/v4
// clone) summed in T over blocks of 1024 and in double across blocks. A NaN or
// +inf in the run is only flagged (the result is then NaN or +inf): NaN shows as
// a NaN sum, +inf as the maximum, and only those rare runs are scanned again.
template <typename T>
LOOM_CPU_CLONES void lse_run(const T* p, int64_t st, int64_t n, double* m_out, double* s_out, bool* nan, bool* pinf) {
  constexpr T kInfT = std::numeric_limits<T>::infinity();
  T mx = -kInfT;
  if (st == 1) {
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < n; ++i) mx = p[i] > mx ? p[i] : mx;
  } else {
    for (int64_t i = 0; i < n; ++i) mx = p[i * st] > mx ? p[i * st] : mx;
  }
  *nan = false, *pinf = mx == kInfT, *m_out = static_cast<double>(mx), *s_out = 0;
  if (!(mx > -kInfT) || mx == kInfT) {  // +inf, or every value -inf or NaN: look for a NaN
    for (int64_t i = 0; i < n; ++i) *nan = *nan || p[i * st] != p[i * st];
    return;
  }
  double sum = 0;
  for (int64_t b = 0; b < n; b += 1024) {
    const int64_t e = std::min<int64_t>(n, b + 1024);
    T part = 0;
    if (st == 1) {
#pragma omp simd reduction(+ : part)
      for (int64_t i = b; i < e; ++i) part += detail::exp_fast(p[i] - mx);
    } else {
      for (int64_t i = b; i < e; ++i) part += detail::exp_fast(p[i * st] - mx);
    }
    sum += static_cast<double>(part);
  }
  *nan = sum != sum;
  *s_out = sum;
}

// Online log-sum-exp: s = sum exp(x - m) with m the running max; +inf and NaN
// inputs are flagged instead of entering the sum (inf - inf would be NaN). A
// run of a row goes through lse_run and is merged.
template <typename T>
struct LogSumExpAcc {
  double m = -kInf, s = 0;
  bool nan = false, pinf = false;
  void step(T xt, int64_t) {
    const double x = xt;
    if (!(x > -kInf)) {
      nan |= x != x;
    } else if (x == kInf) {
      pinf = true;
    } else if (x > m) {
      s = s * std::exp(m - x) + 1.0;
      m = x;
    } else {
      s += std::exp(x - m);
    }
  }
  void row(const T* p, int64_t st, int64_t n, int64_t) {
    LogSumExpAcc r;
    lse_run(p, st, n, &r.m, &r.s, &r.nan, &r.pinf);
    merge(r);
  }
  void merge(const LogSumExpAcc& o) {
    nan |= o.nan;
    pinf |= o.pinf;
    if (o.m == -kInf) return;
    if (o.m > m) {
      s = s * std::exp(m - o.m) + o.s;
      m = o.m;
    } else {
      s += o.s * std::exp(o.m - m);
    }
  }
  T result(int64_t) const {
    return static_cast<T>(nan          ? std::numeric_limits<double>::quiet_NaN()
                          : pinf       ? kInf
                          : m == -kInf ? -kInf
                                       : m + std::log(s));
  }
};

enum class NormKind { Zero, One, Two, Inf, NegInf, P };

using detail::HalfIntegerPow;

// sum |x|^p over a unit-stride run for p = k / 2 (HalfIntegerPow, kernels/cpu/branchless.h).
template <typename T>
LOOM_CPU_CLONES double half_integer_pow_sum(const T* x, int64_t n, HalfIntegerPow f) {
  double t = 0;
#pragma omp simd reduction(+ : t)
  for (int64_t i = 0; i < n; ++i) t += f(std::fabs(static_cast<double>(x[i])));
  return t;
}

// sum |x|^p, specialised for the common p so that no pow runs in the loop;
// Inf / NegInf keep max / min |x| (NaN propagates).
template <typename T, NormKind K>
struct NormAcc {
  double v = K == NormKind::NegInf ? kInf : 0.0;
  double p = 0;
  void step(T xt, int64_t) {
    const double a = std::fabs(static_cast<double>(xt));
    if constexpr (K == NormKind::Zero) v += a != 0.0 ? 1.0 : 0.0;
    else if constexpr (K == NormKind::One) v += a;
    else if constexpr (K == NormKind::Two) v += a * a;
    else if constexpr (K == NormKind::Inf) v = (a > v || a != a) ? a : v;
    else if constexpr (K == NormKind::NegInf) v = (a < v || a != a) ? a : v;
    else v += std::pow(a, p);
  }
  void row(const T* x, int64_t s, int64_t n, int64_t) {
    if constexpr (K == NormKind::One || K == NormKind::Two) {
      double t = 0;
      if (s == 1) {
        if constexpr (K == NormKind::One) t = sum_lanes(x, n, [](double a) { return std::fabs(a); });
        else t = sum_lanes(x, n, [](double a) { return a * a; });
      } else {
        for (int64_t i = 0; i < n; ++i) {
          const double a = x[i * s];
          t += K == NormKind::One ? std::fabs(a) : a * a;
        }
      }
      v += t;
    } else if (K == NormKind::P && s == 1 && p > 0 && HalfIntegerPow(p).ok) {
      v += half_integer_pow_sum(x, n, HalfIntegerPow(p));
    } else {
      for (int64_t i = 0; i < n; ++i) step(x[i * s], 0);
    }
  }
  void merge(const NormAcc& o) {
    if constexpr (K == NormKind::Inf) v = (o.v > v || o.v != o.v) ? o.v : v;
    else if constexpr (K == NormKind::NegInf) v = (o.v < v || o.v != o.v) ? o.v : v;
    else v += o.v;
  }
  T result(int64_t) const {
    if constexpr (K == NormKind::Two) return static_cast<T>(std::sqrt(v));
    else if constexpr (K == NormKind::P) return static_cast<T>(std::pow(v, 1.0 / p));
    else return static_cast<T>(v);
  }
};

// Value and index of the max (kMax) or min; `idx < 0` means nothing seen yet.
template <typename T, bool kMax>
struct ArgAcc {
  T v = T(0);
  int64_t idx = -1;
  static bool better(T x, T cur) {
    if (cur != cur) return false;  // the first NaN stays
    return x != x || (kMax ? x > cur : x < cur);
  }
  void step(T x, int64_t r) {
    if (idx < 0 || better(x, v)) {
      v = x;
      idx = r;
    }
  }
  void row(const T* p, int64_t s, int64_t n, int64_t r0) {
    if constexpr (!std::is_same_v<T, bool>) {
      if (s == 1 && n >= 32) {
        // Unit stride: the row's extreme (and whether it holds a NaN) in vector lanes, then the first
        // position holding it (the first NaN when there is one): the element the loop below picks, in
        // two branch-free passes instead of a compare and branch per element.
        const int64_t i = first_extreme(p, n);
        step(p[i], r0 + i);
        return;
      }
    }
    for (int64_t i = 0; i < n; ++i) step(p[i * s], r0 + i);
  }
  static int64_t first_extreme(const T* p, int64_t n) {
    T m = p[0];
    const bool nan = extreme_run<T, kMax>(p, n, &m);
    int64_t i = 0;
    if (nan) {
      while (p[i] == p[i]) ++i;
    } else {
      while (!(p[i] == m)) ++i;
    }
    return i;
  }
  void merge(const ArgAcc& o) {
    if (o.idx >= 0 && (idx < 0 || better(o.v, v))) *this = o;
  }
};

// Count, mean and sum of squared deviations; runs are summed in two passes,
// partials combine with Chan et al.'s formula.
template <typename T>
struct WelfordAcc {
  double n = 0, mean = 0, m2 = 0;
  void step(T xt, int64_t) {
    const double x = xt;
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  void row(const T* p, int64_t s, int64_t cnt, int64_t) {
    if (cnt == 0) return;
    // Two passes on the row shifted by its first element: a constant row gives a mean equal to that element
    // and m2 = 0 exactly (sum / cnt would round: a variance of 1e-32 and a std gradient of order 1).
    const double x0 = static_cast<double>(p[0]);
    double sum = 0, sq = 0;
    if (s == 1) {
      sum = sum_lanes(p, cnt, [x0](double a) { return a - x0; });
    } else {
      for (int64_t i = 0; i < cnt; ++i) sum += static_cast<double>(p[i * s]) - x0;
    }
    const double dmu = sum / static_cast<double>(cnt);
    if (s == 1) {
      sq = sum_lanes(p, cnt, [x0, dmu](double a) { return ((a - x0) - dmu) * ((a - x0) - dmu); });
    } else {
      for (int64_t i = 0; i < cnt; ++i) {
        const double d = (static_cast<double>(p[i * s]) - x0) - dmu;
        sq += d * d;
      }
    }
    merge(WelfordAcc{static_cast<double>(cnt), x0 + dmu, sq});
  }
  void merge(const WelfordAcc& o) {
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double total = n + o.n, d = o.mean - mean;
    mean += d * o.n / total;
    m2 += o.m2 + d * d * n * o.n / total;
    n = total;
  }
};

// One input row into a row of accumulators (the column schedule of `run`), in the vector clones.
template <typename T, typename Acc>
LOOM_CPU_CLONES void column_step(Acc* a, const T* p, int64_t nc, int64_t pos) {
#pragma omp simd
  for (int64_t c = 0; c < nc; ++c) a[c].step(p[c], pos);
}

// A 0-d side (no kept or no reduced dims) becomes one dim of size 1.
ReduceLoop normalized(const ReduceLoop& L) {
  ReduceLoop R = L;
  if (R.out_ndim == 0) {
    R.out_ndim = 1;
    R.out_sizes[0] = 1;
    R.out_strides[0] = R.in_out_strides[0] = 0;
  }
  if (R.red_ndim == 0) {
    R.red_ndim = 1;
    R.red_sizes[0] = 1;
    R.red_strides[0] = 0;
  }
  return R;
}

// Offsets of output o in the output and the input.
void locate(const ReduceLoop& L, int64_t o, int64_t* out_off, int64_t* in_off) {
  int64_t oo = 0, io = 0;
  for (int d = L.out_ndim - 1; d >= 0; --d) {
    const int64_t i = o % L.out_sizes[d];
    o /= L.out_sizes[d];
    oo += i * L.out_strides[d];
    io += i * L.in_out_strides[d];
  }
  *out_off = oo;
  *in_off = io;
}

// Runs the reduction with accumulators copied from `init`; emit(out_off, acc)
// stores each finished output.
template <typename T, typename Acc, typename Emit>
void run(const ReduceLoop& L0, const T* in, const Acc& init, Emit&& emit) {
  const ReduceLoop L = normalized(L0);
  const int64_t out_n = L.out_numel, red_n = L.red_numel;
  if (out_n == 0) return;
  const int64_t work = out_n * std::max<int64_t>(red_n, 1);
  const int rl = L.red_ndim - 1, ol = L.out_ndim - 1;
  const int64_t red_inner_stride = L.red_strides[rl];
  const int64_t(*red_strides)[kMaxDims] = &L.red_strides;
  auto reduce_range = [&](Acc& acc, const T* base, int64_t b, int64_t e) {
    detail::walk<1>(L.red_ndim, L.red_sizes, red_strides, b, e, [&](const int64_t* off, int64_t n, int64_t pos) {
      acc.row(base + off[0], red_inner_stride, n, pos);
    });
  };

  const int64_t cols = L.out_sizes[ol];
  if (L.in_out_strides[ol] == 1 && red_inner_stride != 1 && cols >= 8 && red_n > 1) {
    // As wide as fits ~16 KiB of accumulators (L1): wide blocks read whole
    // input rows, and narrow ones would touch a new page per row and block.
    constexpr int64_t kBlock = std::max<int64_t>(64, 16384 / sizeof(Acc));
    const int64_t nblocks = (cols + kBlock - 1) / kBlock, items = out_n / cols * nblocks;
    // Reduced positions [b, e) of the block at input offset io into a[0, nc).
    auto column_pass = [&](Acc* a, int64_t io, int64_t nc, int64_t b, int64_t e) {
      detail::walk<1>(L.red_ndim, L.red_sizes, red_strides, b, e, [&](const int64_t* off, int64_t n, int64_t pos) {
        for (int64_t j = 0; j < n; ++j) column_step(a, in + io + off[0] + j * red_inner_stride, nc, pos + j);
      });
    };
    // Fewer blocks than threads: the threads split the reduced range instead.
    const int rsplit = items < detail::num_chunks(red_n, work) ? detail::num_chunks(red_n, work) : 1;
    std::vector<std::vector<Acc>> parts(rsplit > 1 ? rsplit : 0);
    auto do_item = [&](int64_t item, std::vector<Acc>& accs) {
      const int64_t c0 = item % nblocks * kBlock, nc = std::min(kBlock, cols - c0);
      int64_t oo, io;
      locate(L, item / nblocks * cols + c0, &oo, &io);
      if (rsplit > 1) {
        for (auto& part : parts) part.assign(nc, init);
        detail::parallel_chunks(red_n, rsplit,
                                [&](int c, int64_t b, int64_t e) { column_pass(parts[c].data(), io, nc, b, e); });
        for (int c = 1; c < rsplit; ++c)
          for (int64_t k = 0; k < nc; ++k) parts[0][k].merge(parts[c][k]);
        accs.swap(parts[0]);
      } else {
        accs.assign(nc, init);
        column_pass(accs.data(), io, nc, 0, red_n);
      }
      for (int64_t c = 0; c < nc; ++c) emit(oo + c * L.out_strides[ol], accs[c]);
    };
    if (rsplit > 1) {
      std::vector<Acc> accs;
      for (int64_t item = 0; item < items; ++item) do_item(item, accs);
    } else {
      detail::parallel_range(items, work, [&](int64_t b, int64_t e) {
        std::vector<Acc> accs;
        for (int64_t item = b; item < e; ++item) do_item(item, accs);
      });
    }
  } else if (out_n >= detail::num_chunks(red_n, work) && L.out_ndim == 1 && L.red_ndim == 1) {
    // Rows of a matrix (the common case): no index arithmetic per output.
    detail::parallel_range(out_n, work, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        Acc acc = init;
        acc.row(in + o * L.in_out_strides[0], red_inner_stride, red_n, 0);
        emit(o * L.out_strides[0], acc);
      }
    });
  } else if (out_n >= detail::num_chunks(red_n, work)) {
    detail::parallel_range(out_n, work, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t oo, io;
        locate(L, o, &oo, &io);
        Acc acc = init;
        reduce_range(acc, in + io, 0, red_n);
        emit(oo, acc);
      }
    });
  } else {
    const int nchunks = detail::num_chunks(red_n, red_n);
    std::vector<Acc> parts;
    for (int64_t o = 0; o < out_n; ++o) {
      int64_t oo, io;
      locate(L, o, &oo, &io);
      parts.assign(nchunks, init);
      detail::parallel_chunks(red_n, nchunks,
                              [&](int c, int64_t b, int64_t e) { reduce_range(parts[c], in + io, b, e); });
      for (int c = 1; c < nchunks; ++c) parts[0].merge(parts[c]);
      emit(oo, parts[0]);
    }
  }
}

// Log-sum-exp down columns (the kept innermost dim contiguous, the reduced ones strided: logsumexp(x, 0) of a
// matrix): the online accumulator would take an exp and a branch per element, so each block of columns takes
// two passes over its rows instead, a column max (a NaN sticks), then sum exp(x - max) in double.
template <typename T>
LOOM_CPU_CLONES void lse_column_max(T* m, const T* p, int64_t nc) {
#pragma omp simd
  for (int64_t c = 0; c < nc; ++c) m[c] = p[c] > m[c] || p[c] != p[c] ? p[c] : m[c];
}

template <typename T>
LOOM_CPU_CLONES void lse_column_sum(double* s, const T* p, const T* m, int64_t nc) {
#pragma omp simd
  for (int64_t c = 0; c < nc; ++c) s[c] += static_cast<double>(detail::exp_fast(static_cast<T>(p[c] - m[c])));
}

template <typename T>
bool lse_columns(T* out, const T* in, const ReduceLoop& L0) {
  const ReduceLoop L = normalized(L0);
  const int ol = L.out_ndim - 1, rl = L.red_ndim - 1;
  const int64_t cols = L.out_sizes[ol], out_n = L.out_numel, red_n = L.red_numel;
  if (!(L.in_out_strides[ol] == 1 && L.red_strides[rl] != 1 && cols >= 8 && red_n > 1 && out_n > 0)) return false;
  // Blocks of at most 1024 columns, narrower when that leaves threads idle.
  const int64_t work = out_n * red_n, rows = out_n / cols;
  const int threads = detail::num_chunks(out_n, work);
  int64_t width = std::min<int64_t>(cols, 1024);
  if (rows * ((cols + width - 1) / width) < threads)
    width = std::max<int64_t>(16, (cols * rows + threads - 1) / threads);
  const int64_t nblocks = (cols + width - 1) / width;
  const int64_t(*red_strides)[kMaxDims] = &L.red_strides;
  detail::parallel_range(rows * nblocks, work, [&](int64_t b, int64_t e) {
    std::vector<T> m(width);
    std::vector<double> s(width);
    for (int64_t item = b; item < e; ++item) {
      const int64_t c0 = item % nblocks * width, nc = std::min(width, cols - c0);
      int64_t oo, io;
      locate(L, item / nblocks * cols + c0, &oo, &io);
      std::fill(m.begin(), m.begin() + nc, -std::numeric_limits<T>::infinity());
      std::fill(s.begin(), s.begin() + nc, 0.0);
      auto pass = [&](bool sum) {
        detail::walk<1>(L.red_ndim, L.red_sizes, red_strides, 0, red_n, [&](const int64_t* off, int64_t n, int64_t) {
          for (int64_t j = 0; j < n; ++j) {
            const T* p = in + io + off[0] + j * L.red_strides[rl];
            if (sum) lse_column_sum(s.data(), p, m.data(), nc);
            else lse_column_max(m.data(), p, nc);
          }
        });
      };
      pass(false);
      pass(true);
      for (int64_t c = 0; c < nc; ++c) {
        const T mc = m[c];
        // NaN, +inf and all -inf columns are their max; the rest m + log(sum).
        out[oo + c * L.out_strides[ol]] =
            mc != mc || std::isinf(mc) ? mc : static_cast<T>(static_cast<double>(mc) + std::log(s[c]));
      }
    }
  });
  return true;
}

template <typename T, typename Acc>
void reduce_with(T* out, const T* in, const ReduceLoop& L, const Acc& init) {
  const int64_t n = L.red_numel;
  run(L, in, init, [&](int64_t oo, const Acc& a) { out[oo] = a.result(n); });
}

template <typename T>
void reduce_norm(T* out, const T* in, const ReduceLoop& L, double p) {
  if (p == 0) return reduce_with(out, in, L, NormAcc<T, NormKind::Zero>{});
  if (p == 1) return reduce_with(out, in, L, NormAcc<T, NormKind::One>{});
  if (p == 2) return reduce_with(out, in, L, NormAcc<T, NormKind::Two>{});
  if (p == kInf) return reduce_with(out, in, L, NormAcc<T, NormKind::Inf>{});
  if (p == -kInf) return reduce_with(out, in, L, NormAcc<T, NormKind::NegInf>{});
  NormAcc<T, NormKind::P> init;
  init.p = p;
  reduce_with(out, in, L, init);
}

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "mean", "prod", "max", "min", "logsumexp", "norm"};
  return names[static_cast<int>(op)];
}

}  // namespace

void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p) {
  const char* name = reduce_name(op);
  LOOM_CHECK_INDEX(loop.red_numel > 0 || loop.out_numel == 0 || (op != ReduceOp::Max && op != ReduceOp::Min), name,
                   ": cannot reduce over an empty dimension (no identity)");
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Prod:
    case ReduceOp::Max:
    case ReduceOp::Min:
      LOOM_DISPATCH_NUMERIC(dt, name, [&] {
        using T = scalar_t;
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(in);
        if (op == ReduceOp::Sum) reduce_with(o, x, loop, SumAcc<T>{});
        else if (op == ReduceOp::Prod) reduce_with(o, x, loop, ProdAcc<T>{});
        else if (op == ReduceOp::Max) reduce_with(o, x, loop, ExtremeAcc<T, true>{});
        else reduce_with(o, x, loop, ExtremeAcc<T, false>{});
      });
      return;
    default:
      LOOM_DISPATCH_FLOAT(dt, name, [&] {
        using T = scalar_t;
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(in);
        if (op == ReduceOp::Mean) reduce_with(o, x, loop, MeanAcc<T>{});
        else if (op == ReduceOp::LogSumExp) {
          if (!lse_columns(o, x, loop)) reduce_with(o, x, loop, LogSumExpAcc<T>{});
        } else reduce_norm(o, x, loop, p);
      });
  }
}

void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop) {
  LOOM_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "arg_reduce: expected max or min, got ", reduce_name(op));
  LOOM_CHECK_INDEX(loop.red_numel > 0 || loop.out_numel == 0, "arg", reduce_name(op),
                   ": cannot reduce over an empty dimension");
  LOOM_DISPATCH_ALL(dt, op == ReduceOp::Max ? "argmax" : "argmin", [&] {
    using T = scalar_t;
    T* v = static_cast<T*>(values);
    auto emit = [&](int64_t oo, const auto& a) {
      if (v) v[oo] = a.v;
      indices[oo] = a.idx;
    };
    const T* x = static_cast<const T*>(in);
    if (op == ReduceOp::Max) run(loop, x, ArgAcc<T, true>{}, emit);
    else run(loop, x, ArgAcc<T, false>{}, emit);
  });
}

void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction) {
  LOOM_DISPATCH_FLOAT(dt, "var_mean", [&] {
    using T = scalar_t;
    T* vo = static_cast<T*>(var);
    T* mo = static_cast<T*>(mean);
    run(loop, static_cast<const T*>(in), WelfordAcc<T>{}, [&](int64_t oo, const WelfordAcc<T>& a) {
      // n <= correction divides by 0 (inf or NaN), as PyTorch does.
      const double dof = std::max(0.0, a.n - static_cast<double>(correction));
      vo[oo] = static_cast<T>(a.m2 / dof);
      if (mo) mo[oo] = static_cast<T>(a.n > 0 ? a.mean : std::numeric_limits<double>::quiet_NaN());
    });
  });
}

namespace {
template <typename T>
void channel_sum_impl(T* out, const T* x, int64_t N, int64_t C, int64_t S) {
  detail::parallel_range(C, N * C * S, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* g = x + (n * C + c) * S;
        // Blocks of 4096 in the input type's lanes, added in double: a plane of 2^20 floats summed in
        // float lanes alone drifts by hundreds of ulp.
        for (int64_t i0 = 0; i0 < S; i0 += 4096) {
          const int64_t m = std::min<int64_t>(4096, S - i0);
          T s = 0;
#pragma omp simd reduction(+ : s)
          for (int64_t i = 0; i < m; ++i) s += g[i0 + i];
          acc += s;
        }
      }
      out[c] = static_cast<T>(acc);
    }
  });
}
}  // namespace

void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S) {
  LOOM_DISPATCH_FLOAT(dt, "channel_sum",
                      [&] { channel_sum_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(x), N, C, S); });
}

}  // namespace loom::kernels::cpu
