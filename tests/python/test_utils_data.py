"""loom.utils.data against torch.utils.data's behaviour: datasets, samplers, collation, DataLoader with and
without worker threads (order, errors, IterableDataset sharding), random_split, and pad_sequence."""
import threading
import time

import pytest

import loom
from loom.nn.utils.rnn import pad_sequence
from loom.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                             SequentialSampler, StackDataset, Subset, SubsetRandomSampler, TensorDataset,
                             WeightedRandomSampler, default_collate, get_worker_info, random_split)


def gen(seed):
    g = loom.Generator()
    g.manual_seed(seed)
    return g


def dataset(n=10):
    return TensorDataset(loom.arange(float(n)).reshape(n, 1), loom.arange(n))


def labels(loader):
    return [b[1].tolist() for b in loader]


def test_tensor_dataset_and_sequential_batches():
    ds = dataset()
    assert len(ds) == 10 and ds[3][1].item() == 3
    assert labels(DataLoader(ds, batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert labels(DataLoader(ds, batch_size=4, drop_last=True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert list(xb.shape) == [4, 1] and yb.dtype == loom.int64
    with pytest.raises(ValueError):
        TensorDataset(loom.ones(3), loom.ones(4))


def test_shuffle_is_a_permutation_reproducible_by_generator_and_differs_by_epoch():
    ds = dataset(20)
    a = sum(labels(DataLoader(ds, batch_size=6, shuffle=True, generator=gen(1))), [])
    b = sum(labels(DataLoader(ds, batch_size=6, shuffle=True, generator=gen(1))), [])
    assert sorted(a) == list(range(20)) and a == b and a != list(range(20))
    loader = DataLoader(ds, batch_size=20, shuffle=True, generator=gen(2))
    assert labels(loader) != labels(loader)  # the generator advances: a new order per epoch
    loom.manual_seed(5)
    c = labels(DataLoader(ds, batch_size=20, shuffle=True))
    loom.manual_seed(5)
    assert labels(DataLoader(ds, batch_size=20, shuffle=True)) == c  # the global seed decides without a generator


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_worker_threads_keep_the_order(workers):
    class Slow(Dataset):
        def __len__(self):
            return 23

        def __getitem__(self, i):
            time.sleep(0.002 * ((i * 7) % 5))  # out-of-order completion
            return {"x": loom.full((2,), float(i)), "i": i, "name": "s%d" % i}

    ref = list(DataLoader(Slow(), batch_size=4, shuffle=True, generator=gen(3)))
    got = list(DataLoader(Slow(), batch_size=4, shuffle=True, generator=gen(3), num_workers=workers,
                          prefetch_factor=2))
    assert [b["i"].tolist() for b in got] == [b["i"].tolist() for b in ref]
    assert got[0]["name"] == ref[0]["name"] and got[0]["x"].shape == (len(got[0]["name"]), 2)


def test_worker_errors_name_the_sample_and_keep_the_type():
    class Bad(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            if i == 7:
                raise KeyError("no sample seven")
            return loom.ones(1)

    for workers in (0, 2):
        with pytest.raises(KeyError) as info:
            list(DataLoader(Bad(), batch_size=3, num_workers=workers))
        if workers:
            assert "sample 7" in str(info.value) and "worker thread" in str(info.value)


def test_workers_overlap_work_that_releases_the_gil():
    class Sleepy(Dataset):  # time.sleep releases the GIL, as loom's C++ work does
        def __len__(self):
            return 16

        def __getitem__(self, i):
            time.sleep(0.02)
            return i

    t0 = time.perf_counter()
    list(DataLoader(Sleepy(), batch_size=2, num_workers=4))
    threaded = time.perf_counter() - t0
    assert threaded < 16 * 0.02 * 0.6  # serial would take 0.32 s


def test_iterable_dataset_sharded_by_worker_info():
    class Stream(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 20, step))

        def __len__(self):
            return 20

    assert sum((b.tolist() for b in DataLoader(Stream(), batch_size=5)), []) == list(range(20))
    got = sum((b.tolist() for b in DataLoader(Stream(), batch_size=5, num_workers=2)), [])
    assert sorted(got) == list(range(20))
    with pytest.raises(ValueError):
        DataLoader(Stream(), shuffle=True)
    assert get_worker_info() is None


def test_samplers():
    ds = dataset(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    r = list(RandomSampler(ds, generator=gen(0)))
    assert sorted(r) == list(range(10))
    rr = list(RandomSampler(ds, replacement=True, num_samples=30, generator=gen(0)))
    assert len(rr) == 30 and all(0 <= i < 10 for i in rr)
    assert sorted(SubsetRandomSampler([2, 4, 6], generator=gen(0))) == [2, 4, 6]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=gen(0)))
    assert set(w) <= {1, 3} and 0.6 < w.count(3) / 400 < 0.9
    nr = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False, generator=gen(0)))
    assert sorted(nr) == [0, 1, 2]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1, 0], 2, replacement=False)
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert labels(DataLoader(ds, batch_sampler=BatchSampler(range(10), 5, False))) == [[0, 1, 2, 3, 4],
                                                                                       [5, 6, 7, 8, 9]]
    with pytest.raises(ValueError):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(range(10), 5, False))
    with pytest.raises(ValueError):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError):
        BatchSampler(range(5), 0, False)


def test_random_split_subset_concat_stack():
    ds = dataset(10)
    a, b = random_split(ds, [7, 3], generator=gen(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    c, d, e = random_split(ds, [0.5, 0.3, 0.2], generator=gen(0))
    assert (len(c), len(d), len(e)) == (5, 3, 2)
    with pytest.raises(ValueError):
        random_split(ds, [5, 6])
    s = Subset(ds, [9, 0])
    assert s[0][1].item() == 9 and len(s) == 2
    cat = ConcatDataset([s, ds])
    assert len(cat) == 12 and cat[2][1].item() == 0 and cat[-1][1].item() == 9
    st = StackDataset(img=ds, other=ds)
    assert st[4]["img"][1].item() == 4


def test_default_collate():
    batch = default_collate([(loom.ones(2), 1, 0.5, "a"), (loom.zeros(2), 2, 1.5, "b")])
    x, i, f, s = batch
    assert list(x.shape) == [2, 2] and i.tolist() == [1, 2] and f.tolist() == [0.5, 1.5] and s == ["a", "b"]
    with pytest.raises(TypeError):
        default_collate([object(), object()])


def test_pad_sequence():
    a, b = loom.ones(3, 2), loom.full((1, 2), 2.0)
    out = pad_sequence([a, b], batch_first=True, padding_value=-1.0)
    assert out.tolist() == [[[1, 1], [1, 1], [1, 1]], [[2, 2], [-1, -1], [-1, -1]]]
    assert list(pad_sequence([a, b]).shape) == [3, 2, 2]
    left = pad_sequence([a, b], batch_first=True, padding_side="left")
    assert left[1].tolist() == [[0, 0], [0, 0], [2, 2]]
    with pytest.raises(RuntimeError):
        pad_sequence([loom.ones(2, 3), loom.ones(2, 4)])
    with pytest.raises(RuntimeError):
        pad_sequence([])
