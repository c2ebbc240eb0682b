// grid_sample and affine_grid front ends. grid_sample's backward node saves
// the input and the grid and runs the backward kernels; affine_grid is a
// batched product of the base grid and theta.
#include "autograd/ops/grid.h"

#include "autograd/ops/common.h"
#include "core/op_cost.h"
#include "kernels/grid.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::GridMode;
using kernels::GridPadding;
using kernels::GridSampleParams;

namespace {

GridMode parse_mode(const std::string& mode) {
  if (mode == "bilinear") return GridMode::Bilinear;
  if (mode == "nearest") return GridMode::Nearest;
  LOOM_CHECK_KIND(mode != "bicubic", ErrorKind::NotImplemented,
                  "grid_sample(): mode 'bicubic' is not supported by loom (use 'bilinear' or 'nearest')");
  LOOM_THROW(ErrorKind::Value, "grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '",
             mode, "'");
}

GridPadding parse_padding(const std::string& padding) {
  if (padding == "zeros") return GridPadding::Zeros;
  if (padding == "border") return GridPadding::Border;
  if (padding == "reflection") return GridPadding::Reflection;
  LOOM_THROW(ErrorKind::Value,
             "grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: '", padding, "'");
}

// grad_input, grad_grid (undefined unless wanted) of grid_sample.
std::pair<Tensor, Tensor> grid_backward(const Tensor& g, const Tensor& x, const Tensor& grid, const GridSampleParams& p,
                                        bool want_grid) {
  Tensor go = g.contiguous();
  Tensor gx = zeros(x.sizes(), TensorOptions(x.dtype(), x.device()));
  Tensor gg = want_grid ? empty(grid.sizes(), TensorOptions(grid.dtype(), grid.device())) : Tensor();
  void* ggp = ops::ptr_or_null(gg);
  LOOM_DEVICE_DISPATCH(x.device(),
                       kernels::cpu::grid_sample_backward(x.dtype(), gx.data_ptr(), ggp, go.data_ptr(), x.data_ptr(),
                                                          grid.data_ptr(), p),
                       kernels::cuda::grid_sample_backward(x.dtype(), gx.data_ptr(), ggp, go.data_ptr(), x.data_ptr(),
                                                           grid.data_ptr(), p, ops::stream_of(x.device())));
  return {gx, gg};
}

// 1-d coordinates of `steps` points across [-1, 1]: the pixel centers, or
// the corners with align_corners (PyTorch's linspace_from_neg_one).
Tensor base_coords(int64_t steps, bool align_corners, const TensorOptions& opts) {
  if (steps <= 1) return zeros({steps}, opts);
  Tensor r = linspace(-1.0, 1.0, steps, opts);
  return align_corners ? r : r * (static_cast<double>(steps - 1) / static_cast<double>(steps));
}

}  // namespace

Tensor grid_sample(const Tensor& input, const Tensor& grid, const std::string& mode, const std::string& padding_mode,
                   bool align_corners) {
  OpScope scope(Op::grid_sample, {&input, &grid});
  LOOM_CHECK(input.defined() && grid.defined(), "grid_sample(): input and grid must be defined");
  const GridMode m = parse_mode(mode);
  const GridPadding pad = parse_padding(padding_mode);
  LOOM_CHECK(input.dim() == 4 && grid.dim() == 4, "grid_sampler(): expected 4D input and grid (loom samples 2-D ",
             "images), but got input with sizes ", input.sizes(), " and grid with sizes ", grid.sizes());
  LOOM_CHECK(grid.size(3) == 2, "grid_sampler(): expected grid to have size 2 in last dimension, but got grid with ",
             "sizes ", grid.sizes());
  LOOM_CHECK(input.size(0) == grid.size(0), "grid_sampler(): expected grid and input to have same batch size, but ",
             "got input with sizes ", input.sizes(), " and grid with sizes ", grid.sizes());
  LOOM_CHECK(input.size(2) > 0 && input.size(3) > 0, "grid_sampler(): expected input to have non-empty spatial ",
             "dimensions, but input has sizes ", input.sizes());
  LOOM_CHECK(input.size(2) * input.size(3) < (int64_t(1) << 31), "grid_sampler(): an input plane of ", input.size(2),
             " x ", input.size(3), " has 2^31 elements or more (loom's limit), input sizes ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "grid_sampler(): expected a floating point input, got ",
                  dtype_name(input.dtype()));
  LOOM_CHECK_TYPE(grid.dtype() == input.dtype(), "grid_sampler(): expected input and grid to have the same dtype, ",
                  "but input has ", dtype_name(input.dtype()), " and grid has ", dtype_name(grid.dtype()));
  ops::check_same_device("grid_sampler()", {&input, &grid});
  GridSampleParams p;
  p.N = input.size(0), p.C = input.size(1), p.H = input.size(2), p.W = input.size(3);
  p.OH = grid.size(1), p.OW = grid.size(2);
  p.mode = m, p.padding = pad, p.align_corners = align_corners;
  if (scope.observed()) {  // per output element: 4 taps of a multiply-add (bilinear); reads and writes once
    const double out = double(p.N) * double(p.C) * double(p.OH) * double(p.OW);
    scope.set_cost(m == GridMode::Bilinear ? 8 * out : 0,
                   cost_bytes(&input) + cost_bytes(&grid) + out * double(input.element_size()));
  }
  Tensor x = input.contiguous(), gr = grid.contiguous();
  Tensor out = empty({p.N, p.C, p.OH, p.OW}, TensorOptions(input.dtype(), input.device()));
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(x.device(),
                         kernels::cpu::grid_sample_forward(x.dtype(), out.data_ptr(), x.data_ptr(), gr.data_ptr(), p),
                         kernels::cuda::grid_sample_forward(x.dtype(), out.data_ptr(), x.data_ptr(), gr.data_ptr(), p,
                                                            ops::stream_of(x.device())));
  if (autograd::any_requires_grad({&input, &grid})) {
    SavedTensor sx(x), sg(gr);
    const bool want_grid = grid.requires_grad();
    auto node = std::make_shared<LambdaNode>("GridSampler2DBackward0", [=](const TensorList& g) {
      LOOM_CHECK_KIND(!autograd::grad_enabled(), ErrorKind::NotImplemented,
                      "grid_sample: double backward (create_graph=True) is not supported");
      auto [gx, gg] = grid_backward(g[0], sx.unpack("GridSampler2DBackward0").detach(),
                                    sg.unpack("GridSampler2DBackward0").detach(), p, want_grid);
      return TensorList{gx, gg};
    });
    autograd::attach(node, {input, grid}, out);
  }
  return out;
}

Tensor affine_grid(const Tensor& theta, const Dims& size, bool align_corners) {
  OpScope scope(Op::affine_grid, {&theta});
  LOOM_CHECK(theta.defined(), "affine_grid(): theta must be defined");
  LOOM_CHECK(size.size() == 4, "affine_grid(): loom supports 4-D sizes [N, C, H, W] (2-D affine transforms), got ",
             "size ", size);
  LOOM_CHECK_TYPE(is_floating(theta.dtype()), "affine_grid(): expected theta to have floating point type, but got ",
                  dtype_name(theta.dtype()));
  LOOM_CHECK(theta.dim() == 3 && theta.size(1) == 2 && theta.size(2) == 3,
             "affine_grid(): expected a batch of 2D affine matrices of shape Nx2x3 for size ", size,
             ". Got theta with sizes ", theta.sizes(), ".");
  LOOM_CHECK(theta.size(0) == size[0], "affine_grid(): expected theta's batch size ", theta.size(0),
             " to equal size[0] = ", size[0]);
  LOOM_CHECK(size[2] > 0 && size[3] > 0, "affine_grid(): expected non-empty spatial sizes, got size ", size);
  const int64_t H = size[2], W = size[3];
  if (scope.observed()) {  // a [H W, 3] x [3, 2] product per image; the grid written
    const double points = double(size[0]) * double(H) * double(W);
    scope.set_cost(12 * points, cost_bytes(&theta) + 2 * points * double(theta.element_size()));
  }
  const TensorOptions opts(theta.dtype(), theta.device());
  // The base grid [H, W, 3]: (x, y, 1) of every pixel.
  Tensor xs = base_coords(W, align_corners, opts).reshape({1, W, 1}).expand({H, W, 1});
  Tensor ys = base_coords(H, align_corners, opts).reshape({H, 1, 1}).expand({H, W, 1});
  Tensor base = cat({xs, ys, ones({H, W, 1}, opts)}, 2).reshape({1, H * W, 3}).expand({size[0], H * W, 3});
  return base.bmm(theta.transpose(1, 2)).reshape({size[0], H, W, 2});
}

}  // namespace loom
