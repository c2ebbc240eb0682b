// LSTM / GRU / Elman RNN (tanh, relu) front ends. A layer and direction over a whole sequence is one
// op and one autograd node (RnnLayerBackward), not a chain of small ops:
//   forward:  xw = x W_ihᵀ for all T steps in one GEMM ([B*T, I] x [I, G*H]);
//             per step hw = h_{t-1} W_hhᵀ (one GEMM) and one fused pointwise
//             kernel (gates, c_t, h_t, output, saved activations).
//   backward: per step one fused pointwise kernel (gate gradients, the carried
//             dc) and one GEMM dh_{t-1} += dG_t W_hh; then one GEMM each for
//             dx = dG W_ih, dW_ih = dGᵀ x, dW_hh = dGᵀ h_prev, db = 1ᵀ dG over
//             all B*T rows at once.
// Buffers indexed by (t, b) use the input's row order (row b*T + t when
// batch_first, t*B + b otherwise), so x, xw, the saved gates, the stored
// states and the output are read and written in place with a row stride and
// no transposes. hprev/cprev row (t, b) hold the state a step at t starts
// from (h0 for the first step of the direction); the state after the last
// step goes to h_last / c_last. Multi-layer and bidirectional sequences chain
// layers with cat / stack.
#include "autograd/ops/rnn.h"
#include "core/op_cost.h"

#include <memory>
#include <string>
#include <vector>

#include "autograd/ops/common.h"
#include "kernels/matmul.h"
#include "kernels/rnn.h"

namespace loom {

using autograd::SavedTensor;
using kernels::RnnCell;

namespace {

// C = op(A) op(B) + beta C, one matrix, on the device of the operands.
void gemm1(const Device& dev, DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void* A, int64_t lda,
           const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  LOOM_DEVICE_DISPATCH(dev, ops::kc::gemm(dt, ta, tb, m, n, k, 1.0, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1),
                       ops::kg::gemm(dt, ta, tb, m, n, k, 1.0, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, allow_tf32(),
                                     ops::stream_of(dev)));
}

// The recurrent product of every step, C[m x n] (+)= A[m x k] @ W, with W
// (k x n, or its transpose) the same for all steps: on the CPU in float32 with
// AVX-512, W is packed once and each step runs kernels::cpu::packed_gemm (no
// repacking per step: an LSTM step with B = 32, H = 256 goes from ~140 to ~75 us
// on 2 cores); elsewhere gemm1. k is bounded so a packed panel (k x 16 floats)
// stays in L2.
struct StepProduct {
  Device dev;
  DType dt;
  bool trans;
  int64_t k, n;
  const void* w;
  int64_t ldw;
  Tensor packed;

  StepProduct(const Device& d, DType t, const Tensor& weight, bool trans_w, int64_t k_, int64_t n_, int64_t batch)
      : dev(d), dt(t), trans(trans_w), k(k_), n(n_), w(weight.data_ptr()), ldw(weight.size(1)) {
    if (dev.is_cpu() && dt == DType::Float32 && k <= 2048 && batch <= 512 && n >= 16 &&
        kernels::cpu::packed_gemm_supported()) {
      packed = empty({kernels::cpu::packed_size(k, n)}, TensorOptions(dt, dev));
      kernels::cpu::pack_matrix(packed.data_ptr<float>(), static_cast<const float*>(w), ldw, trans, k, n);
    }
  }
  void operator()(int64_t m, const void* a, int64_t lda, void* c, int64_t ldc, bool accumulate) const {
    if (packed.defined()) {
      kernels::cpu::packed_gemm(packed.data_ptr<float>(), k, n, m, static_cast<const float*>(a), lda,
                                static_cast<float*>(c), ldc, accumulate);
      return;
    }
    gemm1(dev, dt, false, trans, m, n, k, a, lda, w, ldw, accumulate ? 1.0 : 0.0, c, ldc);
  }
};

// Rows of a [B, T, W] (batch_first) or [T, B, W] buffer.
struct Rows {
  int64_t B, T;
  bool bf;
  int64_t first(int64_t t) const { return bf ? t : t * B; }  // row of (t, b = 0)
  int64_t step() const { return bf ? T : 1; }                // rows from b to b + 1
  // Address of row (t, 0) of a contiguous buffer of width W, and its ld.
  char* at(const Tensor& buf, int64_t t, int64_t W) const {
    return static_cast<char*>(buf.data_ptr()) + first(t) * W * static_cast<int64_t>(buf.element_size());
  }
  int64_t ld(int64_t W) const { return step() * W; }
  Tensor slot(const Tensor& buf, int64_t t, int64_t W) const {
    return bf ? buf.view({B, T, W}).select(1, t) : buf.view({T, B, W}).select(0, t);
  }
};

const char* cell_name(RnnCell c) {
  switch (c) {
    case RnnCell::LSTM: return "lstm";
    case RnnCell::GRU: return "gru";
    case RnnCell::Tanh: return "rnn_tanh";
    default: return "rnn_relu";
  }
}

const char* node_name(RnnCell c) {
  switch (c) {
    case RnnCell::LSTM: return "LstmBackward0";
    case RnnCell::GRU: return "GruBackward0";
    case RnnCell::Tanh: return "RnnTanhBackward0";
    default: return "RnnReluBackward0";
  }
}

struct RnnLayerBackward : autograd::Node {
  RnnCell cell = RnnCell::LSTM;
  bool reverse = false;
  Rows rows{0, 0, false};
  int64_t I = 0, H = 0;
  SavedTensor x, w_ih, w_hh;
  Tensor hprev, cprev, c_last, saved, lengths;  // internal buffers, never visible to users

  std::string name() const override { return node_name(cell); }
  void release_saved() override {
    x.reset();
    w_ih.reset();
    w_hh.reset();
    hprev = cprev = c_last = saved = lengths = Tensor();
  }
  TensorList apply(TensorList&& grads) override;
};

struct LayerOut {
  Tensor out, h_n, c_n;
};

// One layer, one direction. x [B, T, I] or [T, B, I] contiguous; h0, c0 [B, H]
// contiguous (c0 undefined for the GRU); biases may be undefined; lengths an
// int64 tensor on x's device or undefined.
LayerOut rnn_layer(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                   const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse, bool bf,
                   const Tensor& lengths) {
  const bool lstm = cell == RnnCell::LSTM;
  const int64_t G = kernels::rnn_gates(cell), SW = kernels::rnn_saved(cell), H = w_hh.size(1), I = x.size(2);
  const Rows R{bf ? x.size(0) : x.size(1), bf ? x.size(1) : x.size(0), bf};
  const int64_t B = R.B, T = R.T, N = B * T;
  const Device dev = x.device();
  const DType dt = x.dtype();
  const TensorOptions opts(dt, dev);
  const bool need_grad = autograd::any_requires_grad({&x, &h0, &c0, &w_ih, &w_hh, &b_ih, &b_hh});

  Tensor out = empty(bf ? Shape{B, T, H} : Shape{T, B, H}, opts);
  Tensor h_last = empty({B, H}, opts), c_last = lstm ? empty({B, H}, opts) : Tensor();
  Tensor hprev = empty({N, H}, opts), cprev = lstm ? empty({N, H}, opts) : Tensor();
  Tensor saved = need_grad ? empty({N, SW * H}, opts) : Tensor();
  {
    autograd::NoGradGuard no_grad;
    // The kernels read the biases as contiguous vectors (an expanded or strided bias was read past its end).
    Tensor bi = b_ih.defined() ? b_ih.detach().contiguous() : zeros({G * H}, opts);
    Tensor bh = b_hh.defined() ? b_hh.detach().contiguous() : zeros({G * H}, opts);
    Tensor xw = empty({N, G * H}, opts), hw = empty({B, G * H}, opts);
    const StepProduct recurrent(dev, dt, w_hh, true, H, G * H, B);  // h_prev @ W_hhᵀ
    gemm1(dev, dt, false, true, N, G * H, I, x.data_ptr(), I, w_ih.data_ptr(), I, 0.0, xw.data_ptr(), G * H);
    auto t_of = [&](int64_t s) { return reverse ? T - 1 - s : s; };
    R.slot(hprev, t_of(0), H).copy_(h0.detach());
    if (lstm) R.slot(cprev, t_of(0), H).copy_(c0.detach());
    const int64_t* len = lengths.defined() ? lengths.data_ptr<int64_t>() : nullptr;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = t_of(s);
      const bool last = s + 1 == T;
      kernels::RnnStepForward a;
      a.B = B;
      a.H = H;
      a.xw = R.at(xw, t, G * H);
      a.ld_xw = R.ld(G * H);
      a.hw = hw.data_ptr();
      a.b_ih = bi.data_ptr();
      a.b_hh = bh.data_ptr();
      a.h_prev = R.at(hprev, t, H);
      a.ld_h_prev = R.ld(H);
      a.h_next = last ? h_last.data_ptr() : R.at(hprev, t_of(s + 1), H);
      a.ld_h_next = last ? H : R.ld(H);
      if (lstm) {
        a.c_prev = R.at(cprev, t, H);
        a.ld_c_prev = R.ld(H);
        a.c_next = last ? c_last.data_ptr() : R.at(cprev, t_of(s + 1), H);
        a.ld_c_next = last ? H : R.ld(H);
      }
      a.out = R.at(out, t, H);
      a.ld_out = R.ld(H);
      if (need_grad) {
        a.saved = R.at(saved, t, SW * H);
        a.ld_saved = R.ld(SW * H);
      }
      a.lengths = len;
      a.t = t;
      recurrent(B, a.h_prev, a.ld_h_prev, hw.data_ptr(), G * H, false);
      LOOM_DEVICE_DISPATCH(dev, ops::kc::rnn_step_forward(cell, dt, a),
                           ops::kg::rnn_step_forward(cell, dt, a, ops::stream_of(dev)));
    }
  }
  // Backward reads c_last: it stays private to the node and users get a copy
  // they may modify in place. h_last is not needed by backward.
  LayerOut r{out, h_last, lstm ? c_last.clone() : Tensor()};
  if (need_grad) {
    auto node = std::make_shared<RnnLayerBackward>();
    node->cell = cell;
    node->reverse = reverse;
    node->rows = R;
    node->I = I;
    node->H = H;
    node->x = SavedTensor(x);
    node->w_ih = SavedTensor(w_ih);
    node->w_hh = SavedTensor(w_hh);
    node->hprev = hprev;
    node->cprev = cprev;
    node->c_last = c_last;
    node->saved = saved;
    node->lengths = lengths;
    TensorList outs{r.out, r.h_n};
    if (lstm) outs.push_back(r.c_n);
    autograd::attach(node, {x, h0, c0, w_ih, w_hh, b_ih, b_hh}, outs);
  }
  return r;
}

TensorList RnnLayerBackward::apply(TensorList&& grads) {
  const char* nm = node_name(cell);
  LOOM_CHECK(saved.defined(),
             "Trying to backward through the graph a second time (or directly access saved tensors "
             "after they have already been freed). Specify retain_graph=True if you need to "
             "backward through the graph a second time (node ",
             nm, ")");
  LOOM_CHECK_KIND(!autograd::grad_enabled(), ErrorKind::NotImplemented, cell_name(cell),
                  ": double backward (create_graph=True) through the fused RNN kernels is not supported");
  const bool lstm = cell == RnnCell::LSTM;
  const int64_t G = kernels::rnn_gates(cell), SW = kernels::rnn_saved(cell), B = rows.B, T = rows.T, N = B * T;
  Tensor xt = x.unpack(nm), wi = w_ih.unpack(nm), wh = w_hh.unpack(nm);
  const Device dev = xt.device();
  const DType dt = xt.dtype();
  const TensorOptions opts(dt, dev);
  const Rows& R = rows;
  Tensor dout = grads[0].contiguous();
  Tensor dh = empty({B, H}, opts);
  dh.copy_(grads[1]);
  Tensor dc = lstm ? empty({B, H}, opts) : Tensor();
  if (lstm) dc.copy_(grads[2]);
  Tensor dgi = empty({N, G * H}, opts);
  Tensor dgh = cell == RnnCell::GRU ? empty({N, G * H}, opts) : dgi;
  const int64_t* len = lengths.defined() ? lengths.data_ptr<int64_t>() : nullptr;
  auto t_of = [&](int64_t s) { return reverse ? T - 1 - s : s; };
  const StepProduct recurrent(dev, dt, wh, false, G * H, H, B);  // dh += dG_h @ W_hh
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = t_of(s);
    const bool last = s + 1 == T;
    kernels::RnnStepBackward a;
    a.B = B;
    a.H = H;
    a.saved = R.at(saved, t, SW * H);
    a.ld_saved = R.ld(SW * H);
    a.h_prev = R.at(hprev, t, H);
    a.ld_h_prev = R.ld(H);
    if (lstm) {
      a.c_prev = R.at(cprev, t, H);
      a.ld_c_prev = R.ld(H);
      a.c_next = last ? c_last.data_ptr() : R.at(cprev, t_of(s + 1), H);
      a.ld_c_next = last ? H : R.ld(H);
      a.dc = dc.data_ptr();
    }
    a.d_out = R.at(dout, t, H);
    a.ld_d_out = R.ld(H);
    a.dh = dh.data_ptr();
    a.d_gi = R.at(dgi, t, G * H);
    a.ld_d_gi = R.ld(G * H);
    a.d_gh = R.at(dgh, t, G * H);
    a.ld_d_gh = R.ld(G * H);
    a.lengths = len;
    a.t = t;
    LOOM_DEVICE_DISPATCH(dev, ops::kc::rnn_step_backward(cell, dt, a),
                         ops::kg::rnn_step_backward(cell, dt, a, ops::stream_of(dev)));
    if (s > 0 || next_edges[1].valid()) recurrent(B, a.d_gh, a.ld_d_gh, dh.data_ptr(), H, true);
  }
  TensorList g(7);
  if (next_edges[0].valid()) {
    g[0] = empty(xt.sizes(), opts);
    gemm1(dev, dt, false, false, N, I, G * H, dgi.data_ptr(), G * H, wi.data_ptr(), I, 0.0, g[0].data_ptr(), I);
  }
  g[1] = dh;
  if (lstm) g[2] = dc;
  if (next_edges[3].valid()) {
    g[3] = empty({G * H, I}, opts);
    gemm1(dev, dt, true, false, G * H, I, N, dgi.data_ptr(), G * H, xt.data_ptr(), I, 0.0, g[3].data_ptr(), I);
  }
  if (next_edges[4].valid()) {
    g[4] = empty({G * H, H}, opts);
    gemm1(dev, dt, true, false, G * H, H, N, dgh.data_ptr(), G * H, hprev.data_ptr(), H, 0.0, g[4].data_ptr(), H);
  }
  if (next_edges[5].valid() || next_edges[6].valid()) {
    Tensor ones_row = ones({N}, opts);
    for (int i : {5, 6}) {
      if (!next_edges[i].valid()) continue;
      const Tensor& d = i == 5 ? dgi : dgh;
      g[i] = empty({G * H}, opts);
      gemm1(dev, dt, false, false, 1, G * H, N, ones_row.data_ptr(), N, d.data_ptr(), G * H, 0.0, g[i].data_ptr(),
            G * H);
    }
  }
  return g;
}

// ---- argument checks shared by the cells and the sequences ----

void check_param(const char* op, const char* what, const Tensor& p, const Shape& want, const Tensor& input) {
  LOOM_CHECK(p.defined(), op, ": ", what, " is undefined");
  LOOM_CHECK(p.sizes() == want, op, ": ", what, " has shape ", p.sizes(), ", expected ", want);
  LOOM_CHECK_TYPE(p.dtype() == input.dtype(), op, ": ", what, " has dtype ", dtype_name(p.dtype()),
                  " but the input has dtype ", dtype_name(input.dtype()));
  LOOM_CHECK(p.device() == input.device(), op, ": ", what, " is on ", p.device().str(), " but the input is on ",
             input.device().str());
}

void check_weights(const char* op, int64_t G, int64_t in_size, int64_t H, const Tensor& input, const Tensor& w_ih,
                   const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, const std::string& suffix) {
  check_param(op, ("weight_ih" + suffix).c_str(), w_ih, {G * H, in_size}, input);
  check_param(op, ("weight_hh" + suffix).c_str(), w_hh, {G * H, H}, input);
  if (b_ih.defined()) check_param(op, ("bias_ih" + suffix).c_str(), b_ih, {G * H}, input);
  if (b_hh.defined()) check_param(op, ("bias_hh" + suffix).c_str(), b_hh, {G * H}, input);
}

void check_input(const char* op, const Tensor& input) {
  LOOM_CHECK(input.defined(), op, ": input is undefined");
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
}

// (h', c') of one step: the sequence machinery with T = 1.
std::tuple<Tensor, Tensor> cell_impl(RnnCell cell, const Tensor& input, const Tensor& hx, const Tensor& cx,
                                     const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  const char* op = cell == RnnCell::LSTM   ? "lstm_cell"
                   : cell == RnnCell::GRU  ? "gru_cell"
                   : cell == RnnCell::Tanh ? "rnn_tanh_cell"
                                           : "rnn_relu_cell";
  const bool lstm = cell == RnnCell::LSTM;
  check_input(op, input);
  LOOM_CHECK(input.dim() == 1 || input.dim() == 2, op, ": expected input to be 1D or 2D ([B, I]), got ", input.sizes());
  const int64_t G = kernels::rnn_gates(cell);
  LOOM_CHECK(w_hh.defined() && w_hh.dim() == 2, op, ": weight_hh must be 2D [", G, "H, H]");
  const int64_t H = w_hh.size(1);
  const bool unbatched = input.dim() == 1;
  Tensor x = unbatched ? input.unsqueeze(0) : input;
  const int64_t B = x.size(0), I = x.size(1);
  check_weights(op, G, I, H, input, w_ih, w_hh, b_ih, b_hh, "");
  auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return zeros({B, H}, TensorOptions(input.dtype(), input.device()));
    Tensor s2 = unbatched && s.dim() == 1 ? s.unsqueeze(0) : s;
    check_param(op, what, s2, {B, H}, input);
    return s2.contiguous();
  };
  Tensor h = state(hx, "hx"), c = lstm ? state(cx, "cx") : Tensor();
  LayerOut r = rnn_layer(cell, x.unsqueeze(1).contiguous(), h, c, w_ih.contiguous(), w_hh.contiguous(), b_ih, b_hh,
                         false, true, Tensor());
  Tensor hn = unbatched ? r.h_n.squeeze(0) : r.h_n;
  Tensor cn = lstm ? (unbatched ? r.c_n.squeeze(0) : r.c_n) : Tensor();
  return {hn, cn};
}

RnnOutput rnn_impl(RnnCell cell, const Tensor& input, const Tensor& h0, const Tensor& c0, const TensorList& params,
                   bool has_biases, int64_t num_layers, bool bidirectional, bool batch_first, const Tensor& lengths) {
  const char* op = cell_name(cell);
  const bool lstm = cell == RnnCell::LSTM;
  check_input(op, input);
  if (input.dim() == 2) {  // unbatched [T, I], states [L*D, H], as PyTorch
    const int64_t bdim = batch_first ? 0 : 1;
    auto batched = [](const Tensor& s) { return s.defined() && s.dim() == 2 ? s.unsqueeze(1) : s; };
    RnnOutput r = rnn_impl(cell, input.unsqueeze(bdim), batched(h0), batched(c0), params, has_biases, num_layers,
                           bidirectional, batch_first, lengths);
    return {r.output.squeeze(bdim), r.h_n.squeeze(1), lstm ? r.c_n.squeeze(1) : Tensor()};
  }
  LOOM_CHECK(input.dim() == 3, op, ": expected input of 2 or 3 dimensions (", batch_first ? "[B, T, I]" : "[T, B, I]",
             ", or [T, I] unbatched), got ", input.sizes());
  LOOM_CHECK_VALUE(num_layers >= 1, op, ": num_layers must be at least 1, got ", num_layers);
  const int64_t D = bidirectional ? 2 : 1, per = has_biases ? 4 : 2, G = kernels::rnn_gates(cell);
  LOOM_CHECK_VALUE(static_cast<int64_t>(params.size()) == num_layers * D * per, op, ": expected ", num_layers * D * per,
                   " parameter tensors (num_layers=", num_layers, ", bidirectional=", bidirectional,
                   ", has_biases=", has_biases, "), got ", params.size());
  LOOM_CHECK(params[1].defined() && params[1].dim() == 2, op, ": weight_hh_l0 must be 2D [", G, "H, H]");
  const int64_t H = params[1].size(1);
  LOOM_CHECK_VALUE(H >= 1, op, ": hidden size must be positive, got ", H);
  const int64_t B = batch_first ? input.size(0) : input.size(1), T = batch_first ? input.size(1) : input.size(0);
  LOOM_CHECK_VALUE(T >= 1, op, ": the input has no time steps (shape ", input.sizes(), ")");
  const TensorOptions opts(input.dtype(), input.device());
  for (auto* s : {&h0, &c0}) {
    if (!s->defined() || (s == &c0 && !lstm)) continue;
    check_param(op, s == &h0 ? "h0" : "c0", *s, {num_layers * D, B, H}, input);
  }
  Tensor len;
  if (lengths.defined()) {
    LOOM_CHECK_TYPE(lengths.dtype() == DType::Int64, op, ": lengths must be int64, got ", dtype_name(lengths.dtype()));
    LOOM_CHECK(lengths.dim() == 1 && lengths.size(0) == B, op, ": lengths has shape ", lengths.sizes(), ", expected [",
               B, "] (one per sample)");
    Tensor lc = lengths.detach().cpu().contiguous();
    const int64_t* p = lc.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b)
      LOOM_CHECK_VALUE(p[b] >= 0 && p[b] <= T, op, ": lengths[", b, "] = ", p[b], " is outside [0, ", T, "]");
    len = lc.to(input.device());
  }
  Tensor x = input.contiguous();
  TensorList hs, cs;
  for (int64_t l = 0; l < num_layers; ++l) {
    TensorList outs;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t idx = l * D + d;
      const Tensor* p = &params[idx * per];
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      Tensor bi = has_biases ? p[2] : Tensor(), bh = has_biases ? p[3] : Tensor();
      check_weights(op, G, x.size(2), H, input, p[0], p[1], bi, bh, suffix);
      Tensor h = h0.defined() ? h0.select(0, idx).contiguous() : zeros({B, H}, opts);
      Tensor c = !lstm ? Tensor() : c0.defined() ? c0.select(0, idx).contiguous() : zeros({B, H}, opts);
      LayerOut r = rnn_layer(cell, x, h, c, p[0].contiguous(), p[1].contiguous(), bi, bh, d == 1, batch_first, len);
      outs.push_back(r.out);
      hs.push_back(r.h_n);
      if (lstm) cs.push_back(r.c_n);
    }
    x = D == 2 ? cat(outs, 2) : outs[0];
  }
  return {x, stack(hs, 0), lstm ? stack(cs, 0) : Tensor()};
}

}  // namespace

// The roofline cost of a whole lstm / gru / rnn_tanh / rnn_relu call: every layer and direction
// multiplies each time step by w_ih and w_hh (2 FLOPs per weight element per
// step) and does ~6 FLOPs of gate math per gate element; the minimum traffic
// reads the input and every weight once and writes the last layer's output.
void set_rnn_cost(const OpScope& scope, RnnCell cell, const Tensor& input, const TensorList& params, bool has_biases,
                  bool bidirectional) {
  if (!scope.observed() || !input.defined() || input.dim() < 2) return;
  const double steps = double(input.numel()) / double(input.size(-1));  // T * B
  const size_t per = has_biases ? 4 : 2;
  const double gates = static_cast<double>(kernels::rnn_gates(cell));
  double flops = 0, bytes = cost_bytes(&input), hidden = 0;
  for (size_t i = 0; i + 1 < params.size() + 1 && i < params.size(); i += per) {
    const Tensor& w_ih = params[i];
    const Tensor* w_hh = i + 1 < params.size() ? &params[i + 1] : nullptr;
    if (!w_ih.defined() || w_ih.dim() != 2) return;
    hidden = double(w_ih.size(0)) / gates;
    flops += 2 * steps * (double(w_ih.numel()) + (w_hh && w_hh->defined() ? double(w_hh->numel()) : 0)) +
             6 * steps * double(w_ih.size(0));
    for (size_t j = i; j < i + per && j < params.size(); ++j) bytes += cost_bytes(&params[j]);
  }
  bytes += steps * hidden * (bidirectional ? 2 : 1) * double(input.element_size());
  scope.set_cost(flops, bytes);
}

std::tuple<Tensor, Tensor> lstm_cell(const Tensor& input, const Tensor& hx, const Tensor& cx, const Tensor& w_ih,
                                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  OpScope scope(Op::lstm_cell, {&input, &hx, &cx, &w_ih, &w_hh, &b_ih, &b_hh});
  return cell_impl(RnnCell::LSTM, input, hx, cx, w_ih, w_hh, b_ih, b_hh);
}

Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                const Tensor& b_hh) {
  OpScope scope(Op::gru_cell, {&input, &hx, &w_ih, &w_hh, &b_ih, &b_hh});
  return std::get<0>(cell_impl(RnnCell::GRU, input, hx, Tensor(), w_ih, w_hh, b_ih, b_hh));
}

RnnOutput lstm(const Tensor& input, const Tensor& h0, const Tensor& c0, const TensorList& params, bool has_biases,
               int64_t num_layers, bool bidirectional, bool batch_first, const Tensor& lengths) {
  OpScope scope(Op::lstm, {&input, &h0, &c0});
  set_rnn_cost(scope, RnnCell::LSTM, input, params, has_biases, bidirectional);
  return rnn_impl(RnnCell::LSTM, input, h0, c0, params, has_biases, num_layers, bidirectional, batch_first, lengths);
}

RnnOutput gru(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
              bool bidirectional, bool batch_first, const Tensor& lengths) {
  OpScope scope(Op::gru, {&input, &h0});
  set_rnn_cost(scope, RnnCell::GRU, input, params, has_biases, bidirectional);
  return rnn_impl(RnnCell::GRU, input, h0, Tensor(), params, has_biases, num_layers, bidirectional, batch_first,
                  lengths);
}

Tensor rnn_tanh_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                     const Tensor& b_hh) {
  OpScope scope(Op::rnn_tanh_cell, {&input, &hx, &w_ih, &w_hh, &b_ih, &b_hh});
  return std::get<0>(cell_impl(RnnCell::Tanh, input, hx, Tensor(), w_ih, w_hh, b_ih, b_hh));
}

Tensor rnn_relu_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                     const Tensor& b_hh) {
  OpScope scope(Op::rnn_relu_cell, {&input, &hx, &w_ih, &w_hh, &b_ih, &b_hh});
  return std::get<0>(cell_impl(RnnCell::Relu, input, hx, Tensor(), w_ih, w_hh, b_ih, b_hh));
}

RnnOutput rnn_tanh(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
                   bool bidirectional, bool batch_first, const Tensor& lengths) {
  OpScope scope(Op::rnn_tanh, {&input, &h0});
  set_rnn_cost(scope, RnnCell::Tanh, input, params, has_biases, bidirectional);
  return rnn_impl(RnnCell::Tanh, input, h0, Tensor(), params, has_biases, num_layers, bidirectional, batch_first,
                  lengths);
}

RnnOutput rnn_relu(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
                   bool bidirectional, bool batch_first, const Tensor& lengths) {
  OpScope scope(Op::rnn_relu, {&input, &h0});
  set_rnn_cost(scope, RnnCell::Relu, input, params, has_biases, bidirectional);
  return rnn_impl(RnnCell::Relu, input, h0, Tensor(), params, has_biases, num_layers, bidirectional, batch_first,
                  lengths);
}

}  // namespace loom
