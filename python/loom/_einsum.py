"""loom.einsum: Einstein summation composed from views, sums and batched matrix products.

The equation follows PyTorch (and NumPy): letters a-z and A-Z name dims, "..." stands for the dims not
named (broadcast between operands), an explicit output follows "->", and without one the output holds
the letters seen once, in alphabetical order, after the broadcast "..." dims. Operands are contracted
left to right, as PyTorch does without opt_einsum. Per operand, a repeated letter takes the diagonal and
a letter no one else needs is summed at once; each pair then becomes one bmm over its batch letters
(in both and still needed), its contracted letters (in both, no longer needed) and the letters of one
side. Gradients come from the ops used (diagonal views, sum, permute, reshape, expand, bmm).
"""
from ._C import Tensor

_ELL = "."  # one letter standing for all the "..." dims while parsing


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): {len(terms)} operands in the equation {equation!r} but {len(operands)} given")
    parsed = []
    ell_ndim = 0
    for k, (term, op) in enumerate(zip(terms, operands)):
        if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
            raise ValueError(f"einsum(): invalid ellipsis in operand {k} of {equation!r}")
        letters = term.replace("...", _ELL)
        if not all(c.isalpha() or c == _ELL for c in letters):
            raise ValueError(f"einsum(): invalid subscript in operand {k} of {equation!r}: only letters a-z, "
                             f"A-Z and '...' are allowed")
        named = len(letters) - (1 if _ELL in letters else 0)
        if (_ELL in letters and op.dim() < named) or (_ELL not in letters and op.dim() != named):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({op.dim()}) for operand {k}"
                               + ("" if _ELL in letters else " and no ellipsis was given"))
        n_ell = op.dim() - named if _ELL in letters else 0
        ell_ndim = max(ell_ndim, n_ell)
        parsed.append((letters, n_ell))
    # The ellipsis dims get private labels chr(0x100 + i), aligned from the right.
    ell = [chr(0x100 + i) for i in range(ell_ndim)]
    expanded = []
    for letters, n_ell in parsed:
        out = []
        for c in letters:
            out.extend(ell[ell_ndim - n_ell:] if c == _ELL else [c])
        expanded.append(out)
    if arrow:
        if rhs.count("...") > 1 or rhs.replace("...", "").count(".") > 0 or \
                not all(c.isalpha() or c == _ELL for c in rhs.replace("...", _ELL)):
            raise ValueError(f"einsum(): invalid output subscripts in {equation!r}")
        output = []
        for c in rhs.replace("...", _ELL):
            if c == _ELL:
                output.extend(ell)
                continue
            if c in output:
                raise ValueError(f"einsum(): output subscript {c} appears more than once in {equation!r}")
            if not any(c in e for e in expanded):
                raise ValueError(f"einsum(): output subscript {c} does not appear in the inputs of {equation!r}")
            output.append(c)
    else:
        counts = {}
        for e in expanded:
            for c in e:
                counts[c] = counts.get(c, 0) + 1
        output = ell + sorted(c for c in counts if counts[c] == 1 and c not in ell)
    return expanded, output


def _take_diagonals(t, labels):
    """One dim per label: repeated labels of one operand become the diagonal."""
    while len(set(labels)) != len(labels):
        seen = {}
        for i, c in enumerate(labels):
            if c in seen:
                j = seen[c]
                if t.shape[i] != t.shape[j]:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the sizes don't "
                                       f"match, {t.shape[j]} != {t.shape[i]}")
                t = t.diagonal(0, j, i)  # the diagonal goes last
                labels = [l for k, l in enumerate(labels) if k not in (i, j)] + [c]
                break
            seen[c] = i
    return t, labels


def _sum_out(t, labels, keep):
    drop = [i for i, c in enumerate(labels) if c not in keep]
    if drop:
        t = t.sum(drop)
        labels = [c for c in labels if c in keep]
    return t, labels


def _sizes(a, la, b, lb):
    """The broadcast size of every label of a and b (size-1 dims broadcast)."""
    size = {}
    for t, labels in ((a, la), (b, lb)):
        for c, n in zip(labels, t.shape):
            if c in size and size[c] != n and 1 not in (size[c], n):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: subscript "
                                   f"{c if len(c) == 1 and c.isalpha() else '...'} has sizes {size[c]} and {n}")
            size[c] = max(size.get(c, n), n) if n != 1 else size.get(c, 1)
    return size


def _contract(a, la, b, lb, needed):
    """The pairwise product of a and b summed over the labels they share and nobody else needs."""
    size = _sizes(a, la, b, lb)
    batch = [c for c in la if c in lb and c in needed]
    summed = [c for c in la if c in lb and c not in needed]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]

    def arrange(t, labels, order):
        t = t.permute([labels.index(c) for c in order])
        return t.expand([size[c] for c in order])

    def numel(labels):
        n = 1
        for c in labels:
            n *= size[c]
        return n

    ta = arrange(a, la, batch + only_a + summed).reshape(numel(batch), numel(only_a), numel(summed))
    tb = arrange(b, lb, batch + summed + only_b).reshape(numel(batch), numel(summed), numel(only_b))
    out = ta.bmm(tb).reshape([size[c] for c in batch + only_a + only_b])
    return out, batch + only_a + only_b


def einsum(equation, *operands):
    """Einstein summation over the operands, as torch.einsum (operands may also be one list)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    for k, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): operand {k} must be Tensor, not {type(op).__name__}")
    labels, output = _parse(equation, operands)
    prepared = []
    for k, (t, lab) in enumerate(zip(operands, labels)):
        t, lab = _take_diagonals(t, lab)
        later = set(output).union(*(set(l) for j, l in enumerate(labels) if j != k))
        t, lab = _sum_out(t, lab, later)
        prepared.append((t, lab))
    acc, lab = prepared[0]
    for k in range(1, len(prepared)):
        t, tl = prepared[k]
        needed = set(output).union(*(set(l) for _, l in prepared[k + 1:]))
        acc, lab = _contract(acc, lab, t, tl, needed)
    acc, lab = _sum_out(acc, lab, set(output))
    return acc.permute([lab.index(c) for c in output]) if lab != output else acc


__all__ = ["einsum"]
