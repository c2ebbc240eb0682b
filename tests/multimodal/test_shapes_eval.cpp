// The Shapes evaluation protocol (multimodal/shapes_eval.h): caption meaning
// read back and rendered again, truth on hand-made scenes (relations at the
// margin, counts, distinct objects for "and"), every caption true of its own
// image, the oracle's ceilings, retrieval scores of perfect and of random
// embeddings, word-order probes, and bad input.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>
#include <vector>

#include "multimodal/shapes_eval.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;

namespace {

// shape / colour / size by name, centre (x, y).
ShapeObject obj(const std::string& shape, const std::string& color, const std::string& size, float x, float y) {
  auto index = [](const std::vector<std::string>& names, const std::string& n) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == n) return static_cast<int>(i);
    FAIL("no such name " << n);
    return -1;
  };
  ShapeObject o;
  o.shape = index(ShapesDataset::shape_names(), shape);
  o.color = index(ShapesDataset::color_names(), color);
  o.size = index(ShapesDataset::size_names(), size);
  o.x = x;
  o.y = y;
  o.radius = 4;
  return o;
}

bool holds(const std::string& caption, const std::vector<ShapeObject>& scene, int64_t image_size = 64) {
  return shapes_caption_true(parse_shapes_caption(caption), scene, image_size);
}

// Row r of a [rows, cols] float tensor set to one-hot(col).
Tensor one_hot_rows(const std::vector<int64_t>& cols, int64_t width) {
  std::vector<float> v(cols.size() * width, 0.0f);
  for (size_t r = 0; r < cols.size(); ++r) v[r * width + cols[r]] = 1.0f;
  return from_vector(v, {static_cast<int64_t>(cols.size()), width});
}

}  // namespace

TEST_CASE("shapes_eval: captions parse into meanings and render back to the same words") {
  ShapesDataset data(200, "test", {});
  for (int64_t i = 0; i < data.size(); ++i)
    for (const std::string& c : data.captions(i)) REQUIRE(shapes_caption_text(parse_shapes_caption(c)) == c);
  const ShapesCaptionMeaning m = parse_shapes_caption("a small red circle to the right of an orange shape");
  CHECK(m.kind == ShapesCaptionMeaning::kRelation);
  CHECK(m.axis == 0);
  CHECK(m.sign == -1);
  CHECK(m.a == ShapesPhrase{0, 0, 0});
  CHECK(m.b == ShapesPhrase{-1, 6, -1});
  const ShapesCaptionMeaning n = parse_shapes_caption("three crosses");
  CHECK(n.kind == ShapesCaptionMeaning::kCount);
  CHECK(n.count == 3);
  CHECK(n.a == ShapesPhrase{-1, -1, 4});
  CHECK(shapes_noun_phrase({-1, 6, -1}) == "an orange shape");
}

TEST_CASE("shapes_eval: truth on hand-made scenes") {
  // S = 64: relations need centres at least 8 pixels apart along the axis.
  const std::vector<ShapeObject> scene = {obj("circle", "red", "small", 10, 30), obj("square", "blue", "large", 18, 50),
                                          obj("circle", "green", "large", 40, 31)};
  CHECK(holds("a red circle", scene));
  CHECK_FALSE(holds("a blue circle", scene));
  CHECK(holds("a large shape", scene));
  CHECK(holds("two circles", scene));
  CHECK_FALSE(holds("one circle", scene));
  CHECK(holds("three shapes", scene));
  CHECK(holds("one red shape", scene));
  CHECK(holds("a circle and a circle", scene));  // two distinct circles
  CHECK_FALSE(holds("a square and a square", scene));
  CHECK(holds("a red circle to the left of a blue square", scene));            // dx = 8: exactly the margin
  CHECK_FALSE(holds("a red circle to the left of a blue square", scene, 72));  // margin 9
  CHECK(holds("a blue square to the right of a red circle", scene));
  CHECK(holds("a red circle above a blue square", scene));
  CHECK(holds("a blue square below a shape", scene));
  CHECK_FALSE(holds("a red circle above a green circle", scene));         // dy = 1
  CHECK_FALSE(holds("a red circle to the left of a red circle", scene));  // one red circle, not two

  Tensor t = shapes_caption_truth({"a red circle", "two squares"}, {scene, {obj("square", "red", "small", 5, 5)}}, 64);
  CHECK(t.sizes() == Shape{2, 2});
  CHECK(t.to_vector() == std::vector<double>{1, 0, 0, 0});
}

TEST_CASE("shapes_eval: bad captions raise naming the caption") {
  for (const char* bad : {"", "a", "a purple", "a red circle and", "a red circle beside a square", "two", "seven stars",
                          "a circle a", "the red circle"}) {
    CAPTURE(bad);
    REQUIRE_THROWS_WITH(parse_shapes_caption(bad),
                        ContainsSubstring("parse_shapes_caption") && ContainsSubstring(std::string("\"") + bad + "\""));
  }
  ShapesDataset data(10, "test", {});
  CHECK_THROWS_WITH(ShapesRetrieval(data, 11), ContainsSubstring("ShapesRetrieval") && ContainsSubstring("11"));
  ShapesRetrieval r(data, 10);
  CHECK_THROWS_WITH(r.score(zeros({9, 4}), zeros({static_cast<int64_t>(r.texts().size()), 4}), 1.0),
                    ContainsSubstring("ShapesRetrieval::score"));
}

TEST_CASE("shapes_eval: retrieval truth, ceilings and scores") {
  ShapesDataset data(120, "test", {});
  ShapesRetrieval r(data, 120);
  const int64_t N = r.size(), T = static_cast<int64_t>(r.texts().size());
  REQUIRE(r.owner().size() == r.texts().size());
  const std::vector<double> truth = r.truth().to_vector(), scene = r.scene_truth().to_vector();
  for (int64_t t = 0; t < T; ++t) REQUIRE(truth[t * N + r.owner()[t]] == 1);  // captions are true of their image
  for (int64_t i = 0; i < N; ++i) REQUIRE(scene[i * N + i] == 1);

  const auto c = r.ceilings({1, 5, N});
  CHECK(c.at("scene.images_per_query") >= 1.0);
  CHECK(c.at("caption.images_per_query") > c.at("scene.images_per_query"));  // a set fits fewer images than one caption
  CHECK(c.at("scene.text_to_image.R@1") <= c.at("scene.text_to_image.R@5"));
  CHECK(c.at("scene.text_to_image.R@" + std::to_string(N)) == 1.0);  // min(1, N / fits) = 1 for every query
  CHECK(c.at("caption.text_to_image.R@1") < c.at("scene.text_to_image.R@1"));
  CHECK(c.at("scene.image_to_text.R@1") > 0.5);

  // Perfect embeddings: each caption is its own image's direction.
  std::vector<int64_t> ids(N);
  for (int64_t i = 0; i < N; ++i) ids[i] = i;
  const Tensor image_emb = one_hot_rows(ids, N), text_emb = one_hot_rows(r.owner(), N);
  const auto s = r.score(image_emb, text_emb, 20.0, {1, 5});
  CHECK(s.metrics.at("scene.text_to_image.R@1") == 1.0);
  CHECK(s.metrics.at("scene.image_to_text.R@1") == 1.0);
  CHECK(s.metrics.at("caption.text_to_image.R@1") == 1.0);
  CHECK(s.metrics.at("scene.text_to_image.median_rank") == 1.0);
  CHECK(s.metrics.at("scene.text_to_image.top1_fits") == 1.0);
  CHECK(s.metrics.at("caption.text_to_image.top1_fits") == 1.0);
  CHECK(s.scene.sizes() == Shape{N, N});
  CHECK(s.caption_logits.sizes() == Shape{T, N});

  // Probes: rewordings parse, differ from their caption and are false of its image.
  const auto probes = r.order_probes();
  REQUIRE(probes.at("binding").size() > 10);
  REQUIRE(probes.at("relation").size() > 10);
  for (const auto& [name, list] : probes)
    for (const auto& p : list) {
      REQUIRE(p.rewording != r.texts()[p.caption]);
      REQUIRE_FALSE(
          shapes_caption_true(parse_shapes_caption(p.rewording), r.scenes()[r.owner()[p.caption]], r.image_size()));
    }
  const auto& binding = probes.at("binding");
  const int64_t P = static_cast<int64_t>(binding.size());
  CHECK(r.probe_accuracy(binding, image_emb, text_emb, zeros({P, N})) == 1.0);  // the caption always closer
  std::vector<int64_t> owners;
  for (const auto& p : binding) owners.push_back(r.owner()[p.caption]);
  CHECK(r.probe_accuracy(binding, image_emb, text_emb, one_hot_rows(owners, N)) == 0.5);  // ties
}
