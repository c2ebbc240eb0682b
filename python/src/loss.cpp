// loom._C._functional (re-exported by loom.nn.functional): the losses of
// nn/functional/losses.h plus normalize and cosine_similarity, with
// torch.nn.functional's keyword names and defaults (including the legacy
// size_average / reduce arguments), and the fused cross_entropy of
// autograd/ops/loss.h.
#include <string>

#include "autograd/ops/loss.h"
#include "common.h"
#include "nn/functional/losses.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

namespace F = loom::nn::functional;

// PyTorch's legacy size_average / reduce arguments mapped onto reduction.
std::string reduction_of(py::handle size_average, py::handle reduce, const std::string& reduction) {
  if (size_average.is_none() && reduce.is_none()) return reduction;
  const bool avg = size_average.is_none() ? true : size_average.cast<bool>();
  const bool red = reduce.is_none() ? true : reduce.cast<bool>();
  if (!red) return "none";
  return avg ? "mean" : "sum";
}

// Pointwise regression losses share one signature:
// f(input, target, size_average=None, reduce=None, reduction='mean').
using PairLoss = Tensor (*)(const Tensor&, const Tensor&, const std::string&);

template <PairLoss fn>
void def_pair_loss(py::module_& f, const char* name, const char* doc) {
  f.def(
      name,
      [name](const py::object& input, const py::object& target, const py::object& size_average,
             const py::object& reduce, const std::string& reduction) {
        return fn(to_tensor(input, name, "input"), to_tensor(target, name, "target"),
                  reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("size_average") = py::none(), py::arg("reduce") = py::none(),
      py::arg("reduction") = "mean", doc);
}

Tensor mse(const Tensor& a, const Tensor& b, const std::string& r) { return F::mse_loss(a, b, r); }
Tensor l1(const Tensor& a, const Tensor& b, const std::string& r) { return F::l1_loss(a, b, r); }
Tensor soft_margin(const Tensor& a, const Tensor& b, const std::string& r) { return F::soft_margin_loss(a, b, r); }

}  // namespace

static RegisterFunctional reg_loss([](py::module_& f) {
  def_pair_loss<mse>(f, "mse_loss", "Mean squared error (input - target)^2");
  def_pair_loss<l1>(f, "l1_loss", "Mean absolute error |input - target|");
  def_pair_loss<soft_margin>(f, "soft_margin_loss", "log(1 + exp(-target * input)), without overflow");
  f.def(
      "pairwise_distance",
      [](const py::object& x1, const py::object& x2, double p, double eps, bool keepdim) {
        const char* op = "pairwise_distance";
        return F::pairwise_distance(to_tensor(x1, op, "x1"), to_tensor(x2, op, "x2"), p, eps, keepdim);
      },
      py::arg("x1"), py::arg("x2"), py::arg("p") = 2.0, py::arg("eps") = 1e-6, py::arg("keepdim") = false,
      "||x1 - x2 + eps||_p over the last dim");
  f.def(
      "margin_ranking_loss",
      [](const py::object& input1, const py::object& input2, const py::object& target, double margin,
         const py::object& size_average, const py::object& reduce, const std::string& reduction) {
        const char* op = "margin_ranking_loss";
        return F::margin_ranking_loss(to_tensor(input1, op, "input1"), to_tensor(input2, op, "input2"),
                                      to_tensor(target, op, "target"), margin,
                                      reduction_of(size_average, reduce, reduction));
      },
      py::arg("input1"), py::arg("input2"), py::arg("target"), py::arg("margin") = 0.0,
      py::arg("size_average") = py::none(), py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "max(0, -target * (input1 - input2) + margin)");
  f.def(
      "triplet_margin_loss",
      [](const py::object& anchor, const py::object& positive, const py::object& negative, double margin, double p,
         double eps, bool swap, const py::object& size_average, const py::object& reduce,
         const std::string& reduction) {
        const char* op = "triplet_margin_loss";
        return F::triplet_margin_loss(to_tensor(anchor, op, "anchor"), to_tensor(positive, op, "positive"),
                                      to_tensor(negative, op, "negative"), margin, p, eps, swap,
                                      reduction_of(size_average, reduce, reduction));
      },
      py::arg("anchor"), py::arg("positive"), py::arg("negative"), py::arg("margin") = 1.0, py::arg("p") = 2.0,
      py::arg("eps") = 1e-6, py::arg("swap") = false, py::arg("size_average") = py::none(),
      py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "max(0, margin + d(anchor, positive) - d(anchor, negative)), d = pairwise_distance");
  f.def(
      "hinge_embedding_loss",
      [](const py::object& input, const py::object& target, double margin, const py::object& size_average,
         const py::object& reduce, const std::string& reduction) {
        const char* op = "hinge_embedding_loss";
        return F::hinge_embedding_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"), margin,
                                       reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("margin") = 1.0, py::arg("size_average") = py::none(),
      py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "input where target is 1, max(0, margin - input) where target is -1");
  f.def(
      "multilabel_soft_margin_loss",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         const py::object& reduce, const std::string& reduction) {
        const char* op = "multilabel_soft_margin_loss";
        return F::multilabel_soft_margin_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                                              opt_tensor(weight, op, "weight"),
                                              reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "Per sample, the class mean of the binary cross-entropy of logits");
  f.def(
      "multi_margin_loss",
      [](const py::object& input, const py::object& target, int64_t p, double margin, const py::object& weight,
         const py::object& size_average, const py::object& reduce, const std::string& reduction) {
        const char* op = "multi_margin_loss";
        return F::multi_margin_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"), p, margin,
                                    opt_tensor(weight, op, "weight"), reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("p") = 1, py::arg("margin") = 1.0, py::arg("weight") = py::none(),
      py::arg("size_average") = py::none(), py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "Multi-class hinge loss: sum over i != y of max(0, margin - x[y] + x[i])^p / C");
  f.def(
      "poisson_nll_loss",
      [](const py::object& input, const py::object& target, bool log_input, bool full, const py::object& size_average,
         double eps, const py::object& reduce, const std::string& reduction) {
        const char* op = "poisson_nll_loss";
        return F::poisson_nll_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"), log_input, full, eps,
                                   reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("log_input") = true, py::arg("full") = false,
      py::arg("size_average") = py::none(), py::arg("eps") = 1e-8, py::arg("reduce") = py::none(),
      py::arg("reduction") = "mean", "Negative log-likelihood of a Poisson target");
  f.def(
      "gaussian_nll_loss",
      [](const py::object& input, const py::object& target, const py::object& var, bool full, double eps,
         const std::string& reduction) {
        const char* op = "gaussian_nll_loss";
        Tensor x = to_tensor(input, op, "input");
        Tensor v;
        if (py::isinstance<py::float_>(var) || py::isinstance<py::int_>(var)) {
          const double value = var.cast<double>();
          if (value < 0) throw py::value_error("gaussian_nll_loss: var has negative entries");
          v = ones_like(x) * value;
        } else {
          v = to_tensor(var, op, "var");
        }
        return F::gaussian_nll_loss(x, to_tensor(target, op, "target"), v, full, eps, reduction);
      },
      py::arg("input"), py::arg("target"), py::arg("var"), py::arg("full") = false, py::arg("eps") = 1e-6,
      py::arg("reduction") = "mean", "Negative log-likelihood of a Gaussian target with predicted variance var");
  f.def(
      "smooth_l1_loss",
      [](const py::object& input, const py::object& target, const py::object& size_average, const py::object& reduce,
         const std::string& reduction, double beta) {
        const char* op = "smooth_l1_loss";
        return F::smooth_l1_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                                 reduction_of(size_average, reduce, reduction), beta);
      },
      py::arg("input"), py::arg("target"), py::arg("size_average") = py::none(), py::arg("reduce") = py::none(),
      py::arg("reduction") = "mean", py::arg("beta") = 1.0, registry_doc("smooth_l1_loss"));
  f.def(
      "huber_loss",
      [](const py::object& input, const py::object& target, const std::string& reduction, double delta) {
        const char* op = "huber_loss";
        return F::huber_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"), reduction, delta);
      },
      py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("delta") = 1.0,
      registry_doc("huber_loss"));
  f.def(
      "cross_entropy",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         int64_t ignore_index, const py::object& reduce, const std::string& reduction, double label_smoothing) {
        const char* op = "cross_entropy";
        return loom::cross_entropy(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                                   opt_tensor(weight, op, "weight"), ignore_index,
                                   reduction_of(size_average, reduce, reduction), label_smoothing);
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      py::arg("label_smoothing") = 0.0, registry_doc("cross_entropy"));
  f.def(
      "ctc_loss",
      [](const py::object& log_probs, const py::object& targets, const py::object& input_lengths,
         const py::object& target_lengths, int64_t blank, const std::string& reduction, bool zero_infinity) {
        const char* op = "ctc_loss";
        Tensor lp = to_tensor(log_probs, op, "log_probs"), tg = to_tensor(targets, op, "targets");
        // lengths: tensors (read to the host) or sequences of ints, as PyTorch
        if (py::isinstance<Tensor>(input_lengths) && py::isinstance<Tensor>(target_lengths))
          return loom::ctc_loss(lp, tg, input_lengths.cast<Tensor>(), target_lengths.cast<Tensor>(), blank, reduction,
                                zero_infinity);
        auto lengths = [&](const py::object& h, const char* name) {
          if (py::isinstance<Tensor>(h)) {
            Tensor t = h.cast<Tensor>();
            LOOM_CHECK_TYPE(!is_floating(t.dtype()) && t.dtype() != DType::Bool, "ctc_loss: expected integer ", name,
                            ", got ", dtype_name(t.dtype()));
            return to_dims(py::reinterpret_borrow<py::object>(h.attr("tolist")()));
          }
          LOOM_CHECK_TYPE(py::isinstance<py::int_>(h) || py::isinstance<py::sequence>(h), "ctc_loss: ", name,
                          " must be a Tensor or a sequence of ints, got ",
                          std::string(py::str(py::type::of(h).attr("__name__"))));
          return to_dims(h);
        };
        return loom::ctc_loss(lp, tg, lengths(input_lengths, "input_lengths"),
                              lengths(target_lengths, "target_lengths"), blank, reduction, zero_infinity);
      },
      py::arg("log_probs"), py::arg("targets"), py::arg("input_lengths"), py::arg("target_lengths"),
      py::arg("blank") = 0, py::arg("reduction") = "mean", py::arg("zero_infinity") = false, registry_doc("ctc_loss"));
  f.def(
      "nll_loss",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         int64_t ignore_index, const py::object& reduce, const std::string& reduction) {
        const char* op = "nll_loss";
        return F::nll_loss(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                           opt_tensor(weight, op, "weight"), ignore_index,
                           reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      registry_doc("nll_loss"));
  f.def(
      "binary_cross_entropy",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         const py::object& reduce, const std::string& reduction) {
        const char* op = "binary_cross_entropy";
        return F::binary_cross_entropy(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                                       opt_tensor(weight, op, "weight"), reduction_of(size_average, reduce, reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "Binary cross-entropy of probabilities (logs clamped to >= -100)");
  f.def(
      "binary_cross_entropy_with_logits",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         const py::object& reduce, const std::string& reduction, const py::object& pos_weight) {
        const char* op = "binary_cross_entropy_with_logits";
        return F::binary_cross_entropy_with_logits(
            to_tensor(input, op, "input"), to_tensor(target, op, "target"), opt_tensor(weight, op, "weight"),
            reduction_of(size_average, reduce, reduction), opt_tensor(pos_weight, op, "pos_weight"));
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("reduce") = py::none(), py::arg("reduction") = "mean", py::arg("pos_weight") = py::none(),
      registry_doc("binary_cross_entropy_with_logits"));
  f.def(
      "cosine_embedding_loss",
      [](const py::object& input1, const py::object& input2, const py::object& target, double margin,
         const py::object& size_average, const py::object& reduce, const std::string& reduction) {
        const char* op = "cosine_embedding_loss";
        return F::cosine_embedding_loss(to_tensor(input1, op, "input1"), to_tensor(input2, op, "input2"),
                                        to_tensor(target, op, "target"), margin,
                                        reduction_of(size_average, reduce, reduction));
      },
      py::arg("input1"), py::arg("input2"), py::arg("target"), py::arg("margin") = 0.0,
      py::arg("size_average") = py::none(), py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      "1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1");
  f.def(
      "kl_div",
      [](const py::object& input, const py::object& target, const py::object& size_average, const py::object& reduce,
         const std::string& reduction, bool log_target) {
        const char* op = "kl_div";
        return F::kl_div(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                         reduction_of(size_average, reduce, reduction), log_target);
      },
      py::arg("input"), py::arg("target"), py::arg("size_average") = py::none(), py::arg("reduce") = py::none(),
      py::arg("reduction") = "mean", py::arg("log_target") = false,
      "Pointwise KL divergence of log-probabilities input against target ('batchmean' divides by the batch size)");
  f.def(
      "normalize",
      [](const py::object& input, double p, int64_t dim, double eps, const py::object& out) {
        if (!out.is_none()) throw py::type_error("normalize: out= is not supported by loom");
        return F::normalize(to_tensor(input, "normalize", "input"), p, dim, eps);
      },
      py::arg("input"), py::arg("p") = 2.0, py::arg("dim") = 1, py::arg("eps") = 1e-12, py::arg("out") = py::none(),
      "input / max(||input||_p over dim, eps)");
  f.def(
      "cosine_similarity",
      [](const py::object& x1, const py::object& x2, int64_t dim, double eps) {
        const char* op = "cosine_similarity";
        return F::cosine_similarity(to_tensor(x1, op, "x1"), to_tensor(x2, op, "x2"), dim, eps);
      },
      py::arg("x1"), py::arg("x2"), py::arg("dim") = 1, py::arg("eps") = 1e-8,
      "Cosine similarity of x1 and x2 along dim (inputs broadcast)");
});

}  // namespace loom::python
