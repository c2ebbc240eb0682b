// Retrieval metrics for dual encoders, computed on the host from a similarity
// matrix sim [Nq, Nd] (query q's score for document d; higher is better).
// Ground truth is either the diagonal (sim square, query i matches document i)
// or labels (query q matches document d when their labels are equal).
//
// Ranks are 1-based. Ties count against the query: a non-matching document
// scoring exactly as high as a match is ranked before it, so a constant
// similarity gets the worst rank, not the best (a model that collapses to one
// embedding scores no better than chance). With labels, a query with no
// matching document has no rank: it is left out of every metric, and
// RetrievalScores::queries says how many were kept. NaN scores raise.
// sim and embeddings may be float32 or float64 on any device (moved to the
// CPU here); gradients are not tracked.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

// The rank of each query's best-ranked match, pessimistic ties: 1 + the number
// of non-matching documents scoring >= the query's best match. 0 for a query
// without any match (labels only).
std::vector<int64_t> first_match_ranks(const Tensor& sim);
std::vector<int64_t> first_match_ranks(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels);

// The fraction of queries whose first match ranks within the top k (k >= 1).
double recall_at_k(const Tensor& sim, int64_t k);
double recall_at_k(const Tensor& sim, int64_t k, const Tensor& query_labels, const Tensor& doc_labels);

// The median first-match rank (the mean of the middle two for an even count).
double median_rank(const Tensor& sim);
double median_rank(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels);

// The mean of 1 / first-match rank.
double mean_reciprocal_rank(const Tensor& sim);
double mean_reciprocal_rank(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels);

// The mean over queries of average precision: the mean, over the query's
// matches, of the precision at each match's rank, documents ordered by
// descending score with tied non-matches first. O(Nq Nd log Nd).
double mean_average_precision(const Tensor& sim, const Tensor& query_labels, const Tensor& doc_labels);

// One direction's metrics; recall[i] is R@ks[i].
struct RetrievalScores {
  std::vector<int64_t> ks;
  std::vector<double> recall;
  double median_rank = 0;
  double mean_reciprocal_rank = 0;
  double mean_average_precision = 0;  // equals mean_reciprocal_rank when each query has one match
  int64_t queries = 0;
  // R@k for a k in ks; raises for any other k.
  double recall_at(int64_t k) const;
};

struct RetrievalMetrics {
  RetrievalScores image_to_text;
  RetrievalScores text_to_image;
};

// Both directions from image embeddings [N, E] and text embeddings [N, E]
// (pair i = image i with text i). Rows are L2-normalised, sim = img txt^T.
RetrievalMetrics retrieval_metrics(const Tensor& img_emb, const Tensor& txt_emb,
                                   const std::vector<int64_t>& ks = {1, 5, 10});
// With labels [Ni] and [Nt] (integer): a match is an equal label, Ni and Nt
// may differ (e.g. five captions per image, labelled with the image's id).
RetrievalMetrics retrieval_metrics(const Tensor& img_emb, const Tensor& txt_emb, const Tensor& img_labels,
                                   const Tensor& txt_labels, const std::vector<int64_t>& ks = {1, 5, 10});

}  // namespace loom::multimodal
