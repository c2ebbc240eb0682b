"""Conv1d, Conv2d, Conv3d (zero padding; padding may be an int, a tuple, 'valid' or 'same' for stride 1) and
ConvTranspose1d, ConvTranspose2d (forward may take output_size, as PyTorch). Conv3d runs F.conv3d: one 2-D
convolution per depth tap over the depth slices."""

from ... import _factories
from .. import functional as F
from .. import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _add_parameters(module, weight_shape, out_channels, bias, device, dtype):
    """weight (and bias, or a None bias), then the default initialisation."""
    module.weight = Parameter(_factories.empty(*weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(_factories.empty(out_channels, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


def _conv_repr(m, output_padding=None):
    """PyTorch's extra_repr of the conv modules: the arguments that differ from their defaults."""
    n = m._n
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * n:
        s += f", padding={m.padding}"  # a string unquoted, as PyTorch prints it
    if output_padding is not None and output_padding != (0,) * n:
        s += f", output_padding={output_padding}"
    if m.dilation != (1,) * n:
        s += f", dilation={m.dilation}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    if getattr(m, "padding_mode", "zeros") != "zeros":
        s += f", padding_mode={m.padding_mode}"
    return s


def _check_channels(in_channels, out_channels, groups):
    if groups <= 0:
        raise ValueError("groups must be a positive integer")
    if in_channels % groups != 0:
        raise ValueError("in_channels must be divisible by groups")
    if out_channels % groups != 0:
        raise ValueError("out_channels must be divisible by groups")


class _ConvNd(Module):
    _n = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        n = self._n
        _check_channels(in_channels, out_channels, groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = _tuple(kernel_size, n), _tuple(stride, n), _tuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            # 'same': d (k - 1) in all, the extra one on the right when odd (as PyTorch)
            totals = [d * (k - 1) if padding == "same" else 0 for d, k in zip(self.dilation, self.kernel_size)]
            self._pad_pairs = tuple((t // 2, t - t // 2) for t in totals)
            self.padding = padding
        else:
            self.padding = _tuple(padding, n)
            self._pad_pairs = tuple((p, p) for p in self.padding)
        self.padding_mode = padding_mode
        symmetric = all(a == b for a, b in self._pad_pairs)
        # The convolution's own (zero) padding, or 0 when the input is padded first by F.pad: another
        # padding_mode, or an asymmetric 'same'.
        self._padding_value = (tuple(a for a, _ in self._pad_pairs) if padding_mode == "zeros" and symmetric
                               else (0,) * n)
        self._pre_pad = None if padding_mode == "zeros" and symmetric else \
            tuple(v for pair in reversed(self._pad_pairs) for v in pair)
        _add_parameters(self, (out_channels, in_channels // groups) + self.kernel_size, out_channels, bias, device,
                        dtype)

    def reset_parameters(self):
        init._default_weight_bias_(self.weight, self.bias)

    def _padded(self, input):
        """The input padded by padding_mode (F.pad), when the convolution's zero padding does not do it."""
        if self._pre_pad is None or not any(self._pre_pad):
            return input
        return F.pad(input, self._pre_pad, mode="constant" if self.padding_mode == "zeros" else self.padding_mode)

    def extra_repr(self):
        return _conv_repr(self)


class Conv1d(_ConvNd):
    _n = 1

    def forward(self, input):
        return F.conv1d(self._padded(input), self.weight, self.bias, self.stride[0], self._padding_value[0],
                        self.dilation[0], self.groups)


class Conv2d(_ConvNd):
    _n = 2

    def forward(self, input):
        return F.conv2d(self._padded(input), self.weight, self.bias, self.stride, self._padding_value, self.dilation,
                        self.groups)


class Conv3d(_ConvNd):
    _n = 3

    def forward(self, input):
        return F.conv3d(self._padded(input), self.weight, self.bias, self.stride, self._padding_value, self.dilation,
                        self.groups)


class _ConvTransposeNd(Module):
    _n = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        n = self._n
        _check_channels(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = _tuple(kernel_size, n), _tuple(stride, n), _tuple(dilation, n)
        self.padding, self.output_padding = _tuple(padding, n), _tuple(output_padding, n)
        self.padding_mode = padding_mode
        # Transposed layout: [in_channels, out_channels / groups, *kernel_size].
        _add_parameters(self, (in_channels, out_channels // groups) + self.kernel_size, out_channels, bias, device,
                        dtype)

    def reset_parameters(self):
        init._default_weight_bias_(self.weight, self.bias)

    def _output_padding(self, input, output_size):
        """output_padding, or the one that gives output_size (the trailing spatial sizes)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        size = list(output_size)[-n:]
        if len(size) != n:
            raise ValueError(f"output_size must have {n} or {n + 2} elements (got {len(list(output_size))})")
        pads = []
        for d in range(n):
            least = ((input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d] +
                     self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            most = least + self.stride[d] - 1
            if not least <= size[d] <= most:
                raise ValueError(f"requested an output size of {size}, but valid sizes range from {least} to {most} "
                                 f"(for an input of {list(input.shape[-n:])})")
            pads.append(size[d] - least)
        return tuple(pads)

    def extra_repr(self):
        return _conv_repr(self, self.output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    _n = 1

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride[0], self.padding[0], op[0], self.groups,
                                  self.dilation[0])


class ConvTranspose2d(_ConvTransposeNd):
    _n = 2

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation)


class ConvTranspose3d(_ConvTransposeNd):
    _n = 3

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation)
