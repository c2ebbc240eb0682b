// conv1d / conv2d / conv3d and the transposed convolutions: front ends and
// their backward node (ConvolutionBackward0):
// argument checks, output allocation, dispatch to the CPU kernels, loom's CUDA
// kernels or cuDNN (set_conv_backend). Backward saves input and weight and
// calls the backward kernels for the inputs that require grad. Under
// create_graph the gradients are composed from conv2d and conv_transpose2d
// instead (differentiable: double backward, gradient penalties).
#include "autograd/ops/conv.h"
#include "core/op_cost.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops/common.h"
#include "core/autotune.h"
#include "core/cuda.h"
#include "core/cuda_build.h"
#include "kernels/conv.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::ConvParams;

namespace {

std::atomic<ConvBackend> g_backend{ConvBackend::Auto};

// One value for both spatial dims, or one per dim.
// stride / padding / dilation / output_padding: one value for every spatial
// dim or one per dim, as {depth, height, width} (depth = `fill` in 2-D).
std::array<int64_t, 3> spatial_arg(const Dims& d, int nd, const char* op, const char* name, int64_t fill) {
  LOOM_CHECK(d.size() == 1 || d.size() == size_t(nd), op, ": expected ", name, " to have 1 or ", nd, " elements, got ",
             d.size());
  if (d.size() == 1) return {nd == 3 ? d[0] : fill, d[0], d[0]};
  return nd == 3 ? std::array<int64_t, 3>{d[0], d[1], d[2]} : std::array<int64_t, 3>{fill, d[0], d[1]};
}

// The shapes of a problem: input [N, C, (D,) H, W], weight [K, C/groups, (KD,) R, S], output.
Shape in_shape(const ConvParams& p, int nd) {
  return nd == 3 ? Shape{p.N, p.C, p.D, p.H, p.W} : Shape{p.N, p.C, p.H, p.W};
}
Shape weight_shape(const ConvParams& p, int nd) {
  return nd == 3 ? Shape{p.K, p.C / p.groups, p.KD, p.R, p.S} : Shape{p.K, p.C / p.groups, p.R, p.S};
}
Shape out_shape(const ConvParams& p, int nd) {
  return nd == 3 ? Shape{p.N, p.K, p.OD, p.OH, p.OW} : Shape{p.N, p.K, p.OH, p.OW};
}
// The dims a bias gradient sums over: all but the channels.
Dims bias_dims(int nd) { return nd == 3 ? Dims{0, 2, 3, 4} : Dims{0, 2, 3}; }
Dims dims_of(int nd, int64_t d, int64_t h, int64_t w) { return nd == 3 ? Dims{d, h, w} : Dims{h, w}; }

// The autotuner's key: everything the fastest choice depends on.
std::string tuning_key(const char* pass, DType dt, const ConvParams& p, bool tf32, bool det, const std::string& dev) {
  std::ostringstream o;
  o << pass << ' ' << dtype_name(dt) << (tf32 && dt == DType::Float32 ? " tf32" : "") << (det ? " deterministic" : "")
    << " N" << p.N << " C" << p.C << " H" << p.H << " W" << p.W << " K" << p.K << " R" << p.R << " S" << p.S
    << " stride" << p.stride_h << ',' << p.stride_w << " pad" << p.pad_h << ',' << p.pad_w << " dil" << p.dil_h << ','
    << p.dil_w << " groups" << p.groups << " on " << dev;
  return o.str();
}

namespace kg = kernels::cuda;
using kg::ConvConfig;
using kg::ConvPass;

// What runs one pass on CUDA: one of loom's configurations, or cuDNN.
struct Choice {
  bool cudnn = false;
  ConvConfig cfg;
  std::string name() const { return cudnn ? "cudnn" : cfg.name(); }
};

// Times a candidate on the convolution's stream with CUDA events (tuning only:
// it waits for the GPU).
class StreamTimer : public autotune::Timer {
 public:
  explicit StreamTimer(cudaStream_t stream) : stream_(stream) {}
  double time_ms(const std::string&, const autotune::Candidate& c) override {
    return cuda::time_on_stream(stream_, c.run);
  }

 private:
  cudaStream_t stream_;
};

// Picks what runs `pass` under the current backend and runs it: "hand" = the
// heuristic's configuration, "cudnn" = cuDNN with its heuristics, "auto" = the
// autotuner's choice among every configuration and cuDNN (found and timed the
// first time the problem is seen; later calls are a lookup). run(choice)
// performs the pass with that choice.
void dispatch(ConvPass pass, DType dt, const ConvParams& p, const Device& dev,
              const std::function<void(const Choice&)>& run) {
  LOOM_CHECK(p.is_2d(), "conv: loom's CUDA convolution kernels take 2-D problems (3-D ones run by depth taps)");
  const bool tf32 = allow_tf32(), det = are_deterministic_algorithms_enabled();
  const ConvBackend backend = g_backend.load();
  if (backend == ConvBackend::Cudnn) {
    LOOM_CHECK(kg::cudnn_available(),
               "conv2d: the cuDNN backend was selected (set_conv_backend) but loom was built without cuDNN");
    run(Choice{true, {}});
    return;
  }
  const auto configs = kg::conv2d_configs(pass, dt, p, tf32);
  if (backend == ConvBackend::Hand) {
    run(Choice{false, configs.front()});
    return;
  }
  // A problem seen before: one lookup, no timer, no GPU synchronization.
  const std::string key = tuning_key(kg::conv_pass_name(pass), dt, p, tf32, det, cuda::device_name(dev.index));
  std::string best;
  if (autotune::cached_choice("conv2d", key, &best)) {
    if (best == "cudnn" && kg::cudnn_available()) return run(Choice{true, {}});
    for (const auto& c : configs)
      if (c.name() == best) return run(Choice{false, c});
  }
  // The likeliest winners first (the tuning budget may not reach the last):
  // the heuristic's configuration, cuDNN, then the rest.
  std::vector<Choice> choices{Choice{false, configs.front()}};
  if (kg::cudnn_available()) choices.push_back(Choice{true, {}});
  for (size_t i = 1; i < configs.size(); ++i) choices.push_back(Choice{false, configs[i]});
  std::vector<autotune::Candidate> cands;
  for (const auto& c : choices) cands.push_back({c.name(), [&run, c] { run(c); }});
  StreamTimer timer(ops::stream_of(dev));
  best = autotune::choose("conv2d", key, cands, timer);
  for (const auto& c : choices)
    if (c.name() == best) return run(c);
}

kg::CudnnConvOptions cudnn_options() {
  kg::CudnnConvOptions o;
  o.search = g_backend.load() == ConvBackend::Auto;
  o.deterministic = are_deterministic_algorithms_enabled();
  return o;
}

// Device memory for one call, from loom's caching allocator (stream-ordered).
struct Workspace {
  int device;
  std::vector<std::shared_ptr<void>> held;
  void* get(size_t bytes) {
    if (!bytes) return nullptr;
    held.push_back(cuda::allocate(bytes, device));
    return held.back().get();
  }
  kg::WorkspaceFn fn() {
    return [this](size_t bytes) { return get(bytes); };
  }
};

void run_forward(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, const ConvParams& p) {
  const void* bias = b.defined() ? b.data_ptr() : nullptr;
  LOOM_DEVICE_DISPATCH(
      in.device(), kernels::cpu::conv2d_forward(in.dtype(), out.data_ptr(), in.data_ptr(), w.data_ptr(), bias, p), {
        const cudaStream_t stream = ops::stream_of(in.device());
        const bool tf32 = allow_tf32();
        dispatch(ConvPass::Forward, in.dtype(), p, in.device(), [&](const Choice& c) {
          Workspace ws{in.device().index, {}};
          if (c.cudnn)
            kg::cudnn_conv2d_forward(in.dtype(), out.data_ptr(), in.data_ptr(), w.data_ptr(), bias, p, tf32,
                                     cudnn_options(), ws.fn(), in.device().index, stream);
          else
            kg::conv2d_forward(in.dtype(), out.data_ptr(), in.data_ptr(), w.data_ptr(), bias, p, tf32, c.cfg, stream);
        });
      });
}

void run_backward_input(const Tensor& gin, const Tensor& gout, const Tensor& w, const ConvParams& p) {
  LOOM_DEVICE_DISPATCH(
      gout.device(),
      kernels::cpu::conv2d_backward_input(gout.dtype(), gin.data_ptr(), gout.data_ptr(), w.data_ptr(), p), {
        const cudaStream_t stream = ops::stream_of(gout.device());
        const bool tf32 = allow_tf32();
        dispatch(ConvPass::BackwardData, gout.dtype(), p, gout.device(), [&](const Choice& c) {
          Workspace ws{gout.device().index, {}};
          if (c.cudnn)
            kg::cudnn_conv2d_backward_input(gout.dtype(), gin.data_ptr(), gout.data_ptr(), w.data_ptr(), p, tf32,
                                            cudnn_options(), ws.fn(), gout.device().index, stream);
          else
            kg::conv2d_backward_input(gout.dtype(), gin.data_ptr(), gout.data_ptr(), w.data_ptr(), p, tf32, c.cfg,
                                      stream);
        });
      });
}

void run_backward_weight(const Tensor& gw, const Tensor& gb, const Tensor& gout, const Tensor& in,
                         const ConvParams& p) {
  void* bias = gb.defined() ? gb.data_ptr() : nullptr;
  LOOM_DEVICE_DISPATCH(
      gout.device(),
      kernels::cpu::conv2d_backward_weight(gout.dtype(), gw.data_ptr(), bias, gout.data_ptr(), in.data_ptr(), p), {
        const cudaStream_t stream = ops::stream_of(gout.device());
        const bool tf32 = allow_tf32();
        const bool det = are_deterministic_algorithms_enabled();
        dispatch(ConvPass::BackwardWeight, gout.dtype(), p, gout.device(), [&](const Choice& c) {
          Workspace ws{gout.device().index, {}};
          if (c.cudnn) {
            kg::cudnn_conv2d_backward_weight(gout.dtype(), gw.data_ptr(), bias, gout.data_ptr(), in.data_ptr(), p, tf32,
                                             cudnn_options(), ws.fn(), gout.device().index, stream);
          } else {
            void* buf = ws.get(
                kg::conv2d_workspace_bytes(ConvPass::BackwardWeight, gout.dtype(), p, c.cfg, det, bias != nullptr));
            kg::conv2d_backward_weight(gout.dtype(), gw.data_ptr(), bias, gout.data_ptr(), in.data_ptr(), p, tf32,
                                       c.cfg, det, buf, stream);
          }
        });
      });
}

Tensor conv_nd(Op id, const char* op, int nd, const Tensor& input, const Tensor& weight, const Tensor& bias,
               const Dims& stride, const Dims& padding, const Dims& dilation, int64_t groups);
Tensor conv_transpose_nd(Op id, const char* op, int nd, const Tensor& input, const Tensor& weight, const Tensor& bias,
                         const Dims& stride, const Dims& padding, const Dims& output_padding, int64_t groups,
                         const Dims& dilation);
Tensor conv_forward(int nd, const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride,
                    const Dims& padding, const Dims& dilation, int64_t groups) {
  return nd == 3 ? conv3d(input, weight, bias, stride, padding, dilation, groups)
                 : conv2d(input, weight, bias, stride, padding, dilation, groups);
}
Tensor conv_transpose(int nd, const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride,
                      const Dims& padding, const Dims& output_padding, int64_t groups, const Dims& dilation) {
  return nd == 3 ? conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)
                 : conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation);
}

// The weight gradient for input x [N, C, (D,) H, W] and output gradient go
// [N, K, (OD,) OH, OW] under p, composed from the convolution itself so that
// it is differentiable (create_graph). Per group, x's channels correlated with
// go's over the batch, stride and dilation exchanged:
//   gw[k][c][r][s] = sum_n,oh,ow x[n][c][oh·sh + r·dh − ph][ow·sw + s·dw − pw] · go[n][k][oh][ow]
// = conv(xᵀ [C, N, H, W], goᵀ [K, N, OH, OW], stride = dilation, dilation = stride)ᵀ,
// whose spatial size is at least (KD x) R x S (the rows past it are cut).
Tensor weight_grad_composed(const Tensor& x, const Tensor& go, const ConvParams& p, int nd) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, first = nd == 3 ? 3 : 2;  // the dim of R
  TensorList parts;
  for (int64_t g = 0; g < p.groups; ++g) {
    Tensor xg = x.narrow(1, g * Cg, Cg).transpose(0, 1), gg = go.narrow(1, g * Kg, Kg).transpose(0, 1);
    Tensor r = conv_forward(nd, xg, gg, Tensor(), dims_of(nd, p.dil_d, p.dil_h, p.dil_w),
                            dims_of(nd, p.pad_d, p.pad_h, p.pad_w), dims_of(nd, p.stride_d, p.stride_h, p.stride_w), 1);
    if (nd == 3) r = r.narrow(2, 0, p.KD);
    parts.push_back(r.narrow(first, 0, p.R).narrow(first + 1, 0, p.S).transpose(0, 1));
  }
  return parts.size() == 1 ? parts[0].contiguous() : cat(parts, 0);
}

// The input gradient composed from the transposed convolution (create_graph):
// the output padding gives back the input's size.
Tensor input_grad_composed(const Tensor& go, const Tensor& w, const ConvParams& p, int nd) {
  const int64_t opd = p.D - ((p.OD - 1) * p.stride_d - 2 * p.pad_d + p.dil_d * (p.KD - 1) + 1);
  const int64_t oph = p.H - ((p.OH - 1) * p.stride_h - 2 * p.pad_h + p.dil_h * (p.R - 1) + 1);
  const int64_t opw = p.W - ((p.OW - 1) * p.stride_w - 2 * p.pad_w + p.dil_w * (p.S - 1) + 1);
  return conv_transpose(nd, go, w, Tensor(), dims_of(nd, p.stride_d, p.stride_h, p.stride_w),
                        dims_of(nd, p.pad_d, p.pad_h, p.pad_w), dims_of(nd, opd, oph, opw), p.groups,
                        dims_of(nd, p.dil_d, p.dil_h, p.dil_w));
}

// ---- 3-D convolutions on CUDA: loom's CUDA kernels are 2-D, so the 3-D ops compose them there, one
// 2-D convolution per depth tap over the matching depth slices of the whole batch (differentiable: the
// backward runs through the 2-D ops) ----

// conv3d of x [N, C, D, H, W] (p: the checked problem).
Tensor conv3d_by_taps(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvParams& p) {
  Tensor xp = x;
  if (p.pad_d > 0) {
    Tensor z = zeros({p.N, p.C, p.pad_d, p.H, p.W}, TensorOptions(x.dtype(), x.device()));
    xp = cat({z, x, z}, 2);
  }
  Tensor out;
  for (int64_t t = 0; t < p.KD; ++t) {
    const int64_t start = t * p.dil_d;
    Tensor sl = xp.slice(2, start, start + (p.OD - 1) * p.stride_d + 1, p.stride_d)
                    .transpose(1, 2)
                    .reshape({p.N * p.OD, p.C, p.H, p.W});
    Tensor y = conv2d(sl, w.select(2, t), Tensor(), {p.stride_h, p.stride_w}, {p.pad_h, p.pad_w}, {p.dil_h, p.dil_w},
                      p.groups);
    out = out.defined() ? out + y : y;
  }
  out = out.reshape({p.N, p.OD, p.K, p.OH, p.OW}).transpose(1, 2).contiguous();
  return bias.defined() ? out + bias.reshape({1, p.K, 1, 1, 1}) : out;
}

// conv_transpose3d of x [N, K, OD, OH, OW] into [N, C, D, H, W] (p: the convolution it transposes).
Tensor conv_transpose3d_by_taps(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvParams& p, int64_t oph,
                                int64_t opw) {
  const TensorOptions opts(x.dtype(), x.device());
  const int64_t full = p.D + 2 * p.pad_d, span = (p.OD - 1) * p.stride_d + 1;
  Tensor slices = x.transpose(1, 2).reshape({p.N * p.OD, p.K, p.OH, p.OW}), acc;
  for (int64_t t = 0; t < p.KD; ++t) {
    Tensor y = conv_transpose2d(slices, w.select(2, t), Tensor(), {p.stride_h, p.stride_w}, {p.pad_h, p.pad_w},
                                {oph, opw}, p.groups, {p.dil_h, p.dil_w})
                   .reshape({p.N, p.OD, p.C, p.H, p.W});
    if (p.stride_d > 1)  // slice od lands at depth od * stride_d: zeros between
      y = cat({y.unsqueeze(2), zeros({p.N, p.OD, p.stride_d - 1, p.C, p.H, p.W}, opts)}, 2)
              .reshape({p.N, p.OD * p.stride_d, p.C, p.H, p.W})
              .narrow(1, 0, span);
    const int64_t front = t * p.dil_d, back = full - front - span;
    TensorList parts;
    if (front > 0) parts.push_back(zeros({p.N, front, p.C, p.H, p.W}, opts));
    parts.push_back(y);
    if (back > 0) parts.push_back(zeros({p.N, back, p.C, p.H, p.W}, opts));
    y = parts.size() == 1 ? y : cat(parts, 1);
    acc = acc.defined() ? acc + y : y;
  }
  Tensor out = acc.narrow(1, p.pad_d, p.D).transpose(1, 2).contiguous();
  return bias.defined() ? out + bias.reshape({1, p.C, 1, 1, 1}) : out;
}

// The checks conv_nd and conv_transpose_nd share (a batched input): the
// weight's rank, devices, dtypes, and stride / padding / dilation / groups,
// returned per dim as {depth, height, width}.
struct SpatialArgs {
  std::array<int64_t, 3> st, pd, dl;
};
SpatialArgs check_conv_args(const char* op, int nd, bool transposed, const Tensor& input, const Tensor& weight,
                            const Tensor& bias, const Dims& stride, const Dims& padding, const Dims& dilation,
                            int64_t groups) {
  LOOM_CHECK(weight.dim() == nd + 2, op, ": expected a ", nd + 2, "D weight [",
             transposed ? "in_channels, out_channels/groups, " : "out_channels, in_channels/groups, ",
             nd == 3 ? "kD, " : "", "kH, kW], got ", weight.sizes());
  ops::check_same_device(op, {&input, &weight});
  if (bias.defined()) ops::check_same_device(op, {&input, &bias});
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
  LOOM_CHECK_TYPE(weight.dtype() == input.dtype() && (!bias.defined() || bias.dtype() == input.dtype()), op,
                  ": input (", dtype_name(input.dtype()), "), weight (", dtype_name(weight.dtype()),
                  ") and bias must have the same dtype");
  const SpatialArgs a{spatial_arg(stride, nd, op, "stride", 1), spatial_arg(padding, nd, op, "padding", 0),
                      spatial_arg(dilation, nd, op, "dilation", 1)};
  LOOM_CHECK(a.st[0] > 0 && a.st[1] > 0 && a.st[2] > 0, op, ": stride must be positive, got ", stride);
  LOOM_CHECK(a.pd[0] >= 0 && a.pd[1] >= 0 && a.pd[2] >= 0, op, ": padding must be non-negative, got ", padding);
  LOOM_CHECK(a.dl[0] > 0 && a.dl[1] > 0 && a.dl[2] > 0, op, ": dilation must be positive, got ", dilation);
  LOOM_CHECK(groups > 0, op, ": groups must be positive, got ", groups);
  return a;
}

// conv2d / conv3d (nd = 2, 3): checks, the forward kernels, the backward node.
Tensor conv_nd(Op id, const char* op, int nd, const Tensor& input, const Tensor& weight, const Tensor& bias,
               const Dims& stride, const Dims& padding, const Dims& dilation, int64_t groups) {
  OpScope scope(id, {&input, &weight, &bias});
  LOOM_CHECK(input.defined() && weight.defined(), op, ": input and weight must be defined");
  LOOM_CHECK(input.dim() == nd + 1 || input.dim() == nd + 2, op, ": expected ", nd + 1, "D (unbatched) or ", nd + 2,
             "D (batched) input, but got input of size: ", input.sizes());
  if (input.dim() == nd + 1)
    return conv_nd(id, op, nd, input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  const auto [st, pd, dl] = check_conv_args(op, nd, false, input, weight, bias, stride, padding, dilation, groups);
  const int64_t off = nd - 2;  // dims before H past the channels
  ConvParams p{};
  p.N = input.size(0), p.C = input.size(1), p.H = input.size(2 + off), p.W = input.size(3 + off);
  p.K = weight.size(0), p.R = weight.size(2 + off), p.S = weight.size(3 + off);
  p.stride_h = st[1], p.stride_w = st[2], p.pad_h = pd[1], p.pad_w = pd[2], p.dil_h = dl[1], p.dil_w = dl[2];
  p.groups = groups;
  if (nd == 3) {
    p.D = input.size(2), p.KD = weight.size(2);
    p.stride_d = st[0], p.pad_d = pd[0], p.dil_d = dl[0];
  }
  LOOM_CHECK(p.K % groups == 0, op, ": out_channels (", p.K, ") of weight ", weight.sizes(),
             " must be divisible by groups (", groups, ")");
  LOOM_CHECK(p.C == weight.size(1) * groups, op, ": given groups=", groups, ", weight of size ", weight.sizes(),
             ", expected input", input.sizes(), " to have ", weight.size(1) * groups, " channels, but got ", p.C,
             " channels instead");
  LOOM_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == p.K), op, ": expected bias of size [", p.K,
             "], got ", bias.sizes());
  LOOM_CHECK(p.K > 0 && p.KD > 0 && p.R > 0 && p.S > 0 && p.C > 0, op, ": weight ", weight.sizes(), " and input ",
             input.sizes(), " must have non-zero channels and kernel size");
  p.OD = nd == 3 ? kernels::conv_out_size(p.D, p.KD, p.stride_d, p.pad_d, p.dil_d) : 1;
  p.OH = kernels::conv_out_size(p.H, p.R, p.stride_h, p.pad_h, p.dil_h);
  p.OW = kernels::conv_out_size(p.W, p.S, p.stride_w, p.pad_w, p.dil_w);
  const bool fits = p.D + 2 * p.pad_d >= p.dil_d * (p.KD - 1) + 1 && p.H + 2 * p.pad_h >= p.dil_h * (p.R - 1) + 1 &&
                    p.W + 2 * p.pad_w >= p.dil_w * (p.S - 1) + 1 && p.OD > 0 && p.OH > 0 && p.OW > 0;
  if (nd == 3)
    LOOM_CHECK(fits, op, ": calculated padded input size per channel: (", p.D + 2 * p.pad_d, " x ", p.H + 2 * p.pad_h,
               " x ", p.W + 2 * p.pad_w, "). Kernel size: (", p.dil_d * (p.KD - 1) + 1, " x ", p.dil_h * (p.R - 1) + 1,
               " x ", p.dil_w * (p.S - 1) + 1, "). Kernel size can't be greater than actual input size");
  else
    LOOM_CHECK(fits, op, ": calculated padded input size per channel: (", p.H + 2 * p.pad_h, " x ", p.W + 2 * p.pad_w,
               "). Kernel size: (", p.dil_h * (p.R - 1) + 1, " x ", p.dil_w * (p.S - 1) + 1,
               "). Kernel size can't be greater than actual input size");

  if (scope.observed()) {
    const OpCost c = conv2d_cost(input.shape(), weight.shape(), bias.defined(), out_shape(p, nd), input.element_size());
    scope.set_cost(c.flops, c.bytes);
  }
  if (nd == 3 && input.is_cuda()) return conv3d_by_taps(input, weight, bias, p);
  Tensor in = input.contiguous(), w = weight.contiguous(), b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor out = ops::new_empty(out_shape(p, nd), input.dtype(), input.device());
  if (out.numel() > 0) run_forward(out, in, w, b, p);

  TensorList inputs = {input, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (autograd::any_requires_grad(inputs)) {
    const bool need_in = input.requires_grad(), need_w = weight.requires_grad(),
               need_b = bias.defined() && bias.requires_grad();
    SavedTensor s_in(need_w ? in : Tensor()), s_w(need_in ? w : Tensor());
    const bool has_bias = bias.defined();
    auto node = std::make_shared<LambdaNode>("ConvolutionBackward0", [=](const TensorList& g) {
      TensorList grads(has_bias ? 3 : 2);
      if (!g[0].defined()) return grads;
      if (autograd::grad_enabled() && g[0].numel() > 0 && p.N * p.C * p.in_plane() > 0) {  // create_graph
        if (need_in) grads[0] = input_grad_composed(g[0], s_w.unpack("ConvolutionBackward0"), p, nd);
        if (need_w) grads[1] = weight_grad_composed(s_in.unpack("ConvolutionBackward0"), g[0], p, nd);
        if (need_b) grads[2] = g[0].sum(bias_dims(nd));
        return grads;
      }
      Tensor go = g[0].contiguous();
      const TensorOptions opts(go.dtype(), go.device());
      if (need_in) {
        Tensor wt = s_w.unpack("ConvolutionBackward0");
        grads[0] = empty(in_shape(p, nd), opts);
        if (grads[0].numel() > 0) run_backward_input(grads[0], go, wt, p);
      }
      if (need_w || need_b) {
        Tensor gw, gb;
        if (go.numel() == 0) {
          if (need_w) gw = zeros(weight_shape(p, nd), opts);
          if (need_b) gb = zeros({p.K}, opts);
        } else if (need_w) {
          gw = empty(weight_shape(p, nd), opts);
          if (need_b) gb = empty({p.K}, opts);
          run_backward_weight(gw, gb, go, s_in.unpack("ConvolutionBackward0"), p);
        } else {
          gb = go.sum(bias_dims(nd));
        }
        grads[1] = gw;
        if (has_bias) grads[2] = gb;
      }
      return grads;
    });
    // Backward's work: a data-gradient and a weight-gradient pass, each as
    // many FLOPs as the forward, and the bias gradient's sum.
    const double macs = double(p.N) * double(p.K) * double(p.out_plane()) * double(p.crs());
    const double out_n = double(out.numel()), item = double(input.element_size());
    node->cost_flops = 2 * macs * ((need_in ? 1 : 0) + (need_w ? 1 : 0)) + (need_b ? out_n : 0);
    node->cost_bytes = item * (out_n + (need_w ? 2 * double(weight.numel()) + double(input.numel()) : 0) +
                               (need_in ? 2 * double(input.numel()) + double(weight.numel()) : 0));
    node->cost_tensor_core = true;
    autograd::attach(node, inputs, out);
  }
  return out;
}

// conv_transpose2d / conv_transpose3d: a convolution's input gradient, its
// problem p the convolution whose input is our output.
Tensor conv_transpose_nd(Op id, const char* op, int nd, const Tensor& input, const Tensor& weight, const Tensor& bias,
                         const Dims& stride, const Dims& padding, const Dims& output_padding, int64_t groups,
                         const Dims& dilation) {
  OpScope scope(id, {&input, &weight, &bias});
  LOOM_CHECK(input.defined() && weight.defined(), op, ": input and weight must be defined");
  LOOM_CHECK(input.dim() == nd + 1 || input.dim() == nd + 2, op, ": expected ", nd + 1, "D (unbatched) or ", nd + 2,
             "D (batched) input, but got input of size: ", input.sizes());
  if (input.dim() == nd + 1)
    return conv_transpose_nd(id, op, nd, input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                             dilation)
        .squeeze(0);
  const auto [st, pd, dl] = check_conv_args(op, nd, true, input, weight, bias, stride, padding, dilation, groups);
  const auto opad = spatial_arg(output_padding, nd, op, "output_padding", 0);
  for (int i = 0; i < 3; ++i)
    LOOM_CHECK(opad[i] >= 0 && (opad[i] < st[i] || opad[i] < dl[i]), op,
               ": output padding must be smaller than either stride or dilation, but got output_padding ",
               output_padding, ", stride ", stride, ", dilation ", dilation);
  const int64_t Cin = input.size(1), off = nd - 2;
  LOOM_CHECK(weight.size(0) == Cin, op, ": given transposed weight of size ", weight.sizes(), ", expected input ",
             input.sizes(), " to have ", weight.size(0), " channels, but got ", Cin, " channels instead");
  LOOM_CHECK(Cin % groups == 0, op, ": in_channels (", Cin, ") must be divisible by groups (", groups, ")");
  // As a convolution: its input is our output [N, C_out, (D,) H, W], its output our input.
  ConvParams p{};
  p.N = input.size(0), p.K = Cin, p.C = weight.size(1) * groups, p.R = weight.size(2 + off), p.S = weight.size(3 + off);
  p.OH = input.size(2 + off), p.OW = input.size(3 + off);
  p.stride_h = st[1], p.stride_w = st[2], p.pad_h = pd[1], p.pad_w = pd[2], p.dil_h = dl[1], p.dil_w = dl[2];
  p.groups = groups;
  p.H = (p.OH - 1) * p.stride_h - 2 * p.pad_h + p.dil_h * (p.R - 1) + opad[1] + 1;
  p.W = (p.OW - 1) * p.stride_w - 2 * p.pad_w + p.dil_w * (p.S - 1) + opad[2] + 1;
  if (nd == 3) {
    p.KD = weight.size(2), p.OD = input.size(2);
    p.stride_d = st[0], p.pad_d = pd[0], p.dil_d = dl[0];
    p.D = (p.OD - 1) * p.stride_d - 2 * p.pad_d + p.dil_d * (p.KD - 1) + opad[0] + 1;
  }
  LOOM_CHECK(p.K > 0 && p.C > 0 && p.KD > 0 && p.R > 0 && p.S > 0, op, ": weight ", weight.sizes(),
             " must have non-zero channels and kernel size");
  LOOM_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == p.C), op, ": expected bias of size [", p.C,
             "], got ", bias.sizes());
  if (nd == 3)
    LOOM_CHECK(p.D > 0 && p.H > 0 && p.W > 0, op, ": the output size (", p.D, " x ", p.H, " x ", p.W, ") of input ",
               input.sizes(), " with weight ", weight.sizes(), ", stride ", stride, ", padding ", padding,
               " is too small");
  else
    LOOM_CHECK(p.H > 0 && p.W > 0, op, ": the output size (", p.H, " x ", p.W, ") of input ", input.sizes(),
               " with weight ", weight.sizes(), ", stride ", stride, ", padding ", padding, " is too small");
  if (scope.observed()) {  // the same multiply-adds as the convolution it transposes
    const double macs = double(p.N) * double(p.K) * double(p.out_plane()) * double(p.crs());
    scope.set_cost(2 * macs, double(input.element_size()) *
                                 (double(input.numel()) + double(weight.numel()) + double(p.N * p.C * p.in_plane())));
  }
  if (nd == 3 && input.is_cuda()) return conv_transpose3d_by_taps(input, weight, bias, p, opad[1], opad[2]);
  Tensor x = input.contiguous(), w = weight.contiguous();
  Tensor out = ops::new_empty(in_shape(p, nd), input.dtype(), input.device());
  if (out.numel() > 0) {
    if (x.numel() > 0) run_backward_input(out, x, w, p);
    else out.detach().zero_();
    if (bias.defined()) {
      autograd::NoGradGuard guard;
      Tensor o = out.detach();
      o.add_(nd == 3 ? bias.detach().reshape({1, p.C, 1, 1, 1}) : bias.detach().reshape({1, p.C, 1, 1}));
    }
  }
  TensorList inputs = {input, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (autograd::any_requires_grad(inputs)) {
    const bool need_in = input.requires_grad(), need_w = weight.requires_grad(),
               need_b = bias.defined() && bias.requires_grad();
    SavedTensor s_x(need_w ? x : Tensor()), s_w(need_in ? w : Tensor());
    const bool has_bias = bias.defined();
    auto node = std::make_shared<LambdaNode>("ConvolutionBackward0", [=](const TensorList& g) {
      TensorList grads(has_bias ? 3 : 2);
      if (!g[0].defined()) return grads;
      if (autograd::grad_enabled() && g[0].numel() > 0 && p.N * p.K * p.out_plane() > 0) {  // create_graph
        if (need_in) {
          grads[0] = conv_forward(
              nd, g[0], s_w.unpack("ConvolutionBackward0"), Tensor(), dims_of(nd, p.stride_d, p.stride_h, p.stride_w),
              dims_of(nd, p.pad_d, p.pad_h, p.pad_w), dims_of(nd, p.dil_d, p.dil_h, p.dil_w), p.groups);
          // An output_padding of at least the stride (allowed by the dilation) adds rows the input never had.
          const int64_t first = nd == 3 ? 3 : 2;  // the dim of H
          if (nd == 3 && grads[0].size(2) > p.OD) grads[0] = grads[0].narrow(2, 0, p.OD);
          if (grads[0].size(first) > p.OH) grads[0] = grads[0].narrow(first, 0, p.OH);
          if (grads[0].size(first + 1) > p.OW) grads[0] = grads[0].narrow(first + 1, 0, p.OW);
        }
        if (need_w) grads[1] = weight_grad_composed(g[0], s_x.unpack("ConvolutionBackward0"), p, nd);
        if (need_b) grads[2] = g[0].sum(bias_dims(nd));
        return grads;
      }
      Tensor go = g[0].contiguous();
      const TensorOptions opts(go.dtype(), go.device());
      if (need_in) {  // d input: the convolution of g with the weight
        grads[0] = empty(out_shape(p, nd), opts);
        if (grads[0].numel() > 0) run_forward(grads[0], go, s_w.unpack("ConvolutionBackward0"), Tensor(), p);
      }
      if (need_w) {  // d weight: the convolution's weight gradient with g as its input, x as its output gradient
        Tensor xs = s_x.unpack("ConvolutionBackward0");
        if (xs.numel() == 0 || go.numel() == 0) {
          grads[1] = zeros(weight_shape(p, nd), opts);
        } else {
          grads[1] = empty(weight_shape(p, nd), opts);
          run_backward_weight(grads[1], Tensor(), xs, go, p);
        }
      }
      if (need_b) grads[2] = go.numel() > 0 ? go.sum(bias_dims(nd)) : zeros({p.C}, opts);
      return grads;
    });
    autograd::attach(node, inputs, out);
  }
  return out;
}

}  // namespace

void set_conv_backend(ConvBackend backend) { g_backend.store(backend); }
ConvBackend conv_backend() { return g_backend.load(); }
bool cudnn_available() {
  if constexpr (cuda::kBuiltWithCuda) return kernels::cuda::cudnn_available();
  return false;
}

std::string conv_tuning_key(const std::string& pass, DType dt, const ConvParams& p, bool allow_tf32, bool deterministic,
                            int device) {
  LOOM_CHECK_VALUE(pass == "fwd" || pass == "bwd_data" || pass == "bwd_weight",
                   "conv_tuning_key: expected pass 'fwd', 'bwd_data' or 'bwd_weight', got '", pass, "'");
  return tuning_key(pass.c_str(), dt, p, allow_tf32, deterministic, cuda::device_name(device));
}

void conv_cache_clear() {
  autotune::clear("conv2d");
  if constexpr (cuda::kBuiltWithCuda) kernels::cuda::cudnn_conv_cache_clear();
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride, const Dims& padding,
              const Dims& dilation, int64_t groups) {
  return conv_nd(Op::conv2d, "conv2d", 2, input, weight, bias, stride, padding, dilation, groups);
}

Tensor conv3d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride, const Dims& padding,
              const Dims& dilation, int64_t groups) {
  return conv_nd(Op::conv3d, "conv3d", 3, input, weight, bias, stride, padding, dilation, groups);
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride,
                        const Dims& padding, const Dims& output_padding, int64_t groups, const Dims& dilation) {
  return conv_transpose_nd(Op::conv_transpose2d, "conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation);
}

Tensor conv_transpose3d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Dims& stride,
                        const Dims& padding, const Dims& output_padding, int64_t groups, const Dims& dilation) {
  return conv_transpose_nd(Op::conv_transpose3d, "conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation);
}

Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
                        int64_t output_padding, int64_t groups, int64_t dilation) {
  const char* op = "conv_transpose1d";
  LOOM_CHECK(input.defined() && weight.defined(), op, ": input and weight must be defined");
  LOOM_CHECK(input.dim() == 2 || input.dim() == 3, op,
             ": expected 2D (unbatched) or 3D (batched) input, but got input of size: ", input.sizes());
  LOOM_CHECK(weight.dim() == 3, op, ": expected a 3D weight [in_channels, out_channels/groups, kL], got ",
             weight.sizes());
  if (input.dim() == 2)
    return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation)
        .squeeze(0);
  return conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, {1, stride}, {0, padding}, {0, output_padding},
                          groups, {1, dilation})
      .squeeze(2);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t dilation, int64_t groups) {
  LOOM_CHECK(input.defined() && weight.defined(), "conv1d: input and weight must be defined");
  LOOM_CHECK(input.dim() == 2 || input.dim() == 3,
             "conv1d: expected 2D (unbatched) or 3D (batched) input, but got input of size: ", input.sizes());
  LOOM_CHECK(weight.dim() == 3, "conv1d: expected a 3D weight [out_channels, in_channels/groups, kL], got ",
             weight.sizes());
  if (input.dim() == 2) return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  return conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, {1, stride}, {0, padding}, {1, dilation}, groups)
      .squeeze(2);
}

}  // namespace loom
