// multimodal/metrics.h on hand-made cases whose answers are worked out in
// the comments: top-k search (order, ties, blocks), the retrieval report with
// several captions per image (R@k, median rank, MRR, mAP both ways, ties
// against the query), zero-shot classification with one or several prompts
// per class, VQA accuracy per question type, the confusion matrix and
// grouped accuracy, and the errors for bad input.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "multimodal/metrics.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;

namespace {

Tensor mat(std::vector<double> v, int64_t rows, int64_t cols) {
  return from_vector(v, {rows, cols}).to(DType::Float32);
}
Tensor ids(std::vector<int64_t> v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }
std::vector<int64_t> as_ids(const Tensor& t) {
  std::vector<int64_t> out;
  for (double v : t.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

}  // namespace

TEST_CASE("topk_search: best first, ties by lower index, cosine or dot, both directions", "[metrics]") {
  const Tensor index = mat({1, 0, 0, 1, 1, 1, -1, 0}, 4, 2);
  const TopK r = topk_search(mat({2, 0}, 1, 2), index, 3);
  REQUIRE(r.indices.sizes() == Shape{1, 3});
  CHECK(r.indices.dtype() == DType::Int64);
  CHECK(r.scores.dtype() == DType::Float32);
  CHECK(as_ids(r.indices) == std::vector<int64_t>{0, 2, 1});  // cos 1, 0.707, 0 (and -1 left out)
  test::check_close(r.scores, {1.0, std::sqrt(0.5), 0.0}, 1e-6, 0);

  // Ties keep the lower index first.
  const TopK tie = topk_search(mat({1, 0}, 1, 2), mat({0, 1, 3, 0, 1, 0}, 3, 2), 3);
  CHECK(as_ids(tie.indices) == std::vector<int64_t>{1, 2, 0});

  // normalize = false ranks by the dot product.
  const TopK dot = topk_search(mat({1, 0}, 1, 2), mat({1, 0, 3, 5, 2, 0}, 3, 2), 2, false);
  CHECK(as_ids(dot.indices) == std::vector<int64_t>{1, 2});
  test::check_close(dot.scores, {3.0, 2.0}, 0, 0);

  // Directions: texts query images and images query texts.
  const Tensor img = mat({1, 0, 0, 1}, 2, 2), txt = mat({0, 1, 1, 0.1, 1, 1}, 3, 2);
  CHECK(as_ids(search_text_to_image(img, txt, 1).indices) == std::vector<int64_t>{1, 0, 0});
  CHECK(as_ids(search_image_to_text(img, txt, 2).indices) == std::vector<int64_t>{1, 2, 0, 2});

  CHECK(test::error_kind([&] { topk_search(img, txt, 0); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { topk_search(img, txt, 4); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { topk_search(img, rand({3, 5}), 1); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { topk_search(img, ones({3, 2}, DType::Int64), 1); }) == ErrorKind::Type);
}

TEST_CASE("topk_search: a large index is searched in blocks of queries", "[metrics]") {
  manual_seed(3);
  const int64_t nq = 70, ni = int64_t{1} << 17;  // blocks of 32 queries
  const Tensor q = randn({nq, 4}), d = randn({ni, 4});
  const TopK r = topk_search(q, d, 5, false);
  const Tensor sim = q.matmul(d.t());
  const std::vector<double> s = r.scores.to_vector();
  const std::vector<int64_t> idx = as_ids(r.indices);
  const std::vector<double> best = sim.amax({1}).to_vector();
  // A block's matmul may round differently from the whole one: compare to 1e-5
  // or, for a score past about 0.84, to 100 float epsilons of it.
  const auto check_score = [](double got, double want) {
    test::check_close(got, want, std::max(1e-5, test::kTightRtol * std::fabs(want)), 0);
  };
  for (int64_t i = 0; i < nq; ++i) {
    check_score(s[i * 5], best[i]);
    for (int64_t j = 0; j < 5; ++j) {
      check_score(s[i * 5 + j], sim.select(0, i).select(0, idx[i * 5 + j]).item<double>());
      if (j) CHECK(s[i * 5 + j - 1] >= s[i * 5 + j]);
    }
  }
}

TEST_CASE("retrieval_report: several captions per image, both directions", "[metrics]") {
  // Images e0, e1, e2. Captions and their images:
  //   t0 = e0          (image 0): sims (1, 0, 0)          -> rank 1
  //   t1 = e1          (image 0): sims (0, 1, 0)          -> rank 3 (image 2 ties at 0: counts against)
  //   t2 = e1 + e0/2   (image 1): sims (.45, .89, 0)      -> rank 1
  //   t3 = e0 + e2/2   (image 2): sims (.89, 0, .45)      -> rank 2
  //   t4 = e2          (image 2): sims (0, 0, 1)          -> rank 1
  const Tensor img = mat({1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3);
  const Tensor txt = mat({1, 0, 0, 0, 1, 0, 0.5, 1, 0, 1, 0, 0.5, 0, 0, 1}, 5, 3);
  const RetrievalMetrics m = retrieval_report(img, txt, ids({0, 0, 1, 2, 2}));

  const RetrievalScores& t2i = m.text_to_image;
  CHECK(t2i.queries == 5);
  test::check_close(t2i.recall_at(1), 3.0 / 5, 0, test::kTightRtol);
  CHECK(t2i.recall_at(5) == 1.0);
  CHECK(t2i.recall_at(10) == 1.0);
  CHECK(t2i.median_rank == 1.0);
  test::check_close(t2i.mean_reciprocal_rank, (1 + 1.0 / 3 + 1 + 0.5 + 1) / 5, 0, test::kTightRtol);
  test::check_close(t2i.mean_average_precision, t2i.mean_reciprocal_rank, 0,
                    test::kTightRtol);  // one image per caption

  // Image queries over the 5 captions:
  //   image 0 (captions t0, t1): t0 first -> rank 1; order t0, t3, t2, t4, t1 (t4 ties t1 at 0 and
  //                              goes first) -> AP = (1/1 + 2/5) / 2 = 0.7
  //   image 1 (caption t2): t1 scores 1 > 0.89 -> rank 2, AP 1/2
  //   image 2 (captions t3, t4): t4, t3 first -> rank 1, AP 1
  const RetrievalScores& i2t = m.image_to_text;
  CHECK(i2t.queries == 3);
  test::check_close(i2t.recall_at(1), 2.0 / 3, 0, test::kTightRtol);
  CHECK(i2t.recall_at(5) == 1.0);
  CHECK(i2t.median_rank == 1.0);
  test::check_close(i2t.mean_reciprocal_rank, (1 + 0.5 + 1) / 3, 0, test::kTightRtol);
  test::check_close(i2t.mean_average_precision, (0.7 + 0.5 + 1) / 3, 0, test::kTightRtol);

  const auto flat = retrieval_summary(m);
  test::check_close(flat.at("t2i_R@1"), 0.6, 0, test::kTightRtol);
  test::check_close(flat.at("i2t_mAP"), (0.7 + 0.5 + 1) / 3, 0, test::kTightRtol);
  CHECK(flat.at("i2t_median_rank") == 1.0);
  CHECK(flat.at("t2i_queries") == 5);
  CHECK(flat.size() == 2 * (3 + 4));

  // An image without captions is left out of image -> text.
  const RetrievalMetrics partial = retrieval_report(img, txt, ids({0, 0, 2, 2, 2}), {1});
  CHECK(partial.image_to_text.queries == 2);

  CHECK(test::error_kind([&] { retrieval_report(img, txt, ids({0, 0, 1, 2, 3})); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { retrieval_report(img, txt, ids({0, 0, 1, 2})); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { retrieval_report(img, txt, zeros({5})); }) == ErrorKind::Type);
  CHECK(test::error_kind([&] { retrieval_report(img, txt, ids({0, 0, 1, 2, 2}), {0}); }) == ErrorKind::Value);
}

TEST_CASE("retrieval_report: ties count against the query; a collapsed model gets the worst ranks", "[metrics]") {
  // Every embedding is the same: each caption ties with all three images.
  const Tensor same = ones({3, 4});
  const RetrievalMetrics m = retrieval_report(same, ones({6, 4}), ids({0, 0, 1, 1, 2, 2}));
  CHECK(m.text_to_image.recall_at(1) == 0.0);
  CHECK(m.text_to_image.median_rank == 3.0);
  CHECK(m.image_to_text.median_rank == 5.0);  // 4 tied captions of other images go first
  test::check_close(m.image_to_text.mean_average_precision, (1.0 / 5 + 2.0 / 6) / 2, 0, test::kTightRtol);
}

TEST_CASE("zero-shot: one prompt or several per class, ties to the lower class", "[metrics]") {
  const Tensor prompts = mat({1, 0, 0, 1}, 2, 2);
  const Tensor images = mat({1, 0, 0, 1, 1, 1.1, 1, 1}, 4, 2);
  CHECK(as_ids(zero_shot_classify(images, prompts)) == std::vector<int64_t>{0, 1, 1, 0});
  CHECK(zero_shot_accuracy(images, prompts, ids({0, 1, 0, 0})) == 0.75);  // 3 of 4
  const Tensor logits = zero_shot_logits(images, prompts);
  REQUIRE(logits.sizes() == Shape{4, 2});
  test::check_close(logits.select(0, 2), {1 / std::sqrt(2.21), 1.1 / std::sqrt(2.21)}, 1e-6, 0);

  // [C, P, D]: each prompt normalised, averaged, normalised again. Class 0's
  // prompts (1, 0) and (0, 3) average to the direction (1, 1); class 1's
  // prompts (-1, 0) and (0, -1) to (-1, -1).
  const Tensor ensemble = from_vector(std::vector<double>{1, 0, 0, 3, -1, 0, 0, -1}, {2, 2, 2});
  const Tensor img = mat({2, 1, -1, -3}, 2, 2);
  test::check_close(zero_shot_logits(img, ensemble).select(1, 0), {3 / std::sqrt(10.0), -4 / std::sqrt(20.0)}, 1e-6, 0);
  CHECK(as_ids(zero_shot_classify(img, ensemble)) == std::vector<int64_t>{0, 1});

  CHECK(test::error_kind([&] { zero_shot_accuracy(images, prompts, ids({0, 1, 2, 0})); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { zero_shot_classify(images, rand({2, 3})); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { zero_shot_classify(images, rand({2})); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { zero_shot_accuracy(images, prompts, ids({0, 1})); }) == ErrorKind::Runtime);
}

TEST_CASE("vqa_accuracy: overall and per question type, from strings or answer ids", "[metrics]") {
  const std::vector<std::string> pred{"red", "2", "yes", "circle", "no"};
  const std::vector<std::string> truth{"red", "3", "yes", "square", "no"};
  const std::vector<std::string> types{"color", "count", "exist", "shape", "exist"};
  const VqaAccuracy a = vqa_accuracy(pred, truth, types);
  test::check_close(a.overall, 0.6, 0, test::kTightRtol);
  CHECK(a.count == 5);
  CHECK(a.per_type == std::map<std::string, double>{{"color", 1.0}, {"count", 0.0}, {"exist", 1.0}, {"shape", 0.0}});
  CHECK(a.type_counts.at("exist") == 2);
  CHECK(vqa_accuracy(pred, truth).per_type.empty());

  // Answer scores [N, A]: the argmax is the prediction.
  const Tensor scores = mat({0.9, 0.1, 0.2, 0.3, 0.1, 0.8}, 3, 2);
  const VqaAccuracy b = vqa_accuracy(scores, ids({0, 0, 1}), {"a", "b", "b"});
  test::check_close(b.overall, 2.0 / 3, 0, test::kTightRtol);
  CHECK(b.per_type.at("a") == 1.0);
  CHECK(b.per_type.at("b") == 0.5);
  CHECK(vqa_accuracy(ids({4, 5}), ids({4, 4})).overall == 0.5);

  CHECK(test::error_kind([&] { vqa_accuracy(pred, {"red"}, types); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { vqa_accuracy(pred, truth, {"color"}); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { vqa_accuracy(std::vector<std::string>{}, {}, {}); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { vqa_accuracy(zeros({3}), ids({0, 0, 1})); }) == ErrorKind::Type);
}

TEST_CASE("confusion_matrix: rows are true classes, columns predictions", "[metrics]") {
  const Tensor pred = ids({0, 1, 1, 2, 2, 0}), target = ids({0, 1, 2, 2, 1, 0});
  const Tensor cm = confusion_matrix(pred, target, 3);
  REQUIRE(cm.sizes() == Shape{3, 3});
  CHECK(cm.dtype() == DType::Int64);
  test::check_close(cm, {2, 0, 0, 0, 1, 1, 0, 1, 1}, 0, 0);
  test::check_close(confusion_matrix(pred, target), cm, 0, 0);  // 3 classes inferred
  test::check_close(confusion_matrix(ids({3}), ids({0}), 5).sum({1}), {1, 0, 0, 0, 0}, 0, 0);
  // Scores [N, C] are reduced to their argmax.
  test::check_close(confusion_matrix(mat({0.1, 0.9, 0.8, 0.2}, 2, 2), ids({1, 1}), 2), {0, 0, 1, 1}, 0, 0);
  CHECK(test::error_kind([&] { confusion_matrix(pred, target, 2); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { confusion_matrix(ids({0, -1}), ids({0, 0}), 2); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { confusion_matrix(pred, ids({0, 1})); }) == ErrorKind::Runtime);
}

TEST_CASE("grouped_accuracy: per group, their mean and harmonic mean", "[metrics]") {
  // group 0: 3 of 4 right; group 7: 1 of 2.
  const Tensor pred = ids({0, 1, 1, 0, 1, 1}), target = ids({0, 1, 0, 0, 0, 1}), groups = ids({0, 0, 0, 0, 7, 7});
  const GroupedAccuracy g = grouped_accuracy(pred, target, groups);
  test::check_close(g.overall, 4.0 / 6, 0, test::kTightRtol);
  CHECK(g.count == 6);
  CHECK(g.per_group == std::map<int64_t, double>{{0, 0.75}, {7, 0.5}});
  CHECK(g.group_counts == std::map<int64_t, int64_t>{{0, 4}, {7, 2}});
  CHECK(g.mean_over_groups == 0.625);  // (3/4 + 1/2) / 2, exact in binary
  test::check_close(g.harmonic_mean, 0.6, 0, test::kTightRtol);
  CHECK(grouped_accuracy(ids({1, 0}), ids({1, 1}), ids({0, 1})).harmonic_mean == 0.0);
  CHECK(test::error_kind([&] { grouped_accuracy(pred, target, ids({0, 1})); }) == ErrorKind::Runtime);
  CHECK(test::error_kind([&] { grouped_accuracy(ids({}), ids({}), ids({})); }) == ErrorKind::Value);
}
