"""Datasets: map-style (Dataset: __getitem__ and __len__) and iterable (IterableDataset: __iter__)."""
import bisect
import math

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split"]


class Dataset:
    """A map from indices to samples: subclasses define __getitem__ (and __len__ for samplers)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define __iter__. With num_workers > 0 each worker iterates its own
    copy of the stream; shard it with get_worker_info() (id, num_workers) to avoid duplicates."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of tensors that share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        n = tensors[0].shape[0] if tensors[0].dim() > 0 else None
        for i, t in enumerate(tensors):
            if t.dim() == 0 or t.shape[0] != n:
                raise ValueError("TensorDataset: size mismatch between tensors: tensor 0 has {} rows, tensor {} "
                                 "has shape {}".format(n, i, list(t.shape)))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Samples of several datasets of the same length side by side: StackDataset(a, b) gives (a[i], b[i]),
    StackDataset(image=a, text=b) gives {"image": a[i], "text": b[i]}."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give datasets as positional or as keyword arguments, not both")
        self.datasets = args or kwargs
        items = list(self.datasets) if args else list(self.datasets.values())
        if not items:
            raise ValueError("StackDataset: expected at least one dataset")
        self._length = len(items[0])
        if any(len(d) != self._length for d in items):
            raise ValueError("StackDataset: size mismatch between datasets: " + str([len(d) for d in items]))

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError("ConcatDataset: index {} out of range for length {}".format(index, len(self)))
            index = len(self) + index
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which >= len(self.datasets):
            raise IndexError("ConcatDataset: index {} out of range for length {}".format(index, len(self)))
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset, got " + type(d).__name__)
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Splits a dataset into non-overlapping random Subsets of the given lengths, or fractions summing to
    1 (the remainder after flooring goes one by one to the first subsets, as in PyTorch)."""
    from ... import randperm
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1) and sum(lengths) <= 1 + 1e-9 \
            and not all(isinstance(f, int) for f in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any((not isinstance(x, int)) or x < 0 for x in lengths):
        raise ValueError("random_split: lengths must be non-negative ints or fractions summing to 1, got " +
                         repr(lengths))
    if sum(lengths) != n:
        raise ValueError("random_split: sum of input lengths ({}) does not equal the length of the input dataset "
                         "({})".format(sum(lengths), n))
    perm = randperm(n, generator=generator).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length
    return out
