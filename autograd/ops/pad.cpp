// pad (torch.nn.functional.pad): the front end and its backward nodes. The kernels see the input as
// [outer, padded dims...] (the unpadded leading dims merged). Padding is linear: its backward applies the
// adjoint (the per-dim backward kernels) and the adjoint's backward is the padding again, so under
// create_graph each is recorded with the other as its gradient.
#include "autograd/ops/pad.h"

#include <algorithm>

#include "autograd/ops/common.h"
#include "kernels/upsample.h"

namespace loom {

using autograd::LambdaNode;
using kernels::PadMode;
using kernels::PadParams;

namespace {

struct PadGeometry {
  PadParams p;  // the merged view
  Shape in_shape, out_shape;
};

const char* mode_name(PadMode m) {
  switch (m) {
    case PadMode::Reflect: return "reflect";
    case PadMode::Replicate: return "replicate";
    case PadMode::Circular: return "circular";
    default: return "constant";
  }
}

Tensor pad_forward(const Tensor& x, const PadGeometry& geo);

// x padded as geo says, by the forward kernel (no autograd).
Tensor pad_values(const Tensor& x, const PadGeometry& geo) {
  const Tensor xc = x.detach().contiguous();
  Tensor out = ops::new_empty(geo.out_shape, xc.dtype(), xc.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        xc.device(), kernels::cpu::pad_forward(xc.dtype(), out.data_ptr(), xc.data_ptr(), geo.p),
        kernels::cuda::pad_forward(xc.dtype(), out.data_ptr(), xc.data_ptr(), geo.p, ops::stream_of(xc.device())));
  return out;
}

// The adjoint of constant padding is constant padding by the opposite amounts with zeros (a crop where
// the forward padded, zeros where it cropped): the forward kernel, one pass over every dim.
Tensor constant_pad_adjoint(const Tensor& g, const PadGeometry& geo) {
  PadGeometry adj = geo;
  std::swap(adj.in_shape, adj.out_shape);
  for (int d = 0; d < adj.p.ndim; ++d) {
    std::swap(adj.p.in_sizes[d], adj.p.out_sizes[d]);
    adj.p.left[d] = -adj.p.left[d];
  }
  adj.p.value = 0.0;
  return pad_values(g, adj);
}

// The adjoint, g [out_shape] -> [in_shape]: constant padding in one pass, the other modes one padded dim
// at a time, from the last.
Tensor pad_adjoint(const Tensor& g, const PadGeometry& geo) {
  const PadParams& p = geo.p;
  if (p.mode == PadMode::Constant) {
    Tensor cur = constant_pad_adjoint(g, geo);
    if (autograd::any_requires_grad({&g})) {
      auto node = std::make_shared<LambdaNode>(
          "PadBackwardBackward0", [geo](const TensorList& gg) { return TensorList{pad_forward(gg[0], geo)}; });
      autograd::attach(node, {g}, cur);
    }
    return cur;
  }
  Tensor cur = g.detach().contiguous();
  Shape shape(p.out_sizes, p.out_sizes + p.ndim);
  int first = p.ndim;  // the first dim that changes size or shifts
  for (int d = 0; d < p.ndim; ++d)
    if (p.in_sizes[d] != p.out_sizes[d] || p.left[d] != 0) {
      first = d;
      break;
    }
  for (int d = p.ndim - 1; d >= first; --d) {
    if (p.in_sizes[d] == p.out_sizes[d] && p.left[d] == 0) continue;
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < d; ++k) outer *= shape[k];
    for (int k = d + 1; k < p.ndim; ++k) inner *= shape[k];
    shape[d] = p.in_sizes[d];
    Tensor next = ops::new_empty(d == first ? geo.in_shape : shape, cur.dtype(), cur.device());
    if (next.numel() > 0)
      LOOM_DEVICE_DISPATCH(
          next.device(),
          kernels::cpu::pad_backward_dim(next.dtype(), next.data_ptr(), cur.data_ptr(), outer, p.out_sizes[d],
                                         p.in_sizes[d], inner, p.left[d], p.mode),
          kernels::cuda::pad_backward_dim(next.dtype(), next.data_ptr(), cur.data_ptr(), outer, p.out_sizes[d],
                                          p.in_sizes[d], inner, p.left[d], p.mode, ops::stream_of(next.device())));
    cur = next;
  }
  if (first == p.ndim) cur = cur.clone().view(geo.in_shape);  // nothing padded: a copy of its own
  if (autograd::any_requires_grad({&g})) {
    auto node = std::make_shared<LambdaNode>(
        "PadBackwardBackward0", [geo](const TensorList& gg) { return TensorList{pad_forward(gg[0], geo)}; });
    autograd::attach(node, {g}, cur);
  }
  return cur;
}

Tensor pad_forward(const Tensor& x, const PadGeometry& geo) {
  Tensor out = pad_values(x, geo);
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    const char* name = geo.p.mode == PadMode::Constant    ? "ConstantPadNdBackward0"
                       : geo.p.mode == PadMode::Reflect   ? "ReflectionPadBackward0"
                       : geo.p.mode == PadMode::Replicate ? "ReplicationPadBackward0"
                                                          : "CircularPadBackward0";
    auto node =
        std::make_shared<LambdaNode>(name, [geo](const TensorList& g) { return TensorList{pad_adjoint(g[0], geo)}; });
    autograd::attach(node, {x}, out);
  }
  return out;
}

PadMode parse_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "replicate") return PadMode::Replicate;
  if (mode == "circular") return PadMode::Circular;
  LOOM_CHECK_KIND(false, ErrorKind::NotImplemented, "pad: unknown padding mode '", mode,
                  "' (constant, reflect, replicate, circular)");
  return PadMode::Constant;
}

}  // namespace

Tensor pad(const Tensor& input, const Dims& pad, const std::string& mode, double value) {
  OpScope scope(Op::pad, {&input});
  LOOM_CHECK(input.defined(), "pad: input must be defined");
  const int64_t nd = input.dim();
  const int64_t k = static_cast<int64_t>(pad.size() / 2);
  LOOM_CHECK(pad.size() % 2 == 0 && k <= nd, "pad: padding length must be divisible by 2 and at most twice ",
             "the input's ", nd, " dims, got ", pad.size());
  const PadMode m = parse_mode(mode);
  LOOM_CHECK(m == PadMode::Constant || value == 0.0, "pad: padding mode '", mode, "' doesn't take in value argument");
  check_scalar_fits(Scalar(value), input.dtype(), "pad");  // NaN or 1e20 into an integer tensor: an error
  if (k == 0) return input.clone();
  PadGeometry geo;
  geo.in_shape = input.sizes();
  geo.out_shape = input.sizes();
  // The merged view: [outer, the k padded dims] (no outer dim when every dim is padded).
  const int64_t lead = nd - k;
  PadParams& p = geo.p;
  p.mode = m;
  p.value = value;
  p.ndim = static_cast<int>(k + (lead > 0 ? 1 : 0));
  LOOM_CHECK(p.ndim <= kernels::kMaxDims, "pad: at most ", kernels::kMaxDims - 1, " padded dims, got ", k);
  if (lead > 0) {
    int64_t outer = 1;
    for (int64_t d = 0; d < lead; ++d) outer *= input.size(d);
    p.in_sizes[0] = p.out_sizes[0] = outer;
    p.left[0] = 0;
  }
  for (int64_t j = 0; j < k; ++j) {
    const int64_t d = nd - 1 - j, left = pad[2 * j], right = pad[2 * j + 1], n = input.size(d);
    if (m == PadMode::Constant) {
      LOOM_CHECK(n + std::min<int64_t>(left, 0) + std::min<int64_t>(right, 0) >= 0, "pad: the padding (", left, ", ",
                 right, ") leaves a negative size of dim ", d, " (size ", n, ")");
    } else {
      LOOM_CHECK(left >= 0 && right >= 0, "pad: negative padding is only supported in constant mode, got (", left, ", ",
                 right, ")");
      const int64_t limit = m == PadMode::Reflect ? n - 1 : n;
      LOOM_CHECK(m == PadMode::Replicate || (left <= limit && right <= limit), "pad: padding size should be less than ",
                 m == PadMode::Reflect ? "the" : "or equal to the",
                 " corresponding input dimension, but got: padding (", left, ", ", right, ") at dimension ", d,
                 " of input ", input.sizes());
      LOOM_CHECK(n > 0, "pad: ", mode_name(m), " padding of an empty dim ", d);
    }
    const int slot = static_cast<int>(p.ndim - 1 - j);
    p.in_sizes[slot] = n;
    p.out_sizes[slot] = n + left + right;
    p.left[slot] = left;
    geo.out_shape[d] = n + left + right;
  }
  if (scope.observed()) {  // the input read once, the output written once
    int64_t out_numel = 1;
    for (int64_t s : geo.out_shape) out_numel *= s;
    scope.set_cost(0, static_cast<double>(input.numel() + out_numel) * static_cast<double>(input.element_size()));
  }
  return pad_forward(input, geo);
}

}  // namespace loom
