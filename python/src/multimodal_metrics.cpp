// loom._C._functional._mm_metrics, re-exported by loom.multimodal: the
// evaluation functions of multimodal/metrics.h (top-k search, the retrieval
// report, zero-shot classification, VQA accuracy, the confusion matrix and
// grouped accuracy). The retrieval report returns the RetrievalMetrics class
// bound with the other retrieval metrics (multimodal.cpp). Searches release
// the GIL.
#include <sstream>

#include "common.h"
#include "multimodal/metrics.h"

namespace loom::python {
namespace {

using namespace loom::multimodal;

py::tuple as_tuple(const TopK& r) { return py::make_tuple(r.scores, r.indices); }

std::vector<std::string> string_list(py::handle h, const char* op, const char* what) {
  if (h.is_none()) return {};
  if (py::isinstance<py::str>(h) || !py::isinstance<py::sequence>(h))
    throw py::type_error(std::string(op) + ": " + what + " must be a list of str, got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  std::vector<std::string> out;
  for (py::handle item : sequence_items(h)) {
    if (!py::isinstance<py::str>(item))
      throw py::type_error(std::string(op) + ": " + what + " must hold only str, got " +
                           std::string(py::str(py::type::handle_of(item).attr("__name__"))));
    out.push_back(item.cast<std::string>());
  }
  return out;
}

template <typename K, typename V>
std::string map_repr(const std::map<K, V>& m) {
  std::ostringstream os;
  os << "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    os << (first ? "" : ", ");
    if constexpr (std::is_same_v<K, std::string>) os << "'" << k << "'";
    else os << k;
    os << ": " << v;
    first = false;
  }
  return os.str() + "}";
}

void bind(py::module_& functional) {
  py::module_ m = functional.def_submodule("_mm_metrics", "multimodal evaluation functions (multimodal/metrics.h)");

  m.def(
      "topk_search",
      [](const Tensor& q, const Tensor& index, int64_t k, bool normalize) {
        TopK r;
        {
          py::gil_scoped_release release;
          r = topk_search(q, index, k, normalize);
        }
        return as_tuple(r);
      },
      py::arg("query_emb"), py::arg("index_emb"), py::arg("k"), py::arg("normalize") = true,
      R"doc(The k best index entries of each query: (scores [Nq, k], indices int64 [Nq, k]), best
first, ties by lower index. Cosine similarity (normalize=False: the dot product).)doc");
  m.def(
      "search_text_to_image",
      [](const Tensor& img, const Tensor& txt, int64_t k) {
        TopK r;
        {
          py::gil_scoped_release release;
          r = search_text_to_image(img, txt, k);
        }
        return as_tuple(r);
      },
      py::arg("image_emb"), py::arg("text_emb"), py::arg("k"), "Texts as queries: the k best images of each.");
  m.def(
      "search_image_to_text",
      [](const Tensor& img, const Tensor& txt, int64_t k) {
        TopK r;
        {
          py::gil_scoped_release release;
          r = search_image_to_text(img, txt, k);
        }
        return as_tuple(r);
      },
      py::arg("image_emb"), py::arg("text_emb"), py::arg("k"), "Images as queries: the k best texts of each.");

  m.def("retrieval_report", &retrieval_report, py::arg("image_emb"), py::arg("text_emb"), py::arg("text_image_ids"),
        py::arg("ks") = std::vector<int64_t>{1, 5, 10}, py::call_guard<py::gil_scoped_release>(),
        R"doc(RetrievalMetrics of Ni images and Nt captions, caption t describing image
text_image_ids[t]: text_to_image (one match per caption) and image_to_text (an
image matches all its captions: R@k if any is within k, mAP over all of them).)doc");
  m.def("retrieval_summary", &retrieval_summary, py::arg("metrics"),
        "A flat dict: i2t_R@1, ..., i2t_median_rank, i2t_MRR, i2t_mAP, i2t_queries and the t2i_ ones.");

  m.def("zero_shot_logits", &zero_shot_logits, py::arg("image_emb"), py::arg("prompt_emb"),
        "Cosine similarities [N, C] to prompt embeddings [C, D] or [C, P, D] (P prompts per class, averaged).");
  m.def("zero_shot_classify", &zero_shot_classify, py::arg("image_emb"), py::arg("prompt_emb"),
        "The best class of each image, int64 [N] (the lowest on ties).");
  m.def("zero_shot_accuracy", &zero_shot_accuracy, py::arg("image_emb"), py::arg("prompt_emb"), py::arg("labels"));

  py::class_<VqaAccuracy>(m, "VqaAccuracy")
      .def_readonly("overall", &VqaAccuracy::overall)
      .def_readonly("count", &VqaAccuracy::count)
      .def_readonly("per_type", &VqaAccuracy::per_type)
      .def_readonly("type_counts", &VqaAccuracy::type_counts)
      .def("__repr__", [](const VqaAccuracy& a) {
        std::ostringstream os;
        os << "VqaAccuracy(overall=" << a.overall << ", count=" << a.count << ", per_type=" << map_repr(a.per_type)
           << ")";
        return os.str();
      });
  m.def(
      "vqa_accuracy",
      [](py::handle predicted, py::handle answers, py::handle question_types) {
        const char* op = "vqa_accuracy";
        const std::vector<std::string> types = string_list(question_types, op, "question_types");
        if (py::isinstance<Tensor>(predicted) || py::isinstance<Tensor>(answers))
          return vqa_accuracy(to_tensor(predicted, op, "predicted"), to_tensor(answers, op, "answers"), types);
        return vqa_accuracy(string_list(predicted, op, "predicted"), string_list(answers, op, "answers"), types);
      },
      py::arg("predicted"), py::arg("answers"), py::arg("question_types") = py::none(),
      R"doc(Exact-match accuracy, overall and per question type. predicted and answers: lists
of str, or answer ids (predicted may be scores [N, A]); question_types: one str per
question, or None.)doc");

  m.def("confusion_matrix", &confusion_matrix, py::arg("predicted"), py::arg("target"), py::arg("num_classes") = -1,
        "counts[t][p], int64 [C, C] on the CPU; predicted: ids [N] or scores [N, C].");

  py::class_<GroupedAccuracy>(m, "GroupedAccuracy")
      .def_readonly("overall", &GroupedAccuracy::overall)
      .def_readonly("count", &GroupedAccuracy::count)
      .def_readonly("per_group", &GroupedAccuracy::per_group)
      .def_readonly("group_counts", &GroupedAccuracy::group_counts)
      .def_readonly("mean_over_groups", &GroupedAccuracy::mean_over_groups)
      .def_readonly("harmonic_mean", &GroupedAccuracy::harmonic_mean)
      .def("__repr__", [](const GroupedAccuracy& g) {
        std::ostringstream os;
        os << "GroupedAccuracy(overall=" << g.overall << ", per_group=" << map_repr(g.per_group)
           << ", harmonic_mean=" << g.harmonic_mean << ")";
        return os.str();
      });
  m.def("grouped_accuracy", &grouped_accuracy, py::arg("predicted"), py::arg("target"), py::arg("group_ids"),
        "Accuracy per group id (e.g. seen vs held-out attribute pairs of a compositional split).");
}

RegisterFunctional reg(&bind);

}  // namespace
}  // namespace loom::python
