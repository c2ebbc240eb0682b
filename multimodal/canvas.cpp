// The raster canvas and the charts of canvas.h (the font, palette and
// colormaps are in canvas_font.cpp).
#include "multimodal/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "multimodal/image_io.h"

namespace loom::multimodal {

namespace {

constexpr int64_t kMaxSide = 16384;
constexpr int64_t kMaxScale = 256;
constexpr double kMaxThickness = 1024;
constexpr int64_t kCellW = 6, kCellH = 8;  // a glyph cell at scale 1

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// [a, b) = [x, x + w) within [lo, hi); empty as a == b.
std::pair<int64_t, int64_t> span(int64_t x, int64_t w, int64_t lo, int64_t hi) {
  const int64_t a = std::max(x, lo), b = std::min(sat_add(x, w), hi);
  return b > a ? std::make_pair(a, b) : std::make_pair(a, a);
}

// A pixel position from a drawing coordinate (pixel centres at integers),
// kept far from int64 overflow.
int64_t to_pixel(double v) { return static_cast<int64_t>(std::floor(std::clamp(v, -1e15, 1e15) + 0.5)); }

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::floor(std::clamp(v, 0.0, 255.0) + 0.5)); }

Rect intersect(const Rect& a, const Rect& b) {
  const auto [x0, x1] = span(a.x, a.w, b.x, sat_add(b.x, b.w));
  const auto [y0, y1] = span(a.y, a.h, b.y, sat_add(b.y, b.h));
  return {x0, y0, x1 - x0, y1 - y0};
}

// Calls f(column, line, ch) for each character of s: '\n' starts a line, a
// UTF-8 sequence counts as one character, anything not printable ASCII is '?'.
template <typename F>
void each_char(const std::string& s, F&& f) {
  int64_t col = 0, line = 0;
  bool in_sequence = false;
  for (const unsigned char b : s) {
    if (b == '\n') {
      col = 0, ++line, in_sequence = false;
      continue;
    }
    if (b >= 0x80 && b < 0xC0 && in_sequence) continue;  // a continuation byte
    in_sequence = b >= 0xC0;
    f(col++, line, b >= 32 && b <= 126 ? static_cast<char>(b) : '?');
  }
}

void check_scale(int64_t scale, const char* fn) {
  LOOM_CHECK_VALUE(scale >= 1 && scale <= kMaxScale, fn, ": scale must be in 1..", kMaxScale, ", got ", scale);
}

void check_size(int64_t w, int64_t h, const char* fn) {
  LOOM_CHECK_VALUE(w >= 0 && h >= 0, fn, ": expected a size w, h >= 0, got ", w, " x ", h);
}

// The values of a tensor on the host as doubles, with the caller's checks.
std::vector<double> host_values(const Tensor& t, const char* fn) {
  LOOM_CHECK_TYPE(is_floating(t.dtype()) || is_integral(t.dtype()), fn, ": expected a floating or integer dtype, got ",
                  dtype_name(t.dtype()));
  Tensor src = t.detach().cpu().to(DType::Float64).contiguous();
  const double* p = src.data_ptr<double>();
  return std::vector<double>(p, p + src.numel());
}

}  // namespace

// ---------------------------------------------------------------- Canvas

Canvas::Canvas(int64_t width, int64_t height, Color background) : width_(width), height_(height) {
  LOOM_CHECK_VALUE(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide,
                   "Canvas: expected a size of 1..", kMaxSide, " px on each side, got ", width, " x ", height);
  pixels_.assign(static_cast<size_t>(width * height), background);
  reset_clip();
}

Color Canvas::pixel(int64_t x, int64_t y) const {
  LOOM_CHECK_INDEX(x >= 0 && x < width_ && y >= 0 && y < height_, "Canvas::pixel: (", x, ", ", y, ") is outside the ",
                   width_, " x ", height_, " canvas");
  return pixels_[static_cast<size_t>(y * width_ + x)];
}

void Canvas::set_pixel(int64_t x, int64_t y, Color c) {
  if (x >= clip_x0_ && x < clip_x1_ && y >= clip_y0_ && y < clip_y1_) pixels_[static_cast<size_t>(y * width_ + x)] = c;
}

void Canvas::blend_pixel(int64_t x, int64_t y, Color c, double alpha) {
  if (x >= clip_x0_ && x < clip_x1_ && y >= clip_y0_ && y < clip_y1_) {
    Color& p = pixels_[static_cast<size_t>(y * width_ + x)];
    p = blend(p, c, alpha);
  }
}

void Canvas::clear(Color c) { std::fill(pixels_.begin(), pixels_.end(), c); }

void Canvas::set_clip(int64_t x, int64_t y, int64_t w, int64_t h) {
  check_size(w, h, "Canvas::set_clip");
  const Rect r = intersect({x, y, w, h}, {0, 0, width_, height_});
  clip_x0_ = r.x, clip_y0_ = r.y, clip_x1_ = r.x + r.w, clip_y1_ = r.y + r.h;
}

void Canvas::reset_clip() { clip_x0_ = 0, clip_y0_ = 0, clip_x1_ = width_, clip_y1_ = height_; }

void Canvas::fill_rect(int64_t x, int64_t y, int64_t w, int64_t h, Color c) {
  check_size(w, h, "Canvas::fill_rect");
  const auto [x0, x1] = span(x, w, clip_x0_, clip_x1_);
  const auto [y0, y1] = span(y, h, clip_y0_, clip_y1_);
  for (int64_t j = y0; j < y1; ++j) std::fill(&pixels_[j * width_ + x0], &pixels_[j * width_ + x1], c);
}

void Canvas::rect(int64_t x, int64_t y, int64_t w, int64_t h, Color c, int64_t thickness) {
  check_size(w, h, "Canvas::rect");
  LOOM_CHECK_VALUE(thickness >= 1, "Canvas::rect: thickness must be >= 1, got ", thickness);
  const int64_t top = std::min(thickness, h), bottom = std::min(thickness, h - top), mid = h - top - bottom;
  fill_rect(x, y, w, top, c);
  fill_rect(x, sat_add(y, h - bottom), w, bottom, c);
  const int64_t left = std::min(thickness, w), right = std::min(thickness, w - left);
  fill_rect(x, sat_add(y, top), left, mid, c);
  fill_rect(sat_add(x, w - right), sat_add(y, top), right, mid, c);
}

// A square brush of `brush` px up to 2, a round one above, its centre pixel at (x, y).
void Canvas::stamp(int64_t x, int64_t y, int64_t brush, Color c) {
  if (brush <= 2) {
    fill_rect(x - (brush - 1) / 2, y - (brush - 1) / 2, brush, brush, c);
    return;
  }
  const double centre = (brush - 1) / 2.0, r2 = brush * brush / 4.0;
  for (int64_t j = 0; j < brush; ++j)
    for (int64_t i = 0; i < brush; ++i)
      if ((i - centre) * (i - centre) + (j - centre) * (j - centre) <= r2)
        set_pixel(x - (brush - 1) / 2 + i, y - (brush - 1) / 2 + j, c);
}

void Canvas::segment(double x0, double y0, double x1, double y1, Color c, int64_t brush, bool dashed, double* phase) {
  const double dx = x1 - x0, dy = y1 - y0, length = std::hypot(dx, dy);
  // Liang-Barsky against the clip rectangle grown by the brush: only the
  // visible part is stepped through, however long the segment.
  double t0 = 0, t1 = 1;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - (clip_x0_ - brush), (clip_x1_ + brush) - x0, y0 - (clip_y0_ - brush),
                       (clip_y1_ + brush) - y0};
  for (int k = 0; k < 4 && t0 <= t1; ++k) {
    if (p[k] == 0) {
      if (q[k] < 0) t0 = 2;  // parallel and outside
    } else if (p[k] < 0) {
      t0 = std::max(t0, q[k] / p[k]);
    } else {
      t1 = std::min(t1, q[k] / p[k]);
    }
  }
  const double start = *phase;
  *phase += length;
  if (t0 > t1) return;
  const double on = 6.0 * brush, period = 10.0 * brush;
  const int64_t steps = static_cast<int64_t>(std::ceil(std::max(std::fabs(dx), std::fabs(dy)) * (t1 - t0)));
  for (int64_t k = 0; k <= steps; ++k) {
    const double t = steps == 0 ? t0 : t0 + (t1 - t0) * static_cast<double>(k) / static_cast<double>(steps);
    if (dashed && std::fmod(start + t * length + 1e-9, period) >= on) continue;
    stamp(to_pixel(x0 + t * dx), to_pixel(y0 + t * dy), brush, c);
  }
}

namespace {
// Coordinates the line code takes: finite, and small enough that differences stay finite and exact enough.
bool drawable(double v) { return std::fabs(v) <= 1e15; }

int64_t brush_of(double thickness, const char* fn) {
  LOOM_CHECK_VALUE(thickness > 0 && thickness <= kMaxThickness, fn, ": thickness must be in (0, ", kMaxThickness,
                   "], got ", thickness);
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(thickness)));
}
}  // namespace

void Canvas::line(double x0, double y0, double x1, double y1, Color c, double thickness, bool dashed) {
  const int64_t brush = brush_of(thickness, "Canvas::line");
  LOOM_CHECK_VALUE(drawable(x0) && drawable(y0) && drawable(x1) && drawable(y1),
                   "Canvas::line: expected finite coordinates within +-1e15, got (", x0, ", ", y0, ") to (", x1, ", ",
                   y1, ")");
  double phase = 0;
  segment(x0, y0, x1, y1, c, brush, dashed, &phase);
}

void Canvas::polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c, double thickness,
                      bool dashed) {
  const int64_t brush = brush_of(thickness, "Canvas::polyline");
  LOOM_CHECK_VALUE(xs.size() == ys.size(), "Canvas::polyline: expected as many x as y coordinates, got ", xs.size(),
                   " and ", ys.size());
  for (size_t i = 0; i < xs.size(); ++i)
    LOOM_CHECK_VALUE(!std::isfinite(xs[i]) || !std::isfinite(ys[i]) || (drawable(xs[i]) && drawable(ys[i])),
                     "Canvas::polyline: point ", i, " is (", xs[i], ", ", ys[i],
                     "): expected coordinates within +-1e15 (or a non-finite one for a gap)");
  double phase = 0;
  const size_t n = xs.size();
  auto finite = [&](size_t i) { return i < n && std::isfinite(xs[i]) && std::isfinite(ys[i]); };
  for (size_t i = 0; i < n; ++i) {
    if (!finite(i)) continue;
    if (finite(i + 1)) {
      segment(xs[i], ys[i], xs[i + 1], ys[i + 1], c, brush, dashed, &phase);
    } else if (i == 0 || !finite(i - 1)) {
      stamp(to_pixel(xs[i]), to_pixel(ys[i]), brush, c);  // an isolated point
    }
  }
}

void Canvas::circle(double cx, double cy, double radius, Color c) {
  LOOM_CHECK_VALUE(std::isfinite(cx) && std::isfinite(cy) && std::isfinite(radius) && radius >= 0,
                   "Canvas::circle: expected a finite centre and a radius >= 0, got (", cx, ", ", cy, ") and ", radius);
  const Rect box = intersect(
      {to_pixel(cx - radius) - 1, to_pixel(cy - radius) - 1, to_pixel(2 * radius) + 3, to_pixel(2 * radius) + 3},
      clip());
  for (int64_t j = box.y; j < box.y + box.h; ++j)
    for (int64_t i = box.x; i < box.x + box.w; ++i)
      if ((i - cx) * (i - cx) + (j - cy) * (j - cy) <= radius * radius) set_pixel(i, j, c);
  set_pixel(to_pixel(cx), to_pixel(cy), c);
}

// ---------------------------------------------------------------- text

int64_t Canvas::text_width(const std::string& s, int64_t scale) {
  check_scale(scale, "Canvas::text_width");
  int64_t widest = 0;
  each_char(s, [&](int64_t col, int64_t, char) { widest = std::max(widest, col + 1); });
  return widest * kCellW * scale;
}

int64_t Canvas::text_height(const std::string& s, int64_t scale) {
  check_scale(scale, "Canvas::text_height");
  if (s.empty()) return 0;
  return (1 + static_cast<int64_t>(std::count(s.begin(), s.end(), '\n'))) * kCellH * scale;
}

// Calls block(dx, dy) for the top-left (relative to the text's) of each lit
// scale x scale block of the glyphs.
template <typename F>
void Canvas::draw_text(const std::string& s, int64_t scale, const char* fn, F&& block) {
  check_scale(scale, fn);
  each_char(s, [&](int64_t col, int64_t line, char ch) {
    const uint8_t* rows = font_glyph(ch);
    for (int64_t r = 0; r < 7; ++r)
      for (int64_t b = 0; b < 5; ++b)
        if (rows[r] & (0x10 >> b)) block((col * kCellW + b) * scale, (line * kCellH + r) * scale);
  });
}

int64_t Canvas::text(int64_t x, int64_t y, const std::string& s, Color c, int64_t scale) {
  draw_text(s, scale, "Canvas::text",
            [&](int64_t dx, int64_t dy) { fill_rect(sat_add(x, dx), sat_add(y, dy), scale, scale, c); });
  return text_width(s, scale);
}

void Canvas::text_vertical(int64_t x, int64_t y, const std::string& s, Color c, int64_t scale) {
  check_scale(scale, "Canvas::text_vertical");
  const int64_t w = text_width(s, scale);
  // (dx, dy) of the horizontal text turns to (dy, w - dx) counter-clockwise.
  draw_text(s, scale, "Canvas::text_vertical",
            [&](int64_t dx, int64_t dy) { fill_rect(sat_add(x, dy), sat_add(y, w - dx - scale), scale, scale, c); });
}

// ---------------------------------------------------------------- images

void Canvas::image(int64_t x, int64_t y, const Tensor& img, int64_t w, int64_t h) {
  LOOM_CHECK_VALUE(img.defined(), "Canvas::image: the image tensor is undefined");
  LOOM_CHECK_VALUE(img.dim() == 3 && (img.size(0) == 1 || img.size(0) == 3) && img.size(1) >= 1 && img.size(2) >= 1,
                   "Canvas::image: expected an image [C, H, W] with C = 1 or 3 and H, W >= 1, got shape ", img.sizes(),
                   img.dim() == 2 ? " (a gray image [H, W] is image.unsqueeze(0))" : "");
  check_size(w, h, "Canvas::image");
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  const bool floating = is_floating(img.dtype());
  std::vector<double> v = host_values(img, "Canvas::image");
  for (size_t i = 0; i < v.size(); ++i) {
    double& e = v[i];
    LOOM_CHECK_VALUE(!std::isnan(e) && (floating || (e >= 0 && e <= 255)),
                     "Canvas::image: ", floating ? "expected no NaN" : "expected integer values in 0..255", ", got ", e,
                     " at [", i / (H * W), ", ", i / W % H, ", ", i % W, "] of an image of shape ", img.sizes());
    e = floating ? 255 * std::clamp(e, 0.0, 1.0) : e;
  }
  const auto [x0, x1] = span(x, w, clip_x0_, clip_x1_);
  const auto [y0, y1] = span(y, h, clip_y0_, clip_y1_);
  const int64_t plane = H * W, g = C == 3 ? 1 : 0;
  for (int64_t j = y0; j < y1; ++j) {
    const int64_t sy = std::min<int64_t>(H - 1, static_cast<int64_t>(static_cast<__int128>(j - y) * H / h));
    for (int64_t i = x0; i < x1; ++i) {
      const int64_t sx = std::min<int64_t>(W - 1, static_cast<int64_t>(static_cast<__int128>(i - x) * W / w));
      const double* p = &v[static_cast<size_t>(sy * W + sx)];
      pixels_[j * width_ + i] = {to_byte(p[0]), to_byte(p[g * plane]), to_byte(p[2 * g * plane])};
    }
  }
}

void Canvas::heatmap(int64_t x, int64_t y, const Tensor& values, int64_t w, int64_t h, double alpha, bool bilinear) {
  LOOM_CHECK_VALUE(values.defined(), "Canvas::heatmap: the values tensor is undefined");
  LOOM_CHECK_VALUE(values.dim() == 2 && values.size(0) >= 1 && values.size(1) >= 1,
                   "Canvas::heatmap: expected values [h, w] with h, w >= 1, got shape ", values.sizes());
  check_size(w, h, "Canvas::heatmap");
  LOOM_CHECK_VALUE(alpha >= 0 && alpha <= 1, "Canvas::heatmap: alpha must be in [0, 1], got ", alpha);
  const int64_t H = values.size(0), W = values.size(1);
  std::vector<double> v = host_values(values, "Canvas::heatmap");
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < v.size(); ++i) {
    LOOM_CHECK_VALUE(std::isfinite(v[i]), "Canvas::heatmap: expected finite values, got ", v[i], " at [", i / W, ", ",
                     i % W, "] of values of shape ", values.sizes());
    lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
  }
  for (double& e : v) e = hi > lo ? (e - lo) / (hi - lo) : 0.0;
  const auto [x0, x1] = span(x, w, clip_x0_, clip_x1_);
  const auto [y0, y1] = span(y, h, clip_y0_, clip_y1_);
  // Per destination column (row): the two source columns and the weight of the second.
  struct Tap {
    int64_t a, b;
    double t;
  };
  auto taps = [&](int64_t from, int64_t to, int64_t origin, int64_t out, int64_t in) {
    std::vector<Tap> r;
    for (int64_t d = from; d < to; ++d) {
      if (!bilinear) {
        const int64_t s = std::min<int64_t>(in - 1, static_cast<int64_t>(static_cast<__int128>(d - origin) * in / out));
        r.push_back({s, s, 0.0});
        continue;
      }
      const double s = std::max(0.0, (static_cast<double>(d - origin) + 0.5) * in / out - 0.5);
      const int64_t a = std::min<int64_t>(in - 1, static_cast<int64_t>(s));
      r.push_back({a, std::min(a + 1, in - 1), s - static_cast<double>(a)});
    }
    return r;
  };
  const std::vector<Tap> cols = taps(x0, x1, x, w, W), rows = taps(y0, y1, y, h, H);
  for (int64_t j = y0; j < y1; ++j) {
    const Tap& ty = rows[j - y0];
    for (int64_t i = x0; i < x1; ++i) {
      const Tap& tx = cols[i - x0];
      const double top = v[ty.a * W + tx.a] * (1 - tx.t) + v[ty.a * W + tx.b] * tx.t;
      const double bottom = v[ty.b * W + tx.a] * (1 - tx.t) + v[ty.b * W + tx.b] * tx.t;
      Color& p = pixels_[j * width_ + i];
      p = blend(p, colormap_jet(top * (1 - ty.t) + bottom * ty.t), alpha);
    }
  }
}

Tensor Canvas::to_tensor() const {
  Tensor out = empty({3, height_, width_}, TensorOptions(DType::Int32));
  int32_t* dst = out.data_ptr<int32_t>();
  const int64_t plane = width_ * height_;
  for (int64_t i = 0; i < plane; ++i) {
    dst[i] = pixels_[i].r;
    dst[plane + i] = pixels_[i].g;
    dst[2 * plane + i] = pixels_[i].b;
  }
  return out;
}

void Canvas::save_png(const std::string& path) const { write_png(to_tensor(), path); }

// ---------------------------------------------------------------- charts

std::vector<double> nice_ticks(double lo, double hi, int64_t max_ticks, double* step_out) {
  LOOM_CHECK_VALUE(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && max_ticks >= 1,
                   "nice_ticks: expected finite lo <= hi and max_ticks >= 1, got ", lo, ", ", hi, " and ", max_ticks);
  if (hi == lo) {
    if (step_out) *step_out = lo == 0 ? 1.0 : std::pow(10.0, std::floor(std::log10(std::fabs(lo))));
    return {lo};
  }
  const double eps = 1e-9;
  double step = 0;
  int64_t first = 0, last = -1;
  for (int64_t e = static_cast<int64_t>(std::floor(std::log10((hi - lo) / static_cast<double>(max_ticks)))) - 1;
       last < first || last - first + 1 > max_ticks; ++e) {
    for (const double m : {1.0, 2.0, 5.0}) {
      step = m * std::pow(10.0, static_cast<double>(e));
      first = static_cast<int64_t>(std::ceil(lo / step - eps));
      last = static_cast<int64_t>(std::floor(hi / step + eps));
      if (last - first + 1 <= max_ticks) break;
    }
  }
  std::vector<double> ticks;
  for (int64_t i = first; i <= last; ++i) ticks.push_back(static_cast<double>(i) * step);
  if (step_out) *step_out = step;
  return ticks;
}

std::string format_tick(double value, double step) {
  char buf[64];
  if (step > 0 && std::fabs(value) < step * 1e-6) value = 0;  // no "-0.0"
  const int decimals = step >= 1 || step <= 0 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::fabs(value) >= 1e6 || decimals > 4) std::snprintf(buf, sizeof buf, "%.3g", value);
  else std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

namespace {

// Limits drawing to a box (within the clip before) until it goes out of scope.
struct ClipScope {
  Canvas& canvas;
  Rect before;
  ClipScope(Canvas& c, const Rect& box) : canvas(c), before(c.clip()) { c.set_clip(intersect(box, before)); }
  ~ClipScope() { canvas.set_clip(before); }
};

// [lo, hi] of an axis: the given ends, or the data's with `margin` of the span added.
std::pair<double, double> axis_range(double lo_opt, double hi_opt, double lo, double hi, double margin) {
  if (lo > hi) lo = 0, hi = 1;  // no data
  const double d = lo == hi ? (lo == 0 ? 0.5 : std::fabs(lo) * 0.05) : (hi - lo) * margin;
  lo -= d, hi += d;
  if (!std::isnan(lo_opt)) lo = lo_opt;
  if (!std::isnan(hi_opt)) hi = hi_opt;
  if (lo >= hi) {  // one end given, the data beyond it
    const double d = std::max(1.0, std::fabs(std::isnan(lo_opt) ? hi : lo) * 0.1);
    if (std::isnan(lo_opt)) lo = hi - d;
    else hi = lo + d;
  }
  return {lo, hi};
}

void check_limits(double lo, double hi, const char* which) {
  LOOM_CHECK_VALUE((std::isnan(lo) || std::isfinite(lo)) && (std::isnan(hi) || std::isfinite(hi)) &&
                       (std::isnan(lo) || std::isnan(hi) || lo < hi),
                   "line_chart: expected finite ", which, "min < ", which, "max (or NaN for the data's), got ", lo,
                   " and ", hi);
}

}  // namespace

void line_chart(Canvas& canvas, int64_t x, int64_t y, int64_t w, int64_t h, const std::vector<Series>& series,
                const ChartOptions& options) {
  check_size(w, h, "line_chart");
  check_scale(options.text_scale, "line_chart");
  check_limits(options.xmin, options.xmax, "x");
  check_limits(options.ymin, options.ymax, "y");
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Series& s : series) {
    LOOM_CHECK_VALUE(s.x.size() == s.y.size(), "line_chart: series '", s.label, "' has ", s.x.size(), " x and ",
                     s.y.size(), " y values: expected the same number");
    brush_of(s.thickness, "line_chart");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]), yhi = std::max(yhi, s.y[i]);
    }
  }
  for (const auto& [v, label] : options.hlines) {
    LOOM_CHECK_VALUE(std::isfinite(v), "line_chart: hline '", label, "' at ", v, ": expected a finite y");
    ylo = std::min(ylo, v), yhi = std::max(yhi, v);
  }
  const auto [x_lo, x_hi] = axis_range(options.xmin, options.xmax, xlo, xhi, 0.02);
  const auto [y_lo, y_hi] = axis_range(options.ymin, options.ymax, ylo, yhi, 0.05);

  // The layout: margins for the title, tick labels and axis labels.
  const int64_t s = options.text_scale, ch = kCellH * s, pad = 4 * s, tick = 4 * s;
  const int64_t top = pad + (options.title.empty() ? 0 : Canvas::text_height(options.title, s) + pad);
  const int64_t bottom = tick + pad + ch + (options.xlabel.empty() ? 0 : pad + ch) + pad;
  const int64_t ph = h - top - bottom;
  double ystep = 1, xstep = 1;
  const std::vector<double> yticks = nice_ticks(y_lo, y_hi, std::max<int64_t>(2, ph / (4 * ch)), &ystep);
  int64_t ylabels_w = 0;
  for (double v : yticks) ylabels_w = std::max(ylabels_w, Canvas::text_width(format_tick(v, ystep), s));
  const int64_t left = pad + (options.ylabel.empty() ? 0 : ch + pad) + ylabels_w + pad + tick;
  const int64_t xlabel_w = Canvas::text_width(format_tick(x_hi, (x_hi - x_lo) / 5), s);  // about the widest
  const int64_t pw = w - left - std::max(3 * pad, xlabel_w / 2 + pad);
  LOOM_CHECK_VALUE(pw >= 16 && ph >= 16, "line_chart: a box of ", w, " x ", h, " px leaves a plot of ", pw, " x ", ph,
                   " px: expected at least 16 x 16 (a larger box or a smaller text_scale)");
  const std::vector<double> xticks = nice_ticks(x_lo, x_hi, std::max<int64_t>(2, pw / (xlabel_w + 4 * ch)), &xstep);
  const int64_t px0 = x + left, py0 = y + top;
  auto X = [&](double v) { return double(px0) + (v - x_lo) / (x_hi - x_lo) * double(pw - 1); };
  auto Y = [&](double v) { return double(py0 + ph - 1) - (v - y_lo) / (y_hi - y_lo) * double(ph - 1); };

  ClipScope box(canvas, {x, y, w, h});
  const Color grid{235, 235, 235}, frame{64, 64, 64}, ink{32, 32, 32};
  {
    ClipScope plot(canvas, {px0, py0, pw, ph});
    for (double v : xticks) canvas.fill_rect(to_pixel(X(v)), py0, 1, ph, grid);
    for (double v : yticks) canvas.fill_rect(px0, to_pixel(Y(v)), pw, 1, grid);
    for (const auto& hl : options.hlines) canvas.line(px0, Y(hl.first), px0 + pw - 1, Y(hl.first), kGray, 1.0, true);
    std::vector<double> xs, ys;
    for (const Series& sr : series) {
      xs.resize(sr.x.size()), ys.resize(sr.y.size());
      for (size_t i = 0; i < sr.x.size(); ++i) {
        const bool ok = std::isfinite(sr.x[i]) && std::isfinite(sr.y[i]);
        xs[i] = ok ? std::clamp(X(sr.x[i]), -1e9, 1e9) : NAN;
        ys[i] = ok ? std::clamp(Y(sr.y[i]), -1e9, 1e9) : NAN;
      }
      canvas.polyline(xs, ys, sr.color, sr.thickness, sr.dashed);
      if (sr.markers)
        for (size_t i = 0; i < xs.size(); ++i)
          if (!std::isnan(xs[i])) canvas.circle(xs[i], ys[i], 1.5 * sr.thickness + 0.5, sr.color);
    }
  }
  canvas.rect(px0 - 1, py0 - 1, pw + 2, ph + 2, frame);
  for (double v : xticks) {
    const int64_t tx = to_pixel(X(v));
    canvas.fill_rect(tx, py0 + ph + 1, 1, tick, frame);
    const std::string label = format_tick(v, xstep);
    const int64_t lw = Canvas::text_width(label, s);
    canvas.text(std::max(x, std::min(tx - (lw - s) / 2, x + w - lw)), py0 + ph + 1 + tick + pad / 2, label, ink, s);
  }
  for (double v : yticks) {
    const int64_t ty = to_pixel(Y(v));
    canvas.fill_rect(px0 - 1 - tick, ty, tick, 1, frame);
    const std::string label = format_tick(v, ystep);
    canvas.text(px0 - 1 - tick - pad - Canvas::text_width(label, s), ty - 7 * s / 2, label, ink, s);
  }
  // Text centred along [from, from + length), kept from starting before lo.
  auto centred = [&](const std::string& t, int64_t from, int64_t length, int64_t lo) {
    return std::max(lo, from + (length - Canvas::text_width(t, s)) / 2);
  };
  const std::string &title = options.title, &xlabel = options.xlabel, &ylabel = options.ylabel;
  if (!title.empty()) canvas.text(centred(title, px0, pw, x), y + pad, title, kBlack, s);
  if (!xlabel.empty()) canvas.text(centred(xlabel, px0, pw, x), y + h - pad - ch, xlabel, ink, s);
  if (!ylabel.empty()) canvas.text_vertical(x + pad, centred(ylabel, py0, ph, y), ylabel, ink, s);

  // The legend: series with labels, then the labelled reference lines.
  struct Entry {
    std::string label;
    Color color;
    double thickness;
    bool dashed, markers;
  };
  std::vector<Entry> entries;
  for (const Series& sr : series)
    if (!sr.label.empty()) entries.push_back({sr.label, sr.color, sr.thickness, sr.dashed, sr.markers});
  for (const auto& hl : options.hlines)
    if (!hl.second.empty()) entries.push_back({hl.second, kGray, 1.0, true, false});
  if (entries.empty() || options.legend == LegendPosition::None) return;
  const int64_t sample = 20 * s, row = ch + 4 * s;
  int64_t label_w = 0;
  for (const Entry& e : entries) label_w = std::max(label_w, Canvas::text_width(e.label, s));
  const int64_t lw = pad + sample + pad + label_w + pad, lh = pad + static_cast<int64_t>(entries.size()) * row;
  const bool left_side = options.legend == LegendPosition::TopLeft || options.legend == LegendPosition::BottomLeft;
  const bool low = options.legend == LegendPosition::BottomLeft || options.legend == LegendPosition::BottomRight;
  const int64_t lx = left_side ? px0 + pad : px0 + pw - lw - pad, ly = low ? py0 + ph - lh - pad : py0 + pad;
  ClipScope plot(canvas, {px0, py0, pw, ph});
  canvas.fill_rect(lx, ly, lw, lh, kWhite);
  canvas.rect(lx, ly, lw, lh, kLightGray);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const int64_t ry = ly + pad + static_cast<int64_t>(i) * row, mid = ry + ch / 2 - s;
    canvas.line(lx + pad, mid, lx + pad + sample - 1, mid, e.color, e.thickness, e.dashed);
    if (e.markers) canvas.circle(lx + pad + sample / 2, mid, 1.5 * e.thickness + 0.5, e.color);
    canvas.text(lx + pad + sample + pad, ry, e.label, ink, s);
  }
}

namespace {

struct MatrixLayout {
  int64_t left, title_h, width, height;
};

MatrixLayout matrix_layout(int64_t cell, int64_t rows, int64_t cols, const std::vector<std::string>& row_labels,
                           const std::vector<std::string>& col_labels, const std::string& title, const char* fn) {
  LOOM_CHECK_VALUE(cell >= 1 && rows >= 1 && cols >= 1 && cell * std::max(rows, cols) <= (int64_t{1} << 20), fn,
                   ": expected cell >= 1 and a matrix of at least 1 x 1 cells within 2^20 px, got cell ", cell, " and ",
                   rows, " x ", cols, " cells");
  LOOM_CHECK_VALUE(row_labels.empty() || static_cast<int64_t>(row_labels.size()) == rows, fn, ": expected ", rows,
                   " row labels (or none), got ", row_labels.size());
  LOOM_CHECK_VALUE(col_labels.empty() || static_cast<int64_t>(col_labels.size()) == cols, fn, ": expected ", cols,
                   " column labels (or none), got ", col_labels.size());
  const int64_t pad = 4;
  int64_t row_w = 0, col_h = 0;
  for (const auto& l : row_labels) row_w = std::max(row_w, Canvas::text_width(l));
  for (const auto& l : col_labels) col_h = std::max(col_h, Canvas::text_width(l));
  MatrixLayout m;
  m.left = row_w > 0 ? row_w + pad : 0;
  m.title_h = title.empty() ? 0 : Canvas::text_height(title) + pad;
  m.width = std::max(m.left + cols * cell, Canvas::text_width(title));
  m.height = m.title_h + rows * cell + (col_h > 0 ? pad + col_h : 0);
  return m;
}

}  // namespace

std::pair<int64_t, int64_t> matrix_chart_size(int64_t cell, int64_t rows, int64_t cols,
                                              const std::vector<std::string>& row_labels,
                                              const std::vector<std::string>& col_labels, const std::string& title) {
  const MatrixLayout m = matrix_layout(cell, rows, cols, row_labels, col_labels, title, "matrix_chart_size");
  return {m.width, m.height};
}

std::pair<int64_t, int64_t> matrix_chart(Canvas& canvas, int64_t x, int64_t y, int64_t cell,
                                         const std::vector<std::vector<double>>& values,
                                         const std::vector<std::string>& row_labels,
                                         const std::vector<std::string>& col_labels, const std::string& title,
                                         double vmin, double vmax, bool annotate) {
  const int64_t rows = static_cast<int64_t>(values.size()), cols = rows ? static_cast<int64_t>(values[0].size()) : 0;
  for (int64_t r = 0; r < rows; ++r)
    LOOM_CHECK_VALUE(static_cast<int64_t>(values[r].size()) == cols, "matrix_chart: row ", r, " has ", values[r].size(),
                     " values, row 0 has ", cols, ": expected a rectangular matrix");
  LOOM_CHECK_VALUE(std::isfinite(vmin) && std::isfinite(vmax) && vmin < vmax,
                   "matrix_chart: expected finite vmin < vmax, got ", vmin, " and ", vmax);
  const MatrixLayout m = matrix_layout(cell, rows, cols, row_labels, col_labels, title, "matrix_chart");
  ClipScope box(canvas, {x, y, m.width, m.height});
  const int64_t pad = 4, gx = x + m.left, gy = y + m.title_h;
  bool integers = true;
  for (const auto& row : values)
    for (double v : row) integers = integers && (!std::isfinite(v) || (v == std::floor(v) && std::fabs(v) < 1e9));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double v = values[r][c], t = (v - vmin) / (vmax - vmin);
      const int64_t cx = gx + c * cell, cy = gy + r * cell;
      canvas.fill_rect(cx, cy, cell, cell, std::isnan(v) ? kLightGray : colormap_blues(t));
      if (!annotate || std::isnan(v)) continue;
      char buf[32];
      std::snprintf(buf, sizeof buf, integers ? "%.0f" : "%.2f", v);
      const int64_t tw = Canvas::text_width(buf) - 1, th = kCellH - 1;
      if (tw <= cell - 2 && th <= cell - 2)
        canvas.text(cx + (cell - tw) / 2, cy + (cell - th) / 2, buf, t > 0.5 ? kWhite : kBlack);
    }
  canvas.rect(gx, gy, cols * cell, rows * cell, kGray);
  for (int64_t r = 0; r < static_cast<int64_t>(row_labels.size()); ++r)
    canvas.text(gx - pad - Canvas::text_width(row_labels[r]), gy + r * cell + (cell - (kCellH - 1)) / 2, row_labels[r],
                kBlack);
  for (int64_t c = 0; c < static_cast<int64_t>(col_labels.size()); ++c)
    canvas.text_vertical(gx + c * cell + (cell - (kCellH - 1)) / 2, gy + rows * cell + pad, col_labels[c], kBlack);
  if (!title.empty()) {
    const int64_t tw = Canvas::text_width(title);
    canvas.text(std::clamp(gx + (cols * cell - tw) / 2, x, x + m.width - tw), y, title, kBlack);
  }
  return {m.width, m.height};
}

}  // namespace loom::multimodal
