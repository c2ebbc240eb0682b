// upsample_nearest2d / upsample_bilinear2d / upsample_bicubic2d front ends and their backward
// nodes (they save only the geometry). Resizing is linear: its backward
// applies the adjoint (the kernels' backward), and the adjoint's backward is
// the resize again, so under create_graph each is recorded with the other as
// its gradient (differentiable any number of times).
#include "autograd/ops/upsample.h"

#include "autograd/ops/common.h"
#include "core/op_cost.h"
#include "kernels/upsample.h"

namespace loom {

using autograd::LambdaNode;
using kernels::UpsampleMode;
using kernels::UpsampleParams;

namespace {

Tensor up(const Tensor& x, const UpsampleParams& p, const Shape& in_shape, const Shape& out_shape);

// The adjoint of the resize, g [N, C, OH, OW] -> [N, C, H, W] (the backward kernels).
Tensor down(const Tensor& g, const UpsampleParams& p, const Shape& in_shape, const Shape& out_shape) {
  Tensor go = g.reshape(out_shape).contiguous();
  Tensor gi = empty(in_shape, TensorOptions(go.dtype(), go.device()));
  if (gi.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        go.device(), kernels::cpu::upsample2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p),
        kernels::cuda::upsample2d_backward(go.dtype(), gi.data_ptr(), go.data_ptr(), p, ops::stream_of(go.device())));
  if (autograd::any_requires_grad({&g})) {
    const char* name = p.mode == UpsampleMode::Bicubic    ? "UpsampleBicubic2DBackwardBackward0"
                       : p.mode == UpsampleMode::Bilinear ? "UpsampleBilinear2DBackwardBackward0"
                                                          : "UpsampleNearest2DBackwardBackward0";
    auto node = std::make_shared<LambdaNode>(
        name, [=](const TensorList& gg) { return TensorList{up(gg[0], p, in_shape, out_shape)}; });
    autograd::attach(node, {g}, gi);
  }
  return gi;
}

// The resize, x [N, C, H, W] -> [N, C, OH, OW].
Tensor up(const Tensor& x, const UpsampleParams& p, const Shape& in_shape, const Shape& out_shape) {
  Tensor xc = x.reshape(in_shape).contiguous();
  Tensor out = ops::new_empty(out_shape, x.dtype(), x.device());
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        x.device(), kernels::cpu::upsample2d_forward(x.dtype(), out.data_ptr(), xc.data_ptr(), p),
        kernels::cuda::upsample2d_forward(x.dtype(), out.data_ptr(), xc.data_ptr(), p, ops::stream_of(x.device())));
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    const char* name = p.mode == UpsampleMode::Bicubic    ? "UpsampleBicubic2DBackward0"
                       : p.mode == UpsampleMode::Bilinear ? "UpsampleBilinear2DBackward0"
                                                          : "UpsampleNearest2DBackward0";
    auto node = std::make_shared<LambdaNode>(
        name, [=](const TensorList& g) { return TensorList{down(g[0], p, in_shape, out_shape)}; });
    autograd::attach(node, {x}, out);
  }
  return out;
}

Tensor upsample(const Tensor& input, const Dims& output_size, const std::vector<double>& scales, UpsampleMode mode,
                bool align_corners, const char* op) {
  LOOM_CHECK(input.defined(), op, ": input must be defined");
  LOOM_CHECK(input.dim() == 3 || input.dim() == 4, op, ": expected a 3D [C, H, W] or 4D [N, C, H, W] input, got ",
             "input of size ", input.sizes());
  LOOM_CHECK(output_size.size() == 2, op, ": output_size must have 2 elements, got ", output_size);
  LOOM_CHECK(scales.empty() || scales.size() == 2, op, ": scales must be empty or hold 2 values, got ", scales.size());
  if (mode == UpsampleMode::Bilinear || mode == UpsampleMode::Bicubic)
    LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ",
                    dtype_name(input.dtype()));
  const bool unbatched = input.dim() == 3;
  const Tensor x = unbatched ? input.unsqueeze(0) : input;
  UpsampleParams p;
  p.NC = x.size(0) * x.size(1), p.H = x.size(2), p.W = x.size(3), p.OH = output_size[0], p.OW = output_size[1];
  LOOM_CHECK(p.H > 0 && p.W > 0 && p.OH > 0 && p.OW > 0, op,
             ": input and output sizes should be greater than 0, but got input (H: ", p.H, ", W: ", p.W,
             ") output (H: ", p.OH, ", W: ", p.OW, ")");
  p.mode = mode;
  p.align_corners = align_corners;
  p.rh = kernels::upsample_scale(p.H, p.OH, align_corners, scales.empty() ? 0.0 : scales[0]);
  p.rw = kernels::upsample_scale(p.W, p.OW, align_corners, scales.empty() ? 0.0 : scales[1]);
  Tensor out = up(x, p, x.sizes(), {x.size(0), x.size(1), p.OH, p.OW});
  return unbatched ? out.squeeze(0) : out;
}

// flops: per output element (bilinear 9: 4 taps, 3 lerps; bicubic 35: 4 rows of 4 taps, then 4 rows).
void set_cost(const OpScope& scope, const Tensor& input, const Dims& output_size, double flops) {
  if (!scope.observed() || !input.defined() || output_size.size() != 2 || input.dim() < 3) return;
  const double planes =
      static_cast<double>(input.numel()) / static_cast<double>(std::max<int64_t>(1, input.size(-1) * input.size(-2)));
  const double out = planes * static_cast<double>(output_size[0]) * static_cast<double>(output_size[1]);
  // The input read once, the output written once.
  scope.set_cost(flops * out, cost_bytes(&input) + out * static_cast<double>(input.element_size()));
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& input, const Dims& output_size, const std::vector<double>& scales, bool exact) {
  OpScope scope(Op::upsample_nearest2d, {&input});
  set_cost(scope, input, output_size, 0);
  return upsample(input, output_size, scales, exact ? UpsampleMode::NearestExact : UpsampleMode::Nearest, false,
                  "upsample_nearest2d");
}

Tensor upsample_bilinear2d(const Tensor& input, const Dims& output_size, bool align_corners,
                           const std::vector<double>& scales) {
  OpScope scope(Op::upsample_bilinear2d, {&input});
  set_cost(scope, input, output_size, 9);
  return upsample(input, output_size, scales, UpsampleMode::Bilinear, align_corners, "upsample_bilinear2d");
}

Tensor upsample_bicubic2d(const Tensor& input, const Dims& output_size, bool align_corners,
                          const std::vector<double>& scales) {
  OpScope scope(Op::upsample_bicubic2d, {&input});
  set_cost(scope, input, output_size, 35);
  return upsample(input, output_size, scales, UpsampleMode::Bicubic, align_corners, "upsample_bicubic2d");
}

}  // namespace loom
