// CPU resizing (kernels/upsample.h), the twin of kernels/cuda/upsample.cu.
// The source taps of every output row and column are computed once per call
// (tables of OH and OW entries), then each output row is a gather from one
// (nearest), two (bilinear) or four (bicubic) input rows. Rows are split over the pool. The
// backward zeroes grad_in and adds each plane's outputs back in output order
// (planes split over the pool): deterministic.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/upsample.h"

namespace loom::kernels::cpu {
namespace {

// Weights in the input's floating type (PyTorch's opmath for float and double).
template <typename T>
using weight_t = std::conditional_t<std::is_floating_point_v<T>, T, float>;

template <typename T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<weight_t<T>> w1;
};

// The taps of every output position of one dim (nearest: i0 only, w1 = 0).
template <typename T>
Taps<T> taps(int64_t out, int64_t in, double r, const UpsampleParams& p) {
  using Wt = weight_t<T>;
  Taps<T> t;
  t.i0.resize(out), t.i1.resize(out), t.w1.resize(out);
  for (int64_t o = 0; o < out; ++o) {
    if (p.mode == UpsampleMode::Bilinear) {
      linear_taps<Wt>(o, static_cast<Wt>(r), in, p.align_corners, &t.i0[o], &t.i1[o], &t.w1[o]);
    } else {
      t.i0[o] = t.i1[o] = nearest_source(o, static_cast<float>(r), in, out, p.mode == UpsampleMode::NearestExact);
      t.w1[o] = Wt(0);
    }
  }
  return t;
}

template <typename T>
void forward(T* out, const T* in, const UpsampleParams& p) {
  const Taps<T> th = taps<T>(p.OH, p.H, p.rh, p), tw = taps<T>(p.OW, p.W, p.rw, p);
  const bool linear = p.mode == UpsampleMode::Bilinear;
  detail::parallel_range(p.NC * p.OH, p.NC * p.OH * p.OW, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t plane = row / p.OH, oh = row % p.OH;
      const T* x = in + plane * p.H * p.W;
      T* y = out + row * p.OW;
      const T* r0 = x + th.i0[oh] * p.W;
      if (!linear) {
        for (int64_t ow = 0; ow < p.OW; ++ow) y[ow] = r0[tw.i0[ow]];
        continue;
      }
      if constexpr (std::is_floating_point_v<T>) {
        const T* r1 = x + th.i1[oh] * p.W;
        const T h1 = th.w1[oh], h0 = T(1) - h1;
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const T w1 = tw.w1[ow], w0 = T(1) - w1;
          const int64_t a = tw.i0[ow], c = tw.i1[ow];
          y[ow] = h0 * (w0 * r0[a] + w1 * r0[c]) + h1 * (w0 * r1[a] + w1 * r1[c]);
        }
      }
    }
  });
}

template <typename T>
void backward(T* gi, const T* go, const UpsampleParams& p) {
  const Taps<T> th = taps<T>(p.OH, p.H, p.rh, p), tw = taps<T>(p.OW, p.W, p.rw, p);
  const bool linear = p.mode == UpsampleMode::Bilinear;
  detail::parallel_range(p.NC, p.NC * (p.OH * p.OW + p.H * p.W), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* g = gi + plane * p.H * p.W;
      std::fill(g, g + p.H * p.W, T(0));
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const T* dy = go + (plane * p.OH + oh) * p.OW;
        T* g0 = g + th.i0[oh] * p.W;
        if (!linear) {
          for (int64_t ow = 0; ow < p.OW; ++ow) g0[tw.i0[ow]] += dy[ow];
          continue;
        }
        T* g1 = g + th.i1[oh] * p.W;
        const T h1 = th.w1[oh], h0 = T(1) - h1;
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const T w1 = tw.w1[ow], w0 = T(1) - w1;
          const int64_t a = tw.i0[ow], c = tw.i1[ow];
          g0[a] += h0 * w0 * dy[ow];
          g0[c] += h0 * w1 * dy[ow];
          g1[a] += h1 * w0 * dy[ow];
          g1[c] += h1 * w1 * dy[ow];
        }
      }
    }
  });
}

// Bicubic: four taps per output row and column.
template <typename T>
struct CubicTaps {
  std::vector<int64_t> idx;  // [out][4]
  std::vector<T> w;          // [out][4]
};

template <typename T>
CubicTaps<T> cubic_table(int64_t out, int64_t in, double r, bool align_corners) {
  CubicTaps<T> t;
  t.idx.resize(4 * out), t.w.resize(4 * out);
  for (int64_t o = 0; o < out; ++o) cubic_taps<T>(o, static_cast<T>(r), in, align_corners, &t.idx[4 * o], &t.w[4 * o]);
  return t;
}

template <typename T>
void bicubic_forward(T* out, const T* in, const UpsampleParams& p) {
  const CubicTaps<T> th = cubic_table<T>(p.OH, p.H, p.rh, p.align_corners),
                     tw = cubic_table<T>(p.OW, p.W, p.rw, p.align_corners);
  detail::parallel_range(p.NC * p.OH, p.NC * p.OH * p.OW * 16, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t plane = row / p.OH, oh = row % p.OH;
      const T* x = in + plane * p.H * p.W;
      const T* rows[4];
      for (int i = 0; i < 4; ++i) rows[i] = x + th.idx[4 * oh + i] * p.W;
      const T* wy = &th.w[4 * oh];
      T* y = out + row * p.OW;
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const int64_t* ix = &tw.idx[4 * ow];
        const T* wx = &tw.w[4 * ow];
        T v = T(0);
        for (int i = 0; i < 4; ++i) {  // along x in each of the four rows, then along y
          const T* r = rows[i];
          v += wy[i] * (r[ix[0]] * wx[0] + r[ix[1]] * wx[1] + r[ix[2]] * wx[2] + r[ix[3]] * wx[3]);
        }
        y[ow] = v;
      }
    }
  });
}

template <typename T>
void bicubic_backward(T* gi, const T* go, const UpsampleParams& p) {
  const CubicTaps<T> th = cubic_table<T>(p.OH, p.H, p.rh, p.align_corners),
                     tw = cubic_table<T>(p.OW, p.W, p.rw, p.align_corners);
  detail::parallel_range(p.NC, p.NC * (p.OH * p.OW * 16 + p.H * p.W), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* g = gi + plane * p.H * p.W;
      std::fill(g, g + p.H * p.W, T(0));
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const T* dy = go + (plane * p.OH + oh) * p.OW;
        const T* wy = &th.w[4 * oh];
        for (int i = 0; i < 4; ++i) {
          T* r = g + th.idx[4 * oh + i] * p.W;
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            const int64_t* ix = &tw.idx[4 * ow];
            const T* wx = &tw.w[4 * ow];
            const T d = wy[i] * dy[ow];
            for (int j = 0; j < 4; ++j) r[ix[j]] += d * wx[j];
          }
        }
      }
    }
  });
}

}  // namespace

void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p) {
  if (p.NC * p.OH * p.OW == 0) return;
  if (p.mode == UpsampleMode::Bicubic) {
    LOOM_DISPATCH_FLOAT(dt, "upsample_bicubic2d",
                        [&] { bicubic_forward(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
    return;
  }
  if (p.mode == UpsampleMode::Bilinear) {
    LOOM_DISPATCH_FLOAT(dt, "upsample_bilinear2d",
                        [&] { forward(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
  } else {
    LOOM_DISPATCH_ALL(dt, "upsample_nearest2d",
                      [&] { forward(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
  }
}

void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p) {
  if (p.NC * p.H * p.W == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "upsample2d_backward", [&] {
    if (p.mode == UpsampleMode::Bicubic)
      bicubic_backward(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p);
    else backward(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p);
  });
}

}  // namespace loom::kernels::cpu
