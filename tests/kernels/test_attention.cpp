// Fused attention kernels: the CPU kernel against a naive float64 reference
// that materializes the full score matrix (masks, causal, dropout drawn from
// the same Philox elements), forward and backward, with P recomputed by the
// backward and with P kept by the forward; CUDA against CPU.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/attention.h"
#include "test_util.h"
#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using loom::DType;
using loom::kernels::AttentionParams;
using loom::test::check_close;
using loom::test::random_doubles;

namespace {

struct Ref {
  std::vector<double> out, lse, dq, dk, dv;
  std::vector<double> P;  // [B, H, Lq, Lk], the softmax before dropout (0 on fully masked rows)
};

// Plain loops over the full [Lq, Lk] weights per (b, h).
Ref naive(const AttentionParams& p, const std::vector<double>& q, const std::vector<double>& k,
          const std::vector<double>& v, const std::vector<double>& dout, const std::vector<double>& mask) {
  const int64_t Lq = p.Lq, Lk = p.Lk, D = p.D, Dv = p.Dv;
  const double ninf = -std::numeric_limits<double>::infinity();
  Ref r;
  r.out.assign(p.B * p.H * Lq * Dv, 0);
  r.lse.assign(p.B * p.H * Lq, ninf);
  r.dq.assign(q.size(), 0);
  r.dk.assign(k.size(), 0);
  r.dv.assign(v.size(), 0);
  r.P.assign(p.B * p.H * Lq * Lk, 0);
  const double keep = p.dropout_p < 1 ? 1 / (1 - p.dropout_p) : 0;
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.H; ++h) {
      const int64_t bh = b * p.H + h;
      for (int64_t i = 0; i < Lq; ++i) {
        std::vector<double> s(Lk), P(Lk, 0), Z(Lk, 1), dP(Lk);
        double mx = ninf;
        for (int64_t j = 0; j < Lk; ++j) {
          double acc = 0;
          for (int64_t d = 0; d < D; ++d) acc += q[(bh * Lq + i) * D + d] * k[(bh * Lk + j) * D + d];
          s[j] = acc * p.scale;
          if (p.causal && j > i) s[j] = ninf;
          if (!mask.empty()) {
            double m = mask[b * p.mask_stride[0] + h * p.mask_stride[1] + i * p.mask_stride[2] + j * p.mask_stride[3]];
            if (p.mask_is_bool) {
              if (m == 0) s[j] = ninf;
            } else {
              s[j] += m;
            }
          }
          mx = std::max(mx, s[j]);
          if (p.dropout_p > 0) {
            uint64_t e = static_cast<uint64_t>((bh * Lq + i) * Lk + j);
            Z[j] = loom::kernels::attention_dropout_uniform(p.seed, p.offset, e) >= static_cast<float>(p.dropout_p)
                       ? keep
                       : 0;
          }
        }
        if (mx == ninf) continue;  // fully masked row: zeros everywhere
        double sum = 0;
        for (int64_t j = 0; j < Lk; ++j) sum += std::exp(s[j] - mx);
        r.lse[bh * Lq + i] = mx + std::log(sum);
        for (int64_t j = 0; j < Lk; ++j) P[j] = std::exp(s[j] - mx) / sum;
        std::copy(P.begin(), P.end(), r.P.begin() + (bh * Lq + i) * Lk);
        for (int64_t j = 0; j < Lk; ++j)
          for (int64_t d = 0; d < Dv; ++d) r.out[(bh * Lq + i) * Dv + d] += P[j] * Z[j] * v[(bh * Lk + j) * Dv + d];
        // backward of this row
        const double* g = &dout[(bh * Lq + i) * Dv];
        double dot = 0;
        for (int64_t j = 0; j < Lk; ++j) {
          double a = 0;
          for (int64_t d = 0; d < Dv; ++d) a += g[d] * v[(bh * Lk + j) * Dv + d];
          dP[j] = a * Z[j];
          dot += P[j] * dP[j];
          for (int64_t d = 0; d < Dv; ++d) r.dv[(bh * Lk + j) * Dv + d] += P[j] * Z[j] * g[d];
        }
        for (int64_t j = 0; j < Lk; ++j) {
          double ds = P[j] * (dP[j] - dot) * p.scale;
          for (int64_t d = 0; d < D; ++d) {
            r.dq[(bh * Lq + i) * D + d] += ds * k[(bh * Lk + j) * D + d];
            r.dk[(bh * Lk + j) * D + d] += ds * q[(bh * Lq + i) * D + d];
          }
        }
      }
    }
  return r;
}

struct Case {
  int64_t B, H, Lq, Lk, D, Dv;
  bool causal = false;
  int mask = 0;  // 0 none, 1 bool [B,1,1,Lk] key padding, 2 float [Lq,Lk], 3 bool full [B,H,Lq,Lk]
  double dropout = 0;
};

struct Inputs {
  AttentionParams p;
  std::vector<double> q, k, v, dout, mask;
};

Inputs make(const Case& c, uint32_t seed) {
  Inputs in;
  AttentionParams& p = in.p;
  p.B = c.B, p.H = c.H, p.Lq = c.Lq, p.Lk = c.Lk, p.D = c.D, p.Dv = c.Dv;
  p.scale = 1.0 / std::sqrt(double(c.D));
  p.causal = c.causal;
  p.dropout_p = c.dropout;
  p.seed = 1234 + seed;
  p.offset = 77;
  in.q = random_doubles(c.B * c.H * c.Lq * c.D, -2, 2, seed);
  in.k = random_doubles(c.B * c.H * c.Lk * c.D, -2, 2, seed + 1);
  in.v = random_doubles(c.B * c.H * c.Lk * c.Dv, -1, 1, seed + 2);
  in.dout = random_doubles(c.B * c.H * c.Lq * c.Dv, -1, 1, seed + 3);
  if (c.mask == 1) {  // key padding: batch b keeps its first Lk - 3*b keys (the last batch may lose all)
    in.mask.assign(c.B * c.Lk, 0);
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t j = 0; j < c.Lk - 3 * b; ++j) in.mask[b * c.Lk + j] = 1;
    p.mask_is_bool = true;
    p.mask_stride[0] = c.Lk, p.mask_stride[1] = 0, p.mask_stride[2] = 0, p.mask_stride[3] = 1;
  } else if (c.mask == 2) {
    in.mask = random_doubles(c.Lq * c.Lk, -3, 1, seed + 4);
    p.mask_stride[0] = 0, p.mask_stride[1] = 0, p.mask_stride[2] = c.Lk, p.mask_stride[3] = 1;
  } else if (c.mask == 3) {
    auto r = random_doubles(c.B * c.H * c.Lq * c.Lk, 0, 1, seed + 5);
    for (auto& x : r) x = x < 0.3 ? 0 : 1;
    in.mask = r;
    p.mask_is_bool = true;
    p.mask_stride[0] = c.H * c.Lq * c.Lk, p.mask_stride[1] = c.Lq * c.Lk, p.mask_stride[2] = c.Lk, p.mask_stride[3] = 1;
  }
  return in;
}

template <typename T>
void run_cpu(const Case& c, double atol, double rtol) {
  Inputs in = make(c, 11);
  Ref r = naive(in.p, in.q, in.k, in.v, in.dout, in.mask);
  auto cv = [](const std::vector<double>& x) { return std::vector<T>(x.begin(), x.end()); };
  std::vector<T> q = cv(in.q), k = cv(in.k), v = cv(in.v), dout = cv(in.dout);
  std::vector<T> fmask = cv(in.mask);
  std::vector<uint8_t> bmask(in.mask.begin(), in.mask.end());
  AttentionParams p = in.p;
  if (!in.mask.empty()) p.mask = p.mask_is_bool ? static_cast<const void*>(bmask.data()) : fmask.data();
  std::vector<T> out(r.out.size()), lse(r.lse.size()), dq(q.size()), dk(k.size()), dv(v.size());
  DType dt = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  loom::kernels::cpu::attention_forward(dt, out.data(), lse.data(), q.data(), k.data(), v.data(), p);
  check_close(out, r.out, atol, rtol, "out");
  check_close(lse, r.lse, atol, rtol, "lse");
  loom::kernels::cpu::attention_backward(dt, dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                                         out.data(), lse.data(), p);
  check_close(dq, r.dq, atol, rtol, "dq");
  check_close(dk, r.dk, atol, rtol, "dk");
  check_close(dv, r.dv, atol, rtol, "dv");
  // Again with P kept by the forward and read by the backward (the front end's path for short sequences).
  std::vector<T> probs(r.P.size(), T(-7)), out2(out.size()), lse2(lse.size());
  loom::kernels::cpu::attention_forward(dt, out2.data(), lse2.data(), q.data(), k.data(), v.data(), p, probs.data());
  CHECK(out2 == out);
  CHECK(lse2 == lse);
  check_close(probs, r.P, atol, rtol, "probs");
  std::fill(dq.begin(), dq.end(), T(0));
  std::fill(dk.begin(), dk.end(), T(0));
  std::fill(dv.begin(), dv.end(), T(0));
  loom::kernels::cpu::attention_backward(dt, dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                                         out.data(), lse.data(), p, probs.data());
  check_close(dq, r.dq, atol, rtol, "dq from probs");
  check_close(dk, r.dk, atol, rtol, "dk from probs");
  check_close(dv, r.dv, atol, rtol, "dv from probs");
}

const std::vector<Case>& cases() {
  static const std::vector<Case> cs = {
      {1, 1, 1, 1, 16, 16},
      {2, 3, 37, 37, 16, 16},
      {2, 2, 37, 129, 64, 64},
      {1, 2, 129, 37, 80, 48},
      {1, 1, 70, 70, 128, 128, true},
      {2, 2, 45, 67, 64, 64, true},
      {3, 2, 33, 40, 16, 16, false, 1},
      {1, 2, 33, 65, 32, 32, false, 2},
      {2, 2, 37, 50, 16, 24, true, 3},
      {2, 2, 37, 41, 16, 16, false, 0, 0.3},
      {3, 1, 20, 9, 16, 16, true, 1, 0.2},
      {1, 2, 150, 300, 32, 32, true},  // three query tiles of 64, three key tiles of 128 (ragged)
  };
  return cs;
}

}  // namespace

TEST_CASE("attention cpu kernel float64 matches the naive reference", "[attention][kernels]") {
  for (const auto& c : cases()) {
    INFO("B" << c.B << " H" << c.H << " Lq" << c.Lq << " Lk" << c.Lk << " D" << c.D << " Dv" << c.Dv << " causal "
             << c.causal << " mask " << c.mask << " p " << c.dropout);
    run_cpu<double>(c, 1e-10, 1e-9);
  }
}

TEST_CASE("attention cpu kernel float32 matches the naive reference", "[attention][kernels]") {
  for (const auto& c : cases()) {
    INFO("B" << c.B << " H" << c.H << " Lq" << c.Lq << " Lk" << c.Lk << " D" << c.D << " Dv" << c.Dv << " causal "
             << c.causal << " mask " << c.mask << " p " << c.dropout);
    run_cpu<float>(c, 2e-4, 2e-3);
  }
}

TEST_CASE("attention cpu kernel: no keys gives zeros and -inf lse", "[attention][kernels]") {
  AttentionParams p;
  p.B = 1, p.H = 1, p.Lq = 3, p.Lk = 0, p.D = 4, p.Dv = 4;
  std::vector<float> q(12, 1.f), out(12, 5.f), lse(3, 5.f);
  loom::kernels::cpu::attention_forward(DType::Float32, out.data(), lse.data(), q.data(), nullptr, nullptr, p);
  for (float x : out) CHECK(x == 0.f);
  for (float x : lse) CHECK(std::isinf(x));
}

#ifdef LOOM_WITH_CUDA
using loom::test::dbl;
using loom::test::DevBuf;

TEST_CASE("attention cuda kernels match the cpu twin", "[attention][kernels][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const auto& c : cases()) {
    INFO("B" << c.B << " H" << c.H << " Lq" << c.Lq << " Lk" << c.Lk << " D" << c.D << " Dv" << c.Dv << " causal "
             << c.causal << " mask " << c.mask << " p " << c.dropout);
    Inputs in = make(c, 5);
    std::vector<float> q(in.q.begin(), in.q.end()), k(in.k.begin(), in.k.end()), v(in.v.begin(), in.v.end()),
        dout(in.dout.begin(), in.dout.end()), fmask(in.mask.begin(), in.mask.end());
    std::vector<uint8_t> bmask(in.mask.begin(), in.mask.end());
    const size_t no = c.B * c.H * c.Lq * c.Dv, nl = c.B * c.H * c.Lq;
    // CPU twin
    AttentionParams p = in.p;
    if (!in.mask.empty()) p.mask = p.mask_is_bool ? static_cast<const void*>(bmask.data()) : fmask.data();
    std::vector<float> out(no), lse(nl), dq(q.size()), dk(k.size()), dv(v.size());
    loom::kernels::cpu::attention_forward(DType::Float32, out.data(), lse.data(), q.data(), k.data(), v.data(), p);
    loom::kernels::cpu::attention_backward(DType::Float32, dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                           k.data(), v.data(), out.data(), lse.data(), p);
    // CUDA
    DevBuf<float> gq(q), gk(k), gv(v), gdo(dout), gfm(fmask), go(no), gl(nl), gws(nl), gdq(dq), gdk(dk), gdv(dv);
    DevBuf<uint8_t> gbm(bmask);
    AttentionParams pg = in.p;
    if (!in.mask.empty()) pg.mask = pg.mask_is_bool ? static_cast<const void*>(gbm.get()) : gfm.get();
    loom::kernels::cuda::attention_forward(DType::Float32, go.get(), gl.get(), gq.get(), gk.get(), gv.get(), pg,
                                           nullptr);
    loom::kernels::cuda::attention_backward(DType::Float32, gdq.get(), gdk.get(), gdv.get(), gdo.get(), gq.get(),
                                            gk.get(), gv.get(), go.get(), gl.get(), gws.get(), pg, nullptr);
    loom::cuda::synchronize(0);
    check_close(go.host(), dbl(out), 1e-4, 1e-3, "out");
    check_close(gl.host(), dbl(lse), 1e-4, 1e-3, "lse");
    check_close(gdq.host(), dbl(dq), 1e-4, 1e-3, "dq");
    check_close(gdk.host(), dbl(dk), 1e-4, 1e-3, "dk");
    check_close(gdv.host(), dbl(dv), 1e-4, 1e-3, "dv");
  }
}
#endif
