// Retrieval metrics of multimodal/retrieval.h against a brute-force
// computation (sort every row, ties broken against the query, then read the
// ranks and precisions off the sorted order) on random matrices with many
// ties, the tie rule on hand-made cases, both directions of
// retrieval_metrics, queries without a match, and the errors for bad input.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "multimodal/retrieval.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;

namespace {

// Per query: the documents in ranked order (descending score, tied
// non-matches before tied matches, then by index) and which of them match.
struct BruteForce {
  std::vector<int64_t> ranks;  // 0: no match
  std::vector<double> ap;      // per query with a match

  BruteForce(const Tensor& sim, const std::vector<int64_t>& ql, const std::vector<int64_t>& dl) {
    const int64_t nq = sim.size(0), nd = sim.size(1);
    const std::vector<double> s = sim.to_vector();
    auto match = [&](int64_t q, int64_t d) { return ql.empty() ? q == d : ql[q] == dl[d]; };
    for (int64_t q = 0; q < nq; ++q) {
      std::vector<int64_t> order(nd);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const double sa = s[q * nd + a], sb = s[q * nd + b];
        if (sa != sb) return sa > sb;
        if (match(q, a) != match(q, b)) return !match(q, a);
        return a < b;
      });
      int64_t rank = 0, hits = 0;
      double precision_sum = 0;
      for (int64_t pos = 0; pos < nd; ++pos)
        if (match(q, order[pos])) {
          if (!rank) rank = pos + 1;
          precision_sum += static_cast<double>(++hits) / static_cast<double>(pos + 1);
        }
      ranks.push_back(rank);
      if (hits) ap.push_back(precision_sum / static_cast<double>(hits));
    }
  }
  std::vector<int64_t> kept() const {
    std::vector<int64_t> k;
    for (int64_t r : ranks)
      if (r) k.push_back(r);
    return k;
  }
  double recall(int64_t k) const {
    const std::vector<int64_t> r = kept();
    return static_cast<double>(std::count_if(r.begin(), r.end(), [&](int64_t x) { return x <= k; })) /
           static_cast<double>(r.size());
  }
  double median() const {
    std::vector<int64_t> r = kept();
    std::sort(r.begin(), r.end());
    const size_t n = r.size();
    return n % 2 ? static_cast<double>(r[n / 2]) : (r[n / 2 - 1] + r[n / 2]) / 2.0;
  }
  double mrr() const {
    double sum = 0;
    for (int64_t r : kept()) sum += 1.0 / static_cast<double>(r);
    return sum / static_cast<double>(kept().size());
  }
  double map() const { return std::accumulate(ap.begin(), ap.end(), 0.0) / static_cast<double>(ap.size()); }
};

// Scores drawn from {0, 0.25, ..., 1}: most rows hold ties, many at the match.
Tensor tied_scores(int64_t nq, int64_t nd, DType t) { return randint(0, 5, {nq, nd}).to(t) / 4.0; }

std::vector<int64_t> as_ints(const Tensor& t) {
  std::vector<int64_t> out;
  for (double v : t.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

}  // namespace

TEST_CASE("multimodal retrieval: diagonal metrics match brute force on tied random matrices", "[multimodal]") {
  manual_seed(2024);
  for (DType t : {DType::Float32, DType::Float64})
    for (int64_t n : {1, 2, 7, 16, 33}) {
      const Tensor sim = tied_scores(n, n, t);
      const BruteForce ref(sim, {}, {});
      INFO("n = " << n << ", " << dtype_name(t));
      CHECK(first_match_ranks(sim) == ref.ranks);
      for (int64_t k : {1, 2, 5, 40})
        test::check_close(recall_at_k(sim, k), ref.recall(k), 0, test::kTightRtol, "R@" + std::to_string(k));
      CHECK(median_rank(sim) == ref.median());
      test::check_close(mean_reciprocal_rank(sim), ref.mrr(), 0, test::kTightRtol);
    }
}

TEST_CASE("multimodal retrieval: label metrics match brute force on tied random matrices", "[multimodal]") {
  manual_seed(7);
  using Sizes = std::pair<int64_t, int64_t>;
  for (DType t : {DType::Float32, DType::Float64})
    for (auto [nq, nd] : {Sizes{1, 1}, Sizes{5, 9}, Sizes{13, 6}, Sizes{24, 31}}) {
      const Tensor sim = tied_scores(nq, nd, t);
      const Tensor dl = randint(0, 4, {nd});
      const std::vector<int64_t> dv = as_ints(dl);
      std::vector<int64_t> qv = as_ints(randint(0, 4, {nq}));
      // Every query gets at least one match (the case without is tested below).
      for (int64_t& q : qv)
        if (std::find(dv.begin(), dv.end(), q) == dv.end()) q = dv[0];
      const Tensor ql = from_vector(qv, {nq});
      const BruteForce ref(sim, qv, dv);
      INFO("nq = " << nq << ", nd = " << nd << ", " << dtype_name(t));
      CHECK(first_match_ranks(sim, ql, dl) == ref.ranks);
      for (int64_t k : {1, 3, 10})
        test::check_close(recall_at_k(sim, k, ql, dl), ref.recall(k), 0, test::kTightRtol, "R@" + std::to_string(k));
      CHECK(median_rank(sim, ql, dl) == ref.median());
      test::check_close(mean_reciprocal_rank(sim, ql, dl), ref.mrr(), 0, test::kTightRtol);
      test::check_close(mean_average_precision(sim, ql, dl), ref.map(), 0, test::kTightRtol);
    }
}

TEST_CASE("multimodal retrieval: ties count against the query", "[multimodal]") {
  // A constant similarity ranks every match last, not first.
  const Tensor flat = full({4, 4}, 0.5);
  CHECK(first_match_ranks(flat) == std::vector<int64_t>{4, 4, 4, 4});
  CHECK(recall_at_k(flat, 1) == 0.0);
  CHECK(recall_at_k(flat, 4) == 1.0);
  CHECK(median_rank(flat) == 4.0);
  CHECK(mean_reciprocal_rank(flat) == 0.25);
  const Tensor id = eye(3);
  CHECK(recall_at_k(id, 1) == 1.0);
  CHECK(median_rank(id) == 1.0);
  CHECK(mean_reciprocal_rank(id) == 1.0);

  // Query 0: its 0.5 ties one non-match and another scores higher -> rank 3.
  // Query 1: the match is strictly best -> rank 1. Query 2: worst -> rank 3.
  const Tensor sim = from_vector(std::vector<double>{0.5, 0.5, 0.9, 0.1, 0.8, 0.3, 0.2, 0.1, 0.0}, {3, 3});
  CHECK(first_match_ranks(sim) == std::vector<int64_t>{3, 1, 3});
  CHECK(median_rank(sim) == 3.0);
  CHECK(median_rank(sim.narrow(0, 0, 2).narrow(1, 0, 2)) == 1.5);  // [[.5, .5], [.1, .8]]: ranks 2, 1

  // With labels, tied matches do not hurt each other: docs {a, a, b} all at 1.
  const Tensor ones_row = ones({1, 3}, DType::Float64);
  const Tensor q = from_vector(std::vector<int64_t>{0}, {1});
  const Tensor d = from_vector(std::vector<int64_t>{0, 0, 1}, {3});
  CHECK(first_match_ranks(ones_row, q, d) == std::vector<int64_t>{2});
  test::check_close(mean_average_precision(ones_row, q, d), (1.0 / 2 + 2.0 / 3) / 2, 0, test::kTightRtol);
}

TEST_CASE("multimodal retrieval: retrieval_metrics normalises embeddings and covers both directions", "[multimodal]") {
  manual_seed(11);
  const Tensor img = randn({12, 6});
  const Tensor txt = img + randn({12, 6}) * 0.05;
  const RetrievalMetrics m = retrieval_metrics(img, txt);
  CHECK(m.image_to_text.ks == std::vector<int64_t>{1, 5, 10});
  CHECK(m.image_to_text.recall_at(1) == 1.0);
  CHECK(m.text_to_image.recall_at(1) == 1.0);
  CHECK(m.image_to_text.median_rank == 1.0);
  CHECK(m.image_to_text.queries == 12);

  // Against the metrics of the cosine-similarity matrix computed here, on
  // embeddings whose rows are rescaled (normalisation makes that invisible).
  const Tensor a = randn({9, 4}, DType::Float64), b = randn({9, 4}, DType::Float64);
  const Tensor scale = rand({9, 1}, DType::Float64) * 5 + 0.1;
  const RetrievalMetrics r = retrieval_metrics(a * scale, b, {1, 3});
  const Tensor sim = (a / a.norm(2.0, {1}, true)).matmul((b / b.norm(2.0, {1}, true)).t());
  const BruteForce i2t(sim, {}, {}), t2i(sim.t().contiguous(), {}, {});
  CHECK(r.image_to_text.recall == std::vector<double>{i2t.recall(1), i2t.recall(3)});
  CHECK(r.text_to_image.recall == std::vector<double>{t2i.recall(1), t2i.recall(3)});
  CHECK(r.image_to_text.median_rank == i2t.median());
  CHECK(r.text_to_image.median_rank == t2i.median());
  test::check_close(r.image_to_text.mean_reciprocal_rank, i2t.mrr(), 0, test::kTightRtol);
  test::check_close(r.text_to_image.mean_reciprocal_rank, t2i.mrr(), 0, test::kTightRtol);
  CHECK(r.text_to_image.mean_average_precision == r.text_to_image.mean_reciprocal_rank);
  CHECK(test::error_kind([&] { r.image_to_text.recall_at(5); }) == ErrorKind::Value);

  // Labels: two captions per image, Ni != Nt.
  const Tensor caps = cat({img, img}, 0) + randn({24, 6}) * 0.05;
  const Tensor il = arange(12), tl = cat({arange(12), arange(12)}, 0);
  const RetrievalMetrics l = retrieval_metrics(img, caps, il, tl, {1, 2});
  CHECK(l.image_to_text.queries == 12);
  CHECK(l.text_to_image.queries == 24);
  CHECK(l.image_to_text.recall_at(1) == 1.0);
  CHECK(l.image_to_text.mean_average_precision == 1.0);
  CHECK(l.text_to_image.recall_at(1) == 1.0);
}

TEST_CASE("multimodal retrieval: queries without a match are left out", "[multimodal]") {
  const Tensor sim = from_vector(std::vector<float>{0.9f, 0.1f, 0.2f, 0.8f, 0.5f, 0.5f}, {3, 2});
  const Tensor q = from_vector(std::vector<int64_t>{0, 1, 7}, {3});
  const Tensor d = from_vector(std::vector<int64_t>{0, 1}, {2});
  CHECK(first_match_ranks(sim, q, d) == std::vector<int64_t>{1, 1, 0});
  CHECK(recall_at_k(sim, 1, q, d) == 1.0);
  CHECK(mean_average_precision(sim, q, d) == 1.0);
  const Tensor none = from_vector(std::vector<int64_t>{5, 6, 7}, {3});
  CHECK_THAT(loom::test::error_message([&] { recall_at_k(sim, 1, none, d); }),
             ContainsSubstring("recall_at_k") && ContainsSubstring("none of the 3 queries"));
  CHECK(test::error_kind([&] { mean_average_precision(sim, none, d); }) == ErrorKind::Value);
}

TEST_CASE("multimodal retrieval: bad input raises naming the function and shapes", "[multimodal]") {
  CHECK_THAT(loom::test::error_message([] {
               recall_at_k(rand({3, 4}), 1);
             }),
             ContainsSubstring("recall_at_k") && ContainsSubstring("square") && ContainsSubstring("[3, 4]"));
  CHECK_THAT(loom::test::error_message([] { median_rank(rand({5})); }),
             ContainsSubstring("median_rank") && ContainsSubstring("[5]"));
  CHECK_THAT(loom::test::error_message([] {
               mean_reciprocal_rank(zeros({0, 0}));
             }),
             ContainsSubstring("mean_reciprocal_rank"));
  CHECK(test::error_kind([] { recall_at_k(ones({2, 2}, DType::Int64), 1); }) == ErrorKind::Type);
  CHECK(test::error_kind([] { recall_at_k(eye(2), 0); }) == ErrorKind::Value);
  Tensor nan_sim = eye(3);
  nan_sim.narrow(0, 1, 1).narrow(1, 2, 1).fill_(std::nan(""));
  CHECK_THAT(loom::test::error_message([&] { median_rank(nan_sim); }), ContainsSubstring("NaN at (1, 2)"));
  CHECK_THAT(loom::test::error_message([] {
               mean_average_precision(rand({2, 3}), arange(3), arange(3));
             }),
             ContainsSubstring("mean_average_precision") && ContainsSubstring("query labels [2]") &&
                 ContainsSubstring("[2, 3]"));
  CHECK(test::error_kind([] { mean_average_precision(rand({2, 3}), zeros({2}), arange(3)); }) == ErrorKind::Type);
  CHECK_THAT(loom::test::error_message([] {
               retrieval_metrics(rand({4, 3}), rand({4, 5}));
             }),
             ContainsSubstring("retrieval_metrics") && ContainsSubstring("[4, 3]") && ContainsSubstring("[4, 5]"));
  CHECK_THAT(loom::test::error_message([] {
               retrieval_metrics(rand({4, 3}), rand({5, 3}));
             }),
             ContainsSubstring("retrieval_metrics") && ContainsSubstring("counts must match"));
  CHECK(test::error_kind([] { retrieval_metrics(rand({4, 3}), rand({4, 3}), {0}); }) == ErrorKind::Value);
  CHECK_THAT(loom::test::error_message([] {
               retrieval_metrics(rand({4, 3}), rand({5, 3}), arange(4), arange(4));
             }),
             ContainsSubstring("retrieval_metrics") && ContainsSubstring("labels [5]"));
}
