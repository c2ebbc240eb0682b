"""Samplers: the order in which a DataLoader visits a map-style dataset's indices."""
import bisect

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler"]


def _seed_generator(generator):
    """The generator to draw from: the given one, else a fresh one seeded from loom's global generator (so
    loom.manual_seed makes shuffling reproducible, and each epoch differs)."""
    from ... import Generator, randint
    if generator is not None:
        return generator
    g = Generator()
    g.manual_seed(int(randint(0, 2 ** 62, (1,)).item()))
    return g


class Sampler:
    """Iterates over dataset indices."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch, or num_samples draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError("RandomSampler: num_samples should be a positive integer, got " + repr(num_samples))

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        from ... import randint, randperm
        n = len(self.data_source)
        g = _seed_generator(self.generator)
        if self.replacement:
            return iter(randint(0, n, (self.num_samples,), generator=g).tolist())
        out = []
        while len(out) < self.num_samples:
            out += randperm(n, generator=g).tolist()
        return iter(out[:self.num_samples])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = generator

    def __iter__(self):
        from ... import randperm
        perm = randperm(len(self.indices), generator=_seed_generator(self.generator)).tolist()
        return iter(self.indices[i] for i in perm)

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probability proportional to weights (with replacement by default),
    e.g. to balance classes."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("WeightedRandomSampler: num_samples should be a positive integer, got " +
                             repr(num_samples))
        w = weights.tolist() if hasattr(weights, "tolist") else list(weights)
        w = [float(x) for x in w]
        if not w or any(x < 0 for x in w) or sum(w) <= 0:
            raise ValueError("WeightedRandomSampler: weights must be non-negative with a positive sum")
        if not replacement and num_samples > sum(1 for x in w if x > 0):
            raise ValueError("WeightedRandomSampler: cannot draw {} samples without replacement from {} with "
                             "non-zero weight".format(num_samples, sum(1 for x in w if x > 0)))
        self.weights = w
        self.num_samples = num_samples
        self.replacement = bool(replacement)
        self.generator = generator

    def __iter__(self):
        from ... import rand
        g = _seed_generator(self.generator)
        w = list(self.weights)
        out = []
        if self.replacement:
            cum, total = [], 0.0
            for x in w:
                total += x
                cum.append(total)
            for u in rand(self.num_samples, generator=g, dtype=None).tolist():
                out.append(min(bisect.bisect_right(cum, u * total), len(w) - 1))
        else:
            for _ in range(self.num_samples):
                total = sum(w)
                u = rand(1, generator=g).item() * total
                acc = 0.0
                for i, x in enumerate(w):
                    acc += x
                    if u < acc and x > 0:
                        break
                out.append(i)
                w[i] = 0.0
        return iter(out)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of batch_size (the last shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got batch_size=" + repr(batch_size))
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got drop_last=" + repr(drop_last))
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


class DistributedSampler(Sampler):
    """The share of a dataset's indices that replica ``rank`` of ``num_replicas`` visits, as
    torch.utils.data.distributed.DistributedSampler: every replica sees ``ceil(len / num_replicas)`` indices
    (the list padded by repeating its start, or cut to a multiple of num_replicas with ``drop_last``), taken
    every ``num_replicas``-th from ``rank``; with ``shuffle`` the list is a permutation drawn from ``seed +
    epoch`` (call ``set_epoch`` each epoch), the same on every replica. loom has no process group yet, so
    ``num_replicas`` and ``rank`` are given."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            raise RuntimeError("DistributedSampler: loom has no distributed process group; pass num_replicas and "
                               "rank")
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ... import Generator, randperm
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0 and indices:
                indices += (indices * (-(-pad // len(indices))))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
