// max_pool2d / avg_pool2d / adaptive_avg_pool2d / adaptive_max_pool2d and
// max_pool3d / avg_pool3d front ends and their backward nodes. The max pools
// save the int64 argmax indices (not the input); the average pools save
// nothing but the shapes. Backward results are not
// themselves differentiable (no double backward through pooling).
#include "autograd/ops/pool.h"

#include <array>
#include <functional>
#include "core/op_cost.h"

#include "autograd/ops/common.h"
#include "kernels/pool.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::PoolParams;

namespace {

std::pair<int64_t, int64_t> pair_arg(const Dims& d, const char* op, const char* name) {
  LOOM_CHECK(d.size() == 1 || d.size() == 2, op, ": ", name, " must be a single int or a pair of ints, got ", d.size(),
             " values");
  return d.size() == 1 ? std::make_pair(d[0], d[0]) : std::make_pair(d[0], d[1]);
}

// Validated input (4-D, contiguous) and the plane geometry of a windowed pool.
struct Prepared {
  Tensor in;
  PoolParams p;
  bool unbatched;
  Shape out_shape;
};

// The checks every pooling op makes on its input, and the input as a
// contiguous [N, C, H, W] (an unbatched [C, H, W] gets N = 1).
Tensor batched_input(const char* op, const Tensor& input, bool& unbatched) {
  LOOM_CHECK(input.defined(), op, ": input must be defined");
  LOOM_CHECK(input.dim() == 3 || input.dim() == 4, op,
             ": expected 3D or 4D input, but got input of size: ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
  unbatched = input.dim() == 3;
  return (unbatched ? input.unsqueeze(0) : input).contiguous();
}

Prepared prepare(const char* op, const Tensor& input, const Dims& kernel_size, const Dims& stride, const Dims& padding,
                 const Dims& dilation, bool ceil_mode) {
  bool unbatched = false;
  Tensor x = batched_input(op, input, unbatched);
  const auto [kh, kw] = pair_arg(kernel_size, op, "kernel_size");
  const auto [sh, sw] = stride.empty() ? std::make_pair(kh, kw) : pair_arg(stride, op, "stride");
  const auto [ph, pw] = pair_arg(padding, op, "padding");
  const auto [dh, dw] = pair_arg(dilation, op, "dilation");
  LOOM_CHECK(kh > 0 && kw > 0, op, ": kernel_size must be greater than zero, got ", kernel_size);
  LOOM_CHECK(sh > 0 && sw > 0, op, ": stride must be greater than zero, got ", stride);
  LOOM_CHECK(dh > 0 && dw > 0, op, ": dilation must be greater than zero, got ", dilation);
  LOOM_CHECK(ph >= 0 && pw >= 0 && ph <= kh / 2 && pw <= kw / 2, op,
             ": pad should be at most half of effective kernel size, but got pad=", padding,
             ", kernel_size=", kernel_size);
  PoolParams p{};
  p.NC = x.size(0) * x.size(1), p.H = x.size(2), p.W = x.size(3);
  p.kh = kh, p.kw = kw, p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw, p.dil_h = dh, p.dil_w = dw;
  p.OH = kernels::pool_out_size(p.H, kh, sh, ph, dh, ceil_mode);
  p.OW = kernels::pool_out_size(p.W, kw, sw, pw, dw, ceil_mode);
  LOOM_CHECK(p.OH > 0 && p.OW > 0, op, ": given input size (", x.size(1), "x", p.H, "x", p.W,
             "), calculated output size (", x.size(1), "x", p.OH, "x", p.OW, ") is too small");
  Shape out_shape = {x.size(0), x.size(1), p.OH, p.OW};
  return {x, p, unbatched, out_shape};
}

Tensor finish(const Tensor& t, bool unbatched) { return unbatched ? t.squeeze(0) : t; }

// The input gradient of a windowed pool: a buffer the backward kernel
// overwrites (zeros when the output is empty), squeezed back for an unbatched
// input.
template <typename Kernel>
Tensor pool_input_grad(const Shape& in_shape, const Tensor& go, bool unbatched, Kernel&& kernel) {
  Tensor gi = empty(in_shape, TensorOptions(go.dtype(), go.device()));
  if (gi.numel() > 0) {
    if (go.numel() == 0) gi.zero_();
    else kernel(gi);
  }
  return finish(gi, unbatched);
}

// A pool's input gradient gi = B(go) is linear in go. With create_graph (grad mode on in the backward) gi
// gets a node whose backward is B's adjoint, the pool's forward over the same windows (a gather at the
// saved indices for the max pools), so that gradients of gradients flow; the adjoint is differentiable too.
Tensor linear_in_go(Tensor gi, const Tensor& go, const char* name, std::function<Tensor(const Tensor&)> adjoint) {
  if (autograd::grad_enabled() && go.requires_grad()) {
    auto node =
        std::make_shared<LambdaNode>(name, [adjoint](const TensorList& g) { return TensorList{adjoint(g[0])}; });
    autograd::attach(node, {go}, gi);
  }
  return gi;
}

// The max pools' adjoint: gg (shaped like the input) gathered at the saved flat indices (shaped like the
// output) over the last `nd` dims.
Tensor gather_at(const Tensor& gg, const Tensor& idx, int nd) {
  return gg.flatten(-nd).gather(-1, idx.flatten(-nd)).view(idx.sizes());
}

// The checks of the adaptive pools; x becomes the contiguous [N, C, H, W] input.
PoolParams adaptive_params(const char* op, const Tensor& input, const Dims& output_size, Tensor& x, bool& unbatched) {
  x = batched_input(op, input, unbatched);
  const auto [oh, ow] = pair_arg(output_size, op, "output_size");
  LOOM_CHECK(oh > 0 && ow > 0, op, ": output_size must be positive, got ", output_size);
  LOOM_CHECK(x.size(2) > 0 && x.size(3) > 0, op,
             ": expected non-empty spatial dims, got input of size: ", input.sizes());
  PoolParams p{};
  p.NC = x.size(0) * x.size(1), p.H = x.size(2), p.W = x.size(3), p.OH = oh, p.OW = ow;
  return p;
}

// ---- 3-D ----

std::array<int64_t, 3> triple_arg(const Dims& d, const char* op, const char* name) {
  LOOM_CHECK(d.size() == 1 || d.size() == 3, op, ": ", name, " must be a single int or a tuple of three ints, got ",
             d.size(), " values");
  return d.size() == 1 ? std::array<int64_t, 3>{d[0], d[0], d[0]} : std::array<int64_t, 3>{d[0], d[1], d[2]};
}

struct Prepared3 {
  Tensor in;
  kernels::Pool3dParams p;
  bool unbatched;
  Shape out_shape;
};

Prepared3 prepare3(const char* op, const Tensor& input, const Dims& kernel_size, const Dims& stride,
                   const Dims& padding, const Dims& dilation, bool ceil_mode) {
  LOOM_CHECK(input.defined(), op, ": input must be defined");
  LOOM_CHECK(input.dim() == 4 || input.dim() == 5, op,
             ": expected 4D (unbatched) or 5D (batched) input, but got input of size: ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
  const bool unbatched = input.dim() == 4;
  Tensor x = (unbatched ? input.unsqueeze(0) : input).contiguous();
  const auto k = triple_arg(kernel_size, op, "kernel_size");
  const auto s = stride.empty() ? k : triple_arg(stride, op, "stride");
  const auto pd = triple_arg(padding, op, "padding");
  const auto dl = triple_arg(dilation, op, "dilation");
  for (int a = 0; a < 3; ++a) {
    LOOM_CHECK(k[a] > 0 && s[a] > 0 && dl[a] > 0, op, ": kernel_size, stride and dilation must be positive, got ",
               kernel_size, ", ", stride, " and ", dilation);
    LOOM_CHECK(pd[a] >= 0 && pd[a] <= k[a] / 2, op,
               ": pad should be at most half of effective kernel size, but got pad=", padding,
               ", kernel_size=", kernel_size);
  }
  kernels::Pool3dParams p{};
  p.NC = x.size(0) * x.size(1), p.D = x.size(2), p.H = x.size(3), p.W = x.size(4);
  p.kd = k[0], p.kh = k[1], p.kw = k[2], p.sd = s[0], p.sh = s[1], p.sw = s[2];
  p.pd = pd[0], p.ph = pd[1], p.pw = pd[2], p.dd = dl[0], p.dh = dl[1], p.dw = dl[2];
  p.OD = kernels::pool_out_size(p.D, p.kd, p.sd, p.pd, p.dd, ceil_mode);
  p.OH = kernels::pool_out_size(p.H, p.kh, p.sh, p.ph, p.dh, ceil_mode);
  p.OW = kernels::pool_out_size(p.W, p.kw, p.sw, p.pw, p.dw, ceil_mode);
  LOOM_CHECK(p.OD > 0 && p.OH > 0 && p.OW > 0, op, ": given input size (", x.size(1), "x", p.D, "x", p.H, "x", p.W,
             "), calculated output size (", x.size(1), "x", p.OD, "x", p.OH, "x", p.OW, ") is too small");
  return {x, p, unbatched, Shape{x.size(0), x.size(1), p.OD, p.OH, p.OW}};
}

}  // namespace

std::pair<Tensor, Tensor> max_pool3d_with_indices(const Tensor& input, const Dims& kernel_size, const Dims& stride,
                                                  const Dims& padding, const Dims& dilation, bool ceil_mode) {
  OpScope scope(Op::max_pool3d, {&input});
  Prepared3 P = prepare3("max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode);
  const kernels::Pool3dParams p = P.p;
  if (scope.observed()) {
    const double out = cost_numel(P.out_shape);
    scope.set_cost(out * double(p.kd * p.kh * p.kw), cost_bytes(&input) + out * double(input.element_size() + 8));
  }
  Tensor out = ops::new_empty(P.out_shape, input.dtype(), input.device());
  Tensor idx = ops::new_empty(P.out_shape, DType::Int64, input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::max_pool3d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), P.in.data_ptr(), p),
        kernels::cuda::max_pool3d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), P.in.data_ptr(), p,
                                          ops::stream_of(input.device())));
  Tensor y = finish(out, P.unbatched), i = finish(idx, P.unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = P.in.sizes();
    const bool unbatched = P.unbatched;
    SavedTensor s_idx(idx);
    auto node = std::make_shared<LambdaNode>("MaxPool3DWithIndicesBackward0", [=](const TensorList& g) {
      Tensor idx = s_idx.unpack("MaxPool3DWithIndicesBackward0");
      Tensor go = g[0].contiguous();
      Tensor gi = pool_input_grad(in_shape, go, unbatched, [&](Tensor& gi) {
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::max_pool3d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p),
            kernels::cuda::max_pool3d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p,
                                               ops::stream_of(go.device())));
      });
      const Tensor iy = finish(idx, unbatched);
      return TensorList{linear_in_go(gi, go, "MaxPool3DWithIndicesBackwardBackward0",
                                     [iy](const Tensor& gg) { return gather_at(gg, iy, 3); })};
    });
    autograd::attach(node, {input}, y);
  }
  return {y, i};
}

Tensor max_pool3d(const Tensor& input, const Dims& kernel_size, const Dims& stride, const Dims& padding,
                  const Dims& dilation, bool ceil_mode) {
  return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode).first;
}

Tensor avg_pool3d(const Tensor& input, const Dims& kernel_size, const Dims& stride, const Dims& padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  OpScope scope(Op::avg_pool3d, {&input});
  Prepared3 P = prepare3("avg_pool3d", input, kernel_size, stride, padding, {1}, ceil_mode);
  LOOM_CHECK(!divisor_override || *divisor_override != 0, "avg_pool3d: divisor must be not zero");
  const int64_t divisor = divisor_override ? *divisor_override : 0;
  LOOM_CHECK(divisor >= 0, "avg_pool3d: divisor_override must be positive, got ", divisor);
  const kernels::Pool3dParams p = P.p;
  if (scope.observed()) {
    const double out = cost_numel(P.out_shape);
    scope.set_cost(out * double(p.kd * p.kh * p.kw), cost_bytes(&input) + out * double(input.element_size()));
  }
  Tensor out = ops::new_empty(P.out_shape, input.dtype(), input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::avg_pool3d_forward(input.dtype(), out.data_ptr(), P.in.data_ptr(), p, count_include_pad, divisor),
        kernels::cuda::avg_pool3d_forward(input.dtype(), out.data_ptr(), P.in.data_ptr(), p, count_include_pad, divisor,
                                          ops::stream_of(input.device())));
  Tensor y = finish(out, P.unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = P.in.sizes();
    const bool unbatched = P.unbatched;
    auto node = std::make_shared<LambdaNode>("AvgPool3DBackward0", [=](const TensorList& g) {
      Tensor go = g[0].contiguous();
      Tensor gi = pool_input_grad(in_shape, go, unbatched, [&](Tensor& gi) {
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::avg_pool3d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p, count_include_pad, divisor),
            kernels::cuda::avg_pool3d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p, count_include_pad, divisor,
                                               ops::stream_of(go.device())));
      });
      return TensorList{linear_in_go(gi, go, "AvgPool3DBackwardBackward0", [=](const Tensor& gg) {
        return avg_pool3d(gg, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override);
      })};
    });
    autograd::attach(node, {input}, y);
  }
  return y;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, const Dims& kernel_size, const Dims& stride,
                                                  const Dims& padding, const Dims& dilation, bool ceil_mode) {
  OpScope scope(Op::max_pool2d, {&input});
  Prepared P = prepare("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  const PoolParams p = P.p;
  if (scope.observed()) {  // one compare per window element; the int64 indices are written too
    const double out = cost_numel(P.out_shape);
    scope.set_cost(out * double(p.kh * p.kw), cost_bytes(&input) + out * double(input.element_size() + 8));
  }
  Tensor out = ops::new_empty(P.out_shape, input.dtype(), input.device());
  Tensor idx = ops::new_empty(P.out_shape, DType::Int64, input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::max_pool2d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), P.in.data_ptr(), p),
        kernels::cuda::max_pool2d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), P.in.data_ptr(), p,
                                          ops::stream_of(input.device())));
  Tensor y = finish(out, P.unbatched), i = finish(idx, P.unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = P.in.sizes();
    const bool unbatched = P.unbatched;
    SavedTensor s_idx(idx);
    auto node = std::make_shared<LambdaNode>("MaxPool2DWithIndicesBackward0", [=](const TensorList& g) {
      Tensor idx = s_idx.unpack("MaxPool2DWithIndicesBackward0");
      Tensor go = g[0].contiguous();
      Tensor gi = pool_input_grad(in_shape, go, unbatched, [&](Tensor& gi) {
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::max_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p),
            kernels::cuda::max_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), idx.data_ptr<int64_t>(), p,
                                               ops::stream_of(go.device())));
      });
      const Tensor iy = finish(idx, unbatched);
      return TensorList{linear_in_go(gi, go, "MaxPool2DWithIndicesBackwardBackward0",
                                     [iy](const Tensor& gg) { return gather_at(gg, iy, 2); })};
    });
    autograd::attach(node, {input}, y);
  }
  return {y, i};
}

// Without autograd on the CPU the maxima alone (no int64 index per output); otherwise the indices are
// kept for the backward.
Tensor max_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride, const Dims& padding,
                  const Dims& dilation, bool ceil_mode) {
  if (!input.defined() || !input.device().is_cpu() || autograd::any_requires_grad({&input}))
    return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode).first;
  OpScope scope(Op::max_pool2d, {&input});
  Prepared P = prepare("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  const PoolParams p = P.p;
  if (scope.observed()) {  // one compare per window element
    const double out = cost_numel(P.out_shape);
    scope.set_cost(out * double(p.kh * p.kw), cost_bytes(&input) + out * double(input.element_size()));
  }
  Tensor out = ops::new_empty(P.out_shape, input.dtype(), input.device());
  if (out.numel() > 0) kernels::cpu::max_pool2d_values(input.dtype(), out.data_ptr(), P.in.data_ptr(), p);
  return finish(out, P.unbatched);
}

Tensor avg_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride, const Dims& padding, bool ceil_mode,
                  bool count_include_pad) {
  OpScope scope(Op::avg_pool2d, {&input});
  Prepared P = prepare("avg_pool2d", input, kernel_size, stride, padding, {1}, ceil_mode);
  const PoolParams p = P.p;
  if (scope.observed()) {
    const double out = cost_numel(P.out_shape);
    scope.set_cost(out * double(p.kh * p.kw), cost_bytes(&input) + out * double(input.element_size()));
  }
  Tensor out = ops::new_empty(P.out_shape, input.dtype(), input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::avg_pool2d_forward(input.dtype(), out.data_ptr(), P.in.data_ptr(), p, count_include_pad),
        kernels::cuda::avg_pool2d_forward(input.dtype(), out.data_ptr(), P.in.data_ptr(), p, count_include_pad,
                                          ops::stream_of(input.device())));
  Tensor y = finish(out, P.unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = P.in.sizes();
    const bool unbatched = P.unbatched;
    auto node = std::make_shared<LambdaNode>("AvgPool2DBackward0", [=](const TensorList& g) {
      Tensor go = g[0].contiguous();
      Tensor gi = pool_input_grad(in_shape, go, unbatched, [&](Tensor& gi) {
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::avg_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p, count_include_pad),
            kernels::cuda::avg_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p, count_include_pad,
                                               ops::stream_of(go.device())));
      });
      return TensorList{linear_in_go(gi, go, "AvgPool2DBackwardBackward0", [=](const Tensor& gg) {
        return avg_pool2d(gg, kernel_size, stride, padding, ceil_mode, count_include_pad);
      })};
    });
    autograd::attach(node, {input}, y);
  }
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& input, const Dims& output_size) {
  OpScope scope(Op::adaptive_avg_pool2d, {&input});
  bool unbatched = false;
  Tensor x;
  const PoolParams p = adaptive_params("adaptive_avg_pool2d", input, output_size, x, unbatched);
  const int64_t oh = p.OH, ow = p.OW;
  if (scope.observed())  // every input element summed into (about) one window
    scope.set_cost(double(x.numel()), cost_bytes(&x) + double(p.NC * oh * ow) * double(x.element_size()));
  Tensor out = ops::new_empty({x.size(0), x.size(1), oh, ow}, input.dtype(), input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(input.device(),
                         kernels::cpu::adaptive_avg_pool2d_forward(input.dtype(), out.data_ptr(), x.data_ptr(), p),
                         kernels::cuda::adaptive_avg_pool2d_forward(input.dtype(), out.data_ptr(), x.data_ptr(), p,
                                                                    ops::stream_of(input.device())));
  Tensor y = finish(out, unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = x.sizes();
    auto node = std::make_shared<LambdaNode>("AdaptiveAvgPool2DBackward0", [=](const TensorList& g) {
      Tensor go = g[0].contiguous();
      Tensor gi = empty(in_shape, TensorOptions(go.dtype(), go.device()));
      if (gi.numel() > 0)
        LOOM_DEVICE_DISPATCH(go.device(),
                             kernels::cpu::adaptive_avg_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p),
                             kernels::cuda::adaptive_avg_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p,
                                                                         ops::stream_of(go.device())));
      return TensorList{linear_in_go(finish(gi, unbatched), go, "AdaptiveAvgPool2DBackwardBackward0",
                                     [output_size](const Tensor& gg) { return adaptive_avg_pool2d(gg, output_size); })};
    });
    autograd::attach(node, {input}, y);
  }
  return y;
}

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& input, const Dims& output_size) {
  OpScope scope(Op::adaptive_max_pool2d, {&input});
  bool unbatched = false;
  Tensor x;
  const PoolParams p = adaptive_params("adaptive_max_pool2d", input, output_size, x, unbatched);
  const int64_t oh = p.OH, ow = p.OW;
  if (scope.observed())  // one compare per input element of (about) one window; the int64 indices written
    scope.set_cost(double(x.numel()),
                   cost_bytes(&x) + double(p.NC * oh * ow) * double(x.element_size() + int64_t(sizeof(int64_t))));
  const Shape out_shape = {x.size(0), x.size(1), oh, ow};
  Tensor out = ops::new_empty(out_shape, input.dtype(), input.device());
  Tensor idx = ops::new_empty(out_shape, DType::Int64, input.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::adaptive_max_pool2d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), x.data_ptr(),
                                                  p),
        kernels::cuda::adaptive_max_pool2d_forward(input.dtype(), out.data_ptr(), idx.data_ptr<int64_t>(), x.data_ptr(),
                                                   p, ops::stream_of(input.device())));
  Tensor y = finish(out, unbatched), i = finish(idx, unbatched);
  if (autograd::any_requires_grad({&input})) {
    const Shape in_shape = x.sizes();
    SavedTensor s_idx(idx);
    auto node = std::make_shared<LambdaNode>("AdaptiveMaxPool2DBackward0", [=](const TensorList& g) {
      Tensor idx = s_idx.unpack("AdaptiveMaxPool2DBackward0");
      Tensor go = g[0].contiguous();
      Tensor gi = empty(in_shape, TensorOptions(go.dtype(), go.device()));
      if (gi.numel() > 0)
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::adaptive_max_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(),
                                                       idx.data_ptr<int64_t>(), p),
            kernels::cuda::adaptive_max_pool2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(),
                                                        idx.data_ptr<int64_t>(), p, ops::stream_of(go.device())));
      const Tensor iy = finish(idx, unbatched);
      return TensorList{linear_in_go(finish(gi, unbatched), go, "AdaptiveMaxPool2DBackwardBackward0",
                                     [iy](const Tensor& gg) { return gather_at(gg, iy, 2); })};
    });
    autograd::attach(node, {input}, y);
  }
  return {y, i};
}

Tensor adaptive_max_pool2d(const Tensor& input, const Dims& output_size) {
  return adaptive_max_pool2d_with_indices(input, output_size).first;
}

}  // namespace loom
