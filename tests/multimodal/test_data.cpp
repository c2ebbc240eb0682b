// The data pipeline of multimodal/transforms.h and multimodal/data.h: image
// transforms (exact values, shapes, reproducibility per seed), the DataLoader
// (each index once per epoch, epoch-dependent shuffles, drop_last), the gzip
// and IDX reader on small fixtures (stored, fixed and dynamic DEFLATE blocks,
// two gzip members, corruption), Debian's Fashion-MNIST when it is installed,
// the captions, and the errors for bad input.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "multimodal/data.h"
#include "multimodal/transforms.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;
namespace fs = std::filesystem;

namespace {

// Element (c, r, col) of image b of a contiguous [B, C, H, W] value list.
struct Images {
  std::vector<double> v;
  int64_t B, C, H, W;
  explicit Images(const Tensor& x)
      : v(x.to_vector()), B(x.dim() == 4 ? x.size(0) : 1), C(x.size(-3)), H(x.size(-2)), W(x.size(-1)) {}
  double at(int64_t b, int64_t c, int64_t r, int64_t col) const { return v[((b * C + c) * H + r) * W + col]; }
};

// Whether image b of out is the h x w window of image b of x at (top, left)
// after padding x with `pad` zeros.
bool is_window(const Images& x, const Images& out, int64_t b, int64_t pad, int64_t top, int64_t left) {
  for (int64_t c = 0; c < out.C; ++c)
    for (int64_t r = 0; r < out.H; ++r)
      for (int64_t col = 0; col < out.W; ++col) {
        const int64_t sr = top + r - pad, sc = left + col - pad;
        const bool inside = sr >= 0 && sr < x.H && sc >= 0 && sc < x.W;
        if (out.at(b, c, r, col) != (inside ? x.at(b, c, sr, sc) : 0.0)) return false;
      }
  return true;
}

bool is_some_window(const Images& x, const Images& out, int64_t b, int64_t pad) {
  for (int64_t top = 0; top + out.H <= x.H + 2 * pad; ++top)
    for (int64_t left = 0; left + out.W <= x.W + 2 * pad; ++left)
      if (is_window(x, out, b, pad, top, left)) return true;
  return false;
}

// A dataset of n 1x2x2 images whose pixels all equal the index, captions
// "caption <i>" and labels i % 3.
std::shared_ptr<TensorPairDataset> indexed_dataset(int64_t n, std::shared_ptr<WordTokenizer> tok = nullptr) {
  std::vector<float> pixels;
  std::vector<std::string> captions;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) pixels.push_back(static_cast<float>(i));
    captions.push_back("caption " + std::to_string(i));
    labels.push_back(i % 3);
  }
  return std::make_shared<TensorPairDataset>(from_vector(pixels, {n, 1, 2, 2}), captions, from_vector(labels, {n}), tok,
                                             4);
}

std::vector<int64_t> epoch_indices(const DataLoader& loader) {
  std::vector<int64_t> seen;
  for (const Batch& b : loader) {
    const std::vector<double> px = b.images.to_vector();
    REQUIRE(b.images.sizes()[0] == static_cast<int64_t>(b.indices.size()));
    for (size_t i = 0; i < b.indices.size(); ++i) {
      CHECK(px[i * 4] == static_cast<double>(b.indices[i]));  // the image is the dataset's example
      CHECK(b.captions[i] == "caption " + std::to_string(b.indices[i]));
      CHECK(b.labels.to_vector()[i] == static_cast<double>(b.indices[i] % 3));
    }
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  }
  return seen;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("loom_test_data_" + std::to_string(getpid()) + "_" + name);
  fs::create_directories(d);
  return d;
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Six 8x8 images, gzip'd by zlib at level 9 (one dynamic-Huffman block with
// back-references); pixel(i, r, c) as fixture_pixel below.
const std::vector<uint8_t> kImagesGz = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x95, 0x8f, 0xc1, 0x0a, 0x00, 0x20, 0x08, 0x43, 0x07,
    0x41, 0xf4, 0xd9, 0xfe, 0xb9, 0x69, 0x19, 0xa5, 0xe1, 0xc1, 0x83, 0x43, 0x65, 0xec, 0x29, 0x30, 0x1a, 0x80, 0x2e,
    0x35, 0xac, 0x40, 0x0c, 0x30, 0x69, 0xa7, 0xaa, 0x93, 0x74, 0x36, 0x6d, 0x59, 0xbb, 0x2d, 0xde, 0x76, 0xd5, 0x02,
    0x9c, 0xf9, 0x09, 0xc8, 0x38, 0x31, 0x80, 0x92, 0x80, 0x8c, 0x73, 0x34, 0x39, 0x97, 0x7f, 0x5a, 0xe0, 0x14, 0xff,
    0xfd, 0x6d, 0xb5, 0x7f, 0x23, 0x67, 0x02, 0x22, 0xd2, 0xad, 0x72, 0x90, 0x01, 0x00, 0x00};
// Their labels (3 i + 1) mod 10 as two gzip members: the first 7 bytes in a
// stored block, the rest in a fixed-Huffman block.
const std::vector<uint8_t> kLabelsGz = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x03, 0x01, 0x07, 0x00, 0xf8, 0xff, 0x00, 0x00, 0x08, 0x01,
    0x00, 0x00, 0x00, 0xda, 0xf3, 0xa0, 0x15, 0x07, 0x00, 0x00, 0x00, 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x03, 0x63, 0x63, 0x64, 0x61, 0x67, 0x60, 0x66, 0x03, 0x00, 0x6e, 0x51, 0xf9, 0x9f, 0x07, 0x00, 0x00, 0x00};

int fixture_pixel(int i, int r, int c) {
  return (i * 31 + r * 7 + c * 13) % 11 < 7 ? 0 : ((i + r + c) % 2 ? 255 : 128);
}

}  // namespace

// ---------------------------------------------------------------- transforms

TEST_CASE("multimodal data: normalize is exact per channel", "[multimodal]") {
  const std::vector<double> mean = {0.485, 0.456, 0.406}, stdev = {0.229, 0.224, 0.225};
  for (DType t : {DType::Float32, DType::Float64}) {
    const Tensor x = rand({2, 3, 4, 5}, t);
    const Images xi(x);
    const Images yi(transforms::normalize(x, mean, stdev));
    REQUIRE(yi.v.size() == xi.v.size());
    for (size_t i = 0; i < xi.v.size(); ++i) {
      const size_t c = (i / 20) % 3;
      const double expected = t == DType::Float32
                                  ? static_cast<double>((static_cast<float>(xi.v[i]) - static_cast<float>(mean[c])) /
                                                        static_cast<float>(stdev[c]))
                                  : (xi.v[i] - mean[c]) / stdev[c];
      CHECK(yi.v[i] == expected);
    }
  }
  // One mean and std for every channel, on a single image.
  const Tensor x = rand({3, 2, 2}, DType::Float64);
  const std::vector<double> xv = x.to_vector(), yv = transforms::normalize(x, {0.5}, {2.0}).to_vector();
  for (size_t i = 0; i < xv.size(); ++i) CHECK(yv[i] == (xv[i] - 0.5) / 2.0);
}

TEST_CASE("multimodal data: crops, flips and resizes are shape-correct and reproducible per seed", "[multimodal]") {
  const Tensor x = rand({4, 3, 10, 12});
  const Images xi(x);

  Generator a(7), b(7), c(8);
  const Tensor ca = transforms::random_crop(x, {8, 9}, 2, a);
  REQUIRE(ca.sizes() == Shape{4, 3, 8, 9});
  CHECK(ca.to_vector() == transforms::random_crop(x, {8, 9}, 2, b).to_vector());
  CHECK(ca.to_vector() != transforms::random_crop(x, {8, 9}, 2, c).to_vector());
  const Images cai(ca);
  for (int64_t i = 0; i < 4; ++i) CHECK(is_some_window(xi, cai, i, 2));
  // A single image consumes the same draws as the first image of a batch.
  Generator d(7);
  CHECK(transforms::random_crop(x.select(0, 0), {8, 9}, 2, d).to_vector() == ca.select(0, 0).to_vector());
  CHECK(transforms::random_crop(x, {10, 12}, 0, a).to_vector() == xi.v);
  CHECK(transforms::random_crop(x, {5}, 0, a).sizes() == Shape{4, 3, 5, 5});

  const Images flipped(transforms::horizontal_flip(x));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t r = 0; r < 10; ++r)
        for (int64_t col = 0; col < 12; ++col) CHECK(flipped.at(i, ch, r, col) == xi.at(i, ch, r, 11 - col));
  CHECK(transforms::random_horizontal_flip(x, 1.0, a).to_vector() == flipped.v);
  CHECK(transforms::random_horizontal_flip(x, 0.0, a).to_vector() == xi.v);
  const Tensor many = rand({64, 1, 2, 3});
  Generator e(3), f(3);
  const Tensor fa = transforms::random_horizontal_flip(many, 0.5, e);
  CHECK(fa.to_vector() == transforms::random_horizontal_flip(many, 0.5, f).to_vector());
  int flips = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const std::vector<double> out = fa.select(0, i).to_vector(), in = many.select(0, i).to_vector();
    const std::vector<double> mirrored = transforms::horizontal_flip(many.select(0, i)).to_vector();
    CHECK((out == in || out == mirrored));
    flips += out == mirrored;
  }
  CHECK(flips > 10);
  CHECK(flips < 54);

  const Tensor cc = transforms::center_crop(x, {7, 8});
  REQUIRE(cc.sizes() == Shape{4, 3, 7, 8});
  const Images cci(cc);
  for (int64_t i = 0; i < 4; ++i) CHECK(is_window(xi, cci, i, 0, 1, 2));  // floor(3 / 2), 4 / 2
  // Results own their memory, even a crop of the whole image.
  transforms::center_crop(x, {10, 12}).fill_(0.0);
  transforms::random_crop(x.select(0, 1), {10, 12}, 0, a).fill_(0.0);
  CHECK(x.to_vector() == xi.v);

  for (const Shape& size : {Shape{4, 5}, Shape{25, 7}, Shape{1}}) {
    const Tensor r = transforms::resize_nearest(x, size);
    REQUIRE(r.sizes() == Shape{4, 3, size[0], size.back()});
    const Images ri(r);
    for (int64_t row = 0; row < ri.H; ++row)
      for (int64_t col = 0; col < ri.W; ++col) {
        const auto sr = std::min<int64_t>(static_cast<int64_t>(std::floor(row * (10.0f / ri.H))), 9);
        const auto sc = std::min<int64_t>(static_cast<int64_t>(std::floor(col * (12.0f / ri.W))), 11);
        CHECK(ri.at(3, 2, row, col) == xi.at(3, 2, sr, sc));
      }
  }

  const transforms::Transform chain =
      transforms::compose({[](const Tensor& t, Generator& g) { return transforms::random_horizontal_flip(t, 1.0, g); },
                           [](const Tensor& t, Generator& g) {
                             return transforms::random_crop(t, {6, 6}, 1, g);
                           }});
  Generator g1(11), g2(11);
  const Tensor by_hand = transforms::random_crop(transforms::random_horizontal_flip(x, 1.0, g2), {6, 6}, 1, g2);
  CHECK(chain(x, g1).to_vector() == by_hand.to_vector());
}

TEST_CASE("multimodal data: generators are reproducible and unbiased in range", "[multimodal]") {
  manual_seed(123);
  Generator a = generator_from_global();
  manual_seed(123);
  Generator b = generator_from_global();
  Generator c = generator_from_global();  // the global stream has moved on
  const uint64_t first = a();
  CHECK(first == b());
  CHECK(first != c());

  Generator g = derive_generator(5, {1, 2});
  CHECK(g() == derive_generator(5, {1, 2})());
  CHECK(derive_generator(5, {1})() != derive_generator(5, {2})());
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) ++hits[uniform_int(g, 7)];
  for (int h : hits) CHECK((h > 800 && h < 1200));
  for (int i = 0; i < 1000; ++i) {
    const double u = uniform_real(g);
    CHECK((u >= 0.0 && u < 1.0));
  }
}

TEST_CASE("multimodal data: transforms reject bad input naming the function and shape", "[multimodal]") {
  Generator g(0);
  CHECK_THAT(loom::test::error_message([] {
               transforms::normalize(rand({2, 3}), {0.5}, {0.5});
             }),
             ContainsSubstring("transforms::normalize") && ContainsSubstring("[2, 3]"));
  CHECK_THAT(
      loom::test::error_message([] {
        transforms::normalize(rand({3, 4, 4}), {0.5, 0.5}, {0.5, 0.5});
      }),
      ContainsSubstring("transforms::normalize") && ContainsSubstring("[3, 4, 4]") && ContainsSubstring("3 channels"));
  CHECK(test::error_kind([] { transforms::normalize(rand({3, 4, 4}), {0.5}, {0.0}); }) == ErrorKind::Value);
  CHECK(test::error_kind([] {
          transforms::normalize(ones({3, 4, 4}, DType::Int64), {0.5}, {1.0});
        }) == ErrorKind::Type);
  CHECK_THAT(loom::test::error_message([&] {
               transforms::random_crop(rand({3, 4, 4}), {5, 5}, 0, g);
             }),
             ContainsSubstring("transforms::random_crop") && ContainsSubstring("[3, 4, 4]"));
  CHECK(test::error_kind([&] { transforms::random_crop(rand({3, 4, 4}), {2, 2}, -1, g); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { transforms::random_crop(rand({3, 4, 4}), {2, 2, 2}, 0, g); }) == ErrorKind::Value);
  CHECK_THAT(loom::test::error_message([] {
               transforms::center_crop(rand({1, 3, 4, 4}), {4, 5});
             }),
             ContainsSubstring("transforms::center_crop") && ContainsSubstring("[1, 3, 4, 4]"));
  CHECK(test::error_kind([] { transforms::resize_nearest(rand({3, 4, 4}), {0, 2}); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { transforms::random_horizontal_flip(rand({3, 4, 4}), 1.5, g); }) == ErrorKind::Value);
  CHECK_THAT(loom::test::error_message([] { transforms::horizontal_flip(rand({5})); }),
             ContainsSubstring("transforms::horizontal_flip") && ContainsSubstring("[5]"));
  CHECK(test::error_kind([] { transforms::compose({transforms::Transform()}); }) == ErrorKind::Value);
}

// ---------------------------------------------------------------- DataLoader

TEST_CASE("multimodal data: DataLoader visits every index once per epoch", "[multimodal]") {
  auto ds = indexed_dataset(10);
  DataLoader plain(ds, 3);
  REQUIRE(plain.size() == 4);
  CHECK(epoch_indices(plain) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(plain.batch(3).images.sizes() == Shape{1, 1, 2, 2});
  CHECK(plain.batch(0).images.sizes() == Shape{3, 1, 2, 2});
  CHECK_FALSE(plain.batch(0).tokens.defined());

  DataLoader dropping(ds, 3, false, 0, true);
  CHECK(dropping.size() == 3);
  CHECK(epoch_indices(dropping) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(DataLoader(ds, 5, false, 0, true).size() == 2);
  CHECK(DataLoader(ds, 11, false, 0, true).size() == 0);

  DataLoader shuffled(ds, 4, true, 42);
  std::vector<std::vector<int64_t>> epochs;
  for (int64_t e = 0; e < 3; ++e) {
    shuffled.set_epoch(e);
    std::vector<int64_t> seen = epoch_indices(shuffled);
    CHECK(seen == shuffled.order());
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    epochs.push_back(seen);
  }
  CHECK(epochs[0] != epochs[1]);
  CHECK(epochs[1] != epochs[2]);
  // The same (seed, epoch) gives the same order; another seed another order.
  shuffled.set_epoch(1);
  CHECK(shuffled.order() == epochs[1]);
  DataLoader same(ds, 4, true, 42);
  CHECK(same.order() == epochs[0]);
  DataLoader other(ds, 4, true, 43);
  CHECK(other.order() != epochs[0]);
}

TEST_CASE("multimodal data: DataLoader stacks tokens and applies transforms per (seed, epoch, sample)",
          "[multimodal]") {
  auto tok = std::make_shared<WordTokenizer>();
  tok->build({"caption 0 1 2 3 4 5 6 7 8 9 10 11"});
  auto ds = indexed_dataset(12, tok);
  CHECK(ds->get(5).tokens.to_vector() == std::vector<double>{2, static_cast<double>(tok->token_to_id("caption")),
                                                             static_cast<double>(tok->token_to_id("5")), 3});
  DataLoader loader(ds, 5, true, 9);
  const Batch b0 = loader.batch(0);
  REQUIRE(b0.tokens.sizes() == Shape{5, 4});
  CHECK(b0.tokens.dtype() == DType::Int64);
  CHECK(b0.labels.dtype() == DType::Int64);
  for (int64_t i = 0; i < 5; ++i) CHECK(tok->decode(b0.tokens.select(0, i)) == b0.captions[i]);

  // A random crop with padding: depends on (seed, epoch, sample), not on the order batches are read.
  loader.set_transform([](const Tensor& x, Generator& g) { return transforms::random_crop(x, {2, 2}, 1, g); });
  const std::vector<double> second = loader.batch(1).images.to_vector();
  const std::vector<double> first = loader.batch(0).images.to_vector();
  CHECK(loader.batch(1).images.to_vector() == second);
  CHECK(loader.batch(0).images.to_vector() == first);
  DataLoader again(ds, 5, true, 9);
  again.set_transform([](const Tensor& x, Generator& g) { return transforms::random_crop(x, {2, 2}, 1, g); });
  CHECK(again.batch(0).images.to_vector() == first);
  again.set_epoch(1);
  CHECK(again.batch(0).images.to_vector() != first);
}

TEST_CASE("multimodal data: datasets and loaders reject bad input", "[multimodal]") {
  auto ds = indexed_dataset(4);
  CHECK(test::error_kind([&] { DataLoader(ds, 0); }) == ErrorKind::Value);
  CHECK(test::error_kind([] { DataLoader(nullptr, 2); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { DataLoader(ds, 2).batch(2); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { DataLoader(ds, 2).set_epoch(-1); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { ds->get(4); }) == ErrorKind::Index);
  CHECK_THAT(
      loom::test::error_message([] {
        TensorPairDataset(rand({3, 1, 2, 2}), {"a", "b"});
      }),
      ContainsSubstring("TensorPairDataset") && ContainsSubstring("[3, 1, 2, 2]") && ContainsSubstring("2 captions"));
  CHECK_THAT(loom::test::error_message([] {
               TensorPairDataset(rand({2, 4}), {"a", "b"});
             }),
             ContainsSubstring("TensorPairDataset") && ContainsSubstring("[2, 4]"));
  CHECK_THAT(loom::test::error_message([] {
               TensorPairDataset(rand({2, 1, 2, 2}), {"a", "b"}, zeros({3}, DType::Int64));
             }),
             ContainsSubstring("TensorPairDataset") && ContainsSubstring("labels [2]") && ContainsSubstring("[3]"));
  CHECK(test::error_kind([] { TensorPairDataset(rand({2, 1, 2, 2}), {"a", "b"}, zeros({2})); }) == ErrorKind::Type);
}

// ---------------------------------------------------------------- Fashion-MNIST

TEST_CASE("multimodal data: IDX files are read through gzip (stored, fixed, dynamic blocks; two members)",
          "[multimodal]") {
  const fs::path dir = temp_dir("idx");
  write_bytes(dir / "train-images-idx3-ubyte.gz", kImagesGz);
  write_bytes(dir / "train-labels-idx1-ubyte.gz", kLabelsGz);
  const LabelledImages d = load_fashion_mnist("train", dir.string());
  REQUIRE(d.images.sizes() == Shape{6, 1, 8, 8});
  REQUIRE(d.labels.sizes() == Shape{6});
  CHECK(d.images.dtype() == DType::Float32);
  CHECK(d.labels.dtype() == DType::Int64);
  const std::vector<double> px = d.images.to_vector();
  for (int i = 0; i < 6; ++i) {
    CHECK(d.labels.to_vector()[i] == (3 * i + 1) % 10);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        CHECK(px[(i * 8 + r) * 8 + c] == static_cast<double>(static_cast<float>(fixture_pixel(i, r, c)) / 255.0f));
  }

  // Uncompressed files are read when no .gz exists.
  std::vector<uint8_t> labels_raw = {0, 0, 8, 1, 0, 0, 0, 2, 4, 9};
  std::vector<uint8_t> images_raw = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 102};
  write_bytes(dir / "t10k-labels-idx1-ubyte", labels_raw);
  write_bytes(dir / "t10k-images-idx3-ubyte", images_raw);
  const LabelledImages t = load_fashion_mnist("test", dir.string());
  CHECK(t.images.sizes() == Shape{2, 1, 1, 2});
  CHECK(t.labels.to_vector() == std::vector<double>{4, 9});
  CHECK(t.images.to_vector()[2] == static_cast<double>(51.0f / 255.0f));

  // Corruption raises, naming the function and the file.
  std::vector<uint8_t> bad = kImagesGz;
  bad[bad.size() - 6] ^= 1;  // a CRC-32 byte
  write_bytes(dir / "train-images-idx3-ubyte.gz", bad);
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("train", dir.string()); }),
             ContainsSubstring("load_fashion_mnist") && ContainsSubstring("train-images-idx3-ubyte.gz") &&
                 ContainsSubstring("CRC-32"));
  for (size_t cut : {size_t{5}, size_t{20}, size_t{60}, kImagesGz.size() - 4}) {
    write_bytes(dir / "train-images-idx3-ubyte.gz", std::vector<uint8_t>(kImagesGz.begin(), kImagesGz.begin() + cut));
    CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("train", dir.string()); }),
               ContainsSubstring("not a valid gzip file"));
  }
  bad = kImagesGz;
  bad[14] ^= 0x5a;  // inside the dynamic block's header
  write_bytes(dir / "train-images-idx3-ubyte.gz", bad);
  CHECK(test::error_kind([&] { load_fashion_mnist("train", dir.string()); }) == ErrorKind::Runtime);

  // Labels and images that disagree, a wrong IDX layout, a missing file, a bad split.
  write_bytes(dir / "t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 3, 4, 9, 1});
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", dir.string()); }),
             ContainsSubstring("3 labels"));
  write_bytes(dir / "t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 3, 4, 9});
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", dir.string()); }),
             ContainsSubstring("bytes, expected"));
  write_bytes(dir / "t10k-labels-idx1-ubyte", {0, 0, 8, 3, 0, 0, 0, 2, 4, 9});
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", dir.string()); }), ContainsSubstring("IDX"));
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", (dir / "missing").string()); }),
             ContainsSubstring("load_fashion_mnist") && ContainsSubstring("cannot open"));
  CHECK(test::error_kind([&] { load_fashion_mnist("validation", dir.string()); }) == ErrorKind::Value);
  fs::remove_all(dir);
}

// Found by tests/fuzz/fuzz_idx (tests/fuzz/regressions/fuzz_idx/): IDX sizes
// whose product overflowed int64 (undefined behaviour), wrapping around to a
// payload that a short file matched.
TEST_CASE("multimodal data: IDX sizes that overflow raise instead of wrapping around", "[multimodal]") {
  const fs::path dir = temp_dir("idx_overflow");
  write_bytes(dir / "t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 0});
  // 0 images of 4294967295 x 4294967295 pixels: 0 bytes of pixels, but H * W overflowed.
  write_bytes(dir / "t10k-images-idx3-ubyte", {0, 0, 8, 3, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255});
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", dir.string()); }),
             ContainsSubstring("t10k-images-idx3-ubyte") && ContainsSubstring("dimension 1 of size 4294967295"));
  // 2^30 * 2^30 * 16 = 2^64 wrapped to 0, which the 16-byte header alone matched.
  write_bytes(dir / "t10k-images-idx3-ubyte", {0, 0, 8, 3, 64, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 16});
  CHECK_THAT(loom::test::error_message([&] { load_fashion_mnist("test", dir.string()); }),
             ContainsSubstring("has 16 bytes, expected 16 + more than 2^64"));
  fs::remove_all(dir);
}

TEST_CASE("multimodal data: Debian's Fashion-MNIST loads with 60000/10000 images in [0, 1]", "[multimodal]") {
  const std::string root = kFashionMnistRoot;
  if (!fs::exists(fs::path(root) / "train-images-idx3-ubyte.gz"))
    SKIP("Fashion-MNIST not installed at " << root << " (apt install dataset-fashion-mnist)");
  using Split = std::pair<std::string, int64_t>;
  for (const auto& [split, n] : {Split{"train", 60000}, Split{"test", 10000}}) {
    const LabelledImages d = load_fashion_mnist(split, root);
    REQUIRE(d.images.sizes() == Shape{n, 1, 28, 28});
    REQUIRE(d.labels.sizes() == Shape{n});
    CHECK(d.images.min().item<double>() == 0.0);
    CHECK(d.images.max().item<double>() == 1.0);
    // Balanced classes: n / 10 of each label 0..9; the first image is an ankle boot.
    const std::vector<double> labels = d.labels.to_vector();
    std::vector<int64_t> counts(10, 0);
    for (double l : labels) {
      REQUIRE((l >= 0 && l <= 9));
      ++counts[static_cast<size_t>(l)];
    }
    CHECK(counts == std::vector<int64_t>(10, n / 10));
    CHECK(labels[0] == 9);
    // The first image's pixel bytes sum to 76247 (train) and 33456 (test), as Python's gzip reads them.
    const double first_sum = d.images.select(0, 0).sum().item<double>() * 255.0;
    CHECK(std::fabs(first_sum - (split == "train" ? 76247.0 : 33456.0)) < 0.05);
  }
}

TEST_CASE("multimodal data: Fashion-MNIST captions name the class with varied templates", "[multimodal]") {
  const Tensor labels = from_vector(std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 7, 7, 7, 7, 7}, {16});
  const std::vector<std::string> caps = fashion_mnist_captions(labels, 1);
  REQUIRE(caps.size() == 16);
  CHECK(caps == fashion_mnist_captions(labels, 1));
  CHECK(caps != fashion_mnist_captions(labels, 2));
  const char* nouns[10] = {"t-shirt", "trousers", "pullover", "dress", "coat",
                           "sandal",  "shirt",    "sneaker",  "bag",   "ankle boot"};
  const std::vector<double> lv = labels.to_vector();
  for (size_t i = 0; i < caps.size(); ++i) CHECK_THAT(caps[i], ContainsSubstring(nouns[static_cast<size_t>(lv[i])]));
  CHECK_THAT(caps[9], ContainsSubstring("an ankle boot"));
  std::set<std::string> sneakers(caps.begin() + 10, caps.end());
  CHECK(sneakers.size() > 1);
  CHECK(fashion_mnist_classes().size() == 10);
  CHECK(fashion_mnist_classes()[9] == "Ankle boot");
  CHECK_THAT(loom::test::error_message([] {
               fashion_mnist_captions(from_vector(std::vector<int64_t>{3, 10}, {2}));
             }),
             ContainsSubstring("fashion_mnist_captions") && ContainsSubstring("label 10"));
  CHECK(test::error_kind([] { fashion_mnist_captions(zeros({2})); }) == ErrorKind::Type);
  CHECK_THAT(loom::test::error_message([] {
               fashion_mnist_captions(zeros({2, 2}, DType::Int64));
             }),
             ContainsSubstring("[2, 2]"));
}
