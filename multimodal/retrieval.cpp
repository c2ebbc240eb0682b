// Retrieval metrics of retrieval.h. Every metric derives from one pass over
// each query's row: the first-match rank needs only counts (no sort), and only
// average precision sorts a row. The similarity matrix is read in its own
// dtype (float32 or float64) from one contiguous host copy.
#include "multimodal/retrieval.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "nn/functional/losses.h"

namespace loom::multimodal {

namespace {

// A validated host copy of sim plus its ground truth (labels empty: diagonal).
struct Problem {
  Tensor sim;
  int64_t nq = 0, nd = 0;
  std::vector<int64_t> query_labels, doc_labels;
  bool diagonal() const { return query_labels.empty(); }
  bool matches(int64_t q, int64_t d) const { return diagonal() ? q == d : query_labels[q] == doc_labels[d]; }
};

template <typename F>
void with_scores(const Tensor& sim, F f) {
  if (sim.dtype() == DType::Float32) f(sim.data_ptr<float>());
  else f(sim.data_ptr<double>());
}

std::vector<int64_t> labels_of(const Tensor& labels, int64_t n, const Tensor& sim, const char* fn, const char* which) {
  LOOM_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n, fn, ": expected ", which, " labels [", n,
             "] for sim ", sim.sizes(), ", got shape ", labels.defined() ? labels.sizes() : Shape{});
  LOOM_CHECK_TYPE(is_integral(labels.dtype()), fn, ": expected integer ", which, " labels, got ",
                  dtype_name(labels.dtype()), " of shape ", labels.sizes());
  std::vector<int64_t> out;
  out.reserve(n);
  for (double v : labels.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

Problem make_problem(const Tensor& sim, const Tensor* query_labels, const Tensor* doc_labels, const char* fn) {
  LOOM_CHECK(sim.defined() && sim.dim() == 2 && sim.size(0) >= 1 && sim.size(1) >= 1, fn,
             ": expected a non-empty similarity matrix [Nq, Nd], got shape ", sim.defined() ? sim.sizes() : Shape{});
  LOOM_CHECK_TYPE(sim.is_floating_point(), fn, ": expected a float32 or float64 similarity matrix, got ",
                  dtype_name(sim.dtype()), " of shape ", sim.sizes());
  Problem p;
  p.sim = sim.detach().to(Device()).contiguous();
  p.nq = sim.size(0);
  p.nd = sim.size(1);
  if (query_labels) {
    p.query_labels = labels_of(*query_labels, p.nq, sim, fn, "query");
    p.doc_labels = labels_of(*doc_labels, p.nd, sim, fn, "document");
  } else {
    LOOM_CHECK(p.nq == p.nd, fn, ": query i matches document i, so sim must be square, got shape ", sim.sizes(),
               " (pass labels for other ground truths)");
  }
  with_scores(p.sim, [&](const auto* s) {
    for (int64_t i = 0; i < p.nq * p.nd; ++i)
      LOOM_CHECK_VALUE(!std::isnan(s[i]), fn, ": sim ", sim.sizes(), " holds NaN at (", i / p.nd, ", ", i % p.nd, ")");
  });
  return p;
}

std::vector<int64_t> ranks_of(const Problem& p) {
  std::vector<int64_t> ranks(p.nq, 0);
  with_scores(p.sim, [&](const auto* s) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(s)>>;
    for (int64_t q = 0; q < p.nq; ++q) {
      const T* row = s + q * p.nd;
      bool found = false;
      T best = 0;
      for (int64_t d = 0; d < p.nd; ++d)
        if (p.matches(q, d) && (!found || row[d] > best)) {
          best = row[d];
          found = true;
        }
      if (!found) continue;
      int64_t ahead = 0;
      for (int64_t d = 0; d < p.nd; ++d) ahead += !p.matches(q, d) && row[d] >= best;
      ranks[q] = 1 + ahead;
    }
  });
  return ranks;
}

// The ranks of the queries that have a match; raises when none has.
std::vector<int64_t> kept_ranks(const Problem& p, const char* fn) {
  std::vector<int64_t> kept;
  for (int64_t r : ranks_of(p))
    if (r > 0) kept.push_back(r);
  LOOM_CHECK_VALUE(!kept.empty(), fn, ": none of the ", p.nq, " queries has a matching document among ", p.nd,
                   " (no query label equals a document label)");
  return kept;
}

double recall_of(const std::vector<int64_t>& ranks, int64_t k) {
  int64_t hits = 0;
  for (int64_t r : ranks) hits += r <= k;
  return static_cast<double>(hits) / static_cast<double>(ranks.size());
}

double median_of(std::vector<int64_t> ranks) {
  std::sort(ranks.begin(), ranks.end());
  const size_t n = ranks.size();
  return n % 2 ? static_cast<double>(ranks[n / 2]) : 0.5 * static_cast<double>(ranks[n / 2 - 1] + ranks[n / 2]);
}

double mrr_of(const std::vector<int64_t>& ranks) {
  double sum = 0;
  for (int64_t r : ranks) sum += 1.0 / static_cast<double>(r);
  return sum / static_cast<double>(ranks.size());
}

double map_of(const Problem& p, const char* fn) {
  double sum = 0;
  int64_t kept = 0;
  with_scores(p.sim, [&](const auto* s) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(s)>>;
    std::vector<std::pair<T, bool>> row(p.nd);
    for (int64_t q = 0; q < p.nq; ++q) {
      for (int64_t d = 0; d < p.nd; ++d) row[d] = {s[q * p.nd + d], p.matches(q, d)};
      // Descending score; within a tie non-matches (false) come first.
      std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      int64_t hits = 0;
      double precision_sum = 0;
      for (int64_t i = 0; i < p.nd; ++i)
        if (row[i].second) precision_sum += static_cast<double>(++hits) / static_cast<double>(i + 1);
      if (hits == 0) continue;
      sum += precision_sum / static_cast<double>(hits);
      ++kept;
    }
  });
  LOOM_CHECK_VALUE(kept > 0, fn, ": none of the ", p.nq, " queries has a matching document among ", p.nd,
                   " (no query label equals a document label)");
  return sum / static_cast<double>(kept);
}

void check_k(int64_t k, const char* fn) { LOOM_CHECK_VALUE(k >= 1, fn, ": k must be >= 1, got ", k); }

RetrievalScores scores_of(const Problem& p, const std::vector<int64_t>& ks, const char* fn) {
  RetrievalScores out;
  const std::vector<int64_t> ranks = kept_ranks(p, fn);
  out.ks = ks;
  for (int64_t k : ks) out.recall.push_back(recall_of(ranks, k));
  out.median_rank = median_of(ranks);
  out.mean_reciprocal_rank = mrr_of(ranks);
  // With one match per query, average precision is the reciprocal rank.
  out.mean_average_precision = p.diagonal() ? out.mean_reciprocal_rank : map_of(p, fn);
  out.queries = static_cast<int64_t>(ranks.size());
  return out;
}

// img [Ni, E], txt [Nt, E] -> the cosine similarities [Ni, Nt], on the embeddings' device.
Tensor cosine_sim(const Tensor& img, const Tensor& txt, const std::vector<int64_t>& ks, bool same_count,
                  const char* fn) {
  LOOM_CHECK(img.defined() && txt.defined() && img.dim() == 2 && txt.dim() == 2 && img.size(1) == txt.size(1), fn,
             ": expected image embeddings [Ni, E] and text embeddings [Nt, E], got shapes ",
             img.defined() ? img.sizes() : Shape{}, " and ", txt.defined() ? txt.sizes() : Shape{});
  LOOM_CHECK(!same_count || img.size(0) == txt.size(0), fn,
             ": pair i is image i with text i, so the counts must match, got ", img.sizes(), " and ", txt.sizes(),
             " (pass labels for other ground truths)");
  LOOM_CHECK_TYPE(img.is_floating_point() && txt.is_floating_point(), fn, ": expected float embeddings, got ",
                  dtype_name(img.dtype()), " ", img.sizes(), " and ", dtype_name(txt.dtype()), " ", txt.sizes());
  LOOM_CHECK(img.device() == txt.device(), fn, ": embeddings ", img.sizes(), " and ", txt.sizes(),
             " are on different devices");
  for (int64_t k : ks) check_k(k, fn);
  const DType t = promote_types(img.dtype(), txt.dtype());
  const Tensor a = nn::functional::normalize(img.detach().to(t), 2.0, 1);
  const Tensor b = nn::functional::normalize(txt.detach().to(t), 2.0, 1);
  return a.matmul(b.t());
}

}  // namespace

std::vector<int64_t> first_match_ranks(const Tensor& sim) {
  return ranks_of(make_problem(sim, nullptr, nullptr, "first_match_ranks"));
}

std::vector<int64_t> first_match_ranks(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels) {
  return ranks_of(make_problem(sim, &query_labels, &doc_labels, "first_match_ranks"));
}

double recall_at_k(const Tensor& sim, int64_t k) {
  check_k(k, "recall_at_k");
  return recall_of(kept_ranks(make_problem(sim, nullptr, nullptr, "recall_at_k"), "recall_at_k"), k);
}

double recall_at_k(const Tensor& sim, int64_t k, const Tensor& query_labels, const Tensor& doc_labels) {
  check_k(k, "recall_at_k");
  return recall_of(kept_ranks(make_problem(sim, &query_labels, &doc_labels, "recall_at_k"), "recall_at_k"), k);
}

double median_rank(const Tensor& sim) {
  return median_of(kept_ranks(make_problem(sim, nullptr, nullptr, "median_rank"), "median_rank"));
}

double median_rank(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels) {
  return median_of(kept_ranks(make_problem(sim, &query_labels, &doc_labels, "median_rank"), "median_rank"));
}

double mean_reciprocal_rank(const Tensor& sim) {
  return mrr_of(kept_ranks(make_problem(sim, nullptr, nullptr, "mean_reciprocal_rank"), "mean_reciprocal_rank"));
}

double mean_reciprocal_rank(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels) {
  return mrr_of(
      kept_ranks(make_problem(sim, &query_labels, &doc_labels, "mean_reciprocal_rank"), "mean_reciprocal_rank"));
}

double mean_average_precision(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels) {
  return map_of(make_problem(sim, &query_labels, &doc_labels, "mean_average_precision"), "mean_average_precision");
}

double RetrievalScores::recall_at(int64_t k) const {
  for (size_t i = 0; i < ks.size(); ++i)
    if (ks[i] == k) return recall[i];
  LOOM_THROW(ErrorKind::Value, "RetrievalScores::recall_at: R@", k, " was not computed (ks = ", ks, ")");
}

RetrievalMetrics retrieval_metrics(const Tensor& img_emb, const Tensor& txt_emb, const std::vector<int64_t>& ks) {
  const char* fn = "retrieval_metrics";
  const Tensor sim = cosine_sim(img_emb, txt_emb, ks, true, fn);
  return {scores_of(make_problem(sim, nullptr, nullptr, fn), ks, fn),
          scores_of(make_problem(sim.t(), nullptr, nullptr, fn), ks, fn)};
}

RetrievalMetrics retrieval_metrics(const Tensor& img_emb, const Tensor& txt_emb, const Tensor& img_labels,
                                   const Tensor& txt_labels, const std::vector<int64_t>& ks) {
  const char* fn = "retrieval_metrics";
  const Tensor sim = cosine_sim(img_emb, txt_emb, ks, false, fn);
  return {scores_of(make_problem(sim, &img_labels, &txt_labels, fn), ks, fn),
          scores_of(make_problem(sim.t(), &txt_labels, &img_labels, fn), ks, fn)};
}

}  // namespace loom::multimodal
