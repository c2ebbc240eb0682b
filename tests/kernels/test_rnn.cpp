// LSTM / GRU / Elman pointwise step kernels: the CPU kernels against a double
// reference written out here (odd B and H, padded row strides, frozen rows
// from lengths), float32 and float64; the CUDA kernels against the CPU twin.
#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/tensor.h"
#include "kernels/rnn.h"
#include "test_util.h"
#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;

namespace {

const char* cell_text(RnnCell c) {
  return c == RnnCell::LSTM ? "lstm" : c == RnnCell::GRU ? "gru" : c == RnnCell::Tanh ? "tanh" : "relu";
}

// Every buffer of one step; padded leading dims so the strided addressing runs.
struct StepBufs {
  int64_t B, H, G, ldx, ldh, ldo, lds, ldg;
  Tensor xw, hw, bi, bh, hp, cp, hn, cn, out, saved, len, dout, dh, dc, dgi, dgh;

  StepBufs(RnnCell cell, DType dt, int64_t B_, int64_t H_) : B(B_), H(H_), G(rnn_gates(cell)) {
    ldx = G * H + 3, ldh = H + 2, ldo = H + 1, lds = 4 * H + 5, ldg = G * H + 2;
    TensorOptions o(dt);
    auto r = [&](const Shape& s) { return randn(s, o); };
    xw = r({B, ldx}), hw = r({B, G * H}), bi = r({G * H}), bh = r({G * H});
    hp = r({B, ldh}), cp = r({B, ldh}), hn = zeros({B, ldh}, o), cn = zeros({B, ldh}, o);
    out = full({B, ldo}, 7.0, o), saved = zeros({B, lds}, o);
    std::vector<int64_t> l(B);
    for (int64_t b = 0; b < B; ++b) l[b] = (b * 5) % 7;  // 0, 5, 3, 1, 6, ...
    len = from_vector(l, {B});
    dout = r({B, ldo}), dh = r({B, H}), dc = r({B, H}), dgi = zeros({B, ldg}, o), dgh = zeros({B, ldg}, o);
  }
  StepBufs copy_to(Device d) const {
    StepBufs c = *this;
    for (Tensor* t : {&c.xw, &c.hw, &c.bi, &c.bh, &c.hp, &c.cp, &c.hn, &c.cn, &c.out, &c.saved, &c.len, &c.dout, &c.dh,
                      &c.dc, &c.dgi, &c.dgh})
      *t = t->to(d);
    return c;
  }
  RnnStepForward fwd(int64_t t, bool use_len = true) const {
    RnnStepForward a;
    a.B = B, a.H = H, a.xw = xw.data_ptr(), a.ld_xw = ldx, a.hw = hw.data_ptr();
    a.b_ih = bi.data_ptr(), a.b_hh = bh.data_ptr();
    a.h_prev = hp.data_ptr(), a.ld_h_prev = ldh, a.c_prev = cp.data_ptr(), a.ld_c_prev = ldh;
    a.h_next = hn.data_ptr(), a.ld_h_next = ldh, a.c_next = cn.data_ptr(), a.ld_c_next = ldh;
    a.out = out.data_ptr(), a.ld_out = ldo, a.saved = saved.data_ptr(), a.ld_saved = lds;
    a.lengths = use_len ? len.data_ptr<int64_t>() : nullptr, a.t = t;
    return a;
  }
  RnnStepBackward bwd(int64_t t, bool use_len = true) const {
    RnnStepBackward a;
    a.B = B, a.H = H, a.saved = saved.data_ptr(), a.ld_saved = lds;
    a.h_prev = hp.data_ptr(), a.ld_h_prev = ldh, a.c_prev = cp.data_ptr(), a.ld_c_prev = ldh;
    a.c_next = cn.data_ptr(), a.ld_c_next = ldh, a.d_out = dout.data_ptr(), a.ld_d_out = ldo;
    a.dh = dh.data_ptr(), a.dc = dc.data_ptr(), a.d_gi = dgi.data_ptr(), a.ld_d_gi = ldg;
    a.d_gh = dgh.data_ptr(), a.ld_d_gh = ldg;
    a.lengths = use_len ? len.data_ptr<int64_t>() : nullptr, a.t = t;
    return a;
  }
};

double sig(double x) { return 1 / (1 + std::exp(-x)); }

// Expected values after forward + backward of one step, in double.
struct Expected {
  std::vector<double> hn, cn, out, saved, dh, dc, dgi, dgh;
};

Expected reference(RnnCell cell, const StepBufs& s, int64_t t, bool use_len) {
  const int64_t B = s.B, H = s.H, G = s.G;
  auto v = [](const Tensor& x) { return x.to_vector(); };
  auto xw = v(s.xw), hw = v(s.hw), bi = v(s.bi), bh = v(s.bh), hp = v(s.hp), cp = v(s.cp), dout = v(s.dout);
  auto dh0 = v(s.dh), dc0 = v(s.dc), len = v(s.len);
  Expected e;
  e.hn.assign(B * H, 0), e.cn.assign(B * H, 0), e.out.assign(B * H, 0), e.saved.assign(B * 4 * H, 0);
  e.dh.assign(B * H, 0), e.dc.assign(B * H, 0), e.dgi.assign(B * G * H, 0), e.dgh.assign(B * G * H, 0);
  for (int64_t b = 0; b < B; ++b) {
    const bool live = !use_len || t < len[b];
    for (int64_t j = 0; j < H; ++j) {
      auto pre = [&](int64_t g) {
        return xw[b * s.ldx + g * H + j] + bi[g * H + j] + hw[b * G * H + g * H + j] + bh[g * H + j];
      };
      const double h_prev = hp[b * s.ldh + j], c_prev = cp[b * s.ldh + j];
      const double dh_in = dh0[b * H + j] + dout[b * s.ldo + j], dc_in = dc0[b * H + j];
      const int64_t o = b * H + j;
      if (!live) {
        e.hn[o] = h_prev, e.cn[o] = c_prev, e.out[o] = 0;
        e.dh[o] = dh0[b * H + j], e.dc[o] = dc_in;
        continue;
      }
      double* sv = &e.saved[b * 4 * H + j];
      double* gi_ = &e.dgi[b * G * H + j];
      double* gh_ = &e.dgh[b * G * H + j];
      if (cell == RnnCell::LSTM) {
        double i = sig(pre(0)), f = sig(pre(1)), g = std::tanh(pre(2)), og = sig(pre(3));
        double c = f * c_prev + i * g, tc = std::tanh(c), h = og * tc;
        e.hn[o] = e.out[o] = h, e.cn[o] = c;
        sv[0] = i, sv[H] = f, sv[2 * H] = g, sv[3 * H] = og;
        double dct = dc_in + dh_in * og * (1 - tc * tc);
        gi_[0] = dct * g * i * (1 - i), gi_[H] = dct * c_prev * f * (1 - f);
        gi_[2 * H] = dct * i * (1 - g * g), gi_[3 * H] = dh_in * tc * og * (1 - og);
        for (int64_t k = 0; k < 4; ++k) gh_[k * H] = gi_[k * H];
        e.dc[o] = dct * f, e.dh[o] = 0;
      } else if (cell == RnnCell::Tanh || cell == RnnCell::Relu) {
        const double a = pre(0);
        const double h = cell == RnnCell::Relu ? std::max(a, 0.0) : std::tanh(a);
        e.hn[o] = e.out[o] = h, e.cn[o] = 0;
        sv[0] = h;
        gi_[0] = gh_[0] = cell == RnnCell::Relu ? (h > 0 ? dh_in : 0.0) : dh_in * (1 - h * h);
        e.dh[o] = 0;
      } else {
        double r = sig(pre(0)), z = sig(pre(1));
        double hh = hw[b * G * H + 2 * H + j] + bh[2 * H + j];
        double n = std::tanh(xw[b * s.ldx + 2 * H + j] + bi[2 * H + j] + r * hh);
        double h = (1 - z) * n + z * h_prev;
        e.hn[o] = e.out[o] = h, e.cn[o] = 0;
        sv[0] = r, sv[H] = z, sv[2 * H] = n, sv[3 * H] = hh;
        double dn = dh_in * (1 - z) * (1 - n * n), dz = dh_in * (h_prev - n) * z * (1 - z);
        double dr = dn * hh * r * (1 - r);
        gi_[0] = dr, gi_[H] = dz, gi_[2 * H] = dn;
        gh_[0] = dr, gh_[H] = dz, gh_[2 * H] = dn * r;
        e.dh[o] = dh_in * z;
      }
    }
  }
  return e;
}

// Rows [B, W] of a padded [B, ld] tensor, flattened.
std::vector<double> rows(const Tensor& t, int64_t W) { return t.narrow(1, 0, W).contiguous().to_vector(); }

void run_cpu_case(RnnCell cell, DType dt, int64_t B, int64_t H, int64_t t, bool use_len) {
  manual_seed(1234 + B * 31 + H);
  StepBufs s(cell, dt, B, H);
  Expected e = reference(cell, s, t, use_len);
  const double tol = dt == DType::Float32 ? 2e-5 : 1e-12;
  cpu::rnn_step_forward(cell, dt, s.fwd(t, use_len));
  test::check_close(rows(s.hn, H), e.hn, tol, tol);
  if (cell == RnnCell::LSTM) test::check_close(rows(s.cn, H), e.cn, tol, tol);
  test::check_close(rows(s.out, H), e.out, tol, tol);
  // Frozen rows save nothing: their saved rows stay 0 on both sides.
  test::check_close(rows(s.saved, 4 * H), e.saved, tol, tol);
  // Backward reads the saved activations and c_next written above.
  cpu::rnn_step_backward(cell, dt, s.bwd(t, use_len));
  const int64_t G = s.G;
  test::check_close(rows(s.dgi, G * H), e.dgi, tol, tol);
  if (cell == RnnCell::GRU) test::check_close(rows(s.dgh, G * H), e.dgh, tol, tol);
  test::check_close(s.dh.to_vector(), e.dh, tol, tol);
  if (cell == RnnCell::LSTM) test::check_close(s.dc.to_vector(), e.dc, tol, tol);
}

}  // namespace

TEST_CASE("rnn step kernels match the reference", "[rnn]") {
  for (RnnCell cell : {RnnCell::LSTM, RnnCell::GRU, RnnCell::Tanh, RnnCell::Relu})
    for (DType dt : {DType::Float32, DType::Float64})
      for (bool use_len : {false, true}) {
        INFO("cell " << cell_text(cell) << " dtype " << dtype_name(dt) << " lengths " << use_len);
        run_cpu_case(cell, dt, 5, 7, 2, use_len);
        run_cpu_case(cell, dt, 33, 129, 3, use_len);  // big enough to split over threads
      }
}

TEST_CASE("rnn float32 sigmoid and tanh stay accurate over the whole range", "[rnn]") {
  // One live row, H = n values: hw carries the pre-activation of each gate.
  const int64_t n = 2001;
  std::vector<float> pre(n);
  for (int64_t j = 0; j < n; ++j) pre[j] = -100.0f + 0.1f * static_cast<float>(j);
  Tensor x = from_vector(pre, {1, n});
  Tensor z4 = zeros({1, 4 * n}), hw = cat({x, x, x, x}, 1), bias = zeros({4 * n});
  Tensor cp = zeros({1, n}), hp = zeros({1, n}), hn = zeros({1, n}), cn = zeros({1, n}), saved = zeros({1, 4 * n});
  RnnStepForward a;
  a.B = 1, a.H = n, a.xw = z4.data_ptr(), a.ld_xw = 4 * n, a.hw = hw.data_ptr(), a.b_ih = bias.data_ptr();
  a.b_hh = bias.data_ptr(), a.h_prev = hp.data_ptr(), a.ld_h_prev = n, a.c_prev = cp.data_ptr(), a.ld_c_prev = n;
  a.h_next = hn.data_ptr(), a.ld_h_next = n, a.c_next = cn.data_ptr(), a.ld_c_next = n, a.saved = saved.data_ptr();
  a.ld_saved = 4 * n;
  cpu::rnn_step_forward(RnnCell::LSTM, DType::Float32, a);
  auto s = saved.to_vector();
  for (int64_t j = 0; j < n; ++j) {
    double p = pre[j], sg = 1 / (1 + std::exp(-p)), th = std::tanh(p);
    INFO("x = " << p);
    test::check_close(s[j], sg, 1e-7, 2e-6);
    test::check_close(s[2 * n + j], th, 2e-7, 2e-6);
  }
}

TEST_CASE("CUDA rnn step kernels match the CPU twin", "[rnn][cuda]") {
  LOOM_REQUIRE_GPU();
#ifdef LOOM_WITH_CUDA
  const Device gpu("cuda:0");
  const auto stream = test::stream();
  for (RnnCell cell : {RnnCell::LSTM, RnnCell::GRU, RnnCell::Tanh, RnnCell::Relu})
    for (DType dt : {DType::Float32, DType::Float64})
      for (bool use_len : {false, true})
        for (auto [B, H] : std::vector<std::pair<int64_t, int64_t>>{{5, 7}, {37, 129}, {3, 1000}}) {
          INFO("cell " << cell_text(cell) << " dtype " << dtype_name(dt) << " B " << B << " H " << H << " lengths "
                       << use_len);
          manual_seed(77 + B + H);
          StepBufs c(cell, dt, B, H);
          StepBufs g = c.copy_to(gpu);
          const double tol = dt == DType::Float32 ? 1e-5 : 1e-12;
          cpu::rnn_step_forward(cell, dt, c.fwd(4, use_len));
          kernels::cuda::rnn_step_forward(cell, dt, g.fwd(4, use_len), stream);
          for (auto [tc, tg] : {std::pair{&c.hn, &g.hn}, {&c.cn, &g.cn}, {&c.out, &g.out}})
            test::check_close(tg->cpu(), *tc, tol, tol);
          test::check_close(g.saved.cpu(), c.saved, tol, tol);
          cpu::rnn_step_backward(cell, dt, c.bwd(4, use_len));
          kernels::cuda::rnn_step_backward(cell, dt, g.bwd(4, use_len), stream);
          for (auto [tc, tg] : {std::pair{&c.dh, &g.dh}, {&c.dc, &g.dc}, {&c.dgi, &g.dgi}, {&c.dgh, &g.dgh}})
            test::check_close(tg->cpu(), *tc, tol, tol);
        }
#endif
}
