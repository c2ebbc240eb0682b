// image_io.h: PNG round trips for every channel count from integer and float
// tensors, the read modes, files written by other encoders (Pillow and
// hand-made chunks, tests/data/images: palette + tRNS, 16-bit, Adam7, 2-bit
// gray, baseline and progressive JPEG, CMYK), and the errors for missing,
// empty, foreign, truncated and corrupt files and for bad tensors.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "multimodal/image_io.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;
using loom::test::check_error;
using loom::test::error_kind;
namespace fs = std::filesystem;

namespace {

const std::string kImages = std::string(LOOM_SOURCE_DIR) + "/tests/data/images/";

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("loom_test_image_io_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// int32 [c, h, w] with distinct values in 0..255 along every axis.
Tensor pattern(int64_t c, int64_t h, int64_t w) {
  std::vector<int32_t> v;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(static_cast<int32_t>((37 * k + 11 * y + 5 * x + 3) % 256));
  return from_vector(v, {c, h, w});
}

std::vector<double> values(const Tensor& t) { return t.to_vector(); }

// 0.299 R + 0.587 G + 0.114 B rounded, in Pillow's 16-bit fixed point (its convert("L")).
int32_t luma(int32_t r, int32_t g, int32_t b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("image_io: PNG round trips of integer images with 1 to 4 channels", "[multimodal][image_io]") {
  for (int64_t c : {1, 2, 3, 4}) {
    INFO("channels " << c);
    const Tensor img = pattern(c, 5, 7);
    const std::vector<uint8_t> png = encode_png(img);
    REQUIRE(png.size() > 8);
    const Tensor back = decode_image(png);
    CHECK(back.dtype() == DType::Int32);
    CHECK(back.sizes() == Shape{c, 5, 7});
    CHECK(values(back) == values(img));
    // int64 input and every compression level give the same pixels.
    for (int level : {0, 1, 9}) CHECK(values(decode_image(encode_png(img.to(DType::Int64), level))) == values(img));
  }
}

TEST_CASE("image_io: float images are clamped to [0, 1] and rounded", "[multimodal][image_io]") {
  const Tensor x = from_vector(
      std::vector<float>{-0.5f, 0.0f, 0.51f / 255, 0.49f / 255, 0.5f, 1.0f, 1.5f, 254.51f / 255}, {1, 2, 4});
  CHECK(values(decode_image(encode_png(x))) == std::vector<double>{0, 0, 1, 0, 128, 255, 255, 255});
  const Tensor rgb = rand({3, 6, 5});
  std::vector<double> expect;
  for (double v : values(rgb)) expect.push_back(std::floor(v * 255 + 0.5));
  CHECK(values(decode_image(encode_png(rgb))) == expect);
  CHECK(values(decode_image(encode_png(rgb.to(DType::Float64)))) == expect);
  // A non-contiguous view is encoded as its values.
  const Tensor t = pattern(3, 4, 6).transpose(1, 2);
  CHECK(values(decode_image(encode_png(t))) == values(t.contiguous()));
}

TEST_CASE("image_io: write_png writes the file atomically and read_image reads it", "[multimodal][image_io]") {
  const fs::path dir = temp_dir("write");
  const std::string path = (dir / "a.png").string();
  write_png(pattern(3, 4, 3), path);
  CHECK(values(read_image(path)) == values(pattern(3, 4, 3)));
  write_png(pattern(1, 2, 2), path, 9);  // replaces it
  CHECK(read_image(path).sizes() == Shape{1, 2, 2});
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);  // no temporary left behind
  write_jpeg(pattern(3, 8, 8), (dir / "b.jpg").string(), 100);
  CHECK(read_image((dir / "b.jpg").string()).sizes() == Shape{3, 8, 8});
  check_error([&] { write_png(pattern(3, 2, 2), (dir / "no_such_dir" / "c.png").string()); },
              {"write_png", "no_such_dir"});
  fs::remove_all(dir);
}

TEST_CASE("image_io: read modes convert the channels", "[multimodal][image_io]") {
  const Tensor rgba = pattern(4, 3, 5);
  const std::vector<uint8_t> png = encode_png(rgba);
  const std::vector<double> v = values(rgba);
  const size_t hw = 15;
  std::vector<double> gray, alpha;
  for (size_t i = 0; i < hw; ++i) {
    const auto px = [&](size_t k) { return static_cast<int32_t>(v[k]); };
    gray.push_back(luma(px(i), px(hw + i), px(2 * hw + i)));
    alpha.push_back(v[3 * hw + i]);
  }
  CHECK(values(decode_image(png, ImageReadMode::Unchanged)) == v);
  CHECK(values(decode_image(png, ImageReadMode::Gray)) == gray);
  std::vector<double> ga = gray;
  ga.insert(ga.end(), alpha.begin(), alpha.end());
  CHECK(values(decode_image(png, ImageReadMode::GrayAlpha)) == ga);
  CHECK(values(decode_image(png, ImageReadMode::RGB)) == std::vector<double>(v.begin(), v.begin() + 3 * hw));

  // Gray to colour repeats the value; an added alpha is opaque.
  const Tensor g = pattern(1, 3, 5);
  const std::vector<double> gv = values(g);
  std::vector<double> rgba_from_gray;
  for (int k = 0; k < 3; ++k) rgba_from_gray.insert(rgba_from_gray.end(), gv.begin(), gv.end());
  rgba_from_gray.insert(rgba_from_gray.end(), hw, 255.0);
  CHECK(values(decode_image(encode_png(g), ImageReadMode::RGBA)) == rgba_from_gray);

  CHECK(parse_image_read_mode("RGB") == ImageReadMode::RGB);
  CHECK(parse_image_read_mode("rgba") == ImageReadMode::RGBA);
  CHECK(parse_image_read_mode(image_read_mode_name(ImageReadMode::GrayAlpha)) == ImageReadMode::GrayAlpha);
  CHECK(error_kind([] { parse_image_read_mode("cmyk"); }) == ErrorKind::Value);
}

TEST_CASE("image_io: PNG files from other encoders", "[multimodal][image_io]") {
  SECTION("palette with tRNS -> RGBA") {
    const Tensor t = read_image(kImages + "palette_trns.png");
    REQUIRE(t.sizes() == Shape{4, 4, 6});
    const int32_t colors[4][4] = {{255, 0, 0, 128}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 0}};
    std::vector<double> expect(4 * 24);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x)
        for (int c = 0; c < 4; ++c) expect[c * 24 + y * 6 + x] = colors[(x + y) % 4][c];
    CHECK(values(t) == expect);
    CHECK(read_image(kImages + "palette_trns.png", ImageReadMode::RGB).sizes() == Shape{3, 4, 6});
  }
  SECTION("16-bit gray, scaled to 8 bits with rounding") {
    const Tensor t = read_image(kImages + "gray16.png");
    REQUIRE(t.sizes() == Shape{1, 3, 5});
    std::vector<double> expect;
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) expect.push_back(std::floor((1000.0 * x + 20000.0 * y + 7) / 257 + 0.5));
    CHECK(values(t) == expect);
  }
  SECTION("16-bit RGBA, Adam7-interlaced") {
    const Tensor t = read_image(kImages + "rgba16_adam7.png");
    REQUIRE(t.sizes() == Shape{4, 5, 7});
    std::vector<double> expect(4 * 35);
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 7; ++x) {
        const double v[4] = {9000.0 * x + 13, 12000.0 * y + 5, 65535.0 - 4000 * (x + y), 60000.0 - 1000 * x};
        for (int c = 0; c < 4; ++c) expect[c * 35 + y * 7 + x] = std::floor(v[c] / 257 + 0.5);
      }
    CHECK(values(t) == expect);
  }
  SECTION("2-bit gray, expanded to 0, 85, 170, 255") {
    const Tensor t = read_image(kImages + "gray2.png");
    REQUIRE(t.sizes() == Shape{1, 2, 9});
    std::vector<double> expect;
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 9; ++x) expect.push_back(85.0 * ((x + y) % 4));
    CHECK(values(t) == expect);
  }
}

TEST_CASE("image_io: JPEG files from another encoder", "[multimodal][image_io]") {
  const Tensor base = read_image(kImages + "rgb_baseline.jpg");
  const Tensor prog = read_image(kImages + "rgb_progressive.jpg");
  REQUIRE(base.sizes() == Shape{3, 16, 16});
  // Progressive only reorders the same quantised coefficients.
  CHECK(values(prog) == values(base));
  std::vector<double> expect(3 * 256);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) {
      expect[y * 16 + x] = 15 * x;
      expect[256 + y * 16 + x] = 15 * y;
      expect[512 + y * 16 + x] = 128 + 4 * (x - y);
    }
  CHECK(max_abs_diff(values(base), expect) <= 12);  // quality 95 with 4:2:0 chroma

  const Tensor gray = read_image(kImages + "gray.jpg");
  REQUIRE(gray.sizes() == Shape{1, 8, 16});
  std::vector<double> gexpect;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) gexpect.push_back(15 * x + 2 * y);
  CHECK(max_abs_diff(values(gray), gexpect) <= 4);
  CHECK(read_image(kImages + "gray.jpg", ImageReadMode::RGB).sizes() == Shape{3, 8, 16});

  const std::string cmyk = kImages + "cmyk.jpg";
  CHECK(error_kind([&] { read_image(cmyk); }) == ErrorKind::NotImplemented);
  check_error([&] { read_image(cmyk); }, {"read_image", "cmyk.jpg", "CMYK"});
}

TEST_CASE("image_io: JPEG round trips stay close", "[multimodal][image_io]") {
  std::vector<float> v;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 20; ++x) v.push_back(static_cast<float>(0.2 + 0.6 * (c * 0.3 + x / 40.0 + y / 60.0) / 1.6));
  const Tensor img = from_vector(v, {3, 24, 20});
  const Tensor back = decode_image(encode_jpeg(img, 95)).to(DType::Float32) / 255.0;
  CHECK(max_abs_diff(values(back), values(img)) <= 6.0 / 255);
  const Tensor g = img.narrow(0, 0, 1);
  CHECK(max_abs_diff(values(decode_image(encode_jpeg(g, 95)).to(DType::Float32) / 255.0), values(g)) <= 4.0 / 255);
  CHECK(encode_jpeg(img, 10).size() < encode_jpeg(img, 100).size());
}

TEST_CASE("image_io: missing, empty and foreign files raise naming the path", "[multimodal][image_io]") {
  const fs::path dir = temp_dir("errors");
  check_error([&] { read_image((dir / "missing.png").string()); }, {"read_image", "missing.png", "No such file"});
  check_error([&] { read_image(dir.string()); }, {"read_image", "directory"});
  write_bytes(dir / "empty.png", {});
  check_error([&] { read_image((dir / "empty.png").string()); }, {"read_image", "empty.png", "empty"});
  write_bytes(dir / "text.png", {'h', 'e', 'l', 'l', 'o'});
  check_error([&] { read_image((dir / "text.png").string()); }, {"read_image", "text.png", "not a PNG or JPEG"});
  write_bytes(dir / "anim.gif", {'G', 'I', 'F', '8', '9', 'a', 0, 0});
  CHECK(error_kind([&] { read_image((dir / "anim.gif").string()); }) == ErrorKind::NotImplemented);
  check_error([] { decode_image(std::vector<uint8_t>{}); }, {"decode_image", "empty"});
  check_error([] { read_image(""); }, {"read_image", "empty path"});
  fs::remove_all(dir);
}

TEST_CASE("image_io: every truncation of a PNG or JPEG raises", "[multimodal][image_io]") {
  for (const std::string name : {"rgba16_adam7.png", "palette_trns.png", "rgb_progressive.jpg", "gray.jpg"}) {
    INFO(name);
    const std::vector<uint8_t> bytes = file_bytes(kImages + name);
    REQUIRE_NOTHROW(decode_image(bytes));
    for (size_t n = 1; n < bytes.size(); ++n) {
      INFO("first " << n << " bytes");
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS(decode_image(cut), Error);
    }
  }
  const fs::path dir = temp_dir("truncated");
  const std::vector<uint8_t> png = encode_png(pattern(3, 16, 16));
  const auto half = static_cast<std::ptrdiff_t>(png.size()) / 2;
  write_bytes(dir / "cut.png", std::vector<uint8_t>(png.begin(), png.begin() + half));
  check_error([&] { read_image((dir / "cut.png").string()); }, {"read_image", "cut.png", "truncated"});
  const std::vector<uint8_t> jpg = file_bytes(kImages + "rgb_baseline.jpg");
  write_bytes(dir / "cut.jpg", std::vector<uint8_t>(jpg.begin(), jpg.end() - 40));
  check_error([&] { read_image((dir / "cut.jpg").string()); }, {"read_image", "cut.jpg", "JPEG"});
  fs::remove_all(dir);
}

TEST_CASE("image_io: corrupt bytes raise or decode, never crash", "[multimodal][image_io]") {
  const std::vector<uint8_t> png = encode_png(pattern(3, 6, 6));
  std::vector<uint8_t> bad = png;
  bad[bad.size() - 20] ^= 0xff;  // inside the IDAT data: the CRC no longer matches
  check_error([&] { decode_image(bad); }, {"decode_image", "PNG"});
  for (const std::string name : {"palette_trns.png", "rgb_baseline.jpg"}) {
    const std::vector<uint8_t> bytes = file_bytes(kImages + name);
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
        std::vector<uint8_t> b = bytes;
        b[i] ^= flip;
        try {
          const Tensor t = decode_image(b);
          CHECK(t.dim() == 3);
        } catch (const Error&) {
        }
      }
    }
  }
}

TEST_CASE("image_io: bad tensors and arguments raise naming the function", "[multimodal][image_io]") {
  check_error([] { encode_png(zeros({4, 4})); }, {"encode_png", "[C, H, W]", "unsqueeze"});
  check_error([] { encode_png(zeros({5, 2, 2})); }, {"encode_png", "channels", "[5, 2, 2]"});
  check_error([] { encode_png(zeros({3, 0, 2})); }, {"encode_png", "[3, 0, 2]"});
  CHECK(error_kind([] { encode_png(zeros({3, 2, 2}, TensorOptions(DType::Bool))); }) == ErrorKind::Type);
  check_error([] { encode_png(full({1, 2, 2}, 256, TensorOptions(DType::Int32))); }, {"encode_png", "0..255", "256"});
  check_error([] { encode_png(full({1, 2, 2}, -1, TensorOptions(DType::Int64))); }, {"encode_png", "-1"});
  check_error([] { encode_png(full({1, 2, 2}, std::nan(""))); }, {"encode_png", "NaN"});
  CHECK(error_kind([] { encode_png(zeros({1, 2, 2}), 10); }) == ErrorKind::Value);
  CHECK(error_kind([] { encode_png(zeros({1, 2, 2}), -1); }) == ErrorKind::Value);
  check_error([] { encode_png(Tensor()); }, {"encode_png", "undefined"});
  check_error([] { encode_jpeg(zeros({4, 2, 2})); }, {"encode_jpeg", "1 (gray) or 3 (RGB)"});
  CHECK(error_kind([] { encode_jpeg(zeros({3, 2, 2}), 0); }) == ErrorKind::Value);
  CHECK(error_kind([] { encode_jpeg(zeros({3, 2, 2}), 101); }) == ErrorKind::Value);
  check_error([] { write_png(zeros({2, 2}), "/tmp/loom_never_written.png"); }, {"write_png", "loom_never_written.png"});
  CHECK_FALSE(fs::exists("/tmp/loom_never_written.png"));
}
