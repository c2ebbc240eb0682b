// matmul front end: 1-D, 2-D, batched and broadcast, as torch.matmul
// (kernels/matmul.h).
#include "autograd/ops/common.h"
#include "kernels/matmul.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

// How a [batch, rows, cols] tensor is handed to gemm without a copy: one of
// its two matrix dims must have unit stride.
struct MatrixArg {
  Tensor t;
  bool trans;
  int64_t ld;
  int64_t batch_stride;
};

MatrixArg matrix_arg(Tensor t) {
  const int64_t rows = t.sizes()[1], cols = t.sizes()[2];
  const int64_t s0 = t.strides()[0], s1 = t.strides()[1], s2 = t.strides()[2];
  if ((s2 == 1 || cols == 1) && s1 >= std::max<int64_t>(cols, 1)) return {t, false, s1, s0};
  if ((s1 == 1 || rows == 1) && s2 >= std::max<int64_t>(rows, 1)) return {t, true, s2, s0};
  Tensor c = t.contiguous();
  return {c, false, std::max<int64_t>(cols, 1), rows * cols};
}

// out[b] = a[b] @ b[b] for a [B, m, k] and b [B, k, n] (batch stride may be 0).
Tensor bmm_raw(const Tensor& a, const Tensor& b) {
  const int64_t batch = a.sizes()[0], m = a.sizes()[1], k = a.sizes()[2], n = b.sizes()[2];
  Tensor out = empty({batch, m, n}, TensorOptions(a.dtype(), a.device()));
  if (out.numel() == 0) return out;
  if (k == 0) return out.fill_(0.0);
  MatrixArg A = matrix_arg(a), B = matrix_arg(b);
  if (batch == 1) A.batch_stride = B.batch_stride = 0;
  LOOM_DEVICE_DISPATCH(a.device(),
                       ops::kc::gemm(a.dtype(), A.trans, B.trans, m, n, k, 1.0, A.t.data_ptr(), A.ld, A.batch_stride,
                                     B.t.data_ptr(), B.ld, B.batch_stride, 0.0, out.data_ptr(), n, m * n, batch),
                       ops::kg::gemm(a.dtype(), A.trans, B.trans, m, n, k, 1.0, A.t.data_ptr(), A.ld, A.batch_stride,
                                     B.t.data_ptr(), B.ld, B.batch_stride, 0.0, out.data_ptr(), n, m * n, batch,
                                     allow_tf32(), ops::stream_of(a.device())));
  return out;
}

// Collapses the batch dims of an expanded [..., r, c] tensor into one.
Tensor as_batch3(const Tensor& t, const Shape& batch, int64_t r, int64_t c) {
  Shape full = batch;
  full.push_back(r);
  full.push_back(c);
  Tensor e = t.detach().expand(full);
  int64_t bn = 1;
  for (auto s : batch) bn *= s;
  return e.reshape({bn, r, c});
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  OpScope scope(Op::matmul, {&a, &b});
  LOOM_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments to matmul need to be at least 1D, but they are ",
             a.dim(), "D and ", b.dim(), "D");
  ops::check_same_device("matmul", {&a, &b});
  LOOM_CHECK(a.dtype() == b.dtype(),
             "matmul: expected m1 and m2 to have the same dtype, but got: ", dtype_name(a.dtype()),
             " != ", dtype_name(b.dtype()));
  LOOM_CHECK_TYPE(a.dtype() != DType::Bool, "matmul: not implemented for bool tensors");
  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b2 = b.dim() == 1 ? b.unsqueeze(-1) : b;
  const int64_t m = a2.sizes()[a2.dim() - 2], k = a2.sizes()[a2.dim() - 1];
  const int64_t k2 = b2.sizes()[b2.dim() - 2], n = b2.sizes()[b2.dim() - 1];
  LOOM_CHECK(k == k2, "mat1 and mat2 shapes cannot be multiplied (", m, "x", k, " and ", k2, "x", n, "): matmul of ",
             a.sizes(), " and ", b.sizes());
  Shape ba(a2.sizes().begin(), a2.sizes().end() - 2), bb(b2.sizes().begin(), b2.sizes().end() - 2);
  Shape batch = broadcast_shapes(ba, bb);
  Tensor out;
  if (bb.empty() && !ba.empty() && a2.is_contiguous()) {
    // [..., m, k] @ [k, n]: one GEMM over all rows.
    int64_t rows = m;
    for (auto s : ba) rows *= s;
    out = bmm_raw(a2.detach().reshape({1, rows, k}), b2.detach().reshape({1, k, n}));
  } else {
    out = bmm_raw(as_batch3(a2, batch, m, k), as_batch3(b2, batch, k, n));
  }
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  out = out.view(out_shape);
  if (is_floating(out.dtype()) && autograd::any_requires_grad({&a2, &b2})) {
    SavedTensor sa(a2), sb(b2);
    auto node = std::make_shared<LambdaNode>("MmBackward0", [sa, sb](const TensorList& g) {
      Tensor x = sa.unpack("MmBackward0"), y = sb.unpack("MmBackward0");
      Tensor ga = autograd::sum_to(matmul(g[0], y.transpose(-1, -2)), x.sizes());
      Tensor gb = autograd::sum_to(matmul(x.transpose(-1, -2), g[0]), y.sizes());
      return TensorList{ga, gb};
    });
    autograd::attach(node, {a2, b2}, out);
  }
  if (a.dim() == 1) out = out.squeeze(-2);
  if (b.dim() == 1) out = out.squeeze(-1);
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const { return loom::matmul(*this, other); }
Tensor Tensor::mm(const Tensor& other) const {
  LOOM_CHECK(dim() == 2 && other.dim() == 2, "mm: expected 2D tensors, got ", sizes(), " and ", other.sizes());
  return loom::matmul(*this, other);
}
Tensor Tensor::bmm(const Tensor& other) const {
  LOOM_CHECK(dim() == 3 && other.dim() == 3, "bmm: expected 3D tensors, got ", sizes(), " and ", other.sizes());
  LOOM_CHECK(sizes()[0] == other.sizes()[0], "bmm: batch sizes differ: ", sizes(), " and ", other.sizes());
  return loom::matmul(*this, other);
}

}  // namespace loom
