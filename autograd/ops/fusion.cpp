// Fusion front ends (linear, linear2, gated_fusion, film, bilinear_pool,
// clip_loss): argument checks, output allocation, the GEMMs (through
// kernels::{cpu,cuda}::gemm, accumulating with beta = 1 into column slices of
// one output instead of concatenating), the fused epilogue kernels of
// kernels/{cpu,cuda}/fusion, and the backward nodes beside them. A backward
// runs the fused backward kernels plus GEMMs; under create_graph it instead
// differentiates a composition of loom ops (cat, matmul, sigmoid, ...) so
// double backward works.
#include "autograd/ops/fusion.h"

#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "kernels/matmul.h"
#include "kernels/fusion.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::cpu::Activation;

namespace {

void* ptr(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

void check_arg(const char* op, const char* name, const Tensor& t, int64_t dim, const Tensor& ref) {
  LOOM_CHECK(t.defined(), op, ": ", name, " is undefined");
  LOOM_CHECK(t.dim() == dim, op, ": expected ", name, " to have ", dim, " dims, got shape ", t.sizes());
  LOOM_CHECK_TYPE(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, op,
                  ": expected float32 or float64 tensors, got ", name, " of dtype ", dtype_name(t.dtype()));
  LOOM_CHECK_TYPE(t.dtype() == ref.dtype(), op, ": expected ", name, " of dtype ", dtype_name(ref.dtype()), ", got ",
                  dtype_name(t.dtype()));
  LOOM_CHECK(t.device() == ref.device(), op, ": expected ", name, " on ", ref.device().str(), ", got ",
             t.device().str());
}

Tensor c2(const Tensor& t) { return t.detach().contiguous(); }

// C = alpha op(A) op(B) + beta C for row-major matrices given by pointers and
// row strides, on the device of `ref`.
void gemm(const Tensor& ref, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* A,
          int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  LOOM_DEVICE_DISPATCH(ref.device(),
                       ops::kc::gemm(ref.dtype(), ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1),
                       ops::kg::gemm(ref.dtype(), ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1,
                                     allow_tf32(), ops::stream_of(ref.device())));
}

// out [M, Out] = a [M, Da] W[:, :Da]^T + b [M, Db] W[:, Da:]^T (+ bias rows).
// All operands contiguous; no autograd.
void linear2_raw(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& bias) {
  const int64_t M = a.size(0), Da = a.size(1), Db = b.size(1), O = W.size(0), ld = Da + Db;
  double beta = 0.0;
  if (bias.defined()) {
    ops::copy_raw(out, bias, false);
    beta = 1.0;
  }
  const char* w = static_cast<const char*>(W.data_ptr());
  gemm(a, false, true, M, O, Da, 1.0, a.data_ptr(), Da, w, ld, beta, out.data_ptr(), O);
  gemm(a, false, true, M, O, Db, 1.0, b.data_ptr(), Db, w + Da * W.element_size(), ld, 1.0, out.data_ptr(), O);
}

// Under create_graph: the gradients of `composed(inputs)` (a differentiable
// composition of loom ops) for the inputs that require grad.
TensorList composed_grads(const std::function<Tensor(const TensorList&)>& composed, const TensorList& inputs,
                          const Tensor& grad) {
  TensorList want;
  for (auto& t : inputs)
    if (t.defined() && t.requires_grad()) want.push_back(t);
  TensorList out(inputs.size());
  if (want.empty()) return out;
  Tensor y = composed(inputs);
  TensorList g = autograd::grad({y}, want, {grad}, true, true, true);
  size_t k = 0;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) out[i] = g[k++];
  return out;
}

bool needs(const Tensor& t) { return t.defined() && t.requires_grad(); }

Tensor linear2_composed(const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& bias) {
  Tensor y = matmul(cat({a, b}, -1), W.t());
  return bias.defined() ? y + bias : y;
}

}  // namespace

// ---------------------------------------------------------------- linear2

Tensor linear2(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias) {
  OpScope scope(Op::linear2, {&a, &b, &weight, &bias});
  const char* op = "linear2";
  LOOM_CHECK(a.defined() && a.dim() >= 1, op, ": expected a of shape [*, Da]");
  check_arg(op, "a", a, a.dim(), a);
  check_arg(op, "b", b, a.dim(), a);
  check_arg(op, "weight", weight, 2, a);
  Shape lead_a(a.sizes().begin(), a.sizes().end() - 1), lead_b(b.sizes().begin(), b.sizes().end() - 1);
  LOOM_CHECK(lead_a == lead_b, op, ": a ", a.sizes(), " and b ", b.sizes(), " must have the same leading dims");
  const int64_t Da = a.size(-1), Db = b.size(-1), O = weight.size(0);
  LOOM_CHECK(weight.size(1) == Da + Db, op, ": weight ", weight.sizes(), " must be [Out, Da + Db] = [Out, ", Da + Db,
             "] for a ", a.sizes(), " and b ", b.sizes());
  if (bias.defined()) {
    check_arg(op, "bias", bias, 1, a);
    LOOM_CHECK(bias.size(0) == O, op, ": expected bias of shape [", O, "], got ", bias.sizes());
  }
  int64_t M = 1;
  for (auto s : lead_a) M *= s;
  Tensor ac = c2(a).view({M, Da}), bc = c2(b).view({M, Db}), Wc = c2(weight);
  Tensor bi = bias.defined() ? c2(bias) : Tensor();
  Tensor out = ops::new_empty({M, O}, a.dtype(), a.device());
  linear2_raw(out, ac, bc, Wc, bi);
  Shape out_shape = lead_a;
  out_shape.push_back(O);
  out = out.view(out_shape);
  if (autograd::any_requires_grad({&a, &b, &weight, &bias})) {
    SavedTensor sa(a), sb(b), sw(weight), sbias(bias);
    auto node = std::make_shared<LambdaNode>("Linear2Backward", [=](const TensorList& g) -> TensorList {
      const char* nm = "Linear2Backward";
      Tensor ta = sa.unpack(nm), tb = sb.unpack(nm), tw = sw.unpack(nm);
      Tensor tbias = sbias.defined() ? sbias.unpack(nm) : Tensor();
      if (!g[0].defined()) return {Tensor(), Tensor(), Tensor(), Tensor()};
      if (autograd::grad_enabled())
        return composed_grads([](const TensorList& t) { return linear2_composed(t[0], t[1], t[2], t[3]); },
                              {ta, tb, tw, tbias}, g[0]);
      Tensor go = c2(g[0]).view({M, O});
      Tensor A = c2(ta).view({M, Da}), B = c2(tb).view({M, Db}), W = c2(tw);
      const size_t es = W.element_size();
      const char* w = static_cast<const char*>(W.data_ptr());
      Tensor ga, gb, gw, gbias;
      if (needs(ta)) {
        ga = ops::new_empty({M, Da}, A.dtype(), A.device());
        gemm(A, false, false, M, Da, O, 1.0, go.data_ptr(), O, w, Da + Db, 0.0, ga.data_ptr(), Da);
        ga = ga.view(ta.sizes());
      }
      if (needs(tb)) {
        gb = ops::new_empty({M, Db}, A.dtype(), A.device());
        gemm(A, false, false, M, Db, O, 1.0, go.data_ptr(), O, w + Da * es, Da + Db, 0.0, gb.data_ptr(), Db);
        gb = gb.view(tb.sizes());
      }
      if (needs(tw)) {
        gw = ops::new_empty({O, Da + Db}, A.dtype(), A.device());
        char* p = static_cast<char*>(gw.data_ptr());
        if (M == 0) gw.zero_();
        gemm(A, true, false, O, Da, M, 1.0, go.data_ptr(), O, A.data_ptr(), Da, 0.0, p, Da + Db);
        gemm(A, true, false, O, Db, M, 1.0, go.data_ptr(), O, B.data_ptr(), Db, 0.0, p + Da * es, Da + Db);
      }
      if (needs(tbias)) gbias = go.sum({0});
      return {ga, gb, gw, gbias};
    });
    autograd::attach(node, {a, b, weight, bias}, out);
  }
  return out;
}

// ---------------------------------------------------------------- gated_fusion

Tensor gated_fusion(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias) {
  OpScope scope(Op::gated_fusion, {&a, &b, &weight, &bias});
  const char* op = "gated_fusion";
  LOOM_CHECK(a.defined(), op, ": a is undefined");
  check_arg(op, "a", a, 2, a);
  check_arg(op, "b", b, 2, a);
  check_arg(op, "weight", weight, 2, a);
  check_arg(op, "bias", bias, 1, a);
  const int64_t B = a.size(0), D = a.size(1);
  LOOM_CHECK(b.sizes() == a.sizes(), op, ": a ", a.sizes(), " and b ", b.sizes(), " must have the same shape [B, D]");
  LOOM_CHECK(weight.sizes() == Shape({D, 2 * D}), op, ": expected weight of shape [", D, ", ", 2 * D, "], got ",
             weight.sizes());
  LOOM_CHECK(bias.sizes() == Shape({D}), op, ": expected bias of shape [", D, "], got ", bias.sizes());
  Tensor ac = c2(a), bc = c2(b), Wc = c2(weight), cc = c2(bias);
  Tensor gate = ops::new_empty({B, D}, a.dtype(), a.device());
  Tensor out = ops::new_empty({B, D}, a.dtype(), a.device());
  // z = a W_a^T + b W_b^T (the bias is added in the epilogue), then turned
  // into the gate in place.
  linear2_raw(gate, ac, bc, Wc, Tensor());
  const int64_t n = B * D;
  if (n > 0)
    LOOM_DEVICE_DISPATCH(
        a.device(),
        kernels::cpu::gated_fusion_forward(a.dtype(), out.data_ptr(), gate.data_ptr(), gate.data_ptr(), cc.data_ptr(),
                                           ac.data_ptr(), bc.data_ptr(), B, D),
        kernels::cuda::gated_fusion_forward(a.dtype(), out.data_ptr(), gate.data_ptr(), gate.data_ptr(), cc.data_ptr(),
                                            ac.data_ptr(), bc.data_ptr(), B, D, ops::stream_of(a.device())));
  if (autograd::any_requires_grad({&a, &b, &weight, &bias})) {
    SavedTensor sa(a), sb(b), sw(weight), sc(bias), sg(gate);
    auto node = std::make_shared<LambdaNode>("GatedFusionBackward", [=](const TensorList& g) -> TensorList {
      const char* nm = "GatedFusionBackward";
      Tensor ta = sa.unpack(nm), tb = sb.unpack(nm), tw = sw.unpack(nm), tc = sc.unpack(nm);
      if (!g[0].defined()) return {Tensor(), Tensor(), Tensor(), Tensor()};
      if (autograd::grad_enabled())
        return composed_grads(
            [](const TensorList& t) {
              Tensor gt = linear2_composed(t[0], t[1], t[2], t[3]).sigmoid();
              return gt * t[0] + (1.0 - gt) * t[1];
            },
            {ta, tb, tw, tc}, g[0]);
      Tensor go = c2(g[0]), A = c2(ta), Bm = c2(tb), W = c2(tw), gt = sg.unpack(nm);
      const bool na = needs(ta), nb = needs(tb);
      Tensor dz = ops::new_empty({B, D}, A.dtype(), A.device());
      Tensor da = na ? ops::new_empty({B, D}, A.dtype(), A.device()) : Tensor();
      Tensor db = nb ? ops::new_empty({B, D}, A.dtype(), A.device()) : Tensor();
      if (n > 0)
        LOOM_DEVICE_DISPATCH(
            A.device(),
            kernels::cpu::gated_fusion_backward(A.dtype(), dz.data_ptr(), ptr(da), ptr(db), go.data_ptr(), A.data_ptr(),
                                                Bm.data_ptr(), gt.data_ptr(), n),
            kernels::cuda::gated_fusion_backward(A.dtype(), dz.data_ptr(), ptr(da), ptr(db), go.data_ptr(),
                                                 A.data_ptr(), Bm.data_ptr(), gt.data_ptr(), n,
                                                 ops::stream_of(A.device())));
      const size_t es = W.element_size();
      const char* w = static_cast<const char*>(W.data_ptr());
      if (na) gemm(A, false, false, B, D, D, 1.0, dz.data_ptr(), D, w, 2 * D, 1.0, da.data_ptr(), D);
      if (nb) gemm(A, false, false, B, D, D, 1.0, dz.data_ptr(), D, w + D * es, 2 * D, 1.0, db.data_ptr(), D);
      Tensor dw, dc;
      if (needs(tw)) {
        dw = ops::new_empty({D, 2 * D}, A.dtype(), A.device());
        if (B == 0) dw.zero_();
        char* p = static_cast<char*>(dw.data_ptr());
        gemm(A, true, false, D, D, B, 1.0, dz.data_ptr(), D, A.data_ptr(), D, 0.0, p, 2 * D);
        gemm(A, true, false, D, D, B, 1.0, dz.data_ptr(), D, Bm.data_ptr(), D, 0.0, p + D * es, 2 * D);
      }
      if (needs(tc)) dc = dz.sum({0});
      return {da, db, dw, dc};
    });
    autograd::attach(node, {a, b, weight, bias}, out);
  }
  return out;
}

// ---------------------------------------------------------------- film

Tensor film(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias) {
  OpScope scope(Op::film, {&a, &b, &weight, &bias});
  const char* op = "film";
  LOOM_CHECK(a.defined(), op, ": a is undefined");
  check_arg(op, "a", a, 2, a);
  check_arg(op, "b", b, 2, a);
  check_arg(op, "weight", weight, 2, a);
  check_arg(op, "bias", bias, 1, a);
  const int64_t B = a.size(0), D = a.size(1), Db = b.size(1);
  LOOM_CHECK(b.size(0) == B, op, ": a ", a.sizes(), " and b ", b.sizes(), " must have the same batch size");
  LOOM_CHECK(weight.sizes() == Shape({2 * D, Db}), op, ": expected weight of shape [", 2 * D, ", ", Db, "], got ",
             weight.sizes());
  LOOM_CHECK(bias.sizes() == Shape({2 * D}), op, ": expected bias of shape [", 2 * D, "], got ", bias.sizes());
  Tensor ac = c2(a), bc = c2(b), Wc = c2(weight), cc = c2(bias);
  Tensor gb = ops::new_empty({B, 2 * D}, a.dtype(), a.device());
  if (B > 0) {
    ops::copy_raw(gb, cc, false);
    gemm(a, false, true, B, 2 * D, Db, 1.0, bc.data_ptr(), Db, Wc.data_ptr(), Db, 1.0, gb.data_ptr(), 2 * D);
  }
  Tensor out = ops::new_empty({B, D}, a.dtype(), a.device());
  if (B * D > 0)
    LOOM_DEVICE_DISPATCH(a.device(),
                         kernels::cpu::film_forward(a.dtype(), out.data_ptr(), gb.data_ptr(), ac.data_ptr(), B, D),
                         kernels::cuda::film_forward(a.dtype(), out.data_ptr(), gb.data_ptr(), ac.data_ptr(), B, D,
                                                     ops::stream_of(a.device())));
  if (autograd::any_requires_grad({&a, &b, &weight, &bias})) {
    SavedTensor sa(a), sb(b), sw(weight), sc(bias), sgb(gb);
    auto node = std::make_shared<LambdaNode>("FilmBackward", [=](const TensorList& g) -> TensorList {
      const char* nm = "FilmBackward";
      Tensor ta = sa.unpack(nm), tb = sb.unpack(nm), tw = sw.unpack(nm), tc = sc.unpack(nm);
      if (!g[0].defined()) return {Tensor(), Tensor(), Tensor(), Tensor()};
      if (autograd::grad_enabled())
        return composed_grads(
            [D](const TensorList& t) {
              Tensor p = matmul(t[1], t[2].t()) + t[3];
              return p.narrow(1, 0, D) * t[0] + p.narrow(1, D, D);
            },
            {ta, tb, tw, tc}, g[0]);
      Tensor go = c2(g[0]), A = c2(ta), Bm = c2(tb), W = c2(tw), p = sgb.unpack(nm);
      Tensor dgb = ops::new_empty({B, 2 * D}, A.dtype(), A.device());
      Tensor da = needs(ta) ? ops::new_empty({B, D}, A.dtype(), A.device()) : Tensor();
      if (B * D > 0)
        LOOM_DEVICE_DISPATCH(
            A.device(),
            kernels::cpu::film_backward(A.dtype(), dgb.data_ptr(), ptr(da), go.data_ptr(), p.data_ptr(), A.data_ptr(),
                                        B, D),
            kernels::cuda::film_backward(A.dtype(), dgb.data_ptr(), ptr(da), go.data_ptr(), p.data_ptr(), A.data_ptr(),
                                         B, D, ops::stream_of(A.device())));
      Tensor db, dw, dc;
      if (needs(tb)) {
        db = ops::new_empty({B, Db}, A.dtype(), A.device());
        gemm(A, false, false, B, Db, 2 * D, 1.0, dgb.data_ptr(), 2 * D, W.data_ptr(), Db, 0.0, db.data_ptr(), Db);
      }
      if (needs(tw)) {
        dw = ops::new_empty({2 * D, Db}, A.dtype(), A.device());
        if (B == 0) dw.zero_();
        gemm(A, true, false, 2 * D, Db, B, 1.0, dgb.data_ptr(), 2 * D, Bm.data_ptr(), Db, 0.0, dw.data_ptr(), Db);
      }
      if (needs(tc)) dc = dgb.sum({0});
      return {da, db, dw, dc};
    });
    autograd::attach(node, {a, b, weight, bias}, out);
  }
  return out;
}

// ---------------------------------------------------------------- bilinear_pool

Tensor bilinear_pool(const Tensor& a, const Tensor& b, const Tensor& U, const Tensor& V, const Tensor& P) {
  OpScope scope(Op::bilinear_pool, {&a, &b, &U, &V, &P});
  const char* op = "bilinear_pool";
  LOOM_CHECK(a.defined(), op, ": a is undefined");
  check_arg(op, "a", a, 2, a);
  check_arg(op, "b", b, 2, a);
  check_arg(op, "U", U, 2, a);
  check_arg(op, "V", V, 2, a);
  check_arg(op, "P", P, 2, a);
  const int64_t B = a.size(0), Da = a.size(1), Db = b.size(1), R = U.size(0), O = P.size(0);
  LOOM_CHECK(b.size(0) == B, op, ": a ", a.sizes(), " and b ", b.sizes(), " must have the same batch size");
  LOOM_CHECK(U.size(1) == Da, op, ": expected U of shape [R, ", Da, "], got ", U.sizes());
  LOOM_CHECK(V.sizes() == Shape({R, Db}), op, ": expected V of shape [", R, ", ", Db, "] (R from U ", U.sizes(),
             "), got ", V.sizes());
  LOOM_CHECK(P.size(1) == R, op, ": expected P of shape [O, ", R, "], got ", P.sizes());
  Tensor ac = c2(a), bc = c2(b), Uc = c2(U), Vc = c2(V), Pc = c2(P);
  const auto dt = a.dtype();
  const Device dev = a.device();
  Tensor pa = ops::new_empty({B, R}, dt, dev), pb = ops::new_empty({B, R}, dt, dev),
         h = ops::new_empty({B, R}, dt, dev);
  Tensor out = ops::new_empty({B, O}, dt, dev);
  gemm(a, false, true, B, R, Da, 1.0, ac.data_ptr(), Da, Uc.data_ptr(), Da, 0.0, pa.data_ptr(), R);
  gemm(a, false, true, B, R, Db, 1.0, bc.data_ptr(), Db, Vc.data_ptr(), Db, 0.0, pb.data_ptr(), R);
  if (B * R > 0)
    LOOM_DEVICE_DISPATCH(
        dev, kernels::cpu::bilinear_product(dt, h.data_ptr(), pa.data_ptr(), pb.data_ptr(), B * R),
        kernels::cuda::bilinear_product(dt, h.data_ptr(), pa.data_ptr(), pb.data_ptr(), B * R, ops::stream_of(dev)));
  gemm(a, false, true, B, O, R, 1.0, h.data_ptr(), R, Pc.data_ptr(), R, 0.0, out.data_ptr(), O);
  if (autograd::any_requires_grad({&a, &b, &U, &V, &P})) {
    SavedTensor sa(a), sb(b), su(U), sv(V), sp(P), spa(pa), spb(pb), sh(h);
    auto node = std::make_shared<LambdaNode>("BilinearPoolBackward", [=](const TensorList& g) -> TensorList {
      const char* nm = "BilinearPoolBackward";
      Tensor ta = sa.unpack(nm), tb = sb.unpack(nm), tu = su.unpack(nm), tv = sv.unpack(nm), tp = sp.unpack(nm);
      if (!g[0].defined()) return TensorList(5);
      if (autograd::grad_enabled())
        return composed_grads(
            [](const TensorList& t) { return matmul(matmul(t[0], t[2].t()) * matmul(t[1], t[3].t()), t[4].t()); },
            {ta, tb, tu, tv, tp}, g[0]);
      Tensor go = c2(g[0]), A = c2(ta), Bm = c2(tb), Uc2 = c2(tu), Vc2 = c2(tv), Pc2 = c2(tp);
      Tensor xa = spa.unpack(nm), xb = spb.unpack(nm), hh = sh.unpack(nm);
      TensorList res(5);
      if (needs(tp)) {
        res[4] = ops::new_empty({O, R}, dt, dev);
        if (B == 0) res[4].zero_();
        gemm(A, true, false, O, R, B, 1.0, go.data_ptr(), O, hh.data_ptr(), R, 0.0, res[4].data_ptr(), R);
      }
      const bool want_a = needs(ta) || needs(tu), want_b = needs(tb) || needs(tv);
      if (!want_a && !want_b) return res;
      Tensor dh = ops::new_empty({B, R}, dt, dev);
      gemm(A, false, false, B, R, O, 1.0, go.data_ptr(), O, Pc2.data_ptr(), R, 0.0, dh.data_ptr(), R);
      Tensor dpa = want_a ? ops::new_empty({B, R}, dt, dev) : Tensor();
      Tensor dpb = want_b ? ops::new_empty({B, R}, dt, dev) : Tensor();
      if (B * R > 0)
        LOOM_DEVICE_DISPATCH(
            dev,
            kernels::cpu::bilinear_product_backward(dt, ptr(dpa), ptr(dpb), dh.data_ptr(), xa.data_ptr(), xb.data_ptr(),
                                                    B * R),
            kernels::cuda::bilinear_product_backward(dt, ptr(dpa), ptr(dpb), dh.data_ptr(), xa.data_ptr(),
                                                     xb.data_ptr(), B * R, ops::stream_of(dev)));
      auto input_grad = [&](const Tensor& dp, const Tensor& x, const Tensor& W, int64_t Dx, bool need_x, bool need_w,
                            Tensor& gx, Tensor& gw) {
        if (need_x) {
          gx = ops::new_empty({B, Dx}, dt, dev);
          gemm(A, false, false, B, Dx, R, 1.0, dp.data_ptr(), R, W.data_ptr(), Dx, 0.0, gx.data_ptr(), Dx);
        }
        if (need_w) {
          gw = ops::new_empty({R, Dx}, dt, dev);
          if (B == 0) gw.zero_();
          gemm(A, true, false, R, Dx, B, 1.0, dp.data_ptr(), R, x.data_ptr(), Dx, 0.0, gw.data_ptr(), Dx);
        }
      };
      if (want_a) input_grad(dpa, A, Uc2, Da, needs(ta), needs(tu), res[0], res[2]);
      if (want_b) input_grad(dpb, Bm, Vc2, Db, needs(tb), needs(tv), res[1], res[3]);
      return res;
    });
    autograd::attach(node, {a, b, U, V, P}, out);
  }
  return out;
}

// ---------------------------------------------------------------- clip_loss

namespace {

Tensor clip_loss_composed(const Tensor& img, const Tensor& txt, const Tensor& logit_scale) {
  const int64_t N = img.size(0);
  Tensor logits = matmul(img, txt.t()) * logit_scale.reshape({}).exp();
  Tensor eye_n = eye(N, {}, TensorOptions(img.dtype(), img.device()));
  Tensor lr = (logits.log_softmax(1) * eye_n).sum();
  Tensor lc = (logits.log_softmax(0) * eye_n).sum();
  return (lr + lc) * (-0.5 / static_cast<double>(N));
}

}  // namespace

Tensor clip_loss(const Tensor& img, const Tensor& txt, const Tensor& logit_scale) {
  OpScope scope(Op::clip_loss, {&img, &txt, &logit_scale});
  const char* op = "clip_loss";
  LOOM_CHECK(img.defined(), op, ": img is undefined");
  check_arg(op, "img", img, 2, img);
  check_arg(op, "txt", txt, 2, img);
  LOOM_CHECK(logit_scale.defined() && logit_scale.numel() == 1, op,
             ": expected logit_scale to be a one-element tensor, got shape ",
             logit_scale.defined() ? logit_scale.sizes() : Shape{});
  check_arg(op, "logit_scale", logit_scale, logit_scale.dim(), img);
  LOOM_CHECK(img.sizes() == txt.sizes(), op, ": img ", img.sizes(), " and txt ", txt.sizes(),
             " must have the same shape [N, E]");
  const int64_t N = img.size(0), E = img.size(1);
  LOOM_CHECK(N > 0, op, ": expected at least one pair, got img ", img.sizes());
  const auto dt = img.dtype();
  const Device dev = img.device();
  Tensor I = c2(img), T = c2(txt), ls = c2(logit_scale);
  Tensor sim = ops::new_empty({N, N}, dt, dev);
  if (E == 0) sim.zero_();
  gemm(img, false, true, N, N, E, 1.0, I.data_ptr(), E, T.data_ptr(), E, 0.0, sim.data_ptr(), N);
  Tensor loss = ops::new_empty({}, dt, dev);
  Tensor row_lse = ops::new_empty({N}, dt, dev), col_lse = ops::new_empty({N}, dt, dev);
  LOOM_DEVICE_DISPATCH(dev,
                       kernels::cpu::clip_loss_forward(dt, loss.data_ptr(), row_lse.data_ptr(), col_lse.data_ptr(),
                                                       sim.data_ptr(), ls.data_ptr(), N),
                       kernels::cuda::clip_loss_forward(dt, loss.data_ptr(), row_lse.data_ptr(), col_lse.data_ptr(),
                                                        sim.data_ptr(), ls.data_ptr(), N, ops::stream_of(dev)));
  if (autograd::any_requires_grad({&img, &txt, &logit_scale})) {
    SavedTensor si(img), st(txt), sl(logit_scale), ssim(sim), sr(row_lse), sc(col_lse);
    auto node = std::make_shared<LambdaNode>("ClipLossBackward", [=](const TensorList& g) -> TensorList {
      const char* nm = "ClipLossBackward";
      Tensor ti = si.unpack(nm), tt = st.unpack(nm), tl = sl.unpack(nm);
      if (!g[0].defined()) return TensorList(3);
      if (autograd::grad_enabled())
        return composed_grads([](const TensorList& t) { return clip_loss_composed(t[0], t[1], t[2]); }, {ti, tt, tl},
                              g[0]);
      Tensor Ic = c2(ti), Tc = c2(tt), lsc = c2(tl), go = c2(g[0]);
      Tensor S = ssim.unpack(nm), rl = sr.unpack(nm), cl = sc.unpack(nm);
      Tensor dS = ops::new_empty({N, N}, dt, dev), part = ops::new_empty({N}, dt, dev);
      LOOM_DEVICE_DISPATCH(
          dev,
          kernels::cpu::clip_loss_backward(dt, dS.data_ptr(), part.data_ptr(), go.data_ptr(), S.data_ptr(),
                                           rl.data_ptr(), cl.data_ptr(), lsc.data_ptr(), N),
          kernels::cuda::clip_loss_backward(dt, dS.data_ptr(), part.data_ptr(), go.data_ptr(), S.data_ptr(),
                                            rl.data_ptr(), cl.data_ptr(), lsc.data_ptr(), N, ops::stream_of(dev)));
      TensorList res(3);
      if (needs(ti)) {
        res[0] = ops::new_empty({N, E}, dt, dev);
        gemm(Ic, false, false, N, E, N, 1.0, dS.data_ptr(), N, Tc.data_ptr(), E, 0.0, res[0].data_ptr(), E);
      }
      if (needs(tt)) {
        res[1] = ops::new_empty({N, E}, dt, dev);
        gemm(Ic, true, false, N, E, N, 1.0, dS.data_ptr(), N, Ic.data_ptr(), E, 0.0, res[1].data_ptr(), E);
      }
      if (needs(tl)) res[2] = part.sum().reshape(tl.sizes());
      return res;
    });
    autograd::attach(node, {img, txt, logit_scale}, loss);
  }
  return loss;
}

// ---------------------------------------------------------------- linear

namespace {

Activation parse_activation(const std::string& s) {
  if (s == "none") return Activation::None;
  if (s == "relu") return Activation::Relu;
  if (s == "gelu") return Activation::Gelu;
  LOOM_THROW(ErrorKind::Value, "linear: activation must be \"none\", \"relu\" or \"gelu\", got \"", s, "\"");
}

Tensor activate_composed(const Tensor& z, Activation act) {
  if (act == Activation::Relu) return z.relu();
  if (act == Activation::Gelu) return z.gelu("tanh");
  return z;
}

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::string& activation) {
  OpScope scope(Op::linear, {&input, &weight, &bias});
  const char* op = "linear";
  const Activation act = parse_activation(activation);
  LOOM_CHECK(input.defined() && input.dim() >= 1, op, ": expected input of shape [*, in_features]");
  check_arg(op, "input", input, input.dim(), input);
  check_arg(op, "weight", weight, 2, input);
  const int64_t In = input.size(-1), O = weight.size(0);
  LOOM_CHECK(weight.size(1) == In, op, ": input ", input.sizes(), " and weight ", weight.sizes(),
             " cannot be multiplied (expected weight of shape [out_features, ", In, "])");
  if (bias.defined()) {
    check_arg(op, "bias", bias, 1, input);
    LOOM_CHECK(bias.size(0) == O, op, ": expected bias of shape [", O, "], got ", bias.sizes());
  }
  Shape lead(input.sizes().begin(), input.sizes().end() - 1);
  int64_t rows = 1;
  for (auto s : lead) rows *= s;
  const auto dt = input.dtype();
  const Device dev = input.device();
  Tensor X = c2(input).view({rows, In}), W = c2(weight), bc = bias.defined() ? c2(bias) : Tensor();
  const bool grad = autograd::any_requires_grad({&input, &weight, &bias});
  // GELU's backward needs the pre-activation; ReLU's reads the output.
  Tensor y = ops::new_empty({rows, O}, dt, dev);
  Tensor pre = (grad && act == Activation::Gelu) ? ops::new_empty({rows, O}, dt, dev) : Tensor();
  if (rows * O > 0) {
    if (In == 0) y.zero_();
    ops::on_device(
        dev, "linear",
        [&] {
          gemm(input, false, true, rows, O, In, 1.0, X.data_ptr(), In, W.data_ptr(), In, 0.0, y.data_ptr(), O);
          if (bc.defined() || act != Activation::None || pre.defined())
            kernels::cpu::bias_activation(dt, y.data_ptr(), ptr(pre), ptr(bc), rows, O, act);
        },
        [&](cudaStream_t stream) {
          const size_t ws_bytes = kernels::cuda::linear_workspace_bytes();
          Tensor ws = ops::new_empty({static_cast<int64_t>(ws_bytes / 4)}, DType::Float32, dev);
          kernels::cuda::linear_forward(dt, y.data_ptr(), ptr(pre), X.data_ptr(), W.data_ptr(), ptr(bc), rows, O, In,
                                        static_cast<int>(act), allow_tf32(), ws.data_ptr(), ws_bytes, stream);
        });
  }
  Shape out_shape = lead;
  out_shape.push_back(O);
  Tensor out = y.view(out_shape);
  if (grad) {
    SavedTensor sx(input), sw(weight), sb(bias), ssaved;
    if (act == Activation::Relu) ssaved = SavedTensor(out, true);
    if (act == Activation::Gelu) ssaved = SavedTensor(pre);
    auto node = std::make_shared<LambdaNode>("LinearBackward", [=](const TensorList& g) -> TensorList {
      const char* nm = "LinearBackward";
      Tensor tx = sx.unpack(nm), tw = sw.unpack(nm), tb = sb.defined() ? sb.unpack(nm) : Tensor();
      if (!g[0].defined()) return TensorList(3);
      if (autograd::grad_enabled())
        return composed_grads(
            [act](const TensorList& t) {
              Tensor z = matmul(t[0], t[1].t());
              if (t[2].defined()) z = z + t[2];
              return activate_composed(z, act);
            },
            {tx, tw, tb}, g[0]);
      Tensor dz = c2(g[0]).view({rows, O});
      if (act != Activation::None) {
        Tensor saved = ssaved.unpack(nm);
        Tensor d = ops::new_empty({rows, O}, dt, dev);
        if (rows * O > 0)
          LOOM_DEVICE_DISPATCH(
              dev, kernels::cpu::activation_backward(dt, d.data_ptr(), dz.data_ptr(), saved.data_ptr(), rows * O, act),
              kernels::cuda::activation_backward(dt, d.data_ptr(), dz.data_ptr(), saved.data_ptr(), rows * O,
                                                 static_cast<int>(act), ops::stream_of(dev)));
        dz = d;
      }
      TensorList res(3);
      Tensor Xc = c2(tx).view({rows, In}), Wc = c2(tw);
      if (needs(tx)) {
        res[0] = ops::new_empty({rows, In}, dt, dev);
        if (O == 0) res[0].zero_();
        gemm(Xc, false, false, rows, In, O, 1.0, dz.data_ptr(), O, Wc.data_ptr(), In, 0.0, res[0].data_ptr(), In);
        res[0] = res[0].view(tx.sizes());
      }
      if (needs(tw)) {
        res[1] = ops::new_empty({O, In}, dt, dev);
        if (rows == 0) res[1].zero_();
        gemm(Xc, true, false, O, In, rows, 1.0, dz.data_ptr(), O, Xc.data_ptr(), In, 0.0, res[1].data_ptr(), In);
      }
      if (needs(tb)) res[2] = dz.sum({0});
      return res;
    });
    // Backward without create_graph: two GEMMs (dX, dW), the bias sum.
    const double item = double(input.element_size());
    node->cost_flops = 4 * double(rows) * double(O) * double(In) + (bias.defined() ? double(rows * O) : 0);
    node->cost_bytes = item * (double(rows * O) + 2 * double(rows * In) + 2 * double(O * In));
    node->cost_tensor_core = true;
    autograd::attach(node, {input, weight, bias}, out);
  }
  return out;
}

}  // namespace loom
