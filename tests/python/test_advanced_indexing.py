"""Indexing with several advanced indices (x[rows, cols], x[mask, idx], x[:, 0, :, idx]) against NumPy,
whose rules PyTorch follows: the index tensors (and integers beside them) broadcast together; their dims go
where the indices stood when those are adjacent, else in front. Reads, writes (index_put), gradients, errors."""
import numpy as np
import pytest

import loom

from _helpers import requires_cuda

A = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
MASK = np.array([[False, True, False], [True, False, False]])

KEYS = [
    np.s_[[0, 1], [1, 2]],
    np.s_[:, [0, 2], [1, 3]],  # adjacent, after a slice: in place
    np.s_[[0, 1], :, [1, 3]],  # separated: in front
    np.s_[:, 0, :, [1, 2]],  # an integer counts as an advanced index
    np.s_[0, [1, 2]],
    np.s_[1, :, [0, 1], 2],
    np.s_[..., [0, 1], [2, 3]],
    np.s_[[[0], [1]], [0, 2]],  # broadcast to [2, 2]
    np.s_[[0, 1], None, [1, 2]],
    np.s_[:, [[0, 1], [2, 0]], :, [3]],
    np.s_[[-1, 0], [-2, 1]],
    np.s_[[1], [2], [3], [4]],
    np.s_[[0, 1], [1, 2], 1:3],
    np.s_[MASK, [1, 3]],  # a mask is its nonzero() index tensors
    np.s_[:, :, [0, 3], np.array([True, False, False, True, False])],
    np.s_[np.array([], dtype=np.int64), np.array([], dtype=np.int64)],
]


def _lkey(key):
    key = key if isinstance(key, tuple) else (key,)
    return tuple(loom.tensor(k) if isinstance(k, np.ndarray) else k for k in key)


@pytest.mark.parametrize("key", KEYS, ids=[str(i) for i in range(len(KEYS))])
def test_getitem_matches_numpy(key):
    want = A[key]
    got = loom.tensor(A)[_lkey(key)]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
    # Lists and arrays work as index tensors too.
    got_lists = loom.tensor(A)[tuple(k.tolist() if isinstance(k, np.ndarray) and k.dtype != bool else k
                                     for k in (key if isinstance(key, tuple) else (key,)))]
    np.testing.assert_array_equal(got_lists.numpy(), want)


@pytest.mark.parametrize("key", KEYS, ids=[str(i) for i in range(len(KEYS))])
def test_setitem_matches_numpy(key):
    a = A.copy()
    shape = a[key].shape
    value = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1000
    a[key] = value
    x = loom.tensor(A)
    x[_lkey(key)] = loom.tensor(value)
    np.testing.assert_array_equal(x.numpy(), a)
    b = A.copy()
    b[key] = -1.0
    y = loom.tensor(A)
    y[_lkey(key)] = -1.0
    np.testing.assert_array_equal(y.numpy(), b)


def test_setitem_broadcasts_the_value_and_keeps_the_dtype():
    m = loom.zeros(3, 4, dtype=loom.int32)
    m[[0, 2], [1, 3]] = 5
    assert m.tolist() == [[0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 5]]
    m[loom.tensor([[0], [1]]), loom.tensor([0, 2])] = loom.tensor([7, 8], dtype=loom.int32)
    assert m.dtype == loom.int32 and m.tolist() == [[7, 5, 8, 0], [7, 0, 8, 0], [0, 0, 0, 5]]


def test_gradient_flows_to_the_gathered_elements():
    x = loom.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    (x[[0, 2, 2], [1, 3, 3]] * loom.tensor([1.0, 2.0, 3.0])).sum().backward()
    g = np.zeros((3, 4))
    g[0, 1], g[2, 3] = 1.0, 5.0  # the repeated element gathers both
    np.testing.assert_array_equal(x.grad.numpy(), g)


def test_errors():
    x = loom.tensor(A)
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 1], [0, 3]]
    with pytest.raises(IndexError, match="out of bounds"):
        x[:, [0], 7]
    with pytest.raises(IndexError, match="mask"):
        x[np.ones((2, 4), bool), [0]]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], [0], [0], [0], [0]]
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]] = 1.0


@requires_cuda
def test_cuda_matches_cpu():
    x = loom.tensor(A)
    for key in KEYS:
        np.testing.assert_array_equal(x.cuda()[_lkey(key)].cpu().numpy(), x[_lkey(key)].numpy())


def test_index_put_and_put_require_matching_dtypes_as_pytorch():
    t = loom.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        t.index_put((loom.tensor([0]),), loom.tensor(5.0))
    with pytest.raises(RuntimeError, match="Index put requires"):
        t.index_put_((loom.tensor([0]),), loom.tensor([5.0]), accumulate=True)
    with pytest.raises(TypeError, match="must be Tensor"):
        t.index_put((loom.tensor([0]),), 5.0)
    with pytest.raises(RuntimeError, match="expected to have the same dtype"):
        t.put(loom.tensor([0]), loom.tensor([5.5]))
    assert t.index_put((loom.tensor([0]),), loom.tensor(5), accumulate=True).tolist() == [6, 2]
    t[loom.tensor([1])] = 7.9  # assignment converts, as PyTorch's
    assert t.tolist() == [1, 7]
