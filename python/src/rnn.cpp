// loom.nn.functional.lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell
// (torch.lstm_cell / torch.gru_cell ... argument lists: hx is (h, c) for the
// LSTM, or None for zeros) and the raw sequence functions _lstm / _gru /
// _rnn_tanh / _rnn_relu that nn.LSTM / nn.GRU / nn.RNN call with their flat
// parameter list (PyTorch order: per layer, per direction
// w_ih, w_hh[, b_ih, b_hh]).
#include "autograd/ops/rnn.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

TensorList tensor_list(const py::object& o, const char* op, const char* arg) {
  if (!py::isinstance<py::sequence>(o) || py::isinstance<py::str>(o))
    throw py::type_error(std::string(op) + "(): argument '" + arg + "' must be a sequence of Tensors");
  TensorList out;
  for (py::handle h : o) out.push_back(to_tensor(h, op, arg));
  return out;
}

}  // namespace

static RegisterFunctional reg_rnn([](py::module_& f) {
  f.def(
      "lstm_cell",
      [](const py::object& input, const py::object& hx, const py::object& w_ih, const py::object& w_hh,
         const py::object& b_ih, const py::object& b_hh) {
        Tensor h, c;
        if (!hx.is_none()) {
          TensorList s = tensor_list(hx, "lstm_cell", "hx");
          if (s.size() != 2)
            throw py::value_error("lstm_cell(): hx must be a pair (h, c), got " + std::to_string(s.size()) +
                                  " tensors");
          h = s[0], c = s[1];
        }
        auto [h1, c1] = lstm_cell(to_tensor(input, "lstm_cell", "input"), h, c, to_tensor(w_ih, "lstm_cell", "w_ih"),
                                  to_tensor(w_hh, "lstm_cell", "w_hh"), opt_tensor(b_ih, "lstm_cell", "b_ih"),
                                  opt_tensor(b_hh, "lstm_cell", "b_hh"));
        return py::make_tuple(h1, c1);
      },
      py::arg("input"), py::arg("hx"), py::arg("w_ih"), py::arg("w_hh"), py::arg("b_ih") = py::none(),
      py::arg("b_hh") = py::none(), registry_doc("lstm_cell"));
  f.def(
      "gru_cell",
      [](const py::object& input, const py::object& hx, const py::object& w_ih, const py::object& w_hh,
         const py::object& b_ih, const py::object& b_hh) {
        return gru_cell(to_tensor(input, "gru_cell", "input"), opt_tensor(hx, "gru_cell", "hx"),
                        to_tensor(w_ih, "gru_cell", "w_ih"), to_tensor(w_hh, "gru_cell", "w_hh"),
                        opt_tensor(b_ih, "gru_cell", "b_ih"), opt_tensor(b_hh, "gru_cell", "b_hh"));
      },
      py::arg("input"), py::arg("hx"), py::arg("w_ih"), py::arg("w_hh"), py::arg("b_ih") = py::none(),
      py::arg("b_hh") = py::none(), registry_doc("gru_cell"));
  for (bool relu : {false, true}) {
    const char* name = relu ? "rnn_relu_cell" : "rnn_tanh_cell";
    f.def(
        name,
        [relu, name](const py::object& input, const py::object& hx, const py::object& w_ih, const py::object& w_hh,
                     const py::object& b_ih, const py::object& b_hh) {
          auto fn = relu ? rnn_relu_cell : rnn_tanh_cell;
          return fn(to_tensor(input, name, "input"), opt_tensor(hx, name, "hx"), to_tensor(w_ih, name, "w_ih"),
                    to_tensor(w_hh, name, "w_hh"), opt_tensor(b_ih, name, "b_ih"), opt_tensor(b_hh, name, "b_hh"));
        },
        py::arg("input"), py::arg("hx"), py::arg("w_ih"), py::arg("w_hh"), py::arg("b_ih") = py::none(),
        py::arg("b_hh") = py::none(), registry_doc(name));
    const char* seq = relu ? "rnn_relu" : "rnn_tanh";
    f.def(
        relu ? "_rnn_relu" : "_rnn_tanh",
        [relu, seq](const py::object& input, const py::object& h0, const py::object& params, bool has_biases,
                    int64_t num_layers, bool bidirectional, bool batch_first, const py::object& lengths) {
          auto fn = relu ? rnn_relu : rnn_tanh;
          RnnOutput r =
              fn(to_tensor(input, seq, "input"), opt_tensor(h0, seq, "h0"), tensor_list(params, seq, "params"),
                 has_biases, num_layers, bidirectional, batch_first, opt_tensor(lengths, seq, "lengths"));
          return py::make_tuple(r.output, r.h_n);
        },
        py::arg("input"), py::arg("h0"), py::arg("params"), py::arg("has_biases") = true, py::arg("num_layers") = 1,
        py::arg("bidirectional") = false, py::arg("batch_first") = false, py::arg("lengths") = py::none(),
        registry_doc(seq));
  }
  f.def(
      "_lstm",
      [](const py::object& input, const py::object& h0, const py::object& c0, const py::object& params, bool has_biases,
         int64_t num_layers, bool bidirectional, bool batch_first, const py::object& lengths) {
        RnnOutput r = lstm(to_tensor(input, "lstm", "input"), opt_tensor(h0, "lstm", "h0"),
                           opt_tensor(c0, "lstm", "c0"), tensor_list(params, "lstm", "params"), has_biases, num_layers,
                           bidirectional, batch_first, opt_tensor(lengths, "lstm", "lengths"));
        return py::make_tuple(r.output, r.h_n, r.c_n);
      },
      py::arg("input"), py::arg("h0"), py::arg("c0"), py::arg("params"), py::arg("has_biases") = true,
      py::arg("num_layers") = 1, py::arg("bidirectional") = false, py::arg("batch_first") = false,
      py::arg("lengths") = py::none(), registry_doc("lstm"));
  f.def(
      "_gru",
      [](const py::object& input, const py::object& h0, const py::object& params, bool has_biases, int64_t num_layers,
         bool bidirectional, bool batch_first, const py::object& lengths) {
        RnnOutput r =
            gru(to_tensor(input, "gru", "input"), opt_tensor(h0, "gru", "h0"), tensor_list(params, "gru", "params"),
                has_biases, num_layers, bidirectional, batch_first, opt_tensor(lengths, "gru", "lengths"));
        return py::make_tuple(r.output, r.h_n);
      },
      py::arg("input"), py::arg("h0"), py::arg("params"), py::arg("has_biases") = true, py::arg("num_layers") = 1,
      py::arg("bidirectional") = false, py::arg("batch_first") = false, py::arg("lengths") = py::none(),
      registry_doc("gru"));
});

}  // namespace loom::python
