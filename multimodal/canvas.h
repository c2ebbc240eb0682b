// A small raster canvas for pictures drawn from C++ without matplotlib: loss
// curves, retrieval sheets of images with captions, attention heat maps over
// images, confusion matrices. Everything runs on the host, is deterministic
// (no anti-aliasing: every pixel takes one colour, or one alpha blend) and
// fast (a 1200 x 900 canvas with a few charts draws in milliseconds).
//
// Coordinates: x to the right, y down, (0, 0) the top-left pixel. The
// integer-sized calls (fill_rect, rect, text, image, heatmap) take the
// top-left pixel and a size; the double ones (line, circle, polyline) take
// positions where the integer values are pixel centres, so line(0, 0, 10, 0)
// sets the pixels x = 0..10 of row 0. Everything is clipped to the canvas
// (and to the clip rectangle, set_clip); reading a pixel outside raises.
//
// Text is a built-in 5x7 dot-matrix font (canvas_font.cpp): printable ASCII
// 32..126, anything else drawn as '?' (one '?' per UTF-8 character). A glyph
// cell is 6 x 8 px at scale 1: the glyph in its top-left 5 x 7, a blank
// column on the right and a blank row below.
//
// Bad input raises loom::Error (ValueError for sizes and values, TypeError
// for dtypes) naming the function, the shapes and what was expected.
#pragma once
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};
inline bool operator==(Color a, Color b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
inline bool operator!=(Color a, Color b) { return !(a == b); }
// "(r, g, b)", for test messages.
std::ostream& operator<<(std::ostream& os, Color c);

// Named colours for plots (the coloured ones are matplotlib's tab10 shades).
constexpr Color kBlack{0, 0, 0};
constexpr Color kWhite{255, 255, 255};
constexpr Color kGray{128, 128, 128};
constexpr Color kLightGray{211, 211, 211};
constexpr Color kRed{214, 39, 40};
constexpr Color kGreen{44, 160, 44};
constexpr Color kBlue{31, 119, 180};
constexpr Color kOrange{255, 127, 14};
constexpr Color kPurple{148, 103, 189};

// A distinct colour per series, in matplotlib's tab10 order (blue, orange,
// green, red, purple, brown, pink, gray, olive, cyan); i wraps modulo 10
// (negative i too).
Color palette(int i);

// c1 over c0 with opacity alpha in [0, 1] (clamped), each channel rounded.
Color blend(Color c0, Color c1, double alpha);

// A rectangle of pixels: x, y the top-left, w x h the size.
struct Rect {
  int64_t x = 0, y = 0, w = 0, h = 0;
};

class Canvas {
 public:
  // ValueError for sizes < 1 or > 16384.
  Canvas(int64_t width, int64_t height, Color background = {255, 255, 255});
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }

  Color pixel(int64_t x, int64_t y) const;        // IndexError outside the canvas
  void set_pixel(int64_t x, int64_t y, Color c);  // ignored outside (clipping)
  // The pixel blended towards c with opacity alpha (clamped to [0, 1]); clipped.
  void blend_pixel(int64_t x, int64_t y, Color c, double alpha);
  // Fills the whole canvas (ignores the clip rectangle).
  void clear(Color c);

  // Drawing is limited to this rectangle (intersected with the canvas) until
  // reset_clip; charts set it to their box and restore the one before.
  void set_clip(int64_t x, int64_t y, int64_t w, int64_t h);
  void set_clip(const Rect& r) { set_clip(r.x, r.y, r.w, r.h); }
  void reset_clip();
  Rect clip() const { return {clip_x0_, clip_y0_, clip_x1_ - clip_x0_, clip_y1_ - clip_y0_}; }

  // w x h pixels from (x, y); w, h >= 0 (ValueError otherwise), 0 draws nothing.
  void fill_rect(int64_t x, int64_t y, int64_t w, int64_t h, Color c);
  // The outline, `thickness` (>= 1) pixels wide inside the box.
  void rect(int64_t x, int64_t y, int64_t w, int64_t h, Color c, int64_t thickness = 1);
  // A straight line between pixel centres, round(thickness) pixels wide (a
  // square brush up to 2, a round one above); dashed: dashes of 6 and gaps of
  // 4 pixels, times the width. Coordinates finite within +-1e15, thickness in
  // (0, 1024].
  void line(double x0, double y0, double x1, double y1, Color c, double thickness = 1.0, bool dashed = false);
  // Connected segments through (xs[i], ys[i]); a non-finite coordinate ends
  // a run (a gap), and a lone point between gaps is drawn as a dot. The dash
  // pattern continues across the joints, so a dense curve of short segments
  // still shows its dashes.
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c, double thickness = 1.0,
                bool dashed = false);
  // Filled: the pixels whose centres lie within radius (>= 0) of (cx, cy),
  // and always the pixel nearest the centre (a marker never vanishes).
  void circle(double cx, double cy, double radius, Color c);

  // Text in the 5x7 font, (x, y) the top-left corner, '\n' starting a new
  // line; scale (1..256) multiplies every pixel. Returns the width drawn,
  // text_width(s, scale).
  int64_t text(int64_t x, int64_t y, const std::string& s, Color c, int64_t scale = 1);
  static int64_t text_width(const std::string& s, int64_t scale = 1);   // longest line: chars * 6 * scale
  static int64_t text_height(const std::string& s, int64_t scale = 1);  // lines * 8 * scale ("": 0)
  // Text rotated 90 degrees counter-clockwise (reads bottom to top, the tops
  // of the glyphs to the left), (x, y) the top-left of its bounding box of
  // text_height(s) x text_width(s) pixels.
  void text_vertical(int64_t x, int64_t y, const std::string& s, Color c, int64_t scale = 1);

  // An image [C, H, W] (C = 1 or 3; floating in [0, 1] (clamped) or integer
  // 0..255; any device: copied to the CPU) resized to w x h at (x, y) by
  // nearest neighbour with F.interpolate(mode="nearest")'s rule: source
  // column floor(dst * W / w), row floor(dst * H / h). w or h 0 draws nothing.
  void image(int64_t x, int64_t y, const Tensor& img, int64_t w, int64_t h);
  // A heat map values [h, w] (floating or integer dtype, any device; finite),
  // normalised by its min..max to [0, 1] (all 0 when constant), upsampled to
  // w x h (bilinear with align_corners=False's pixel centres, edges clamped;
  // or nearest as image()), coloured with colormap_jet and blended over the
  // canvas with opacity alpha in [0, 1].
  void heatmap(int64_t x, int64_t y, const Tensor& values, int64_t w, int64_t h, double alpha = 0.5,
               bool bilinear = true);

  Tensor to_tensor() const;                      // int32 [3, height, width] on the CPU
  void save_png(const std::string& path) const;  // through write_png

 private:
  template <typename F>
  void draw_text(const std::string& s, int64_t scale, const char* fn, F&& block);
  void stamp(int64_t x, int64_t y, int64_t brush, Color c);
  // One segment of line/polyline; *phase the dash position carried along.
  void segment(double x0, double y0, double x1, double y1, Color c, int64_t brush, bool dashed, double* phase);

  int64_t width_, height_;
  int64_t clip_x0_, clip_y0_, clip_x1_, clip_y1_;  // [x0, x1) x [y0, y1)
  std::vector<Color> pixels_;                      // row-major
};

// The classic jet colormap (matplotlib's segments): dark blue, blue, cyan,
// yellow, red, dark red. v clamped to [0, 1]; NaN gives jet(0).
Color colormap_jet(double v);
// White to dark blue (ColorBrewer's Blues, as matplotlib's, from pure white).
Color colormap_blues(double v);

// The glyph of a character as 7 rows of 5 bits (bit 4 the leftmost column);
// characters outside 32..126 give the glyph of '?'.
const uint8_t* font_glyph(char ch);

// Charts drawn into a box (x, y, w, h) of a canvas: a frame, a title above,
// axis labels, ticks with numeric labels ("nice" steps: 1, 2, 5 x 10^k) and
// light grid lines, and a legend (top-right inside the plot unless told
// otherwise) for the series and reference lines with labels. Nothing is
// drawn outside the box.
struct Series {
  std::string label;         // empty: not in the legend
  std::vector<double> x, y;  // same length; a NaN (or infinite) value leaves a gap
  Color color;
  bool markers = false;  // a dot at each point
  bool dashed = false;
  double thickness = 2.0;  // of the line, px
};
// Where the legend goes inside the plot (None: no legend).
enum class LegendPosition { TopRight, TopLeft, BottomRight, BottomLeft, None };
struct ChartOptions {
  std::string title, xlabel, ylabel;
  double ymin = NAN, ymax = NAN;                       // NaN: from the data (and hlines), with a 5 % margin
  std::vector<std::pair<double, std::string>> hlines;  // horizontal reference lines (y, label), dashed gray
  double xmin = NAN, xmax = NAN;                       // NaN: from the data, with a 2 % margin
  int64_t text_scale = 1;                              // of every text of the chart
  LegendPosition legend = LegendPosition::TopRight;
};
// ValueError for a box too small for the plot, series with x and y of
// different lengths, ymin >= ymax (or xmin >= xmax) when both are given.
void line_chart(Canvas& canvas, int64_t x, int64_t y, int64_t w, int64_t h, const std::vector<Series>& series,
                const ChartOptions& options);

// A matrix as a grid of cells coloured by colormap_blues over [vmin, vmax]
// (NaN cells light gray), row labels on the left, column labels below
// (vertical text), a title above; cells of `cell` px. With annotate, each
// cell also shows its value (integers as such, others with 2 decimals) when
// the text fits the cell. Label vectors may be empty (no labels) or have one
// label per row / column. Returns the total size drawn {width, height}.
std::pair<int64_t, int64_t> matrix_chart(Canvas& canvas, int64_t x, int64_t y, int64_t cell,
                                         const std::vector<std::vector<double>>& values,
                                         const std::vector<std::string>& row_labels,
                                         const std::vector<std::string>& col_labels, const std::string& title,
                                         double vmin = 0.0, double vmax = 1.0, bool annotate = false);
// The size matrix_chart would take, to lay out a canvas before drawing.
std::pair<int64_t, int64_t> matrix_chart_size(int64_t cell, int64_t rows, int64_t cols,
                                              const std::vector<std::string>& row_labels,
                                              const std::vector<std::string>& col_labels, const std::string& title);

// "Nice" tick positions covering [lo, hi]: multiples of a step of 1, 2 or 5 x
// 10^k, at most max_ticks of them (at least 2 when lo < hi), and the step.
std::vector<double> nice_ticks(double lo, double hi, int64_t max_ticks, double* step = nullptr);
// A tick value as text with the decimals its step needs (step 0.5: "2.5",
// step 0.02: "0.14"); values from 1e6 and steps below 1e-4 as %.3g.
std::string format_tick(double value, double step);

}  // namespace loom::multimodal
