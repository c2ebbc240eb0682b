// Float64 references of the registry's recurrent, sequence-loss and bag ops
// (core/ops.toml, `ref`): the LSTM, GRU and Elman cells and a whole layer,
// F.ctc_loss, F.embedding_bag, 3-D pooling. Included at the end of op_references.h, whose
// helpers (values, from, linear, sigmoid) they use.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "op_references.h"

namespace loom::ref {

// PyTorch's LSTM cell: gates x w_ih^T + b_ih + h w_hh^T + b_hh in the order
// i, f, g, o; returns [h'; c'] (stacked on a new first dim).
inline Tensor lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                        const Tensor& b_ih, const Tensor& b_hh) {
  const Values gi = values(ref::linear(x, w_ih, b_ih)), gh = values(ref::linear(h, w_hh, b_hh)), vc = values(c);
  const int64_t B = x.size(0), H = h.size(1);
  Values hn(static_cast<size_t>(B * H)), cn(hn.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) {
      auto gate = [&](int64_t q) { return gi[b * 4 * H + q * H + j] + gh[b * 4 * H + q * H + j]; };
      const double i = sigmoid(gate(0)), f = sigmoid(gate(1)), g = std::tanh(gate(2)), o = sigmoid(gate(3));
      cn[b * H + j] = f * vc[b * H + j] + i * g;
      hn[b * H + j] = o * std::tanh(cn[b * H + j]);
    }
  Values out = hn;
  out.insert(out.end(), cn.begin(), cn.end());
  return from(out, {2, B, H});
}

// PyTorch's GRU cell (gates r, z, n; b_hn inside r * (h W_hn^T + b_hn)).
inline Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                       const Tensor& b_hh) {
  const Values gi = values(ref::linear(x, w_ih, b_ih)), gh = values(ref::linear(h, w_hh, b_hh)), vh = values(h);
  const int64_t B = x.size(0), H = h.size(1);
  Values out(static_cast<size_t>(B * H));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) {
      const int64_t o = b * 3 * H + j;
      const double r = sigmoid(gi[o] + gh[o]), z = sigmoid(gi[o + H] + gh[o + H]);
      const double n = std::tanh(gi[o + 2 * H] + r * gh[o + 2 * H]);
      out[b * H + j] = (1 - z) * n + z * vh[b * H + j];
    }
  return from(out, {B, H});
}

// PyTorch's Elman RNN cell: h' = tanh (or relu) of x W_ih^T + b_ih + h W_hh^T + b_hh.
inline Tensor elman_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                         const Tensor& b_hh, bool relu) {
  const Values gi = values(ref::linear(x, w_ih, b_ih)), gh = values(ref::linear(h, w_hh, b_hh));
  Values out(gi.size());
  for (size_t i = 0; i < gi.size(); ++i) out[i] = relu ? std::max(gi[i] + gh[i], 0.0) : std::tanh(gi[i] + gh[i]);
  return from(out, {x.size(0), h.size(1)});
}

// One layer of a recurrent network over x [B, T, I] (batch_first), cell "lstm",
// "gru", "tanh" or "relu", zero initial states, both directions when w has 8
// tensors (forward, then reverse: w_ih, w_hh, b_ih, b_hh each): the output
// [B, T, D * H].
inline Tensor rnn_layer(const Tensor& x, const TensorList& w, const std::string& cell) {
  const int64_t B = x.size(0), T = x.size(1), H = w[1].size(1);
  TensorList dirs;
  for (size_t d = 0; d * 4 < w.size(); ++d) {
    Tensor h = zeros({B, H}, TensorOptions(DType::Float64)), c = h;
    TensorList steps(static_cast<size_t>(T));
    for (int64_t s = 0; s < T; ++s) {
      const int64_t step = d == 0 ? s : T - 1 - s;
      const Tensor xs = x.select(1, step).contiguous();
      if (cell == "gru") {
        h = ref::gru_cell(xs, h, w[4 * d], w[4 * d + 1], w[4 * d + 2], w[4 * d + 3]);
      } else if (cell == "tanh" || cell == "relu") {
        h = ref::elman_cell(xs, h, w[4 * d], w[4 * d + 1], w[4 * d + 2], w[4 * d + 3], cell == "relu");
      } else {
        const Tensor hc = ref::lstm_cell(xs, h, c, w[4 * d], w[4 * d + 1], w[4 * d + 2], w[4 * d + 3]);
        h = hc.select(0, 0).contiguous();
        c = hc.select(0, 1).contiguous();
      }
      steps[static_cast<size_t>(step)] = h;
    }
    dirs.push_back(stack(steps, 1));
  }
  return cat(dirs, 2);
}

// F.ctc_loss of log_probs [T, N, C]: the forward recursion over the extended
// labels in probability space (the samples are short), targets padded [N, S]
// or, with concatenated, read one after another from the flattened tensor.
inline Tensor ctc_loss(const Tensor& lp, const Tensor& targets, const Dims& in_lens, const Dims& tg_lens, int64_t blank,
                       const std::string& reduction, bool zero_infinity, bool concatenated = false) {
  const Values v = values(lp), tv = values(targets);
  const int64_t T = lp.size(0), N = lp.size(1), C = lp.size(2);
  const int64_t cols = targets.dim() == 2 ? targets.size(1) : 0;
  Values loss(N);
  int64_t off = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t L = tg_lens[n], Tn = in_lens[n];
    std::vector<int64_t> ext(2 * L + 1, blank);
    for (int64_t k = 0; k < L; ++k) ext[2 * k + 1] = static_cast<int64_t>(tv[(concatenated ? off : n * cols) + k]);
    off += L;
    const int64_t Sp = 2 * L + 1;
    std::vector<double> a(Sp, 0.0);
    for (int64_t t = 0; t < Tn; ++t) {
      std::vector<double> next(Sp, 0.0);
      for (int64_t s = 0; s < Sp; ++s) {
        double sum = 0;
        if (t == 0) sum = s < 2 ? 1.0 : 0.0;
        else {
          sum = a[s] + (s >= 1 ? a[s - 1] : 0.0);
          if (s >= 2 && ext[s] != blank && ext[s] != ext[s - 2]) sum += a[s - 2];
        }
        next[s] = sum * std::exp(v[(t * N + n) * C + ext[s]]);
      }
      a = next;
    }
    const double prob = Tn == 0 ? (L == 0 ? 1.0 : 0.0) : a[Sp - 1] + (Sp > 1 ? a[Sp - 2] : 0.0);
    loss[n] = prob > 0 ? -std::log(prob) : (zero_infinity ? 0.0 : std::numeric_limits<double>::infinity());
  }
  if (reduction == "none") return from(loss, {N});
  double s = 0;
  for (int64_t n = 0; n < N; ++n) s += reduction == "mean" ? loss[n] / std::max<int64_t>(tg_lens[n], 1) : loss[n];
  return from({reduction == "mean" ? s / static_cast<double>(N) : s}, {});
}

// F.embedding_bag of the flattened index with bags starting at offsets (the
// last running to the end): mode 0 sum (per-sample weights psw when defined),
// 1 mean, 2 max; entries equal to pad (-1: none) skipped; empty bags give 0.
inline Tensor embedding_bag(const Tensor& index, const Tensor& weight, const std::vector<int64_t>& offsets, int mode,
                            const Tensor& psw, int64_t pad) {
  const Values idx = values(index), w = values(weight), ps = psw.defined() ? values(psw) : Values();
  const int64_t D = weight.size(1), B = static_cast<int64_t>(offsets.size()), n = static_cast<int64_t>(idx.size());
  Values out(B * D, 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t end = b + 1 < B ? offsets[b + 1] : n;
    int64_t kept = 0;
    for (int64_t i = offsets[b]; i < end; ++i) {
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (r == pad) continue;
      for (int64_t d = 0; d < D; ++d) {
        const double v = w[r * D + d];
        double& o = out[b * D + d];
        if (mode == 2) o = kept == 0 ? v : std::max(o, v);
        else o += (ps.empty() ? 1.0 : ps[i]) * v;
      }
      ++kept;
    }
    if (mode == 1 && kept > 0)
      for (int64_t d = 0; d < D; ++d) out[b * D + d] /= static_cast<double>(kept);
  }
  return from(out, {B, D});
}

// 3-D pooling of x [N, C, D, H, W] over windows k with stride s and padding p (floor
// mode, no dilation): the maximum, or the mean over the window with its padding
// (count_pad) or without.
inline Tensor pool3d(const Tensor& x, const Dims& k, const Dims& s, const Dims& p, bool max, bool count_pad = true) {
  const int64_t NC = x.size(0) * x.size(1), D = x.size(2), H = x.size(3), W = x.size(4);
  int64_t O[3];
  for (int a = 0; a < 3; ++a) O[a] = (x.size(2 + a) + 2 * p[a] - k[a]) / s[a] + 1;
  const Values vx = values(x);
  Values out(static_cast<size_t>(NC * O[0] * O[1] * O[2]));
  size_t at = 0;
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t od = 0; od < O[0]; ++od)
      for (int64_t oh = 0; oh < O[1]; ++oh)
        for (int64_t ow = 0; ow < O[2]; ++ow) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t count = 0;
          for (int64_t a = 0; a < k[0]; ++a)
            for (int64_t b = 0; b < k[1]; ++b)
              for (int64_t c = 0; c < k[2]; ++c) {
                const int64_t id = od * s[0] - p[0] + a, ih = oh * s[1] - p[1] + b, iw = ow * s[2] - p[2] + c;
                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) {
                  count += count_pad;
                  continue;
                }
                const double v = vx[((nc * D + id) * H + ih) * W + iw];
                best = std::max(best, v);
                sum += v;
                ++count;
              }
          out[at++] = max ? best : sum / static_cast<double>(count);
        }
  return from(out, {x.size(0), x.size(1), O[0], O[1], O[2]});
}

}  // namespace loom::ref
