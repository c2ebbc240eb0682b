"""loom.utils.data: torch.utils.data's datasets, samplers and DataLoader.

    from loom.utils.data import DataLoader, TensorDataset, random_split
    train, val = random_split(TensorDataset(x, y), [0.9, 0.1], generator=loom.Generator().manual_seed(0))
    for xb, yb in DataLoader(train, batch_size=64, shuffle=True, num_workers=2):
        ...

num_workers > 0 prefetches batches on background threads (not processes): the
work that matters — decoding, augmenting, rendering — is loom's C++, which
releases the GIL, so threads overlap it with training without pickling
datasets. An exception inside a worker is raised again in the training loop,
same type, naming the worker and the sample index.
"""
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "DataLoader", "default_collate",
           "default_convert", "get_worker_info"]
