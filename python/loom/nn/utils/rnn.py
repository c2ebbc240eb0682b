"""torch.nn.utils.rnn.pad_sequence: a list of variable-length sequences as one padded batch."""
from ... import _C

__all__ = ["pad_sequence"]


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
