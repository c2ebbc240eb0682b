// scaled_dot_product_attention: checks, mask strides, dropout reservation,
// dispatch to the fused kernels, and the backward node that keeps q, k, v,
// the output, the log-sum-exp and the Philox (seed, offset) of the dropout.
#include "autograd/ops/attention.h"

#include <cmath>

#include "autograd/ops/common.h"
#include "core/random.h"
#include "kernels/attention.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";
constexpr const char* kBackwardName = "ScaledDotProductAttentionBackward0";

// q, k, v as [B,H,L,D] views (3-D inputs get H = 1).
Tensor as4(const Tensor& t) { return t.dim() == 3 ? t.unsqueeze(1) : t; }

void check_qkv(const Tensor& q, const Tensor& k, const Tensor& v, double dropout_p) {
  LOOM_CHECK(q.defined() && k.defined() && v.defined(), kOp, ": query, key and value must be defined");
  LOOM_CHECK((q.dim() == 3 || q.dim() == 4) && k.dim() == q.dim() && v.dim() == q.dim(), kOp,
             ": expected query, key and value of the same rank, [B,H,L,E] or [B,L,E], got ", q.sizes(), ", ", k.sizes(),
             " and ", v.sizes());
  ops::check_same_device(kOp, {&q, &k, &v});
  LOOM_CHECK_TYPE(q.dtype() == DType::Float32 || q.dtype() == DType::Float64, kOp,
                  ": expected float32 or float64 query, got ", dtype_name(q.dtype()));
  LOOM_CHECK_TYPE(k.dtype() == q.dtype() && v.dtype() == q.dtype(), kOp,
                  ": expected query, key and value of one dtype, got ", dtype_name(q.dtype()), ", ",
                  dtype_name(k.dtype()), " and ", dtype_name(v.dtype()));
  const int64_t nd = q.dim();
  for (int64_t d = 0; d < nd - 2; ++d)
    LOOM_CHECK(k.size(d) == q.size(d) && v.size(d) == q.size(d), kOp,
               ": batch dimensions of query, key and value must match, got ", q.sizes(), ", ", k.sizes(), " and ",
               v.sizes());
  LOOM_CHECK(k.size(-1) == q.size(-1), kOp, ": query and key must have the same embedding size, got ", q.sizes(),
             " and ", k.sizes());
  LOOM_CHECK(v.size(-2) == k.size(-2), kOp, ": key and value must have the same sequence length, got ", k.sizes(),
             " and ", v.sizes());
  LOOM_CHECK_VALUE(dropout_p >= 0.0 && dropout_p <= 1.0, kOp, ": dropout_p must be in [0, 1], got ", dropout_p);
}

// The kernel parameters from the [B,H,L,D] views, without mask and dropout.
kernels::AttentionParams attention_params(const Tensor& q, const Tensor& v, const Tensor& q4, const Tensor& k4,
                                          const Tensor& v4, double dropout_p, bool is_causal,
                                          std::optional<double> scale) {
  kernels::AttentionParams p;
  p.B = q4.size(0);
  p.H = q4.size(1);
  p.Lq = q4.size(2);
  p.Lk = k4.size(2);
  p.D = q4.size(3);
  p.Dv = v4.size(3);
  p.scale = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(p.D, 1)));
  p.causal = is_causal;
  p.dropout_p = dropout_p;
  if (q.is_cuda())
    LOOM_CHECK(p.D <= 128 && p.Dv <= 128, kOp, ": the CUDA kernel supports head sizes up to 128, got query ", q.sizes(),
               " and value ", v.sizes());
  return p;
}

// Checks attn_mask and points p at it. The mask stays at its own shape; the
// kernels read it through broadcast strides. Returns the tensor p points at,
// which must outlive the kernels.
Tensor set_mask(kernels::AttentionParams& p, const Tensor& q, const Tensor& attn_mask) {
  const int64_t nd = q.dim();
  ops::check_same_device(kOp, {&q, &attn_mask});
  LOOM_CHECK_TYPE(attn_mask.dtype() == DType::Bool || attn_mask.is_floating_point(), kOp,
                  ": attn_mask must be bool or floating point, got ", dtype_name(attn_mask.dtype()));
  Tensor mask = attn_mask.detach();
  if (mask.dtype() != DType::Bool && mask.dtype() != q.dtype()) mask = mask.to(q.dtype());
  Shape full = nd == 4 ? Shape{p.B, p.H, p.Lq, p.Lk} : Shape{p.B, p.Lq, p.Lk};
  LOOM_CHECK(mask.dim() <= nd, kOp, ": attn_mask of shape ", attn_mask.sizes(),
             " is not broadcastable to the attention weights ", full);
  for (int64_t d = 0; d < mask.dim(); ++d) {
    int64_t ms = mask.size(d), fs = full[full.size() - mask.dim() + d];
    LOOM_CHECK(ms == fs || ms == 1, kOp, ": attn_mask of shape ", attn_mask.sizes(),
               " is not broadcastable to the attention weights ", full);
  }
  Shape st = ops::broadcast_strides(mask, full);
  if (nd == 3) st.insert(st.begin() + 1, 0);
  for (int i = 0; i < 4; ++i) p.mask_stride[i] = st[i];
  p.mask = mask.data_ptr();
  p.mask_is_bool = mask.dtype() == DType::Bool;
  return mask;
}

// What the backward node keeps.
struct AttentionSaved {
  SavedTensor q, k, v, out;
  Tensor lse;
  Tensor probs;  // the forward's softmax (CPU, small enough), or undefined: the backward recomputes it
  Tensor mask;   // kept so that the pointer in p stays valid
  Shape qs, ks, vs;
  TensorOptions opts;
  kernels::AttentionParams p;
};

// With create_graph: the same gradients composed from differentiable ops (P = softmax(S), dV = P^T dO,
// dS = P * (dO V^T - rowsum(dO V^T * P)), dQ = dS K scale, dK = dS^T Q scale), so that they differentiate again.
TensorList attention_backward_composed(const AttentionSaved& s, const TensorList& g) {
  const char* name = kBackwardName;
  const kernels::AttentionParams& p = s.p;
  LOOM_CHECK_KIND(p.dropout_p == 0.0, ErrorKind::NotImplemented, kOp,
                  ": double backward (create_graph=True) with dropout_p > 0 is not supported");
  Tensor Q = s.q.unpack(name), K = s.k.unpack(name), V = s.v.unpack(name);
  Tensor S = Q.matmul(K.transpose(-2, -1)) * p.scale;
  if (s.mask.defined()) {
    Tensor m = s.qs.size() == 3 && s.mask.dim() == 3 ? s.mask.unsqueeze(1) : s.mask;
    S = m.dtype() == DType::Bool ? S.masked_fill(m.logical_not(), Scalar(-INFINITY)) : S + m;
  }
  if (p.causal) {  // key j is visible to query i iff j <= i
    const TensorOptions idx(DType::Int64, Q.device());
    Tensor i = arange(Scalar(p.Lq), idx).unsqueeze(1), j = arange(Scalar(p.Lk), idx).unsqueeze(0);
    S = S.masked_fill(j.gt(i), Scalar(-INFINITY));
  }
  Tensor P = S.softmax(-1);
  Tensor dO = g[0].defined() ? as4(g[0]) : zeros({p.B, p.H, p.Lq, p.Dv}, s.opts);
  Tensor dP = dO.matmul(V.transpose(-2, -1));
  Tensor dS = P * (dP - (dP * P).sum({-1}, true));
  return TensorList{(dS.matmul(K) * p.scale).reshape(s.qs), (dS.transpose(-2, -1).matmul(Q) * p.scale).reshape(s.ks),
                    P.transpose(-2, -1).matmul(dO).reshape(s.vs)};
}

TensorList attention_backward(const AttentionSaved& s, const TensorList& g) {
  if (autograd::grad_enabled()) return attention_backward_composed(s, g);
  const char* name = kBackwardName;
  const kernels::AttentionParams& p = s.p;
  const TensorOptions& opts = s.opts;
  Tensor Q = s.q.unpack(name), K = s.k.unpack(name), V = s.v.unpack(name), O = s.out.unpack(name);
  Tensor O4 = as4(O).contiguous();
  Tensor dO = g[0].defined() ? as4(g[0]).contiguous() : zeros(O4.sizes(), TensorOptions(O4.dtype(), O4.device()));
  Tensor dq = empty(Q.sizes(), opts), dk = empty(K.sizes(), opts), dv = empty(V.sizes(), opts);
  if (dq.numel() + dk.numel() + dv.numel() > 0) {
    // The CUDA kernel's scratch memory: Delta = rowsum(dO * O) per query.
    Tensor ws = Q.is_cuda() ? empty({p.B, p.H, p.Lq}, opts) : Tensor();
    LOOM_DEVICE_DISPATCH(
        Q.device(),
        kernels::cpu::attention_backward(Q.dtype(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(), dO.data_ptr(),
                                         Q.data_ptr(), K.data_ptr(), V.data_ptr(), O4.data_ptr(), s.lse.data_ptr(), p,
                                         s.probs.defined() ? s.probs.data_ptr() : nullptr),
        kernels::cuda::attention_backward(Q.dtype(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(), dO.data_ptr(),
                                          Q.data_ptr(), K.data_ptr(), V.data_ptr(), O4.data_ptr(), s.lse.data_ptr(),
                                          ws.defined() ? ws.data_ptr() : nullptr, p, ops::stream_of(Q.device())));
  }
  return TensorList{dq.view(s.qs), dk.view(s.ks), dv.view(s.vs)};
}

void attach_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& q4, const Tensor& k4,
                               const Tensor& v4, Tensor& out, const Tensor& lse, const Tensor& probs,
                               const Tensor& mask, const kernels::AttentionParams& p) {
  AttentionSaved s{SavedTensor(q4),
                   SavedTensor(k4),
                   SavedTensor(v4),
                   SavedTensor(out, true),
                   lse,
                   probs,
                   mask,
                   q.sizes(),
                   k.sizes(),
                   v.sizes(),
                   TensorOptions(q.dtype(), q.device()),
                   p};
  auto node = std::make_shared<LambdaNode>(
      kBackwardName, [s = std::move(s)](const TensorList& g) { return attention_backward(s, g); });
  // Backward recomputes the scores and runs four GEMMs: ~2.5x the forward's
  // FLOPs; it reads q, k, v, out and dout and writes dq, dk, dv.
  const double l = double(p.Lq), sl = double(p.Lk), heads = double(p.B) * double(p.H);
  const double d = double(q.size(-1)), dv = double(v.size(-1)), item = double(q.element_size());
  node->cost_flops = 2.5 * heads * (2 * l * sl * d + 2 * l * sl * dv);
  node->cost_bytes = item * 2 * (double(q.numel()) + double(k.numel()) + double(v.numel()) + double(out.numel()));
  node->cost_tensor_core = true;
  autograd::attach(node, {q, k, v}, out);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    double dropout_p, bool is_causal, std::optional<double> scale) {
  OpScope scope(Op::attention, {&q, &k, &v, &attn_mask});
  check_qkv(q, k, v, dropout_p);
  Tensor q4 = as4(q).contiguous(), k4 = as4(k).contiguous(), v4 = as4(v).contiguous();
  kernels::AttentionParams p = attention_params(q, v, q4, k4, v4, dropout_p, is_causal, scale);
  Tensor mask = attn_mask.defined() ? set_mask(p, q, attn_mask) : Tensor();
  if (dropout_p > 0.0) {
    PhiloxState st = philox_reserve(q.device(), static_cast<uint64_t>(p.B * p.H * p.Lq * p.Lk));
    p.seed = st.seed;
    p.offset = st.offset;
  }

  const TensorOptions opts(q.dtype(), q.device());
  Tensor out = empty({p.B, p.H, p.Lq, p.Dv}, opts);
  Tensor lse = empty({p.B, p.H, p.Lq}, opts);
  // On the CPU, when the backward will run and P is no larger than q, k, v and out together (Lq·Lk <=
  // (Lq + Lk)·(D + Dv): sequences up to about twice the head size), the forward keeps P for it: one of
  // the backward's five products and its exponentials fewer (B8 H4 L128 D64, forward + backward: 3.1 ->
  // 2.6 ms on 2 cores).
  const bool grad = autograd::any_requires_grad({&q, &k, &v});
  Tensor probs;
  if (grad && !q.is_cuda() && p.Lq * p.Lk > 0 && p.Lq * p.Lk <= (p.Lq + p.Lk) * (p.D + p.Dv))
    probs = empty({p.B, p.H, p.Lq, p.Lk}, opts);
  if (out.numel() > 0 || lse.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        q.device(),
        kernels::cpu::attention_forward(q.dtype(), out.data_ptr(), lse.data_ptr(), q4.data_ptr(), k4.data_ptr(),
                                        v4.data_ptr(), p, probs.defined() ? probs.data_ptr() : nullptr),
        kernels::cuda::attention_forward(q.dtype(), out.data_ptr(), lse.data_ptr(), q4.data_ptr(), k4.data_ptr(),
                                         v4.data_ptr(), p, ops::stream_of(q.device())));
  if (q.dim() == 3) out = out.squeeze(1);
  if (grad) attach_attention_backward(q, k, v, q4, k4, v4, out, lse, probs, mask, p);
  return out;
}

}  // namespace loom
