// Evaluation functions for multimodal models, on top of retrieval.h (which
// holds the rank-based retrieval metrics themselves):
//
//   topk_search          the k nearest index entries of each query (cosine),
//                        in either direction between images and texts;
//   retrieval_report     R@k, median rank, MRR and mAP both ways for an
//                        evaluation set with several captions per image;
//   zero_shot_*          classification by the similarity of an image to one
//                        prompt (or the mean of several) per class;
//   vqa_accuracy         exact-match answer accuracy, overall and per
//                        question type;
//   confusion_matrix,
//   grouped_accuracy     classification accuracy per group (e.g. the seen and
//                        the held-out attribute pairs of a compositional split).
//
// Inputs may be on any device; similarities are computed there (matmul) and
// what needs sorting or counting is done on the host. Nothing here tracks
// gradients. Predictions may be given as integer ids [N] or as scores [N, C]
// (their argmax, the lowest index on ties).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "multimodal/retrieval.h"

namespace loom::multimodal {

// The k best index entries per query: scores [Nq, k] (the embeddings' float
// dtype) and indices [Nq, k] int64, on the queries' device, best first; ties
// in score keep the lower index first. query_emb [Nq, D], index_emb [Ni, D],
// 1 <= k <= Ni. normalize: cosine similarity (rows L2-normalised), else the
// plain dot product. The similarity matrix is computed in blocks of queries,
// so a large index does not need Nq x Ni memory at once.
struct TopK {
  Tensor scores;
  Tensor indices;
};
TopK topk_search(const Tensor& query_emb, const Tensor& index_emb, int64_t k, bool normalize = true);
// The two directions of an image-text index, with the arguments in one order.
// Texts as queries, the k best images of each:
TopK search_text_to_image(const Tensor& image_emb, const Tensor& text_emb, int64_t k);
// Images as queries, the k best texts of each:
TopK search_image_to_text(const Tensor& image_emb, const Tensor& text_emb, int64_t k);

// Retrieval over an evaluation set of Ni images and Nt captions, caption t
// describing image text_image_ids[t] (integer [Nt], values in [0, Ni)).
// text_to_image: a caption's one match is its image. image_to_text: an image
// matches all its captions, so its rank is that of its best-ranked caption
// (R@k: any of them within the top k) and mAP averages over all of them. An
// image without captions is left out of image_to_text (see queries). Ties
// count against the query, as everywhere in retrieval.h.
RetrievalMetrics retrieval_report(const Tensor& image_emb, const Tensor& text_emb, const Tensor& text_image_ids,
                                  const std::vector<int64_t>& ks = {1, 5, 10});

// A flat view for logs: "i2t_R@1", ..., "i2t_median_rank", "i2t_MRR",
// "i2t_mAP", "i2t_queries" and the same with "t2i_".
std::map<std::string, double> retrieval_summary(const RetrievalMetrics& m);

// Zero-shot classification. prompt_emb is [C, D] (one prompt per class) or
// [C, P, D] (P prompts per class, each L2-normalised, then averaged and
// normalised again: CLIP's prompt ensembling). image_emb [N, D].
// Cosine similarities [N, C]:
Tensor zero_shot_logits(const Tensor& image_emb, const Tensor& prompt_emb);
// The best class of each image, int64 [N] (the lowest on ties):
Tensor zero_shot_classify(const Tensor& image_emb, const Tensor& prompt_emb);
// The fraction of images whose best class is labels[i] (integer [N]):
double zero_shot_accuracy(const Tensor& image_emb, const Tensor& prompt_emb, const Tensor& labels);

struct VqaAccuracy {
  double overall = 0;
  int64_t count = 0;
  std::map<std::string, double> per_type;  // empty when no types were given
  std::map<std::string, int64_t> type_counts;
};
// Exact-match accuracy of predicted answers against the true ones (one per
// question), overall and per question type (question_types: one per question,
// or empty for the overall figure only).
VqaAccuracy vqa_accuracy(const std::vector<std::string>& predicted, const std::vector<std::string>& answers,
                         const std::vector<std::string>& question_types = {});
// The same with answer ids: predicted integer [N] or scores [N, A], answers
// integer [N].
VqaAccuracy vqa_accuracy(const Tensor& predicted, const Tensor& answers,
                         const std::vector<std::string>& question_types = {});

// counts [num_classes, num_classes] int64 on the CPU: counts[t][p] is the
// number of samples of true class t predicted as p. num_classes < 0: one more
// than the largest class seen. A class outside [0, num_classes) raises.
Tensor confusion_matrix(const Tensor& predicted, const Tensor& target, int64_t num_classes = -1);

struct GroupedAccuracy {
  double overall = 0;
  int64_t count = 0;
  std::map<int64_t, double> per_group;
  std::map<int64_t, int64_t> group_counts;
  double mean_over_groups = 0;  // each group counts once, whatever its size
  double harmonic_mean = 0;     // of the per-group accuracies (seen vs unseen: the usual summary)
};
// Accuracy per group id (integer [N]), e.g. 0 for test images of seen
// attribute pairs and 1 for held-out ones.
GroupedAccuracy grouped_accuracy(const Tensor& predicted, const Tensor& target, const Tensor& group_ids);

}  // namespace loom::multimodal
