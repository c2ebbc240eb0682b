// canvas.h: the pixels of fill_rect, rect, line, polyline and circle (and
// their clipping at the edges), the 5x7 font (every glyph distinct, text
// inside exactly its text_width x text_height box, vertical text), image()'s
// nearest-neighbour resize and heatmap()'s normalisation against hand-computed
// pixels, the colormaps, charts that stay inside their boxes, the PNG round
// trip, the errors; and a sample figure written as a PNG (set
// LOOM_CANVAS_SAMPLE_DIR to keep it there).
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "multimodal/canvas.h"
#include "multimodal/image_io.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using loom::test::check_error;
using loom::test::error_kind;
namespace fs = std::filesystem;

namespace {

constexpr Color kBg{1, 2, 3};

std::vector<Color> pixels(const Canvas& c) {
  std::vector<Color> v;
  for (int64_t y = 0; y < c.height(); ++y)
    for (int64_t x = 0; x < c.width(); ++x) v.push_back(c.pixel(x, y));
  return v;
}

// The set pixels (those not of colour bg) as "x,y" strings, for exact comparisons.
std::set<std::pair<int64_t, int64_t>> set_pixels(const Canvas& c, Color bg = kBg) {
  std::set<std::pair<int64_t, int64_t>> s;
  for (int64_t y = 0; y < c.height(); ++y)
    for (int64_t x = 0; x < c.width(); ++x)
      if (c.pixel(x, y) != bg) s.insert({x, y});
  return s;
}

// True when every pixel differing from bg lies in [x, x + w) x [y, y + h); *count gets how many differ.
bool changes_inside(const Canvas& c, int64_t x, int64_t y, int64_t w, int64_t h, int64_t* count = nullptr) {
  int64_t n = 0;
  bool inside = true;
  for (const auto& [px, py] : set_pixels(c)) {
    ++n;
    if (px < x || px >= x + w || py < y || py >= y + h) inside = false;
  }
  if (count) *count = n;
  return inside;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("loom_test_canvas_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("canvas: size, background, pixel access and errors", "[canvas]") {
  Canvas c(7, 5, kBg);
  CHECK(c.width() == 7);
  CHECK(c.height() == 5);
  CHECK(c.pixel(6, 4) == kBg);
  c.set_pixel(2, 3, kRed);
  CHECK(c.pixel(2, 3) == kRed);
  c.set_pixel(-1, 0, kRed);  // ignored
  c.set_pixel(7, 0, kRed);
  c.set_pixel(0, 5, kRed);
  CHECK(set_pixels(c).size() == 1);
  CHECK(error_kind([&] { c.pixel(7, 0); }) == ErrorKind::Index);
  CHECK(error_kind([&] { c.pixel(0, -1); }) == ErrorKind::Index);
  check_error([&] { c.pixel(9, 2); }, {"Canvas::pixel", "(9, 2)", "7 x 5"});
  CHECK(error_kind([] { Canvas(0, 5); }) == ErrorKind::Value);
  CHECK(error_kind([] { Canvas(5, -1); }) == ErrorKind::Value);
  check_error([] { Canvas(16385, 2); }, {"Canvas", "16384", "16385 x 2"});
  Canvas white(2, 2);
  CHECK(white.pixel(1, 1) == kWhite);
  white.blend_pixel(0, 0, kBlack, 0.25);
  CHECK(white.pixel(0, 0) == Color{191, 191, 191});
  CHECK(blend(kWhite, kBlue, 1.0) == kBlue);

  // The clip rectangle limits every drawing call until reset.
  c.clear(kBg);
  c.set_clip(1, 1, 3, 2);
  CHECK(c.clip().x == 1);
  CHECK(c.clip().w == 3);
  c.fill_rect(0, 0, 7, 5, kRed);
  c.line(0, 4, 6, 0, kRed, 3.0);
  c.text(0, 0, "#", kRed);
  CHECK(changes_inside(c, 1, 1, 3, 2));
  CHECK(set_pixels(c).size() == 6);
  c.set_clip(5, 3, 100, 100);  // intersected with the canvas
  CHECK(c.clip().w == 2);
  CHECK(c.clip().h == 2);
  c.reset_clip();
  c.fill_rect(0, 0, 7, 5, kRed);
  CHECK(set_pixels(c).size() == 35);
}

TEST_CASE("canvas: fill_rect, rect and clipping", "[canvas]") {
  Canvas c(10, 8, kBg);
  c.fill_rect(2, 1, 3, 2, kBlue);
  std::set<std::pair<int64_t, int64_t>> want = {{2, 1}, {3, 1}, {4, 1}, {2, 2}, {3, 2}, {4, 2}};
  CHECK(set_pixels(c) == want);
  c.clear(kBg);
  c.fill_rect(-3, 6, 5, 10, kBlue);  // clipped to x 0..1, y 6..7
  CHECK(set_pixels(c) == std::set<std::pair<int64_t, int64_t>>{{0, 6}, {1, 6}, {0, 7}, {1, 7}});
  c.clear(kBg);
  c.fill_rect(8, -100, 1000, 1000, kBlue);
  CHECK(set_pixels(c).size() == 2 * 8);
  c.clear(kBg);
  c.fill_rect(3, 3, 0, 4, kBlue);
  c.fill_rect(std::numeric_limits<int64_t>::max() - 1, 0, std::numeric_limits<int64_t>::max(), 3, kBlue);
  c.fill_rect(std::numeric_limits<int64_t>::min(), 0, std::numeric_limits<int64_t>::max(), 3, kBlue);
  CHECK(set_pixels(c).empty());
  CHECK(error_kind([&] { c.fill_rect(0, 0, -1, 2, kBlue); }) == ErrorKind::Value);

  // An outline 2 px thick inside a 6 x 5 box: the 2 x 1 middle stays.
  c.rect(1, 1, 6, 5, kGreen, 2);
  auto s = set_pixels(c);
  CHECK(s.size() == 6 * 5 - 2 * 1);
  CHECK(c.pixel(3, 3) == kBg);
  CHECK(c.pixel(4, 3) == kBg);
  CHECK(c.pixel(1, 1) == kGreen);
  CHECK(c.pixel(6, 5) == kGreen);
  CHECK(c.pixel(7, 5) == kBg);
  c.clear(kBg);
  c.rect(0, 0, 3, 3, kGreen, 5);  // thicker than half the box: filled
  CHECK(set_pixels(c).size() == 9);
  check_error([&] { c.rect(0, 0, 3, 3, kGreen, 0); }, {"Canvas::rect", "thickness"});
}

TEST_CASE("canvas: lines between pixel centres, thickness, dashes, clipping", "[canvas]") {
  Canvas c(20, 12, kBg);
  c.line(2, 3, 8, 3, kRed);
  std::set<std::pair<int64_t, int64_t>> want;
  for (int64_t x = 2; x <= 8; ++x) want.insert({x, 3});
  CHECK(set_pixels(c) == want);

  c.clear(kBg);
  c.line(5, 9, 5, 4, kRed);  // vertical, drawn backwards
  want.clear();
  for (int64_t y = 4; y <= 9; ++y) want.insert({5, y});
  CHECK(set_pixels(c) == want);

  c.clear(kBg);
  c.line(0, 0, 6, 6, kRed);
  want.clear();
  for (int64_t i = 0; i <= 6; ++i) want.insert({i, i});
  CHECK(set_pixels(c) == want);

  c.clear(kBg);
  c.line(0, 0, 10, 4, kRed);  // shallow: one pixel per column, rows stepping by <= 1
  auto s = set_pixels(c);
  CHECK(s.size() == 11);
  int64_t last_y = 0;
  for (int64_t x = 0; x <= 10; ++x) {
    int64_t n = 0;
    for (int64_t y = 0; y < 12; ++y)
      if (s.count({x, y})) {
        ++n;
        CHECK(std::abs(y - last_y) <= 1);
        last_y = y;
      }
    CHECK(n == 1);
  }

  c.clear(kBg);
  c.line(3, 5, 12, 5, kRed, 3.0);  // 3 px wide: rows 4..6
  want.clear();
  for (int64_t x = 2; x <= 13; ++x)
    for (int64_t y = 4; y <= 6; ++y) want.insert({x, y});
  CHECK(set_pixels(c) == want);

  c.clear(kBg);
  c.line(-1e9, 7, 1e9, 7, kRed);  // clipped: the whole row, fast
  want.clear();
  for (int64_t x = 0; x < 20; ++x) want.insert({x, 7});
  CHECK(set_pixels(c) == want);
  c.clear(kBg);
  c.line(-50, -50, -5, 100, kRed, 4.0);  // entirely outside
  c.line(30, 0, 30, 11, kRed);
  CHECK(set_pixels(c).empty());

  c.clear(kBg);
  c.line(0, 2, 19, 2, kRed, 1.0, true);  // dashes of 6, gaps of 4
  for (int64_t x = 0; x < 20; ++x) CHECK((c.pixel(x, 2) == kRed) == (x % 10 < 6));

  // polyline: the dash pattern runs on across many short segments; NaN leaves a gap.
  c.clear(kBg);
  std::vector<double> xs, ys;
  for (int64_t x = 0; x < 20; ++x) xs.push_back(static_cast<double>(x)), ys.push_back(4);
  c.polyline(xs, ys, kBlue, 1.0, true);
  for (int64_t x = 0; x < 20; ++x) CHECK((c.pixel(x, 4) == kBlue) == (x % 10 < 6));
  c.clear(kBg);
  ys[10] = NAN;
  c.polyline(xs, ys, kBlue);
  for (int64_t x = 0; x < 20; ++x) CHECK((c.pixel(x, 4) == kBlue) == (x != 10));

  CHECK(error_kind([&] { c.line(0, NAN, 1, 1, kRed); }) == ErrorKind::Value);
  CHECK(error_kind([&] { c.line(-1e308, 0, 1e308, 1, kRed); }) == ErrorKind::Value);
  CHECK(error_kind([&] { c.polyline({0, 1e300}, {0, 0}, kRed); }) == ErrorKind::Value);
  check_error([&] { c.line(0, 0, 1, 1, kRed, 0.0); }, {"Canvas::line", "thickness"});
  check_error([&] { c.polyline({1, 2}, {1}, kRed); }, {"Canvas::polyline", "2", "1"});
}

TEST_CASE("canvas: filled circles and clipping", "[canvas]") {
  Canvas c(30, 20, kBg);
  c.circle(10, 10, 3, kOrange);
  CHECK(c.pixel(13, 10) == kOrange);
  CHECK(c.pixel(14, 10) == kBg);
  CHECK(c.pixel(12, 12) == kOrange);  // 8 <= 9
  CHECK(c.pixel(13, 13) == kBg);
  CHECK(c.pixel(10, 7) == kOrange);
  int64_t n = 0;
  for (int64_t y = 0; y < 20; ++y)
    for (int64_t x = 0; x < 30; ++x) n += ((x - 10) * (x - 10) + (y - 10) * (y - 10) <= 9);
  CHECK(static_cast<int64_t>(set_pixels(c).size()) == n);

  c.clear(kBg);
  c.circle(4.3, 6.2, 0, kOrange);  // a marker never vanishes
  CHECK(set_pixels(c) == std::set<std::pair<int64_t, int64_t>>{{4, 6}});
  c.clear(kBg);
  c.circle(0, 0, 2, kOrange);  // the quarter inside
  CHECK(set_pixels(c).size() == 6);
  c.clear(kBg);
  c.circle(1e12, -1e12, 5, kOrange);
  CHECK(set_pixels(c).empty());
  CHECK(error_kind([&] { c.circle(1, 1, -1, kRed); }) == ErrorKind::Value);
}

TEST_CASE("canvas: all 95 glyphs are distinct, '?' stands for the rest", "[canvas]") {
  std::set<std::vector<uint8_t>> seen;
  for (int ch = 32; ch <= 126; ++ch) {
    const uint8_t* g = font_glyph(static_cast<char>(ch));
    std::vector<uint8_t> rows(g, g + 7);
    for (uint8_t r : rows) CHECK(r < 32);
    bool lit = false;
    for (uint8_t r : rows) lit = lit || r;
    CHECK(lit == (ch != ' '));
    CHECK(seen.insert(rows).second);
  }
  CHECK(seen.size() == 95);
  CHECK(font_glyph('\t') == font_glyph('?'));
  CHECK(font_glyph(static_cast<char>(200)) == font_glyph('?'));

  // Drawn: each glyph differs from every other one on the canvas too.
  std::vector<std::vector<Color>> drawn;
  for (int ch = 33; ch <= 126; ++ch) {
    Canvas c(6, 8, kBg);
    c.text(0, 0, std::string(1, static_cast<char>(ch)), kBlack);
    drawn.push_back(pixels(c));
  }
  for (size_t i = 0; i < drawn.size(); ++i)
    for (size_t j = i + 1; j < drawn.size(); ++j) CHECK(drawn[i] != drawn[j]);
}

TEST_CASE("canvas: text stays inside exactly its text_width x text_height box", "[canvas]") {
  CHECK(Canvas::text_width("abc") == 18);
  CHECK(Canvas::text_height("abc") == 8);
  CHECK(Canvas::text_width("ab\nlonger\nc", 2) == 6 * 6 * 2);
  CHECK(Canvas::text_height("ab\nlonger\nc", 2) == 3 * 8 * 2);
  CHECK(Canvas::text_width("") == 0);
  CHECK(Canvas::text_height("") == 0);
  CHECK(Canvas::text_width("caf\xc3\xa9") == 4 * 6);  // one '?' per UTF-8 character
  std::vector<std::string> samples = {
      "Hello, loom!",          "0.125",       "R@1 = 73 %", "(a+b)/c <= d?", "x_1 [y] #z & w|v", "gjpqy",
      "line one\nsecond line", "'\"`~^{}\\;:"};
  for (int ch = 33; ch <= 126; ++ch) samples.push_back(std::string(1, static_cast<char>(ch)));
  for (const int64_t scale : {1, 3}) {
    for (const std::string& s : samples) {
      INFO(s << " at scale " << scale);
      Canvas c(320, 80, kBg);
      const int64_t w = c.text(7, 5, s, kBlack, scale);
      CHECK(w == Canvas::text_width(s, scale));
      const int64_t h = Canvas::text_height(s, scale);
      int64_t n = 0, max_x = 0, max_y = 0;
      CHECK(changes_inside(c, 7, 5, w, h, &n));
      CHECK(n > 0);
      for (const auto& [x, y] : set_pixels(c)) max_x = std::max(max_x, x), max_y = std::max(max_y, y);
      // The 1 px spacing (times the scale) is the only blank edge.
      if (s.find('\n') == std::string::npos && s.size() > 1) CHECK(max_x >= 7 + w - 6 * scale);
      (void)max_y;

      Canvas v(80, 320, kBg);
      v.text_vertical(5, 7, s, kBlack, scale);  // h wide, w tall
      CHECK(changes_inside(v, 5, 7, h, w, &n));
      CHECK(n > 0);
    }
  }
  // Vertical text reads bottom to top: the first character at the bottom,
  // the tops of the glyphs on the left.
  Canvas v(8, 12, kBg);
  v.text_vertical(0, 0, "L.", kBlack);  // 'L' then '.'
  CHECK(v.pixel(0, 11) == kBlack);      // L's stroke along the bottom,
  CHECK(v.pixel(6, 11) == kBlack);
  CHECK(v.pixel(0, 7) == kBg);
  CHECK(v.pixel(6, 7) == kBlack);  // its foot up the right side
  CHECK(v.pixel(0, 3) == kBg);     // '.' sits low: right side of the top cell
  CHECK(v.pixel(6, 3) == kBlack);
  // Text is clipped at the edges.
  Canvas e(10, 10, kBg);
  e.text(-3, -2, "WW", kBlack, 2);
  CHECK(changes_inside(e, 0, 0, 10, 10));
  CHECK(!set_pixels(e).empty());
  check_error([&] { e.text(0, 0, "a", kBlack, 0); }, {"Canvas::text", "scale"});
}

TEST_CASE("canvas: image() resizes by nearest neighbour", "[canvas]") {
  // A 3-channel 2 x 3 image of distinct values, drawn at 6 x 4 (x2) and 2 x 1.
  std::vector<int32_t> v;
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) v.push_back(100 * ch + 10 * y + x);
  const Tensor img = from_vector(v, {3, 2, 3});
  auto at = [&](int64_t y, int64_t x) {
    return Color{static_cast<uint8_t>(10 * y + x), static_cast<uint8_t>(100 + 10 * y + x),
                 static_cast<uint8_t>(200 + 10 * y + x)};
  };
  Canvas c(10, 8, kBg);
  c.image(2, 1, img, 6, 4);
  CHECK(changes_inside(c, 2, 1, 6, 4));
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 6; ++x) CHECK(c.pixel(2 + x, 1 + y) == at(y / 2, x / 2));
  // Down to 2 x 1: source column floor(x * 3 / 2) = 0, 1; row 0.
  c.clear(kBg);
  c.image(0, 0, img, 2, 1);
  CHECK(c.pixel(0, 0) == at(0, 0));
  CHECK(c.pixel(1, 0) == at(0, 1));
  CHECK(set_pixels(c).size() == 2);
  // To 5 wide: columns floor(x * 3 / 5) = 0, 0, 1, 1, 2.
  c.clear(kBg);
  c.image(0, 0, img, 5, 2);
  const int want_cols[5] = {0, 0, 1, 1, 2};
  for (int x = 0; x < 5; ++x) CHECK(c.pixel(x, 1) == at(1, want_cols[x]));
  // Clipped at the left and top edges: the visible part keeps its source pixels.
  c.clear(kBg);
  c.image(-2, -2, img, 6, 4);
  CHECK(c.pixel(0, 0) == at(1, 1));
  CHECK(c.pixel(3, 1) == at(1, 2));
  CHECK(changes_inside(c, 0, 0, 4, 2));

  // Gray float images in [0, 1], clamped.
  const Tensor gray = from_vector(std::vector<float>{-0.5f, 0.5f, 1.0f, 2.0f}, {1, 2, 2});
  c.clear(kBg);
  c.image(0, 0, gray, 2, 2);
  CHECK(c.pixel(0, 0) == Color{0, 0, 0});
  CHECK(c.pixel(1, 0) == Color{128, 128, 128});
  CHECK(c.pixel(0, 1) == kWhite);
  CHECK(c.pixel(1, 1) == kWhite);

  check_error([&] { c.image(0, 0, gray.squeeze(0), 2, 2); }, {"Canvas::image", "[2, 2]", "unsqueeze"});
  check_error([&] { c.image(0, 0, zeros({2, 2, 2}), 2, 2); }, {"Canvas::image", "[2, 2, 2]", "C = 1 or 3"});
  check_error(
      [&] {
        c.image(0, 0, full({1, 2, 2}, 300, TensorOptions(DType::Int32)), 2, 2);
      },
      {"Canvas::image", "0..255", "300"});
  CHECK(error_kind([&] { c.image(0, 0, zeros({1, 2, 2}, TensorOptions(DType::Bool)), 2, 2); }) == ErrorKind::Type);
  CHECK(error_kind([&] { c.image(0, 0, img, -1, 2); }) == ErrorKind::Value);
}

TEST_CASE("canvas: heatmap min..max through jet, blended", "[canvas]") {
  const Tensor v = from_vector(std::vector<float>{2, 5, 8, 11}, {2, 2});  // min 2, max 11
  Canvas c(8, 8, kBg);
  c.heatmap(1, 1, v, 2, 2, 1.0, false);
  CHECK(changes_inside(c, 1, 1, 2, 2));
  CHECK(c.pixel(1, 1) == colormap_jet(0.0));
  CHECK(c.pixel(2, 1) == colormap_jet(1.0 / 3));
  CHECK(c.pixel(1, 2) == colormap_jet(2.0 / 3));
  CHECK(c.pixel(2, 2) == colormap_jet(1.0));  // the max cell
  // Bilinear, 4 x 4 from 2 x 2 (align_corners=False): the corners are the
  // cells, the pixel at 1 lies a quarter of the way to the next column.
  c.clear(kBg);
  c.heatmap(0, 0, v.to(DType::Float64), 4, 4, 1.0, true);
  CHECK(c.pixel(0, 0) == colormap_jet(0.0));
  CHECK(c.pixel(3, 3) == colormap_jet(1.0));
  CHECK(c.pixel(3, 0) == colormap_jet(1.0 / 3));
  CHECK(c.pixel(1, 0) == colormap_jet(0.25 / 3));
  CHECK(c.pixel(1, 1) == colormap_jet(0.25 / 3 + 0.25 * 2 / 3));
  // A constant map is all jet(0); alpha blends over what is there.
  Canvas w(3, 3, kWhite);
  w.heatmap(0, 0, full({3, 3}, 7.0), 3, 3, 0.5);
  const Color j0 = colormap_jet(0.0);
  CHECK(w.pixel(1, 1) == blend(kWhite, j0, 0.5));
  CHECK(w.pixel(1, 1) == Color{128, 128, static_cast<uint8_t>(std::floor((255 + j0.b) / 2.0 + 0.5))});
  w.heatmap(0, 0, full({3, 3}, 7.0), 3, 3, 0.0);
  CHECK(w.pixel(1, 1) == blend(kWhite, j0, 0.5));

  check_error([&] { c.heatmap(0, 0, zeros({1, 2, 2}), 4, 4); }, {"Canvas::heatmap", "[1, 2, 2]", "[h, w]"});
  check_error([&] { c.heatmap(0, 0, zeros({2, 2}), 4, 4, 1.5); }, {"Canvas::heatmap", "alpha", "1.5"});
  check_error(
      [&] {
        c.heatmap(0, 0, from_vector(std::vector<float>{1, NAN}, {1, 2}), 4, 4);
      },
      {"Canvas::heatmap", "finite", "[0, 1]"});
}

TEST_CASE("canvas: image and heatmap take tensors on the GPU", "[canvas]") {
  LOOM_REQUIRE_GPU();
  const Tensor img = rand({3, 5, 7});
  const Tensor heat = randn({4, 6});
  Canvas on_cpu(40, 30, kBg), on_gpu(40, 30, kBg);
  on_cpu.image(1, 2, img, 21, 15);
  on_cpu.heatmap(3, 1, heat, 30, 20, 0.6);
  on_gpu.image(1, 2, img.cuda(), 21, 15);
  on_gpu.heatmap(3, 1, heat.cuda(), 30, 20, 0.6);
  CHECK(pixels(on_cpu) == pixels(on_gpu));
}

TEST_CASE("canvas: colormaps and palette", "[canvas]") {
  CHECK(colormap_jet(0.0) == Color{0, 0, 128});
  CHECK(colormap_jet(0.5) == Color{123, 255, 123});
  CHECK(colormap_jet(1.0) == Color{128, 0, 0});
  CHECK(colormap_jet(-3.0) == colormap_jet(0.0));
  CHECK(colormap_jet(7.0) == colormap_jet(1.0));
  CHECK(colormap_blues(0.0) == kWhite);
  CHECK(colormap_blues(0.5) == Color{107, 174, 214});
  CHECK(colormap_blues(1.0) == Color{8, 48, 107});
  for (double t = 0; t < 1; t += 0.05) {  // darker and darker
    const Color a = colormap_blues(t), b = colormap_blues(t + 0.05);
    CHECK(a.r + a.g + a.b >= b.r + b.g + b.b);
  }
  CHECK(palette(0) == kBlue);
  CHECK(palette(1) == kOrange);
  CHECK(palette(2) == kGreen);
  CHECK(palette(3) == kRed);
  CHECK(palette(4) == kPurple);
  CHECK(palette(13) == palette(3));
  CHECK(palette(-1) == palette(9));
  std::set<std::tuple<int, int, int>> distinct;
  for (int i = 0; i < 10; ++i) distinct.insert({palette(i).r, palette(i).g, palette(i).b});
  CHECK(distinct.size() == 10);
}

TEST_CASE("canvas: nice ticks and their labels", "[canvas]") {
  double step = 0;
  CHECK(nice_ticks(0, 1000, 6, &step) == std::vector<double>{0, 200, 400, 600, 800, 1000});
  CHECK(step == 200);
  const auto t = nice_ticks(0.13, 0.92, 5, &step);
  CHECK(step == 0.2);
  REQUIRE(t.size() == 4);
  CHECK(format_tick(t[0], step) == "0.2");
  CHECK(format_tick(t[3], step) == "0.8");
  CHECK(format_tick(-1e-17, 0.5) == "0.0");
  CHECK(format_tick(2.5, 0.5) == "2.5");
  CHECK(format_tick(0.14, 0.02) == "0.14");
  CHECK(format_tick(3e6, 1e6) == "3e+06");
  CHECK(nice_ticks(5, 5, 4) == std::vector<double>{5});
  CHECK(error_kind([] { nice_ticks(1, 0, 4); }) == ErrorKind::Value);
}

TEST_CASE("canvas: line_chart draws inside its box only", "[canvas]") {
  std::vector<double> xs, loss, acc;
  for (int i = 0; i <= 300; ++i) {
    xs.push_back(i);
    loss.push_back(3.0 * std::exp(-i / 80.0) + 0.2 + 0.05 * std::sin(i * 0.7));
    acc.push_back(i == 150 ? NAN : 1.0 - std::exp(-i / 100.0));
  }
  std::vector<Series> series = {{"loss", xs, loss, kBlue}, {"accuracy", xs, acc, kOrange, true, true}};
  ChartOptions opt;
  opt.title = "training";
  opt.xlabel = "step";
  opt.ylabel = "value";
  opt.hlines = {{0.5, "half"}};
  Canvas c(640, 400, kBg);
  line_chart(c, 50, 40, 400, 300, series, opt);
  int64_t n = 0;
  CHECK(changes_inside(c, 50, 40, 400, 300, &n));
  CHECK(n > 3000);
  bool blue = false, orange = false, gray = false;
  for (const Color p : pixels(c)) blue |= p == kBlue, orange |= p == kOrange, gray |= p == kGray;
  CHECK(blue);
  CHECK(orange);
  CHECK(gray);
  CHECK(c.clip().w == 640);  // restored

  // Fixed limits with data beyond them, at the canvas edge: still inside.
  opt.ymin = 0.5;
  opt.ymax = 1.0;
  opt.text_scale = 2;
  c.clear(kBg);
  line_chart(c, 300, 200, 340, 200, series, opt);
  CHECK(changes_inside(c, 300, 200, 340, 200, &n));
  CHECK(n > 1000);
  // No data at all: empty axes.
  c.clear(kBg);
  line_chart(c, 0, 0, 200, 150, {}, ChartOptions{});
  CHECK(changes_inside(c, 0, 0, 200, 150, &n));
  CHECK(n > 100);

  check_error([&] { line_chart(c, 0, 0, 40, 30, series, ChartOptions{}); }, {"line_chart", "40 x 30", "16 x 16"});
  check_error(
      [&] {
        line_chart(c, 0, 0, 300, 200, {{"bad", {1, 2, 3}, {1, 2}, kRed}}, ChartOptions{});
      },
      {"line_chart", "'bad'", "3 x", "2 y"});
  ChartOptions bad;
  bad.ymin = 2;
  bad.ymax = 1;
  check_error([&] { line_chart(c, 0, 0, 300, 200, series, bad); }, {"line_chart", "ymin < ymax", "2", "1"});
}

TEST_CASE("canvas: matrix_chart draws inside the size it reports", "[canvas]") {
  const std::vector<std::vector<double>> m = {{0.9, 0.1, 0.0}, {0.2, 0.7, 0.1}, {0.0, 0.3, NAN}};
  const std::vector<std::string> rows = {"red", "green", "blue"}, cols = {"red", "green", "blue long"};
  const auto size = matrix_chart_size(20, 3, 3, rows, cols, "confusion");
  Canvas c(300, 300, kBg);
  const auto drawn = matrix_chart(c, 30, 25, 20, m, rows, cols, "confusion");
  CHECK(drawn == size);
  const int64_t left = Canvas::text_width("green") + 4, top = 8 + 4;
  CHECK(size.first == left + 60);
  CHECK(size.second == top + 60 + 4 + Canvas::text_width("blue long"));
  CHECK(changes_inside(c, 30, 25, size.first, size.second));
  // Cell centres carry colormap_blues of the value; NaN is light gray.
  CHECK(c.pixel(30 + left + 10, 25 + top + 10) == colormap_blues(0.9));
  CHECK(c.pixel(30 + left + 30, 25 + top + 50) == colormap_blues(0.3));
  CHECK(c.pixel(30 + left + 50, 25 + top + 50) == kLightGray);
  // Over [0, 10] with values, no labels and no title: just the grid.
  c.clear(kBg);
  const auto bare = matrix_chart(c, 0, 0, 30, {{10, 0}, {3, 7}}, {}, {}, "", 0, 10, true);
  CHECK(bare == std::make_pair<int64_t, int64_t>(60, 60));
  CHECK(changes_inside(c, 0, 0, 60, 60));
  bool white_text = false;
  for (int64_t y = 0; y < 30; ++y)
    for (int64_t x = 0; x < 30; ++x) white_text |= c.pixel(x, y) == kWhite;  // "10" on the darkest cell
  CHECK(white_text);

  check_error([&] { matrix_chart(c, 0, 0, 10, {{1, 2}, {3}}, {}, {}, ""); }, {"matrix_chart", "row 1", "1 values"});
  check_error([&] { matrix_chart(c, 0, 0, 10, {{1, 2}}, {"a", "b"}, {}, ""); }, {"matrix_chart", "1 row labels", "2"});
  check_error([&] { matrix_chart(c, 0, 0, 10, {{1}}, {}, {}, "", 1, 1); }, {"matrix_chart", "vmin < vmax"});
  check_error([&] { matrix_chart_size(0, 2, 2, {}, {}, ""); }, {"matrix_chart_size", "cell"});
}

TEST_CASE("canvas: save_png reads back as to_tensor", "[canvas]") {
  Canvas c(37, 23, kBg);
  c.fill_rect(3, 4, 10, 6, kPurple);
  c.line(0, 22, 36, 0, kGreen, 2.0);
  c.text(2, 12, "PNG", kBlack);
  const Tensor t = c.to_tensor();
  CHECK(t.sizes() == Shape{3, 23, 37});
  CHECK(t.dtype() == DType::Int32);
  CHECK(t.select(0, 0).select(0, 0).select(0, 0).item<int64_t>() == kBg.r);
  const fs::path dir = temp_dir("roundtrip");
  c.save_png((dir / "c.png").string());
  const Tensor back = read_image((dir / "c.png").string());
  CHECK(back.sizes() == t.sizes());
  CHECK(back.to_vector() == t.to_vector());
  fs::remove_all(dir);
}

// A sample figure of what the canvas is for: two line charts, a confusion
// matrix and an attention heat map over an image with a caption.
TEST_CASE("canvas: sample figure written as a PNG", "[canvas]") {
  const auto t0 = std::chrono::steady_clock::now();
  Canvas c(1000, 660);
  std::vector<double> steps, contrastive, vqa, train_acc, val_x, val_acc;
  for (int i = 10; i <= 960; i += 2) {
    steps.push_back(i);
    contrastive.push_back(1.9 + 2.9 * std::exp(-i / 120.0) + 0.06 * std::sin(i * 0.37));
    vqa.push_back(0.15 + 2.7 * std::exp(-i / 70.0) + 0.03 * std::sin(i * 0.51));
    train_acc.push_back(90 - 70 * std::exp(-i / 180.0) + 1.5 * std::sin(i * 0.23));
  }
  for (int i = 80; i <= 960; i += 80) val_x.push_back(i), val_acc.push_back(91 - 60 * std::exp(-i / 170.0));
  ChartOptions losses;
  losses.title = "training losses (10-step mean)";
  losses.xlabel = "step";
  losses.ylabel = "loss";
  line_chart(c, 0, 0, 500, 330,
             {{"contrastive loss", steps, contrastive, palette(0)}, {"VQA cross-entropy", steps, vqa, palette(1)}},
             losses);
  ChartOptions accuracy;
  accuracy.title = "VQA accuracy";
  accuracy.xlabel = "step";
  accuracy.ylabel = "%";
  accuracy.ymin = 0;
  accuracy.ymax = 100;
  accuracy.hlines = {{25, "chance (25 %)"}};
  accuracy.legend = LegendPosition::BottomRight;
  line_chart(
      c, 500, 0, 500, 330,
      {{"train (10-step mean)", steps, train_acc, palette(0)}, {"validation", val_x, val_acc, palette(1), true, true}},
      accuracy);

  const std::vector<std::string> labels = {"yes", "no", "0", "1", "2", "red", "circle"};
  std::vector<std::vector<double>> confusion(7, std::vector<double>(7, 0.0));
  for (int r = 0; r < 7; ++r)
    for (int k = 0; k < 7; ++k) confusion[r][k] = r == k ? 0.55 + 0.06 * r : (std::abs(r - k) == 1 ? 0.12 : 0.01);
  const auto size = matrix_chart_size(34, 7, 7, labels, labels, "VQA confusion (rows: truth)");
  matrix_chart(c, 40 + (250 - size.first / 2), 345, 34, confusion, labels, labels, "VQA confusion (rows: truth)", 0.0,
               1.0, true);

  // An image of a red disc and a blue square with a 6 x 6 attention map over it.
  std::vector<float> img(3 * 48 * 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 48; ++x) {
      const bool disc = (x - 14) * (x - 14) + (y - 30) * (y - 30) < 64, square = x >= 28 && x < 42 && y >= 8 && y < 22;
      const float rgb[3] = {disc     ? 0.85f
                            : square ? 0.15f
                                     : 0.92f,
                            disc     ? 0.15f
                            : square ? 0.3f
                                     : 0.92f,
                            disc     ? 0.15f
                            : square ? 0.8f
                                     : 0.88f};
      for (int ch = 0; ch < 3; ++ch) img[(ch * 48 + y) * 48 + x] = rgb[ch];
    }
  const Tensor image = from_vector(img, {3, 48, 48});
  std::vector<float> att(36);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 6; ++x) att[y * 6 + x] = std::exp(-0.5f * ((x - 1.5f) * (x - 1.5f) + (y - 3.5f) * (y - 3.5f)));
  c.text(560, 350, "Q: what colour is the circle?\nA: red (p = 0.97)", kBlack);
  c.image(560, 380, image, 192, 192);
  c.image(770, 380, image, 192, 192);
  c.heatmap(770, 380, from_vector(att, {6, 6}), 192, 192, 0.55);
  c.rect(560, 380, 192, 192, kGreen, 3);
  c.text(560, 580, "image", kGray);
  c.text(770, 580, "cross-attention over 6x6 cells", kGray);
  c.text_vertical(975, 380, "bilinear, alpha 0.55", kGray);
  c.text(560, 610,
         "5x7 font: ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n"
         "abcdefghijklmnopqrstuvwxyz %()-+/=<>?!'\":;,._[]#@*&|",
         kBlack);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  INFO("drawing took " << ms << " ms");
  CHECK(ms < 2000);  // milliseconds in a Release build; generous for sanitizers

  const char* keep = std::getenv("LOOM_CANVAS_SAMPLE_DIR");
  const fs::path dir = keep ? fs::path(keep) : temp_dir("sample");
  fs::create_directories(dir);
  const std::string path = (dir / "canvas_sample.png").string();
  c.save_png(path);
  const Tensor back = read_image(path, ImageReadMode::RGB);
  CHECK(back.to_vector() == c.to_tensor().to_vector());
  if (!keep) fs::remove_all(dir);
}
