// loom._C._functional._nn: the C++ multimodal modules (multimodal/clip.h,
// multimodal/fusion.h; multimodal/models.h in multimodal_models.cpp), bound
// beside the nn modules so that Python's loom.multimodal can wrap them in
// loom.nn.CppModule (shared parameters); and loom._C._functional._nn._mm_data:
// the tokenizer, retrieval metrics and the Fashion-MNIST loader. Called from
// nn_module.cpp's binder: the module classes derive from the bound nn::Module,
// which must be registered first.
#include "common.h"
#include "multimodal/clip.h"
#include "multimodal/data.h"
#include "multimodal/fusion.h"
#include "multimodal/retrieval.h"
#include "multimodal/tokenizer.h"

namespace loom::python {

void bind_multimodal_models(py::module_& m);  // multimodal_models.cpp

void bind_multimodal_modules(py::module_& m) {
  using namespace loom::multimodal;
  py::class_<ImageEncoder, nn::Module, std::shared_ptr<ImageEncoder>>(m, "ImageEncoder")
      .def(py::init<int64_t>(), py::arg("dim") = 256)
      .def("forward", &ImageEncoder::forward);
  py::class_<TextEncoder, nn::Module, std::shared_ptr<TextEncoder>>(m, "TextEncoder")
      .def("forward", &TextEncoder::forward)
      .def(
          "forward_sequence",
          [](const TextEncoder& e, const Tensor& tokens) {
            TextSequence s = e.forward_sequence(tokens);
            return py::make_tuple(s.states, s.padding_mask);
          },
          py::arg("tokens"))
      .def_property_readonly("dim", &TextEncoder::dim)
      .def_property_readonly("sequence_dim", &TextEncoder::sequence_dim);
  py::class_<TransformerTextEncoder, TextEncoder, std::shared_ptr<TransformerTextEncoder>>(m, "TransformerTextEncoder")
      .def(py::init<int64_t, int64_t, int64_t, int64_t, int64_t, bool>(), py::arg("vocab") = 1000, py::arg("dim") = 256,
           py::arg("layers") = 2, py::arg("heads") = 4, py::arg("max_len") = 32, py::arg("mask_padding") = false);
  py::class_<LSTMTextEncoder, TextEncoder, std::shared_ptr<LSTMTextEncoder>>(m, "LSTMTextEncoder")
      .def(py::init<int64_t, int64_t>(), py::arg("vocab") = 1000, py::arg("dim") = 256);
  py::class_<CLIP, nn::Module, std::shared_ptr<CLIP>>(m, "CLIP")
      .def(py::init<const std::string&>(), py::arg("text") = "transformer")
      .def("forward", &CLIP::forward)
      .def("encode_image", &CLIP::encode_image)
      .def("encode_text", &CLIP::encode_text);

  py::class_<ConcatFusion, nn::Module, std::shared_ptr<ConcatFusion>>(m, "ConcatFusion")
      .def(py::init<int64_t, int64_t, int64_t, int64_t>(), py::arg("dim_a"), py::arg("dim_b"), py::arg("out"),
           py::arg("hidden") = 0)
      .def("forward", &ConcatFusion::forward);
  py::class_<GatedFusion, nn::Module, std::shared_ptr<GatedFusion>>(m, "GatedFusion")
      .def(py::init<int64_t>(), py::arg("dim"))
      .def("forward", &GatedFusion::forward);
  py::class_<FiLM, nn::Module, std::shared_ptr<FiLM>>(m, "FiLM")
      .def(py::init<int64_t, int64_t>(), py::arg("dim"), py::arg("cond_dim"))
      .def("forward", &FiLM::forward);
  py::class_<BilinearPooling, nn::Module, std::shared_ptr<BilinearPooling>>(m, "BilinearPooling")
      .def(py::init<int64_t, int64_t, int64_t, int64_t>(), py::arg("dim_a"), py::arg("dim_b"), py::arg("rank"),
           py::arg("out"))
      .def("forward", &BilinearPooling::forward);
  py::class_<LateFusion, nn::Module, std::shared_ptr<LateFusion>>(m, "LateFusion")
      .def(py::init<>())
      .def("forward", &LateFusion::forward)
      .def("weights", &LateFusion::weights);
  py::class_<CrossAttentionFusion, nn::Module, std::shared_ptr<CrossAttentionFusion>>(m, "CrossAttentionFusion")
      .def(py::init<int64_t, int64_t, int64_t, int64_t>(), py::arg("dim"), py::arg("heads"), py::arg("kdim") = -1,
           py::arg("ff_dim") = -1)
      .def("forward", &CrossAttentionFusion::forward, py::arg("x"), py::arg("context"),
           py::arg("context_padding_mask") = Tensor());
  bind_multimodal_models(m);

  auto d = m.def_submodule("_mm_data", "loom::multimodal data and retrieval (C++)");
  py::class_<WordTokenizer>(d, "WordTokenizer")
      .def(py::init<>())
      .def_static("split", &WordTokenizer::split)
      .def("build", &WordTokenizer::build, py::arg("corpus"), py::arg("min_freq") = 1, py::arg("max_size") = 0)
      .def("encode", &WordTokenizer::encode, py::arg("text"), py::arg("max_len"), py::arg("add_bos_eos") = true)
      .def("encode_batch", &WordTokenizer::encode_batch, py::arg("texts"), py::arg("max_len"),
           py::arg("add_bos_eos") = true)
      .def("decode", py::overload_cast<const std::vector<int64_t>&>(&WordTokenizer::decode, py::const_))
      .def("decode_tensor", py::overload_cast<const Tensor&>(&WordTokenizer::decode, py::const_))
      .def("vocab_size", &WordTokenizer::vocab_size)
      .def("token_to_id", &WordTokenizer::token_to_id)
      .def("id_to_token", &WordTokenizer::id_to_token)
      .def(
          "save", [](const WordTokenizer& t, py::handle path) { t.save(to_fs_path(path, "WordTokenizer.save")); },
          py::arg("path"))
      .def_static(
          "load", [](py::handle path) { return WordTokenizer::load(to_fs_path(path, "WordTokenizer.load")); },
          py::arg("path"))
      // tok.load(path) on an instance (loom/multimodal/__init__.py routes it here).
      .def(
          "_load_into",
          [](WordTokenizer& t, py::handle path) { t = WordTokenizer::load(to_fs_path(path, "WordTokenizer.load")); },
          py::arg("path"));
  d.def("padding_mask", &padding_mask, py::arg("ids"), py::arg("pad_id") = int64_t(WordTokenizer::kPad));

  py::class_<RetrievalScores>(d, "RetrievalScores")
      .def_readonly("ks", &RetrievalScores::ks)
      .def_readonly("recall", &RetrievalScores::recall)
      .def_readonly("median_rank", &RetrievalScores::median_rank)
      .def_readonly("mean_reciprocal_rank", &RetrievalScores::mean_reciprocal_rank)
      .def_readonly("mean_average_precision", &RetrievalScores::mean_average_precision)
      .def_readonly("queries", &RetrievalScores::queries)
      .def("recall_at", &RetrievalScores::recall_at);
  py::class_<RetrievalMetrics>(d, "RetrievalMetrics")
      .def_readonly("image_to_text", &RetrievalMetrics::image_to_text)
      .def_readonly("text_to_image", &RetrievalMetrics::text_to_image);
  d.def(
      "retrieval_metrics",
      [](const Tensor& img, const Tensor& txt, const Tensor& il, const Tensor& tl, std::vector<int64_t> ks) {
        return il.defined() ? retrieval_metrics(img, txt, il, tl, ks) : retrieval_metrics(img, txt, ks);
      },
      py::arg("img_emb"), py::arg("txt_emb"), py::arg("img_labels") = Tensor(), py::arg("txt_labels") = Tensor(),
      py::arg("ks") = std::vector<int64_t>{1, 5, 10});
  d.def(
      "recall_at_k",
      [](const Tensor& sim, int64_t k, const Tensor& ql, const Tensor& dl) {
        return ql.defined() ? recall_at_k(sim, k, ql, dl) : recall_at_k(sim, k);
      },
      py::arg("sim"), py::arg("k"), py::arg("query_labels") = Tensor(), py::arg("doc_labels") = Tensor());
  d.def(
      "median_rank",
      [](const Tensor& sim, const Tensor& ql, const Tensor& dl) {
        return ql.defined() ? median_rank(sim, ql, dl) : median_rank(sim);
      },
      py::arg("sim"), py::arg("query_labels") = Tensor(), py::arg("doc_labels") = Tensor());
  d.def(
      "mean_reciprocal_rank",
      [](const Tensor& sim, const Tensor& ql, const Tensor& dl) {
        return ql.defined() ? mean_reciprocal_rank(sim, ql, dl) : mean_reciprocal_rank(sim);
      },
      py::arg("sim"), py::arg("query_labels") = Tensor(), py::arg("doc_labels") = Tensor());
  d.def(
      "mean_average_precision",
      [](py::handle sim, py::handle ql, py::handle dl) {
        const char* op = "mean_average_precision";
        return mean_average_precision(to_tensor(sim, op, "sim"), to_tensor(ql, op, "query_labels"),
                                      to_tensor(dl, op, "doc_labels"));
      },
      py::arg("sim"), py::arg("query_labels"), py::arg("doc_labels"));

  d.def(
      "load_fashion_mnist",
      [](const std::string& split, py::handle root) {
        LabelledImages li = load_fashion_mnist(split, to_fs_path(root, "load_fashion_mnist"));
        return py::make_tuple(li.images, li.labels);
      },
      py::arg("split"), py::arg("root") = std::string(kFashionMnistRoot));
  d.def("fashion_mnist_classes", &fashion_mnist_classes);
  d.def("fashion_mnist_captions", &fashion_mnist_captions, py::arg("labels"), py::arg("seed") = 0);
}

}  // namespace loom::python
