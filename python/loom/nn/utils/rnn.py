"""torch.nn.utils.rnn: variable-length sequences as one padded batch (pad_sequence, unpad_sequence) or packed
(PackedSequence: pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence); RNN, LSTM and GRU
take a PackedSequence and skip the padding."""
from collections import namedtuple

from ... import _C

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence", "invert_permutation"]


def invert_permutation(permutation):
    """The permutation p^-1 with p^-1[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    from ..._factories import arange, empty
    out = empty(permutation.numel(), dtype=_C.int64, device=permutation.device)
    return out.scatter(0, permutation, arange(permutation.numel(), device=permutation.device))


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The steps of a batch of sequences sorted by decreasing length, time-major: data [sum(lengths), *] holds
    step 0 of every sequence, then step 1 of those at least 2 long, ...; batch_sizes [T] (int64, on the CPU)
    how many sequences each step has; sorted_indices / unsorted_indices the permutation from the batch's
    order to the sorted one and back (None when the batch was sorted already). Build it with
    pack_padded_sequence or pack_sequence, not directly."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        idx = [None if t is None else t.to(data.device) for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, idx[0], idx[1])

    def cuda(self, *args, **kwargs):
        return self.to(*(args or ("cuda",)), **kwargs)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(_C.float64)

    def float(self):
        return self.to(_C.float32)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _lengths_list(lengths, op):
    if isinstance(lengths, _C.Tensor):
        if lengths.dim() != 1:
            raise ValueError(f"{op}: lengths must be a 1-D tensor or a list, got shape {list(lengths.shape)}")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch [T, B, *] ([B, T, *] with batch_first) whose sequence b is lengths[b] long. With
    enforce_sorted the lengths must be decreasing; otherwise the batch is sorted here and the permutation kept."""
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"pack_padded_sequence: expected a Tensor input, got {type(input).__name__}")
    lens = _lengths_list(lengths, "pack_padded_sequence")
    x = input.transpose(0, 1) if batch_first else input  # [T, B, *]
    if x.dim() < 2 or len(lens) != x.shape[1]:
        raise RuntimeError(f"pack_padded_sequence: expected input [T, B, *] (batch_first={batch_first}) with B = "
                           f"len(lengths) = {len(lens)}, got input of size {list(input.shape)}")
    if any(n <= 0 for n in lens):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    T, B = x.shape[0], x.shape[1]
    if max(lens) > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({max(lens)}) exceeds the input's {T} steps")
    from ..._factories import tensor
    sorted_indices = None
    if enforce_sorted:
        if any(b > a for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = sorted(range(B), key=lambda i: -lens[i])
        sorted_indices = tensor(order, dtype=_C.int64, device=input.device)
        x = x.index_select(1, sorted_indices)
        lens = [lens[i] for i in order]
    batch_sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    rows = tensor([t * B + b for t, n in enumerate(batch_sizes) for b in range(n)], dtype=_C.int64,
                  device=input.device)
    data = x.reshape(T * B, *x.shape[2:]).index_select(0, rows)
    return PackedSequence(data, tensor(batch_sizes, dtype=_C.int64), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch [T, B, *] ([B, T, *] with batch_first) of a PackedSequence, in the batch's original
    order, and the lengths (int64); total_length pads to that many steps."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data, batch_sizes = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    T, B = len(batch_sizes), batch_sizes[0] if batch_sizes else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
        T_out = total_length
    else:
        T_out = T
    from ..._factories import full, tensor
    N = data.shape[0]
    trailing = tuple(data.shape[1:])
    pad = full((1,) + trailing, padding_value, dtype=data.dtype, device=data.device)
    src = _C.cat([data, pad], 0)
    gather, offset = [], 0
    for t in range(T_out):
        n = batch_sizes[t] if t < T else 0
        gather += [offset + b if b < n else N for b in range(B)]
        offset += n
    out = src.index_select(0, tensor(gather, dtype=_C.int64, device=data.device)).reshape(T_out, B, *trailing)
    lengths = [sum(1 for n in batch_sizes if n > b) for b in range(B)]
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        inv = [int(v) for v in sequence.unsorted_indices.tolist()]
        lengths = [lengths[i] for i in inv]
    return (out.transpose(0, 1) if batch_first else out), tensor(lengths, dtype=_C.int64)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence of pad_sequence(sequences) with their lengths."""
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences [lengths[b], *] of a padded batch."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b].narrow(0, 0, n) for b, n in enumerate(_lengths_list(lengths, "unpad_sequence"))]


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks tensors of shape [L_i, *] into [L_max, B, *] (or [B, L_max, *] with batch_first), filling
    the missing steps with padding_value on the right (or the left with padding_side="left")."""
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError("pad_sequence: padding_side must be 'left' or 'right', got " + repr(padding_side))
    for i, s in enumerate(sequences):
        if not isinstance(s, _C.Tensor):
            raise TypeError("pad_sequence: expected a list of Tensors, element {} is {}".format(i, type(s).__name__))
        if s.dim() < 1:
            raise RuntimeError("pad_sequence: sequence {} is 0-dimensional; expected [L, *]".format(i))
    first = sequences[0]
    trailing = tuple(first.shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError("pad_sequence: sequence {} has trailing shape {}, expected {} like sequence 0".format(
                i, list(s.shape[1:]), list(trailing)))
        if s.dtype != first.dtype or s.device != first.device:
            raise RuntimeError("pad_sequence: all sequences must share dtype and device; sequence {} is {} on {}, "
                               "sequence 0 {} on {}".format(i, s.dtype, s.device, first.dtype, first.device))
    longest = max(s.shape[0] for s in sequences)
    from ..._factories import full
    out = full((len(sequences), longest) + trailing, padding_value, dtype=first.dtype, device=first.device)
    for i, s in enumerate(sequences):
        n = s.shape[0]
        if n == 0:
            continue
        start = 0 if padding_side == "right" else longest - n
        out[i].narrow(0, start, n).copy_(s)
    return out if batch_first else out.transpose(0, 1)
