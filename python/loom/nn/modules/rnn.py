"""LSTM, GRU, LSTMCell, GRUCell with PyTorch's parameter names (weight_ih_l0, ..._reverse) and init."""
import math

from ... import _C, _factories
from .. import functional as F
from .. import init
from .module import Module, Parameter

__all__ = ["LSTM", "GRU", "LSTMCell", "GRUCell"]

_native = _C._functional


class _RNNBase(Module):
    _gates = 1
    mode = ""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if proj_size != 0:
            raise NotImplementedError(f"{type(self).__name__}: proj_size is not supported")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1]")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError("hidden_size and num_layers must be greater than 0")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        G = self._gates * hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * D
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (G, layer_in)), ("weight_hh", (G, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(_factories.empty(*shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        per = 4 if self.bias else 2
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _run(self, input, hx, params, num_layers):
        raise NotImplementedError

    def _forward(self, input, hx):
        D = 2 if self.bidirectional else 1
        if self.dropout > 0 and self.training and self.num_layers > 1:
            # Layer by layer with dropout on the outputs of all but the last layer, like PyTorch.
            per = (4 if self.bias else 2) * D
            weights = self._flat_weights
            hs = []
            x = input
            for layer in range(self.num_layers):
                layer_hx = None
                if hx is not None:
                    layer_hx = tuple(h[layer * D:(layer + 1) * D] for h in hx) if isinstance(hx, tuple) else \
                        hx[layer * D:(layer + 1) * D]
                out = self._run(x, layer_hx, weights[layer * per:(layer + 1) * per], 1)
                x = out[0]
                if layer < self.num_layers - 1:
                    x = F.dropout(x, self.dropout, True)
                hs.append(out[1:])
            return (x,) + tuple(_C.cat([h[i] for h in hs], 0) for i in range(len(hs[0])))
        return self._run(input, hx, self._flat_weights, self.num_layers)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class LSTM(_RNNBase):
    """Returns output, (h_n, c_n)."""

    _gates = 4
    mode = "LSTM"

    def _run(self, input, hx, params, num_layers):
        h0, c0 = (None, None) if hx is None else hx
        return _native._lstm(input, h0, c0, params, self.bias, num_layers, self.bidirectional, self.batch_first)

    def forward(self, input, hx=None):
        out, h, c = self._forward(input, hx)
        return out, (h, c)


class GRU(_RNNBase):
    """Returns output, h_n."""

    _gates = 3
    mode = "GRU"

    def _run(self, input, hx, params, num_layers):
        return _native._gru(input, hx, params, self.bias, num_layers, self.bidirectional, self.batch_first)

    def forward(self, input, hx=None):
        out, h = self._forward(input, hx)
        return out, h


class _CellBase(Module):
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        G = self._gates * hidden_size
        self.weight_ih = Parameter(_factories.empty(G, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(_factories.empty(G, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_factories.empty(G, device=device, dtype=dtype))
            self.bias_hh = Parameter(_factories.empty(G, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTMCell(_CellBase):
    """Returns (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):
        return _native.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(_CellBase):
    _gates = 3

    def forward(self, input, hx=None):
        return _native.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
