"""RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell with PyTorch's parameter names (weight_ih_l0, ..._reverse) and
init. RNN (tanh or relu), LSTM and GRU run loom's fused whole-sequence kernels; RNNCell is composed."""
import math

from ... import _C, _factories
from .. import functional as F
from .. import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNNCellBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

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

    def _packed(self, packed, hx):
        """A PackedSequence input: the fused kernels with per-sequence lengths (_packed_fused), so no padding
        enters the recurrence and h_n is every sequence's state at its own last step. Returns
        (PackedSequence, h_n) or, for LSTM, (PackedSequence, h_n, c_n), in the batch's original order."""
        from ..utils.rnn import PackedSequence
        data, batch_sizes, sorted_idx, unsorted_idx = packed
        bs = [int(v) for v in batch_sizes.tolist()]
        B = bs[0]
        D = 2 if self.bidirectional else 1
        L, H = self.num_layers, self.hidden_size
        if data.dim() != 2 or data.shape[1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{data.shape[-1] if data.dim() else 0}")
        states = []
        for h in hx if isinstance(hx, tuple) else (hx,) if hx is not None else ():
            if tuple(h.shape) != (L * D, B, H):
                raise RuntimeError(f"Expected hidden size {(L * D, B, H)}, got {list(h.shape)}")
            states.append(h.index_select(1, sorted_idx) if sorted_idx is not None else h)
        out, *finals = self._packed_fused(data, bs, states)
        result = [PackedSequence(out, batch_sizes, sorted_idx, unsorted_idx)]
        return tuple(result + [st.index_select(1, unsorted_idx) if unsorted_idx is not None else st for st in finals])

    def _packed_fused(self, data, bs, states):
        """A packed batch through the fused kernels: the packed rows laid out as a padded
        [T, B, I] batch (sorted, longest first; slots past a sequence's end read its first row, which the
        kernels never use: a sequence's state freezes at its length and the reverse direction starts
        there), one fused call per layer stack with the lengths, and the valid rows gathered back."""
        T, B = len(bs), bs[0]
        dev = data.device
        # pos[k]: the padded slot t * B + b of packed row k; src[slot]: the packed row it reads
        pos, src, row = [], [0] * (T * B), 0
        for t, n in enumerate(bs):
            for b in range(n):
                pos.append(t * B + b)
                src[t * B + b] = row
                row += 1
        pos_t = _factories.tensor(pos, dtype=_C.int64, device=dev)
        src_t = _factories.tensor(src, dtype=_C.int64, device=dev)
        lengths = _factories.tensor([sum(1 for n in bs if n > b) for b in range(B)], dtype=_C.int64, device=dev)
        x = data.index_select(0, src_t).reshape(T, B, data.shape[1])
        h0 = states[0] if states else None
        c0 = states[1] if len(states) > 1 else None

        def run(inp, layer_states, params, layers):
            if self.mode == "LSTM":
                return _native._lstm(inp, layer_states[0], layer_states[1], params, self.bias, layers,
                                     self.bidirectional, False, lengths)
            fn = {"GRU": _native._gru, "RNN_TANH": _native._rnn_tanh, "RNN_RELU": _native._rnn_relu}[self.mode]
            return fn(inp, layer_states[0], params, self.bias, layers, self.bidirectional, False, lengths)

        if self.dropout > 0 and self.training and self.num_layers > 1:
            D = 2 if self.bidirectional else 1
            per = (4 if self.bias else 2) * D
            weights, finals = self._flat_weights, []
            for layer in range(self.num_layers):
                sl = slice(layer * D, (layer + 1) * D)
                out = run(x, (None if h0 is None else h0[sl], None if c0 is None else c0[sl]),
                          weights[layer * per:(layer + 1) * per], 1)
                x = out[0]
                if layer < self.num_layers - 1:
                    x = F.dropout(x, self.dropout, True)
                finals.append(out[1:])
            res = (x,) + tuple(_C.cat([f[i] for f in finals], 0) for i in range(len(finals[0])))
        else:
            res = run(x, (h0, c0), self._flat_weights, self.num_layers)
        out = res[0]
        return (out.reshape(T * B, out.shape[2]).index_select(0, pos_t),) + tuple(res[1:])

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


def _is_packed(input):
    from ..utils.rnn import PackedSequence
    return isinstance(input, PackedSequence)


def _nonlinearity(name):
    if name == "tanh":
        return lambda t: t.tanh()
    if name == "relu":
        return lambda t: t.relu()
    raise ValueError(f"Unknown nonlinearity '{name}'. Select from 'tanh' or 'relu'.")


class RNN(_RNNBase):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu. Returns output, h_n."""

    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        self._act = _nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device,
                         dtype)

    def _run(self, input, hx, params, num_layers):
        if input.dim() not in (2, 3):
            raise ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
        if input.shape[-1] != params[0].shape[1]:  # the first layer's input size (per layer with dropout)
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {params[0].shape[1]}, got "
                               f"{input.shape[-1]}")
        if hx is not None:
            unbatched = input.dim() == 2
            N = 1 if unbatched else input.shape[0 if self.batch_first else 1]
            want = (num_layers * (2 if self.bidirectional else 1), N, self.hidden_size)
            if tuple(hx.unsqueeze(1).shape if unbatched and hx.dim() == 2 else hx.shape) != want:
                raise RuntimeError(f"Expected hidden size {want}, got {list(hx.shape)}")
        run = _native._rnn_relu if self.nonlinearity == "relu" else _native._rnn_tanh
        return run(input, hx, params, self.bias, num_layers, self.bidirectional, self.batch_first)

    def forward(self, input, hx=None):
        out, h = self._packed(input, hx) if _is_packed(input) else self._forward(input, hx)
        return out, h

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(_RNNBase):
    """Returns output, (h_n, c_n)."""

    _gates = 4
    mode = "LSTM"

    def _run(self, input, hx, params, num_layers):
        h0, c0 = (None, None) if hx is None else hx
        return _native._lstm(input, h0, c0, params, self.bias, num_layers, self.bidirectional, self.batch_first)

    def forward(self, input, hx=None):
        out, h, c = self._packed(input, hx) if _is_packed(input) else self._forward(input, hx)
        return out, (h, c)


class GRU(_RNNBase):
    """Returns output, h_n."""

    _gates = 3
    mode = "GRU"

    def _run(self, input, hx, params, num_layers):
        return _native._gru(input, hx, params, self.bias, num_layers, self.bidirectional, self.batch_first)

    def forward(self, input, hx=None):
        out, h = self._packed(input, hx) if _is_packed(input) else self._forward(input, hx)
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


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        self._act = _nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"RNNCell: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            h = _factories.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        else:
            h = hx.unsqueeze(0) if unbatched else hx
            if tuple(h.shape) != (x.shape[0], self.hidden_size):
                raise RuntimeError(f"RNNCell: expected hidden of shape {[x.shape[0], self.hidden_size]}, got "
                                   f"{list(hx.shape)}")
        cell = _native.rnn_relu_cell if self.nonlinearity == "relu" else _native.rnn_tanh_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTMCell(_CellBase):
    """Returns (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):
        return _native.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(_CellBase):
    _gates = 3

    def forward(self, input, hx=None):
        return _native.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


# PyTorch's public names of the base classes (isinstance checks).
RNNBase = _RNNBase
RNNCellBase = _CellBase
