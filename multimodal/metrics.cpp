// The evaluation functions of metrics.h. Similarities are computed on the
// embeddings' device; ranking, argmax and counting run on host copies, where
// ties are broken the same way on every device (lowest index first).
#include "multimodal/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/node.h"
#include "nn/functional/losses.h"

namespace loom::multimodal {

namespace {

Shape shape_of(const Tensor& t) { return t.defined() ? t.sizes() : Shape{}; }

// A 1-D integer tensor of n values (n < 0: any length) as host int64s.
std::vector<int64_t> ids_of(const Tensor& t, int64_t n, const char* fn, const char* what) {
  LOOM_CHECK(t.defined() && t.dim() == 1 && (n < 0 || t.size(0) == n), fn, ": expected ", what, " [",
             n < 0 ? std::string("N") : std::to_string(n), "], got shape ", shape_of(t));
  LOOM_CHECK_TYPE(is_integral(t.dtype()), fn, ": expected integer ", what, ", got ", dtype_name(t.dtype()),
                  " of shape ", t.sizes());
  const Tensor h = t.detach().to(Device(), DType::Int64).contiguous();
  const int64_t* p = h.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + h.numel());
}

// Each row's best column of a host float64 [rows, cols] block; lowest on ties.
std::vector<int64_t> argmax_rows(const Tensor& scores, const char* fn) {
  const Tensor h = scores.detach().to(Device(), DType::Float64).contiguous();
  const int64_t rows = h.size(0), cols = h.size(1);
  LOOM_CHECK_VALUE(cols >= 1, fn, ": scores ", scores.sizes(), " have no classes");
  const double* s = h.data_ptr<double>();
  std::vector<int64_t> out(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = s + r * cols;
    int64_t best = 0;
    for (int64_t c = 0; c < cols; ++c) {
      LOOM_CHECK_VALUE(!std::isnan(row[c]), fn, ": scores ", scores.sizes(), " hold NaN at (", r, ", ", c, ")");
      if (row[c] > row[best]) best = c;
    }
    out[r] = best;
  }
  return out;
}

// Predictions given as ids [n] or scores [n, C].
std::vector<int64_t> predictions_of(const Tensor& pred, int64_t n, const char* fn) {
  LOOM_CHECK(pred.defined() && (pred.dim() == 1 || pred.dim() == 2) && (n < 0 || pred.size(0) == n), fn,
             ": expected predictions as ids [", n < 0 ? std::string("N") : std::to_string(n), "] or scores [",
             n < 0 ? std::string("N") : std::to_string(n), ", C], got shape ", shape_of(pred));
  if (pred.dim() == 1) return ids_of(pred, n, fn, "predicted ids");
  LOOM_CHECK_TYPE(pred.is_floating_point(), fn, ": expected float scores [N, C], got ", dtype_name(pred.dtype()),
                  " of shape ", pred.sizes());
  return argmax_rows(pred, fn);
}

void check_embeddings(const Tensor& a, const Tensor& b, const char* fn, const char* a_name, const char* b_name) {
  LOOM_CHECK(a.defined() && b.defined() && a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1), fn, ": expected ",
             a_name, " [N, D] and ", b_name, " [M, D], got shapes ", shape_of(a), " and ", shape_of(b));
  LOOM_CHECK_TYPE(a.is_floating_point() && b.is_floating_point(), fn, ": expected float embeddings, got ",
                  dtype_name(a.dtype()), " ", a.sizes(), " and ", dtype_name(b.dtype()), " ", b.sizes());
  LOOM_CHECK(a.device() == b.device(), fn, ": ", a_name, " ", a.sizes(), " and ", b_name, " ", b.sizes(),
             " are on different devices (", a.device().str(), ", ", b.device().str(), ")");
}

}  // namespace

// ---------------------------------------------------------------- search

TopK topk_search(const Tensor& query_emb, const Tensor& index_emb, int64_t k, bool normalize) {
  const char* fn = "topk_search";
  check_embeddings(query_emb, index_emb, fn, "queries", "index");
  const int64_t nq = query_emb.size(0), ni = index_emb.size(0);
  LOOM_CHECK_VALUE(k >= 1 && k <= ni, fn, ": k must be in [1, ", ni, "] for an index of ", ni, " entries, got ", k);
  autograd::NoGradGuard no_grad;
  const DType t = promote_types(query_emb.dtype(), index_emb.dtype());
  Tensor q = query_emb.detach().to(t), d = index_emb.detach().to(t);
  if (normalize) {
    q = nn::functional::normalize(q, 2.0, 1);
    d = nn::functional::normalize(d, 2.0, 1);
  }
  const Tensor dt = d.t();
  std::vector<double> scores(nq * k);
  std::vector<int64_t> indices(nq * k);
  std::vector<int64_t> order(ni);
  // About 32 MiB of float64 similarities per block on the host.
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 22) / ni);
  for (int64_t r0 = 0; r0 < nq; r0 += block) {
    const int64_t rows = std::min(block, nq - r0);
    const Tensor sim = q.narrow(0, r0, rows).matmul(dt).to(Device(), DType::Float64).contiguous();
    const double* s = sim.data_ptr<double>();
    for (int64_t r = 0; r < rows; ++r) {
      const double* row = s + r * ni;
      for (int64_t j = 0; j < ni; ++j)
        LOOM_CHECK_VALUE(!std::isnan(row[j]), fn, ": the similarity of query ", r0 + r, " and entry ", j,
                         " is NaN (NaN in the embeddings?)");
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [row](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
      for (int64_t j = 0; j < k; ++j) {
        scores[(r0 + r) * k + j] = row[order[j]];
        indices[(r0 + r) * k + j] = order[j];
      }
    }
  }
  return {from_vector(scores, {nq, k}).to(query_emb.device(), t), from_vector(indices, {nq, k}, query_emb.device())};
}

TopK search_text_to_image(const Tensor& image_emb, const Tensor& text_emb, int64_t k) {
  return topk_search(text_emb, image_emb, k);
}

TopK search_image_to_text(const Tensor& image_emb, const Tensor& text_emb, int64_t k) {
  return topk_search(image_emb, text_emb, k);
}

// ---------------------------------------------------------------- retrieval

RetrievalMetrics retrieval_report(const Tensor& image_emb, const Tensor& text_emb, const Tensor& text_image_ids,
                                  const std::vector<int64_t>& ks) {
  const char* fn = "retrieval_report";
  check_embeddings(image_emb, text_emb, fn, "image embeddings", "text embeddings");
  const int64_t ni = image_emb.size(0), nt = text_emb.size(0);
  LOOM_CHECK(ni >= 1 && nt >= 1, fn, ": expected at least one image and one caption, got shapes ", image_emb.sizes(),
             " and ", text_emb.sizes());
  const std::vector<int64_t> ids = ids_of(text_image_ids, nt, fn, "text_image_ids");
  for (int64_t t = 0; t < nt; ++t)
    LOOM_CHECK_INDEX(ids[t] >= 0 && ids[t] < ni, fn, ": caption ", t, " belongs to image ", ids[t], ", but there are ",
                     ni, " images");
  return retrieval_metrics(image_emb, text_emb, arange(Scalar(ni)), from_vector(ids, {nt}), ks);
}

std::map<std::string, double> retrieval_summary(const RetrievalMetrics& m) {
  std::map<std::string, double> out;
  for (const auto& [prefix, s] : {std::make_pair("i2t_", &m.image_to_text), std::make_pair("t2i_", &m.text_to_image)}) {
    const std::string p = prefix;
    for (size_t i = 0; i < s->ks.size() && i < s->recall.size(); ++i)
      out[p + "R@" + std::to_string(s->ks[i])] = s->recall[i];
    out[p + "median_rank"] = s->median_rank;
    out[p + "MRR"] = s->mean_reciprocal_rank;
    out[p + "mAP"] = s->mean_average_precision;
    out[p + "queries"] = static_cast<double>(s->queries);
  }
  return out;
}

// ---------------------------------------------------------------- zero-shot

Tensor zero_shot_logits(const Tensor& image_emb, const Tensor& prompt_emb) {
  const char* fn = "zero_shot_logits";
  LOOM_CHECK(prompt_emb.defined() && (prompt_emb.dim() == 2 || prompt_emb.dim() == 3), fn,
             ": expected prompt embeddings [C, D] or [C, P, D], got shape ", shape_of(prompt_emb));
  LOOM_CHECK(prompt_emb.size(0) >= 1 && (prompt_emb.dim() == 2 || prompt_emb.size(1) >= 1), fn,
             ": expected at least one class and one prompt, got prompt embeddings ", prompt_emb.sizes());
  autograd::NoGradGuard no_grad;
  Tensor classes = prompt_emb.detach();
  if (classes.dim() == 3) {
    LOOM_CHECK_TYPE(classes.is_floating_point(), fn, ": expected float prompt embeddings, got ",
                    dtype_name(classes.dtype()), " of shape ", classes.sizes());
    classes = nn::functional::normalize(classes, 2.0, 2).mean({1});
  }
  check_embeddings(image_emb, classes, fn, "image embeddings", "class embeddings");
  const DType t = promote_types(image_emb.dtype(), classes.dtype());
  const Tensor a = nn::functional::normalize(image_emb.detach().to(t), 2.0, 1);
  const Tensor b = nn::functional::normalize(classes.to(t), 2.0, 1);
  return a.matmul(b.t());
}

Tensor zero_shot_classify(const Tensor& image_emb, const Tensor& prompt_emb) {
  const Tensor logits = zero_shot_logits(image_emb, prompt_emb);
  const std::vector<int64_t> pred = argmax_rows(logits, "zero_shot_classify");
  return from_vector(pred, {static_cast<int64_t>(pred.size())}, image_emb.device());
}

double zero_shot_accuracy(const Tensor& image_emb, const Tensor& prompt_emb, const Tensor& labels) {
  const char* fn = "zero_shot_accuracy";
  const Tensor logits = zero_shot_logits(image_emb, prompt_emb);
  const int64_t n = logits.size(0);
  LOOM_CHECK_VALUE(n >= 1, fn, ": there are no images (image embeddings ", image_emb.sizes(), ")");
  const std::vector<int64_t> y = ids_of(labels, n, fn, "labels");
  const std::vector<int64_t> pred = argmax_rows(logits, fn);
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    LOOM_CHECK_INDEX(y[i] >= 0 && y[i] < logits.size(1), fn, ": label ", y[i], " of image ", i, " is not one of the ",
                     logits.size(1), " classes");
    hits += pred[i] == y[i];
  }
  return static_cast<double>(hits) / static_cast<double>(n);
}

// ---------------------------------------------------------------- VQA

namespace {

template <typename T>
VqaAccuracy vqa_from(const std::vector<T>& predicted, const std::vector<T>& answers,
                     const std::vector<std::string>& types, const char* fn) {
  const size_t n = answers.size();
  LOOM_CHECK(predicted.size() == n, fn, ": ", predicted.size(), " predicted answers for ", n, " questions");
  LOOM_CHECK(types.empty() || types.size() == n, fn, ": ", types.size(), " question types for ", n,
             " questions (give one per question, or none)");
  LOOM_CHECK_VALUE(n > 0, fn, ": there are no questions");
  VqaAccuracy out;
  std::map<std::string, int64_t> hits;
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool hit = predicted[i] == answers[i];
    total += hit;
    if (!types.empty()) {
      hits[types[i]] += hit;
      ++out.type_counts[types[i]];
    }
  }
  out.count = static_cast<int64_t>(n);
  out.overall = static_cast<double>(total) / static_cast<double>(n);
  for (const auto& [type, c] : out.type_counts)
    out.per_type[type] = static_cast<double>(hits[type]) / static_cast<double>(c);
  return out;
}

}  // namespace

VqaAccuracy vqa_accuracy(const std::vector<std::string>& predicted, const std::vector<std::string>& answers,
                         const std::vector<std::string>& question_types) {
  return vqa_from(predicted, answers, question_types, "vqa_accuracy");
}

VqaAccuracy vqa_accuracy(const Tensor& predicted, const Tensor& answers,
                         const std::vector<std::string>& question_types) {
  const char* fn = "vqa_accuracy";
  const std::vector<int64_t> y = ids_of(answers, -1, fn, "answer ids");
  return vqa_from(predictions_of(predicted, static_cast<int64_t>(y.size()), fn), y, question_types, fn);
}

// ---------------------------------------------------------------- classification

Tensor confusion_matrix(const Tensor& predicted, const Tensor& target, int64_t num_classes) {
  const char* fn = "confusion_matrix";
  const std::vector<int64_t> y = ids_of(target, -1, fn, "target classes");
  const std::vector<int64_t> p = predictions_of(predicted, static_cast<int64_t>(y.size()), fn);
  if (num_classes < 0) {
    LOOM_CHECK_VALUE(!y.empty(), fn, ": num_classes cannot be inferred from no samples; pass it");
    num_classes = 1 + std::max(*std::max_element(y.begin(), y.end()), *std::max_element(p.begin(), p.end()));
  }
  LOOM_CHECK_VALUE(num_classes >= 1, fn, ": num_classes must be >= 1, got ", num_classes);
  std::vector<int64_t> counts(num_classes * num_classes, 0);
  for (size_t i = 0; i < y.size(); ++i) {
    LOOM_CHECK_INDEX(y[i] >= 0 && y[i] < num_classes && p[i] >= 0 && p[i] < num_classes, fn, ": sample ", i,
                     " has target ", y[i], " and prediction ", p[i], ", outside [0, ", num_classes, ")");
    ++counts[y[i] * num_classes + p[i]];
  }
  return from_vector(counts, {num_classes, num_classes});
}

GroupedAccuracy grouped_accuracy(const Tensor& predicted, const Tensor& target, const Tensor& group_ids) {
  const char* fn = "grouped_accuracy";
  const std::vector<int64_t> y = ids_of(target, -1, fn, "target classes");
  const int64_t n = static_cast<int64_t>(y.size());
  const std::vector<int64_t> p = predictions_of(predicted, n, fn);
  const std::vector<int64_t> g = ids_of(group_ids, n, fn, "group ids");
  LOOM_CHECK_VALUE(n > 0, fn, ": there are no samples");
  GroupedAccuracy out;
  std::map<int64_t, int64_t> hits;
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool hit = p[i] == y[i];
    total += hit;
    hits[g[i]] += hit;
    ++out.group_counts[g[i]];
  }
  out.count = n;
  out.overall = static_cast<double>(total) / static_cast<double>(n);
  double sum = 0, inv_sum = 0;
  bool any_zero = false;
  for (const auto& [group, c] : out.group_counts) {
    const double acc = static_cast<double>(hits[group]) / static_cast<double>(c);
    out.per_group[group] = acc;
    sum += acc;
    any_zero = any_zero || acc == 0;
    if (acc > 0) inv_sum += 1.0 / acc;
  }
  const double groups = static_cast<double>(out.group_counts.size());
  out.mean_over_groups = sum / groups;
  out.harmonic_mean = any_zero ? 0.0 : groups / inv_sum;
  return out;
}

}  // namespace loom::multimodal
