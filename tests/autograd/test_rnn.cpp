// LSTM / GRU front ends: cells against the equations written with elementary
// loom ops; sequences (layers, bidirectional, batch_first both ways, initial
// states, lengths) against a step-by-step loop of those cells, values and
// gradients; float64 gradchecks; argument errors; CUDA against the CPU.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/rnn.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

namespace {

const TensorOptions kF64(DType::Float64);

// PyTorch's LSTM cell with elementary ops (gates i, f, g, o).
std::pair<Tensor, Tensor> lstm_ref(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& wi,
                                   const Tensor& wh, const Tensor& bi, const Tensor& bh) {
  Tensor a = x.matmul(wi.t()) + h.matmul(wh.t());
  if (bi.defined()) a = a + bi + bh;
  auto g = a.chunk(4, 1);
  Tensor c2 = g[1].sigmoid() * c + g[0].sigmoid() * g[2].tanh();
  return {g[3].sigmoid() * c2.tanh(), c2};
}

// PyTorch's GRU cell (gates r, z, n; b_hn inside r * (...)).
Tensor gru_ref(const Tensor& x, const Tensor& h, const Tensor& wi, const Tensor& wh, const Tensor& bi,
               const Tensor& bh) {
  Tensor gi = x.matmul(wi.t()), gh = h.matmul(wh.t());
  if (bi.defined()) gi = gi + bi, gh = gh + bh;
  auto a = gi.chunk(3, 1), b = gh.chunk(3, 1);
  Tensor r = (a[0] + b[0]).sigmoid(), z = (a[1] + b[1]).sigmoid();
  Tensor n = (a[2] + r * b[2]).tanh();
  return (1.0 - z) * n + z * h;
}

struct Config {
  bool lstm = true, bf = true, bidir = false, has_b = true;
  int64_t L = 1, B = 3, T = 5, I = 4, H = 3;
  std::vector<int64_t> lengths;  // empty: none
};

std::string describe(const Config& c) {
  std::ostringstream os;
  os << (c.lstm ? "lstm" : "gru") << " bf=" << c.bf << " bidir=" << c.bidir << " bias=" << c.has_b << " L=" << c.L
     << " B=" << c.B << " T=" << c.T << " I=" << c.I << " H=" << c.H << " lengths=" << c.lengths.size();
  return os.str();
}

TensorList make_params(const Config& c, const TensorOptions& o) {
  const int64_t G = c.lstm ? 4 : 3, D = c.bidir ? 2 : 1;
  TensorList p;
  for (int64_t l = 0; l < c.L; ++l)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t in = l == 0 ? c.I : D * c.H;
      p.push_back(randn({G * c.H, in}, o) * 0.5);
      p.push_back(randn({G * c.H, c.H}, o) * 0.5);
      if (c.has_b) {
        p.push_back(randn({G * c.H}, o) * 0.5);
        p.push_back(randn({G * c.H}, o) * 0.5);
      }
    }
  for (auto& t : p) t = t.detach().requires_grad_(true);
  return p;
}

// The sequence as a loop over time of reference cells (or loom's cells).
RnnOutput seq_ref(const Config& c, const Tensor& input, const Tensor& h0, const Tensor& c0, const TensorList& params,
                  const Tensor& lengths, bool loom_cells) {
  const int64_t D = c.bidir ? 2 : 1, per = c.has_b ? 4 : 2;
  Tensor x = c.bf ? input : input.transpose(0, 1);
  TensorList hs, cs;
  for (int64_t l = 0; l < c.L; ++l) {
    TensorList layer;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t idx = l * D + d;
      const Tensor* p = &params[idx * per];
      Tensor bi = c.has_b ? p[2] : Tensor(), bh = c.has_b ? p[3] : Tensor();
      Tensor h = h0.select(0, idx), cc = c.lstm ? c0.select(0, idx) : Tensor();
      TensorList outs(c.T);
      for (int64_t s = 0; s < c.T; ++s) {
        const int64_t t = d == 1 ? c.T - 1 - s : s;
        Tensor xt = x.select(1, t), hn, cn;
        if (c.lstm) {
          if (loom_cells) std::tie(hn, cn) = lstm_cell(xt, h, cc, p[0], p[1], bi, bh);
          else std::tie(hn, cn) = lstm_ref(xt, h, cc, p[0], p[1], bi, bh);
        } else {
          hn = loom_cells ? gru_cell(xt, h, p[0], p[1], bi, bh) : gru_ref(xt, h, p[0], p[1], bi, bh);
        }
        Tensor out = hn;
        if (lengths.defined()) {
          Tensor m = lengths.gt(Scalar(static_cast<double>(t))).unsqueeze(1);
          hn = where(m, hn, h);
          if (c.lstm) cn = where(m, cn, cc);
          out = where(m, hn, 0.0);
        }
        h = hn, cc = cn, outs[t] = out;
      }
      layer.push_back(stack(outs, 1));
      hs.push_back(h);
      cs.push_back(cc);
    }
    x = cat(layer, 2);
  }
  return {c.bf ? x : x.transpose(0, 1), stack(hs, 0), c.lstm ? stack(cs, 0) : Tensor()};
}

struct Inputs {
  Tensor input, h0, c0, lengths;
  TensorList params;
};

Inputs make_inputs(const Config& c, const TensorOptions& o) {
  const int64_t D = c.bidir ? 2 : 1;
  Inputs in;
  in.input = randn(c.bf ? Shape{c.B, c.T, c.I} : Shape{c.T, c.B, c.I}, o).detach().requires_grad_(true);
  in.h0 = randn({c.L * D, c.B, c.H}, o).detach().requires_grad_(true);
  if (c.lstm) in.c0 = randn({c.L * D, c.B, c.H}, o).detach().requires_grad_(true);
  if (!c.lengths.empty()) in.lengths = from_vector(c.lengths, {c.B});
  in.params = make_params(c, o);
  return in;
}

RnnOutput run_loom(const Config& c, const Inputs& in) {
  return c.lstm ? lstm(in.input, in.h0, in.c0, in.params, c.has_b, c.L, c.bidir, c.bf, in.lengths)
                : gru(in.input, in.h0, in.params, c.has_b, c.L, c.bidir, c.bf, in.lengths);
}

// One scalar that touches every output with random weights.
Tensor loss_of(const RnnOutput& r, const TensorList& w) {
  Tensor l = (r.output * w[0]).sum() + (r.h_n * w[1]).sum();
  if (r.c_n.defined()) l = l + (r.c_n * w[2]).sum();
  return l;
}

TensorList all_leaves(const Inputs& in) {
  TensorList t{in.input, in.h0};
  if (in.c0.defined()) t.push_back(in.c0);
  for (auto& p : in.params) t.push_back(p);
  return t;
}

void check_against_loop(const Config& c, bool loom_cells) {
  INFO(describe(c) << " loom_cells=" << loom_cells);
  Inputs in = make_inputs(c, kF64);
  RnnOutput got = run_loom(c, in);
  RnnOutput want = seq_ref(c, in.input, in.h0, in.c0, in.params, in.lengths, loom_cells);
  test::check_close(got.output, want.output, 1e-10, 1e-10);
  test::check_close(got.h_n, want.h_n, 1e-10, 1e-10);
  if (c.lstm) test::check_close(got.c_n, want.c_n, 1e-10, 1e-10);
  TensorList w{randn(got.output.sizes(), kF64), randn(got.h_n.sizes(), kF64), randn(got.h_n.sizes(), kF64)};
  TensorList leaves = all_leaves(in);
  TensorList g1 = autograd::grad({loss_of(got, w)}, leaves);
  TensorList g2 = autograd::grad({loss_of(want, w)}, leaves);
  for (size_t i = 0; i < leaves.size(); ++i) {
    INFO("gradient of leaf " << i);
    test::check_close(g1[i], g2[i], 1e-9, 1e-9);
  }
}

}  // namespace

TEST_CASE("lstm_cell and gru_cell match the equations", "[rnn]") {
  manual_seed(3);
  for (DType dt : {DType::Float32, DType::Float64}) {
    TensorOptions o(dt);
    const int64_t B = 5, I = 7, H = 6;
    Tensor x = randn({B, I}, o), h = randn({B, H}, o), c = randn({B, H}, o);
    Tensor wi = randn({4 * H, I}, o), wh = randn({4 * H, H}, o), bi = randn({4 * H}, o), bh = randn({4 * H}, o);
    auto [h1, c1] = lstm_cell(x, h, c, wi, wh, bi, bh);
    auto [h2, c2] = lstm_ref(x, h, c, wi, wh, bi, bh);
    test::check_close(h1, h2, 1e-5, 1e-5);
    test::check_close(c1, c2, 1e-5, 1e-5);
    auto [h3, c3] = lstm_cell(x, h, c, wi, wh, Tensor(), Tensor());
    auto [h4, c4] = lstm_ref(x, h, c, wi, wh, Tensor(), Tensor());
    test::check_close(h3, h4, 1e-5, 1e-5);
    test::check_close(c3, c4, 1e-5, 1e-5);
    Tensor gwi = wi.narrow(0, 0, 3 * H), gwh = wh.narrow(0, 0, 3 * H);
    Tensor gbi = bi.narrow(0, 0, 3 * H), gbh = bh.narrow(0, 0, 3 * H);
    test::check_close(gru_cell(x, h, gwi, gwh, gbi, gbh), gru_ref(x, h, gwi, gwh, gbi, gbh), 1e-5, 1e-5);
    // Missing states are zeros; unbatched input gives unbatched states.
    auto [h5, c5] = lstm_cell(x, Tensor(), Tensor(), wi, wh, bi, bh);
    auto [h6, c6] = lstm_ref(x, zeros({B, H}, o), zeros({B, H}, o), wi, wh, bi, bh);
    test::check_close(h5, h6, 1e-5, 1e-5);
    auto [h7, c7] = lstm_cell(x.select(0, 1), h.select(0, 1), c.select(0, 1), wi, wh, bi, bh);
    CHECK(h7.sizes() == Shape{H});
    test::check_close(c7, c2.select(0, 1), 1e-5, 1e-5);
  }
}

TEST_CASE("lstm and gru sequences match a loop of cells", "[rnn]") {
  manual_seed(5);
  for (bool lstm_ : {true, false})
    for (bool bf : {true, false})
      for (int64_t L : {1, 2})
        for (bool bidir : {false, true})
          for (bool has_b : {true, false}) {
            Config c;
            c.lstm = lstm_, c.bf = bf, c.L = L, c.bidir = bidir, c.has_b = has_b;
            check_against_loop(c, false);
            c.lengths = {4, 5, 1};
            check_against_loop(c, false);
            c.lengths = {0, 2, 5};
            check_against_loop(c, true);
          }
}

TEST_CASE("float32 lstm and gru (the packed recurrent products) match the float64 computation", "[rnn]") {
  // B = 11 (a tile of 8 rows and 3 more), H = 21: forward products 84 columns wide and backward
  // ones 21 wide, each with a ragged last panel of 16; two layers, both directions, lengths.
  manual_seed(8);
  for (bool lstm_ : {true, false})
    for (bool bidir : {false, true}) {
      Config c;
      c.lstm = lstm_, c.bidir = bidir, c.L = 2, c.B = 11, c.T = 6, c.I = 9, c.H = 21;
      c.lengths = {6, 3, 6, 1, 5, 6, 2, 6, 4, 6, 6};
      INFO(describe(c));
      Inputs in = make_inputs(c, kF64);
      RnnOutput want = run_loom(c, in);
      auto f32 = [](const Tensor& t) { return t.defined() ? t.detach().to(DType::Float32).requires_grad_(true) : t; };
      Inputs in32 = in;
      in32.input = f32(in.input), in32.h0 = f32(in.h0), in32.c0 = f32(in.c0);
      for (auto& p : in32.params) p = f32(p);
      RnnOutput got = run_loom(c, in32);
      test::check_close(got.output.to(DType::Float64), want.output, 2e-5, 2e-5);
      test::check_close(got.h_n.to(DType::Float64), want.h_n, 2e-5, 2e-5);
      TensorList w{randn(want.output.sizes(), kF64), randn(want.h_n.sizes(), kF64), randn(want.h_n.sizes(), kF64)};
      TensorList w32{w[0].to(DType::Float32), w[1].to(DType::Float32), w[2].to(DType::Float32)};
      TensorList g64 = autograd::grad({loss_of(want, w)}, all_leaves(in));
      TensorList g32 = autograd::grad({loss_of(got, w32)}, all_leaves(in32));
      for (size_t i = 0; i < g64.size(); ++i) {
        INFO("gradient of leaf " << i);
        test::check_close(g32[i].to(DType::Float64), g64[i], 2e-4, 2e-4);
      }
    }
}

TEST_CASE("rnn lengths freeze the state and zero the output", "[rnn]") {
  manual_seed(6);
  Config c;
  c.B = 2, c.T = 6, c.lengths = {6, 3};
  Inputs in = make_inputs(c, kF64);
  RnnOutput r = run_loom(c, in);
  // Sample 1 alone over its 3 steps gives the same final state.
  Config c1 = c;
  c1.B = 1, c1.T = 3, c1.lengths.clear();
  Inputs one = in;
  one.input = in.input.select(0, 1).narrow(0, 0, 3).unsqueeze(0);
  one.h0 = in.h0.narrow(1, 1, 1), one.c0 = in.c0.narrow(1, 1, 1), one.lengths = Tensor();
  RnnOutput r1 = run_loom(c1, one);
  test::check_close(r.h_n.narrow(1, 1, 1), r1.h_n, 1e-12, 1e-12);
  test::check_close(r.c_n.narrow(1, 1, 1), r1.c_n, 1e-12, 1e-12);
  test::check_close(r.output.select(0, 1).narrow(0, 0, 3), r1.output.select(0, 0), 1e-12, 1e-12);
  CHECK(r.output.select(0, 1).narrow(0, 3, 3).abs().max().item<double>() == 0.0);
}

TEST_CASE("rnn unbatched input [T, I] equals a batch of one", "[rnn]") {
  manual_seed(7);
  for (bool lstm_ : {true, false})
    for (bool bf : {true, false}) {
      Config c;
      c.lstm = lstm_, c.bf = bf, c.B = 1, c.bidir = true;
      Inputs in = make_inputs(c, kF64);
      RnnOutput r = run_loom(c, in);
      Inputs u = in;
      u.input = in.input.squeeze(bf ? 0 : 1), u.h0 = in.h0.squeeze(1);
      if (lstm_) u.c0 = in.c0.squeeze(1);
      RnnOutput ru = run_loom(c, u);
      test::check_close(ru.output, r.output.squeeze(bf ? 0 : 1), 1e-12, 1e-12);
      test::check_close(ru.h_n, r.h_n.squeeze(1), 1e-12, 1e-12);
      if (lstm_) test::check_close(ru.c_n, r.c_n.squeeze(1), 1e-12, 1e-12);
    }
}

TEST_CASE("rnn gradcheck in float64", "[rnn]") {
  manual_seed(8);
  for (bool lstm_ : {true, false})
    for (int variant = 0; variant < 3; ++variant) {
      Config c;
      c.lstm = lstm_, c.B = 2, c.T = 3, c.I = 3, c.H = 2;
      if (variant == 1) c.lengths = {3, 2}, c.bf = false;
      if (variant == 2) c.L = 2, c.bidir = true, c.lengths = {2, 3};
      INFO(describe(c));
      Inputs in = make_inputs(c, kF64);
      TensorList leaves = all_leaves(in);
      const size_t np = in.params.size(), first_param = leaves.size() - np;
      auto fn = [&](const TensorList& v) {
        Inputs x = in;
        x.input = v[0], x.h0 = v[1];
        if (c.lstm) x.c0 = v[2];
        for (size_t i = 0; i < np; ++i) x.params[i] = v[first_param + i];
        RnnOutput r = run_loom(c, x);
        TensorList parts{r.output.flatten(), r.h_n.flatten()};
        if (c.lstm) parts.push_back(r.c_n.flatten());
        return cat(parts, 0);
      };
      test::check_grad(fn, leaves);
    }
  // The cells on their own.
  Tensor x = test::leaf({2, 3}), h = test::leaf({2, 2}), cc = test::leaf({2, 2});
  Tensor wi = test::leaf({8, 3}), wh = test::leaf({8, 2}), bi = test::leaf({8}), bh = test::leaf({8});
  test::check_grad(
      [](const TensorList& v) {
        auto [h1, c1] = lstm_cell(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        return cat({h1, c1}, 1);
      },
      {x, h, cc, wi, wh, bi, bh});
  Tensor gwi = test::leaf({6, 3}), gwh = test::leaf({6, 2}), gbi = test::leaf({6}), gbh = test::leaf({6});
  test::check_grad([](const TensorList& v) { return gru_cell(v[0], v[1], v[2], v[3], v[4], v[5]); },
                   {x, h, gwi, gwh, gbi, gbh});
}

TEST_CASE("rnn argument errors name the op and the shapes", "[rnn]") {
  Config c;
  Inputs in = make_inputs(c, kF64);
  CHECK_THROWS_WITH(lstm(in.input.unsqueeze(0), in.h0, in.c0, in.params, true, 1, false, true),
                    ContainsSubstring("lstm: expected input of 2 or 3 dimensions"));
  TensorList few(in.params.begin(), in.params.end() - 1);
  CHECK_THROWS_WITH(lstm(in.input, in.h0, in.c0, few, true, 1, false, true),
                    ContainsSubstring("expected 4 parameter tensors"));
  TensorList bad = in.params;
  bad[0] = randn({12, 5}, kF64);
  CHECK_THROWS_WITH(lstm(in.input, in.h0, in.c0, bad, true, 1, false, true),
                    ContainsSubstring("weight_ih_l0 has shape [12, 5], expected [12, 4]"));
  CHECK_THROWS_WITH(lstm(in.input, in.h0.narrow(1, 0, 2), in.c0, in.params, true, 1, false, true),
                    ContainsSubstring("h0 has shape [1, 2, 3], expected [1, 3, 3]"));
  CHECK_THROWS_WITH(lstm(in.input, in.h0, in.c0, in.params, true, 1, false, true, from_vector<int64_t>({1, 6, 2}, {3})),
                    ContainsSubstring("lengths[1] = 6 is outside [0, 5]"));
  CHECK_THROWS_WITH(gru(in.input, in.h0, in.params, true, 1, false, true),
                    ContainsSubstring("gru: weight_ih_l0 has shape [12, 4], expected [9, 4]"));
  CHECK_THROWS_WITH(lstm_cell(in.input, Tensor(), Tensor(), in.params[0], in.params[1]),
                    ContainsSubstring("lstm_cell: expected input to be 1D or 2D"));
  CHECK_THROWS_WITH(lstm(in.input.to(DType::Float32), in.h0, in.c0, in.params, true, 1, false, true),
                    ContainsSubstring("dtype"));
}

TEST_CASE("rnn backward frees its buffers and refuses a second pass", "[rnn]") {
  Config c;
  Inputs in = make_inputs(c, kF64);
  RnnOutput r = run_loom(c, in);
  Tensor l = r.output.sum();
  l.backward();
  CHECK(in.params[0].grad().defined());
  CHECK_THROWS_WITH(l.backward(), ContainsSubstring("backward through the graph a second time"));
}

TEST_CASE("CUDA lstm and gru match the CPU, forward and backward", "[rnn][cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  manual_seed(9);
  std::vector<Config> cases;
  for (bool lstm_ : {true, false}) {
    Config a;
    a.lstm = lstm_, a.B = 5, a.T = 7, a.I = 13, a.H = 37;
    cases.push_back(a);
    a.bf = false, a.L = 2, a.bidir = true, a.lengths = {7, 3, 0, 5, 1};
    cases.push_back(a);
    a.has_b = false, a.B = 3, a.T = 4, a.H = 129, a.lengths = {4, 2, 3};
    cases.push_back(a);
  }
  // float64 checks the logic tightly; float32 the float kernels, whose sums
  // over B*T run in another order than the CPU's (1e-3 on gradients).
  for (DType dt : {DType::Float64, DType::Float32})
    for (const Config& c : cases) {
      INFO(describe(c) << " " << dtype_name(dt));
      const double tol = dt == DType::Float64 ? 1e-9 : 1e-4, gtol = dt == DType::Float64 ? 1e-9 : 1e-3;
      Inputs cpu = make_inputs(c, TensorOptions(dt));
      Inputs dev = cpu;
      auto to_gpu = [&](const Tensor& t) {
        if (!t.defined()) return t;
        Tensor g = t.detach().to(gpu);
        return t.requires_grad() ? g.requires_grad_(true) : g;
      };
      dev.input = to_gpu(cpu.input), dev.h0 = to_gpu(cpu.h0), dev.c0 = to_gpu(cpu.c0);
      dev.lengths = cpu.lengths.defined() ? cpu.lengths.to(gpu) : Tensor();
      for (auto& p : dev.params) p = to_gpu(p);
      RnnOutput rc = run_loom(c, cpu), rg = run_loom(c, dev);
      test::check_close(rg.output.cpu(), rc.output, tol, tol);
      test::check_close(rg.h_n.cpu(), rc.h_n, tol, tol);
      if (c.lstm) test::check_close(rg.c_n.cpu(), rc.c_n, tol, tol);
      TensorList w{randn(rc.output.sizes(), TensorOptions(dt)), randn(rc.h_n.sizes(), TensorOptions(dt)),
                   randn(rc.h_n.sizes(), TensorOptions(dt))};
      TensorList wg{w[0].to(gpu), w[1].to(gpu), w[2].to(gpu)};
      loss_of(rc, w).backward();
      loss_of(rg, wg).backward();
      TensorList lc = all_leaves(cpu), lg = all_leaves(dev);
      for (size_t i = 0; i < lc.size(); ++i) {
        INFO("gradient of leaf " << i);
        test::check_close(lg[i].grad().cpu(), lc[i].grad(), gtol, gtol);
      }
    }
}
