// ImageCaptionFolder and transforms::resize_bilinear of image_folder.h: CSV
// (quoted commas, doubled quotes, line breaks, optional labels) and JSONL
// (caption lists, escapes, null labels) captions files over a temporary
// folder of PNG and JPEG images, shared image ids, lazy reading and the
// cache, tokens, batching through DataLoader, and the errors for bad files.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "multimodal/image_folder.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;
using loom::test::check_close;
using loom::test::check_error;
using loom::test::error_kind;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("loom_test_image_folder_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// A solid h x w RGB image of value v (0..255) in every channel.
Tensor solid(int64_t h, int64_t w, int v) { return full({3, h, w}, v, TensorOptions(DType::Int32)); }

// A folder with a.png (4 x 6, value 10), b.jpg (8 x 8, value 200) and
// sub/c.png (gray 2 x 3, value 60).
fs::path make_folder(const std::string& name) {
  const fs::path dir = temp_dir(name);
  write_png(solid(4, 6, 10), (dir / "a.png").string());
  write_jpeg(solid(8, 8, 200), (dir / "b.jpg").string(), 100);
  fs::create_directories(dir / "sub");
  write_png(full({1, 2, 3}, 60, TensorOptions(DType::Int32)), (dir / "sub" / "c.png").string());
  return dir;
}

}  // namespace

TEST_CASE("resize_bilinear: half-pixel centres when enlarging, a widened filter when shrinking",
          "[multimodal][image_folder]") {
  // [0, 1] -> 4 samples at source x = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  const Tensor row = from_vector(std::vector<float>{0.f, 1.f}, {1, 1, 2});
  check_close(transforms::resize_bilinear(row, {1, 4}), std::vector<double>{0, 0.25, 0.75, 1});
  // Shrinking 4 -> 2: output 0 is centred at 1.0, the triangle has radius 2,
  // weights 0.75, 0.75, 0.25 on inputs 0, 1, 2.
  const Tensor line = from_vector(std::vector<double>{0, 4, 8, 12}, {1, 1, 4});
  check_close(transforms::resize_bilinear(line, {1, 2}),
              std::vector<double>{(0.75 * 4 + 0.25 * 8) / 1.75, (0.25 * 4 + 0.75 * 8 + 0.75 * 12) / 1.75});
  // A constant stays constant at every size; the same size is a copy.
  const Tensor c = full({2, 3, 5, 7}, 0.25);
  for (Shape s : {Shape{2, 3}, Shape{9}, Shape{5, 7}, Shape{1, 1}, Shape{13, 2}}) {
    const Tensor r = transforms::resize_bilinear(c, s);
    CHECK(r.sizes() == Shape{2, 3, s[0], s.back()});
    check_close(r, std::vector<double>(static_cast<size_t>(r.numel()), 0.25));
  }
  Tensor x = rand({3, 4, 4});
  Tensor same = transforms::resize_bilinear(x, {4, 4});
  check_close(same, x);
  same.fill_(0.0);
  CHECK(x.sum().item<double>() > 0);

  check_error([] { transforms::resize_bilinear(zeros({4, 4}), {2}); }, {"resize_bilinear", "[C, H, W]"});
  CHECK(error_kind([] {
          transforms::resize_bilinear(zeros({1, 4, 4}, TensorOptions(DType::Int32)), {2});
        }) == ErrorKind::Type);
  CHECK(error_kind([] { transforms::resize_bilinear(zeros({1, 4, 4}), {0, 2}); }) == ErrorKind::Value);
}

TEST_CASE("ImageCaptionFolder: CSV with quoted fields, labels and shared images", "[multimodal][image_folder]") {
  const fs::path dir = make_folder("csv");
  write_text(dir / "captions.csv",
             "\xEF\xBB\xBFimage,caption,label\n"
             "a.png,a red square,1\r\n"
             "b.jpg,\"a dog, running\",2\n"
             "a.png,\"the \"\"same\"\" square\",\n"
             "sub/c.png, \"two\nlines\" ,3\n"
             "\n"
             "./b.jpg,  plain  \n");
  ImageCaptionFolder ds((dir / "captions.csv").string());
  REQUIRE(ds.size() == 5);
  CHECK(ds.num_images() == 3);
  CHECK(ds.caption(0) == "a red square");
  CHECK(ds.caption(1) == "a dog, running");
  CHECK(ds.caption(2) == "the \"same\" square");
  CHECK(ds.caption(3) == "two\nlines");
  CHECK(ds.caption(4) == "plain");
  CHECK(std::vector<int64_t>{ds.label(0), ds.label(1), ds.label(2), ds.label(3), ds.label(4)} ==
        std::vector<int64_t>{1, 2, -1, 3, -1});
  // Rows naming the same file share its id, also when spelled differently.
  CHECK(std::vector<int64_t>{ds.image_id(0), ds.image_id(1), ds.image_id(2), ds.image_id(3), ds.image_id(4)} ==
        std::vector<int64_t>{0, 1, 0, 2, 1});
  CHECK(ds.image_ids().to_vector() == std::vector<double>{0, 1, 0, 2, 1});
  CHECK_THAT(ds.image_path(2), ContainsSubstring("sub/c.png"));

  const Example a = ds.get(0);
  CHECK(a.image.dtype() == DType::Float32);
  CHECK(a.image.sizes() == Shape{3, 4, 6});
  check_close(a.image, std::vector<double>(72, 10.0 / 255));
  CHECK(a.caption == "a red square");
  CHECK(a.label == 1);
  CHECK_FALSE(a.tokens.defined());
  const Example c = ds.get(3);  // a gray file read as RGB
  CHECK(c.image.sizes() == Shape{3, 2, 3});
  check_close(c.image, std::vector<double>(18, 60.0 / 255));
  const Example b = ds.get(1);
  CHECK(b.image.sizes() == Shape{3, 8, 8});
  check_close(b.image, std::vector<double>(192, 200.0 / 255), 2.0 / 255);
  CHECK(error_kind([&] { ds.get(5); }) == ErrorKind::Index);
  CHECK(error_kind([&] { ds.image_id(-1); }) == ErrorKind::Index);
  fs::remove_all(dir);
}

TEST_CASE("ImageCaptionFolder: JSONL with caption lists, a root, a size, tokens and the cache",
          "[multimodal][image_folder]") {
  const fs::path dir = make_folder("jsonl");
  fs::create_directories(dir / "meta");
  write_text(dir / "meta" / "captions.jsonl",
             "{\"image\": \"a.png\", \"caption\": [\"a red square\", \"a small \\\"box\\\"\"], \"label\": 4}\n"
             "\n"
             "{\"id\": {\"nested\": [1, 2.5e3, true, null]}, \"image\": \"sub/c.png\", "
             "\"caption\": \"gray \\u00e9\\ud83d\\ude00\", \"label\": null}\n"
             "{\"image\": \"" +
                 (dir / "b.jpg").string() + "\", \"caption\": \"a dog\"}\n");
  auto tok = std::make_shared<WordTokenizer>();
  tok->build({"a red square", "a dog"});
  ImageCaptionFolderOptions o;
  o.root = dir.string();
  o.size = {5, 7};
  o.tokenizer = tok;
  o.max_len = 6;
  o.cache = true;
  auto ds = std::make_shared<ImageCaptionFolder>((dir / "meta" / "captions.jsonl").string(), o);
  REQUIRE(ds->size() == 4);
  CHECK(ds->num_images() == 3);
  CHECK(ds->caption(1) == "a small \"box\"");
  CHECK(ds->caption(2) == "gray \xC3\xA9\xF0\x9F\x98\x80");
  CHECK(ds->image_id(0) == ds->image_id(1));
  CHECK(ds->image_id(2) != ds->image_id(0));
  CHECK(std::vector<int64_t>{ds->label(0), ds->label(1), ds->label(2), ds->label(3)} ==
        std::vector<int64_t>{4, 4, -1, -1});

  const Example e = ds->get(0);
  CHECK(e.image.sizes() == Shape{3, 5, 7});
  check_close(e.image, std::vector<double>(105, 10.0 / 255));
  REQUIRE(e.tokens.defined());
  CHECK(e.tokens.sizes() == Shape{6});
  CHECK(tok->decode(e.tokens) == "a red square");
  // The cache hands back the decoded image of the first read.
  CHECK(ds->get(1).image.data_ptr() == e.image.data_ptr());

  DataLoader loader(ds, 3);
  const Batch batch = loader.batch(0);
  CHECK(batch.images.sizes() == Shape{3, 3, 5, 7});
  CHECK(batch.tokens.sizes() == Shape{3, 6});
  CHECK(batch.labels.to_vector() == std::vector<double>{4, 4, -1});
  fs::remove_all(dir);
}

TEST_CASE("ImageCaptionFolder: reads images lazily and names the example of a bad one", "[multimodal][image_folder]") {
  const fs::path dir = make_folder("lazy");
  write_text(dir / "broken.png", "not a png");
  write_text(dir / "c.csv", "caption,image\nfine,a.png\nbroken,broken.png\n");
  ImageCaptionFolder ds((dir / "c.csv").string());
  CHECK(ds.get(0).image.sizes() == Shape{3, 4, 6});
  check_error([&] { ds.get(1); }, {"ImageCaptionFolder", "example 1", "line 3", "broken.png", "not a PNG or JPEG"});
  fs::remove_all(dir);
}

TEST_CASE("ImageCaptionFolder: bad captions files raise naming the file and line", "[multimodal][image_folder]") {
  const fs::path dir = make_folder("bad");
  const auto open = [&](const std::string& name, const std::string& text) {
    write_text(dir / name, text);
    return [path = (dir / name).string()] { ImageCaptionFolder ds(path); };
  };
  check_error([&] { ImageCaptionFolder ds((dir / "none.csv").string()); }, {"none.csv", "cannot open"});
  check_error([&] { ImageCaptionFolder ds(dir.string()); }, {"directory"});
  check_error(open("e.csv", ""), {"e.csv", "empty"});
  check_error(open("h.csv", "file,text\na.png,x\n"), {"h.csv", "line 1", "image and caption"});
  check_error(open("n.csv", "image,caption\n"), {"n.csv", "names no images"});
  check_error(open("q.csv", "image,caption\na.png,\"open\nstill open\n"), {"q.csv", "line 2", "never closed"});
  check_error(open("s.csv", "image,caption\na.png,\"a\"b\n"), {"s.csv", "line 2", "closing quote"});
  check_error(open("f.csv", "image,caption,label\na.png\n"), {"f.csv", "line 2", "fields"});
  check_error(open("l.csv", "image,caption,label\na.png,x,three\n"), {"l.csv", "line 2", "integer", "three"});
  check_error(open("m.csv", "image,caption\na.png,x\nmissing.png,y\nsub/gone.jpg,z\n"),
              {"m.csv", "2 of 3", "missing.png", "line 3", "gone.jpg"});
  check_error(open("u.csv", "image,caption\na.png,\xff\xfe\n"), {"u.csv", "line 2", "UTF-8"});
  check_error(open("j1.jsonl", "{\"image\": \"a.png\", \"caption\": \"x\"}\n{\"image\": \"a.png\"\n"),
              {"j1.jsonl", "line 2", "column"});
  check_error(open("j2.jsonl", "{\"image\": \"a.png\"}\n"), {"j2.jsonl", "line 1", "\"caption\""});
  check_error(open("j3.jsonl", "{\"image\": 3, \"caption\": \"x\"}\n"), {"j3.jsonl", "\"image\"", "number"});
  check_error(open("j4.jsonl", "{\"image\": \"a.png\", \"caption\": []}\n"), {"j4.jsonl", "empty list"});
  check_error(open("j5.jsonl", "{\"image\": \"a.png\", \"caption\": [\"x\", 1]}\n"), {"j5.jsonl", "strings"});
  check_error(open("j6.jsonl", "{\"image\": \"a.png\", \"caption\": \"x\", \"label\": 1.5}\n"),
              {"j6.jsonl", "integer", "1.5"});
  check_error(open("j7.jsonl", "[\"a.png\", \"x\"]\n"), {"j7.jsonl", "object", "list"});
  check_error(open("j8.jsonl", "{\"image\": \"a.png\", \"caption\": \"x\"} trailing\n"), {"j8.jsonl", "after"});
  check_error(open("j9.jsonl", "{\"image\": \"a.png\", \"caption\": \"\\q\"}\n"), {"j9.jsonl", "escape"});
  check_error(open("j10.jsonl", "{\"image\": \"a.png\", \"caption\": \"\\ud800\"}\n"), {"j10.jsonl", "surrogate"});
  // Deep nesting raises instead of overflowing the stack.
  check_error(open("deep.jsonl", std::string(100000, '[')), {"deep.jsonl", "deeper"});

  ImageCaptionFolderOptions o;
  o.size = {0, 3};
  check_error([&] { ImageCaptionFolder ds((dir / "m.csv").string(), o); }, {"ImageCaptionFolder", "size"});
  fs::remove_all(dir);
}
