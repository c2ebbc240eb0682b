// CPU CTC loss (kernels/loss.h, CtcParams): the twin of kernels/cuda/ctc.cu.
//
// One sample per task of the thread pool. Forward runs the alpha recursion
// over the sample's T_n time steps and 2 L + 1 extended labels, in log space
// in the input type, and keeps every row of alpha for backward. Backward runs
// beta the other way, then for each time step gathers alpha + beta per class
// (a log-sum-exp over the extended labels that carry it) into a row of C and
// writes the gradient row once. The extended labels, their skip flags (may a
// path jump over the blank before this label?) and the per-class row are
// built once per sample.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/loss.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
constexpr T kNegInf = -std::numeric_limits<T>::infinity();

// log(exp(a) + exp(b)), -inf when both are.
template <typename T>
inline T log_add(T a, T b) {
  const T m = a > b ? a : b;
  if (m == kNegInf<T>) return m;
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// log(exp(a) + exp(b) + exp(c)).
template <typename T>
inline T log_add3(T a, T b, T c) {
  T m = a > b ? a : b;
  m = m > c ? m : c;
  if (m == kNegInf<T>) return m;
  return m + std::log(std::exp(a - m) + std::exp(b - m) + std::exp(c - m));
}

// The extended labels of one sample and whether each may be reached from two
// places back (a label that differs from the one before the blank between).
struct Extended {
  std::vector<int64_t> label;
  std::vector<uint8_t> skip;
  int64_t size() const { return static_cast<int64_t>(label.size()); }
};

// false when a label is outside [0, C) or equal to the blank.
bool extend(Extended& e, const int64_t* tg, int64_t L, const CtcParams& p) {
  e.label.assign(2 * L + 1, p.blank);
  e.skip.assign(2 * L + 1, 0);
  for (int64_t k = 0; k < L; ++k) {
    const int64_t c = tg[k];
    if (c < 0 || c >= p.C || c == p.blank) return false;
    e.label[2 * k + 1] = c;
    e.skip[2 * k + 1] = k > 0 && tg[k - 1] != c;
  }
  return true;
}

template <typename T>
int64_t forward(T* nll, T* log_alpha, const T* lp, const int64_t* targets, const int64_t* lens, const CtcParams& p) {
  const int64_t N = p.N, W = p.width(), TNC = p.N * p.C;
  std::atomic<int64_t> bad{-1};
  detail::parallel_range(N, N * p.T * W, [&](int64_t n0, int64_t n1) {
    Extended e;
    for (int64_t n = n0; n < n1; ++n) {
      const int64_t Tn = lens[n], L = lens[N + n];
      if (!extend(e, targets + lens[2 * N + n], L, p)) {
        int64_t expected = -1;
        bad.compare_exchange_strong(expected, n);
        nll[n] = 0;
        continue;
      }
      const int64_t Sp = e.size();
      if (Tn == 0) {
        nll[n] = L == 0 ? T(0) : std::numeric_limits<T>::infinity();
        continue;
      }
      T* a = log_alpha + n * p.T * W;
      const T* lp0 = lp + n * p.C;
      for (int64_t s = 0; s < Sp; ++s) a[s] = s < 2 ? lp0[e.label[s]] : kNegInf<T>;
      for (int64_t t = 1; t < Tn; ++t) {
        const T* prev = a + (t - 1) * W;
        T* cur = a + t * W;
        const T* lpt = lp + t * TNC + n * p.C;
        cur[0] = prev[0] + lpt[e.label[0]];
        for (int64_t s = 1; s < Sp; ++s) {
          const T two = e.skip[s] ? prev[s - 2] : kNegInf<T>;
          cur[s] = log_add3(prev[s], prev[s - 1], two) + lpt[e.label[s]];
        }
      }
      const T* last = a + (Tn - 1) * W;
      nll[n] = -log_add(last[Sp - 1], Sp > 1 ? last[Sp - 2] : kNegInf<T>);
    }
  });
  return bad.load();
}

template <typename T>
void backward(T* dlp, T* log_beta, const T* grad, const T* lp, const int64_t* targets, const int64_t* lens,
              const T* nll, const T* log_alpha, const CtcParams& p) {
  const int64_t N = p.N, C = p.C, W = p.width(), TNC = p.N * p.C;
  detail::parallel_range(N, N * p.T * (W + C), [&](int64_t n0, int64_t n1) {
    Extended e;
    std::vector<T> lcab(C);
    for (int64_t n = n0; n < n1; ++n) {
      const int64_t Tn = lens[n], L = lens[N + n];
      const bool ok = extend(e, targets + lens[2 * N + n], L, p);
      const T loss = nll[n];
      const bool zero = !ok || Tn == 0 || (p.zero_infinity && std::isinf(loss));
      for (int64_t t = zero ? 0 : Tn; t < p.T; ++t) std::fill_n(dlp + t * TNC + n * C, C, T(0));
      if (zero) continue;
      const int64_t Sp = e.size();
      T* b = log_beta + n * p.T * W;
      const T* a = log_alpha + n * p.T * W;
      {
        T* lastb = b + (Tn - 1) * W;
        const T* lpt = lp + (Tn - 1) * TNC + n * C;
        for (int64_t s = 0; s < Sp; ++s) lastb[s] = s >= Sp - 2 ? lpt[e.label[s]] : kNegInf<T>;
      }
      for (int64_t t = Tn - 2; t >= 0; --t) {
        const T* next = b + (t + 1) * W;
        T* cur = b + t * W;
        const T* lpt = lp + t * TNC + n * C;
        cur[Sp - 1] = next[Sp - 1] + lpt[e.label[Sp - 1]];
        for (int64_t s = Sp - 2; s >= 0; --s) {
          const T two = s + 2 < Sp && e.skip[s + 2] ? next[s + 2] : kNegInf<T>;
          cur[s] = log_add3(next[s], next[s + 1], two) + lpt[e.label[s]];
        }
      }
      const T g = grad[n];
      for (int64_t t = 0; t < Tn; ++t) {
        std::fill(lcab.begin(), lcab.end(), kNegInf<T>);
        const T* at = a + t * W;
        const T* bt = b + t * W;
        for (int64_t s = 0; s < Sp; ++s) lcab[e.label[s]] = log_add(lcab[e.label[s]], at[s] + bt[s]);
        const T* lpt = lp + t * TNC + n * C;
        T* dt = dlp + t * TNC + n * C;
        for (int64_t c = 0; c < C; ++c) dt[c] = lcab[c] == kNegInf<T> ? T(0) : -g * std::exp(lcab[c] + loss - lpt[c]);
      }
    }
  });
}

}  // namespace

int64_t ctc_loss_forward(DType dt, void* nll, void* log_alpha, const void* log_probs, const int64_t* targets,
                         const int64_t* lens, const CtcParams& p) {
  if (p.N <= 0) return -1;
  int64_t bad = -1;
  LOOM_DISPATCH_FLOAT(dt, "ctc_loss", [&] {
    bad = forward(static_cast<scalar_t*>(nll), static_cast<scalar_t*>(log_alpha),
                  static_cast<const scalar_t*>(log_probs), targets, lens, p);
  });
  return bad;
}

void ctc_loss_backward(DType dt, void* dlog_probs, void* log_beta, const void* grad, const void* log_probs,
                       const int64_t* targets, const int64_t* lens, const void* nll, const void* log_alpha,
                       const CtcParams& p) {
  if (p.N <= 0 || p.T <= 0 || p.C <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "ctc_loss_backward", [&] {
    backward(static_cast<scalar_t*>(dlog_probs), static_cast<scalar_t*>(log_beta), static_cast<const scalar_t*>(grad),
             static_cast<const scalar_t*>(log_probs), targets, lens, static_cast<const scalar_t*>(nll),
             static_cast<const scalar_t*>(log_alpha), p);
  });
}

}  // namespace loom::kernels::cpu
